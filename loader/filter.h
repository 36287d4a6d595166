/* SPDX-License-Identifier: BSD-2-Clause */
/* nbdkit-rust: the filter loader's private header.
 *
 * nbdkit-rust-filter.so is an ordinary nbdkit C filter ("rust") that
 * loads a Rust filter at the rust-filter=PATH key and forwards every
 * nbdkit filter callback to the descriptor the Rust filter hands back
 * (abi/nbdkit-rust-abi.h, "Filters").  It shares the plugin loader's
 * file checks, private copies, name rule, --dump-plugin lines and host
 * table (rust-loader.h); its own files are:
 *
 *   filter-callbacks.c   every nbdkit filter callback, and struct
 *                        nbdkit_filter
 *   filter-config.c      key routing, config_complete, --dump-plugin,
 *                        --help
 *   filter-instances.c   the instances of --filter=rust, and how a
 *                        callback finds its own
 *   filter-load.c        loading one Rust filter: file checks, dlopen
 *                        (of a private copy if the file is mapped
 *                        already), the descriptor, its load callback
 *   filter-descriptor.c  validating the descriptor a Rust filter hands
 *                        back
 *   filter-next.c        the host table's next_* bridge to the layer
 *                        below
 *
 * INSTANCES.  nbdkit maps the same filter .so once however often
 * --filter=rust is given: one set of statics, but one nbdkit backend
 * per instance.  The loader tells its instances apart by the pointer
 * nbdkit passes for the layer below each (nbdkit_backend *): config's,
 * config_complete's, preconnect's, list_exports' and default_export's
 * nxdata, after_fork's and cleanup's backend, and what
 * nbdkit_context_get_backend returns for open's context are all that
 * one pointer (server/filters.c: b->next).  A connection's callbacks
 * find theirs through the handle open returned.  load, unload,
 * thread_model and get_ready receive nothing and act on every
 * instance.
 */

#ifndef NBDKIT_RUST_FILTER_H
#define NBDKIT_RUST_FILTER_H

#include <stdbool.h>

#include "rust-loader.h"

#include <nbdkit-filter.h>

/* The opaque types of the ABI are nbdkit's own pointers, cast. */
#define RUST_NEXT(n) ((struct nbdkit_rust_next *) (n))
#define NBDKIT_NEXT(n) ((nbdkit_next *) (n))

/* One global call down the chain (struct nbdkit_rust_next_call): the
 * next function nbdkit handed the loader's callback, and its nxdata
 * (open's context is passed on its own).  It lives on the stack of
 * that callback, so it is valid for that call only, as the ABI says.
 * KIND lets the host refuse a call passed to the wrong next_*.
 */
enum rust_next_call_kind {
  RUST_NEXT_CONFIG,
  RUST_NEXT_CONFIG_COMPLETE,
  RUST_NEXT_PRECONNECT,
  RUST_NEXT_LIST_EXPORTS,
  RUST_NEXT_DEFAULT_EXPORT,
  RUST_NEXT_OPEN,
};

struct nbdkit_rust_next_call {
  enum rust_next_call_kind kind;
  nbdkit_backend *nxdata;
  union {
    nbdkit_next_config *config;
    nbdkit_next_config_complete *config_complete;
    nbdkit_next_preconnect *preconnect;
    nbdkit_next_list_exports *list_exports;
    nbdkit_next_default_export *default_export;
    nbdkit_next_open *open;
  } fn;
};

/* What the loader hands nbdkit as a connection's handle.  The data
 * path needs only the descriptor and the Rust handle, so that is all
 * it holds, the descriptor itself (a copy of the instance's) first: a
 * request finds the Rust callback one load from the handle nbdkit
 * passes, which is as cheap as the pass-through can be
 * (filter-callbacks.c).
 */
struct rust_filter_handle {
  struct nbdkit_rust_filter filter;
  void *handle;                 /* the Rust filter's own */
};

/* One --filter=rust. */
struct rust_filter_instance {
  nbdkit_backend *backend;      /* the layer below: the instance's key */
  unsigned number;              /* 1 for the outermost, 2, ... */
  char *path;                   /* rust-filter=PATH, absolute; NULL until
                                 * loaded */
  void *dl;                     /* dlopen() handle; NULL until loaded */
  bool private_copy;            /* mapped from a private copy */
  struct nbdkit_rust_filter filter; /* the descriptor, zero-extended */
  int thread_model;             /* the model it asks for, -2 until asked */
  bool ready;                   /* get_ready was called */
  /* The handle of every connection when the Rust filter has no open:
   * its callbacks then get NBDKIT_HANDLE_NOT_NEEDED, as a C filter's
   * would.  Its descriptor is set at load.
   */
  struct rust_filter_handle shared;
  struct rust_filter_instance *next; /* the next instance inward */
};

/* filter-config.c */
extern const char rust_filter_config_help[];
extern int rust_filter_config (nbdkit_next_config *next,
                               nbdkit_backend *nxdata,
                               const char *key, const char *value);
extern int rust_filter_config_complete (nbdkit_next_config_complete *next,
                                        nbdkit_backend *nxdata);

/* filter-instances.c */
extern struct rust_filter_instance *rust_filter_instance_of
  (nbdkit_backend *backend);
extern struct rust_filter_instance *rust_filter_instance_add
  (nbdkit_backend *backend);
extern int rust_filter_instances_thread_model (void);
extern int rust_filter_instances_get_ready (int thread_model);
extern void rust_filter_instances_unload_one (void);
extern void rust_filter_instances_unload_all (void);

/* filter-load.c */
extern int rust_filter_instance_load (struct rust_filter_instance *inst,
                                      const char *path);
extern void rust_filter_instance_unload (struct rust_filter_instance *inst);
extern int rust_filter_instance_thread_model
  (struct rust_filter_instance *inst);

/* filter-descriptor.c */
extern int rust_filter_descriptor_accept (const char *path,
                                          const struct nbdkit_rust_filter *d,
                                          struct nbdkit_rust_filter *filter);
extern const char *rust_filter_descriptor_callbacks
  (const struct nbdkit_rust_filter *f, char buf[RUST_CALLBACKS_MAX]);

/* filter-next.c */
extern struct nbdkit_rust_host rust_filter_host;
extern void rust_filter_host_init (void);

#endif /* NBDKIT_RUST_FILTER_H */
