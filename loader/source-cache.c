/* SPDX-License-Identifier: BSD-2-Clause */
/* nbdkit-rust: the build cache, $XDG_CACHE_HOME/nbdkit-rust.
 *
 * Plugins built from source are kept there, named by a hash of
 * everything that changes the result (source.c), so that a warm start
 * loads the library without running a compiler.  A library from the
 * cache is mapped into nbdkit and runs as the user running nbdkit, so
 * the cache must be that user's alone: its root and every entry used
 * must be owned by geteuid() and not writable by group or others, or
 * nbdkit refuses it (another user could otherwise put code there).
 * What the loader creates is 0700.
 *
 * Concurrent nbdkits share it: a build runs under an flock(2) on
 * locks/KEY.lock, in a directory of its own under tmp/, and its result
 * is rename(2)d into place, so that no one ever sees half an entry.
 */

#define _GNU_SOURCE 1

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "source.h"

/* The root, made and checked once. */
static char *root;

/* Refuse what another user owns or could write.  Returns 0 or -1
 * after an error naming PATH.
 */
static int
check_owner (const char *path, const struct stat *st)
{
  if (st->st_uid != geteuid ()) {
    nbdkit_error ("%s: owned by uid %u, not by uid %u: a Rust build cache "
                  "entry must belong to the user running nbdkit (remove it, "
                  "or set XDG_CACHE_HOME to use another cache)",
                  path, (unsigned) st->st_uid, (unsigned) geteuid ());
    return -1;
  }
  if (st->st_mode & (S_IWGRP | S_IWOTH)) {
    nbdkit_error ("%s: writable by others (mode 0%03o): a Rust build cache "
                  "entry must be writable only by its owner (chmod go-w "
                  "it, or set XDG_CACHE_HOME to use another cache)",
                  path, (unsigned) (st->st_mode & 07777));
    return -1;
  }
  return 0;
}

/* Make DIR (mode 0700) if it is missing, with its missing parents. */
static int
make_dirs (char *dir)
{
  char *p;

  if (mkdir (dir, 0700) == 0 || errno == EEXIST)
    return 0;
  if (errno != ENOENT)
    goto err;
  p = strrchr (dir, '/');
  if (p == NULL || p == dir)
    goto err;
  *p = '\0';
  if (make_dirs (dir) == -1) {
    *p = '/';
    return -1;
  }
  *p = '/';
  if (mkdir (dir, 0700) == 0 || errno == EEXIST)
    return 0;
 err:
  nbdkit_error ("cannot make the Rust build cache directory %s: %m "
                "(set XDG_CACHE_HOME to use another cache)", dir);
  return -1;
}

/* $XDG_CACHE_HOME/nbdkit-rust (else ~/.cache/nbdkit-rust), made and
 * checked; NULL after an error.
 */
const char *
rust_cache_root (void)
{
  const char *base = getenv ("XDG_CACHE_HOME");
  const char *sub = "nbdkit-rust";
  struct statvfs sv;
  struct stat st;
  char *dir;

  if (root)
    return root;

  /* The XDG spec: a relative XDG_CACHE_HOME is to be ignored. */
  if (base == NULL || base[0] != '/') {
    base = getenv ("HOME");
    if (base == NULL || base[0] != '/') {
      struct passwd *pw = getpwuid (geteuid ());

      if (pw == NULL || pw->pw_dir == NULL || pw->pw_dir[0] != '/') {
        nbdkit_error ("no directory for the Rust build cache: neither "
                      "XDG_CACHE_HOME nor HOME is set");
        return NULL;
      }
      base = pw->pw_dir;
    }
    sub = ".cache/nbdkit-rust";
  }
  if (asprintf (&dir, "%s/%s", base, sub) == -1) {
    nbdkit_error ("asprintf: %m");
    return NULL;
  }
  if (make_dirs (dir) == -1)
    goto err;
  if (stat (dir, &st) == -1) {
    nbdkit_error ("%s: %m", dir);
    goto err;
  }
  if (!S_ISDIR (st.st_mode)) {
    nbdkit_error ("%s: the Rust build cache is not a directory", dir);
    goto err;
  }
  if (check_owner (dir, &st) == -1)
    goto err;
  if (statvfs (dir, &sv) == 0 && (sv.f_flag & ST_NOEXEC)) {
    nbdkit_error ("%s: the Rust build cache is on a filesystem mounted "
                  "noexec, where the plugins built there cannot be loaded: "
                  "set XDG_CACHE_HOME to a directory on a filesystem that "
                  "allows executables", dir);
    goto err;
  }
  root = dir;
  return root;

 err:
  free (dir);
  return NULL;
}

