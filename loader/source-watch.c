/* SPDX-License-Identifier: BSD-2-Clause */
/* nbdkit-rust: rust-reload's view of a plugin given as source.
 *
 * A built library is watched by its file id (reload.c); a source by a
 * fingerprint of the files it is built from: the .rs file, or a crate's
 * Cargo.toml, Cargo.lock, build.rs and every file under src/.  Only
 * stat() is used, so looking costs a new connection little, and a
 * change to any of them (an edit, a file added or removed) changes the
 * fingerprint.  The newest ctime among them says whether they are still
 * being written (the 200 ms quiet rule, as for a library).
 */

#define _GNU_SOURCE 1

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "source.h"

/* Add the file or directory PATH to the fingerprint. */
static void
add_path (struct rust_sha256 *s, const char *path, struct timespec *newest,
          int depth)
{
  struct stat st;
  char ident[160];

  rust_sha256_string (s, path);
  if (stat (path, &st) == -1) {
    rust_sha256_string (s, "missing");
    return;
  }
  snprintf (ident, sizeof ident, "%ju %ju %jd %jd.%09ld %jd.%09ld",
            (uintmax_t) st.st_dev, (uintmax_t) st.st_ino,
            (intmax_t) st.st_size,
            (intmax_t) st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
            (intmax_t) st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
  rust_sha256_string (s, ident);
  if (st.st_ctim.tv_sec > newest->tv_sec ||
      (st.st_ctim.tv_sec == newest->tv_sec &&
       st.st_ctim.tv_nsec > newest->tv_nsec))
    *newest = st.st_ctim;

  if (S_ISDIR (st.st_mode) && depth < 16) {
    struct dirent **names;
    int n, i;

    n = scandir (path, &names, NULL, alphasort);
    for (i = 0; i < n; i++) {
      char *sub;

      if (names[i]->d_name[0] != '.' &&
          asprintf (&sub, "%s/%s", path, names[i]->d_name) != -1) {
        add_path (s, sub, newest, depth + 1);
        free (sub);
      }
      free (names[i]);
    }
    if (n >= 0)
      free (names);
  }
}

/* The fingerprint of the source PATH (KIND from rust_source_kind), and
 * the newest ctime among its files.
 */
void
rust_source_watch (const char *path, int kind,
                   unsigned char fp[RUST_SOURCE_FP_LEN],
                   struct timespec *newest)
{
  static const char *const crate_files[] = {
    "Cargo.toml", "Cargo.lock", "build.rs", "src",
  };
  struct rust_sha256 s;
  size_t i;

  newest->tv_sec = 0;
  newest->tv_nsec = 0;
  rust_sha256_init (&s);
  if (kind == RUST_SOURCE_CRATE) {
    for (i = 0; i < sizeof crate_files / sizeof crate_files[0]; i++) {
      char *f;

      if (asprintf (&f, "%s/%s", path, crate_files[i]) != -1) {
        add_path (&s, f, newest, 0);
        free (f);
      }
    }
  }
  else
    add_path (&s, path, newest, 0);
  rust_sha256_final (&s, fp);
}
