/* SPDX-License-Identifier: BSD-2-Clause */
/* nbdkit-rust: every nbdkit callback, forwarded to the Rust plugin.
 *
 * The loader registers every callback nbdkit 1.32 has, so nbdkit never
 * sees one missing.  When the Rust plugin leaves one out (NULL), the
 * loader answers exactly as nbdkit answers for a C plugin without it
 * (server/plugins.c and server/backend.c in nbdkit 1.32); each such
 * case says so.  nbdkit still does its own work on top: normalising
 * can_* answers, validating block sizes, emulating FUA, zero and cache,
 * and mapping the error set with nbdkit_set_error to the client.
 *
 * The request path (pread .. cache) is a pointer load and an indirect
 * call: no locks, no atomics, no allocation, and nothing that touches
 * the error the plugin set.
 */

#include <errno.h>
#include <stdlib.h>

#include "rust-loader.h"

/* The build a connection uses, and the plugin's descriptor in it. */
#define BUILD(h) (((struct rust_handle *) (h))->build)
#define PLUGIN(h) (&BUILD (h)->plugin)
#define HANDLE(h) (((struct rust_handle *) (h))->handle)

/* Lifecycle. */

static void
rust_load (void)
{
  rust_host_init ();
}

static void
rust_unload (void)
{
  rust_builds_unload ();
  rust_reload_free ();
  rust_config_free ();
}

/* The plugin may choose a stricter model than max_thread_model after
 * configuration, never a looser one; nbdkit then clamps the answer to
 * the loader's own THREAD_MODEL (parallel).  Without a plugin (only
 * reachable with --dump-plugin) the loader's model stands.  nbdkit
 * asks once, and a reloaded build must live with the answer.
 */
static int
rust_thread_model (void)
{
  struct rust_build *build;
  int model;

  /* With --dump-plugin, nbdkit asks before dump_plugin and never
   * calls config_complete: the plugin is loaded here then.
   */
  if (rust_config_load () == -1)
    return -1;
  build = rust_builds_current ();
  if (build == NULL)
    return NBDKIT_THREAD_MODEL_PARALLEL;
  model = rust_build_thread_model (build);
  if (model != -1)
    rust_reload_fix_thread_model (model);
  return model;
}

static int
rust_get_ready (void)
{
  struct rust_build *build = rust_builds_current ();

  /* Mirrors nbdkit: without get_ready, success. */
  if (build == NULL || build->plugin.get_ready == NULL)
    return 0;
  return build->plugin.get_ready ();
}

static int
rust_after_fork (void)
{
  struct rust_build *build = rust_builds_current ();

  /* Mirrors nbdkit: without after_fork, success. */
  if (build == NULL || build->plugin.after_fork == NULL)
    return 0;
  return build->plugin.after_fork ();
}

static void
rust_cleanup (void)
{
  rust_builds_cleanup ();
}

/* Before a connection.  These, and open, use the build the connection
 * started with (rust_connection_build): with rust-reload, the first of
 * them to run on a new connection is where a new build is loaded.
 */

static int
rust_preconnect (int readonly)
{
  struct rust_build *build = rust_connection_build ();

  if (build == NULL)
    return -1;
  /* Mirrors nbdkit: without preconnect, every connection may go on. */
  if (build->plugin.preconnect == NULL)
    return 0;
  return build->plugin.preconnect (readonly);
}

static int
rust_list_exports (int readonly, int is_tls, struct nbdkit_exports *exports)
{
  struct rust_build *build = rust_connection_build ();

  if (build == NULL)
    return -1;
  /* Mirrors nbdkit: without list_exports, only the default export. */
  if (build->plugin.list_exports == NULL)
    return nbdkit_use_default_export (exports);
  return build->plugin.list_exports (readonly, is_tls, exports);
}

static const char *
rust_default_export (int readonly, int is_tls)
{
  struct rust_build *build = rust_connection_build ();

  if (build == NULL)
    return NULL;
  /* Mirrors nbdkit: without default_export, the default export is "". */
  if (build->plugin.default_export == NULL)
    return "";
  return build->plugin.default_export (readonly, is_tls);
}

/* A connection. */

static void *
rust_open (int readonly)
{
  struct rust_handle *h;

  h = malloc (sizeof *h);
  if (h == NULL) {
    nbdkit_error ("malloc: %m");
    return NULL;
  }
  h->build = rust_connection_build ();
  if (h->build == NULL) {
    free (h);
    return NULL;
  }
  h->handle = h->build->plugin.open (readonly);
  if (h->handle == NULL) {
    free (h);
    return NULL;
  }
  return h;
}

static void
rust_close (void *handle)
{
  /* Mirrors nbdkit: without close, the handle is simply dropped. */
  if (PLUGIN (handle)->close)
    PLUGIN (handle)->close (HANDLE (handle));
  free (handle);
}

