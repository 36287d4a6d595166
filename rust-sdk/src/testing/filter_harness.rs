// SPDX-License-Identifier: BSD-2-Clause
//! [`FilterHarness`]: a filter driven in-process, over a fake layer
//! below ([`NextBackend`]), as nbdkit and nbdkit-rust-filter.so drive
//! it.

use std::cell::Cell;
use std::marker::PhantomData;
use std::os::raw::{c_int, c_void};

use super::fake_next::{self, Context, NextBackend};
use super::{
    assert_fills, c_arg, call, check_configuring, count, debug_messages, errors, events, failure,
    host, int_call, nbdkit_fails, returned_string, Event, Phase, Raw,
};
use crate::errno::EINVAL;
use crate::ffi::{nbdkit_rust_filter, nbdkit_rust_host};
use crate::{
    CacheFlags, Error, ExtentType, Filter, Flags, FuaFlags, Result, ThreadModel, ZeroMode,
};

/// The filter's descriptor, as its entry point returned it.
type Descriptor = Raw<nbdkit_rust_filter>;

/// One run of nbdkit with the filter `F` over a fake layer below, the
/// [`NextBackend`], in-process: the [`Harness`](super::Harness) of
/// filters.
///
/// It calls the filter through the very descriptor its
/// [`filter!`](crate::filter) made, the one nbdkit-rust-filter.so gets,
/// with a complete host table; and where the filter has no callback
/// (it is not listed in `filter!`), it passes the call straight through
/// to the layer below, as the loader does.  The layer below is an
/// in-memory disk (1 MiB of zeroes, answering as `nbdkit memory 1M`
/// does) whose answers the test sets, whose calls can be made to fail,
/// and which records every call the filter makes down:
/// [`backend`](Self::backend).
///
/// Its life is a [`Harness`](super::Harness)'s: [`FilterHarness::new`]
/// loads the filter, [`config`](Self::config) …
/// [`start`](Self::start) configure it, each [`FilterConnection`] is a
/// client (opened, then prepared; finalized, then closed when dropped),
/// dropping the harness runs `cleanup` and `unload`; harnesses of both
/// kinds take turns.  Everything logged is recorded as [`Event`]s.
/// Like the plugin harness it is nbdkit's filter interface, not its
/// server: no request checks, no emulation (zero by writing, FUA by
/// flushing).
///
/// # Examples
///
/// ```
/// use nbdkit::testing::{FilterHarness, NextCall, NextOp};
/// use nbdkit::*;
///
/// /// Hides the first 512 bytes of the disk.
/// struct Shift;
///
/// impl Filter for Shift {
///     fn name() -> &'static str {
///         "shift"
///     }
///     fn open(_: &mut NextOpen, _: bool, _: &str, _: bool) -> Result<Box<dyn Filter>> {
///         Ok(Box::new(Shift))
///     }
///     fn get_size(&self, next: &Next) -> Result<u64> {
///         Ok(next.get_size()?.saturating_sub(512))
///     }
///     fn read_at(&self, next: &Next, buf: &mut [u8], offset: u64, flags: Flags) -> Result<()> {
///         next.read_at(buf, offset + 512, flags)
///     }
/// }
///
/// filter!(Shift { get_size, read_at });
///
/// // In the filter crate: #[cfg(test)] mod tests { ... #[test] fn ... }
/// fn shifts_reads() -> Result<()> {
///     let harness = FilterHarness::<Shift>::new();
///     let mut disk = vec![0u8; 4096];
///     disk[512] = 7;
///     harness.backend().set_data(disk);
///     let conn = harness.open(false)?;
///     assert_eq!(conn.get_size()?, 4096 - 512);
///     let mut buf = [0u8; 4];
///     conn.pread(&mut buf, 0, Flags::empty())?;
///     assert_eq!(buf, [7, 0, 0, 0]);
///     assert!(harness.backend().calls().contains(&NextCall::Pread {
///         count: 4,
///         offset: 512,
///         flags: Flags::empty(),
///     }));
///     // A failure of the layer below reaches the client with its
///     // errno, logged once (by the layer below).
///     harness.backend().fail(NextOp::Pread, errno::ENOSPC);
///     let e = conn.pread(&mut buf, 0, Flags::empty()).unwrap_err();
///     assert_eq!(e.errno(), errno::ENOSPC);
///     assert_eq!(harness.errors().len(), 1);
///     // write_at is not in filter!: writes pass straight through.
///     conn.pwrite(&[1, 2], 0, Flags::empty())?;
///     assert_eq!(&harness.backend().data()[..2], &[1, 2]);
///     Ok(())
/// }
/// # fn main() { shifts_reads().unwrap() }
/// ```
pub struct FilterHarness<F: Filter> {
    filter: Descriptor,
    /// Boxed: the loader's opaque pointers point to it.
    backend: Box<NextBackend>,
    phase: Cell<Phase>,
    connections: Cell<usize>,
    _lock: host::Lock,
    _filter_type: PhantomData<fn() -> F>,
}

