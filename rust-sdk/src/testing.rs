// SPDX-License-Identifier: BSD-2-Clause
//! Drive a plugin or a filter in-process, without nbdkit: unit tests
//! for plugin and filter authors.  Enable the `testing` feature for
//! your tests only:
//!
//! ```toml
//! [dependencies]
//! nbdkit = { path = "/path/to/nbdkit-rust/rust-sdk" }
//!
//! [dev-dependencies]
//! nbdkit = { path = "/path/to/nbdkit-rust/rust-sdk", features = ["testing"] }
//! ```
//!
//! A [`Harness`] stands in for nbdkit and the loader.  It calls the
//! plugin through the very descriptor its [`plugin!`](crate::plugin)
//! made, the one nbdkit-rust-plugin.so gets from the entry point, and
//! hands it a complete host table of nbdkit's services.  So the plugin
//! behaves as it does under nbdkit: only the methods listed in
//! `plugin!` are called, and for the others the harness answers as the
//! loader and nbdkit answer (a write without `write_at` fails with
//! `EROFS`, `can_write` is then false, ...); an `Err` or a panic reaches
//! the test as the [`Error`] a client would get, with the errno nbdkit
//! would send and the message it would log; the value [`Server::open`]
//! returned is dropped exactly when the [`Connection`] closes.
//!
//! ```
//! use nbdkit::testing::Harness;
//! use nbdkit::*;
//!
//! /// A 1 MiB disk that reads as zeroes and cannot be written.
//! struct Zeroes;
//!
//! impl Server for Zeroes {
//!     fn name() -> &'static str {
//!         "zeroes"
//!     }
//!     fn open(_readonly: bool) -> Result<Box<dyn Server>> {
//!         debug!("zeroes: open");
//!         Ok(Box::new(Zeroes))
//!     }
//!     fn get_size(&self) -> Result<i64> {
//!         Ok(1 << 20)
//!     }
//!     fn read_at(&self, buf: &mut [u8], _offset: u64) -> Result<()> {
//!         buf.fill(0);
//!         Ok(())
//!     }
//! }
//!
//! plugin!(Zeroes {});
//!
//! // In the plugin crate: #[cfg(test)] mod tests { ... #[test] fn ... }
//! fn reads_zeroes_and_refuses_writes() -> Result<()> {
//!     let harness = Harness::<Zeroes>::new();
//!     let conn = harness.open(false)?;
//!     assert_eq!(conn.get_size()?, 1 << 20);
//!     let mut buf = [1u8; 512];
//!     conn.pread(&mut buf, 4096)?;
//!     assert_eq!(buf, [0u8; 512]);
//!     // write_at is not in plugin!: nbdkit says EROFS, as for C.
//!     assert!(!conn.can_write()?);
//!     let e = conn.pwrite(&buf, 0, Flags::empty()).unwrap_err();
//!     assert_eq!(e.errno(), errno::EROFS);
//!     assert_eq!(harness.debug_messages(), ["zeroes: open"]);
//!     assert!(harness.errors().is_empty());
//!     Ok(())
//! }
//! # fn main() { reads_zeroes_and_refuses_writes().unwrap() }
//! ```
//!
//! A filter's tests use a [`FilterHarness`] instead, which drives the
//! filter over a fake layer below, a [`NextBackend`]: an in-memory disk
//! with settable answers and failures that records every call the
//! filter makes to it (see its example).
//!
//! # What a harness is
//!
//! A `Harness` is one run of nbdkit: [`Harness::new`] loads the plugin
//! (entry point, then `load`); [`config`](Harness::config),
//! [`config_complete`](Harness::config_complete) and
//! [`start`](Harness::start) configure it and get it ready to serve
//! ([`open`](Harness::open) runs whatever of those has not run yet);
//! each [`Connection`] is one client; dropping the harness calls
//! `cleanup` (if it started) and `unload`.
//!
//! The harness finds the plugin through the entry point that
//! `plugin!` defines (`nbdkit_rust_plugin_v1`), so use it from the
//! plugin crate's own unit tests (`#[cfg(test)] mod tests` next to the
//! `plugin!`), where that entry point is linked into the test binary,
//! and name the plugin type given to `plugin!`.
//!
//! A plugin's state is global (statics, like a C plugin's), and so is
//! the host table it was handed; nbdkit serves one plugin per process.
//! So harnesses take turns: making one waits until no other thread has
//! one, and a thread making a second while it still holds the first
//! panics.  Unlike nbdkit, the test binary does not exit between two
//! harnesses: statics the plugin set in one are still set in the next,
//! unless the plugin resets them (in `load` or `unload`).
//!
//! # What it records
//!
//! Everything the plugin logs or asks of nbdkit, from any thread, is
//! recorded as an [`Event`]: [`Harness::errors`],
//! [`Harness::debug_messages`] and [`Harness::events`] show it.  A
//! failing callback's messages are also in the [`Error`] returned.
//!
//! # What it does not do
//!
//! The harness is nbdkit's plugin interface, not nbdkit's server: a
//! request goes to the plugin as nbdkit would pass it, without the
//! checks and emulation nbdkit adds for clients (requests beyond the
//! end of the disk, zeroing with `write_at` when `zero` is missing, FUA
//! by flushing, block size constraints).  The client's export name,
//! TLS and address are what [`Harness::set_export_name`],
//! [`Harness::set_tls`] and [`Harness::set_peer`] say (by default: no
//! name, no TLS, a Unix domain socket of this process).
//! [`disconnect`](crate::disconnect) is recorded and succeeds (as with
//! nbdkit 1.34 and later), and [`nanosleep`](crate::nanosleep) really
//! sleeps, ending early with `ESHUTDOWN` once [`shutdown`](crate::shutdown)
//! was called.

