/* SPDX-License-Identifier: BSD-2-Clause */
/* nbdkit-rust tests: the reference C plugin for defaults.bats.
 *
 * A 1 MiB RAM disk in which every optional callback is compiled in
 * only when its HAVE_<CALLBACK> macro is defined, so that one source
 * gives one plugin per subset of callbacks (see CMakeLists.txt).  The
 * Rust plugins in tests/rust-plugins implement the same subsets with
 * the same answers; serving both and comparing what a client sees
 * shows that the loader answers for a missing Rust callback exactly as
 * nbdkit answers for a missing C callback.
 *
 * The answers are fixed and distinctive, so that a default can never
 * be mistaken for a real answer.  A can_* callback answers yes unless
 * its <CALLBACK>_ANSWER macro says otherwise.
 *
 * Every callback logs "TRACE <callback> <arguments>" with
 * nbdkit_debug, in the same words as the Rust plugins, so that the
 * tests can also compare which callbacks the plugin saw.
 */

#include <stdbool.h>
#include <stdint.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <pthread.h>

#define NBDKIT_API_VERSION 2
#include <nbdkit-plugin.h>

#ifndef SUBSET
#error "SUBSET must name the subset, e.g. -DSUBSET=\"full\""
#endif

#ifndef CAN_WRITE_ANSWER
#define CAN_WRITE_ANSWER 1
#endif
#ifndef CAN_FLUSH_ANSWER
#define CAN_FLUSH_ANSWER 1
#endif
#ifndef CAN_TRIM_ANSWER
#define CAN_TRIM_ANSWER 1
#endif
#ifndef CAN_ZERO_ANSWER
#define CAN_ZERO_ANSWER 1
#endif
#ifndef CAN_FAST_ZERO_ANSWER
#define CAN_FAST_ZERO_ANSWER 1
#endif
#ifndef CAN_EXTENTS_ANSWER
#define CAN_EXTENTS_ANSWER 1
#endif
#ifndef CAN_FUA_ANSWER
#define CAN_FUA_ANSWER NBDKIT_FUA_NATIVE
#endif
#ifndef CAN_CACHE_ANSWER
#define CAN_CACHE_ANSWER NBDKIT_CACHE_NATIVE
#endif

/* The thread model nbdkit uses when thread_model is missing must be
 * the loader's own (parallel), or the two sides could not agree.
 */
#define THREAD_MODEL NBDKIT_THREAD_MODEL_PARALLEL

/* nbdkit fixes the callbacks' signatures; many ignore the handle. */
#define UNUSED __attribute__ ((__unused__))

#define DEFAULT_SIZE (1024 * 1024)

/* The disk is shared by all connections and created on first open. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t *disk;
static uint64_t size = DEFAULT_SIZE;

/* The size given by the size= key, applied by config_complete.  (Not
 * every subset has those, hence the attribute.)
 */
static uint64_t pending_size __attribute__ ((__unused__));

/* The initial content: the same pattern as the Rust plugins. */
static uint8_t
pattern (uint64_t i)
{
  return (uint8_t) ((i % 251) + (i >> 12));
}

/* "may_trim,fua,..." for the trace, "none" when no flag is set.  (Not
 * every subset has a callback with flags, hence the attribute.)
 */
static __attribute__ ((__unused__)) const char *
flag_names (uint32_t flags)
{
  static __thread char buf[64];

  buf[0] = '\0';
  if (flags & NBDKIT_FLAG_MAY_TRIM)
    strcat (buf, ",may_trim");
  if (flags & NBDKIT_FLAG_FUA)
    strcat (buf, ",fua");
  if (flags & NBDKIT_FLAG_REQ_ONE)
    strcat (buf, ",req_one");
  if (flags & NBDKIT_FLAG_FAST_ZERO)
    strcat (buf, ",fast_zero");
  return buf[0] ? buf + 1 : "none";
}

#ifdef HAVE_LOAD
static void
subset_load (void)
{
  nbdkit_debug ("TRACE load");
}
#endif

#ifdef HAVE_UNLOAD
static void
subset_unload (void)
{
  nbdkit_debug ("TRACE unload");
}
#endif

#ifdef HAVE_CONFIG
/* size=BYTES changes the size of the disk, once config_complete has
 * accepted it.
 */
