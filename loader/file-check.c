/* SPDX-License-Identifier: BSD-2-Clause */
/* nbdkit-rust: checking a file before dlopen() maps it.
 *
 * dlopen() runs the constructors of whatever it maps, its message for
 * a text file ("invalid ELF header") does not say what the user did
 * wrong, and a library shorter than its ELF headers describe is mapped
 * all the same: touching a page past the end of the file then kills
 * nbdkit with SIGBUS.  So every file is checked first, whether it is
 * rust=PATH (rust-filter=PATH) itself or a private copy of it (copy.c):
 * a regular file,
 * ELF, and complete.  None of these checks can block: a FIFO or a
 * device is refused by its type before anything reads it.
 *
 * Every refusal is an nbdkit_error naming the file as the user gave it
 * (PATH) and the reason, and the caller returns -1, so nbdkit exits
 * with status 1 (or rust-reload keeps the running build).
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <link.h>
#include <string.h>
#include <unistd.h>

#include "rust-loader.h"

/* Open FILE to read it, refusing anything but a regular file.  PATH is
 * what messages call it.  Returns the descriptor and, in *ST, what it
 * is; -1 after an error, and then *ST is what was found there (all
 * zero if nothing was).
 *
 * The type is checked twice: stat() first, so that a FIFO or a device
 * is never opened (opening a FIFO waits for a writer, forever), then
 * fstat() on what was opened, in case the name was pointed at one in
 * between; O_NONBLOCK makes that open return at once even then.
 */
int
rust_file_open (const char *path, const char *file, struct stat *st)
{
  int fd;

  if (stat (file, st) == -1) {
    nbdkit_error ("%s: %m", path);
    memset (st, 0, sizeof *st);
    return -1;
  }
  if (S_ISDIR (st->st_mode)) {
    nbdkit_error ("%s: is a directory, not a Rust " RUST_KIND " (.so)", path);
    return -1;
  }
  if (!S_ISREG (st->st_mode))
    goto not_regular;

  fd = open (file, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd == -1) {
    nbdkit_error ("%s: %m", path);
    return -1;
  }
  if (fstat (fd, st) == -1) {
    nbdkit_error ("%s: fstat: %m", path);
    memset (st, 0, sizeof *st);
    close (fd);
    return -1;
  }
  if (!S_ISREG (st->st_mode)) {
    close (fd);
    goto not_regular;
  }
  return fd;

 not_regular:
  nbdkit_error ("%s: not a regular file, so not a Rust " RUST_KIND " (.so)",
                path);
  return -1;
}

/* The end of what FD's ELF headers describe: the program headers,
 * every segment they map and the section headers all lie within a
 * complete file.  0 when FD is not ELF of this machine's class, which
 * the caller and dlopen() name; UINT64_MAX when a segment starts past
 * SIZE.
 */
static uint64_t
elf_end (int fd, off_t size)
{
  ElfW(Ehdr) eh;
  ElfW(Phdr) ph;
  uint64_t end = 0, e;
  unsigned i;

  if (pread (fd, &eh, sizeof eh, 0) != (ssize_t) sizeof eh ||
      memcmp (eh.e_ident, ELFMAG, SELFMAG) != 0 ||
      eh.e_ident[EI_CLASS] != (__ELF_NATIVE_CLASS == 64 ?
                               ELFCLASS64 : ELFCLASS32))
    return 0;

  e = (uint64_t) eh.e_phoff + (uint64_t) eh.e_phnum * eh.e_phentsize;
  if (e > end)
    end = e;
  if (eh.e_shoff != 0) {
    e = (uint64_t) eh.e_shoff + (uint64_t) eh.e_shnum * eh.e_shentsize;
    if (e > end)
      end = e;
  }
  if (end > (uint64_t) size || eh.e_phentsize != sizeof ph)
    return end;
  for (i = 0; i < eh.e_phnum; i++) {
    if (pread (fd, &ph, sizeof ph, eh.e_phoff + i * sizeof ph)
        != (ssize_t) sizeof ph)
      break;
    if (ph.p_offset > (uint64_t) size)
      return UINT64_MAX;
    e = (uint64_t) ph.p_offset + ph.p_filesz;
    if (e > end)
      end = e;
  }
  return end;
}

/* Refuse what dlopen() should not be let near.  FILE is what will be
 * mapped: PATH itself, or (BEING_COPIED) a private copy of PATH that
 * rust-reload made, where an incomplete library means that PATH was
 * still being written.  Messages name PATH.
 */
int
rust_file_check (const char *path, const char *file, bool being_copied)
{
  static const char elf_magic[4] = { 0x7f, 'E', 'L', 'F' };
  const char *prefix = being_copied ? RUST_COPY_FOR ": " : "";
  struct stat st;
  char magic[4];
  uint64_t end;
  ssize_t n;
  int fd, r = -1;

  fd = rust_file_open (path, file, &st);
  if (fd == -1)
    return -1;

  n = pread (fd, magic, sizeof magic, 0);
  if (n == -1) {
    nbdkit_error ("%s: read: %m", path);
    goto out;
  }
  if (n < (ssize_t) sizeof magic) {
    nbdkit_error ("%s: not an ELF shared object: the file is too short "
                  "(%zd bytes)", path, n);
    goto out;
  }
  if (memcmp (magic, elf_magic, sizeof magic) != 0) {
    nbdkit_error ("%s: not an ELF shared object (no \\x7fELF header): "
                  "a Rust " RUST_KIND " is the .so that cargo builds for a "
                  "cdylib crate", path);
    goto out;
  }

  end = elf_end (fd, st.st_size);
  if (end == UINT64_MAX)
    nbdkit_error ("%s%s: not a complete library%s (%jd bytes, less than "
                  "its ELF headers describe): %s",
                  prefix, path, being_copied ? " yet" : "",
                  (intmax_t) st.st_size,
                  being_copied ? "still being written?" : "truncated?");
  else if (end > (uint64_t) st.st_size)
    nbdkit_error ("%s%s: not a complete library%s (%jd bytes, but its ELF "
                  "headers describe %" PRIu64 "): %s",
                  prefix, path, being_copied ? " yet" : "",
                  (intmax_t) st.st_size, end,
                  being_copied ? "still being written?" : "truncated?");
  else
    r = 0;

 out:
  close (fd);
  return r;
}
