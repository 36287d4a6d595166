/* nbdkit-rust: the table of nbdkit services handed to Rust plugins.
 *
 * A Rust plugin imports no nbdkit_* symbol; it calls nbdkit only
 * through this table.  Where an nbdkit function has exactly the type
 * the ABI wants, the table points at it directly (the compiler checks
 * the types, and there is no extra call).  The rest are small wrappers.
 */

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>

#include "rust-loader.h"

/* Functions newer than the nbdkit we build against (1.32), looked up in
 * the running nbdkit by rust_host_init.
 */
static void (*nbdkit_disconnect_fn) (int force);
static int (*nbdkit_parse_probability_fn) (const char *what, const char *str,
                                           double *r);

/* Called once from the loader's load callback, before any plugin is
 * loaded and before nbdkit starts any thread.
 */
void
rust_host_init (void)
{
  nbdkit_disconnect_fn =
    (void (*) (int)) dlsym (RTLD_DEFAULT, "nbdkit_disconnect");
  nbdkit_parse_probability_fn =
    (int (*) (const char *, const char *, double *))
    dlsym (RTLD_DEFAULT, "nbdkit_parse_probability");
}

/* The ABI passes plain text: never let it be read as a format. */
static void
host_error (const char *msg)
{
  nbdkit_error ("%s", msg);
}

static void
host_debug (const char *msg)
{
  nbdkit_debug ("%s", msg);
}

static int
host_disconnect (int force)
{
  if (nbdkit_disconnect_fn == NULL) {
    nbdkit_error ("disconnect: this nbdkit (%s) has no nbdkit_disconnect "
                  "(it appeared in nbdkit 1.34)", NBDKIT_VERSION_STRING);
    nbdkit_set_error (ENOTSUP);
    errno = ENOTSUP;
    return -1;
  }
  nbdkit_disconnect_fn (force);
  return 0;
}

static int
host_parse_probability (const char *what, const char *str, double *r)
{
  if (nbdkit_parse_probability_fn)
    return nbdkit_parse_probability_fn (what, str, r);
  return rust_parse_probability (what, str, r);
}

const struct nbdkit_rust_host rust_host = {
  .abi_major = NBDKIT_RUST_ABI_MAJOR,
  .abi_minor = NBDKIT_RUST_ABI_MINOR,
  .struct_size = sizeof (struct nbdkit_rust_host),
  .nbdkit_version = NBDKIT_VERSION_STRING,
  .error = host_error,
  .debug = host_debug,
  .set_error = nbdkit_set_error,
  .export_name = nbdkit_export_name,
  .is_tls = nbdkit_is_tls,
  .peer_name = nbdkit_peer_name,
  .peer_pid = nbdkit_peer_pid,
  .peer_uid = nbdkit_peer_uid,
  .peer_gid = nbdkit_peer_gid,
  .shutdown = nbdkit_shutdown,
  .disconnect = host_disconnect,
  .parse_size = nbdkit_parse_size,
  .parse_bool = nbdkit_parse_bool,
  .parse_probability = host_parse_probability,
  .parse_int = nbdkit_parse_int,
  .parse_unsigned = nbdkit_parse_unsigned,
  .parse_int8_t = nbdkit_parse_int8_t,
  .parse_uint8_t = nbdkit_parse_uint8_t,
  .parse_int16_t = nbdkit_parse_int16_t,
  .parse_uint16_t = nbdkit_parse_uint16_t,
  .parse_int32_t = nbdkit_parse_int32_t,
  .parse_uint32_t = nbdkit_parse_uint32_t,
  .parse_int64_t = nbdkit_parse_int64_t,
  .parse_uint64_t = nbdkit_parse_uint64_t,
  .read_password = nbdkit_read_password,
  .realpath = nbdkit_realpath,
  .absolute_path = nbdkit_absolute_path,
  .nanosleep = nbdkit_nanosleep,
  .stdio_safe = nbdkit_stdio_safe,
  .add_extent = nbdkit_add_extent,
  .add_export = nbdkit_add_export,
  .use_default_export = nbdkit_use_default_export,
  .strdup_intern = nbdkit_strdup_intern,
  .strndup_intern = nbdkit_strndup_intern,
  .free = free,
};
