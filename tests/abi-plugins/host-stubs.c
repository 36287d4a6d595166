/* SPDX-License-Identifier: BSD-2-Clause */
/* nbdkit-rust tests: a plugin that calls the host table's filter
 * services, which a plugin's table (nbdkit-rust-plugin.so) fills with
 * stubs that fail, and its extents and exports lists, which are
 * nbdkit's own.  It serves 1M of zeroes; --dump-plugin prints what
 * each call returned, as abistubs_* lines.
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "nbdkit-rust-abi.h"

static const struct nbdkit_rust_host *host;

static void
stubs_dump_plugin (void)
{
  const char *const *p;
  unsigned nulls = 0;
  struct nbdkit_extents *extents;
  struct nbdkit_exports *exports;
  uint64_t offset, length;
  uint32_t type;
  const char *name, *desc;
  char buf[16];
  int err = 0, r;

  /* Every pointer after nbdkit_version, up to struct_size. */
  for (p = (const char *const *) &host->nbdkit_version + 1;
       (const char *) (p + 1) <= (const char *) host + host->struct_size;
       p++)
    if (*p == NULL)
      nulls++;
  printf ("abistubs_host_struct_size=%llu\n",
          (unsigned long long) host->struct_size);
  printf ("abistubs_null_pointers=%u\n", nulls);

  r = host->next_pread (NULL, buf, sizeof buf, 0, 0, &err);
  printf ("abistubs_next_pread=%d err=%d\n", r, err);
  printf ("abistubs_next_get_size=%lld\n",
          (long long) host->next_get_size (NULL));
  printf ("abistubs_next_config=%d\n", host->next_config (NULL, "a", "b"));
  printf ("abistubs_next_open=%d\n", host->next_open (NULL, NULL, 0, ""));
  printf ("abistubs_context_get_backend=%s\n",
          host->context_get_backend (NULL) ? "non-NULL" : "NULL");
  err = 0;
  extents = host->extents_full (NULL, 512, 0, 0, &err);
  printf ("abistubs_extents_full=%s err=%d\n",
          extents ? "non-NULL" : "NULL", err);

  extents = host->extents_new (0, 1024 * 1024);
  host->add_extent (extents, 0, 4096, 3);
  host->add_extent (extents, 4096, 4096, 0);
  printf ("abistubs_extents_count=%zu\n", host->extents_count (extents));
  host->get_extent (extents, 1, &offset, &length, &type);
  printf ("abistubs_extent_1=%llu,%llu,%u\n", (unsigned long long) offset,
          (unsigned long long) length, (unsigned) type);
  printf ("abistubs_extent_2=%d\n",
          host->get_extent (extents, 2, &offset, &length, &type));
  host->extents_free (extents);

  exports = host->exports_new ();
  host->add_export (exports, "a", NULL);
  host->add_export (exports, "b", "bee");
  printf ("abistubs_exports_count=%zu\n", host->exports_count (exports));
  host->get_export (exports, 1, &name, &desc);
  printf ("abistubs_export_1=%s,%s\n", name, desc ? desc : "(null)");
  host->get_export (exports, 0, &name, &desc);
  printf ("abistubs_export_0=%s,%s\n", name, desc ? desc : "(null)");
  printf ("abistubs_export_2=%d\n",
          host->get_export (exports, 2, &name, &desc));
  host->exports_free (exports);
}

static void *
stubs_open (int readonly)
{
  (void) readonly;
  return (void *) 1;
}

static int64_t
stubs_get_size (void *handle)
{
  (void) handle;
  return 1024 * 1024;
}

static int
stubs_pread (void *handle, void *buf, uint32_t count, uint64_t offset,
             uint32_t flags)
{
  (void) handle; (void) offset; (void) flags;
  memset (buf, 0, count);
  return 0;
}

static struct nbdkit_rust_plugin descriptor = {
  .abi_major = NBDKIT_RUST_ABI_MAJOR,
  .abi_minor = NBDKIT_RUST_ABI_MINOR,
  .struct_size = sizeof (struct nbdkit_rust_plugin),
  .name = "abistubs",
  .sdk_version = "0.0.0-abi-test",
  .max_thread_model = 3,
  .dump_plugin = stubs_dump_plugin,
  .open = stubs_open,
  .get_size = stubs_get_size,
  .pread = stubs_pread,
};

__attribute__ ((__visibility__ ("default")))
const struct nbdkit_rust_plugin *
nbdkit_rust_plugin_v1 (const struct nbdkit_rust_host *h)
{
  host = h;
  return &descriptor;
}
