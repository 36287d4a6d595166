/* SPDX-License-Identifier: BSD-2-Clause */
/* nbdkit-rust: plugins from source.
 *
 * What rust=PATH is decides what is loaded: a .rs file is compiled with
 * rustc against a precompiled SDK rlib (or, with a //! ```cargo block,
 * built by cargo); a directory with a Cargo.toml is built with cargo;
 * anything else is a built library, loaded as it is.  Either way the
 * result is a library in the build cache (source-cache.c) that load.c
 * loads like any other.  This file finds the library, or which build
 * makes it (source-rustc.c, source-cargo-build.c).
 *
 * A single file's library is named by a SHA-256 of everything that
 * changes it: the source's content, the SDK (a fingerprint of its
 * files' names, sizes and mtimes), the compiler's version and the
 * profile.  A warm start only reads the source, stats the SDK and the
 * compiler and finds the library: no compiler runs.
 */

#define _GNU_SOURCE 1

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "source.h"

/* How often a source file that changes while it is read is read
 * again.
 */
#define READ_TRIES 5

void
rust_source_clear (struct rust_source *s)
{
  free (s->source);
  free (s->lib);
  free (s->compiler);
  free (s->compiler_path);
  memset (s, 0, sizeof *s);
}

/* What PATH is: RUST_SOURCE_FILE, RUST_SOURCE_CRATE, else
 * RUST_SOURCE_LIBRARY (load.c's checks name anything wrong with it);
 * -1 after an error (a directory that is not a crate).
 */
int
rust_source_kind (const char *path)
{
  size_t len = strlen (path);
  struct stat st;
  char *manifest;
  bool crate;

  if (stat (path, &st) == -1)
    return RUST_SOURCE_LIBRARY;
  if (S_ISREG (st.st_mode) && len > 3 &&
      strcmp (path + len - 3, ".rs") == 0)
    return RUST_SOURCE_FILE;
  if (!S_ISDIR (st.st_mode))
    return RUST_SOURCE_LIBRARY;

  if (asprintf (&manifest, "%s/Cargo.toml", path) == -1) {
    nbdkit_error ("asprintf: %m");
    return -1;
  }
  crate = stat (manifest, &st) == 0 && S_ISREG (st.st_mode);
  free (manifest);
  if (!crate) {
    nbdkit_error ("%s: is a directory, not a Rust " RUST_KIND " (.so), "
                  "and without a Cargo.toml, so not a crate to build with "
                  "cargo either", path);
    return -1;
  }
  return RUST_SOURCE_CRATE;
}

/* The SDK's version, from its Cargo.toml's [package]; NULL after an
 * error.
 */
char *
rust_sdk_version (const char *sdk)
{
  char *manifest, *data, *line, *save, *r = NULL;
  bool package = false;
  size_t len;

  if (asprintf (&manifest, "%s/Cargo.toml", sdk) == -1) {
    nbdkit_error ("asprintf: %m");
    return NULL;
  }
  if (rust_read_file (manifest, &data, &len) == -1) {
    free (manifest);
    return NULL;
  }
  for (line = strtok_r (data, "\n", &save); line && r == NULL;
       line = strtok_r (NULL, "\n", &save)) {
    line += strspn (line, " \t");
    if (line[0] == '[')
      package = strncmp (line, "[package]", 9) == 0;
    else if (package && strncmp (line, "version", 7) == 0) {
      char *q = strchr (line, '"'), *e = q ? strchr (q + 1, '"') : NULL;

      if (e)
        r = strndup (q + 1, e - q - 1);
    }
  }
  if (r == NULL)
    nbdkit_error ("%s: no version in [package]: not the nbdkit crate's "
                  "manifest", manifest);
  free (data);
  free (manifest);
  return r;
}

/* Hash the names, sizes and mtimes of the files under DIR (REL from the
 * SDK's root), in a fixed order: cheap, and any edit changes it.
 */