/* An entry of the cache: 1 if PATH exists, is what it should be (a
 * directory if DIR, else a regular file) and is ours alone; 0 if it
 * does not exist; -1 after an error.  Symbolic links are not followed.
 */
int
rust_cache_entry (const char *path, bool dir)
{
  struct stat st;

  if (lstat (path, &st) == -1) {
    if (errno == ENOENT)
      return 0;
    nbdkit_error ("%s: %m", path);
    return -1;
  }
  if (dir ? !S_ISDIR (st.st_mode) : !S_ISREG (st.st_mode)) {
    nbdkit_error ("%s: not a %s: the Rust build cache entry is not what "
                  "the loader made (remove it)", path,
                  dir ? "directory" : "regular file");
    return -1;
  }
  return check_owner (path, &st) == -1 ? -1 : 1;
}

/* ROOT/SUB, made if missing and checked; NULL after an error. */
char *
rust_cache_subdir (const char *sub)
{
  const char *r = rust_cache_root ();
  char *dir;
  int e;

  if (r == NULL)
    return NULL;
  if (asprintf (&dir, "%s/%s", r, sub) == -1) {
    nbdkit_error ("asprintf: %m");
    return NULL;
  }
  if (mkdir (dir, 0700) == -1 && errno != EEXIST) {
    nbdkit_error ("cannot make %s: %m", dir);
    free (dir);
    return NULL;
  }
  e = rust_cache_entry (dir, true);
  if (e != 1) {
    if (e == 0)
      nbdkit_error ("%s: vanished", dir);
    free (dir);
    return NULL;
  }
  return dir;
}

/* Take locks/NAME.lock, waiting for whoever holds it (another nbdkit
 * building the same entry).  Returns the descriptor that holds it, or
 * -1 after an error.
 */
int
rust_cache_lock (const char *name)
{
  char *locks, *file;
  int fd;

  locks = rust_cache_subdir ("locks");
  if (locks == NULL)
    return -1;
  if (asprintf (&file, "%s/%s.lock", locks, name) == -1) {
    nbdkit_error ("asprintf: %m");
    free (locks);
    return -1;
  }
  free (locks);
  fd = open (file, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd == -1) {
    nbdkit_error ("%s: %m", file);
    free (file);
    return -1;
  }
  while (flock (fd, LOCK_EX) == -1) {
    if (errno != EINTR) {
      nbdkit_error ("%s: flock: %m", file);
      close (fd);
      free (file);
      return -1;
    }
  }
  free (file);
  return fd;
}

void
rust_cache_unlock (int fd)
{
  /* Closing the descriptor releases the lock. */
  close (fd);
}

/* Build directories older than this were left by an nbdkit that was
 * killed while it built (every other path removes its own): no build
 * takes this long.
 */
#define STALE_SECONDS (24 * 60 * 60)

/* Remove the stale build directories in TMP. */
static void
remove_stale (const char *tmp)
{
  time_t now = time (NULL);
  struct dirent *d;
  DIR *dir;

  dir = opendir (tmp);
  if (dir == NULL)
    return;
  while ((d = readdir (dir)) != NULL) {
    struct stat st;
    char *path;

    if (strncmp (d->d_name, "build-", 6) != 0 ||
        asprintf (&path, "%s/%s", tmp, d->d_name) == -1)
      continue;
    if (lstat (path, &st) == 0 && S_ISDIR (st.st_mode) &&
        st.st_uid == geteuid () && now - st.st_mtime > STALE_SECONDS) {
      nbdkit_debug ("removing the stale build directory %s", path);
      rust_cache_remove_tree (path);
    }
    free (path);
  }
  closedir (dir);
}

/* A new private directory under tmp/ to build in; NULL after an error. */
char *
rust_cache_tmpdir (void)
{
  char *tmp, *dir;

  tmp = rust_cache_subdir ("tmp");
  if (tmp == NULL)
    return NULL;
  remove_stale (tmp);
  if (asprintf (&dir, "%s/build-XXXXXX", tmp) == -1) {
    nbdkit_error ("asprintf: %m");
    free (tmp);
    return NULL;
  }
  if (mkdtemp (dir) == NULL) {
    nbdkit_error ("cannot make a build directory in %s: %m", tmp);
    free (tmp);
    free (dir);
    return NULL;
  }
  free (tmp);
  return dir;
}

