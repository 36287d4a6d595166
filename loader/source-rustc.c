/* SPDX-License-Identifier: BSD-2-Clause */
/* nbdkit-rust: compiling a plugin in one .rs file with rustc.
 *
 * No cargo: the SDK is compiled once into an rlib (per SDK, compiler
 * and profile, kept in the build cache's sdk/), and each plugin file
 * is compiled against it as a crate of its own, as cargo would, with
 * the environment cargo gives a crate (CARGO_PKG_*), from a private
 * copy of the file (so that what was hashed is what is compiled).
 */

#define _GNU_SOURCE 1

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "source.h"

/* The compiler flags for the profile.  The SDK rlib, built once, in
 * parallel code generation units like cargo's release profile; a
 * plugin in one unit: a one-file crate compiles faster so (no ThinLTO
 * pass over the units: about 30% less CPU time, which is what a
 * rebuild after an edit waits for), and with every call in it
 * optimised together.
 */
const char *const rust_sdk_release_flags[] = {
  "-C", "opt-level=3", "-C", "codegen-units=16", NULL
};
/* strip=debuginfo: like cargo's release profile since Rust 1.77, the
 * library is a quarter of the size and links faster.
 */
const char *const rust_release_flags[] = {
  "-C", "opt-level=3", "-C", "codegen-units=1", "-C", "strip=debuginfo",
  NULL
};
const char *const rust_debug_flags[] = {
  "-C", "opt-level=0", "-g", "-C", "debug-assertions=on", NULL
};

/* Add the strings of LIST (ending in NULL) to ARGV at *N. */
static void
add_args (const char **argv, size_t *n, const char *const *list)
{
  for (; *list; list++)
    argv[(*n)++] = *list;
}

/* The precompiled SDK rlib for the compiler RC and the profile, built
 * under its lock if it is not in the cache yet.  PATH names the source
 * in messages.  NULL after an error.
 */
char *
rust_source_sdk_rlib (const char *path, const char *sdk, const char *sdkfp,
                      const struct rust_compiler *rc)
{
  struct rust_sha256 s;
  char hex[RUST_SHA256_HEX], lockname[RUST_SHA256_HEX + 8];
  char *dir = NULL, *entry = NULL, *rlib = NULL, *tmp = NULL, *out = NULL;
  char *version = NULL, *src = NULL;
  char *e_name = NULL, *e_version = NULL, *e_dir = NULL;
  char **env = NULL;
  struct timespec start;
  int lock = -1, e;

  rust_sha256_init (&s);
  rust_sha256_string (&s, RUST_CACHE_VERSION);
  rust_sha256_string (&s, "sdk rlib");
  rust_sha256_string (&s, sdkfp);
  rust_sha256_string (&s, rc->version);
  rust_sha256_string (&s, rust_source_profile ());
  rust_source_hash_flags (&s, rust_source_options.debug ?
              rust_debug_flags : rust_sdk_release_flags);
  rust_source_key (&s, hex);

  dir = rust_cache_subdir ("sdk");
  if (dir == NULL)
    goto err;
  if (asprintf (&entry, "%s/%s", dir, hex) == -1 ||
      asprintf (&rlib, "%s/libnbdkit.rlib", entry) == -1)
    goto nomem;

  for (;;) {
    e = rust_cache_entry (entry, true);
    if (e == 1)
      e = rust_cache_entry (rlib, false);
    if (e == -1)
      goto err;
    if (e == 1)
      goto done;
    if (lock >= 0)
      break;
    snprintf (lockname, sizeof lockname, "sdk-%s", hex);
    lock = rust_cache_lock (lockname);
    if (lock == -1)
      goto err;
  }

  version = rust_sdk_version (sdk);
  if (version == NULL)
    goto err;
  tmp = rust_cache_tmpdir ();
  if (tmp == NULL)
    goto err;
  if (asprintf (&out, "%s/libnbdkit.rlib", tmp) == -1 ||
      asprintf (&src, "%s/src/lib.rs", sdk) == -1 ||
      asprintf (&e_name, "CARGO_PKG_NAME=nbdkit") == -1 ||
      asprintf (&e_version, "CARGO_PKG_VERSION=%s", version) == -1 ||
      asprintf (&e_dir, "CARGO_MANIFEST_DIR=%s", sdk) == -1)
    goto nomem;
  {
    const char *set[] = {
      e_name, e_version, e_dir, "CARGO_CRATE_NAME=nbdkit", NULL
    };
    const char *argv[32];
    size_t n = 0;

    env = rust_compile_env (set);
    if (env == NULL)
      goto err;
    argv[n++] = rc->run;
    argv[n++] = "--edition";
    argv[n++] = "2021";
    argv[n++] = "--crate-type";
    argv[n++] = "rlib";
    argv[n++] = "--crate-name";
    argv[n++] = "nbdkit";
    add_args (argv, &n, rust_source_options.debug ?
              rust_debug_flags : rust_sdk_release_flags);
    argv[n++] = "--color";
    argv[n++] = "never";
    argv[n++] = src;
    argv[n++] = "-o";
    argv[n++] = out;
    argv[n] = NULL;
    nbdkit_debug ("compiling the nbdkit SDK %s (%s) with %s (%s)",
                  sdk, version, rc->run, rust_source_profile ());
    clock_gettime (CLOCK_MONOTONIC, &start);
    if (rust_compile_run (path, "rustc", "rust-rustc", (char **) argv, env,
                          tmp, NULL, NULL) == -1) {
      nbdkit_error ("%s: the nbdkit SDK at %s did not compile with %s "
                    "(%s): see the errors above", path, sdk, rc->run,
                    rc->line);
      goto err;
    }
    nbdkit_debug ("built the nbdkit SDK rlib in %lld ms",
                  rust_ms_since (&start));
  }
  if (chmod (out, 0600) == -1 || rename (tmp, entry) == -1) {
    nbdkit_error ("cannot move %s to %s: %m", tmp, entry);
    goto err;
  }
  free (tmp);
  tmp = NULL;

 done:
  if (lock >= 0)
    rust_cache_unlock (lock);
  free (dir);
  free (entry);
  free (version);
  free (src);
  free (out);
  free (e_name);
  free (e_version);
  free (e_dir);
  rust_compile_env_free (env);
  return rlib;

 nomem:
  nbdkit_error ("asprintf: %m");
 err:
  if (tmp) {
    rust_cache_remove_tree (tmp);
    free (tmp);
  }
  free (rlib);
  rlib = NULL;
  goto done;
}