static int
walk (struct rust_sha256 *s, const char *dir, const char *rel, int depth)
{
  struct dirent **names;
  int n, i, r = 0;

  n = scandir (dir, &names, NULL, alphasort);
  if (n == -1) {
    nbdkit_error ("%s: %m", dir);
    return -1;
  }
  for (i = 0; i < n; i++) {
    const char *name = names[i]->d_name;
    char *full = NULL, *sub = NULL, ident[128];
    struct stat st;

    if (r == -1 || name[0] == '.' ||
        (depth == 0 && strcmp (name, "target") == 0))
      goto next;
    if (asprintf (&full, "%s/%s", dir, name) == -1 ||
        asprintf (&sub, "%s%s%s", rel, rel[0] ? "/" : "", name) == -1) {
      nbdkit_error ("asprintf: %m");
      r = -1;
      goto next;
    }
    if (stat (full, &st) == -1)
      goto next;
    if (S_ISDIR (st.st_mode)) {
      if (depth < 8 && walk (s, full, sub, depth + 1) == -1)
        r = -1;
    }
    else if (S_ISREG (st.st_mode)) {
      snprintf (ident, sizeof ident, "%jd %jd.%09ld", (intmax_t) st.st_size,
                (intmax_t) st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
      rust_sha256_string (s, sub);
      rust_sha256_string (s, ident);
    }
  next:
    free (full);
    free (sub);
    free (names[i]);
  }
  free (names);
  return r;
}

int
rust_sdk_fingerprint (const char *sdk, struct rust_sha256 *s)
{
  rust_sha256_string (s, "sdk");
  rust_sha256_string (s, sdk);
  return walk (s, sdk, "", 0);
}

/* Read the source file PATH into *DATA, making sure it did not change
 * while it was read, so that what is hashed is what is compiled.
 */
static int
read_source (const char *path, char **data, size_t *len)
{
  struct rust_file_id before_id, after_id;
  struct stat before, after;
  int tries;

  for (tries = 1; ; tries++) {
    if (stat (path, &before) == -1) {
      nbdkit_error ("%s: %m", path);
      return -1;
    }
    if (rust_read_file (path, data, len) == -1)
      return -1;
    if (stat (path, &after) == -1) {
      nbdkit_error ("%s: %m", path);
      free (*data);
      return -1;
    }
    rust_file_id_of (&before, &before_id);
    rust_file_id_of (&after, &after_id);
    if (rust_file_id_equal (&before_id, &after_id) &&
        (off_t) *len == after.st_size) {
      if (*len > 0)
        return 0;
      free (*data);
      nbdkit_error ("%s: the file is empty: a Rust plugin's source has at "
                    "least its plugin! line", path);
      return -1;
    }
    free (*data);
    if (tries == READ_TRIES) {
      nbdkit_error ("%s: the file kept changing while it was read: it is "
                    "still being written", path);
      return -1;
    }
    nbdkit_debug ("%s: changed while it was read: reading it again", path);
    usleep (50000);
  }
}

/* The file name of PATH, and that as a crate name (what rustc and cargo
 * accept: [A-Za-z0-9_], not starting with a digit).
 */
static char *
crate_name (const char *path)
{
  const char *slash = strrchr (path, '/');
  const char *base = slash ? slash + 1 : path;
  size_t len = strlen (base), i;
  char *name;

  if (len > 3 && strcmp (base + len - 3, ".rs") == 0)
    len -= 3;
  name = malloc (len + 3);
  if (name == NULL)
    return NULL;
  i = 0;
  if (len == 0 || (base[0] >= '0' && base[0] <= '9')) {
    name[i++] = 'p';
    name[i++] = '_';
  }
  for (size_t j = 0; j < len; j++) {
    char c = base[j];

    name[i++] = ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 (c >= '0' && c <= '9') || c == '_') ? c : '_';
  }
  name[i] = '\0';
  return name;
}

/* Hash the flags of LIST (ending in NULL): they change the result. */
void
rust_source_hash_flags (struct rust_sha256 *s, const char *const *list)
{
  for (; *list; list++)
    rust_sha256_string (s, *list);
}

/* The hex key of what S hashed. */
void
rust_source_key (struct rust_sha256 *s, char hex[RUST_SHA256_HEX])
{
  unsigned char digest[RUST_SHA256_LEN];

  rust_sha256_final (s, digest);
  rust_sha256_hex (digest, hex);
}

/* Put the finished library BUILT into the cache as LIB, with the .info
 * file beside it saying what it was built from.
 */
int
rust_source_install (const char *built, const char *lib,
                     const struct rust_source *s)
{
  char *info = NULL, *text = NULL;
  int r = -1;

  /* Whatever the umask: the cache refuses what others may write. */
  if (chmod (built, 0700) == -1 || rename (built, lib) == -1) {
    nbdkit_error ("cannot move %s to %s: %m", built, lib);
    return -1;
  }
  if (asprintf (&info, "%.*s.info", (int) (strlen (lib) - 3), lib) == -1 ||
      asprintf (&text, "source=%s\ncompiler=%s\ncompiler_path=%s\n"
                "profile=%s\n", s->source, s->compiler, s->compiler_path,
                s->profile) == -1) {
    nbdkit_error ("asprintf: %m");
    goto out;
  }
  r = rust_cache_write (info, text, strlen (text));
 out:
  free (info);
  free (text);
  return r;
}