impl<F: Filter> std::fmt::Debug for FilterHarness<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FilterHarness")
            .field("filter", &F::name())
            .field("phase", &self.phase.get())
            .field("connections", &self.connections.get())
            .field("backend", &self.backend)
            .finish()
    }
}

/// A data callback, which hands its errno back in `*err`: the
/// [`Error`] a client would see if it failed.
fn data_call(callback: &str, run: impl FnOnce(*mut c_int) -> c_int) -> Result<()> {
    let since = host::with_state(|s| s.events.len());
    let mut err: c_int = 0;
    if run(&mut err) == -1 {
        return Err(failure(callback, since, Some(err)));
    }
    Ok(())
}

impl<F: Filter> FilterHarness<F> {
    /// Load the filter `F` as nbdkit-rust-filter.so does: call the entry
    /// point that `filter!(F {...})` defined with the fake nbdkit's host
    /// table, then the filter's `load`.  The layer below is a fresh
    /// [`NextBackend`].
    ///
    /// Waits until no other thread has a harness (of either kind).
    ///
    /// # Panics
    ///
    /// If the entry point returns NULL (the descriptor cannot be built:
    /// the panic message has the errors it logged), if the filter that
    /// `filter!` registered is not named `F::name()`, if its `load`
    /// fails (nbdkit then exits with status 1), or if this thread
    /// already has a harness.
    ///
    /// It fails to link if the test binary has no `filter!`.
    #[allow(clippy::new_without_default)]
    pub fn new() -> FilterHarness<F> {
        extern "C" {
            // Defined by filter!, in the crate whose tests call this.
            fn nbdkit_rust_filter_v1(host: *const nbdkit_rust_host) -> *const nbdkit_rust_filter;
        }
        let lock = host::lock();
        // SAFETY: the entry point filter! defines has the header's type,
        // and the fake table is never freed or changed.
        let p = unsafe { nbdkit_rust_filter_v1(host::installed()) };
        let filter = Raw::checked(p, "filter", "FilterHarness", F::name(), |d| {
            (d.abi_major, d.name)
        });
        FilterHarness::start_with(filter, lock)
    }

    /// A harness for a descriptor the SDK's own tests built.
    #[cfg(test)]
    pub(crate) fn with_descriptor(
        descriptor: crate::__private::FilterDescriptor,
    ) -> FilterHarness<F> {
        let lock = host::lock();
        // Leaked: it lives for the process, as a filter's does.
        let descriptor: &'static crate::__private::FilterDescriptor =
            Box::leak(Box::new(descriptor));
        FilterHarness::start_with(Raw(descriptor.raw()), lock)
    }

