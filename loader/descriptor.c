/* SPDX-License-Identifier: BSD-2-Clause */
/* nbdkit-rust: validating the descriptor a Rust plugin hands back.
 *
 * Pure functions of the descriptor's bytes, apart from the messages:
 * load.c calls them with what nbdkit_rust_plugin_v1 returned, and the
 * fuzzers in fuzz/ with arbitrary descriptors.  Every refusal is an
 * nbdkit_error naming the file (as the user gave it) and the reason.
 */

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "rust-loader.h"

/* Copy the descriptor D of the KIND ("plugin" or "filter") at PATH,
 * whose header holds ABI_MAJOR, ABI_MINOR and STRUCT_SIZE, into OUT,
 * the loader's own struct of OUT_SIZE bytes, zero-extended: fields the
 * (older) descriptor lacks then read as NULL; fields of a newer one
 * beyond our struct are never looked at.  MIN_SIZE is the smallest
 * struct ABI MIN_ABI allows.  Returns 0, or -1 after an error.
 */
int
rust_descriptor_copy (const char *path, const char *kind,
                      const char *min_abi, size_t min_size,
                      uint32_t abi_major, uint32_t abi_minor,
                      uint64_t struct_size,
                      const void *d, void *out, size_t out_size)
{
  size_t size = out_size;

  if (abi_major != NBDKIT_RUST_ABI_MAJOR) {
    nbdkit_error ("%s: the %s uses ABI %" PRIu32 ".%" PRIu32 ", but this "
                  "loader (version %s) only knows ABI major version %d: "
                  "rebuild the %s against a matching nbdkit crate",
                  path, kind, abi_major, abi_minor, LOADER_VERSION,
                  NBDKIT_RUST_ABI_MAJOR, kind);
    return -1;
  }
  if (struct_size < min_size) {
    nbdkit_error ("%s: the %s's descriptor is too small (struct_size "
                  "%" PRIu64 ", ABI %s needs at least %zu): the %s is "
                  "broken or was not built with the nbdkit crate",
                  path, kind, struct_size, min_abi, min_size, kind);
    return -1;
  }

  if (struct_size > size)
    nbdkit_debug ("%s: the %s was built for ABI %" PRIu32 ".%" PRIu32
                  ", newer than this loader's %d.%d: its newer callbacks "
                  "(%" PRIu64 " extra bytes, ABI minor %" PRIu32 ") are unused",
                  path, kind, abi_major, abi_minor,
                  NBDKIT_RUST_ABI_MAJOR, NBDKIT_RUST_ABI_MINOR,
                  struct_size - size, abi_minor);
  else
    size = struct_size;

  memset (out, 0, out_size);
  memcpy (out, d, size);
  return 0;
}

static bool
is_alnum (char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
    (c >= '0' && c <= '9');
}

/* The name appears in messages and --dump-plugin output, so hold it
 * to the header's rule, [A-Za-z0-9][A-Za-z0-9_]*: loaded directly,
 * nbdkit gets it with each '_' made a '-', and refuses a name that does
 * not start with a letter or digit.
 */
bool
rust_valid_name (const char *name)
{
  size_t i;

  if (!is_alnum (name[0]))
    return false;
  for (i = 1; name[i] != '\0'; i++)
    if (!is_alnum (name[i]) && name[i] != '_')
      return false;
  return true;
}

/* An invalid name as messages show it: it may hold any byte, and a
 * control character would break, or forge, a line of nbdkit's log (the
 * descriptor fuzzer found that).  Bytes other than printable ASCII are
 * shown as \xNN, a backslash as \\, and a long name is cut short
 * (RUST_SHOWN_NAME_MAX bytes).
 */
const char *
rust_shown_name (const char *name, char buf[RUST_SHOWN_NAME_BUF])
{
  size_t i, n = 0;

  for (i = 0; name[i] != '\0' && i < RUST_SHOWN_NAME_MAX; i++) {
    unsigned char c = name[i];

    if (c == '\\') {
      buf[n++] = '\\';
      buf[n++] = '\\';
    }
    else if (c < 0x20 || c >= 0x7f)
      n += sprintf (&buf[n], "\\x%02x", c);
    else
      buf[n++] = c;
  }
  if (name[i] != '\0')
    n += sprintf (&buf[n], "...");
  buf[n] = '\0';
  return buf;
}

/* Check the NAME of the KIND ("plugin" or "filter") at PATH: present,
 * and valid (rust_valid_name).  Returns 0, or -1 after an error.
 */
int
rust_descriptor_check_name (const char *path, const char *kind,
                            const char *name)
{
  if (name == NULL || name[0] == '\0') {
    nbdkit_error ("%s: the %s has no name", path, kind);
    return -1;
  }
  if (!rust_valid_name (name)) {
    char buf[RUST_SHOWN_NAME_BUF];

    nbdkit_error ("%s: the %s's name \"%s\" is invalid: it must be "
                  "ASCII letters, digits and underscores, and start with "
                  "a letter or a digit", path, kind,
                  rust_shown_name (name, buf));
    return -1;
  }
  return 0;
}

