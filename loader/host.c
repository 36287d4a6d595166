/* SPDX-License-Identifier: BSD-2-Clause */
/* nbdkit-rust: the table of nbdkit services handed to Rust plugins.
 *
 * A Rust plugin imports no nbdkit_* symbol; it calls nbdkit only
 * through this table.  Where an nbdkit function has exactly the type
 * the ABI wants, the table points at it directly (the compiler checks
 * the types, and there is no extra call).  The rest are small wrappers.
 *
 * ABI 1.1 added what filters need.  A plugin has no layer below it, so
 * in this table the next_* and context functions are stubs that log
 * "only filters may call ..." and fail; the filter loader copies the
 * table and puts the real ones in (filter-next.c).  The extents and
 * exports lists are nbdkit's own and work for both.
 */

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>

#include "rust-loader.h"

/* nbdkit_extents_new, nbdkit_exports_new and friends: nbdkit declares
 * them for filters only, but its executable exports them to every
 * module it loads.
 */
#include <nbdkit-filter.h>

/* Functions newer than the nbdkit we build against (1.32), looked up in
 * the running nbdkit by rust_host_init.
 */
static void (*nbdkit_disconnect_fn) (int force);
static int (*nbdkit_parse_probability_fn) (const char *what, const char *str,
                                           double *r);

/* Called once from the loader's load callback, before any plugin is
 * loaded and before nbdkit starts any thread.
 */
void
rust_host_init (void)
{
  nbdkit_disconnect_fn =
    (void (*) (int)) dlsym (RTLD_DEFAULT, "nbdkit_disconnect");
  nbdkit_parse_probability_fn =
    (int (*) (const char *, const char *, double *))
    dlsym (RTLD_DEFAULT, "nbdkit_parse_probability");
}

/* The ABI passes plain text: never let it be read as a format. */
static void
host_error (const char *msg)
{
  nbdkit_error ("%s", msg);
}

static void
host_debug (const char *msg)
{
  nbdkit_debug ("%s", msg);
}

static int
host_disconnect (int force)
{
  if (nbdkit_disconnect_fn == NULL) {
    nbdkit_error ("disconnect: this nbdkit (%s) has no nbdkit_disconnect "
                  "(it appeared in nbdkit 1.34)", NBDKIT_VERSION_STRING);
    nbdkit_set_error (ENOTSUP);
    errno = ENOTSUP;
    return -1;
  }
  nbdkit_disconnect_fn (force);
  return 0;
}

static int
host_parse_probability (const char *what, const char *str, double *r)
{
  if (nbdkit_parse_probability_fn)
    return nbdkit_parse_probability_fn (what, str, r);
  return rust_parse_probability (what, str, r);
}

/* Lists: nbdkit returns the I'th entry by value and asserts that I is
 * in range, where the ABI answers -1.
 */
static int
host_get_extent (const struct nbdkit_extents *extents, size_t i,
                 uint64_t *offset, uint64_t *length, uint32_t *type)
{
  struct nbdkit_extent e;

  if (i >= nbdkit_extents_count (extents))
    return -1;
  e = nbdkit_get_extent (extents, i);
  *offset = e.offset;
  *length = e.length;
  *type = e.type;
  return 0;
}

static int
host_get_export (const struct nbdkit_exports *exports, size_t i,
                 const char **name, const char **description)
{
  struct nbdkit_export e;

  if (i >= nbdkit_exports_count (exports))
    return -1;
  e = nbdkit_get_export (exports, i);
  *name = e.name;
  *description = e.description;
  return 0;
}

/* The filter services in a plugin's table.  The header promises no
 * NULL pointer, so each is there, and fails saying why: the Rust
 * side should never call them from a plugin, and an SDK bug that does
 * must not crash nbdkit.  Returns -1.
 */
static int
only_filters (const char *what)
{
  nbdkit_error ("only filters may call %s: a plugin has no next layer",
                what);
  nbdkit_set_error (ENOTSUP);
  errno = ENOTSUP;
  return -1;
}