    fn start_with(filter: Descriptor, lock: host::Lock) -> FilterHarness<F> {
        crate::filter_glue::forget_thread_model();
        if let Some(load) = filter.load {
            // SAFETY: a callback of the descriptor, called first, once.
            if let Err(e) = int_call("load", || unsafe { load() }) {
                panic!(
                    "nbdkit::testing: the filter's load failed, so nbdkit would exit with \
                     status 1: {}",
                    e
                );
            }
        }
        FilterHarness {
            filter,
            backend: Box::new(NextBackend::new()),
            phase: Cell::new(Phase::Loaded),
            connections: Cell::new(0),
            _lock: lock,
            _filter_type: PhantomData,
        }
    }

    /// The layer below: set its answers and contents, make its calls
    /// fail, see the calls the filter made.
    pub fn backend(&self) -> &NextBackend {
        &self.backend
    }

    fn check_configuring(&self, callback: &str) {
        check_configuring(self.phase.get(), "filter", callback);
    }

    /// Pass `key=value` to the filter's `config`, as nbdkit does with
    /// each parameter; without `config` in `filter!`, straight to the
    /// layer below, which takes every key (and records it as
    /// [`NextCall::Config`](super::NextCall::Config)).
    ///
    /// # Panics
    ///
    /// After configuration (`config_complete`) has happened.
    pub fn config(&self, key: &str, value: &str) -> Result<()> {
        self.check_configuring("config");
        let (key, value) = (c_arg("config", key)?, c_arg("config", value)?);
        let call = self.backend.as_call();
        let f = self.filter.config.unwrap_or(fake_next::next_config);
        // SAFETY: the filter's callback (or the layer below's), with the
        // harness's call and NUL-terminated strings valid for the call.
        int_call("config", || unsafe {
            f(call, key.as_ptr(), value.as_ptr())
        })?;
        Ok(())
    }

    /// End configuration: the filter's `config_complete` (or the layer
    /// below's).  [`start`](Self::start) and [`open`](Self::open) call
    /// it if the test has not.
    ///
    /// # Panics
    ///
    /// If configuration already ended.
    pub fn config_complete(&self) -> Result<()> {
        self.check_configuring("config_complete");
        let call = self.backend.as_call();
        let f = self
            .filter
            .config_complete
            .unwrap_or(fake_next::next_config_complete);
        // SAFETY: the filter's callback (or the layer below's), with the
        // harness's call.
        int_call("config_complete", || unsafe { f(call) })?;
        self.phase.set(Phase::Configured);
        host::with_state(|s| s.configured = true);
        Ok(())
    }

    /// The thread model the filter asks for: its `thread_model`
    /// (`Parallel` without one), never looser than its maximum.  (nbdkit
    /// uses the strictest of all layers; the fake layer below is
    /// parallel.)
    pub fn thread_model(&self) -> Result<ThreadModel> {
        let mut model = self.filter.max_thread_model;
        if let Some(thread_model) = self.filter.thread_model {
            // SAFETY: a callback of the descriptor, no arguments.
            model = model.min(int_call("thread_model", || unsafe { thread_model() })?);
        }
        Ok(ThreadModel::from_raw(model))
    }

    /// Get ready to serve, as nbdkit does once configured:
    /// `config_complete` (if not called yet), `thread_model`,
    /// `get_ready` with the model, then `after_fork` with the backend.
    /// Calling it again does nothing.
    pub fn start(&self) -> Result<()> {
        if self.phase.get() == Phase::Serving {
            return Ok(());
        }
        if self.phase.get() == Phase::Loaded {
            self.config_complete()?;
        }
        let model = self.thread_model()?;
        if let Some(get_ready) = self.filter.get_ready {
            // SAFETY: a callback of the descriptor, a plain integer.
            int_call("get_ready", || unsafe { get_ready(model.into()) })?;
        }
        if let Some(after_fork) = self.filter.after_fork {
            let backend = self.backend.as_backend();
            // SAFETY: a callback of the descriptor, with the harness's
            // backend, alive until cleanup.
            int_call("after_fork", || unsafe { after_fork(backend) })?;
        }
        self.phase.set(Phase::Serving);
        Ok(())
    }