use std::cell::Cell;
use std::ffi::{CStr, CString};
use std::marker::PhantomData;
use std::ops::Deref;
use std::os::raw::{c_char, c_int, c_void};

use crate::errno::{EINVAL, EIO, EOPNOTSUPP, EROFS};
use crate::ffi::{nbdkit_rust_host, nbdkit_rust_plugin, NBDKIT_RUST_ABI_MAJOR};
use crate::{
    CacheFlags, Error, ExtentType, Flags, FuaFlags, PeerName, Result, Server, ThreadModel,
};

mod fake_next;
mod filter_harness;
mod host;

pub use fake_next::{NextBackend, NextCall, NextOp};
pub use filter_harness::{FilterConnection, FilterHarness};
pub use host::Event;
#[cfg(test)]
pub(crate) use host::{installed, lock, table, with_state, Lock};

/// Where a harness is in nbdkit's order of callbacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    /// Loaded: configuration may go on.
    Loaded,
    /// config_complete succeeded.
    Configured,
    /// get_ready and after_fork succeeded: serving.
    Serving,
}

/// A descriptor (`D`: a plugin's or a filter's), as its entry point
/// returned it: a pointer into the descriptor cell, which owns the
/// descriptor until the library is unloaded (for a test binary, until
/// it exits).  Read through a borrow of the harness, never kept longer.
struct Raw<D>(*const D);

impl<D> Clone for Raw<D> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<D> Copy for Raw<D> {}

impl<D> Deref for Raw<D> {
    type Target = D;

    fn deref(&self) -> &D {
        // SAFETY: a non-NULL descriptor from the entry point (or one the
        // SDK's tests leaked), alive while the library is loaded, and
        // never written to.
        unsafe { &*self.0 }
    }
}

impl<D> Raw<D> {
    /// The descriptor `p` that the entry point of a `kind` ("plugin" or
    /// "filter") returned, for the harness named `harness`: panics if
    /// it is NULL (with what was logged), of another ABI major version
    /// or not named `expected`.  `head` gives its abi_major and name.
    fn checked(
        p: *const D,
        kind: &str,
        harness: &str,
        expected: &str,
        head: fn(&D) -> (u32, *const c_char),
    ) -> Raw<D> {
        if p.is_null() {
            panic!(
                "nbdkit::testing: the {}'s entry point returned NULL; it logged: {:?}",
                kind,
                host::with_state(|s| s.events.clone())
            );
        }
        let raw = Raw(p);
        let (abi_major, name) = head(&raw);
        assert_eq!(abi_major, NBDKIT_RUST_ABI_MAJOR);
        // SAFETY: the descriptor's name is a static NUL-terminated
        // string (the header requires it).
        let name = unsafe { CStr::from_ptr(name) }.to_string_lossy();
        if name != expected {
            panic!(
                "nbdkit::testing: this test binary's {}! registers the {} {:?}, \
                 not {:?}: give {} the type named in {}!",
                kind, kind, name, expected, harness, kind
            );
        }
        raw
    }
}

/// The plugin's descriptor.
type Plugin = Raw<nbdkit_rust_plugin>;

/// Panics unless the harness (of a `kind`, "plugin" or "filter") in
/// `phase` may still be configured: `callback` came too late.
fn check_configuring(phase: Phase, kind: &str, callback: &str) {
    if phase != Phase::Loaded {
        panic!(
            "nbdkit::testing: {} after config_complete: nbdkit configures a {} \
             before anything else",
            callback, kind
        );
    }
}

/// One run of nbdkit with the plugin `T`, in-process: see the [module
/// documentation](self).
pub struct Harness<T: Server> {
    plugin: Plugin,
    phase: Cell<Phase>,
    connections: Cell<usize>,
    _lock: host::Lock,
    _plugin_type: PhantomData<fn() -> T>,
}

impl<T: Server> std::fmt::Debug for Harness<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Harness")
            .field("plugin", &T::name())
            .field("phase", &self.phase.get())
            .field("connections", &self.connections.get())
            .finish()
    }
}

/// Run one callback of the plugin and, if `failed` says it failed, make
/// the [`Error`] a client would see: the errno the plugin set (`EIO` if
/// none, as nbdkit sends) and the messages it logged meanwhile.
fn call<R>(callback: &str, run: impl FnOnce() -> R, failed: impl FnOnce(&R) -> bool) -> Result<R> {
    let since = host::with_state(|s| s.events.len());
    let r = run();
    if !failed(&r) {
        return Ok(r);
    }
    Err(failure(callback, since, None))
}