static int64_t
rust_get_size (void *handle)
{
  return PLUGIN (handle)->get_size (HANDLE (handle));
}

static const char *
rust_export_description (void *handle)
{
  /* Mirrors nbdkit: without export_description, no description. */
  if (PLUGIN (handle)->export_description == NULL)
    return NULL;
  return PLUGIN (handle)->export_description (HANDLE (handle));
}

static int
rust_block_size (void *handle,
                 uint32_t *minimum, uint32_t *preferred, uint32_t *maximum)
{
  /* Mirrors nbdkit: without block_size, all three are 0, "no
   * constraints", and nbdkit sends no block size information.
   */
  if (PLUGIN (handle)->block_size == NULL) {
    *minimum = *preferred = *maximum = 0;
    return 0;
  }
  return PLUGIN (handle)->block_size (HANDLE (handle),
                                      minimum, preferred, maximum);
}

static int
rust_can_write (void *handle)
{
  /* Mirrors nbdkit: without can_write, writable iff pwrite exists. */
  if (PLUGIN (handle)->can_write == NULL)
    return PLUGIN (handle)->pwrite != NULL;
  return PLUGIN (handle)->can_write (HANDLE (handle));
}

static int
rust_can_flush (void *handle)
{
  /* Mirrors nbdkit: without can_flush, true iff flush exists. */
  if (PLUGIN (handle)->can_flush == NULL)
    return PLUGIN (handle)->flush != NULL;
  return PLUGIN (handle)->can_flush (HANDLE (handle));
}

static int
rust_is_rotational (void *handle)
{
  /* Mirrors nbdkit: without is_rotational, false. */
  if (PLUGIN (handle)->is_rotational == NULL)
    return 0;
  return PLUGIN (handle)->is_rotational (HANDLE (handle));
}

static int
rust_can_trim (void *handle)
{
  /* Mirrors nbdkit: without can_trim, true iff trim exists. */
  if (PLUGIN (handle)->can_trim == NULL)
    return PLUGIN (handle)->trim != NULL;
  return PLUGIN (handle)->can_trim (HANDLE (handle));
}

/* nbdkit turns this bool into "native" (call zero) or "emulate" (write
 * zeroes with pwrite), for the loader as for any C plugin.
 */
static int
rust_can_zero (void *handle)
{
  /* Mirrors nbdkit: without can_zero, native iff zero exists. */
  if (PLUGIN (handle)->can_zero == NULL)
    return PLUGIN (handle)->zero != NULL;
  return PLUGIN (handle)->can_zero (HANDLE (handle));
}

static int
rust_can_fast_zero (void *handle)
{
  /* Mirrors nbdkit: without can_fast_zero, true if zero is missing
   * (nbdkit then fails every fast zero at once instead of emulating).
   * Otherwise nbdkit answers !backend_can_zero(), but it only asks
   * once backend_can_zero() said "emulate" or "native", both non-zero,
   * so the answer is always false (even when the plugin's can_zero
   * said no, whatever nbdkit-plugin(3) suggests).
   */
  if (PLUGIN (handle)->can_fast_zero == NULL)
    return PLUGIN (handle)->zero == NULL;
  return PLUGIN (handle)->can_fast_zero (HANDLE (handle));
}

static int
rust_can_fua (void *handle)
{
  /* Mirrors nbdkit: without can_fua, "emulate" (a flush after each
   * write) if flush exists, even if can_flush says no; else "none".
   */
  if (PLUGIN (handle)->can_fua == NULL)
    return PLUGIN (handle)->flush ? NBDKIT_FUA_EMULATE : NBDKIT_FUA_NONE;
  return PLUGIN (handle)->can_fua (HANDLE (handle));
}

static int
rust_can_multi_conn (void *handle)
{
  /* Mirrors nbdkit: without can_multi_conn, false. */
  if (PLUGIN (handle)->can_multi_conn == NULL)
    return 0;
  return PLUGIN (handle)->can_multi_conn (HANDLE (handle));
}

static int
rust_can_extents (void *handle)
{
  /* Mirrors nbdkit: without can_extents, true iff extents exists. */
  if (PLUGIN (handle)->can_extents == NULL)
    return PLUGIN (handle)->extents != NULL;
  return PLUGIN (handle)->can_extents (HANDLE (handle));
}

static int
rust_can_cache (void *handle)
{
  /* Mirrors nbdkit: without can_cache, "native" if cache exists, else
   * "none".
   */
  if (PLUGIN (handle)->can_cache == NULL)
    return PLUGIN (handle)->cache ? NBDKIT_CACHE_NATIVE : NBDKIT_CACHE_NONE;
  return PLUGIN (handle)->can_cache (HANDLE (handle));
}