    /// The filter's `preconnect` for a new client (or the layer
    /// below's).
    pub fn preconnect(&self, readonly: bool) -> Result<()> {
        self.start()?;
        let call = self.backend.as_call();
        let f = self.filter.preconnect.unwrap_or(fake_next::next_preconnect);
        // SAFETY: the filter's callback (or the layer below's), with the
        // harness's call.
        int_call("preconnect", || unsafe { f(call, c_int::from(readonly)) })?;
        Ok(())
    }

    /// The exports a client listing them gets, as `(name, description)`:
    /// what the filter's `list_exports` (or the layer below's) added,
    /// then the default export if it asked for it.
    pub fn list_exports(
        &self,
        readonly: bool,
        is_tls: bool,
    ) -> Result<Vec<(String, Option<String>)>> {
        self.start()?;
        let mut exports = host::Exports::default();
        let ptr = exports.as_ptr();
        let call = self.backend.as_call();
        let (ro, tls) = (c_int::from(readonly), c_int::from(is_tls));
        match self.filter.list_exports {
            // SAFETY: a callback of the descriptor; the fake host takes
            // `ptr` to be `exports`, which outlives the call.
            Some(f) => int_call("list_exports", || unsafe { f(call, ro, tls, ptr) })?,
            // SAFETY: the layer below's, as above.
            None => int_call("list_exports", || unsafe {
                fake_next::next_list_exports(call, ro, ptr)
            })?,
        };
        if exports.use_default {
            let name = self.default_export(readonly, is_tls)?;
            exports.list.push((name, None));
        }
        Ok(exports.list)
    }

    /// The name of the default export: the filter's `default_export`
    /// (or the layer below's).
    pub fn default_export(&self, readonly: bool, is_tls: bool) -> Result<String> {
        self.start()?;
        let call = self.backend.as_call();
        let (ro, tls) = (c_int::from(readonly), c_int::from(is_tls));
        let f = self.filter.default_export;
        let p = super::call(
            "default_export",
            || match f {
                // SAFETY: a callback of the descriptor, with the
                // harness's call.
                Some(f) => unsafe { f(call, ro, tls) },
                // SAFETY: the layer below's, as above.
                None => unsafe { fake_next::next_default_export(call, ro) },
            },
            |p| p.is_null(),
        )?;
        // SAFETY: a non-NULL answer is an interned string.
        unsafe { returned_string("default_export", p) }
    }

    /// A new client connection: the filter's `open`, then, as nbdkit
    /// does, the layer below's `prepare` and the filter's.  Starts the
    /// filter first if needed ([`start`](Self::start)).  The export name
    /// and TLS are the client's ([`set_export_name`](Self::set_export_name),
    /// [`set_tls`](Self::set_tls)).
    pub fn open(&self, readonly: bool) -> Result<FilterConnection<'_>> {
        self.start()?;
        let (name, tls) = host::with_state(|s| (s.client.export_name.clone(), s.client.tls));
        let open = self.filter.open.expect("open is required");
        let mut context = Box::new(Context::new(&self.backend));
        let ctx = context.as_ptr();
        let call = self.backend.as_call();
        // SAFETY: a callback of the descriptor, with the harness's call,
        // a live context and a NUL-terminated export name.
        let handle = super::call(
            "open",
            || unsafe {
                open(
                    call,
                    ctx,
                    c_int::from(readonly),
                    name.as_ptr(),
                    c_int::from(tls),
                )
            },
            |h| h.is_null(),
        );
        let handle = match handle {
            Ok(handle) => handle,
            Err(e) => {
                // SAFETY: a layer below the failed open left open is
                // nbdkit's to close.
                unsafe { fake_next::next_context_close(context.next()) };
                return Err(e);
            }
        };
        self.connections.set(self.connections.get() + 1);
        let mut conn = FilterConnection {
            filter: self.filter,
            handle,
            context,
            readonly,
            prepared: false,
            connections: &self.connections,
        };
        conn.prepare()?;
        Ok(conn)
    }

    /// How many connections are open: opened and not yet closed.
    pub fn open_connections(&self) -> usize {
        self.connections.get()
    }

    /// Everything recorded so far, oldest first (see
    /// [`Harness::events`](super::Harness::events)).
    pub fn events(&self) -> Vec<Event> {
        events()
    }

    /// The messages logged with nbdkit_error so far, oldest first: the
    /// filter's and those of the layer below's injected failures.
    pub fn errors(&self) -> Vec<String> {
        errors()
    }

    /// The messages logged with nbdkit_debug so far, oldest first.
    pub fn debug_messages(&self) -> Vec<String> {
        debug_messages()
    }

    /// Forget the events recorded so far.
    pub fn clear_events(&self) {
        host::with_state(|s| s.events.clear());
    }

    /// The export name clients ask for from now on; `""` by default.
    ///
    /// # Panics
    ///
    /// If `name` contains a NUL byte.
    pub fn set_export_name(&self, name: &str) {
        let name = std::ffi::CString::new(name).expect("an export name has no NUL byte");
        host::with_state(|s| s.client.export_name = name);
    }

    /// Whether clients from now on have completed TLS; false by default.
    pub fn set_tls(&self, tls: bool) {
        host::with_state(|s| s.client.tls = tls);
    }
}

