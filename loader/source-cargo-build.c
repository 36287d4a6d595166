/* SPDX-License-Identifier: BSD-2-Clause */
/* nbdkit-rust: building with cargo: a crate directory, or a .rs file
 * with a //! ```cargo block (the project source-cargo.c writes for
 * it).  cargo runs offline from the distribution's registry for a
 * block, and reports the cdylib it built in its JSON messages.
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

/* The variable NAME, or "" when it is unset. */
static const char *
env_or_empty (const char *name)
{
  const char *v = getenv (name);

  return v ? v : "";
}

/* The rustc a cargo build should use, when one was chosen (rust-rustc=
 * or $RUSTC): its version is part of the key.  0 with RC->run NULL
 * when none was.
 */
int
rust_source_cargo_rustc (const char *srcdir, struct rust_compiler *rc)
{
  const char *env = getenv ("RUSTC");

  memset (rc, 0, sizeof *rc);
  if (rust_source_options.rustc == NULL && (env == NULL || env[0] == '\0'))
    return 0;
  return rust_compiler_find ("rustc", rust_source_options.rustc,
                             "rust-rustc", "RUSTC", srcdir, rc);
}

/* Run cargo build for MANIFEST with CARGO_TARGET_DIR=TARGET in CWD
 * (with the registry options when REGISTRY), and return the cdylib it
 * built; NULL after an error.
 */
static char *
cargo_build (const char *path, const struct rust_compiler *cargo,
             const struct rust_compiler *rustc, const char *manifest,
             const char *target, const char *registry, const char *cwd)
{
  char *e_target = NULL, *e_rustc = NULL, *reg = NULL, *json = NULL;
  char *diagnostics = NULL;
  char *artifact = NULL;
  char **env = NULL;
  const char *set[3], *argv[32];
  struct timespec start;
  size_t n = 0, ns = 0;

  if (asprintf (&e_target, "CARGO_TARGET_DIR=%s", target) == -1 ||
      (rustc->run && asprintf (&e_rustc, "RUSTC=%s", rustc->run) == -1) ||
      (registry && asprintf (&reg, "source.nbdkit-rust-registry.directory="
                             "\"%s\"", registry) == -1)) {
    nbdkit_error ("asprintf: %m");
    goto out;
  }
  set[ns++] = e_target;
  if (e_rustc)
    set[ns++] = e_rustc;
  set[ns] = NULL;
  env = rust_compile_env (set);
  if (env == NULL)
    goto out;
  argv[n++] = cargo->run;
  argv[n++] = "build";
  argv[n++] = "--lib";
  if (!rust_source_options.debug)
    argv[n++] = "--release";
  argv[n++] = "--message-format=json-render-diagnostics";
  argv[n++] = "--color";
  argv[n++] = "never";
  argv[n++] = "--manifest-path";
  argv[n++] = manifest;
  if (registry) {
    argv[n++] = "--config";
    argv[n++] = "source.crates-io.replace-with=\"nbdkit-rust-registry\"";
    argv[n++] = "--config";
    argv[n++] = reg;
    argv[n++] = "--config";
    argv[n++] = "net.offline=true";
  }
  argv[n] = NULL;
  nbdkit_debug ("building %s with %s (%s)", path, cargo->run,
                rust_source_profile ());
  clock_gettime (CLOCK_MONOTONIC, &start);
  if (rust_compile_run (path, "cargo", "rust-cargo", (char **) argv, env,
                        cwd, &json, &diagnostics) == -1) {
    if (registry && diagnostics &&
        strstr (diagnostics, "no matching package") != NULL)
      nbdkit_error ("%s: the ```cargo block's crates come from %s, offline "
                    "(rust-registry=): on Debian, apt-get install "
                    "librust-NAME-dev puts a crate there", path, registry);
    goto out;
  }
  nbdkit_debug ("cargo built %s in %lld ms", path, rust_ms_since (&start));
  artifact = rust_cargo_artifact (path, json, manifest);

 out:
  free (e_target);
  free (e_rustc);
  free (reg);
  free (json);
  free (diagnostics);
  rust_compile_env_free (env);
  return artifact;
}

/* The hash of the flags cargo passes on to rustc. */
void
rust_source_hash_rustflags (struct rust_sha256 *s)
{
  rust_sha256_string (s, env_or_empty ("RUSTFLAGS"));
  rust_sha256_string (s, env_or_empty ("CARGO_ENCODED_RUSTFLAGS"));
}

/* A .rs file with a ```cargo BLOCK: cargo builds it, in a project of
 * the cache shared by every script with the same block, so that the
 * dependencies compile once.  KEY is the library's key, LIB where it
 * goes.
 */
