// SPDX-License-Identifier: BSD-2-Clause
//! Write [nbdkit](https://gitlab.com/nbdkit/nbdkit) plugins and filters
//! in Rust.
//!
//! nbdkit is a toolkit for building Network Block Device servers.  A Rust
//! plugin is a `cdylib` that implements [`Server`] and registers it with
//! [`plugin!`].  nbdkit loads it through the `rust` plugin
//! (nbdkit-rust-plugin.so, the loader):
//!
//! ```text
//! nbdkit rust ./target/release/libmyplugin.so [key=value ...]
//! ```
//!
//! The plugin links against nothing of nbdkit's: the loader hands it a
//! table of nbdkit's services when it loads it, and the plugin hands back
//! a descriptor of its callbacks (the contract is
//! `abi/nbdkit-rust-abi.h`).  So a plugin builds with the standard
//! library alone, and one plugin binary works with any loader of the same
//! ABI major version.
//!
//! The very same library also loads straight into nbdkit, as a plugin
//! written in C does, without the loader:
//!
//! ```text
//! nbdkit ./target/release/libmyplugin.so [key=value ...]
//! ```
//!
//! Then the plugin finds nbdkit's services by name in the running
//! process, and still imports no `nbdkit_*` symbol; a service the running
//! nbdkit lacks fails with an `ENOTSUP` error saying so.  Callbacks,
//! errors, panics, thread models and `Drop` behave the same both ways.
//! nbdkit shows the plugin's name with each `_` made a `-` (nbdkit
//! refuses `_` in names), and [`nbdkit_version`] is `None`.
//!
//! This crate is source-compatible with the public API of the nbdkit
//! crate 0.3.0, which linked plugins directly into nbdkit: a 0.3.0
//! plugin builds unchanged (except for the `nix`-feature `peername`,
//! which now returns a [`PeerName`]).  It adds the callbacks of nbdkit
//! 1.32 that 0.3.0 lacked ([`Server::list_exports`],
//! [`Server::default_export`], [`Server::export_description`],
//! [`Server::block_size`], [`Server::cleanup`]), a function for every
//! other nbdkit service, and the [`errno`] values, so that a plugin
//! needs no dependency for them.  This crate itself uses the standard
//! library only, so that it builds anywhere, offline; a plugin may use
//! `libc` or any other crate, offline too from the distribution's
//! registry (on Debian, `librust-libc-dev` and a `.cargo/config.toml`
//! naming `/usr/share/cargo/registry`: see README.md, "Using other
//! crates").
//!
//! ```
//! use nbdkit::*;
//!
//! /// A read-only disk of `SIZE` bytes that all read as `0xab`.
//! #[derive(Default)]
//! struct MyPlugin {
//!     // per-connection state goes here
//! }
//!
//! const SIZE: i64 = 1 << 20;
//!
//! impl Server for MyPlugin {
//!     fn get_size(&self) -> Result<i64> {
//!         Ok(SIZE)
//!     }
//!
//!     fn name() -> &'static str {
//!         "my_plugin"
//!     }
//!
//!     fn open(_readonly: bool) -> Result<Box<dyn Server>> {
//!         Ok(Box::new(MyPlugin::default()))
//!     }
//!
//!     fn read_at(&self, buf: &mut [u8], _offset: u64) -> Result<()> {
//!         buf.fill(0xab);
//!         Ok(())
//!     }
//!
//!     fn thread_model() -> Result<ThreadModel> {
//!         Ok(ThreadModel::Parallel)
//!     }
//!
//!     fn config(key: &str, _value: &str) -> Result<()> {
//!         Err(Error::new(errno::EINVAL, format!("unknown parameter {}", key)))
//!     }
//! }
//!
//! plugin!(MyPlugin {thread_model, config});
//! # fn main() {}
//! ```
//!
//! Build it with `crate-type = ["cdylib"]` in `Cargo.toml`.  The crate
//! is not on crates.io yet: depend on it by path or by git,
//!
//! ```toml
//! [dependencies]
//! nbdkit = { path = "/path/to/nbdkit-rust/rust-sdk" }
//! # or: nbdkit = { git = "URL of your nbdkit-rust checkout or mirror" }
//! ```
//!
//! and add `rust-version = "1.63"` to `[package]` so that Debian 12's
//! own cargo builds the plugin too (README.md, "Minimum Rust version").
//!
//! # Filters
//!
//! A filter is a layer between nbdkit and its plugin that sees, and may
//! change, every call on its way down: a type implementing [`Filter`],
//! registered with [`filter!`], built as a `cdylib`, and served by the
//! `rust` filter (nbdkit-rust-filter.so):
//!
//! ```text
//! nbdkit --filter=rust memory 1G rust-filter=./target/release/libmyfilter.so [key=value ...]
//! ```
//!
//! Each method gets the layer below: a [`Next`] for the per-connection
//! ones (`next.read_at(buf, offset, flags)?`), a call type such as
//! [`NextConfig`] or [`NextOpen`] for the global ones.  Only the methods
//! listed in `filter!` are called; every other call passes straight
//! through to the layer below without entering Rust.  Errors, panics,
//! thread models and buffers follow the plugins' rules below; an error
//! of the layer below, passed up as it came, is not logged a second
//! time.  `nbdkit::testing::FilterHarness` drives a filter in its unit tests
//! (the `testing` feature).  Filters are not loaded directly by nbdkit
//! (nbdkit's filter ABI changes with every release).
//!
//! # How callbacks behave
//!
//! * Only the methods listed in [`plugin!`] (and the four required ones)
//!   are given to nbdkit; for every other one nbdkit behaves as for a C
//!   plugin that leaves the callback out.
//! * `Err(e)` from a method is logged with nbdkit_error (its `Display`
//!   text) and the client receives [`e.errno()`](Error::errno), or `EIO`
//!   if that is 0.  An error of one of nbdkit's services that logged it
//!   already (`parse_size(value)?`) is not logged twice.
//! * A panic is caught: it is logged as `"<callback>: panic: <message>"`
//!   and the request fails with `EIO`; the server keeps going.  A panic
//!   in `load` or `dump_plugin` makes nbdkit exit with status 1, as a
//!   failure does in the other callbacks of nbdkit's start.
//! * The value [`Server::open`] returns is dropped when the connection
//!   closes: implement [`Drop`] to release per-connection resources.
//! * The thread model depends on whether the plugin type is `Sync`: see
//!   the thread safety section of [`Server`].
//! * [`Server::read_at`] gets a buffer of zeroes; [`Server::read_at_uninit`],
//!   when listed, the buffer as nbdkit passed it.
//! * Strings from nbdkit that are not UTF-8 (config keys and values) are
//!   refused with `EINVAL` before the method is called.