/* Data path.  A plugin may say yes in a can_* callback and still leave
 * the callback itself out; these are nbdkit's answers to that.
 */

static int
rust_pread (void *handle, void *buf, uint32_t count, uint64_t offset,
            uint32_t flags)
{
  return PLUGIN (handle)->pread (HANDLE (handle), buf, count, offset, flags);
}

static int
rust_pwrite (void *handle, const void *buf, uint32_t count, uint64_t offset,
             uint32_t flags)
{
  /* Mirrors nbdkit: a write without pwrite fails with EROFS. */
  if (PLUGIN (handle)->pwrite == NULL) {
    nbdkit_set_error (EROFS);
    return -1;
  }
  return PLUGIN (handle)->pwrite (HANDLE (handle), buf, count, offset, flags);
}

static int
rust_flush (void *handle, uint32_t flags)
{
  /* Mirrors nbdkit: a flush without flush fails with EINVAL. */
  if (PLUGIN (handle)->flush == NULL) {
    nbdkit_set_error (EINVAL);
    return -1;
  }
  return PLUGIN (handle)->flush (HANDLE (handle), flags);
}

static int
rust_trim (void *handle, uint32_t count, uint64_t offset, uint32_t flags)
{
  /* Mirrors nbdkit: a trim without trim fails with EINVAL. */
  if (PLUGIN (handle)->trim == NULL) {
    nbdkit_set_error (EINVAL);
    return -1;
  }
  return PLUGIN (handle)->trim (HANDLE (handle), count, offset, flags);
}

static int
rust_zero (void *handle, uint32_t count, uint64_t offset, uint32_t flags)
{
  /* Mirrors nbdkit: a zero without zero fails with EOPNOTSUPP, on
   * which nbdkit writes zeroes with pwrite instead, or fails a fast
   * zero.
   */
  if (PLUGIN (handle)->zero == NULL) {
    nbdkit_set_error (EOPNOTSUPP);
    return -1;
  }
  return PLUGIN (handle)->zero (HANDLE (handle), count, offset, flags);
}

static int
rust_extents (void *handle, uint32_t count, uint64_t offset, uint32_t flags,
              struct nbdkit_extents *extents)
{
  /* Mirrors nbdkit: block status without extents fails with EINVAL. */
  if (PLUGIN (handle)->extents == NULL) {
    nbdkit_set_error (EINVAL);
    return -1;
  }
  return PLUGIN (handle)->extents (HANDLE (handle), count, offset, flags,
                                   extents);
}

static int
rust_cache (void *handle, uint32_t count, uint64_t offset, uint32_t flags)
{
  /* Mirrors nbdkit: a cache request without cache succeeds, doing
   * nothing.
   */
  if (PLUGIN (handle)->cache == NULL)
    return 0;
  return PLUGIN (handle)->cache (HANDLE (handle), count, offset, flags);
}

static struct nbdkit_plugin plugin = {
  .name               = "rust",
  .longname           = "nbdkit Rust plugin loader",
  .version            = LOADER_VERSION,
  .description        = "Serves a plugin written in Rust with the nbdkit "
                        "crate, given as rust=PATH.",
  .load               = rust_load,
  .unload             = rust_unload,
  .config             = rust_config,
  .config_complete    = rust_config_complete,
  .config_help        = rust_config_help,
  .magic_config_key   = "rust",
  .dump_plugin        = rust_dump_plugin,
  .thread_model       = rust_thread_model,
  .get_ready          = rust_get_ready,
  .after_fork         = rust_after_fork,
  .cleanup            = rust_cleanup,
  .preconnect         = rust_preconnect,
  .list_exports       = rust_list_exports,
  .default_export     = rust_default_export,
  .open               = rust_open,
  .close              = rust_close,
  .get_size           = rust_get_size,
  .export_description = rust_export_description,
  .block_size         = rust_block_size,
  .can_write          = rust_can_write,
  .can_flush          = rust_can_flush,
  .is_rotational      = rust_is_rotational,
  .can_trim           = rust_can_trim,
  .can_zero           = rust_can_zero,
  .can_fast_zero      = rust_can_fast_zero,
  .can_fua            = rust_can_fua,
  .can_multi_conn     = rust_can_multi_conn,
  .can_extents        = rust_can_extents,
  .can_cache          = rust_can_cache,
  .pread              = rust_pread,
  .pwrite             = rust_pwrite,
  .flush              = rust_flush,
  .trim               = rust_trim,
  .zero               = rust_zero,
  .extents            = rust_extents,
  .cache              = rust_cache,
  .errno_is_preserved = 0,
};

NBDKIT_REGISTER_PLUGIN (plugin)