/// The [`Error`] a client sees for a callback that failed after event
/// `since`: the messages logged meanwhile, and the errno `errno` (a
/// filter's `*err`) or else the last one set (`EIO` if none).
fn failure(callback: &str, since: usize, errno: Option<i32>) -> Error {
    let (messages, set) = host::with_state(|s| {
        let mut messages = Vec::new();
        let mut errno = 0;
        for event in &s.events[since..] {
            match event {
                Event::Error(m) => messages.push(m.clone()),
                Event::SetError(e) => errno = *e,
                _ => {}
            }
        }
        (messages, errno)
    });
    let errno = errno.unwrap_or(set);
    let text = if messages.is_empty() {
        format!("{} failed and logged no error", callback)
    } else {
        messages.join("\n")
    };
    Error::new(if errno == 0 { EIO } else { errno }, text)
}

/// Everything the fake nbdkit recorded, oldest first.
fn events() -> Vec<Event> {
    host::with_state(|s| s.events.clone())
}

/// The messages logged with nbdkit_error, oldest first.
fn errors() -> Vec<String> {
    events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Error(m) => Some(m),
            _ => None,
        })
        .collect()
}

/// The messages logged with nbdkit_debug, oldest first.
fn debug_messages() -> Vec<String> {
    events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Debug(m) => Some(m),
            _ => None,
        })
        .collect()
}

/// Read `count` bytes at `offset` twice with `pread`, into buffers of
/// two garbage patterns, and panic if they differ: the byte that
/// differs was left unwritten.  What was read.
fn assert_fills(
    count: u32,
    offset: u64,
    pread: impl Fn(&mut [u8], u64) -> Result<()>,
    method: &str,
) -> Result<Vec<u8>> {
    let mut first = vec![0xaa; count as usize];
    let mut second = vec![0x55; count as usize];
    pread(&mut first, offset)?;
    pread(&mut second, offset)?;
    if let Some(i) = first.iter().zip(&second).position(|(a, b)| a != b) {
        panic!(
            "nbdkit::testing: pread of {} bytes at offset {} left the byte at offset {} \
             (and maybe others) unwritten: a client would receive whatever the buffer held \
             ({} must write every byte)",
            count,
            offset,
            offset + i as u64,
            method
        );
    }
    Ok(first)
}

/// A callback that answers -1 on failure.
fn int_call(callback: &str, run: impl FnOnce() -> c_int) -> Result<c_int> {
    call(callback, run, |r| *r == -1)
}

/// What the loader answers for a request whose callback the plugin left
/// out: it sets `errno` with nbdkit_set_error and logs nothing.
fn missing(callback: &str, method: &str, errno: i32) -> Error {
    host::with_state(|s| s.events.push(Event::SetError(errno)));
    Error::new(
        errno,
        format!(
            "{}: the plugin has no {} (not listed in plugin!), so nbdkit fails the request",
            callback, method
        ),
    )
}

/// Log an error as nbdkit (or the loader) itself would, and make it the
/// request's error.
fn nbdkit_fails(errno: i32, msg: String) -> Error {
    host::with_state(|s| {
        s.events.push(Event::Error(msg.clone()));
        s.events.push(Event::SetError(errno));
    });
    Error::new(errno, msg)
}

/// A C copy of a string the test passes, as nbdkit's command line would
/// (which cannot carry a NUL byte).
fn c_arg(what: &str, s: &str) -> Result<CString> {
    CString::new(s)
        .map_err(|_| Error::new(EINVAL, format!("{}: {:?} contains a NUL byte", what, s)))
}