#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod context;
mod descriptor;
mod direct;
mod direct_host;
mod direct_host_filter;
pub mod errno;
mod error;
mod exports;
mod exports_list;
mod extents;
mod extents_list;
mod ffi;
mod filter;
mod filter_descriptor;
mod filter_glue;
mod glue;
mod host;
mod layout;
mod macros;
mod nbdkit_ffi;
mod next;
mod next_call;
mod peer;
mod probe;
mod server;
mod types;
pub mod uninit;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

#[cfg(test)]
mod tests;

pub use context::{Backend, OwnedNext};
pub use error::{Error, Result};
pub use exports::ExportList;
pub use exports_list::Exports;
pub use extents::ExtentHandle;
pub use extents_list::{Extents, ExtentsIter};
pub use filter::Filter;
pub use host::{
    absolute_path, disconnect, export_name, is_stdio_safe, is_tls, nanosleep, nbdkit_version,
    parse_bool, parse_i16, parse_i32, parse_i64, parse_i8, parse_int, parse_probability,
    parse_size, parse_u16, parse_u32, parse_u64, parse_u8, parse_unsigned, peer_gid, peer_pid,
    peer_uid, peername, read_password, realpath, shutdown,
};
pub use next::Next;
pub use next_call::{
    NextConfig, NextConfigComplete, NextDefaultExport, NextListExports, NextOpen, NextPreconnect,
};
pub use peer::PeerName;
pub use server::Server;
pub use types::{CacheFlags, ExtentType, Flags, FuaFlags, ThreadModel, ZeroMode};

/// What [`plugin!`], [`filter!`] and [`debug!`] expand to.  Not part of the API: it
/// may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::descriptor::{Builder, Descriptor, DescriptorCell};
    pub use crate::direct::plugin_init;
    pub use crate::ffi::{
        nbdkit_rust_filter, nbdkit_rust_filter_v1_fn, nbdkit_rust_host, nbdkit_rust_plugin,
        nbdkit_rust_plugin_v1_fn,
    };
    pub use crate::filter_descriptor::{FilterBuilder, FilterDescriptor};
    pub use crate::filter_glue::filter_entry_v1;
    pub use crate::glue::entry_v1;
    pub use crate::host::debug_fmt;
    pub use crate::nbdkit_ffi::{nbdkit_plugin, plugin_init_fn};
    pub use crate::probe::{
        FilterTypeIsNotSync, ListedPluginTypeIsNotSync, ListedPluginTypeIsSync,
        PluginTypeIsNotSync, PluginTypeIsSync, SyncProbe,
    };
}
