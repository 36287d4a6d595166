/* SPDX-License-Identifier: BSD-2-Clause */
/* nbdkit-rust tests: a shared library that is not a Rust plugin: it
 * loads fine but exports no nbdkit_rust_plugin_v1.
 */

__attribute__ ((__visibility__ ("default")))
int
not_an_nbdkit_rust_plugin (void)
{
  return 42;
}
