/* SPDX-License-Identifier: BSD-2-Clause */
/* nbdkit-rust: a library tests/checkers/nbdkit preloads into nbdkit,
 * after the ASan runtime or under valgrind.  It does three things.
 *
 * 1. swift_demangle: so that an nbdkit that is not built with ASan
 *    does not hang at exit when the ASan runtime is preloaded.
 *
 *    Why nbdkit hangs without it: nbdkit links GnuTLS, so libp11-kit,
 *    whose constructor calls newlocale().  A preloaded library's
 *    constructor runs after those of the executable's own dependencies,
 *    so ASan is not initialised yet, and newlocale's first malloc()
 *    initialises it, inside newlocale, with glibc's __libc_setlocale_lock
 *    held for writing.  ASan's initialisation looks up the Swift demangler
 *    (dlsym "swift_demangle") and clears the failure with dlerror(), and
 *    glibc's dlerror() translates its message with dcgettext(), which
 *    read-locks __libc_setlocale_lock: the same thread holds it for
 *    writing, so the read lock fails with EDEADLK, but dcgettext unlocks
 *    it anyway, which releases newlocale's write lock.  newlocale's own
 *    unlock then takes the reader count below zero.  From then on, the
 *    first write lock after any other translated message (strerror() for
 *    "No such file or directory", dlerror() for a truncated .so, getopt's
 *    errors) waits forever: that is freelocale() in libp11-kit's
 *    destructor when nbdkit exits.  nbdkit's own file plugin hangs the
 *    same way on a missing file.
 *
 *    With this symbol in the process, ASan's dlsym succeeds, dlerror()
 *    has no message to translate, and the lock stays balanced.  ASan only
 *    calls it for Swift symbol names ("_T..."), which no C, C++ or Rust
 *    symbol is; NULL means "not demangled".
 *
 * 2. dlclose: keeps every library mapped when CHECKER_KEEP_MAPPED=1,
 *    which tests/checkers/nbdkit sets unless nbdkit was given
 *    rust-reload=.  nbdkit dlclose()s the loader at exit, and the
 *    loader the Rust plugin: LeakSanitizer and valgrind, which look at
 *    the process after that, would show the stacks of any leak in them
 *    as "unknown module", and count memory that a Rust static still
 *    points to (statics are never dropped) as lost.  nbdkit itself
 *    skips dlclose for the same reason when it is built with ASan or
 *    runs under valgrind (DO_DLCLOSE in nbdkit's server/internal.h),
 *    but the nbdkit the tests run is neither.  With rust-reload,
 *    unmapping retired builds is what is being tested
 *    (tests/reload.bats looks at /proc/PID/maps, and rewrites files
 *    that were mapped), so dlclose is left alone.
 *
 * 3. Under ASan, the leak check as nbdkit exits, without changing its
 *    exit status (ASAN_OPTIONS has leak_check_at_exit=0): that status
 *    is what a test asserts, and nbdkit 1.32.5 leaks on its own (it
 *    does not free a connection still open when it quits).  The
 *    report goes to the log, where tests/checkers/reports keeps the
 *    leaks that the loader, a plugin or the SDK allocated.
 */

#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

char *swift_demangle (const char *mangled, size_t length, char *out,
                      size_t *out_length, unsigned flags);

char *
swift_demangle (const char *mangled, size_t length, char *out,
                size_t *out_length, unsigned flags)
{
  (void) mangled;
  (void) length;
  (void) out;
  (void) out_length;
  (void) flags;
  return NULL;
}

int
dlclose (void *handle)
{
  static int (*real_dlclose) (void *);
  const char *keep = getenv ("CHECKER_KEEP_MAPPED");

  if (keep && strcmp (keep, "1") == 0)
    return 0;
  if (real_dlclose == NULL)
    real_dlclose = (int (*) (void *)) dlsym (RTLD_NEXT, "dlclose");
  return real_dlclose (handle);
}

static void __attribute__ ((destructor))
check_leaks (void)
{
  int (*check) (void);

  /* Only in the ASan runtime, and only when asked (not under valgrind). */
  if (getenv ("CHECKER_LEAK_CHECK") == NULL)
    return;
  check = (int (*) (void)) dlsym (RTLD_DEFAULT,
                                  "__lsan_do_recoverable_leak_check");
  if (check)
    check ();
}
