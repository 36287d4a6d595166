/* SPDX-License-Identifier: BSD-2-Clause */
/* nbdkit-rust: loader/sha256.c against the FIPS 180-2 / NIST example
 * vectors ("abc", the two-block message, a million "a"s), plus the
 * empty message and lengths around the padding boundary fed in odd
 * pieces, whose digests are those of coreutils' sha256sum.
 */

#include <stdio.h>
#include <string.h>

#include "sha256.h"

static int failures;

static void
check (const char *what, const char *data, size_t len, size_t piece,
       size_t repeat, const char *want)
{
  struct rust_sha256 s;
  unsigned char digest[RUST_SHA256_LEN];
  char hex[RUST_SHA256_HEX];
  size_t r, off;

  rust_sha256_init (&s);
  for (r = 0; r < repeat; r++)
    for (off = 0; off < len; off += piece)
      rust_sha256_update (&s, data + off,
                          len - off < piece ? len - off : piece);
  rust_sha256_final (&s, digest);
  rust_sha256_hex (digest, hex);
  if (strcmp (hex, want) != 0) {
    printf ("FAIL %s: got %s, want %s\n", what, hex, want);
    failures++;
  }
  else
    printf ("ok %s\n", what);
}

int
main (void)
{
  static char a[1000];
  const char *two =
    "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

  memset (a, 'a', sizeof a);
  check ("empty", "", 0, 1, 1,
         "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  check ("abc", "abc", 3, 3, 1,
         "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  check ("two blocks", two, strlen (two), 64, 1,
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  check ("two blocks, bytewise", two, strlen (two), 1, 1,
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  check ("a million a", a, sizeof a, 7, 1000,
         "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  check ("55 a", a, 55, 55, 1,
         "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
  check ("56 a", a, 56, 5, 1,
         "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
  check ("64 a", a, 64, 64, 1,
         "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
  return failures ? 1 : 0;
}
