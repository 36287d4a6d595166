/* nbdkit-rust: the loader's private header.
 *
 * The loader is an ordinary nbdkit C plugin ("rust") that loads a Rust
 * plugin at the rust=PATH key and forwards every nbdkit callback to the
 * descriptor the plugin hands back (abi/nbdkit-rust-abi.h).
 *
 *   callbacks.c    every nbdkit callback, and struct nbdkit_plugin
 *   config.c       rust= handling, other keys, --dump-plugin, --help
 *   load.c         checking, dlopen()ing and validating a Rust plugin
 *   host.c         the table of nbdkit services handed to the plugin
 *   probability.c  nbdkit_parse_probability for nbdkit < 1.34
 */

#ifndef NBDKIT_RUST_LOADER_H
#define NBDKIT_RUST_LOADER_H

#include <nbdkit-plugin.h>

#include "nbdkit-rust-abi.h"

/* One loaded Rust plugin.
 *
 * A connection keeps a pointer to the build it was opened with, so
 * that a later reload (which makes a new build the current one) does
 * not change the plugin under a live connection.  The number and the
 * reference count are there for that reload; today there is only ever
 * build 1, held by rust_current until unload.
 */
struct rust_build {
  void *dl;                         /* dlopen() handle */
  struct nbdkit_rust_plugin plugin; /* the descriptor, zero-extended */
  char *path;                       /* absolute path (nbdkit_realpath) */
  unsigned number;                  /* 1, 2, ... in load order */
  unsigned refs;                    /* connections + 1 while current */
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
extern void rust_dump_plugin (void);
extern void rust_config_free (void);

/* load.c */
extern struct rust_build *rust_build_load (const char *path);
extern void rust_build_unload (struct rust_build *build);

/* host.c */
extern const struct nbdkit_rust_host rust_host;
extern void rust_host_init (void);

/* probability.c */
extern int rust_parse_probability (const char *what, const char *str,
                                   double *r);

#endif /* NBDKIT_RUST_LOADER_H */
