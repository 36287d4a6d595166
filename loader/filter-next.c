/* SPDX-License-Identifier: BSD-2-Clause */
/* nbdkit-rust: the host table's bridge to the layer below a filter.
 *
 * A Rust filter reaches the next layer only through the host table:
 * nbdkit's nbdkit_next and nbdkit_filter structs change between
 * releases, and only the loader, compiled against the running nbdkit,
 * may touch them.  Each function here is one call through nbdkit's own
 * pointers, with the ABI's opaque types cast back to nbdkit's.
 *
 * The filter loader hands Rust filters a copy of the plugin loader's
 * table (host.c) with these put in place of its stubs.
 */

#include <errno.h>

#include "filter.h"

struct nbdkit_rust_host rust_filter_host;

/* Per connection: NEXT is nbdkit's nbdkit_next *. */

static int
next_prepare (struct nbdkit_rust_next *next)
{
  return NBDKIT_NEXT (next)->prepare (NBDKIT_NEXT (next));
}

static int
next_finalize (struct nbdkit_rust_next *next)
{
  return NBDKIT_NEXT (next)->finalize (NBDKIT_NEXT (next));
}

static int64_t
next_get_size (struct nbdkit_rust_next *next)
{
  return NBDKIT_NEXT (next)->get_size (NBDKIT_NEXT (next));
}

static const char *
next_export_description (struct nbdkit_rust_next *next)
{
  return NBDKIT_NEXT (next)->export_description (NBDKIT_NEXT (next));
}

static int
next_block_size (struct nbdkit_rust_next *next, uint32_t *minimum,
                 uint32_t *preferred, uint32_t *maximum)
{
  return NBDKIT_NEXT (next)->block_size (NBDKIT_NEXT (next),
                                         minimum, preferred, maximum);
}

#define NEXT_QUERY(name)                                        \
  static int                                                    \
  next_##name (struct nbdkit_rust_next *next)                   \
  {                                                             \
    return NBDKIT_NEXT (next)->name (NBDKIT_NEXT (next));       \
  }
NEXT_QUERY (can_write)
NEXT_QUERY (can_flush)
NEXT_QUERY (is_rotational)
NEXT_QUERY (can_trim)
NEXT_QUERY (can_zero)
NEXT_QUERY (can_fast_zero)
NEXT_QUERY (can_extents)
NEXT_QUERY (can_fua)
NEXT_QUERY (can_multi_conn)
NEXT_QUERY (can_cache)

static int
next_pread (struct nbdkit_rust_next *next, void *buf, uint32_t count,
            uint64_t offset, uint32_t flags, int *err)
{
  return NBDKIT_NEXT (next)->pread (NBDKIT_NEXT (next), buf, count, offset,
                                    flags, err);
}

static int
next_pwrite (struct nbdkit_rust_next *next, const void *buf, uint32_t count,
             uint64_t offset, uint32_t flags, int *err)
{
  return NBDKIT_NEXT (next)->pwrite (NBDKIT_NEXT (next), buf, count, offset,
                                     flags, err);
}

static int
next_flush (struct nbdkit_rust_next *next, uint32_t flags, int *err)
{
  return NBDKIT_NEXT (next)->flush (NBDKIT_NEXT (next), flags, err);
}

#define NEXT_RANGE(name)                                                \
  static int                                                            \
  next_##name (struct nbdkit_rust_next *next, uint32_t count,           \
               uint64_t offset, uint32_t flags, int *err)               \
  {                                                                     \
    return NBDKIT_NEXT (next)->name (NBDKIT_NEXT (next), count, offset, \
                                     flags, err);                       \
  }
NEXT_RANGE (trim)
NEXT_RANGE (zero)
NEXT_RANGE (cache)

static int
next_extents (struct nbdkit_rust_next *next, uint32_t count, uint64_t offset,
              uint32_t flags, struct nbdkit_extents *extents, int *err)
{
  return NBDKIT_NEXT (next)->extents (NBDKIT_NEXT (next), count, offset,
                                      flags, extents, err);
}

static struct nbdkit_extents *
extents_full (struct nbdkit_rust_next *next, uint32_t count, uint64_t offset,
              uint32_t flags, int *err)
{
  return nbdkit_extents_full (NBDKIT_NEXT (next), count, offset, flags, err);
}

/* The global calls.  A CALL given to the wrong function (an SDK bug)
 * would call nbdkit's next function with the wrong arguments: refuse
 * it instead.
 */