/* Check the max_thread_model MODEL of the KIND NAME at PATH.  Returns
 * 0, or -1 after an error.
 */
int
rust_descriptor_check_thread_model (const char *path, const char *kind,
                                    const char *name, int32_t model)
{
  if (model < NBDKIT_THREAD_MODEL_SERIALIZE_CONNECTIONS ||
      model > NBDKIT_THREAD_MODEL_PARALLEL) {
    nbdkit_error ("%s: %s %s has an invalid max_thread_model %" PRId32
                  " (it must be 0 to 3)", path, kind, name, model);
    return -1;
  }
  return 0;
}

/* The checks nbdkit makes on a C plugin's struct, plus the ABI's own. */
static int
validate (const char *path, const struct nbdkit_rust_plugin *p)
{
  if (rust_descriptor_check_name (path, "plugin", p->name) == -1)
    return -1;
  if (p->open == NULL) {
    nbdkit_error ("%s: plugin %s must have an open callback", path, p->name);
    return -1;
  }
  if (p->get_size == NULL) {
    nbdkit_error ("%s: plugin %s must have a get_size callback",
                  path, p->name);
    return -1;
  }
  if (p->pread == NULL) {
    nbdkit_error ("%s: plugin %s must have a pread callback", path, p->name);
    return -1;
  }
  return rust_descriptor_check_thread_model (path, "plugin", p->name,
                                             p->max_thread_model);
}

/* Copy the descriptor D of the plugin at PATH into PLUGIN (the
 * loader's own, zero-extended struct) and check it.  Returns 0, or -1
 * after an error.
 */
int
rust_descriptor_accept (const char *path, const struct nbdkit_rust_plugin *d,
                        struct nbdkit_rust_plugin *plugin)
{
  if (rust_descriptor_copy (path, "plugin", "1",
                            NBDKIT_RUST_PLUGIN_V1_MIN_SIZE,
                            d->abi_major, d->abi_minor, d->struct_size,
                            d, plugin, sizeof *plugin) == -1 ||
      validate (path, plugin) == -1)
    return -1;
  return 0;
}

/* The names of the N CALLBACKS that are set, in order, comma-separated
 * in BUF.  Returns BUF.
 */
const char *
rust_callbacks_line (const struct rust_callback_set *callbacks, size_t n,
                     char buf[RUST_CALLBACKS_MAX])
{
  size_t i, len = 0;

  buf[0] = '\0';
  for (i = 0; i < n; i++)
    if (callbacks[i].set)
      len += snprintf (&buf[len], RUST_CALLBACKS_MAX - len, "%s%s",
                       len ? "," : "", callbacks[i].name);
  return buf;
}

/* The callbacks P registers, for --dump-plugin (rust_plugin_callbacks=)
 * and the log: the names of its non-NULL callback fields in the
 * header's order, comma-separated.  load_checked and dump_plugin_checked
 * are not named: each counts as its ABI 1.0 twin, which is what the
 * plugin's author registered.  The Rust SDK prints the same line when
 * nbdkit loads the plugin directly.  Returns BUF.
 */
const char *
rust_descriptor_callbacks (const struct nbdkit_rust_plugin *p,
                           char buf[RUST_CALLBACKS_MAX])
{
  const struct rust_callback_set callbacks[] = {
    { "load", p->load || p->load_checked },
    { "unload", p->unload },
    { "config", p->config },
    { "config_complete", p->config_complete },
    { "dump_plugin", p->dump_plugin || p->dump_plugin_checked },
    { "thread_model", p->thread_model },
    { "get_ready", p->get_ready },
    { "after_fork", p->after_fork },
    { "cleanup", p->cleanup },
    { "preconnect", p->preconnect },
    { "list_exports", p->list_exports },
    { "default_export", p->default_export },
    { "open", p->open },
    { "close", p->close },
    { "get_size", p->get_size },
    { "export_description", p->export_description },
    { "block_size", p->block_size },
    { "can_write", p->can_write },
    { "can_flush", p->can_flush },
    { "is_rotational", p->is_rotational },
    { "can_trim", p->can_trim },
    { "can_zero", p->can_zero },
    { "can_fast_zero", p->can_fast_zero },
    { "can_fua", p->can_fua },
    { "can_multi_conn", p->can_multi_conn },
    { "can_extents", p->can_extents },
    { "can_cache", p->can_cache },
    { "pread", p->pread },
    { "pwrite", p->pwrite },
    { "flush", p->flush },
    { "trim", p->trim },
    { "zero", p->zero },
    { "extents", p->extents },
    { "cache", p->cache },
  };

  return rust_callbacks_line (callbacks, sizeof callbacks / sizeof callbacks[0],
                              buf);
}