/// A copy of a string the plugin returned.
///
/// # Safety
///
/// `p` must be NULL or a NUL-terminated string valid for the call.
unsafe fn returned_string(callback: &str, p: *const c_char) -> Result<String> {
    if p.is_null() {
        return Err(Error::new(EIO, format!("{} returned NULL", callback)));
    }
    // SAFETY: the caller promises a NUL-terminated string.
    Ok(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

impl<T: Server> Harness<T> {
    /// Load the plugin `T` as the loader does: call the entry point that
    /// `plugin!(T {...})` defined with the fake nbdkit's host table,
    /// then the plugin's `load`.
    ///
    /// Waits until no other thread has a harness.
    ///
    /// # Panics
    ///
    /// If the entry point returns NULL (the descriptor cannot be built:
    /// the panic message has the errors it logged), if the plugin that
    /// `plugin!` registered is not named `T::name()`, if the plugin's
    /// `load` panics (nbdkit then exits with status 1), or if this
    /// thread already has a harness.
    ///
    /// It fails to link if the test binary has no `plugin!`.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Harness<T> {
        extern "C" {
            // Defined by plugin!, in the crate whose tests call this
            // (new is generic, so it is compiled there).
            fn nbdkit_rust_plugin_v1(host: *const nbdkit_rust_host) -> *const nbdkit_rust_plugin;
        }
        let lock = host::lock();
        // SAFETY: the entry point plugin! defines has the header's type,
        // and the fake table is never freed or changed, as the header
        // asks of the loader's.
        let p = unsafe { nbdkit_rust_plugin_v1(host::installed()) };
        let plugin = Raw::checked(p, "plugin", "Harness", T::name(), |d| (d.abi_major, d.name));
        Harness::start_with(plugin, lock)
    }

    /// A harness for a descriptor the SDK's own tests built.
    #[cfg(test)]
    pub(crate) fn with_descriptor(descriptor: crate::__private::Descriptor) -> Harness<T> {
        let lock = host::lock();
        // Leaked: it lives for the process, as a plugin's does.
        let descriptor: &'static crate::__private::Descriptor = Box::leak(Box::new(descriptor));
        Harness::start_with(Raw(descriptor.as_ptr()), lock)
    }

    fn start_with(plugin: Plugin, lock: host::Lock) -> Harness<T> {
        // A new run of nbdkit asks the plugin's thread model again.
        crate::glue::forget_thread_model();
        let loaded = match (plugin.load_checked, plugin.load) {
            // SAFETY: a callback of the descriptor, called as nbdkit
            // calls it: first, once.
            (Some(load), _) => int_call("load", || unsafe { load() }).map(drop),
            (None, Some(load)) => {
                // SAFETY: as above.
                unsafe { load() };
                Ok(())
            }
            (None, None) => Ok(()),
        };
        if let Err(e) = loaded {
            panic!(
                "nbdkit::testing: the plugin's load failed, so nbdkit would exit with status 1: {}",
                e
            );
        }
        Harness {
            plugin,
            phase: Cell::new(Phase::Loaded),
            connections: Cell::new(0),
            _lock: lock,
            _plugin_type: PhantomData,
        }
    }

    fn check_configuring(&self, callback: &str) {
        check_configuring(self.phase.get(), "plugin", callback);
    }

    /// Pass `key=value` to the plugin's `config`, as `nbdkit rust
    /// rust=PLUGIN key=value` does.
    ///
    /// A plugin without `config` in `plugin!` takes no parameters: the
    /// loader refuses every key (`EINVAL`, logged).
    ///
    /// # Panics
    ///
    /// After configuration (`config_complete`) has happened.
    pub fn config(&self, key: &str, value: &str) -> Result<()> {
        self.check_configuring("config");
        let config = match self.plugin.config {
            Some(config) => config,
            None => {
                return Err(nbdkit_fails(
                    EINVAL,
                    format!(
                        "the Rust plugin {} takes no parameters, but was given {}",
                        T::name(),
                        key
                    ),
                ))
            }
        };
        let (key, value) = (c_arg("config", key)?, c_arg("config", value)?);
        // SAFETY: a callback of the descriptor, with NUL-terminated
        // strings valid for the call.
        int_call("config", || unsafe { config(key.as_ptr(), value.as_ptr()) })?;
        Ok(())
    }

    /// End configuration: the plugin's `config_complete` (success if it
    /// has none).  [`start`](Harness::start) and [`open`](Harness::open)
    /// call it if the test has not.
    ///
    /// # Panics
    ///
    /// If configuration already ended.
    pub fn config_complete(&self) -> Result<()> {
        self.check_configuring("config_complete");
        if let Some(config_complete) = self.plugin.config_complete {
            // SAFETY: a callback of the descriptor, no arguments.
            int_call("config_complete", || unsafe { config_complete() })?;
        }
        self.phase.set(Phase::Configured);
        host::with_state(|s| s.configured = true);
        Ok(())
    }

    /// The plugin's `dump_plugin`, as `--dump-plugin` calls it (after
    /// `config`, before `config_complete`).  What it prints goes to this
    /// process's standard output.  An error if it panicked: nbdkit then
    /// exits with status 1.
    pub fn dump_plugin(&self) -> Result<()> {
        match (self.plugin.dump_plugin_checked, self.plugin.dump_plugin) {
            (Some(dump_plugin), _) => {
                // SAFETY: a callback of the descriptor, no arguments.
                int_call("dump_plugin", || unsafe { dump_plugin() })?;
            }
            // SAFETY: as above.
            (None, Some(dump_plugin)) => unsafe { dump_plugin() },
            (None, None) => {}
        }
        Ok(())
    }

    /// The thread model nbdkit would use, as the loader works it out: the
    /// plugin's `thread_model` (`Parallel` without one), never looser
    /// than its maximum (`Parallel`).
    pub fn thread_model(&self) -> Result<ThreadModel> {
        let mut model = self.plugin.max_thread_model;
        if let Some(thread_model) = self.plugin.thread_model {
            // SAFETY: a callback of the descriptor, no arguments.
            model = model.min(int_call("thread_model", || unsafe { thread_model() })?);
        }
        Ok(match model {
            0 => ThreadModel::SerializeConnections,
            1 => ThreadModel::SerializeAllRequests,
            2 => ThreadModel::SerializeRequests,
            _ => ThreadModel::Parallel,
        })
    }

    /// Get ready to serve, as nbdkit does once configured:
    /// `config_complete` (if not called yet), `thread_model`,
    /// `get_ready`, then `after_fork`.  [`open`](Harness::open) calls it
    /// if the test has not.  Calling it again does nothing.
    pub fn start(&self) -> Result<()> {
        if self.phase.get() == Phase::Serving {
            return Ok(());
        }
        if self.phase.get() == Phase::Loaded {
            self.config_complete()?;
        }
        self.thread_model()?;
        if let Some(get_ready) = self.plugin.get_ready {
            // SAFETY: a callback of the descriptor, no arguments.
            int_call("get_ready", || unsafe { get_ready() })?;
        }
        if let Some(after_fork) = self.plugin.after_fork {
            // SAFETY: a callback of the descriptor, no arguments.
            int_call("after_fork", || unsafe { after_fork() })?;
        }
        self.phase.set(Phase::Serving);
        Ok(())
    }

    /// The plugin's `preconnect` for a new client (success without one).
    pub fn preconnect(&self, readonly: bool) -> Result<()> {
        self.start()?;
        if let Some(preconnect) = self.plugin.preconnect {
            // SAFETY: a callback of the descriptor, a plain integer.
            int_call("preconnect", || unsafe {
                preconnect(c_int::from(readonly))
            })?;
        }
        Ok(())
    }

    /// The exports a client listing them gets, as `(name, description)`:
    /// what the plugin's `list_exports` added, then the default export
    /// if it asked for it ([`ExportList::use_default`](crate::ExportList::use_default)).
    /// Without `list_exports`, only the default export.
    pub fn list_exports(
        &self,
        readonly: bool,
        is_tls: bool,
    ) -> Result<Vec<(String, Option<String>)>> {
        self.start()?;
        let mut exports = host::Exports::default();
        match self.plugin.list_exports {
            Some(list_exports) => {
                let ptr = exports.as_ptr();
                // SAFETY: a callback of the descriptor; the fake host
                // takes `ptr` to be `exports`, which outlives the call.
                int_call("list_exports", || unsafe {
                    list_exports(c_int::from(readonly), c_int::from(is_tls), ptr)
                })?;
            }
            None => exports.use_default = true,
        }
        if exports.use_default {
            let name = self.default_export(readonly, is_tls)?;
            exports.list.push((name, None));
        }
        Ok(exports.list)
    }

    /// The name of the default export (`""` without `default_export`).
    pub fn default_export(&self, readonly: bool, is_tls: bool) -> Result<String> {
        self.start()?;
        let default_export = match self.plugin.default_export {
            Some(default_export) => default_export,
            None => return Ok(String::new()),
        };
        // SAFETY: a callback of the descriptor, plain integers.
        let p = call(
            "default_export",
            || unsafe { default_export(c_int::from(readonly), c_int::from(is_tls)) },
            |p| p.is_null(),
        )?;
        // SAFETY: a non-NULL answer is a string valid until the next
        // call on this thread, or an interned one.
        unsafe { returned_string("default_export", p) }
    }

    /// A new client connection: the plugin's `open`.  Starts the plugin
    /// first if needed ([`start`](Harness::start)).
    ///
    /// The [`Connection`] is closed (the plugin's value dropped) when it
    /// is dropped or [closed](Connection::close).
    pub fn open(&self, readonly: bool) -> Result<Connection<'_>> {
        self.start()?;
        let open = self.plugin.open.expect("open is required");
        // SAFETY: a callback of the descriptor, a plain integer.
        let handle = call(
            "open",
            || unsafe { open(c_int::from(readonly)) },
            |h| h.is_null(),
        )?;
        self.connections.set(self.connections.get() + 1);
        Ok(Connection {
            plugin: self.plugin,
            handle,
            connections: &self.connections,
        })
    }

    /// How many connections are open: opened and not yet closed.
    pub fn open_connections(&self) -> usize {
        self.connections.get()
    }

    /// Everything recorded so far (since [`Harness::new`] or the last
    /// [`clear_events`](Harness::clear_events)), oldest first.
    pub fn events(&self) -> Vec<Event> {
        events()
    }

    /// The messages logged with nbdkit_error so far, oldest first.
    pub fn errors(&self) -> Vec<String> {
        errors()
    }

    /// The messages logged with nbdkit_debug ([`debug!`](crate::debug))
    /// so far, oldest first.
    pub fn debug_messages(&self) -> Vec<String> {
        debug_messages()
    }

    /// Forget the events recorded so far.
    pub fn clear_events(&self) {
        host::with_state(|s| s.events.clear());
    }

    /// Whether the plugin asked nbdkit to shut down.
    pub fn shutdown_requested(&self) -> bool {
        host::with_state(|s| s.shutdown)
    }

    /// The export name clients ask for from now on
    /// ([`export_name`](crate::export_name)); `""` by default.
    ///
    /// # Panics
    ///
    /// If `name` contains a NUL byte.
    pub fn set_export_name(&self, name: &str) {
        let name = CString::new(name).expect("an export name has no NUL byte");
        host::with_state(|s| s.client.export_name = name);
    }

    /// Whether clients from now on have completed TLS
    /// ([`is_tls`](crate::is_tls)); false by default.
    pub fn set_tls(&self, tls: bool) {
        host::with_state(|s| s.client.tls = tls);
    }

    /// The address of clients from now on ([`peername`](crate::peername));
    /// an unnamed Unix domain socket by default.  Only a Unix domain
    /// socket has the credentials [`set_peer_credentials`](Harness::set_peer_credentials) sets.
    pub fn set_peer(&self, peer: PeerName) {
        host::with_state(|s| s.client.peer = peer);
    }

    /// The process, user and group ID of clients from now on
    /// ([`peer_pid`](crate::peer_pid), [`peer_uid`](crate::peer_uid),
    /// [`peer_gid`](crate::peer_gid)); this process's by default.
    pub fn set_peer_credentials(&self, pid: i64, uid: i64, gid: i64) {
        host::with_state(|s| s.client.credentials = (pid, uid, gid));
    }
}

