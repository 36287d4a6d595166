/* SPDX-License-Identifier: BSD-2-Clause */
/* nbdkit-rust fuzzing: what the harnesses share (stubs.c). */

#ifndef NBDKIT_RUST_FUZZ_H
#define NBDKIT_RUST_FUZZ_H

#include <stdbool.h>
#include <stddef.h>

#include "rust-loader.h"

/* What the stand-in nbdkit_error has seen since fuzz_reset. */
extern size_t fuzz_errors;
extern char *fuzz_last_error;

/* When true, an nbdkit_error or nbdkit_debug message with a control
 * character in it is a finding (abort).  The descriptor fuzzer sets
 * it: its paths are plain, so such a character came from the plugin's
 * descriptor and would forge or break a line of nbdkit's log.
 */
extern bool fuzz_plain_messages;

extern void fuzz_reset (void);

/* Fails the run (libFuzzer keeps the input) when COND is false. */
#define FUZZ_ASSERT(cond)                                               \
  ((cond) ? (void) 0 : fuzz_fail (__FILE__, __LINE__, #cond))
extern void fuzz_fail (const char *file, int line, const char *what)
  __attribute__ ((noreturn));

/* What the stand-in rust_build_load hands config.c (stubs.c). */
extern struct rust_build *fuzz_next_build;

/* Runs rust_dump_plugin and returns what it printed (malloc'd), and
 * checks that every line is KEY=VALUE without a control character.
 */
extern char *fuzz_dump_plugin (void);

/* The value of KEY in a --dump-plugin output, unescaped (malloc'd), or
 * NULL if there is no such line.
 */
extern char *fuzz_dump_value (const char *dump, const char *key);

#endif /* NBDKIT_RUST_FUZZ_H */
