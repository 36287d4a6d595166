/* SPDX-License-Identifier: BSD-2-Clause */
/* nbdkit-rust tests: a valid Rust filter written in C against the ABI
 * header (nbdkit_rust_filter_v1).  It stands in for a Rust filter only
 * to test the filter loader: key routing, instances, pass-through and
 * the host table's filter services; nbdkit and the client are real.
 *
 * It adds ADD (add=N, default 0) to every byte read, and subtracts it
 * from every byte written, through host->next_pread / next_pwrite, so
 * that a client sees which filters a request went through.  Its keys:
 *   add=N        the byte to add
 *   id=NAME      a name for its log lines ("abifilter(NAME): ...")
 * It takes only the first add= and id= it is given and passes later
 * ones on: the same filter twice (nbdkit hands every key to the outer
 * instance first) then configures each instance with its own.
 *   fail=1       config fails
 *   thread_model=N  what its thread_model callback answers
 * Every other key is passed on with host->next_config; each key is
 * logged, with "taken" or "passed on".
 *
 * It reaches the layer below only through the host table: next_open,
 * next_get_size, next_can_write, next_pread, next_pwrite, next_flush,
 * next_zero, next_preconnect, next_default_export, next_config*, and
 * its extents and list_exports make lists of their own
 * (extents_full/get_extent, exports_new/get_export) and copy them.
 * The callbacks it leaves out (can_* but can_write, trim, cache,
 * export_description, block_size, prepare, finalize) are the loader's
 * pass-through.
 *
 * Variants (see CMakeLists.txt):
 *   PASSTHROUGH  only a name ("abipass"): every callback NULL
 *   LOAD_FAILS   load fails
 *   NEWER        a descriptor from a newer ABI minor version, with an
 *                extra (poisoned) callback the loader must not use
 */

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nbdkit-rust-abi.h"

#ifdef PASSTHROUGH
#define NAME "abipass"
#else
#define NAME "abifilter"
#endif

static const struct nbdkit_rust_host *host;

#ifndef PASSTHROUGH

static unsigned char add;
static char id[64] = "-";
static int add_given, id_given;
static int thread_model = -1;
static struct nbdkit_rust_backend *forked_backend;

/* Log through the host, as a Rust filter does. */
static void __attribute__ ((__format__ (__printf__, 1, 2)))
say (const char *fs, ...)
{
  char msg[512];
  int n;
  va_list args;

  n = snprintf (msg, sizeof msg, NAME "(%s): ", id);
  va_start (args, fs);
  vsnprintf (msg + n, sizeof msg - n, fs, args);
  va_end (args);
  host->debug (msg);
}

static int
good_load (void)
{
  say ("load called");
#ifdef LOAD_FAILS
  host->error (NAME ": load fails (as designed)");
  return -1;
#else
  return 0;
#endif
}

static void
good_unload (void)
{
  say ("unload called");
}

static int
good_config (struct nbdkit_rust_next_call *next,
             const char *key, const char *value)
{
  if (strcmp (key, "add") == 0 && !add_given) {
    int n;

    if (host->parse_int ("add", value, &n) == -1)
      return -1;
    add = n;
    add_given = 1;
  }
  else if (strcmp (key, "id") == 0 && !id_given) {
    snprintf (id, sizeof id, "%s", value);
    id_given = 1;
  }
  else if (strcmp (key, "thread_model") == 0)
    thread_model = atoi (value);
  else if (strcmp (key, "fail") == 0) {
    host->error (NAME ": config failed as asked");
    return -1;
  }
  else {
    say ("config %s=%s passed on", key, value);
    return host->next_config (next, key, value);
  }
  say ("config %s=%s taken", key, value);
  return 0;
}

static int
good_config_complete (struct nbdkit_rust_next_call *next)
{
  say ("config_complete called, add=%u", add);
  return host->next_config_complete (next);
}

static int
good_thread_model (void)
{
  return thread_model;
}

static int
good_get_ready (int model)
{
  say ("get_ready called, thread model %d", model);
  return 0;
}

static int
good_after_fork (struct nbdkit_rust_backend *backend)
{
  forked_backend = backend;
  say ("after_fork called");
  return 0;
}

static void
good_cleanup (struct nbdkit_rust_backend *backend)
{
  say ("cleanup called, %s backend", backend == forked_backend ?
       "the same" : "ANOTHER");
}

static int
good_preconnect (struct nbdkit_rust_next_call *next, int readonly)
{
  say ("preconnect called");
  return host->next_preconnect (next, readonly);
}

/* The list below, each export's description marked with our id. */
static int
good_list_exports (struct nbdkit_rust_next_call *next, int readonly,
                   int is_tls, struct nbdkit_exports *exports)
{
  struct nbdkit_exports *mine = host->exports_new ();
  const char *name, *desc;
  char buf[256];
  size_t i;
  int r = -1;

  (void) is_tls;
  if (mine == NULL)
    return -1;
  if (host->next_list_exports (next, readonly, mine) == -1)
    goto out;
  for (i = 0; i < host->exports_count (mine); i++) {
    if (host->get_export (mine, i, &name, &desc) == -1)
      goto out;
    snprintf (buf, sizeof buf, "%s via %s", desc ? desc : "", id);
    if (host->add_export (exports, name, buf) == -1)
      goto out;
  }
  /* One past the end is refused, not an assertion failure. */
  r = host->get_export (mine, i, &name, &desc) == -1 ? 0 : -1;
 out:
  host->exports_free (mine);
  return r;
}

static const char *
good_default_export (struct nbdkit_rust_next_call *next, int readonly,
                     int is_tls)
{
  (void) is_tls;
  return host->next_default_export (next, readonly);
}

struct handle {
  int opened;
};

