/* SPDX-License-Identifier: BSD-2-Clause */
/* nbdkit-rust tests: broken Rust filters the filter loader must refuse.
 *
 * Each is a valid filter descriptor with exactly one defect, chosen by
 * one macro (see CMakeLists.txt):
 *   INIT_NULL         nbdkit_rust_filter_v1 returns NULL
 *   MAJOR_2           abi_major is 2
 *   SMALL_STRUCT      struct_size is below NBDKIT_RUST_FILTER_V1_MIN_SIZE
 *   NAME_NULL         no name
 *   NAME_INVALID      name with a character outside [A-Za-z0-9_]
 *   BAD_THREAD_MODEL  max_thread_model 7
 */

#include <stdint.h>

#include "nbdkit-rust-abi.h"

static struct nbdkit_rust_filter descriptor = {
#ifdef MAJOR_2
  .abi_major = 2,
  .abi_minor = 0,
#else
  .abi_major = NBDKIT_RUST_ABI_MAJOR,
  .abi_minor = NBDKIT_RUST_ABI_MINOR,
#endif
#ifdef SMALL_STRUCT
  .struct_size = NBDKIT_RUST_FILTER_V1_MIN_SIZE - 8,
#else
  .struct_size = sizeof (struct nbdkit_rust_filter),
#endif
#if defined NAME_NULL
  .name = NULL,
#elif defined NAME_INVALID
  .name = "bad-filter",
#else
  .name = "abibadfilter",
#endif
#ifdef BAD_THREAD_MODEL
  .max_thread_model = 7,
#else
  .max_thread_model = 3,
#endif
};

__attribute__ ((__visibility__ ("default")))
const struct nbdkit_rust_filter *
nbdkit_rust_filter_v1 (const struct nbdkit_rust_host *host)
{
#ifdef INIT_NULL
  (void) descriptor;
  host->error ("abibadfilter: cannot initialise (as designed)");
  return NULL;
#else
  (void) host;
  return &descriptor;
#endif
}
