/* nbdkit-rust: validating the descriptor a Rust plugin hands back.
 *
 * Pure functions of the descriptor's bytes, apart from the messages:
 * load.c calls them with what nbdkit_rust_plugin_v1 returned, and the
 * fuzzers in fuzz/ with arbitrary descriptors.  Every refusal is an
 * nbdkit_error naming the file (as the user gave it) and the reason.
 */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "rust-loader.h"

/* Copy the plugin's descriptor into the loader's own, zeroed struct.
 * Fields the plugin's (older) struct lacks then read as NULL; fields
 * of a newer plugin beyond our struct are never looked at.
 */
static int
copy_descriptor (const char *path, const struct nbdkit_rust_plugin *d,
                 struct nbdkit_rust_plugin *copy)
{
  size_t size = sizeof *copy;

  if (d->abi_major != NBDKIT_RUST_ABI_MAJOR) {
    nbdkit_error ("%s: the plugin uses ABI %" PRIu32 ".%" PRIu32 ", but this "
                  "loader (version %s) only knows ABI major version %d: "
                  "rebuild the plugin against a matching nbdkit crate",
                  path, d->abi_major, d->abi_minor, LOADER_VERSION,
                  NBDKIT_RUST_ABI_MAJOR);
    return -1;
  }
  if (d->struct_size < NBDKIT_RUST_PLUGIN_V1_MIN_SIZE) {
    nbdkit_error ("%s: the plugin's descriptor is too small (struct_size "
                  "%" PRIu64 ", ABI 1 needs at least %zu): the plugin is "
                  "broken or was not built with the nbdkit crate",
                  path, d->struct_size, NBDKIT_RUST_PLUGIN_V1_MIN_SIZE);
    return -1;
  }

  if (d->struct_size > size)
    nbdkit_debug ("%s: the plugin was built for ABI %" PRIu32 ".%" PRIu32
                  ", newer than this loader's %d.%d: its newer callbacks "
                  "(%" PRIu64 " extra bytes, ABI minor %" PRIu32 ") are unused",
                  path, d->abi_major, d->abi_minor,
                  NBDKIT_RUST_ABI_MAJOR, NBDKIT_RUST_ABI_MINOR,
                  d->struct_size - size, d->abi_minor);
  else
    size = d->struct_size;

  memset (copy, 0, sizeof *copy);
  memcpy (copy, d, size);
  return 0;
}

/* The name appears in messages and --dump-plugin output, so hold it
 * to the header's rule: [A-Za-z0-9_]+.
 */
static int
valid_name (const char *name)
{
  size_t i;

  for (i = 0; name[i] != '\0'; i++) {
    char c = name[i];

    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
          (c >= '0' && c <= '9') || c == '_'))
      return 0;
  }
  return 1;
}

/* The longest invalid name a message shows, in bytes of the name. */
#define SHOWN_NAME_MAX 64

/* An invalid name as messages show it: it may hold any byte, and a
 * control character would break, or forge, a line of nbdkit's log (the
 * descriptor fuzzer found that).  Bytes other than printable ASCII are
 * shown as \xNN, a backslash as \\, and a long name is cut short.
 */
static const char *
shown_name (const char *name, char buf[SHOWN_NAME_MAX * 4 + 4])
{
  size_t i, n = 0;

  for (i = 0; name[i] != '\0' && i < SHOWN_NAME_MAX; i++) {
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

/* The checks nbdkit makes on a C plugin's struct, plus the ABI's own. */
static int
validate (const char *path, const struct nbdkit_rust_plugin *p)
{
  if (p->name == NULL || p->name[0] == '\0') {
    nbdkit_error ("%s: the plugin has no name", path);
    return -1;
  }
  if (!valid_name (p->name)) {
    char buf[SHOWN_NAME_MAX * 4 + 4];

    nbdkit_error ("%s: the plugin's name \"%s\" is invalid: it must be "
                  "ASCII letters, digits and underscores", path,
                  shown_name (p->name, buf));
    return -1;
  }
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
  if (p->max_thread_model < NBDKIT_THREAD_MODEL_SERIALIZE_CONNECTIONS ||
      p->max_thread_model > NBDKIT_THREAD_MODEL_PARALLEL) {
    nbdkit_error ("%s: plugin %s has an invalid max_thread_model %" PRId32
                  " (it must be 0 to 3)", path, p->name, p->max_thread_model);
    return -1;
  }
  return 0;
}

/* Copy the descriptor D of the plugin at PATH into COPY (the loader's
 * own, zero-extended struct) and check it.  Returns 0, or -1 after an
 * error.
 */
int
rust_descriptor_accept (const char *path, const struct nbdkit_rust_plugin *d,
                        struct nbdkit_rust_plugin *copy)
{
  if (copy_descriptor (path, d, copy) == -1 || validate (path, copy) == -1)
    return -1;
  return 0;
}