static void *
good_open (struct nbdkit_rust_next_call *next,
           struct nbdkit_rust_context *context, int readonly,
           const char *exportname, int is_tls)
{
  struct handle *h;

  (void) is_tls;
  if (host->context_get_backend (context) != forked_backend)
    say ("open: context_get_backend differs from after_fork's backend");
  if (host->next_open (next, context, readonly, exportname) == -1)
    return NULL;
  h = malloc (sizeof *h);
  if (h == NULL) {
    host->error ("malloc failed");
    return NULL;
  }
  h->opened = 1;
  say ("open called");
  return h;
}

static void
good_close (void *handle)
{
  say ("close called");
  free (handle);
}

static int64_t
good_get_size (struct nbdkit_rust_next *next, void *handle)
{
  (void) handle;
  return host->next_get_size (next);
}

static int
good_can_write (struct nbdkit_rust_next *next, void *handle)
{
  (void) handle;
  return host->next_can_write (next);
}

static int
good_pread (struct nbdkit_rust_next *next, void *handle, void *buf,
            uint32_t count, uint64_t offset, uint32_t flags, int *err)
{
  unsigned char *p = buf;
  uint32_t i;

  (void) handle;
  if (host->next_pread (next, buf, count, offset, flags, err) == -1)
    return -1;
  for (i = 0; i < count; i++)
    p[i] += add;
  return 0;
}

static int
good_pwrite (struct nbdkit_rust_next *next, void *handle, const void *buf,
             uint32_t count, uint64_t offset, uint32_t flags, int *err)
{
  const unsigned char *p = buf;
  unsigned char *copy;
  uint32_t i;
  int r;

  (void) handle;
  copy = malloc (count);
  if (copy == NULL) {
    *err = ENOMEM;
    return -1;
  }
  for (i = 0; i < count; i++)
    copy[i] = p[i] - add;
  r = host->next_pwrite (next, copy, count, offset, flags, err);
  free (copy);
  return r;
}

static int
good_flush (struct nbdkit_rust_next *next, void *handle, uint32_t flags,
            int *err)
{
  (void) handle;
  return host->next_flush (next, flags, err);
}

static int
good_zero (struct nbdkit_rust_next *next, void *handle, uint32_t count,
           uint64_t offset, uint32_t flags, int *err)
{
  (void) handle;
  return host->next_zero (next, count, offset, flags, err);
}

/* The layer below's extents, through a list of our own. */
static int
good_extents (struct nbdkit_rust_next *next, void *handle, uint32_t count,
              uint64_t offset, uint32_t flags,
              struct nbdkit_extents *extents, int *err)
{
  struct nbdkit_extents *mine;
  uint64_t o, l;
  uint32_t t;
  size_t i;

  (void) handle;
  mine = host->extents_full (next, count, offset, flags, err);
  if (mine == NULL)
    return -1;
  for (i = 0; host->get_extent (mine, i, &o, &l, &t) == 0; i++)
    if (host->add_extent (extents, o, l, t) == -1) {
      *err = errno;
      host->extents_free (mine);
      return -1;
    }
  if (i != host->extents_count (mine)) {
    host->error (NAME ": get_extent stopped early");
    *err = EIO;
    host->extents_free (mine);
    return -1;
  }
  host->extents_free (mine);
  return 0;
}

#endif /* !PASSTHROUGH */

#ifdef NEWER
/* Never called: a loader of ABI 1.1 does not know the field. */
static void
poisoned (void)
{
  abort ();
}
#endif

static struct {
  struct nbdkit_rust_filter v1_1;
#ifdef NEWER
  void (*from_the_future) (void);
#endif
} descriptor = {
  .v1_1 = {
    .abi_major = NBDKIT_RUST_ABI_MAJOR,
#ifdef NEWER
    .abi_minor = 7,
    .struct_size = sizeof (struct nbdkit_rust_filter) + sizeof (void *),
#else
    .abi_minor = NBDKIT_RUST_ABI_MINOR,
    .struct_size = sizeof (struct nbdkit_rust_filter),
#endif
    .name = NAME,
    .sdk_version = "0.0.0-abi-test",
    .max_thread_model = 3,
#ifndef PASSTHROUGH
    .version = "1.2.3",
    .longname = "ABI test filter",
    .description = "Adds to every byte read.\nA test stand-in for a Rust "
                   "filter.",
    .config_help = "add=N  Add N to every byte read (default 0).",
    .load = good_load,
    .unload = good_unload,
    .config = good_config,
    .config_complete = good_config_complete,
    .thread_model = good_thread_model,
    .get_ready = good_get_ready,
    .after_fork = good_after_fork,
    .cleanup = good_cleanup,
    .preconnect = good_preconnect,
    .list_exports = good_list_exports,
    .default_export = good_default_export,
    .open = good_open,
    .close = good_close,
    .get_size = good_get_size,
    .can_write = good_can_write,
    .pread = good_pread,
    .pwrite = good_pwrite,
    .flush = good_flush,
    .zero = good_zero,
    .extents = good_extents,
#endif
  },
#ifdef NEWER
  .from_the_future = poisoned,
#endif
};

__attribute__ ((__visibility__ ("default")))
const struct nbdkit_rust_filter *
nbdkit_rust_filter_v1 (const struct nbdkit_rust_host *h)
{
  /* A filter needs the ABI 1.1 services. */
  if (h->struct_size < NBDKIT_RUST_HOST_V1_1_MIN_SIZE) {
    h->error (NAME ": the host table is too old for a filter");
    return NULL;
  }
  host = h;
#ifndef PASSTHROUGH
  /* The thread_model key, when not given, leaves max_thread_model. */
  thread_model = descriptor.v1_1.max_thread_model;
#endif
  return &descriptor.v1_1;
}
