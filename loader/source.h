/* SPDX-License-Identifier: BSD-2-Clause */
/* nbdkit-rust: plugins from source, the parts shared by source*.c.
 *
 *   source.c           what rust=PATH is, and resolving a source to a
 *                      built library (rust_source_* in rust-loader.h):
 *                      the cache keys, the SDK's fingerprint
 *   source-rustc.c     a single .rs file: the SDK rlib, then rustc
 *   source-cargo-build.c  cargo: a crate directory, or a .rs file with
 *                      a ```cargo block
 *   source-keys.c      the rust-profile, rust-rustc, rust-cargo,
 *                      rust-sdk and rust-registry keys
 *   source-cache.c     the build cache: its directory, ownership and
 *                      mode checks, locks, temporary build directories
 *   source-compiler.c  which rustc or cargo, and its identity, without
 *                      running it on a warm start
 *   source-compile.c   running the compiler and logging its diagnostics
 *   source-cargo.c     the //! ```cargo block, the generated manifest,
 *                      and the library cargo reports
 *   source-watch.c     rust-reload's fingerprint of a source
 */

#ifndef NBDKIT_RUST_SOURCE_H
#define NBDKIT_RUST_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "rust-loader.h"
#include "sha256.h"

/* source-keys.c: the loader keys, as given (NULL: the default). */
struct rust_source_options {
  bool debug;                   /* rust-profile=debug */
  char *rustc;                  /* rust-rustc= */
  char *cargo;                  /* rust-cargo= */
  char *sdk;                    /* rust-sdk= */
  char *registry;               /* rust-registry= ("none": none) */
};
extern struct rust_source_options rust_source_options;
extern const char *rust_source_profile (void);
extern char *rust_source_sdk_dir (void);
extern const char *rust_source_registry (void);

/* source-cache.c */
extern const char *rust_cache_root (void);
extern char *rust_cache_subdir (const char *sub);
extern int rust_cache_entry (const char *path, bool dir);
extern int rust_cache_lock (const char *name);
extern void rust_cache_unlock (int fd);
extern char *rust_cache_tmpdir (void);
extern void rust_cache_remove_tree (const char *dir);
extern int rust_cache_write (const char *path, const char *data, size_t len);
extern int rust_cache_copy (const char *from, const char *to);
extern int rust_read_file (const char *path, char **data, size_t *len);

/* source-compiler.c */
struct rust_compiler {
  char *run;                    /* the program run (absolute) */
  char *version;                /* its -vV output */
  char *line;                   /* its first line */
};
extern int rust_compiler_find (const char *tool, const char *chosen,
                               const char *key, const char *env,
                               const char *srcdir, struct rust_compiler *c);
extern void rust_compiler_free (struct rust_compiler *c);

/* source-compile.c */
extern char **rust_compile_env (const char *const *set);
extern void rust_compile_env_free (char **env);
extern int rust_compile_run (const char *path, const char *what,
                             const char *key, char *const argv[],
                             char *const env[], const char *cwd,
                             char **out, char **diagnostics);
extern char *rust_compile_output (const char *what, const char *key,
                                  const char *run, const char *cwd);
extern long long rust_ms_since (const struct timespec *start);

/* source-cargo.c */
extern int rust_cargo_block (const char *path, const char *src, size_t len,
                             char **block);
extern char *rust_cargo_manifest (const char *name, const char *file,
                                  const char *block, const char *sdk);
extern char *rust_cargo_artifact (const char *path, const char *json,
                                  const char *manifest);

/* source.c */
/* Bumped whenever what a key covers, or how a build is made, changes. */
#define RUST_CACHE_VERSION "nbdkit-rust cache 1"
extern char *rust_sdk_version (const char *sdk);
extern int rust_sdk_fingerprint (const char *sdk, struct rust_sha256 *s);
extern void rust_source_hash_flags (struct rust_sha256 *s,
                                    const char *const *list);
extern void rust_source_key (struct rust_sha256 *s,
                             char hex[RUST_SHA256_HEX]);
extern int rust_source_install (const char *built, const char *lib,
                                const struct rust_source *s);

/* source-rustc.c */
extern const char *const rust_sdk_release_flags[];
extern const char *const rust_release_flags[];
extern const char *const rust_debug_flags[];
extern char *rust_source_sdk_rlib (const char *path, const char *sdk,
                                   const char *sdkfp,
                                   const struct rust_compiler *rc);
extern int rust_source_compile_rustc (const char *path, const char *src,
                                      size_t len, const char *name,
                                      const char *rlib, const char *lib,
                                      const struct rust_compiler *rc,
                                      struct rust_source *out);

/* source-cargo-build.c */
extern int rust_source_cargo_rustc (const char *srcdir,
                                    struct rust_compiler *rc);
extern void rust_source_hash_rustflags (struct rust_sha256 *s);
extern int rust_source_build_cargo_block
  (const char *path, const char *src, size_t len, const char *block,
   const char *name, const char *sdk, const char *sdkfp,
   const struct rust_compiler *cargo, const struct rust_compiler *rustc,
   const char *registry, const char *lib, struct rust_source *out);
extern int rust_source_build_crate (const char *path,
                                    struct rust_source *out);

#endif /* NBDKIT_RUST_SOURCE_H */