int
rust_source_build_cargo_block (const char *path, const char *src,
                               size_t len, const char *block,
                               const char *name, const char *sdk,
                               const char *sdkfp,
                               const struct rust_compiler *cargo,
                               const struct rust_compiler *rustc,
                               const char *registry,
                   const char *lib, struct rust_source *out)
{
  const char *slash = strrchr (path, '/');
  const char *base = slash ? slash + 1 : path;
  struct rust_sha256 s;
  char hex[RUST_SHA256_HEX], lockname[RUST_SHA256_HEX + 8];
  char *dir = NULL, *proj = NULL, *pkg = NULL, *copy = NULL;
  char *manifest_path = NULL, *manifest = NULL, *target = NULL;
  char *artifact = NULL, *tmp = NULL, *built = NULL;
  int lock = -1, r = -1;

  rust_sha256_init (&s);
  rust_sha256_string (&s, RUST_CACHE_VERSION);
  rust_sha256_string (&s, "cargo project");
  rust_sha256_string (&s, block);
  rust_sha256_string (&s, sdkfp);
  rust_sha256_string (&s, cargo->version);
  rust_sha256_string (&s, rustc->version ? rustc->version : "");
  rust_sha256_string (&s, rust_source_profile ());
  rust_sha256_string (&s, registry ? registry : "");
  rust_source_hash_rustflags (&s);
  rust_source_key (&s, hex);

  dir = rust_cache_subdir ("cargo");
  if (dir == NULL)
    goto out;
  if (asprintf (&proj, "%s/%s", dir, hex) == -1 ||
      asprintf (&pkg, "%s/%s", proj, name) == -1 ||
      asprintf (&copy, "%s/%s", pkg, base) == -1 ||
      asprintf (&manifest_path, "%s/Cargo.toml", pkg) == -1 ||
      asprintf (&target, "%s/target", proj) == -1) {
    nbdkit_error ("asprintf: %m");
    goto out;
  }
  snprintf (lockname, sizeof lockname, "cargo-%s", hex);
  lock = rust_cache_lock (lockname);
  if (lock == -1)
    goto out;
  if ((mkdir (proj, 0700) == -1 && errno != EEXIST) ||
      (mkdir (pkg, 0700) == -1 && errno != EEXIST)) {
    nbdkit_error ("cannot make %s: %m", pkg);
    goto out;
  }
  if (rust_cache_entry (proj, true) != 1 || rust_cache_entry (pkg, true) != 1)
    goto out;
  manifest = rust_cargo_manifest (name, base, block, sdk);
  if (manifest == NULL ||
      rust_cache_write (manifest_path, manifest, strlen (manifest)) == -1 ||
      rust_cache_write (copy, src, len) == -1)
    goto out;
  artifact = cargo_build (path, cargo, rustc, manifest_path, target,
                          registry, pkg);
  if (artifact == NULL)
    goto out;
  tmp = rust_cache_tmpdir ();
  if (tmp == NULL)
    goto out;
  if (asprintf (&built, "%s/lib.so", tmp) == -1) {
    nbdkit_error ("asprintf: %m");
    goto out;
  }
  if (rust_cache_copy (artifact, built) == -1)
    goto out;
  r = rust_source_install (built, lib, out);

 out:
  if (lock >= 0)
    rust_cache_unlock (lock);
  if (tmp) {
    rust_cache_remove_tree (tmp);
    free (tmp);
  }
  free (dir);
  free (proj);
  free (pkg);
  free (copy);
  free (manifest_path);
  free (manifest);
  free (target);
  free (artifact);
  free (built);
  return r;
}

/* A crate directory: cargo build, into a target directory of the cache
 * (cargo decides what is fresh, so it runs at every start).
 */
int
rust_source_build_crate (const char *path, struct rust_source *out)
{
  struct rust_compiler cargo = { 0 }, rustc = { 0 };
  struct rust_sha256 s;
  char hex[RUST_SHA256_HEX], lockname[RUST_SHA256_HEX + 8];
  char *crates = NULL, *entry = NULL, *target = NULL, *manifest = NULL;
  char *artifact = NULL;
  int lock = -1, r = -1;

  if (rust_compiler_find ("cargo", rust_source_options.cargo, "rust-cargo",
                          "CARGO", out->source, &cargo) == -1 ||
      rust_source_cargo_rustc (out->source, &rustc) == -1)
    goto out;
  rust_sha256_init (&s);
  rust_sha256_string (&s, RUST_CACHE_VERSION);
  rust_sha256_string (&s, "crate");
  rust_sha256_string (&s, out->source);
  rust_sha256_string (&s, rust_source_profile ());
  rust_sha256_string (&s, cargo.version);
  rust_sha256_string (&s, rustc.version ? rustc.version : "");
  rust_source_key (&s, hex);

  crates = rust_cache_subdir ("crates");
  if (crates == NULL)
    goto out;
  if (asprintf (&entry, "%s/%s", crates, hex) == -1 ||
      asprintf (&target, "%s/target", entry) == -1 ||
      asprintf (&manifest, "%s/Cargo.toml", out->source) == -1) {
    nbdkit_error ("asprintf: %m");
    goto out;
  }
  snprintf (lockname, sizeof lockname, "crate-%s", hex);
  lock = rust_cache_lock (lockname);
  if (lock == -1)
    goto out;
  if (mkdir (entry, 0700) == -1 && errno != EEXIST) {
    nbdkit_error ("cannot make %s: %m", entry);
    goto out;
  }
  if (rust_cache_entry (entry, true) != 1)
    goto out;
  artifact = cargo_build (path, &cargo, &rustc, manifest, target, NULL,
                          out->source);
  if (artifact == NULL)
    goto out;
  /* cargo made it with the umask: the cache refuses what others may
   * write, and this one is ours.
   */
  {
    struct stat st;

    if (lstat (artifact, &st) == 0 && st.st_uid == geteuid () &&
        (st.st_mode & (S_IWGRP | S_IWOTH)))
      chmod (artifact, st.st_mode & 0755);
  }
  if (rust_cache_entry (artifact, false) != 1)
    goto out;
  out->compiler = strdup (cargo.line);
  out->compiler_path = strdup (cargo.run);
  if (out->compiler == NULL || out->compiler_path == NULL) {
    nbdkit_error ("strdup: %m");
    goto out;
  }
  out->lib = artifact;
  artifact = NULL;
  r = 0;

 out:
  if (lock >= 0)
    rust_cache_unlock (lock);
  rust_compiler_free (&cargo);
  rust_compiler_free (&rustc);
  free (crates);
  free (entry);
  free (target);
  free (manifest);
  free (artifact);
  return r;
}