/// nbdkit's end of a run: `cleanup` if the filter started serving, then
/// `unload`.
impl<F: Filter> Drop for FilterHarness<F> {
    fn drop(&mut self) {
        if self.phase.get() == Phase::Serving {
            if let Some(cleanup) = self.filter.cleanup {
                // SAFETY: a callback of the descriptor, with the
                // harness's backend, after every connection closed (they
                // borrow the harness).
                unsafe { cleanup(self.backend.as_backend()) };
            }
        }
        if let Some(unload) = self.filter.unload {
            // SAFETY: a callback of the descriptor, no arguments, last.
            unsafe { unload() };
        }
    }
}

/// One client connection of a [`FilterHarness`]: the requests nbdkit
/// would pass the filter, answered as a client would see them.  A
/// request whose callback the filter lacks goes straight to the layer
/// below, as the loader passes it.
///
/// Dropping it closes it as nbdkit does: the filter's `finalize`, the
/// layer below's, then the filter's value is dropped and the layer
/// below closed.
pub struct FilterConnection<'a> {
    filter: Descriptor,
    /// The filter's handle; NULL once closed.
    handle: *mut c_void,
    context: Box<Context>,
    readonly: bool,
    prepared: bool,
    connections: &'a Cell<usize>,
}

impl std::fmt::Debug for FilterConnection<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FilterConnection")
            .field("handle", &self.handle)
            .field("prepared", &self.prepared)
            .finish()
    }
}

/// The queries answering yes or no.
macro_rules! can_bool {
    ($($(#[$doc:meta])* $name:ident => $below:ident;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(&self) -> Result<bool> {
                self.query(stringify!($name), self.filter.$name, fake_next::$below)
                    .map(|r| r != 0)
            }
        )*
    };
}

/// The requests of a range without a buffer.
macro_rules! range {
    ($($(#[$doc:meta])* $name:ident => $below:ident;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(&self, count: u32, offset: u64, flags: Flags) -> Result<()> {
                let (next, handle, flags) = (self.next(), self.handle, flags.bits());
                match self.filter.$name {
                    // SAFETY: a callback of the descriptor with the live
                    // handle and the connection's layer below.
                    Some(f) => data_call(stringify!($name), |err| unsafe {
                        f(next, handle, count, offset, flags, err)
                    }),
                    // SAFETY: the layer below's, with its connection.
                    None => data_call(stringify!($name), |err| unsafe {
                        fake_next::$below(next, count, offset, flags, err)
                    }),
                }
            }
        )*
    };
}