static int
subset_config (const char *key, const char *value)
{
  int64_t r;

  nbdkit_debug ("TRACE config %s=%s", key, value);
  if (strcmp (key, "size") != 0) {
    nbdkit_error ("unknown parameter '%s'", key);
    return -1;
  }
  r = nbdkit_parse_size (value);
  if (r == -1)
    return -1;
  pending_size = r;
  return 0;
}
#endif

#ifdef HAVE_CONFIG_COMPLETE
static int
subset_config_complete (void)
{
  nbdkit_debug ("TRACE config_complete");
  if (pending_size)
    size = pending_size;
  return 0;
}
#endif

#ifdef HAVE_DUMP_PLUGIN
static void
subset_dump_plugin (void)
{
  nbdkit_debug ("TRACE dump_plugin");
  printf ("subset_dump_plugin=%s\n", SUBSET);
  fflush (stdout);
}
#endif

#ifdef HAVE_THREAD_MODEL
static int
subset_thread_model (void)
{
  nbdkit_debug ("TRACE thread_model");
  return NBDKIT_THREAD_MODEL_SERIALIZE_REQUESTS;
}
#endif

#ifdef HAVE_GET_READY
static int
subset_get_ready (void)
{
  nbdkit_debug ("TRACE get_ready");
  return 0;
}
#endif

#ifdef HAVE_AFTER_FORK
static int
subset_after_fork (void)
{
  nbdkit_debug ("TRACE after_fork");
  return 0;
}
#endif

#ifdef HAVE_CLEANUP
static void
subset_cleanup (void)
{
  nbdkit_debug ("TRACE cleanup");
}
#endif

#ifdef HAVE_PRECONNECT
static int
subset_preconnect (int readonly)
{
  nbdkit_debug ("TRACE preconnect readonly=%d", readonly);
  return 0;
}
#endif

#ifdef HAVE_LIST_EXPORTS
static int
subset_list_exports (int readonly, int is_tls, struct nbdkit_exports *exports)
{
  nbdkit_debug ("TRACE list_exports readonly=%d is_tls=%d", readonly, is_tls);
  if (nbdkit_add_export (exports, "alpha", "the first export") == -1 ||
      nbdkit_add_export (exports, "beta", NULL) == -1)
    return -1;
  return 0;
}
#endif

#ifdef HAVE_DEFAULT_EXPORT
static const char *
subset_default_export (int readonly, int is_tls)
{
  nbdkit_debug ("TRACE default_export readonly=%d is_tls=%d",
                readonly, is_tls);
  return "alpha";
}
#endif

static void *
subset_open (int readonly)
{
  uint64_t i;

  nbdkit_debug ("TRACE open readonly=%d", readonly);
  pthread_mutex_lock (&lock);
  if (disk == NULL) {
    disk = malloc (size);
    if (disk == NULL) {
      pthread_mutex_unlock (&lock);
      nbdkit_error ("malloc: %m");
      return NULL;
    }
    for (i = 0; i < size; ++i)
      disk[i] = pattern (i);
  }
  pthread_mutex_unlock (&lock);
  return NBDKIT_HANDLE_NOT_NEEDED;
}

static int64_t
subset_get_size (void *handle UNUSED)
{
  nbdkit_debug ("TRACE get_size");
  return size;
}

#ifdef HAVE_EXPORT_DESCRIPTION
static const char *
subset_export_description (void *handle UNUSED)
{
  nbdkit_debug ("TRACE export_description");
  return "conformance RAM disk";
}
#endif

#ifdef HAVE_BLOCK_SIZE
static int
subset_block_size (void *handle UNUSED,
                   uint32_t *minimum, uint32_t *preferred, uint32_t *maximum)
{
  nbdkit_debug ("TRACE block_size");
  *minimum = 512;
  *preferred = 4096;
  *maximum = 1024 * 1024;
  return 0;
}
#endif

#ifdef HAVE_CAN_WRITE
static int
subset_can_write (void *handle UNUSED)
{
  nbdkit_debug ("TRACE can_write");
  return CAN_WRITE_ANSWER;
}
#endif

#ifdef HAVE_CAN_FLUSH
static int
subset_can_flush (void *handle UNUSED)
{
  nbdkit_debug ("TRACE can_flush");
  return CAN_FLUSH_ANSWER;
}
#endif