/// nbdkit's end of a run: `cleanup` if the plugin started serving, then
/// `unload`.
impl<T: Server> Drop for Harness<T> {
    fn drop(&mut self) {
        if self.phase.get() == Phase::Serving {
            if let Some(cleanup) = self.plugin.cleanup {
                // SAFETY: a callback of the descriptor, no arguments,
                // after every connection closed (they borrow the
                // harness).
                unsafe { cleanup() };
            }
        }
        if let Some(unload) = self.plugin.unload {
            // SAFETY: a callback of the descriptor, no arguments, last.
            unsafe { unload() };
        }
    }
}

/// One client connection of a [`Harness`]: the requests nbdkit would
/// pass the plugin, answered as a client would see them.
///
/// Dropping it closes it: the plugin's per-connection value is dropped
/// then, exactly once.
pub struct Connection<'a> {
    plugin: Plugin,
    /// The plugin's handle; NULL once closed.
    handle: *mut c_void,
    connections: &'a Cell<usize>,
}

impl std::fmt::Debug for Connection<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("handle", &self.handle)
            .finish()
    }
}

/// A request's length as nbdkit passes it (32 bits).
fn count(len: usize) -> Result<u32> {
    u32::try_from(len).map_err(|_| {
        Error::new(
            EINVAL,
            format!("a request of {} bytes is longer than NBD allows", len),
        )
    })
}

