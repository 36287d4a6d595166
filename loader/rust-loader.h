/* SPDX-License-Identifier: BSD-2-Clause */
/* nbdkit-rust: the loader's private header.
 *
 * The loader is an ordinary nbdkit C plugin ("rust") that loads a Rust
 * plugin at the rust=PATH key and forwards every nbdkit callback to the
 * descriptor the plugin hands back (abi/nbdkit-rust-abi.h).
 *
 *   callbacks.c    every nbdkit callback, and struct nbdkit_plugin
 *   config.c       the keys, loading the plugin once they are all
 *                  known, --dump-plugin, --help
 *   load.c         loading one build of a Rust plugin: dlopen, the
 *                  descriptor, its load callback
 *   file-check.c   checking a file before dlopen() maps it
 *   names.c        rust=NAME: installed Rust plugins, loaded by name
 *   descriptor.c   validating the descriptor a plugin hands back
 *   builds.c       the current build, the build of each connection,
 *                  and the retirement of old builds
 *   reload.c       rust-reload: watching rust=PATH and starting a new
 *                  build when it changes
 *   copy.c         rust-reload: the private copy a build is mapped from
 *   host.c         the table of nbdkit services handed to the plugin
 *   dump.c         --dump-plugin's KEY=VALUE lines
 *   probability.c  nbdkit_parse_probability for nbdkit < 1.34
 *   source*.c      plugins from source: rust=./disk.rs or a crate
 *                  directory, compiled into the build cache (source.h)
 *   sha256.c       the build cache's keys
 *
 * The filter loader, nbdkit-rust-filter.so, shares file-check.c,
 * names.c, copy.c, descriptor.c (the name rule), dump.c, host.c and
 * probability.c; its own files are filter-*.c (see filter.h).
 */

#ifndef NBDKIT_RUST_LOADER_H
#define NBDKIT_RUST_LOADER_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include <nbdkit-plugin.h>

#include "nbdkit-rust-abi.h"

/* What this loader loads, as its messages name it: the shared files
 * are built into both loaders, and nbdkit-rust-filter.so is compiled
 * with RUST_KIND="filter".
 */
#ifndef RUST_KIND
#define RUST_KIND "plugin"
#endif

/* What private copies (copy.c) are made for, as their messages say:
 * rust-reload's builds, or (nbdkit-rust-filter.so) a second filter
 * instance of a file already mapped.
 */
#ifndef RUST_COPY_FOR
#define RUST_COPY_FOR "rust-reload"
#endif

/* What says that the file at rust=PATH changed (see reload.c). */
struct rust_file_id {
  dev_t dev;
  ino_t ino;
  off_t size;
  struct timespec mtime;
  struct timespec ctime;
};

/* One loaded Rust plugin.
 *
 * A connection keeps a pointer to the build it was opened with, so
 * that a reload (which makes a new build the current one) does not
 * change the plugin under a live connection.  Without rust-reload
 * there is only ever build 1, current until unload.
 */
struct rust_build {
  void *dl;                         /* dlopen() handle */
  struct nbdkit_rust_plugin plugin; /* the descriptor, zero-extended */
  char *path;                       /* absolute path (nbdkit_realpath) */
  struct rust_file_id id;           /* rust=PATH when copied (reload) */
  unsigned number;                  /* 1, 2, ... in load order */
  unsigned refs;                    /* connections + 1 while current */
  struct rust_build *next;          /* retired builds still in use */
};

/* What the loader hands nbdkit as the per-connection handle. */
struct rust_handle {
  struct rust_build *build;         /* the build open() was called on */
  void *handle;                     /* the Rust plugin's own handle */
};

/* config.c */
extern const char rust_config_help[];
extern int rust_config (const char *key, const char *value);
extern int rust_config_load (void);
extern int rust_config_complete (void);
extern int rust_config_replay (struct rust_build *build);
extern void rust_dump_plugin (void);
extern void rust_config_free (void);

/* dump.c */
extern void rust_dump_field (const char *key, const char *value);
extern const char *rust_thread_model_name (int model);

/* file-check.c */
extern int rust_file_open (const char *path, const char *file,
                           struct stat *st);
extern int rust_file_check (const char *path, const char *file,
                            bool being_copied);

/* names.c */
extern bool rust_is_name (const char *value);
extern char *rust_name_resolve (const char *key, const char *value,
                                const char *dir);

/* descriptor.c */
/* The longest invalid name a message shows, in bytes of the name, and
 * the buffer rust_shown_name needs for it.
 */
#define RUST_SHOWN_NAME_MAX 64
#define RUST_SHOWN_NAME_BUF (RUST_SHOWN_NAME_MAX * 4 + 4)
extern bool rust_valid_name (const char *name);
extern const char *rust_shown_name (const char *name,
                                    char buf[RUST_SHOWN_NAME_BUF]);
extern int rust_descriptor_copy (const char *path, const char *kind,
                                 const char *min_abi, size_t min_size,
                                 uint32_t abi_major, uint32_t abi_minor,
                                 uint64_t struct_size,
                                 const void *d, void *out, size_t out_size);
extern int rust_descriptor_check_name (const char *path, const char *kind,
                                       const char *name);
