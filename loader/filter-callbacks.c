/* SPDX-License-Identifier: BSD-2-Clause */
/* nbdkit-rust: every nbdkit filter callback, forwarded to the Rust
 * filter of its instance.
 *
 * The loader registers every callback nbdkit 1.32's filters have, as
 * it cannot know which ones the Rust filters of its instances leave
 * out.  When a Rust filter leaves one out (NULL), the loader does what
 * nbdkit does for a C filter without it (server/filters.c): it calls
 * the next layer with the same arguments and returns its answer, or
 * does nothing where nbdkit does nothing; each case says so.
 *
 * The request path (pread .. cache) loads the Rust callback from the
 * handle, which begins with a copy of the descriptor, and calls it, or
 * passes the request straight on to next: no lock, no lookup, no
 * allocation.
 */

#include <stdlib.h>

#include "filter.h"

/* The descriptor and the Rust handle of a connection. */
#define FILTER(h) (&((struct rust_filter_handle *) (h))->filter)
#define HANDLE(h) (((struct rust_filter_handle *) (h))->handle)

/* Whether the Rust filter left data callback FN out.  The request
 * path is laid out for the pass-through, which must cost next to
 * nothing (gcc then moves the arguments for next once, before the
 * test): a Rust callback pays a few register moves more, beside its
 * own work.
 */
#define PASS_THROUGH(fn) __builtin_expect ((fn) == NULL, 1)

/* Lifecycle.  nbdkit calls load, unload, thread_model and get_ready
 * once per instance, with nothing to say which.
 */

/* How many instances nbdkit has loaded and not yet unloaded. */
static unsigned loaded;

static void
rust_filter_load (void)
{
  if (loaded++ == 0)
    rust_filter_host_init ();
}

static void
rust_filter_unload (void)
{
  if (loaded == 0)
    return;
  rust_filter_instances_unload_one ();
  if (--loaded == 0)
    rust_filter_instances_unload_all ();
}

static int
rust_filter_thread_model (void)
{
  return rust_filter_instances_thread_model ();
}

static int
rust_filter_get_ready (int thread_model)
{
  return rust_filter_instances_get_ready (thread_model);
}

/* A callback's instance, found by the pointer nbdkit passed for the
 * layer below.  It always exists once config_complete succeeded; say
 * so rather than crash if it does not.
 */
static struct rust_filter_instance *
instance_of (nbdkit_backend *backend, const char *what)
{
  struct rust_filter_instance *inst = rust_filter_instance_of (backend);

  if (inst == NULL || inst->dl == NULL)
    nbdkit_error ("%s: no Rust filter was loaded for this --filter=rust",
                  what);
  return inst && inst->dl ? inst : NULL;
}

static int
rust_filter_after_fork (nbdkit_backend *backend)
{
  struct rust_filter_instance *inst = instance_of (backend, "after_fork");

  if (inst == NULL)
    return -1;
  /* Mirrors nbdkit: without after_fork, success. */
  if (inst->filter.after_fork == NULL)
    return 0;
  return inst->filter.after_fork ((struct nbdkit_rust_backend *) backend);
}

static void
rust_filter_cleanup (nbdkit_backend *backend)
{
  struct rust_filter_instance *inst = rust_filter_instance_of (backend);

  /* Mirrors nbdkit: without cleanup, nothing happens. */
  if (inst && inst->dl && inst->filter.cleanup)
    inst->filter.cleanup ((struct nbdkit_rust_backend *) backend);
}

/* Before a connection. */

static int
rust_filter_preconnect (nbdkit_next_preconnect *next, nbdkit_backend *nxdata,
                        int readonly)
{
  struct rust_filter_instance *inst = instance_of (nxdata, "preconnect");
  struct nbdkit_rust_next_call call = {
    .kind = RUST_NEXT_PRECONNECT, .nxdata = nxdata, .fn.preconnect = next,
  };

  if (inst == NULL)
    return -1;
  /* Mirrors nbdkit: without preconnect, on to the next layer. */
  if (inst->filter.preconnect == NULL)
    return next (nxdata, readonly);
  return inst->filter.preconnect (&call, readonly);
}

static int
rust_filter_list_exports (nbdkit_next_list_exports *next,
                          nbdkit_backend *nxdata, int readonly, int is_tls,
                          struct nbdkit_exports *exports)
{
  struct rust_filter_instance *inst = instance_of (nxdata, "list_exports");
  struct nbdkit_rust_next_call call = {
    .kind = RUST_NEXT_LIST_EXPORTS, .nxdata = nxdata,
    .fn.list_exports = next,
  };