/// The type of an extent, from its NBDKIT_EXTENT_* bits.
fn extent_type(bits: u32) -> ExtentType {
    match bits & 3 {
        0 => ExtentType::Allocated,
        1 => ExtentType::Hole,
        2 => ExtentType::Zero,
        _ => ExtentType::HoleZero,
    }
}

/// The can_* callbacks answering yes or no, and what nbdkit assumes
/// without them.
macro_rules! can_bool {
    ($($(#[$doc:meta])* $name:ident: $default:expr;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(&self) -> Result<bool> {
                match self.plugin.$name {
                    // SAFETY: a callback of the descriptor with the live
                    // handle open returned.
                    Some(f) => Ok(int_call(stringify!($name), || unsafe { f(self.handle) })? != 0),
                    None => Ok($default(&*self.plugin)),
                }
            }
        )*
    };
}

impl Connection<'_> {
    /// The size of the disk (`get_size`).
    pub fn get_size(&self) -> Result<u64> {
        let get_size = self.plugin.get_size.expect("get_size is required");
        // SAFETY: a callback of the descriptor with the live handle.
        let size = call(
            "get_size",
            || unsafe { get_size(self.handle) },
            |s| *s == -1,
        )?;
        Ok(size as u64)
    }

    can_bool! {
        /// Whether the export is writable; without `can_write`, whether
        /// `write_at` is in `plugin!`.
        can_write: |p: &nbdkit_rust_plugin| p.pwrite.is_some();
        /// Whether flush works; without `can_flush`, whether `flush` is
        /// in `plugin!`.
        can_flush: |p: &nbdkit_rust_plugin| p.flush.is_some();
        /// Whether the disk is rotational; false without
        /// `is_rotational`.
        is_rotational: |_: &nbdkit_rust_plugin| false;
        /// Whether trim works; without `can_trim`, whether `trim` is in
        /// `plugin!`.
        can_trim: |p: &nbdkit_rust_plugin| p.trim.is_some();
        /// Whether zero requests go to `zero` (else nbdkit writes
        /// zeroes); without `can_zero`, whether `zero` is in `plugin!`.
        can_zero: |p: &nbdkit_rust_plugin| p.zero.is_some();
        /// The plugin's answer to `can_fast_zero`; without it, true if
        /// `zero` is not in `plugin!` (nbdkit then fails fast zeroes at
        /// once).  nbdkit 1.32 itself tells clients false
        /// whenever `zero` exists, whatever this says.
        can_fast_zero: |p: &nbdkit_rust_plugin| p.zero.is_none();
        /// Whether several connections see the same data; false without
        /// `can_multi_conn`.
        can_multi_conn: |_: &nbdkit_rust_plugin| false;
        /// Whether block status works; without `can_extents`, whether
        /// `extents` is in `plugin!`.
        can_extents: |p: &nbdkit_rust_plugin| p.extents.is_some();
    }

    /// FUA support; without `can_fua`, `Emulate` if `flush` is in
    /// `plugin!`, else `None`.
    pub fn can_fua(&self) -> Result<FuaFlags> {
        let answer = match self.plugin.can_fua {
            // SAFETY: a callback of the descriptor with the live handle.
            Some(f) => int_call("can_fua", || unsafe { f(self.handle) })?,
            None if self.plugin.flush.is_some() => 1,
            None => 0,
        };
        Ok(match answer {
            0 => FuaFlags::None,
            1 => FuaFlags::Emulate,
            _ => FuaFlags::Native,
        })
    }

    /// Cache support; without `can_cache`, `Native` if `cache` is in
    /// `plugin!`, else `None`.
    pub fn can_cache(&self) -> Result<CacheFlags> {
        let answer = match self.plugin.can_cache {
            // SAFETY: a callback of the descriptor with the live handle.
            Some(f) => int_call("can_cache", || unsafe { f(self.handle) })?,
            None if self.plugin.cache.is_some() => 2,
            None => 0,
        };
        Ok(match answer {
            0 => CacheFlags::None,
            1 => CacheFlags::Emulate,
            _ => CacheFlags::Native,
        })
    }

    /// The export's description; `None` without `export_description`.
    pub fn export_description(&self) -> Result<Option<String>> {
        let f = match self.plugin.export_description {
            Some(f) => f,
            None => return Ok(None),
        };
        // SAFETY: a callback of the descriptor with the live handle.
        let p = call(
            "export_description",
            || unsafe { f(self.handle) },
            |p| p.is_null(),
        )?;
        // SAFETY: a non-NULL answer is an interned string.
        unsafe { returned_string("export_description", p) }.map(Some)
    }

    /// The block size constraints `(minimum, preferred, maximum)`;
    /// `(0, 0, 0)` ("none") without `block_size`.
    pub fn block_size(&self) -> Result<(u32, u32, u32)> {
        let f = match self.plugin.block_size {
            Some(f) => f,
            None => return Ok((0, 0, 0)),
        };
        let (mut min, mut pref, mut max) = (0u32, 0u32, 0u32);
        // SAFETY: a callback of the descriptor with the live handle and
        // three writable u32 slots.
        int_call("block_size", || unsafe {
            f(self.handle, &mut min, &mut pref, &mut max)
        })?;
        Ok((min, pref, max))
    }

    /// Read `buf.len()` bytes at `offset`, as nbdkit passes the plugin a
    /// buffer: [`Server::read_at`] gets it filled with zeroes (the SDK
    /// writes them), while [`Server::read_at_uninit`], when it is in
    /// `plugin!`, gets it as it is, with whatever the test put there.
    /// So a plugin that leaves bytes of it unwritten leaves the test's
    /// bytes there, where a client would get stale memory:
    /// [`assert_pread_fills`](Self::assert_pread_fills) checks for that.
    pub fn pread(&self, buf: &mut [u8], offset: u64) -> Result<()> {
        let n = count(buf.len())?;
        let pread = self.plugin.pread.expect("pread is required");
        let ptr = buf.as_mut_ptr().cast::<c_void>();
        // SAFETY: a callback of the descriptor with the live handle and
        // a buffer of `n` writable, initialised bytes.
        int_call("pread", || unsafe { pread(self.handle, ptr, n, offset, 0) })?;
        Ok(())
    }

    /// Read `count` bytes at `offset` twice, into buffers of two
    /// different garbage patterns (`0xaa`, then `0x55`), as a filter
    /// above the plugin may pass memory it never wrote; check that the
    /// plugin wrote every byte, and return what it read.
    ///
    /// With [`Server::read_at`] the SDK zeroes the buffer first, so a
    /// byte left unwritten reads as zero both times.  With
    /// [`Server::read_at_uninit`] in `plugin!`, it keeps the garbage,
    /// which a client would receive: stale memory, an information leak.
    ///
    /// # Panics
    ///
    /// If the two reads differ: the message names the first byte the
    /// plugin left unwritten.
    pub fn assert_pread_fills(&self, count: u32, offset: u64) -> Result<Vec<u8>> {
        assert_fills(count, offset, |buf, o| self.pread(buf, o), "read_at_uninit")
    }

    /// Write `buf` at `offset` (`write_at`): `EROFS` without it.
    pub fn pwrite(&self, buf: &[u8], offset: u64, flags: Flags) -> Result<()> {
        let n = count(buf.len())?;
        let pwrite = match self.plugin.pwrite {
            Some(f) => f,
            None => return Err(missing("pwrite", "write_at", EROFS)),
        };
        let ptr = buf.as_ptr().cast::<c_void>();
        // SAFETY: a callback of the descriptor with the live handle and
        // a buffer of `n` readable bytes.
        int_call("pwrite", || unsafe {
            pwrite(self.handle, ptr, n, offset, flags.bits())
        })?;
        Ok(())
    }

    /// Flush (`flush`): `EINVAL` without it.
    pub fn flush(&self) -> Result<()> {
        let flush = match self.plugin.flush {
            Some(f) => f,
            None => return Err(missing("flush", "flush", EINVAL)),
        };
        // SAFETY: a callback of the descriptor with the live handle.
        int_call("flush", || unsafe { flush(self.handle, 0) })?;
        Ok(())
    }

    /// Trim `count` bytes at `offset` (`trim`): `EINVAL` without it.
    pub fn trim(&self, count: u32, offset: u64, flags: Flags) -> Result<()> {
        let trim = match self.plugin.trim {
            Some(f) => f,
            None => return Err(missing("trim", "trim", EINVAL)),
        };
        // SAFETY: a callback of the descriptor with the live handle.
        int_call("trim", || unsafe {
            trim(self.handle, count, offset, flags.bits())
        })?;
        Ok(())
    }

    /// Zero `count` bytes at `offset` (`zero`): `EOPNOTSUPP` without it
    /// (on which nbdkit would write zeroes with `write_at` instead; the
    /// harness does not).
    pub fn zero(&self, count: u32, offset: u64, flags: Flags) -> Result<()> {
        let zero = match self.plugin.zero {
            Some(f) => f,
            None => return Err(missing("zero", "zero", EOPNOTSUPP)),
        };
        // SAFETY: a callback of the descriptor with the live handle.
        int_call("zero", || unsafe {
            zero(self.handle, count, offset, flags.bits())
        })?;
        Ok(())
    }

    /// Block status of `count` bytes at `offset` (`extents`), as nbdkit
    /// sends it to the client: `(offset, length, type)` in order,
    /// clipped to the range asked for, neighbours of one type merged,
    /// only the first with [`Flags::REQ_ONE`].  `EINVAL` without
    /// `extents`, and if the plugin reported nothing for the range.
    pub fn extents(
        &self,
        count: u32,
        offset: u64,
        flags: Flags,
    ) -> Result<Vec<(u64, u64, ExtentType)>> {
        let extents = match self.plugin.extents {
            Some(f) => f,
            None => return Err(missing("extents", "extents", EINVAL)),
        };
        let mut collected = host::Extents::new(offset, offset.saturating_add(u64::from(count)));
        let ptr = collected.as_ptr();
        // SAFETY: a callback of the descriptor with the live handle; the
        // fake host takes `ptr` to be `collected`, which outlives the
        // call and is not touched during it.
        int_call("extents", || unsafe {
            extents(self.handle, count, offset, flags.bits(), ptr)
        })?;
        if collected.list.is_empty() {
            return Err(nbdkit_fails(
                EINVAL,
                "extents: plugin must return at least one extent".into(),
            ));
        }
        let mut list: Vec<_> = collected
            .list
            .iter()
            .map(|&(offset, length, bits)| (offset, length, extent_type(bits)))
            .collect();
        if flags.contains(Flags::REQ_ONE) {
            list.truncate(1);
        }
        Ok(list)
    }

    /// Ask for `count` bytes at `offset` to be cached (`cache`):
    /// success, doing nothing, without it.
    pub fn cache(&self, count: u32, offset: u64) -> Result<()> {
        if let Some(cache) = self.plugin.cache {
            // SAFETY: a callback of the descriptor with the live handle.
            int_call("cache", || unsafe { cache(self.handle, count, offset, 0) })?;
        }
        Ok(())
    }

    /// Close the connection: the plugin's per-connection value is
    /// dropped.  An error if that logged one (a panic in `Drop` is
    /// caught and logged as `"close: panic: ..."`).
    pub fn close(mut self) -> Result<()> {
        self.close_once()
    }

    fn close_once(&mut self) -> Result<()> {
        if self.handle.is_null() {
            return Ok(());
        }
        let handle = std::mem::replace(&mut self.handle, std::ptr::null_mut());
        self.connections.set(self.connections.get() - 1);
        let close = match self.plugin.close {
            Some(close) => close,
            None => return Ok(()),
        };
        let since = host::with_state(|s| s.events.len());
        // SAFETY: a callback of the descriptor with the handle open
        // returned, closed exactly once (it is NULL from now on).
        unsafe { close(handle) };
        let logged = host::with_state(|s| {
            s.events[since..]
                .iter()
                .filter_map(|e| match e {
                    Event::Error(m) => Some(m.clone()),
                    _ => None,
                })
                .collect::<Vec<_>>()
        });
        if logged.is_empty() {
            Ok(())
        } else {
            Err(Error::new(EIO, logged.join("\n")))
        }
    }
}

impl Drop for Connection<'_> {
    fn drop(&mut self) {
        // Errors were recorded as events; a drop cannot return them.
        let _ = self.close_once();
    }
}
