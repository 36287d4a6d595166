// SPDX-License-Identifier: BSD-2-Clause
//! Unit tests that need more than one module: the glue of plugins and
//! filters driven through descriptors against the fake nbdkit of
//! `nbdkit::testing` (mostly through its harnesses), the host services,
//! the entry points, the harnesses themselves, and the layout test that
//! pins `ffi.rs` to the C header.

mod buffers;
mod c_probe;
mod callbacks;
mod defaults_table;
mod direct;
mod direct_filter;
mod entry;
mod fake_host;
mod filter_callbacks;
mod filter_context;
mod filter_lists;
mod filter_macro;
mod filters;
mod harness;
mod layout;
mod logged_once;
mod nbdkit_layout;
mod plugins;
mod services;
mod thread_safety;