impl FilterConnection<'_> {
    fn next(&self) -> *mut crate::ffi::nbdkit_rust_next {
        self.context.next()
    }

    /// nbdkit's prepare: the layer below's first, then the filter's.
    fn prepare(&mut self) -> Result<()> {
        let next = self.next();
        if !next.is_null() {
            // SAFETY: the layer below's, with its connection.
            int_call("prepare", || unsafe { fake_next::next_prepare(next) })?;
        }
        if let Some(prepare) = self.filter.prepare {
            let (handle, ro) = (self.handle, c_int::from(self.readonly));
            // SAFETY: a callback of the descriptor with the live handle.
            int_call("prepare", || unsafe { prepare(next, handle, ro) })?;
        }
        self.prepared = true;
        Ok(())
    }

    /// A query: the filter's callback, or the layer below's.
    fn query(
        &self,
        callback: &str,
        own: Option<unsafe extern "C" fn(*mut crate::ffi::nbdkit_rust_next, *mut c_void) -> c_int>,
        below: unsafe extern "C" fn(*mut crate::ffi::nbdkit_rust_next) -> c_int,
    ) -> Result<c_int> {
        let (next, handle) = (self.next(), self.handle);
        match own {
            // SAFETY: a callback of the descriptor with the live handle
            // and the connection's layer below.
            Some(f) => int_call(callback, || unsafe { f(next, handle) }),
            // SAFETY: the layer below's, with its connection.
            None => int_call(callback, || unsafe { below(next) }),
        }
    }

    /// The size of the disk (`get_size`).
    pub fn get_size(&self) -> Result<u64> {
        let (next, handle) = (self.next(), self.handle);
        let size = match self.filter.get_size {
            // SAFETY: a callback of the descriptor with the live handle.
            Some(f) => call("get_size", || unsafe { f(next, handle) }, |s| *s == -1)?,
            None => call(
                "get_size",
                // SAFETY: the layer below's, with its connection.
                || unsafe { fake_next::next_get_size(next) },
                |s| *s == -1,
            )?,
        };
        Ok(size as u64)
    }

    /// The export's description, if any.
    pub fn export_description(&self) -> Result<Option<String>> {
        let (next, handle) = (self.next(), self.handle);
        let since = host::with_state(|s| s.events.len());
        let p = match self.filter.export_description {
            // SAFETY: a callback of the descriptor with the live handle.
            Some(f) => unsafe { f(next, handle) },
            // SAFETY: the layer below's, with its connection.
            None => unsafe { fake_next::next_export_description(next) },
        };
        if p.is_null() {
            // NULL is "none", or an error if one was logged.
            let logged = host::with_state(|s| {
                s.events[since..]
                    .iter()
                    .any(|e| matches!(e, Event::Error(_)))
            });
            return if logged {
                Err(failure("export_description", since, None))
            } else {
                Ok(None)
            };
        }
        // SAFETY: a non-NULL answer is an interned string.
        unsafe { returned_string("export_description", p) }.map(Some)
    }

    /// The block size constraints `(minimum, preferred, maximum)`.
    pub fn block_size(&self) -> Result<(u32, u32, u32)> {
        let (next, handle) = (self.next(), self.handle);
        let (mut min, mut pref, mut max) = (0u32, 0u32, 0u32);
        let (a, b, c) = (
            &mut min as *mut u32,
            &mut pref as *mut u32,
            &mut max as *mut u32,
        );
        match self.filter.block_size {
            // SAFETY: a callback of the descriptor with the live handle
            // and three writable slots.
            Some(f) => int_call("block_size", || unsafe { f(next, handle, a, b, c) })?,
            // SAFETY: the layer below's, as above.
            None => int_call("block_size", || unsafe {
                fake_next::next_block_size(next, a, b, c)
            })?,
        };
        Ok((min, pref, max))
    }

    can_bool! {
        /// Whether the export is writable.
        can_write => next_can_write;
        /// Whether flush works.
        can_flush => next_can_flush;
        /// Whether the disk is rotational.
        is_rotational => next_is_rotational;
        /// Whether trim works.
        can_trim => next_can_trim;
        /// Whether fast zeroes fail at once when slow.
        can_fast_zero => next_can_fast_zero;
        /// Whether extents are reported.
        can_extents => next_can_extents;
        /// Whether several connections see the same data.
        can_multi_conn => next_can_multi_conn;
    }

    /// How zero requests are served.
    pub fn can_zero(&self) -> Result<ZeroMode> {
        let r = self.query("can_zero", self.filter.can_zero, fake_next::next_can_zero)?;
        Ok(ZeroMode::from_raw(r))
    }

    /// How FUA is served.
    pub fn can_fua(&self) -> Result<FuaFlags> {
        let r = self.query("can_fua", self.filter.can_fua, fake_next::next_can_fua)?;
        Ok(FuaFlags::from_raw(r))
    }

    /// How cache requests are served.
    pub fn can_cache(&self) -> Result<CacheFlags> {
        let r = self.query(
            "can_cache",
            self.filter.can_cache,
            fake_next::next_can_cache,
        )?;
        Ok(CacheFlags::from_raw(r))
    }

    /// Read `buf.len()` bytes at `offset`, as the layer above passes the
    /// filter a buffer: [`Filter::read_at`] gets it zeroed by the SDK,
    /// [`Filter::read_at_uninit`] (listed) as it is, with the test's
    /// bytes in it ([`assert_pread_fills`](Self::assert_pread_fills)
    /// checks every byte is written).
    pub fn pread(&self, buf: &mut [u8], offset: u64, flags: Flags) -> Result<()> {
        let n = count(buf.len())?;
        let (next, handle, flags) = (self.next(), self.handle, flags.bits());
        let ptr = buf.as_mut_ptr().cast::<c_void>();
        match self.filter.pread {
            // SAFETY: a callback of the descriptor with the live handle
            // and a buffer of `n` writable, initialised bytes.
            Some(f) => data_call("pread", |err| unsafe {
                f(next, handle, ptr, n, offset, flags, err)
            }),
            // SAFETY: the layer below's, as above.
            None => data_call("pread", |err| unsafe {
                fake_next::next_pread(next, ptr, n, offset, flags, err)
            }),
        }
    }

    /// Read `count` bytes at `offset` twice, into buffers of two garbage
    /// patterns, and check that the filter wrote every byte (see
    /// [`Connection::assert_pread_fills`](super::Connection::assert_pread_fills)).
    ///
    /// # Panics
    ///
    /// If the two reads differ.
    pub fn assert_pread_fills(&self, count: u32, offset: u64) -> Result<Vec<u8>> {
        assert_fills(
            count,
            offset,
            |buf, o| self.pread(buf, o, Flags::empty()),
            "the filter's read_at_uninit",
        )
    }

    /// Write `buf` at `offset`.
    pub fn pwrite(&self, buf: &[u8], offset: u64, flags: Flags) -> Result<()> {
        let n = count(buf.len())?;
        let (next, handle, flags) = (self.next(), self.handle, flags.bits());
        let ptr = buf.as_ptr().cast::<c_void>();
        match self.filter.pwrite {
            // SAFETY: a callback of the descriptor with the live handle
            // and a buffer of `n` readable bytes.
            Some(f) => data_call("pwrite", |err| unsafe {
                f(next, handle, ptr, n, offset, flags, err)
            }),
            // SAFETY: the layer below's, as above.
            None => data_call("pwrite", |err| unsafe {
                fake_next::next_pwrite(next, ptr, n, offset, flags, err)
            }),
        }
    }

    /// Flush.
    pub fn flush(&self, flags: Flags) -> Result<()> {
        let (next, handle, flags) = (self.next(), self.handle, flags.bits());
        match self.filter.flush {
            // SAFETY: a callback of the descriptor with the live handle.
            Some(f) => data_call("flush", |err| unsafe { f(next, handle, flags, err) }),
            // SAFETY: the layer below's, with its connection.
            None => data_call("flush", |err| unsafe {
                fake_next::next_flush(next, flags, err)
            }),
        }
    }

    range! {
        /// Trim `count` bytes at `offset`.
        trim => next_trim;
        /// Zero `count` bytes at `offset`.
        zero => next_zero;
        /// Cache `count` bytes at `offset`.
        cache => next_cache;
    }

    /// Block status of `count` bytes at `offset`, as nbdkit sends it to
    /// the client: `(offset, length, type)` in order, clipped to the
    /// range, neighbours of one type merged, only the first with
    /// [`Flags::REQ_ONE`].  `EINVAL` if nothing was reported.
    pub fn extents(
        &self,
        count: u32,
        offset: u64,
        flags: Flags,
    ) -> Result<Vec<(u64, u64, ExtentType)>> {
        let mut collected = host::Extents::new(offset, offset.saturating_add(u64::from(count)));
        let ptr = collected.as_ptr();
        let (next, handle, bits) = (self.next(), self.handle, flags.bits());
        match self.filter.extents {
            // SAFETY: a callback of the descriptor with the live handle;
            // the fake host takes `ptr` to be `collected`, which
            // outlives the call.
            Some(f) => data_call("extents", |err| unsafe {
                f(next, handle, count, offset, bits, ptr, err)
            })?,
            // SAFETY: the layer below's, as above.
            None => data_call("extents", |err| unsafe {
                fake_next::next_extents(next, count, offset, bits, ptr, err)
            })?,
        }
        if collected.list.is_empty() {
            return Err(nbdkit_fails(
                EINVAL,
                "extents: the filter must return at least one extent".into(),
            ));
        }
        let mut list: Vec<_> = collected
            .list
            .iter()
            .map(|&(offset, length, bits)| (offset, length, ExtentType::from_bits(bits)))
            .collect();
        if flags.contains(Flags::REQ_ONE) {
            list.truncate(1);
        }
        Ok(list)
    }

    /// Close the connection as nbdkit does: `finalize` (the filter's,
    /// then the layer below's), then the filter's value is dropped and
    /// the layer below closed.  An error if any of that logged one.
    pub fn close(mut self) -> Result<()> {
        self.close_once()
    }

    fn close_once(&mut self) -> Result<()> {
        if self.handle.is_null() {
            return Ok(());
        }
        let handle = std::mem::replace(&mut self.handle, std::ptr::null_mut());
        self.connections.set(self.connections.get() - 1);
        let since = host::with_state(|s| s.events.len());
        let next = self.next();
        if self.prepared {
            if let Some(finalize) = self.filter.finalize {
                // SAFETY: a callback of the descriptor with the handle,
                // still open.
                unsafe { finalize(next, handle) };
            }
            if !next.is_null() {
                // SAFETY: the layer below's, with its connection.
                unsafe { fake_next::next_finalize(next) };
            }
        }
        if let Some(close) = self.filter.close {
            // SAFETY: a callback of the descriptor with the handle open
            // returned, closed exactly once (it is NULL from now on).
            unsafe { close(handle) };
        }
        // SAFETY: the layer below's connection, closed once, by nbdkit.
        unsafe { fake_next::next_context_close(next) };
        self.context.next = std::ptr::null_mut();
        let logged = errors_since(since);
        if logged.is_empty() {
            Ok(())
        } else {
            Err(Error::new(crate::errno::EIO, logged.join("\n")))
        }
    }
}

/// The errors logged since event `since`.
fn errors_since(since: usize) -> Vec<String> {
    host::with_state(|s| {
        s.events[since..]
            .iter()
            .filter_map(|e| match e {
                Event::Error(m) => Some(m.clone()),
                _ => None,
            })
            .collect()
    })
}

impl Drop for FilterConnection<'_> {
    fn drop(&mut self) {
        // Errors were recorded as events; a drop cannot return them.
        let _ = self.close_once();
    }
}