  if (inst == NULL)
    return -1;
  /* Mirrors nbdkit: without list_exports, the next layer's list. */
  if (inst->filter.list_exports == NULL)
    return next (nxdata, readonly, exports);
  return inst->filter.list_exports (&call, readonly, is_tls, exports);
}

static const char *
rust_filter_default_export (nbdkit_next_default_export *next,
                            nbdkit_backend *nxdata, int readonly, int is_tls)
{
  struct rust_filter_instance *inst = instance_of (nxdata, "default_export");
  struct nbdkit_rust_next_call call = {
    .kind = RUST_NEXT_DEFAULT_EXPORT, .nxdata = nxdata,
    .fn.default_export = next,
  };

  if (inst == NULL)
    return NULL;
  /* Mirrors nbdkit: without default_export, the next layer's. */
  if (inst->filter.default_export == NULL)
    return next (nxdata, readonly);
  return inst->filter.default_export (&call, readonly, is_tls);
}

/* A connection. */

static void *
rust_filter_open (nbdkit_next_open *next, nbdkit_context *context,
                  int readonly, const char *exportname, int is_tls)
{
  struct rust_filter_instance *inst =
    instance_of (nbdkit_context_get_backend (context), "open");
  struct nbdkit_rust_next_call call = {
    .kind = RUST_NEXT_OPEN, .fn.open = next,
  };
  struct rust_filter_handle *h;

  if (inst == NULL)
    return NULL;
  /* Mirrors nbdkit: without open, the next layer is opened, and the
   * filter's callbacks get a handle that is not needed: here every
   * connection shares the instance's, with NBDKIT_HANDLE_NOT_NEEDED
   * for the Rust side.
   */
  if (inst->filter.open == NULL) {
    if (next (context, readonly, exportname) == -1)
      return NULL;
    return &inst->shared;
  }

  h = malloc (sizeof *h);
  if (h == NULL) {
    nbdkit_error ("malloc: %m");
    return NULL;
  }
  h->filter = inst->filter;
  h->handle = inst->filter.open (&call, (struct nbdkit_rust_context *) context,
                                 readonly, exportname, is_tls);
  if (h->handle == NULL) {
    free (h);
    return NULL;
  }
  return h;
}

static void
rust_filter_close (void *handle)
{
  const struct nbdkit_rust_filter *f = FILTER (handle);

  /* Mirrors nbdkit: without close, the handle is simply dropped. */
  if (f->close)
    f->close (HANDLE (handle));
  /* Without open, the handle is the instance's own (see open). */
  if (f->open)
    free (handle);
}

/* Mirrors nbdkit: without prepare or finalize, nothing happens (nbdkit
 * prepares and finalizes the next layer itself).
 */
static int
rust_filter_prepare (nbdkit_next *next, void *handle, int readonly)
{
  if (FILTER (handle)->prepare == NULL)
    return 0;
  return FILTER (handle)->prepare (RUST_NEXT (next), HANDLE (handle),
                                   readonly);
}

static int
rust_filter_finalize (nbdkit_next *next, void *handle)
{
  if (FILTER (handle)->finalize == NULL)
    return 0;
  return FILTER (handle)->finalize (RUST_NEXT (next), HANDLE (handle));
}

/* Per-connection queries.  Mirrors nbdkit: without the callback, the
 * next layer's answer.
 */

static int64_t
rust_filter_get_size (nbdkit_next *next, void *handle)
{
  if (FILTER (handle)->get_size == NULL)
    return next->get_size (next);
  return FILTER (handle)->get_size (RUST_NEXT (next), HANDLE (handle));
}

static const char *
rust_filter_export_description (nbdkit_next *next, void *handle)
{
  if (FILTER (handle)->export_description == NULL)
    return next->export_description (next);
  return FILTER (handle)->export_description (RUST_NEXT (next),
                                              HANDLE (handle));
}

static int
rust_filter_block_size (nbdkit_next *next, void *handle, uint32_t *minimum,
                        uint32_t *preferred, uint32_t *maximum)
{
  if (FILTER (handle)->block_size == NULL)
    return next->block_size (next, minimum, preferred, maximum);
  return FILTER (handle)->block_size (RUST_NEXT (next), HANDLE (handle),
                                      minimum, preferred, maximum);
}

#define QUERY(name)                                                     \
  static int                                                            \
  rust_filter_##name (nbdkit_next *next, void *handle)                  \
  {                                                                     \
    if (FILTER (handle)->name == NULL)                                  \
      return next->name (next);                                         \
    return FILTER (handle)->name (RUST_NEXT (next), HANDLE (handle));   \
  }
