/* SPDX-License-Identifier: BSD-2-Clause */
/* nbdkit-rust: SHA-256 (FIPS 180-4), for the keys of the build cache
 * (source-cache.c).  Plain C, so that the loader still links against
 * nothing but libc.
 */

#ifndef NBDKIT_RUST_SHA256_H
#define NBDKIT_RUST_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define RUST_SHA256_LEN 32
#define RUST_SHA256_HEX (RUST_SHA256_LEN * 2 + 1)

struct rust_sha256 {
  uint32_t h[8];
  uint64_t length;              /* bytes hashed so far */
  unsigned char block[64];
  size_t used;                  /* bytes in block */
};

extern void rust_sha256_init (struct rust_sha256 *s);
extern void rust_sha256_update (struct rust_sha256 *s,
                                const void *data, size_t len);
/* A string and its terminating NUL, so that ("ab","c") and ("a","bc")
 * hash differently.
 */
extern void rust_sha256_string (struct rust_sha256 *s, const char *str);
extern void rust_sha256_final (struct rust_sha256 *s,
                               unsigned char digest[RUST_SHA256_LEN]);
extern void rust_sha256_hex (const unsigned char digest[RUST_SHA256_LEN],
                             char hex[RUST_SHA256_HEX]);

#endif /* NBDKIT_RUST_SHA256_H */
