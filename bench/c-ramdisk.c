/* SPDX-License-Identifier: BSD-2-Clause */
/* nbdkit-rust benchmarks: the C RAM disk every other server is
 * measured against.
 *
 *   nbdkit ./c-ramdisk.so size=256M
 *
 * One flat buffer of size= bytes, shared by every connection, with no
 * lock: a request is a bounds check and a memcpy or memset.  That keeps
 * the plugin's own work as small as it can be, so that what the
 * benchmark sees between this plugin and its Rust twin
 * (bench/rust-ramdisk, the same logic callback for callback) is the
 * loader and the SDK glue, not the plugin.
 *
 * Concurrent requests on overlapping ranges race: NBD leaves their
 * order undefined, and the bytes have no invariant to break.  The
 * memory is calloc'd, so pages the client never wrote cost nothing
 * until touched; bench/run writes the whole disk before measuring.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NBDKIT_API_VERSION 2
#include <nbdkit-plugin.h>

#define THREAD_MODEL NBDKIT_THREAD_MODEL_PARALLEL

#define UNUSED __attribute__ ((__unused__))

static uint8_t *disk;
static uint64_t size;

static void
ramdisk_unload (void)
{
  free (disk);
}

static int
ramdisk_config (const char *key, const char *value)
{
  int64_t r;

  if (strcmp (key, "size") != 0) {
    nbdkit_error ("c-ramdisk: unknown parameter '%s' (try size=SIZE)", key);
    return -1;
  }
  r = nbdkit_parse_size (value);
  if (r == -1)
    return -1;
  size = r;
  return 0;
}

static int
ramdisk_config_complete (void)
{
  if (size == 0) {
    nbdkit_error ("c-ramdisk: size=SIZE is required");
    return -1;
  }
  disk = calloc (1, size);
  if (disk == NULL) {
    nbdkit_error ("calloc: %m");
    return -1;
  }
  return 0;
}

static void *
ramdisk_open (int readonly UNUSED)
{
  return NBDKIT_HANDLE_NOT_NEEDED;
}

static int64_t
ramdisk_get_size (void *handle UNUSED)
{
  return size;
}

static int
ramdisk_can_multi_conn (void *handle UNUSED)
{
  /* One disk for all connections, and nothing is cached. */
  return 1;
}

static int
ramdisk_can_fua (void *handle UNUSED)
{
  /* A write is as durable as RAM gets once it returns. */
  return NBDKIT_FUA_NATIVE;
}

/* nbdkit checks every request against the size already; the plugin
 * checks again, as the Rust twin does, so both do the same work.
 */
static int
check (uint32_t count, uint64_t offset)
{
  if (offset > size || count > size - offset) {
    nbdkit_error ("c-ramdisk: request beyond the end of the disk "
                  "(offset %" PRIu64 ")", offset);
    nbdkit_set_error (EINVAL);
    return -1;
  }
  return 0;
}

static int
ramdisk_pread (void *handle UNUSED, void *buf, uint32_t count,
               uint64_t offset, uint32_t flags UNUSED)
{
  if (check (count, offset) == -1)
    return -1;
  memcpy (buf, disk + offset, count);
  return 0;
}

static int
ramdisk_pwrite (void *handle UNUSED, const void *buf, uint32_t count,
                uint64_t offset, uint32_t flags UNUSED)
{
  if (check (count, offset) == -1)
    return -1;
  memcpy (disk + offset, buf, count);
  return 0;
}

static int
ramdisk_flush (void *handle UNUSED, uint32_t flags UNUSED)
{
  return 0;
}

static int
ramdisk_trim (void *handle UNUSED, uint32_t count, uint64_t offset,
              uint32_t flags UNUSED)
{
  if (check (count, offset) == -1)
    return -1;
  memset (disk + offset, 0, count);
  return 0;
}

static int
ramdisk_zero (void *handle UNUSED, uint32_t count, uint64_t offset,
              uint32_t flags UNUSED)
{
  if (check (count, offset) == -1)
    return -1;
  memset (disk + offset, 0, count);
  return 0;
}

static struct nbdkit_plugin plugin = {
  .name              = "c-ramdisk",
  .longname          = "nbdkit-rust benchmark C RAM disk",
  .version           = "1.0",
  .magic_config_key  = "size",
  .unload            = ramdisk_unload,
  .config            = ramdisk_config,
  .config_complete   = ramdisk_config_complete,
  .open              = ramdisk_open,
  .get_size          = ramdisk_get_size,
  .can_multi_conn    = ramdisk_can_multi_conn,
  .can_fua           = ramdisk_can_fua,
  .pread             = ramdisk_pread,
  .pwrite            = ramdisk_pwrite,
  .flush             = ramdisk_flush,
  .trim              = ramdisk_trim,
  .zero              = ramdisk_zero,
  .errno_is_preserved = 0,
};

NBDKIT_REGISTER_PLUGIN (plugin)