#ifdef HAVE_IS_ROTATIONAL
static int
subset_is_rotational (void *handle UNUSED)
{
  nbdkit_debug ("TRACE is_rotational");
  return 1;
}
#endif

#ifdef HAVE_CAN_TRIM
static int
subset_can_trim (void *handle UNUSED)
{
  nbdkit_debug ("TRACE can_trim");
  return CAN_TRIM_ANSWER;
}
#endif

#ifdef HAVE_CAN_ZERO
static int
subset_can_zero (void *handle UNUSED)
{
  nbdkit_debug ("TRACE can_zero");
  return CAN_ZERO_ANSWER;
}
#endif

#ifdef HAVE_CAN_FAST_ZERO
static int
subset_can_fast_zero (void *handle UNUSED)
{
  nbdkit_debug ("TRACE can_fast_zero");
  return CAN_FAST_ZERO_ANSWER;
}
#endif

#ifdef HAVE_CAN_FUA
static int
subset_can_fua (void *handle UNUSED)
{
  nbdkit_debug ("TRACE can_fua");
  return CAN_FUA_ANSWER;
}
#endif

#ifdef HAVE_CAN_MULTI_CONN
static int
subset_can_multi_conn (void *handle UNUSED)
{
  nbdkit_debug ("TRACE can_multi_conn");
  return 1;
}
#endif

#ifdef HAVE_CAN_EXTENTS
static int
subset_can_extents (void *handle UNUSED)
{
  nbdkit_debug ("TRACE can_extents");
  return CAN_EXTENTS_ANSWER;
}
#endif

#ifdef HAVE_CAN_CACHE
static int
subset_can_cache (void *handle UNUSED)
{
  nbdkit_debug ("TRACE can_cache");
  return CAN_CACHE_ANSWER;
}
#endif

static int
subset_pread (void *handle UNUSED, void *buf, uint32_t count, uint64_t offset,
              uint32_t flags UNUSED)
{
  nbdkit_debug ("TRACE pread count=%" PRIu32 " offset=%" PRIu64,
                count, offset);
  pthread_mutex_lock (&lock);
  memcpy (buf, disk + offset, count);
  pthread_mutex_unlock (&lock);
  return 0;
}

#ifdef HAVE_PWRITE
static int
subset_pwrite (void *handle UNUSED, const void *buf, uint32_t count,
               uint64_t offset, uint32_t flags)
{
  nbdkit_debug ("TRACE pwrite count=%" PRIu32 " offset=%" PRIu64 " flags=%s",
                count, offset, flag_names (flags));
  pthread_mutex_lock (&lock);
  memcpy (disk + offset, buf, count);
  pthread_mutex_unlock (&lock);
  return 0;
}
#endif

#ifdef HAVE_FLUSH
static int
subset_flush (void *handle UNUSED, uint32_t flags UNUSED)
{
  nbdkit_debug ("TRACE flush");
  return 0;
}
#endif

#if defined (HAVE_TRIM) || defined (HAVE_ZERO)
/* Trimmed and zeroed ranges both read back as zeroes. */
static void
clear (uint32_t count, uint64_t offset)
{
  pthread_mutex_lock (&lock);
  memset (disk + offset, 0, count);
  pthread_mutex_unlock (&lock);
}
#endif

#ifdef HAVE_TRIM
static int
subset_trim (void *handle UNUSED, uint32_t count, uint64_t offset,
             uint32_t flags)
{
  nbdkit_debug ("TRACE trim count=%" PRIu32 " offset=%" PRIu64 " flags=%s",
                count, offset, flag_names (flags));
  clear (count, offset);
  return 0;
}
#endif

#ifdef HAVE_ZERO
static int
subset_zero (void *handle UNUSED, uint32_t count, uint64_t offset,
             uint32_t flags)
{
  nbdkit_debug ("TRACE zero count=%" PRIu32 " offset=%" PRIu64 " flags=%s",
                count, offset, flag_names (flags));
  clear (count, offset);
  return 0;
}
#endif

#ifdef HAVE_EXTENTS
/* The first half of the disk is data, the second half a hole that
 * reads as zeroes, whatever was written.  With EXTENTS_EMPTY the
 * callback reports nothing at all, which nbdkit treats as an error.
 */