/* rustc, the plugin PATH's source SRC: compile it into LIB. */
int
rust_source_compile_rustc (const char *path, const char *src, size_t len,
                           const char *name, const char *rlib,
                           const char *lib, const struct rust_compiler *rc,
                           struct rust_source *out)
{
  const char *slash = strrchr (path, '/');
  const char *base = slash ? slash + 1 : path;
  char *tmp, *copy = NULL, *built = NULL, *remap = NULL, *ext = NULL;
  char *e_name = NULL, *e_crate = NULL, *e_dir = NULL, *srcdir;
  char **env = NULL;
  struct timespec start;
  int r = -1;

  tmp = rust_cache_tmpdir ();
  if (tmp == NULL)
    return -1;
  srcdir = strndup (out->source, strrchr (out->source, '/') - out->source);
  if (srcdir == NULL ||
      asprintf (&copy, "%s/%s", tmp, base) == -1 ||
      asprintf (&built, "%s/lib%s.so", tmp, name) == -1 ||
      asprintf (&remap, "%s=%s", tmp, srcdir[0] ? srcdir : "/") == -1 ||
      asprintf (&ext, "nbdkit=%s", rlib) == -1 ||
      asprintf (&e_name, "CARGO_PKG_NAME=%s", name) == -1 ||
      asprintf (&e_crate, "CARGO_CRATE_NAME=%s", name) == -1 ||
      asprintf (&e_dir, "CARGO_MANIFEST_DIR=%s", srcdir) == -1) {
    nbdkit_error ("asprintf: %m");
    goto out;
  }
  /* The private copy: what was hashed is what is compiled. */
  if (rust_cache_write (copy, src, len) == -1)
    goto out;
  {
    const char *set[] = {
      e_name, e_crate, e_dir, "CARGO_PKG_VERSION=0.0.0",
      "CARGO_PKG_VERSION_MAJOR=0", "CARGO_PKG_VERSION_MINOR=0",
      "CARGO_PKG_VERSION_PATCH=0", "CARGO_PKG_VERSION_PRE=",
      "CARGO_PKG_AUTHORS=", "CARGO_PKG_DESCRIPTION=", NULL
    };
    const char *argv[40];
    size_t n = 0;

    env = rust_compile_env (set);
    if (env == NULL)
      goto out;
    argv[n++] = rc->run;
    argv[n++] = "--edition";
    argv[n++] = "2021";
    argv[n++] = "--crate-type";
    argv[n++] = "cdylib";
    argv[n++] = "--crate-name";
    argv[n++] = name;
    add_args (argv, &n, rust_source_options.debug ?
              rust_debug_flags : rust_release_flags);
    argv[n++] = "--extern";
    argv[n++] = ext;
    argv[n++] = "--color";
    argv[n++] = "never";
    /* Diagnostics and panics name the user's file, not the copy. */
    argv[n++] = "--remap-path-prefix";
    argv[n++] = remap;
    argv[n++] = copy;
    argv[n++] = "-o";
    argv[n++] = built;
    argv[n] = NULL;
    nbdkit_debug ("compiling %s with %s (%s)", path, rc->run,
                  rust_source_profile ());
    clock_gettime (CLOCK_MONOTONIC, &start);
    if (rust_compile_run (path, "rustc", "rust-rustc", (char **) argv, env,
                          srcdir[0] ? srcdir : "/", NULL, NULL) == -1)
      goto out;
    nbdkit_debug ("built %s in %lld ms", path, rust_ms_since (&start));
  }
  r = rust_source_install (built, lib, out);

 out:
  rust_cache_remove_tree (tmp);
  free (tmp);
  free (srcdir);
  free (copy);
  free (built);
  free (remap);
  free (ext);
  free (e_name);
  free (e_crate);
  free (e_dir);
  rust_compile_env_free (env);
  return r;
}