/* A .rs file: find or build its library.  *OUT has source set. */
static int
build_file (const char *path, struct rust_source *out)
{
  struct rust_compiler rc = { 0 }, cargo = { 0 }, rustc = { 0 };
  struct rust_sha256 s, fp;
  char fphex[RUST_SHA256_HEX], hex[RUST_SHA256_HEX];
  char lockname[RUST_SHA256_HEX + 8];
  char *src = NULL, *block = NULL, *name = NULL, *sdk = NULL;
  char *srcdir = NULL, *libdir = NULL, *lib = NULL, *rlib = NULL;
  const char *registry = NULL;
  size_t len;
  int lock = -1, r = -1, e;

  if (read_source (path, &src, &len) == -1)
    return -1;
  if (rust_cargo_block (path, src, len, &block) == -1)
    goto out;
  name = crate_name (path);
  srcdir = strndup (out->source, strrchr (out->source, '/') - out->source);
  if (name == NULL || srcdir == NULL) {
    nbdkit_error ("malloc: %m");
    goto out;
  }
  if (srcdir[0] == '\0') {
    free (srcdir);
    srcdir = strdup ("/");
    if (srcdir == NULL)
      goto out;
  }
  sdk = rust_source_sdk_dir ();
  if (sdk == NULL)
    goto out;
  rust_sha256_init (&fp);
  if (rust_sdk_fingerprint (sdk, &fp) == -1)
    goto out;
  rust_source_key (&fp, fphex);

  rust_sha256_init (&s);
  rust_sha256_string (&s, RUST_CACHE_VERSION);
  rust_sha256_string (&s, name);
  rust_sha256_update (&s, src, len);
  rust_sha256_string (&s, "");
  rust_sha256_string (&s, fphex);
  rust_sha256_string (&s, rust_source_profile ());
  if (block) {
    registry = rust_source_registry ();
    if (registry && rust_source_options.registry) {
      struct stat st;

      if (stat (registry, &st) == -1 || !S_ISDIR (st.st_mode)) {
        nbdkit_error ("rust-registry=%s: not a directory: give the crate "
                      "registry's directory (a cargo directory source), "
                      "or none", registry);
        goto out;
      }
    }
    if (rust_compiler_find ("cargo", rust_source_options.cargo,
                            "rust-cargo", "CARGO", srcdir, &cargo) == -1 ||
        rust_source_cargo_rustc (srcdir, &rustc) == -1)
      goto out;
    rust_sha256_string (&s, "cargo block");
    rust_sha256_string (&s, cargo.version);
    rust_sha256_string (&s, rustc.version ? rustc.version : "");
    rust_sha256_string (&s, registry ? registry : "");
    rust_source_hash_rustflags (&s);
    out->compiler = strdup (cargo.line);
    out->compiler_path = strdup (cargo.run);
  }
  else {
    if (rust_compiler_find ("rustc", rust_source_options.rustc,
                            "rust-rustc", "RUSTC", srcdir, &rc) == -1)
      goto out;
    rust_sha256_string (&s, "rustc");
    rust_sha256_string (&s, rc.version);
    rust_source_hash_flags (&s, rust_source_options.debug ?
                            rust_debug_flags : rust_release_flags);
    out->compiler = strdup (rc.line);
    out->compiler_path = strdup (rc.run);
  }
  if (out->compiler == NULL || out->compiler_path == NULL) {
    nbdkit_error ("strdup: %m");
    goto out;
  }
  rust_source_key (&s, hex);

  libdir = rust_cache_subdir ("lib");
  if (libdir == NULL)
    goto out;
  if (asprintf (&lib, "%s/%s.so", libdir, hex) == -1) {
    nbdkit_error ("asprintf: %m");
    lib = NULL;
    goto out;
  }
  for (;;) {
    e = rust_cache_entry (lib, false);
    if (e == -1)
      goto out;
    if (e == 1) {
      nbdkit_debug ("%s: cache hit: %s", path, lib);
      break;
    }
    if (lock >= 0) {
      /* Built by no one yet: ours to build, under the lock. */
      if (block)
        e = rust_source_build_cargo_block (path, src, len, block, name,
                                           sdk, fphex, &cargo, &rustc,
                                           registry, lib, out);
      else {
        rlib = rust_source_sdk_rlib (path, sdk, fphex, &rc);
        e = rlib ? rust_source_compile_rustc (path, src, len, name, rlib,
                                              lib, &rc, out) : -1;
      }
      if (e == -1)
        goto out;
      break;
    }
    /* Another nbdkit may be building it: wait for it, then look again. */
    snprintf (lockname, sizeof lockname, "lib-%s", hex);
    lock = rust_cache_lock (lockname);
    if (lock == -1)
      goto out;
  }
  out->lib = lib;
  lib = NULL;
  r = 0;

 out:
  if (lock >= 0)
    rust_cache_unlock (lock);
  rust_compiler_free (&rc);
  rust_compiler_free (&cargo);
  rust_compiler_free (&rustc);
  free (src);
  free (block);
  free (name);
  free (sdk);
  free (srcdir);
  free (libdir);
  free (lib);
  free (rlib);
  return r;
}

/* Resolve the source PATH (KIND from rust_source_kind) to a built
 * library in the cache, building it if need be.  Fills in *OUT;
 * returns 0, or -1 after an error (the compiler's diagnostics among
 * them).
 */
int
rust_source_build (const char *path, int kind, struct rust_source *out)
{
  int r;

  memset (out, 0, sizeof *out);
  out->kind = kind;
  out->profile = rust_source_profile ();
  out->source = nbdkit_realpath (path);
  if (out->source == NULL)
    return -1;
  if (rust_cache_root () == NULL)
    r = -1;
  else if (kind == RUST_SOURCE_CRATE)
    r = rust_source_build_crate (path, out);
  else
    r = build_file (path, out);
  if (r == -1)
    rust_source_clear (out);
  return r;
}