static bool
call_is (const struct nbdkit_rust_next_call *call,
         enum rust_next_call_kind kind, const char *what)
{
  if (call != NULL && call->kind == kind)
    return true;
  nbdkit_error ("%s: the Rust filter passed the next of another callback: "
                "each callback may only pass on its own call", what);
  nbdkit_set_error (EINVAL);
  return false;
}

static int
next_config (struct nbdkit_rust_next_call *call,
             const char *key, const char *value)
{
  if (!call_is (call, RUST_NEXT_CONFIG, "next_config"))
    return -1;
  return call->fn.config (call->nxdata, key, value);
}

static int
next_config_complete (struct nbdkit_rust_next_call *call)
{
  if (!call_is (call, RUST_NEXT_CONFIG_COMPLETE, "next_config_complete"))
    return -1;
  return call->fn.config_complete (call->nxdata);
}

static int
next_preconnect (struct nbdkit_rust_next_call *call, int readonly)
{
  if (!call_is (call, RUST_NEXT_PRECONNECT, "next_preconnect"))
    return -1;
  return call->fn.preconnect (call->nxdata, readonly);
}

static int
next_list_exports (struct nbdkit_rust_next_call *call, int readonly,
                   struct nbdkit_exports *exports)
{
  if (!call_is (call, RUST_NEXT_LIST_EXPORTS, "next_list_exports"))
    return -1;
  return call->fn.list_exports (call->nxdata, readonly, exports);
}

static const char *
next_default_export (struct nbdkit_rust_next_call *call, int readonly)
{
  if (!call_is (call, RUST_NEXT_DEFAULT_EXPORT, "next_default_export"))
    return NULL;
  return call->fn.default_export (call->nxdata, readonly);
}

static int
next_open (struct nbdkit_rust_next_call *call,
           struct nbdkit_rust_context *context, int readonly,
           const char *exportname)
{
  if (!call_is (call, RUST_NEXT_OPEN, "next_open"))
    return -1;
  return call->fn.open ((nbdkit_context *) context, readonly, exportname);
}

/* Contexts a filter manages itself. */

static struct nbdkit_rust_backend *
context_get_backend (struct nbdkit_rust_context *context)
{
  return (struct nbdkit_rust_backend *)
    nbdkit_context_get_backend ((nbdkit_context *) context);
}

static struct nbdkit_rust_next *
next_context_open (struct nbdkit_rust_backend *backend, int readonly,
                   const char *exportname, int shared)
{
  return RUST_NEXT (nbdkit_next_context_open ((nbdkit_backend *) backend,
                                              readonly, exportname, shared));
}

static void
next_context_close (struct nbdkit_rust_next *next)
{
  nbdkit_next_context_close (NBDKIT_NEXT (next));
}

static struct nbdkit_rust_next *
context_set_next (struct nbdkit_rust_context *context,
                  struct nbdkit_rust_next *next)
{
  return RUST_NEXT (nbdkit_context_set_next ((nbdkit_context *) context,
                                             NBDKIT_NEXT (next)));
}

/* From the filter loader's first load, before any Rust filter is
 * loaded and before nbdkit starts any thread.
 */
void
rust_filter_host_init (void)
{
  struct nbdkit_rust_host *h = &rust_filter_host;

  rust_host_init ();
  *h = rust_host;
  h->next_prepare = next_prepare;
  h->next_finalize = next_finalize;
  h->next_get_size = next_get_size;
  h->next_export_description = next_export_description;
  h->next_block_size = next_block_size;
  h->next_can_write = next_can_write;
  h->next_can_flush = next_can_flush;
  h->next_is_rotational = next_is_rotational;
  h->next_can_trim = next_can_trim;
  h->next_can_zero = next_can_zero;
  h->next_can_fast_zero = next_can_fast_zero;
  h->next_can_extents = next_can_extents;
  h->next_can_fua = next_can_fua;
  h->next_can_multi_conn = next_can_multi_conn;
  h->next_can_cache = next_can_cache;
  h->next_pread = next_pread;
  h->next_pwrite = next_pwrite;
  h->next_flush = next_flush;
  h->next_trim = next_trim;
  h->next_zero = next_zero;
  h->next_extents = next_extents;
  h->next_cache = next_cache;
  h->next_config = next_config;
  h->next_config_complete = next_config_complete;
  h->next_preconnect = next_preconnect;
  h->next_list_exports = next_list_exports;
  h->next_default_export = next_default_export;
  h->next_open = next_open;
  h->extents_full = extents_full;
  h->context_get_backend = context_get_backend;
  h->next_context_open = next_context_open;
  h->next_context_close = next_context_close;
  h->context_set_next = context_set_next;
}
