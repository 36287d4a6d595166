/* SPDX-License-Identifier: BSD-2-Clause */
/* nbdkit-rust: rust-reload's private copy of a build.
 *
 * A build loaded by rust-reload is mapped from a copy of rust=PATH,
 * never from PATH itself: dlopen() would hand back the object already
 * loaded from the same file, and a build tool that later writes PATH in
 * place would change the code under the running build.  The copy must
 * also be of a complete file, not of one still being written:
 *
 *   - the file must have been quiet for RUST_SETTLE_MS before it is
 *     copied (its ctime that long before now).  Linux stamps files from
 *     a coarse clock that ticks every few milliseconds, so two writes
 *     within one tick leave the same times behind; only once a file has
 *     been quiet for longer than a tick does any further write show in
 *     its times.
 *   - the copy is refused if the file's size, inode, mtime or ctime
 *     moved while it was copied (fstat before and after, on the one
 *     descriptor it was read from).
 *   - its ELF headers must fit in it (file-check.c, at load).
 *
 * Each copy gets a private directory of its own (mkdtemp, mode 0700)
 * in $TMPDIR, and both are removed as soon as dlopen() has mapped the
 * copy, or failed to: nothing is left behind on any path, including a
 * startup that fails later, after which nbdkit calls no unload.
 *
 * The filter loader maps a private copy the same way when a second
 * --filter=rust names a file already mapped (filter-load.c), so that
 * each instance gets statics of its own; messages then say
 * "rust-filter:" (RUST_COPY_FOR) instead of "rust-reload:".
 */

#define _GNU_SOURCE 1           /* asprintf */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "rust-loader.h"

/* Numbers the copies, so that no two have the same name while either
 * is loaded: glibc takes a name it has already loaded for that object.
 */
static unsigned nr_copies;

/* A file seen unsettled, and when (CLOCK_MONOTONIC): see settled(). */
static struct rust_file_id unsettled_id;
static struct timespec unsettled_seen;
static bool have_unsettled;

void
rust_file_id_of (const struct stat *st, struct rust_file_id *id)
{
  id->dev = st->st_dev;
  id->ino = st->st_ino;
  id->size = st->st_size;
  id->mtime = st->st_mtim;
  id->ctime = st->st_ctim;
}

