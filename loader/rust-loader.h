/* nbdkit-rust: the loader's private header.
 *
 * The loader is an ordinary nbdkit C plugin ("rust") that loads a Rust
 * plugin at the rust=PATH key and forwards every nbdkit callback to the
 * descriptor the plugin hands back (abi/nbdkit-rust-abi.h).
 *
 *   callbacks.c    every nbdkit callback, and struct nbdkit_plugin
 *   config.c       rust= handling, other keys, --dump-plugin, --help
 *   load.c         checking and dlopen()ing a Rust plugin
 *   descriptor.c   validating the descriptor it hands back
 *   reload.c       rust-reload: new builds for new connections, and the
 *                  retirement of old ones
 *   host.c         the table of nbdkit services handed to the plugin
 *   probability.c  nbdkit_parse_probability for nbdkit < 1.34
 */

#ifndef NBDKIT_RUST_LOADER_H
#define NBDKIT_RUST_LOADER_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include <nbdkit-plugin.h>

#include "nbdkit-rust-abi.h"

/* What says that the file at rust=PATH changed (see reload.c). */
struct rust_file_id {
  dev_t dev;
  ino_t ino;
  off_t size;
  struct timespec mtime;
};

/* One loaded Rust plugin.
 *
 * A connection keeps a pointer to the build it was opened with, so
 * that a reload (which makes a new build the current one) does not
 * change the plugin under a live connection.  Without rust-reload
 * there is only ever build 1, held by rust_current until unload.
 */
struct rust_build {
  void *dl;                         /* dlopen() handle */
  struct nbdkit_rust_plugin plugin; /* the descriptor, zero-extended */
  char *path;                       /* absolute path (nbdkit_realpath) */
  char *copy;                       /* private copy mapped, or NULL */
  struct rust_file_id id;           /* rust=PATH when copied */
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
extern struct rust_build *rust_current;
extern const char rust_config_help[];
extern int rust_config (const char *key, const char *value);
extern int rust_config_complete (void);
extern int rust_config_replay (struct rust_build *build);
extern void rust_dump_plugin (void);
extern const char *rust_thread_model_name (int model);
extern void rust_config_free (void);

/* descriptor.c */
extern int rust_descriptor_accept (const char *path,
                                   const struct nbdkit_rust_plugin *d,
                                   struct nbdkit_rust_plugin *copy);

/* load.c */
extern struct rust_build *rust_build_load (const char *path, char *copy);
extern void rust_build_unload (struct rust_build *build);
extern int rust_build_thread_model (const struct rust_build *build);

/* reload.c */
extern bool rust_reload;
extern int rust_server_thread_model;
extern int rust_reload_watch (const char *path);
extern struct rust_build *rust_reload_load_first (const char *path);
extern int rust_reload_start (void);
extern struct rust_build *rust_connection_build (void);
extern void rust_builds_cleanup (void);
extern void rust_builds_unload (void);

/* host.c */
extern const struct nbdkit_rust_host rust_host;
extern void rust_host_init (void);

/* probability.c */
extern int rust_parse_probability (const char *what, const char *str,
                                   double *r);

#endif /* NBDKIT_RUST_LOADER_H */
