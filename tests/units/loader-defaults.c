/* SPDX-License-Identifier: BSD-2-Clause */
/* nbdkit-rust: the loader's answers for callbacks a plugin leaves out,
 * printed as the table in abi/nbdkit-defaults.tsv.
 *
 * The loader (loader/callbacks.c) and nbdkit::testing's harness (in
 * rust-sdk) each answer for a missing callback as nbdkit answers for a
 * C plugin without it.  Both are checked against that one table, so
 * that neither can drift from the other: this program builds the
 * loader's callbacks with stand-ins for nbdkit and the rest of the
 * loader, gives them a descriptor for each of the 64 combinations of
 * the data callbacks the answers depend on, and prints what they say;
 * ctest (loader-defaults-table) diffs the output with the table.
 * tests/defaults.bats checks the loader against nbdkit itself.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rust-loader.h"

/* The errno the last callback set with nbdkit_set_error, or 0. */
static int last_error;

/* Stand-ins for nbdkit. */

void
nbdkit_set_error (int err)
{
  last_error = err;
}

void
nbdkit_error (const char *fs, ...)
{
  (void) fs;
}

int
nbdkit_use_default_export (struct nbdkit_exports *exports)
{
  (void) exports;
  return 0;
}

/* Stand-ins for the rest of the loader: only the per-connection
 * callbacks, which read the handle's build, are exercised.
 */

const char rust_config_help[] = "";
void rust_host_init (void) { }
void rust_builds_unload (void) { }
void rust_reload_free (void) { }
void rust_config_free (void) { }
int rust_config (const char *k, const char *v) { (void) k; (void) v; return 0; }
int rust_config_load (void) { return 0; }
int rust_config_complete (void) { return 0; }
void rust_dump_plugin (void) { }
struct rust_build *rust_builds_current (void) { return NULL; }
struct rust_build *rust_connection_build (void) { return NULL; }
int rust_build_thread_model (const struct rust_build *b) { (void) b; return 3; }
void rust_reload_fix_thread_model (int model) { (void) model; }
void rust_builds_cleanup (void) { }

/* The plugin's data callbacks, when present: they only succeed. */

static int
pwrite_ok (void *h, const void *b, uint32_t c, uint64_t o, uint32_t f)
{
  (void) h; (void) b; (void) c; (void) o; (void) f;
  return 0;
}

static int
flush_ok (void *h, uint32_t f)
{
  (void) h; (void) f;
  return 0;
}

static int
range_ok (void *h, uint32_t c, uint64_t o, uint32_t f)
{
  (void) h; (void) c; (void) o; (void) f;
  return 0;
}

static int
extents_ok (void *h, uint32_t c, uint64_t o, uint32_t f,
            struct nbdkit_extents *e)
{
  (void) h; (void) c; (void) o; (void) f; (void) e;
  return 0;
}

/* What a request left out of the descriptor gets: "call" when the
 * plugin has the callback (it is called), else "ok" or the errno.
 */
static const char *
outcome (int present, int r)
{
  if (present)
    return "call";
  if (r == 0)
    return "ok";
  switch (last_error) {
  case EROFS: return "EROFS";
  case EINVAL: return "EINVAL";
  case EOPNOTSUPP: return "EOPNOTSUPP";
  default: return "other";
  }
}

extern struct nbdkit_plugin *plugin_init (void);

int
main (void)
{
  const struct nbdkit_plugin *p = plugin_init ();
  unsigned combo;

  printf ("pwrite\tflush\ttrim\tzero\textents\tcache\t"
          "can_write\tcan_flush\tis_rotational\tcan_trim\tcan_zero\t"
          "can_fast_zero\tcan_fua\tcan_multi_conn\tcan_extents\t"
          "can_cache\tblock_size\t"
          "do_pwrite\tdo_flush\tdo_trim\tdo_zero\tdo_extents\tdo_cache\n");
  for (combo = 0; combo < 64; combo++) {
    struct rust_build build;
    struct rust_handle handle = { &build, NULL };
    struct nbdkit_rust_plugin *d = &build.plugin;
    uint32_t min = 1, pref = 1, max = 1;
    char buf[1] = { 0 };

    memset (&build, 0, sizeof build);
    if (combo & 1) d->pwrite = pwrite_ok;
    if (combo & 2) d->flush = flush_ok;
    if (combo & 4) d->trim = range_ok;
    if (combo & 8) d->zero = range_ok;
    if (combo & 16) d->extents = extents_ok;
    if (combo & 32) d->cache = range_ok;

    printf ("%d\t%d\t%d\t%d\t%d\t%d\t",
            !!(combo & 1), !!(combo & 2), !!(combo & 4), !!(combo & 8),
            !!(combo & 16), !!(combo & 32));
    printf ("%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t",
            p->can_write (&handle), p->can_flush (&handle),
            p->is_rotational (&handle), p->can_trim (&handle),
            p->can_zero (&handle), p->can_fast_zero (&handle),
            p->can_fua (&handle), p->can_multi_conn (&handle),
            p->can_extents (&handle), p->can_cache (&handle));
    if (p->block_size (&handle, &min, &pref, &max) == -1)
      printf ("error\t");
    else
      printf ("%u/%u/%u\t", min, pref, max);

    last_error = 0;
    printf ("%s\t", outcome (!!d->pwrite,
                             p->pwrite (&handle, buf, 1, 0, 0)));
    last_error = 0;
    printf ("%s\t", outcome (!!d->flush, p->flush (&handle, 0)));
    last_error = 0;
    printf ("%s\t", outcome (!!d->trim, p->trim (&handle, 1, 0, 0)));
    last_error = 0;
    printf ("%s\t", outcome (!!d->zero, p->zero (&handle, 1, 0, 0)));
    last_error = 0;
    printf ("%s\t", outcome (!!d->extents,
                             p->extents (&handle, 1, 0, 0, NULL)));
    last_error = 0;
    printf ("%s\n", outcome (!!d->cache, p->cache (&handle, 1, 0, 0)));
  }
  return 0;
}
