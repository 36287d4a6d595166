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
 *
 *    The globals it scans for pointers are only the pages of each
 *    module's writable segments that were ever touched.  nbdkit 1.32.5
 *    has a 192 MiB .bss, and LeakSanitizer's own scan of every global
 *    (use_globals) reads all of it, faulting each page in, in both
 *    processes of nbdkit --run: 2.3 s of CPU per nbdkit, against 0.4 s
 *    this way, most of the ASan run's time.  A page never touched holds
 *    only zeros or the file's initial bytes, so no pointer to the heap:
 *    tests/checkers/nbdkit turns use_globals off (LSAN_OPTIONS) and
 *    this registers the touched pages (mincore) as root regions
 *    instead, which LeakSanitizer scans the same way.  (A page swapped
 *    out would be left out: at worst a leak reported that is none,
 *    never one missed.)  The ASan runtime's own segments are left out,
 *    as LeakSanitizer leaves out its allocator's state (it points at
 *    every block).
 */

#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

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

typedef void (*register_root_fn) (const void *, size_t);

/* register_touched (BEGIN, END, REGISTER): registers the pages of
 * [BEGIN, END) that mincore says are in memory, as few regions as
 * untouched stretches of 1 MiB and more allow (LeakSanitizer walks the
 * process's mappings for each region).  If mincore fails, the whole
 * range, as use_globals would have scanned it.
 */
static void
register_touched (uintptr_t begin, uintptr_t end, register_root_fn reg)
{
  static unsigned char vec[4096];
  const uintptr_t page = (uintptr_t) sysconf (_SC_PAGESIZE);
  const uintptr_t gap = 1 << 20;
  uintptr_t addr, run = 0, run_end = 0;

  begin &= ~(page - 1);
  end = (end + page - 1) & ~(page - 1);
  for (addr = begin; addr < end; ) {
    size_t n = (end - addr) / page, i;

    if (n > sizeof vec)
      n = sizeof vec;
    if (mincore ((void *) addr, n * page, vec) == -1) {
      reg ((void *) begin, end - begin);
      return;
    }
    for (i = 0; i < n; i++, addr += page) {
      if ((vec[i] & 1) == 0)
        continue;
      if (run != 0 && addr - run_end >= gap) {
        reg ((void *) run, run_end - run);
        run = 0;
      }
      if (run == 0)
        run = addr;
      run_end = addr + page;
    }
  }
  if (run != 0)
    reg ((void *) run, run_end - run);
}

/* dl_iterate_phdr callback: the writable PT_LOAD segments, as
 * LeakSanitizer's own global scan takes them, of every module but the
 * ASan runtime.
 */
static int
register_globals (struct dl_phdr_info *info, size_t size, void *data)
{
  register_root_fn reg = (register_root_fn) data;
  size_t i;

  (void) size;
  if (info->dlpi_name && strstr (info->dlpi_name, "libasan.so"))
    return 0;
  for (i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

    if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W) && ph->p_memsz > 0) {
      uintptr_t begin = info->dlpi_addr + ph->p_vaddr;
      register_touched (begin, begin + ph->p_memsz, reg);
    }
  }
  return 0;
}

static void __attribute__ ((destructor))
check_leaks (void)
{
  int (*check) (void);
  register_root_fn reg;

  /* Only in the ASan runtime, and only when asked (not under valgrind). */
  if (getenv ("CHECKER_LEAK_CHECK") == NULL)
    return;
  check = (int (*) (void)) dlsym (RTLD_DEFAULT,
                                  "__lsan_do_recoverable_leak_check");
  reg = (register_root_fn) dlsym (RTLD_DEFAULT, "__lsan_register_root_region");
  if (check == NULL || reg == NULL)
    return;
  /* The globals, as tests/checkers/nbdkit sets use_globals=0. */
  dl_iterate_phdr (register_globals, (void *) reg);
  check ();
}