static bool
same_time (const struct timespec *a, const struct timespec *b)
{
  return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

bool
rust_file_id_equal (const struct rust_file_id *a,
                    const struct rust_file_id *b)
{
  return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
    same_time (&a->mtime, &b->mtime) && same_time (&a->ctime, &b->ctime);
}

/* Milliseconds from A to B. */
static int64_t
ms_between (const struct timespec *a, const struct timespec *b)
{
  return ((int64_t) b->tv_sec - a->tv_sec) * 1000 +
    ((int64_t) b->tv_nsec - a->tv_nsec) / 1000000;
}

/* Whether the file ID, stat()ed after NOW (CLOCK_REALTIME), has been
 * quiet for RUST_SETTLE_MS.  A file whose ctime lies ahead of the clock
 * (a file server's clock ahead of ours, or ours set back) cannot be
 * judged by it: such a file counts as quiet once it has been seen
 * unchanged for RUST_SETTLE_MS of our own monotonic time.
 */
static bool
settled (const char *path, const struct rust_file_id *id,
         const struct timespec *now)
{
  int64_t age = ms_between (&id->ctime, now);
  struct timespec mono;

  if (age >= RUST_SETTLE_MS)
    return true;

  clock_gettime (CLOCK_MONOTONIC, &mono);
  if (have_unsettled && rust_file_id_equal (id, &unsettled_id)) {
    if (ms_between (&unsettled_seen, &mono) >= RUST_SETTLE_MS)
      return true;
  }
  else {
    unsettled_id = *id;
    unsettled_seen = mono;
    have_unsettled = true;
  }
  nbdkit_debug (RUST_COPY_FOR ": %s changed %" PRId64 " ms ago: it is still "
                "being written, so it is not loaded yet (a file is loaded "
                "once it has not changed for %d ms)",
                path, age, RUST_SETTLE_MS);
  return false;
}

/* Make the private directory in $TMPDIR.  The copy will be mapped
 * executable: say so now if $TMPDIR cannot allow that, or dlopen()
 * would only say "failed to map segment from shared object".
 */
static char *
make_dir (void)
{
  const char *tmpdir = getenv ("TMPDIR");
  struct statvfs sv;
  char *dir;

  if (tmpdir == NULL || tmpdir[0] == '\0')
    tmpdir = "/tmp";
  if (asprintf (&dir, "%s/nbdkit-" RUST_COPY_FOR "-XXXXXX", tmpdir) == -1) {
    nbdkit_error ("asprintf: %m");
    return NULL;
  }
  if (mkdtemp (dir) == NULL) {
    nbdkit_error (RUST_COPY_FOR ": cannot make a private directory for the "
                  RUST_KIND "'s copy in %s (TMPDIR): %m", tmpdir);
    free (dir);
    return NULL;
  }
  if (statvfs (dir, &sv) == 0 && (sv.f_flag & ST_NOEXEC)) {
    nbdkit_error (RUST_COPY_FOR ": %s (TMPDIR) is on a filesystem mounted "
                  "noexec, where the " RUST_KIND "'s private copy cannot be "
                  "mapped: point TMPDIR at a directory on a filesystem "
                  "that allows executables", tmpdir);
    rmdir (dir);
    free (dir);
    return NULL;
  }
  return dir;
}

/* Writing the copy failed (errno): most likely $TMPDIR is full. */
static void
write_error (const char *path, const struct rust_copy *copy)
{
  nbdkit_error (RUST_COPY_FOR ": cannot copy %s into %s: %m%s", path,
                copy->dir, errno == ENOSPC || errno == EDQUOT ?
                " (is TMPDIR full?  point TMPDIR at a directory with "
                "room for the " RUST_KIND ")" : "");
}

/* The size of the buffer the file is copied through. */
#define COPY_BUFFER 65536

/* Copy all of IN to OUT, and close OUT.  Returns the bytes copied, or
 * -1 after an error.  (The buffer is not on the stack: this runs on a
 * connection thread.)
 */
static off_t
copy_data (const char *path, int in, const struct rust_copy *copy, int out)
{
  char *buf;
  off_t copied = 0;
  ssize_t n;

  buf = malloc (COPY_BUFFER);
  if (buf == NULL) {
    nbdkit_error ("malloc: %m");
    goto err;
  }
  while ((n = read (in, buf, COPY_BUFFER)) != 0) {
    ssize_t done = 0;

    if (n == -1) {
      if (errno == EINTR)
        continue;
      nbdkit_error (RUST_COPY_FOR ": %s: read: %m", path);
      goto err;
    }
    while (done < n) {
      ssize_t w = write (out, buf + done, n - done);

      if (w == -1) {
        if (errno == EINTR)
          continue;
        write_error (path, copy);
        goto err;
      }
      done += w;
    }
    copied += n;
  }
  free (buf);
  if (close (out) == -1) {
    write_error (path, copy);
    return -1;
  }
  return copied;

 err:
  free (buf);
  close (out);
  return -1;
}

/* Copy the file at PATH (messages name it so) into a new private
 * directory: into *COPY, and what the file was in *ID.  Returns
 * RUST_COPY_MADE, or why not (see rust-loader.h): RUST_COPY_UNSETTLED
 * after a debug message, else after an error.  *ID is set whenever the
 * file could be looked at.
 */
enum rust_copy_result
rust_copy_make (const char *path, struct rust_copy *copy,
                struct rust_file_id *id)
{
  const char *slash = strrchr (path, '/');
  const char *base = slash ? slash + 1 : path;
  enum rust_copy_result r = RUST_COPY_FAILED;
  struct stat before, after;
  struct timespec now;
  struct rust_file_id after_id;
  off_t copied;
  int in, out;

  memset (id, 0, sizeof *id);
  copy->dir = copy->file = NULL;

  /* The time before the file is looked at: see settled(). */
  clock_gettime (CLOCK_REALTIME, &now);
  in = rust_file_open (path, path, &before);
  if (before.st_mode != 0)
    rust_file_id_of (&before, id);
  if (in == -1)
    return RUST_COPY_FAILED;
  if (!settled (path, id, &now)) {
    close (in);
    return RUST_COPY_UNSETTLED;
  }

  copy->dir = make_dir ();
  if (copy->dir == NULL)
    goto err;
  if (asprintf (&copy->file, "%s/%u-%s", copy->dir, ++nr_copies, base)
      == -1) {
    nbdkit_error ("asprintf: %m");
    copy->file = NULL;
    goto err;
  }
  out = open (copy->file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
  if (out == -1) {
    nbdkit_error (RUST_COPY_FOR ": cannot copy %s: %s: %m",
                  path, copy->file);
    goto err;
  }
  copied = copy_data (path, in, copy, out);
  if (copied == -1)
    goto err;

  /* A build tool writing the file in place was at it if the file
   * changed while it was copied.
   */
  if (fstat (in, &after) == -1) {
    nbdkit_error (RUST_COPY_FOR ": %s: fstat: %m", path);
    goto err;
  }
  rust_file_id_of (&after, &after_id);
  if (copied != before.st_size || !rust_file_id_equal (id, &after_id)) {
    nbdkit_error (RUST_COPY_FOR ": %s: the file changed while it was being "
                  "copied (%jd bytes, then %jd): it is still being "
                  "written, so it is not loaded yet",
                  path, (intmax_t) before.st_size, (intmax_t) after.st_size);
    *id = after_id;
    r = RUST_COPY_CHANGED;
    goto err;
  }

  close (in);
  return RUST_COPY_MADE;

 err:
  close (in);
  rust_copy_remove (copy);
  return r;
}

/* Remove the copy and its directory, right after dlopen().  That the
 * copy's name is gone does not let a later copy be taken for it: glibc
 * knows a loaded object by its name (kept unique by nr_copies) and by
 * its device and inode, and the mapping keeps the inode alive, so no
 * new file gets its number while the object is loaded (that is, while
 * the build is mapped; dlclose() forgets it as it unmaps it).
 */
void
rust_copy_remove (struct rust_copy *copy)
{
  if (copy->file) {
    if (unlink (copy->file) == -1 && errno != ENOENT)
      nbdkit_error (RUST_COPY_FOR ": removing %s: %m", copy->file);
    free (copy->file);
  }
  if (copy->dir) {
    if (rmdir (copy->dir) == -1)
      nbdkit_error (RUST_COPY_FOR ": removing %s: %m", copy->dir);
    free (copy->dir);
  }
  copy->dir = copy->file = NULL;
}
