/* SPDX-License-Identifier: BSD-2-Clause */
/* nbdkit-rust tests: broken plugins the loader must refuse.
 *
 * Each is a valid descriptor with exactly one defect, chosen by one
 * macro (see CMakeLists.txt):
 *   INIT_NULL         nbdkit_rust_plugin_v1 returns NULL
 *   MAJOR_2           abi_major is 2
 *   SMALL_STRUCT      struct_size is below NBDKIT_RUST_PLUGIN_V1_MIN_SIZE
 *   NAME_NULL         no name
 *   NAME_EMPTY        name ""
 *   NAME_INVALID      name with a character outside [A-Za-z0-9_]
 *   NAME_UNDERSCORE   name starting with '_' (nbdkit wants a letter
 *                     or digit first)
 *   OPEN_NULL         no open
 *   GET_SIZE_NULL     no get_size
 *   PREAD_NULL        no pread
 *   BAD_THREAD_MODEL  max_thread_model 7
 */

#include <stdint.h>
#include <string.h>

#include "nbdkit-rust-abi.h"

/* The required callbacks (each left out by one variant, hence the
 * attribute).
 */
static __attribute__ ((__unused__)) void *
bad_open (int readonly)
{
  (void) readonly;
  return (void *) 1;
}

static __attribute__ ((__unused__)) int64_t
bad_get_size (void *handle)
{
  (void) handle;
  return 1024 * 1024;
}

static __attribute__ ((__unused__)) int
bad_pread (void *handle, void *buf, uint32_t count, uint64_t offset,
           uint32_t flags)
{
  (void) handle; (void) offset; (void) flags;
  memset (buf, 0, count);
  return 0;
}

static struct nbdkit_rust_plugin descriptor = {
#ifdef MAJOR_2
  .abi_major = 2,
  .abi_minor = 0,
#else
  .abi_major = NBDKIT_RUST_ABI_MAJOR,
  .abi_minor = NBDKIT_RUST_ABI_MINOR,
#endif
#ifdef SMALL_STRUCT
  .struct_size = NBDKIT_RUST_PLUGIN_V1_MIN_SIZE - 8,
#else
  .struct_size = sizeof (struct nbdkit_rust_plugin),
#endif
#if defined NAME_NULL
  .name = NULL,
#elif defined NAME_EMPTY
  .name = "",
#elif defined NAME_INVALID
  .name = "bad-name",
#elif defined NAME_UNDERSCORE
  .name = "_abibad",
#else
  .name = "abibad",
#endif
#ifdef BAD_THREAD_MODEL
  .max_thread_model = 7,
#else
  .max_thread_model = 3,
#endif
#ifndef OPEN_NULL
  .open = bad_open,
#endif
#ifndef GET_SIZE_NULL
  .get_size = bad_get_size,
#endif
#ifndef PREAD_NULL
  .pread = bad_pread,
#endif
};

__attribute__ ((__visibility__ ("default")))
const struct nbdkit_rust_plugin *
nbdkit_rust_plugin_v1 (const struct nbdkit_rust_host *host)
{
#ifdef INIT_NULL
  (void) descriptor;
  host->error ("abibad: cannot initialise (as designed)");
  return NULL;
#else
  (void) host;
  return &descriptor;
#endif
}