static int
remove_one (const char *path, const struct stat *st, int flag,
            struct FTW *ftw)
{
  (void) st; (void) flag; (void) ftw;
  if (remove (path) == -1 && errno != ENOENT)
    nbdkit_debug ("removing %s: %m", path);
  return 0;
}

/* Remove DIR and everything under it (a build directory). */
void
rust_cache_remove_tree (const char *dir)
{
  nftw (dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Write all LEN bytes of DATA to FD.  -1 with errno set on error. */
static int
write_all (int fd, const char *data, size_t len)
{
  size_t done = 0;

  while (done < len) {
    ssize_t n = write (fd, data + done, len - done);

    if (n == -1) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    done += n;
  }
  return 0;
}

/* Write DATA to PATH atomically: a temporary file beside it, renamed. */
int
rust_cache_write (const char *path, const char *data, size_t len)
{
  char *tmp;
  int fd;

  if (asprintf (&tmp, "%s.XXXXXX", path) == -1) {
    nbdkit_error ("asprintf: %m");
    return -1;
  }
  fd = mkostemp (tmp, O_CLOEXEC);
  if (fd == -1) {
    nbdkit_error ("%s: %m", tmp);
    free (tmp);
    return -1;
  }
  if (write_all (fd, data, len) == -1)
    goto err;
  if (close (fd) == -1) {
    fd = -1;
    goto err;
  }
  fd = -1;
  if (rename (tmp, path) == -1)
    goto err;
  free (tmp);
  return 0;

 err:
  nbdkit_error ("writing %s: %m", path);
  if (fd >= 0)
    close (fd);
  unlink (tmp);
  free (tmp);
  return -1;
}

/* Read all of the regular file PATH.  *DATA is NUL-terminated. */
int
rust_read_file (const char *path, char **data, size_t *len)
{
  struct stat st;
  char *buf = NULL;
  size_t size = 0, used = 0;
  int fd;

  fd = rust_file_open (path, path, &st);
  if (fd == -1)
    return -1;
  for (;;) {
    ssize_t n;

    if (size - used < 4096) {
      char *p;

      size = size ? size * 2 : (size_t) st.st_size + 4096;
      p = realloc (buf, size + 1);
      if (p == NULL) {
        nbdkit_error ("realloc: %m");
        goto err;
      }
      buf = p;
    }
    n = read (fd, buf + used, size - used);
    if (n == 0)
      break;
    if (n == -1) {
      if (errno == EINTR)
        continue;
      nbdkit_error ("%s: read: %m", path);
      goto err;
    }
    used += n;
  }
  close (fd);
  buf[used] = '\0';
  *data = buf;
  *len = used;
  return 0;

 err:
  close (fd);
  free (buf);
  return -1;
}

/* Copy the file FROM to TO (a new file, mode 0700). */
int
rust_cache_copy (const char *from, const char *to)
{
  char *data;
  size_t len;
  int fd;

  if (rust_read_file (from, &data, &len) == -1)
    return -1;
  fd = open (to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
             0700);
  if (fd == -1)
    goto err;
  if (write_all (fd, data, len) == -1) {
    close (fd);
    goto err;
  }
  if (close (fd) == -1)
    goto err;
  free (data);
  return 0;

 err:
  nbdkit_error ("copying %s to %s: %m", from, to);
  unlink (to);
  free (data);
  return -1;
}

/* rust-reload: a private copy of the cached library LIB to map, in a
 * directory of its own under tmp/ (removed by rust_copy_remove once
 * mapped).  The cache entry itself is never written again, but the same
 * entry can come back (an edit undone) while the build mapped from it
 * still serves connections, and dlopen() would hand back that build
 * rather than map a new one.
 */
int
rust_source_private_copy (const char *lib, struct rust_copy *copy)
{
  static unsigned nr_copies;

  copy->file = NULL;
  copy->dir = rust_cache_tmpdir ();
  if (copy->dir == NULL)
    return -1;
  if (asprintf (&copy->file, "%s/%u-%s", copy->dir, ++nr_copies,
                strrchr (lib, '/') + 1) == -1) {
    nbdkit_error ("asprintf: %m");
    copy->file = NULL;
    rust_copy_remove (copy);
    return -1;
  }
  if (rust_cache_copy (lib, copy->file) == -1) {
    free (copy->file);
    copy->file = NULL;
    rust_copy_remove (copy);
    return -1;
  }
  return 0;
}