extern int rust_descriptor_check_thread_model (const char *path,
                                               const char *kind,
                                               const char *name,
                                               int32_t model);
extern int rust_descriptor_accept (const char *path,
                                   const struct nbdkit_rust_plugin *d,
                                   struct nbdkit_rust_plugin *plugin);
/* Room for every callback name, comma-separated. */
#define RUST_CALLBACKS_MAX 512
extern const char *rust_descriptor_callbacks
  (const struct nbdkit_rust_plugin *p, char buf[RUST_CALLBACKS_MAX]);
/* A callback's name and whether it is set, for rust_callbacks_line. */
struct rust_callback_set {
  const char *name;
  bool set;
};
extern const char *rust_callbacks_line
  (const struct rust_callback_set *callbacks, size_t n,
   char buf[RUST_CALLBACKS_MAX]);

/* load.c */
extern struct rust_build *rust_build_load (const char *path,
                                           const char *file);
extern struct rust_build *rust_build_load_built (const char *path,
                                                 const char *lib);
extern void rust_build_unload (struct rust_build *build);
extern int rust_build_thread_model (const struct rust_build *build);

/* builds.c */
extern struct rust_build *rust_builds_current (void);
extern void rust_builds_set_first (struct rust_build *build);
extern int rust_builds_start_reload (void);
extern struct rust_build *rust_connection_build (void);
extern void rust_builds_cleanup (void);
extern void rust_builds_unload (void);

/* reload.c */
struct rust_source;
extern struct rust_build *rust_reload_load_first (const char *path);
extern struct rust_build *rust_reload_load_first_source
  (const char *path, int kind, struct rust_source *source);
extern void rust_reload_fix_thread_model (int model);
extern struct rust_build *rust_reload_check (const struct rust_build *current);
extern void rust_reload_free (void);

/* copy.c */
/* A new file is copied once it has not changed for this long. */
#define RUST_SETTLE_MS 200
enum rust_copy_result {
  RUST_COPY_MADE,               /* the copy is ready to load */
  RUST_COPY_UNSETTLED,          /* changed too recently: try again */
  RUST_COPY_CHANGED,            /* changed while copied: try again */
  RUST_COPY_FAILED,             /* refused, error logged */
};
struct rust_copy {
  char *dir;                    /* the private directory */
  char *file;                   /* the copy in it */
};
extern enum rust_copy_result rust_copy_make (const char *path,
                                             struct rust_copy *copy,
                                             struct rust_file_id *id);
extern void rust_copy_remove (struct rust_copy *copy);
extern void rust_file_id_of (const struct stat *st, struct rust_file_id *id);
extern bool rust_file_id_equal (const struct rust_file_id *a,
                                const struct rust_file_id *b);

/* source*.c: a plugin given as source (see source.h). */
enum rust_source_kind {
  RUST_SOURCE_LIBRARY,          /* a built library: loaded as it is */
  RUST_SOURCE_FILE,             /* a .rs file: rustc (or cargo) */
  RUST_SOURCE_CRATE,            /* a crate directory: cargo */
};
/* A source resolved to the library built from it. */
struct rust_source {
  int kind;                     /* enum rust_source_kind */
  char *source;                 /* the source, absolute */
  char *lib;                    /* the library in the build cache */
  char *compiler;               /* the compiler's -V line */
  char *compiler_path;          /* the rustc or cargo run */
  const char *profile;          /* "release" or "debug" */
};
#define RUST_SOURCE_FP_LEN 32
/* --help's lines for the keys of source-keys.c. */
#define RUST_SOURCE_HELP \
  "rust-profile=release|debug  (default release) How a .rs file or\n" \
  "                  crate directory is compiled.  Builds are cached in\n" \
  "                  $XDG_CACHE_HOME/nbdkit-rust (else\n" \
  "                  ~/.cache/nbdkit-rust).\n" \
  "rust-rustc=PATH   The rustc for a .rs file (default $RUSTC, else rustc).\n" \
  "rust-cargo=PATH   The cargo for a crate directory or a .rs file with a\n" \
  "                  //! ```cargo block (default $CARGO, else cargo).\n" \
  "rust-sdk=DIR      The nbdkit crate's source to build against (default\n" \
  "                  the installed " RUST_SDK_INSTALL_DIR ").\n" \
  "rust-registry=DIR|none  Where a ```cargo block's dependencies come from\n" \
  "                  (default " RUST_REGISTRY_DIR ", a cargo directory\n" \
  "                  source: Debian's librust-*-dev packages).\n"
extern int rust_source_config (const char *key, const char *value);
extern void rust_source_options_free (void);
extern int rust_source_kind (const char *path);
extern int rust_source_build (const char *path, int kind,
                              struct rust_source *out);
extern void rust_source_clear (struct rust_source *s);
extern void rust_source_watch (const char *path, int kind,
                               unsigned char fp[RUST_SOURCE_FP_LEN],
                               struct timespec *newest);
extern int rust_source_private_copy (const char *lib,
                                     struct rust_copy *copy);

/* host.c */
extern const struct nbdkit_rust_host rust_host;
extern void rust_host_init (void);

/* probability.c */
extern int rust_parse_probability (const char *what, const char *str,
                                   double *r);

#endif /* NBDKIT_RUST_LOADER_H */