static int
subset_extents (void *handle UNUSED, uint32_t count, uint64_t offset,
                uint32_t flags, struct nbdkit_extents *extents UNUSED)
{
  nbdkit_debug ("TRACE extents count=%" PRIu32 " offset=%" PRIu64 " flags=%s",
                count, offset, flag_names (flags));
#ifndef EXTENTS_EMPTY
  uint64_t half = size / 2;

  if (offset < half &&
      nbdkit_add_extent (extents, offset, half - offset, 0) == -1)
    return -1;
  if (offset < half)
    offset = half;
  if (nbdkit_add_extent (extents, offset, size - offset,
                         NBDKIT_EXTENT_HOLE | NBDKIT_EXTENT_ZERO) == -1)
    return -1;
#endif
  return 0;
}
#endif

#ifdef HAVE_CACHE
static int
subset_cache (void *handle UNUSED, uint32_t count, uint64_t offset,
              uint32_t flags UNUSED)
{
  nbdkit_debug ("TRACE cache count=%" PRIu32 " offset=%" PRIu64,
                count, offset);
  return 0;
}
#endif

static struct nbdkit_plugin plugin = {
  .name               = "subset",
  .longname           = "conformance subset " SUBSET,
  .version            = "1.0",
#ifdef HAVE_LOAD
  .load               = subset_load,
#endif
#ifdef HAVE_UNLOAD
  .unload             = subset_unload,
#endif
#ifdef HAVE_CONFIG
  .config             = subset_config,
  .config_help        = "size=BYTES  Size of the disk (default 1M).",
#endif
#ifdef HAVE_CONFIG_COMPLETE
  .config_complete    = subset_config_complete,
#endif
#ifdef HAVE_DUMP_PLUGIN
  .dump_plugin        = subset_dump_plugin,
#endif
#ifdef HAVE_THREAD_MODEL
  .thread_model       = subset_thread_model,
#endif
#ifdef HAVE_GET_READY
  .get_ready          = subset_get_ready,
#endif
#ifdef HAVE_AFTER_FORK
  .after_fork         = subset_after_fork,
#endif
#ifdef HAVE_CLEANUP
  .cleanup            = subset_cleanup,
#endif
#ifdef HAVE_PRECONNECT
  .preconnect         = subset_preconnect,
#endif
#ifdef HAVE_LIST_EXPORTS
  .list_exports       = subset_list_exports,
#endif
#ifdef HAVE_DEFAULT_EXPORT
  .default_export     = subset_default_export,
#endif
  .open               = subset_open,
  .get_size           = subset_get_size,
#ifdef HAVE_EXPORT_DESCRIPTION
  .export_description = subset_export_description,
#endif
#ifdef HAVE_BLOCK_SIZE
  .block_size         = subset_block_size,
#endif
#ifdef HAVE_CAN_WRITE
  .can_write          = subset_can_write,
#endif
#ifdef HAVE_CAN_FLUSH
  .can_flush          = subset_can_flush,
#endif
#ifdef HAVE_IS_ROTATIONAL
  .is_rotational      = subset_is_rotational,
#endif
#ifdef HAVE_CAN_TRIM
  .can_trim           = subset_can_trim,
#endif
#ifdef HAVE_CAN_ZERO
  .can_zero           = subset_can_zero,
#endif
#ifdef HAVE_CAN_FAST_ZERO
  .can_fast_zero      = subset_can_fast_zero,
#endif
#ifdef HAVE_CAN_FUA
  .can_fua            = subset_can_fua,
#endif
#ifdef HAVE_CAN_MULTI_CONN
  .can_multi_conn     = subset_can_multi_conn,
#endif
#ifdef HAVE_CAN_EXTENTS
  .can_extents        = subset_can_extents,
#endif
#ifdef HAVE_CAN_CACHE
  .can_cache          = subset_can_cache,
#endif
  .pread              = subset_pread,
#ifdef HAVE_PWRITE
  .pwrite             = subset_pwrite,
#endif
#ifdef HAVE_FLUSH
  .flush              = subset_flush,
#endif
#ifdef HAVE_TRIM
  .trim               = subset_trim,
#endif
#ifdef HAVE_ZERO
  .zero               = subset_zero,
#endif
#ifdef HAVE_EXTENTS
  .extents            = subset_extents,
#endif
#ifdef HAVE_CACHE
  .cache              = subset_cache,
#endif
};

NBDKIT_REGISTER_PLUGIN (plugin)