#define STUB_QUERY(name)                                  \
  static int                                              \
  stub_##name (struct nbdkit_rust_next *next)             \
  {                                                       \
    (void) next;                                          \
    return only_filters (#name);                          \
  }
STUB_QUERY (next_prepare)
STUB_QUERY (next_finalize)
STUB_QUERY (next_can_write)
STUB_QUERY (next_can_flush)
STUB_QUERY (next_is_rotational)
STUB_QUERY (next_can_trim)
STUB_QUERY (next_can_zero)
STUB_QUERY (next_can_fast_zero)
STUB_QUERY (next_can_extents)
STUB_QUERY (next_can_fua)
STUB_QUERY (next_can_multi_conn)
STUB_QUERY (next_can_cache)

static int64_t
stub_next_get_size (struct nbdkit_rust_next *next)
{
  (void) next;
  return only_filters ("next_get_size");
}

static const char *
stub_next_export_description (struct nbdkit_rust_next *next)
{
  (void) next;
  only_filters ("next_export_description");
  return NULL;
}

static int
stub_next_block_size (struct nbdkit_rust_next *next, uint32_t *minimum,
                      uint32_t *preferred, uint32_t *maximum)
{
  (void) next; (void) minimum; (void) preferred; (void) maximum;
  return only_filters ("next_block_size");
}

/* The data calls report their errno through *ERR, as filters' do. */
static int
stub_data (const char *what, int *err)
{
  *err = ENOTSUP;
  return only_filters (what);
}

static int
stub_next_pread (struct nbdkit_rust_next *next, void *buf, uint32_t count,
                 uint64_t offset, uint32_t flags, int *err)
{
  (void) next; (void) buf; (void) count; (void) offset; (void) flags;
  return stub_data ("next_pread", err);
}

static int
stub_next_pwrite (struct nbdkit_rust_next *next, const void *buf,
                  uint32_t count, uint64_t offset, uint32_t flags, int *err)
{
  (void) next; (void) buf; (void) count; (void) offset; (void) flags;
  return stub_data ("next_pwrite", err);
}

static int
stub_next_flush (struct nbdkit_rust_next *next, uint32_t flags, int *err)
{
  (void) next; (void) flags;
  return stub_data ("next_flush", err);
}

#define STUB_RANGE(name)                                                \
  static int                                                            \
  stub_##name (struct nbdkit_rust_next *next, uint32_t count,           \
               uint64_t offset, uint32_t flags, int *err)               \
  {                                                                     \
    (void) next; (void) count; (void) offset; (void) flags;             \
    return stub_data (#name, err);                                      \
  }
STUB_RANGE (next_trim)
STUB_RANGE (next_zero)
STUB_RANGE (next_cache)

static int
stub_next_extents (struct nbdkit_rust_next *next, uint32_t count,
                   uint64_t offset, uint32_t flags,
                   struct nbdkit_extents *extents, int *err)
{
  (void) next; (void) count; (void) offset; (void) flags; (void) extents;
  return stub_data ("next_extents", err);
}

static int
stub_next_config (struct nbdkit_rust_next_call *call,
                  const char *key, const char *value)
{
  (void) call; (void) key; (void) value;
  return only_filters ("next_config");
}

static int
stub_next_config_complete (struct nbdkit_rust_next_call *call)
{
  (void) call;
  return only_filters ("next_config_complete");
}

static int
stub_next_preconnect (struct nbdkit_rust_next_call *call, int readonly)
{
  (void) call; (void) readonly;
  return only_filters ("next_preconnect");
}

static int
stub_next_list_exports (struct nbdkit_rust_next_call *call, int readonly,
                        struct nbdkit_exports *exports)
{
  (void) call; (void) readonly; (void) exports;
  return only_filters ("next_list_exports");
}

static const char *
stub_next_default_export (struct nbdkit_rust_next_call *call, int readonly)
{
  (void) call; (void) readonly;
  only_filters ("next_default_export");
  return NULL;
}

static int
stub_next_open (struct nbdkit_rust_next_call *call,
                struct nbdkit_rust_context *context, int readonly,
                const char *exportname)
{
  (void) call; (void) context; (void) readonly; (void) exportname;
  return only_filters ("next_open");
}

static struct nbdkit_extents *
stub_extents_full (struct nbdkit_rust_next *next, uint32_t count,
                   uint64_t offset, uint32_t flags, int *err)
{
  (void) next; (void) count; (void) offset; (void) flags;
  stub_data ("extents_full", err);
  return NULL;
}

static struct nbdkit_rust_backend *
stub_context_get_backend (struct nbdkit_rust_context *context)
{
  (void) context;
  only_filters ("context_get_backend");
  return NULL;
}

static struct nbdkit_rust_next *
stub_next_context_open (struct nbdkit_rust_backend *backend, int readonly,
                        const char *exportname, int shared)
{
  (void) backend; (void) readonly; (void) exportname; (void) shared;
  only_filters ("next_context_open");
  return NULL;
}

static void
stub_next_context_close (struct nbdkit_rust_next *next)
{
  (void) next;
  only_filters ("next_context_close");
}

static struct nbdkit_rust_next *
stub_context_set_next (struct nbdkit_rust_context *context,
                       struct nbdkit_rust_next *next)
{
  (void) context; (void) next;
  only_filters ("context_set_next");
  return NULL;
}

const struct nbdkit_rust_host rust_host = {
  .abi_major = NBDKIT_RUST_ABI_MAJOR,
  .abi_minor = NBDKIT_RUST_ABI_MINOR,
  .struct_size = sizeof (struct nbdkit_rust_host),
  .nbdkit_version = NBDKIT_VERSION_STRING,
  .error = host_error,
  .debug = host_debug,
  .set_error = nbdkit_set_error,
  .export_name = nbdkit_export_name,
  .is_tls = nbdkit_is_tls,
  .peer_name = nbdkit_peer_name,
  .peer_pid = nbdkit_peer_pid,
  .peer_uid = nbdkit_peer_uid,
  .peer_gid = nbdkit_peer_gid,
  .shutdown = nbdkit_shutdown,
  .disconnect = host_disconnect,
  .parse_size = nbdkit_parse_size,
  .parse_bool = nbdkit_parse_bool,
  .parse_probability = host_parse_probability,
  .parse_int = nbdkit_parse_int,
  .parse_unsigned = nbdkit_parse_unsigned,
  .parse_int8_t = nbdkit_parse_int8_t,
  .parse_uint8_t = nbdkit_parse_uint8_t,
  .parse_int16_t = nbdkit_parse_int16_t,
  .parse_uint16_t = nbdkit_parse_uint16_t,
  .parse_int32_t = nbdkit_parse_int32_t,
  .parse_uint32_t = nbdkit_parse_uint32_t,
  .parse_int64_t = nbdkit_parse_int64_t,
  .parse_uint64_t = nbdkit_parse_uint64_t,
  .read_password = nbdkit_read_password,
  .realpath = nbdkit_realpath,
  .absolute_path = nbdkit_absolute_path,
  .nanosleep = nbdkit_nanosleep,
  .stdio_safe = nbdkit_stdio_safe,
  .add_extent = nbdkit_add_extent,
  .add_export = nbdkit_add_export,
  .use_default_export = nbdkit_use_default_export,
  .strdup_intern = nbdkit_strdup_intern,
  .strndup_intern = nbdkit_strndup_intern,
  .free = free,

  /* ABI 1.1: the filter services, stubs here (see above). */
  .next_prepare = stub_next_prepare,
  .next_finalize = stub_next_finalize,
  .next_get_size = stub_next_get_size,
  .next_export_description = stub_next_export_description,
  .next_block_size = stub_next_block_size,
  .next_can_write = stub_next_can_write,
  .next_can_flush = stub_next_can_flush,
  .next_is_rotational = stub_next_is_rotational,
  .next_can_trim = stub_next_can_trim,
  .next_can_zero = stub_next_can_zero,
  .next_can_fast_zero = stub_next_can_fast_zero,
  .next_can_extents = stub_next_can_extents,
  .next_can_fua = stub_next_can_fua,
  .next_can_multi_conn = stub_next_can_multi_conn,
  .next_can_cache = stub_next_can_cache,
  .next_pread = stub_next_pread,
  .next_pwrite = stub_next_pwrite,
  .next_flush = stub_next_flush,
  .next_trim = stub_next_trim,
  .next_zero = stub_next_zero,
  .next_extents = stub_next_extents,
  .next_cache = stub_next_cache,
  .next_config = stub_next_config,
  .next_config_complete = stub_next_config_complete,
  .next_preconnect = stub_next_preconnect,
  .next_list_exports = stub_next_list_exports,
  .next_default_export = stub_next_default_export,
  .next_open = stub_next_open,
  .extents_new = nbdkit_extents_new,
  .extents_free = nbdkit_extents_free,
  .extents_count = nbdkit_extents_count,
  .get_extent = host_get_extent,
  .extents_full = stub_extents_full,
  .exports_new = nbdkit_exports_new,
  .exports_free = nbdkit_exports_free,
  .exports_count = nbdkit_exports_count,
  .get_export = host_get_export,
  .context_get_backend = stub_context_get_backend,
  .next_context_open = stub_next_context_open,
  .next_context_close = stub_next_context_close,
  .context_set_next = stub_context_set_next,
};
