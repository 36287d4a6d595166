/* SPDX-License-Identifier: BSD-2-Clause */
/* nbdkit-rust tests: a minimal, valid plugin written in C against the
 * ABI header.  It stands in for a Rust plugin only to test the loader's
 * loading, configuration and --dump-plugin handling; nbdkit is real.
 *
 * It serves SIZE bytes of zeroes (size=SIZE, default 1M; also its
 * magic key), records every key it is given, and prints them with
 * --dump-plugin so that the tests can check their order.
 *
 * Variants (see CMakeLists.txt):
 *   NO_MAGIC_KEY  no magic_config_key
 *   NO_CONFIG     no config callback at all
 *   NEWER         a descriptor from a newer ABI minor version, with
 *                 extra (poisoned) callbacks the loader must not use
 *   CHECKED       ABI 1.1's load_checked and dump_plugin_checked too
 *                 (with their ABI 1.0 twins, as the header asks), and
 *   LOAD_FAILS    load_checked fails
 *   DUMP_FAILS    dump_plugin_checked fails, after printing its fields
 *
 * Each config call is logged ("abigood: config KEY=VALUE"), and
 * password=VALUE is read with host->read_password (password=- reads
 * it from stdin), so that a test sees how often the plugin was
 * configured.
 *
 * ABI_TEST_MAX_THREAD_MODEL (environment, 0..3) sets max_thread_model;
 * the thread_model=N key sets what the thread_model callback answers.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nbdkit-rust-abi.h"

#define MAX_KEYS 32

static const struct nbdkit_rust_host *host;

static int64_t size = 1024 * 1024;
static int thread_model = -1;
static double probability = -1;
static char *keys[MAX_KEYS];
static size_t nr_keys;

static void
good_load (void)
{
  host->debug ("abigood: load called");
}

#ifdef CHECKED
static int
good_load_checked (void)
{
  host->debug ("abigood: load_checked called");
#ifdef LOAD_FAILS
  host->error ("abigood: load fails (as designed)");
  return -1;
#else
  return 0;
#endif
}
#endif

static void
good_unload (void)
{
  size_t i;

  for (i = 0; i < nr_keys; i++)
    free (keys[i]);
  host->debug ("abigood: unload called");
}

#ifndef NO_CONFIG
static void
log_config (const char *kv)
{
  char *msg = malloc (strlen (kv) + sizeof "abigood: config ");

  if (msg) {
    sprintf (msg, "abigood: config %s", kv);
    host->debug (msg);
    free (msg);
  }
}

static int
good_config (const char *key, const char *value)
{
  char *kv;

  if (nr_keys == MAX_KEYS) {
    host->error ("abigood: too many keys");
    return -1;
  }
  kv = malloc (strlen (key) + strlen (value) + 2);
  if (kv == NULL) {
    host->error ("abigood: out of memory");
    return -1;
  }
  sprintf (kv, "%s=%s", key, value);
  keys[nr_keys++] = kv;
  log_config (kv);

  if (strcmp (key, "password") == 0) {
    char *password;

    if (host->read_password (value, &password) == -1)
      return -1;
    host->debug ("abigood: read a password");
    host->free (password);
    return 0;
  }

  if (strcmp (key, "size") == 0) {
    size = host->parse_size (value);
    return size == -1 ? -1 : 0;
  }
  if (strcmp (key, "probability") == 0)
    return host->parse_probability ("probability", value, &probability);
  if (strcmp (key, "thread_model") == 0)
    return host->parse_int ("thread_model", value, &thread_model);
  if (strcmp (key, "fail") == 0) {
    host->error ("abigood: config failed as asked (fail=...)");
    return -1;
  }
  return 0;
}
#endif

static int
good_config_complete (void)
{
  host->debug ("abigood: config_complete called");
  return 0;
}

static void
good_dump_plugin (void)
{
  size_t i;

  for (i = 0; i < nr_keys; i++)
    printf ("abigood_config=%s\n", keys[i]);
  if (probability >= 0)
    printf ("abigood_probability=%g\n", probability);
  printf ("abigood_host_abi=%u.%u\n",
          (unsigned) host->abi_major, (unsigned) host->abi_minor);
  printf ("abigood_nbdkit_version=%s\n", host->nbdkit_version);
  fflush (stdout);
}

#ifdef CHECKED
static int
good_dump_plugin_checked (void)
{
  printf ("abigood_dump=checked\n");
  good_dump_plugin ();
#ifdef DUMP_FAILS
  host->error ("abigood: dump_plugin fails (as designed)");
  return -1;
#else
  return 0;
#endif
}
#endif

static int
good_thread_model (void)
{
  return thread_model == -1 ? 3 : thread_model;
}

/* A real handle, so that a missing close shows up as a leak. */
static void *
good_open (int readonly)
{
  void *h = malloc (1);

  (void) readonly;
  if (h == NULL)
    host->error ("abigood: out of memory");
  return h;
}

static void
good_close (void *handle)
{
  free (handle);
}

static int64_t
good_get_size (void *handle)
{
  (void) handle;
  return size;
}

static int
good_pread (void *handle, void *buf, uint32_t count, uint64_t offset,
            uint32_t flags)
{
  (void) handle; (void) offset; (void) flags;
  memset (buf, 0, count);
  return 0;
}

/* A descriptor as a newer nbdkit crate would make it: the same struct
 * with callbacks appended.  They point nowhere, so using one crashes.
 */
struct newer_plugin {
  struct nbdkit_rust_plugin v1_0;
  void (*future[4]) (void);
};

static struct newer_plugin descriptor = {
  .v1_0 = {
    .abi_major = NBDKIT_RUST_ABI_MAJOR,
#ifdef NEWER
    .abi_minor = 7,
    .struct_size = sizeof (struct newer_plugin),
#else
    .abi_minor = NBDKIT_RUST_ABI_MINOR,
    .struct_size = sizeof (struct nbdkit_rust_plugin),
#endif
    .name = "abigood",
    .longname = "ABI test plugin",
    .version = "1.2.3",
    .description = "Serves zeroes.\nA test stand-in for a Rust plugin.",
    .config_help = "size=SIZE  Size of the disk (default 1M).",
#ifndef NO_MAGIC_KEY
    .magic_config_key = "size",
#endif
    .sdk_version = "0.0.0-abi-test",
    .max_thread_model = 3,
    .load = good_load,
    .unload = good_unload,
#ifndef NO_CONFIG
    .config = good_config,
#endif
    .config_complete = good_config_complete,
    .dump_plugin = good_dump_plugin,
    .thread_model = good_thread_model,
    .open = good_open,
    .close = good_close,
    .get_size = good_get_size,
    .pread = good_pread,
#ifdef CHECKED
    .load_checked = good_load_checked,
    .dump_plugin_checked = good_dump_plugin_checked,
#endif
  },
  .future = {
    (void (*) (void)) 8, (void (*) (void)) 8,
    (void (*) (void)) 8, (void (*) (void)) 8,
  },
};

__attribute__ ((__visibility__ ("default")))
const struct nbdkit_rust_plugin *
nbdkit_rust_plugin_v1 (const struct nbdkit_rust_host *h)
{
  const char *model = getenv ("ABI_TEST_MAX_THREAD_MODEL");

  host = h;
  if (model)
    descriptor.v1_0.max_thread_model = atoi (model);
  return &descriptor.v1_0;
}