QUERY (can_write)
QUERY (can_flush)
QUERY (is_rotational)
QUERY (can_trim)
QUERY (can_zero)
QUERY (can_fast_zero)
QUERY (can_extents)
QUERY (can_fua)
QUERY (can_multi_conn)
QUERY (can_cache)

/* Data path.  Mirrors nbdkit: without the callback, the request goes
 * straight on to the next layer, a tail call.
 */

static int
rust_filter_pread (nbdkit_next *next, void *handle, void *buf,
                   uint32_t count, uint64_t offset, uint32_t flags, int *err)
{
  if (PASS_THROUGH (FILTER (handle)->pread))
    return next->pread (next, buf, count, offset, flags, err);
  return FILTER (handle)->pread (RUST_NEXT (next), HANDLE (handle),
                                 buf, count, offset, flags, err);
}

static int
rust_filter_pwrite (nbdkit_next *next, void *handle, const void *buf,
                    uint32_t count, uint64_t offset, uint32_t flags, int *err)
{
  if (PASS_THROUGH (FILTER (handle)->pwrite))
    return next->pwrite (next, buf, count, offset, flags, err);
  return FILTER (handle)->pwrite (RUST_NEXT (next), HANDLE (handle),
                                  buf, count, offset, flags, err);
}

static int
rust_filter_flush (nbdkit_next *next, void *handle, uint32_t flags, int *err)
{
  if (PASS_THROUGH (FILTER (handle)->flush))
    return next->flush (next, flags, err);
  return FILTER (handle)->flush (RUST_NEXT (next), HANDLE (handle),
                                 flags, err);
}

#define RANGE(name)                                                     \
  static int                                                            \
  rust_filter_##name (nbdkit_next *next, void *handle, uint32_t count,  \
                      uint64_t offset, uint32_t flags, int *err)        \
  {                                                                     \
    if (PASS_THROUGH (FILTER (handle)->name))                           \
      return next->name (next, count, offset, flags, err);              \
    return FILTER (handle)->name (RUST_NEXT (next), HANDLE (handle),    \
                                  count, offset, flags, err);           \
  }
RANGE (trim)
RANGE (zero)
RANGE (cache)

static int
rust_filter_extents (nbdkit_next *next, void *handle, uint32_t count,
                     uint64_t offset, uint32_t flags,
                     struct nbdkit_extents *extents, int *err)
{
  if (PASS_THROUGH (FILTER (handle)->extents))
    return next->extents (next, count, offset, flags, extents, err);
  return FILTER (handle)->extents (RUST_NEXT (next), HANDLE (handle),
                                   count, offset, flags, extents, err);
}

static struct nbdkit_filter filter = {
  .name               = "rust",
  .longname           = "nbdkit Rust filter loader",
  .description        = "Runs a filter written in Rust with the nbdkit "
                        "crate, given as rust-filter=PATH.",
  .load               = rust_filter_load,
  .unload             = rust_filter_unload,
  .config             = rust_filter_config,
  .config_complete    = rust_filter_config_complete,
  .config_help        = rust_filter_config_help,
  .thread_model       = rust_filter_thread_model,
  .get_ready          = rust_filter_get_ready,
  .after_fork         = rust_filter_after_fork,
  .cleanup            = rust_filter_cleanup,
  .preconnect         = rust_filter_preconnect,
  .list_exports       = rust_filter_list_exports,
  .default_export     = rust_filter_default_export,
  .open               = rust_filter_open,
  .close              = rust_filter_close,
  .prepare            = rust_filter_prepare,
  .finalize           = rust_filter_finalize,
  .get_size           = rust_filter_get_size,
  .export_description = rust_filter_export_description,
  .block_size         = rust_filter_block_size,
  .can_write          = rust_filter_can_write,
  .can_flush          = rust_filter_can_flush,
  .is_rotational      = rust_filter_is_rotational,
  .can_trim           = rust_filter_can_trim,
  .can_zero           = rust_filter_can_zero,
  .can_fast_zero      = rust_filter_can_fast_zero,
  .can_extents        = rust_filter_can_extents,
  .can_fua            = rust_filter_can_fua,
  .can_multi_conn     = rust_filter_can_multi_conn,
  .can_cache          = rust_filter_can_cache,
  .pread              = rust_filter_pread,
  .pwrite             = rust_filter_pwrite,
  .flush              = rust_filter_flush,
  .trim               = rust_filter_trim,
  .zero               = rust_filter_zero,
  .extents            = rust_filter_extents,
  .cache              = rust_filter_cache,
};

NBDKIT_REGISTER_FILTER (filter)
