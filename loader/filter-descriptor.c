/* SPDX-License-Identifier: BSD-2-Clause */
/* nbdkit-rust: validating the descriptor a Rust filter hands back.
 *
 * The same rules and messages as a plugin's (descriptor.c), for
 * struct nbdkit_rust_filter: every refusal is an nbdkit_error naming
 * the file (as the user gave it) and the reason.  Only the name is
 * required: nbdkit asks nothing else of a C filter, and a NULL
 * callback passes the call through (filter-callbacks.c).
 */

#include "filter.h"

/* The name is the only required field (see above). */
static int
validate (const char *path, const struct nbdkit_rust_filter *f)
{
  if (rust_descriptor_check_name (path, "filter", f->name) == -1)
    return -1;
  return rust_descriptor_check_thread_model (path, "filter", f->name,
                                             f->max_thread_model);
}

/* Copy the descriptor D of the filter at PATH into FILTER and check
 * it.  Returns 0, or -1 after an error.
 */
int
rust_filter_descriptor_accept (const char *path,
                               const struct nbdkit_rust_filter *d,
                               struct nbdkit_rust_filter *filter)
{
  if (rust_descriptor_copy (path, "filter", "1.1",
                            NBDKIT_RUST_FILTER_V1_MIN_SIZE,
                            d->abi_major, d->abi_minor, d->struct_size,
                            d, filter, sizeof *filter) == -1 ||
      validate (path, filter) == -1)
    return -1;
  return 0;
}

/* The callbacks F registers, for --dump-plugin (rust_filter_callbacks=)
 * and the log: its non-NULL callback fields in the header's order,
 * comma-separated.  Returns BUF.
 */
const char *
rust_filter_descriptor_callbacks (const struct nbdkit_rust_filter *f,
                                  char buf[RUST_CALLBACKS_MAX])
{
  const struct rust_callback_set callbacks[] = {
    { "load", f->load },
    { "unload", f->unload },
    { "config", f->config },
    { "config_complete", f->config_complete },
    { "thread_model", f->thread_model },
    { "get_ready", f->get_ready },
    { "after_fork", f->after_fork },
    { "cleanup", f->cleanup },
    { "preconnect", f->preconnect },
    { "list_exports", f->list_exports },
    { "default_export", f->default_export },
    { "open", f->open },
    { "close", f->close },
    { "prepare", f->prepare },
    { "finalize", f->finalize },
    { "get_size", f->get_size },
    { "export_description", f->export_description },
    { "block_size", f->block_size },
    { "can_write", f->can_write },
    { "can_flush", f->can_flush },
    { "is_rotational", f->is_rotational },
    { "can_trim", f->can_trim },
    { "can_zero", f->can_zero },
    { "can_fast_zero", f->can_fast_zero },
    { "can_extents", f->can_extents },
    { "can_fua", f->can_fua },
    { "can_multi_conn", f->can_multi_conn },
    { "can_cache", f->can_cache },
    { "pread", f->pread },
    { "pwrite", f->pwrite },
    { "flush", f->flush },
    { "trim", f->trim },
    { "zero", f->zero },
    { "extents", f->extents },
    { "cache", f->cache },
  };

  return rust_callbacks_line (callbacks, sizeof callbacks / sizeof callbacks[0],
                              buf);
}
