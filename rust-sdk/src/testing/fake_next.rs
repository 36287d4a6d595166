// SPDX-License-Identifier: BSD-2-Clause
//! The layer below a filter in [`FilterHarness`](super::FilterHarness):
//! [`NextBackend`], an in-memory disk with settable answers and
//! injectable failures that records every call the filter makes down,
//! and the host table's next_* and context functions over it.
//!
//! The loader's opaque pointers are, here: a `nbdkit_rust_next_call` and
//! a `nbdkit_rust_backend` point to the harness's [`NextBackend`]; a
//! `nbdkit_rust_context` to a [`Context`] (one per harness connection);
//! a `nbdkit_rust_next` to a boxed [`FakeNext`] (a connection of the
//! layer below).

use std::ffi::CStr;
use std::ops::Range;
use std::os::raw::{c_char, c_int, c_void};
use std::ptr;
use std::sync::{Arc, Mutex, PoisonError};

use super::host::{intern, nbdkit_error, Exports, Extents};
use crate::errno::{EINVAL, EIO, EROFS};
use crate::ffi::{
    nbdkit_exports, nbdkit_extents, nbdkit_rust_backend, nbdkit_rust_context, nbdkit_rust_next,
    nbdkit_rust_next_call,
};
use crate::{CacheFlags, ExtentType, Flags, FuaFlags, ZeroMode};

/// One kind of call a filter makes to the layer below: what
/// [`NextBackend::fail`] makes fail.  [`NextCall::op`] tells a recorded
/// call's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NextOp {
    /// `next.config(key, value)`.
    Config,
    /// `next.config_complete()`.
    ConfigComplete,
    /// `next.preconnect(readonly)`.
    Preconnect,
    /// `next.list_exports(readonly, exports)`.
    ListExports,
    /// `next.default_export(readonly)`.
    DefaultExport,
    /// Opening the layer below: `next.open(...)` (or the SDK's, after
    /// `open`) and [`Backend::open_next`](crate::Backend::open_next).
    Open,
    /// Preparing a connection of the layer below.
    Prepare,
    /// Finalizing a connection of the layer below.
    Finalize,
    /// `get_size`.
    GetSize,
    /// `export_description`.
    ExportDescription,
    /// `block_size`.
    BlockSize,
    /// `can_write`.
    CanWrite,
    /// `can_flush`.
    CanFlush,
    /// `is_rotational`.
    IsRotational,
    /// `can_trim`.
    CanTrim,
    /// `can_zero`.
    CanZero,
    /// `can_fast_zero`.
    CanFastZero,
    /// `can_extents`.
    CanExtents,
    /// `can_fua`.
    CanFua,
    /// `can_multi_conn`.
    CanMultiConn,
    /// `can_cache`.
    CanCache,
    /// `read_at` (pread).
    Pread,
    /// `write_at` (pwrite).
    Pwrite,
    /// `flush`.
    Flush,
    /// `trim`.
    Trim,
    /// `zero`.
    Zero,
    /// `extents` (and `extents_full`).
    Extents,
    /// `cache`.
    Cache,
}

/// A call the filter made to the layer below, with its arguments, as
/// [`NextBackend::calls`] records it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NextCall {
    /// `config`, with the key and value passed on.
    Config {
        /// The key.
        key: String,
        /// The value.
        value: String,
    },
    /// `config_complete`.
    ConfigComplete,
    /// `preconnect`.
    Preconnect {
        /// As passed on.
        readonly: bool,
    },
    /// `list_exports`.
    ListExports {
        /// As passed on.
        readonly: bool,
    },
    /// `default_export`.
    DefaultExport {
        /// As passed on.
        readonly: bool,
    },
    /// A connection of the layer below opened.
    Open {
        /// As passed on.
        readonly: bool,
        /// As passed on.
        export_name: String,
        /// True for [`Backend::open_next`](crate::Backend::open_next)
        /// with `shared`.
        shared: bool,
    },
    /// A connection of the layer below prepared.
    Prepare,
    /// A connection of the layer below finalized.
    Finalize,
    /// A connection of the layer below closed.
    Close,
    /// `get_size`.
    GetSize,
    /// `export_description`.
    ExportDescription,
    /// `block_size`.
    BlockSize,
    /// `can_write`.
    CanWrite,
    /// `can_flush`.
    CanFlush,
    /// `is_rotational`.
    IsRotational,
    /// `can_trim`.
    CanTrim,
    /// `can_zero`.
    CanZero,
    /// `can_fast_zero`.
    CanFastZero,
    /// `can_extents`.
    CanExtents,
    /// `can_fua`.
    CanFua,
    /// `can_multi_conn`.
    CanMultiConn,
    /// `can_cache`.
    CanCache,
    /// A read of `count` bytes at `offset`.
    Pread {
        /// Bytes.
        count: u32,
        /// Where.
        offset: u64,
        /// As passed on.
        flags: Flags,
    },
    /// A write of `count` bytes at `offset`.
    Pwrite {
        /// Bytes.
        count: u32,
        /// Where.
        offset: u64,
        /// As passed on.
        flags: Flags,
    },
    /// `flush`.
    Flush {
        /// As passed on.
        flags: Flags,
    },
    /// `trim`.
    Trim {
        /// Bytes.
        count: u32,
        /// Where.
        offset: u64,
        /// As passed on.
        flags: Flags,
    },
    /// `zero`.
    Zero {
        /// Bytes.
        count: u32,
        /// Where.
        offset: u64,
        /// As passed on.
        flags: Flags,
    },
    /// `extents` (`extents_full` records one without
    /// [`Flags::REQ_ONE`]).
    Extents {
        /// Bytes.
        count: u32,
        /// Where.
        offset: u64,
        /// As passed on.
        flags: Flags,
    },
    /// `cache`.
    Cache {
        /// Bytes.
        count: u32,
        /// Where.
        offset: u64,
        /// As passed on.
        flags: Flags,
    },
}

impl NextCall {
    /// The kind of call, as [`NextBackend::fail`] names it; `None` for
    /// [`NextCall::Close`], which cannot fail.
    pub fn op(&self) -> Option<NextOp> {
        Some(match self {
            NextCall::Config { .. } => NextOp::Config,
            NextCall::ConfigComplete => NextOp::ConfigComplete,
            NextCall::Preconnect { .. } => NextOp::Preconnect,
            NextCall::ListExports { .. } => NextOp::ListExports,
            NextCall::DefaultExport { .. } => NextOp::DefaultExport,
            NextCall::Open { .. } => NextOp::Open,
            NextCall::Prepare => NextOp::Prepare,
            NextCall::Finalize => NextOp::Finalize,
            NextCall::Close => return None,
            NextCall::GetSize => NextOp::GetSize,
            NextCall::ExportDescription => NextOp::ExportDescription,
            NextCall::BlockSize => NextOp::BlockSize,
            NextCall::CanWrite => NextOp::CanWrite,
            NextCall::CanFlush => NextOp::CanFlush,
            NextCall::IsRotational => NextOp::IsRotational,
            NextCall::CanTrim => NextOp::CanTrim,
            NextCall::CanZero => NextOp::CanZero,
            NextCall::CanFastZero => NextOp::CanFastZero,
            NextCall::CanExtents => NextOp::CanExtents,
            NextCall::CanFua => NextOp::CanFua,
            NextCall::CanMultiConn => NextOp::CanMultiConn,
            NextCall::CanCache => NextOp::CanCache,
            NextCall::Pread { .. } => NextOp::Pread,
            NextCall::Pwrite { .. } => NextOp::Pwrite,
            NextCall::Flush { .. } => NextOp::Flush,
            NextCall::Trim { .. } => NextOp::Trim,
            NextCall::Zero { .. } => NextOp::Zero,
            NextCall::Extents { .. } => NextOp::Extents,
            NextCall::Cache { .. } => NextOp::Cache,
        })
    }
}

/// What the layer below answers and holds.
struct State {
    disk: Vec<u8>,
    can_write: bool,
    can_flush: bool,
    is_rotational: bool,
    can_trim: bool,
    can_zero: ZeroMode,
    can_fast_zero: bool,
    can_extents: bool,
    can_fua: FuaFlags,
    can_multi_conn: bool,
    can_cache: CacheFlags,
    block_size: (u32, u32, u32),
    export_description: Option<String>,
    default_export: String,
    /// `None`: the default export only.
    exports: Option<Vec<(String, Option<String>)>>,
    /// `None`: the whole disk is one allocated extent.
    extents: Option<Vec<(u64, u64, ExtentType)>>,
    failures: Vec<(NextOp, i32)>,
    calls: Vec<NextCall>,
    open_connections: usize,
}

/// The layer below a filter in a [`FilterHarness`](super::FilterHarness):
/// an in-memory disk that answers like `nbdkit memory 1M` by default
/// (1 MiB of zeroes, writable, every feature native, one allocated
/// extent), whose answers the test sets, whose calls can be made to
/// fail, and which records every call the filter makes to it.
///
/// A failure is what a plugin's failure is: an error logged (the
/// [`Event::Error`](super::Event::Error) `"<call>: injected failure"`)
/// and the errno given to [`fail`](NextBackend::fail) (`EIO` if 0) in
/// the filter's hands.
///
/// All the connections of the harness share the one disk.  A request
/// beyond its end fails with `EINVAL` and an error saying so (nbdkit
/// would never pass it on); a write when [`can_write`](Self::set_can_write)
/// is false fails with `EROFS`.  Trimming zeroes the range, as the
/// memory plugin does.
pub struct NextBackend {
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for NextBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.with(|s| {
            f.debug_struct("NextBackend")
                .field("size", &s.disk.len())
                .field("calls", &s.calls.len())
                .finish()
        })
    }
}

/// A setter of one answer.
macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident: $field:ident: $t:ty;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(&self, answer: $t) {
                self.with(|s| s.$field = answer);
            }
        )*
    };
}

impl NextBackend {
    /// A fresh layer below: 1 MiB of zeroes, answering as `nbdkit
    /// memory 1M` does.
    pub(crate) fn new() -> NextBackend {
        NextBackend {
            state: Arc::new(Mutex::new(State {
                disk: vec![0; 1 << 20],
                can_write: true,
                can_flush: true,
                is_rotational: false,
                can_trim: true,
                can_zero: ZeroMode::Native,
                can_fast_zero: true,
                can_extents: true,
                can_fua: FuaFlags::Native,
                can_multi_conn: true,
                can_cache: CacheFlags::Native,
                block_size: (0, 0, 0),
                export_description: None,
                default_export: String::new(),
                exports: None,
                extents: None,
                failures: Vec::new(),
                calls: Vec::new(),
                open_connections: 0,
            })),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut state)
    }

    /// The size of the disk.
    pub fn size(&self) -> u64 {
        self.with(|s| s.disk.len() as u64)
    }

    /// Make the disk `size` bytes: cut, or grown with zeroes.
    pub fn set_size(&self, size: u64) {
        let size = usize::try_from(size).expect("a disk that fits in memory");
        self.with(|s| s.disk.resize(size, 0));
    }

    /// A copy of the disk's contents.
    pub fn data(&self) -> Vec<u8> {
        self.with(|s| s.disk.clone())
    }

    /// Replace the disk with `data` (its size too).
    pub fn set_data(&self, data: Vec<u8>) {
        self.with(|s| s.disk = data);
    }

    setters! {
        /// What `can_write` answers (true by default).
        set_can_write: can_write: bool;
        /// What `can_flush` answers (true by default).
        set_can_flush: can_flush: bool;
        /// What `is_rotational` answers (false by default).
        set_is_rotational: is_rotational: bool;
        /// What `can_trim` answers (true by default).
        set_can_trim: can_trim: bool;
        /// What `can_zero` answers ([`ZeroMode::Native`] by default).
        set_can_zero: can_zero: ZeroMode;
        /// What `can_fast_zero` answers (true by default).
        set_can_fast_zero: can_fast_zero: bool;
        /// What `can_extents` answers (true by default).
        set_can_extents: can_extents: bool;
        /// What `can_fua` answers ([`FuaFlags::Native`] by default).
        set_can_fua: can_fua: FuaFlags;
        /// What `can_multi_conn` answers (true by default).
        set_can_multi_conn: can_multi_conn: bool;
        /// What `can_cache` answers ([`CacheFlags::Native`] by default).
        set_can_cache: can_cache: CacheFlags;
        /// What `block_size` answers (`(0, 0, 0)`, none, by default).
        set_block_size: block_size: (u32, u32, u32);
    }

    /// What `export_description` answers (`None` by default).
    pub fn set_export_description(&self, description: Option<&str>) {
        self.with(|s| s.export_description = description.map(str::to_owned));
    }

    /// What `default_export` answers (`""` by default).
    pub fn set_default_export(&self, name: &str) {
        self.with(|s| s.default_export = name.to_owned());
    }

    /// The exports `list_exports` adds, as `(name, description)`; by
    /// default it adds only the default export.
    pub fn set_exports(&self, exports: Vec<(String, Option<String>)>) {
        self.with(|s| s.exports = Some(exports));
    }

    /// The extents of the disk, `(offset, length, type)` in order; by
    /// default one allocated extent covers the whole disk.  `extents`
    /// reports those that overlap the range asked for.
    pub fn set_extents(&self, extents: Vec<(u64, u64, ExtentType)>) {
        self.with(|s| s.extents = Some(extents));
    }

    /// Make every call of kind `op` fail from now on, with `errno` (or
    /// `EIO` if 0) for the data calls, after logging an error.
    pub fn fail(&self, op: NextOp, errno: i32) {
        self.with(|s| {
            s.failures.retain(|(o, _)| *o != op);
            s.failures.push((op, errno));
        });
    }

    /// Make calls of kind `op` succeed again.
    pub fn heal(&self, op: NextOp) {
        self.with(|s| s.failures.retain(|(o, _)| *o != op));
    }

    /// Every call the filter made to the layer below so far (since the
    /// harness was made or [`take_calls`](Self::take_calls)), oldest
    /// first.
    pub fn calls(&self) -> Vec<NextCall> {
        self.with(|s| s.calls.clone())
    }

    /// [`calls`](Self::calls), forgetting them.
    pub fn take_calls(&self) -> Vec<NextCall> {
        self.with(|s| std::mem::take(&mut s.calls))
    }

    /// How many connections of the layer below are open: opened and
    /// not closed yet.
    pub fn open_connections(&self) -> usize {
        self.with(|s| s.open_connections)
    }

    /// The pointer the loader's opaque types stand for, here.
    pub(crate) fn as_call(&self) -> *mut nbdkit_rust_next_call {
        (self as *const NextBackend as *mut NextBackend).cast()
    }

    /// The same pointer, as a backend.
    pub(crate) fn as_backend(&self) -> *mut nbdkit_rust_backend {
        self.as_call().cast()
    }

    /// Record `call` and, if its kind was made to fail, log that and
    /// return the errno (`EIO` for 0).
    fn record(&self, call: NextCall) -> Option<i32> {
        let op = call.op();
        let name = format!("{:?}", call);
        let failure = self.with(|s| {
            s.calls.push(call);
            s.failures
                .iter()
                .find(|(o, _)| Some(*o) == op)
                .map(|&(_, errno)| if errno == 0 { EIO } else { errno })
        });
        if failure.is_some() {
            nbdkit_error(format!("{}: injected failure", name));
        }
        failure
    }

    /// Open a connection of the layer below, as `call` says.
    fn open(&self, readonly: bool, export_name: &str, shared: bool) -> Option<*mut FakeNext> {
        let call = NextCall::Open {
            readonly,
            export_name: export_name.to_owned(),
            shared,
        };
        if self.record(call).is_some() {
            return None;
        }
        self.with(|s| s.open_connections += 1);
        Some(Box::into_raw(Box::new(FakeNext {
            state: Arc::clone(&self.state),
        })))
    }
}

/// A connection of the layer below: `nbdkit_rust_next` here.
pub(crate) struct FakeNext {
    state: Arc<Mutex<State>>,
}

impl FakeNext {
    fn backend(&self) -> NextBackend {
        NextBackend {
            state: Arc::clone(&self.state),
        }
    }
}

/// A harness connection's context: `nbdkit_rust_context` here, with
/// the layer below the filter's `open` gave it.
pub(crate) struct Context {
    backend: *const NextBackend,
    pub(crate) next: *mut FakeNext,
}

impl Context {
    pub(crate) fn new(backend: &NextBackend) -> Context {
        Context {
            backend,
            next: ptr::null_mut(),
        }
    }

    pub(crate) fn as_ptr(&mut self) -> *mut nbdkit_rust_context {
        (self as *mut Context).cast()
    }

    /// The connection's layer below, as the filter callbacks get it.
    pub(crate) fn next(&self) -> *mut nbdkit_rust_next {
        self.next.cast()
    }
}

/// The backend behind a call or backend pointer.
///
/// # Safety
///
/// `p` must be a pointer from [`NextBackend::as_call`] of a live one.
unsafe fn backend<'a, T>(p: *mut T) -> &'a NextBackend {
    // SAFETY: as the caller promises.
    unsafe { &*p.cast::<NextBackend>() }
}

/// The connection behind a next pointer, or an error if it is NULL.
///
/// # Safety
///
/// `p` must be NULL or a live `FakeNext` this module made.
unsafe fn fake<'a>(p: *mut nbdkit_rust_next, what: &str) -> Option<&'a FakeNext> {
    if p.is_null() {
        nbdkit_error(format!(
            "{}: the connection has no layer below (open did not open it)",
            what
        ));
        return None;
    }
    // SAFETY: as the caller promises.
    Some(unsafe { &*p.cast::<FakeNext>() })
}

/// A C string argument, copied.
///
/// # Safety
///
/// `p` must be a NUL-terminated string.
unsafe fn string(p: *const c_char) -> String {
    // SAFETY: as the caller promises.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

// ---------------------------------------------------------------------
// The global calls down the chain.

pub(crate) unsafe extern "C" fn next_config(
    call: *mut nbdkit_rust_next_call,
    key: *const c_char,
    value: *const c_char,
) -> c_int {
    // SAFETY: the harness passes its backend; the SDK NUL-terminated
    // strings.
    let (b, key, value) = unsafe { (backend(call), string(key), string(value)) };
    match b.record(NextCall::Config { key, value }) {
        Some(_) => -1,
        None => 0,
    }
}

pub(crate) unsafe extern "C" fn next_config_complete(call: *mut nbdkit_rust_next_call) -> c_int {
    // SAFETY: the harness passes its backend.
    match unsafe { backend(call) }.record(NextCall::ConfigComplete) {
        Some(_) => -1,
        None => 0,
    }
}

pub(crate) unsafe extern "C" fn next_preconnect(
    call: *mut nbdkit_rust_next_call,
    readonly: c_int,
) -> c_int {
    let readonly = readonly != 0;
    // SAFETY: the harness passes its backend.
    match unsafe { backend(call) }.record(NextCall::Preconnect { readonly }) {
        Some(_) => -1,
        None => 0,
    }
}

pub(crate) unsafe extern "C" fn next_list_exports(
    call: *mut nbdkit_rust_next_call,
    readonly: c_int,
    exports: *mut nbdkit_exports,
) -> c_int {
    // SAFETY: the harness passes its backend.
    let b = unsafe { backend(call) };
    let readonly = readonly != 0;
    if b.record(NextCall::ListExports { readonly }).is_some() {
        return -1;
    }
    // SAFETY: the SDK passes a list of the fake nbdkit's, alive for the
    // call.
    let exports = unsafe { &mut *exports.cast::<Exports>() };
    match b.with(|s| s.exports.clone()) {
        Some(list) => exports.list.extend(list),
        None => exports.use_default = true,
    }
    0
}

pub(crate) unsafe extern "C" fn next_default_export(
    call: *mut nbdkit_rust_next_call,
    readonly: c_int,
) -> *const c_char {
    // SAFETY: the harness passes its backend.
    let b = unsafe { backend(call) };
    let readonly = readonly != 0;
    if b.record(NextCall::DefaultExport { readonly }).is_some() {
        return ptr::null();
    }
    let name = b.with(|s| s.default_export.clone());
    intern(name.as_bytes())
}

pub(crate) unsafe extern "C" fn next_open(
    call: *mut nbdkit_rust_next_call,
    context: *mut nbdkit_rust_context,
    readonly: c_int,
    exportname: *const c_char,
) -> c_int {
    // SAFETY: the harness passes its backend and a live context; the
    // SDK a NUL-terminated string.
    let (b, context, name) = unsafe {
        (
            backend(call),
            &mut *context.cast::<Context>(),
            string(exportname),
        )
    };
    match b.open(readonly != 0, &name, false) {
        Some(next) => {
            assert!(
                context.next.is_null(),
                "nbdkit::testing: the layer below was opened twice for one connection"
            );
            context.next = next;
            0
        }
        None => -1,
    }
}

// ---------------------------------------------------------------------
// Contexts.

pub(crate) unsafe extern "C" fn context_get_backend(
    context: *mut nbdkit_rust_context,
) -> *mut nbdkit_rust_backend {
    // SAFETY: the harness passes a live context, whose backend outlives
    // it.
    let context = unsafe { &*context.cast::<Context>() };
    (context.backend as *mut NextBackend).cast()
}

pub(crate) unsafe extern "C" fn next_context_open(
    b: *mut nbdkit_rust_backend,
    readonly: c_int,
    exportname: *const c_char,
    shared: c_int,
) -> *mut nbdkit_rust_next {
    // SAFETY: the SDK passes the backend the harness handed out, and a
    // NUL-terminated string.
    let (b, name) = unsafe { (backend(b), string(exportname)) };
    match b.open(readonly != 0, &name, shared != 0) {
        Some(next) => next.cast(),
        None => ptr::null_mut(),
    }
}

/// Close a connection of the layer below (nbdkit_next_context_close,
/// and the harness when a connection ends).
pub(crate) unsafe extern "C" fn next_context_close(next: *mut nbdkit_rust_next) {
    if next.is_null() {
        return;
    }
    // SAFETY: a FakeNext this module boxed, closed once.
    let next = unsafe { Box::from_raw(next.cast::<FakeNext>()) };
    let b = next.backend();
    b.record(NextCall::Close);
    b.with(|s| s.open_connections -= 1);
}

pub(crate) unsafe extern "C" fn context_set_next(
    context: *mut nbdkit_rust_context,
    next: *mut nbdkit_rust_next,
) -> *mut nbdkit_rust_next {
    // SAFETY: the harness passes a live context.
    let context = unsafe { &mut *context.cast::<Context>() };
    std::mem::replace(&mut context.next, next.cast()).cast()
}

// ---------------------------------------------------------------------
// A connection's queries.

/// A query: -1 if it was made to fail (or `next` is NULL), else the
/// answer `get` reads.
///
/// # Safety
///
/// `next` must be NULL or a live `FakeNext`.
unsafe fn query<R>(
    next: *mut nbdkit_rust_next,
    call: NextCall,
    failed: R,
    get: impl FnOnce(&State) -> R,
) -> R {
    // SAFETY: as the caller promises.
    let next = match unsafe { fake(next, &format!("{:?}", call)) } {
        Some(next) => next.backend(),
        None => return failed,
    };
    if next.record(call).is_some() {
        return failed;
    }
    next.with(|s| get(s))
}

pub(crate) unsafe extern "C" fn next_prepare(next: *mut nbdkit_rust_next) -> c_int {
    // SAFETY: the SDK passes the next it was given.
    unsafe { query(next, NextCall::Prepare, -1, |_| 0) }
}

pub(crate) unsafe extern "C" fn next_finalize(next: *mut nbdkit_rust_next) -> c_int {
    // SAFETY: the SDK passes the next it was given.
    unsafe { query(next, NextCall::Finalize, -1, |_| 0) }
}

pub(crate) unsafe extern "C" fn next_get_size(next: *mut nbdkit_rust_next) -> i64 {
    // SAFETY: the SDK passes the next it was given.
    unsafe { query(next, NextCall::GetSize, -1, |s| s.disk.len() as i64) }
}

pub(crate) unsafe extern "C" fn next_export_description(
    next: *mut nbdkit_rust_next,
) -> *const c_char {
    // SAFETY: the SDK passes the next it was given.
    let description = unsafe {
        query(next, NextCall::ExportDescription, None, |s| {
            s.export_description.clone()
        })
    };
    match description {
        Some(d) => intern(d.as_bytes()),
        None => ptr::null(),
    }
}

pub(crate) unsafe extern "C" fn next_block_size(
    next: *mut nbdkit_rust_next,
    minimum: *mut u32,
    preferred: *mut u32,
    maximum: *mut u32,
) -> c_int {
    // SAFETY: the SDK passes the next it was given.
    let answer = unsafe { query(next, NextCall::BlockSize, None, |s| Some(s.block_size)) };
    match answer {
        Some((min, pref, max)) => {
            // SAFETY: the SDK passes three writable slots.
            unsafe {
                *minimum = min;
                *preferred = pref;
                *maximum = max;
            }
            0
        }
        None => -1,
    }
}

/// The queries answering an integer.
macro_rules! queries {
    ($($name:ident: $call:ident => |$s:ident| $answer:expr;)*) => {
        $(
            pub(crate) unsafe extern "C" fn $name(next: *mut nbdkit_rust_next) -> c_int {
                // SAFETY: the SDK passes the next it was given.
                unsafe { query(next, NextCall::$call, -1, |$s| c_int::from($answer)) }
            }
        )*
    };
}

queries! {
    next_can_write: CanWrite => |s| s.can_write;
    next_can_flush: CanFlush => |s| s.can_flush;
    next_is_rotational: IsRotational => |s| s.is_rotational;
    next_can_trim: CanTrim => |s| s.can_trim;
    next_can_zero: CanZero => |s| s.can_zero;
    next_can_fast_zero: CanFastZero => |s| s.can_fast_zero;
    next_can_extents: CanExtents => |s| s.can_extents;
    next_can_fua: CanFua => |s| s.can_fua;
    next_can_multi_conn: CanMultiConn => |s| s.can_multi_conn;
    next_can_cache: CanCache => |s| s.can_cache;
}

// ---------------------------------------------------------------------
// A connection's requests.

/// A request: records `call`, fails as injected, checks the range, then
/// runs `serve` on the disk's range; 0, or -1 with `*err` set.
///
/// # Safety
///
/// `next` must be NULL or a live `FakeNext`; `err` writable.
unsafe fn request(
    next: *mut nbdkit_rust_next,
    call: NextCall,
    range: Option<(u32, u64)>,
    err: *mut c_int,
    serve: impl FnOnce(&mut State, Range<usize>) -> Result<(), (i32, String)>,
) -> c_int {
    let name = format!("{:?}", call);
    // SAFETY: as the caller promises.
    let fail = |errno: i32| unsafe {
        *err = errno;
        -1
    };
    // SAFETY: as the caller promises.
    let next = match unsafe { fake(next, &name) } {
        Some(next) => next.backend(),
        None => return fail(EIO),
    };
    if let Some(errno) = next.record(call) {
        return fail(errno);
    }
    let outcome = next.with(|s| {
        let size = s.disk.len() as u64;
        let span = match range {
            None => 0..0,
            Some((count, offset)) => {
                let end = offset.checked_add(u64::from(count));
                match end {
                    Some(end) if end <= size => offset as usize..end as usize,
                    _ => {
                        return Err((
                            EINVAL,
                            format!(
                                "{}: beyond the end of the disk ({} bytes): nbdkit would not \
                                 pass this request on",
                                name, size
                            ),
                        ))
                    }
                }
            }
        };
        serve(s, span)
    });
    match outcome {
        Ok(()) => 0,
        Err((errno, msg)) => {
            nbdkit_error(msg);
            fail(errno)
        }
    }
}

pub(crate) unsafe extern "C" fn next_pread(
    next: *mut nbdkit_rust_next,
    buf: *mut c_void,
    count: u32,
    offset: u64,
    flags: u32,
    err: *mut c_int,
) -> c_int {
    let call = NextCall::Pread {
        count,
        offset,
        flags: Flags::from_bits_truncate(flags),
    };
    let serve = |s: &mut State, span: Range<usize>| {
        // SAFETY: the SDK passes a buffer of `count` writable bytes,
        // which `span` is as long as.
        unsafe { ptr::copy_nonoverlapping(s.disk[span.clone()].as_ptr(), buf.cast(), span.len()) };
        Ok(())
    };
    // SAFETY: the SDK passes the next it was given and a writable errno.
    unsafe { request(next, call, Some((count, offset)), err, serve) }
}

pub(crate) unsafe extern "C" fn next_pwrite(
    next: *mut nbdkit_rust_next,
    buf: *const c_void,
    count: u32,
    offset: u64,
    flags: u32,
    err: *mut c_int,
) -> c_int {
    let call = NextCall::Pwrite {
        count,
        offset,
        flags: Flags::from_bits_truncate(flags),
    };
    let serve = |s: &mut State, span: Range<usize>| {
        if !s.can_write {
            return Err((EROFS, "pwrite: the layer below is read-only".into()));
        }
        let len = span.len();
        // SAFETY: the SDK passes a buffer of `count` readable bytes,
        // which `span` is as long as.
        unsafe { ptr::copy_nonoverlapping(buf.cast(), s.disk[span].as_mut_ptr(), len) };
        Ok(())
    };
    // SAFETY: the SDK passes the next it was given and a writable errno.
    unsafe { request(next, call, Some((count, offset)), err, serve) }
}

pub(crate) unsafe extern "C" fn next_flush(
    next: *mut nbdkit_rust_next,
    flags: u32,
    err: *mut c_int,
) -> c_int {
    let call = NextCall::Flush {
        flags: Flags::from_bits_truncate(flags),
    };
    // SAFETY: the SDK passes the next it was given and a writable errno.
    unsafe { request(next, call, None, err, |_, _| Ok(())) }
}

/// Trim and zero: zeroes over the range, on a writable disk.
fn write_zeroes(s: &mut State, span: Range<usize>) -> Result<(), (i32, String)> {
    if !s.can_write {
        return Err((EROFS, "the layer below is read-only".into()));
    }
    s.disk[span].fill(0);
    Ok(())
}

pub(crate) unsafe extern "C" fn next_trim(
    next: *mut nbdkit_rust_next,
    count: u32,
    offset: u64,
    flags: u32,
    err: *mut c_int,
) -> c_int {
    let flags = Flags::from_bits_truncate(flags);
    let call = NextCall::Trim {
        count,
        offset,
        flags,
    };
    // SAFETY: the SDK passes the next it was given and a writable errno.
    unsafe { request(next, call, Some((count, offset)), err, write_zeroes) }
}

pub(crate) unsafe extern "C" fn next_zero(
    next: *mut nbdkit_rust_next,
    count: u32,
    offset: u64,
    flags: u32,
    err: *mut c_int,
) -> c_int {
    let flags = Flags::from_bits_truncate(flags);
    let call = NextCall::Zero {
        count,
        offset,
        flags,
    };
    // SAFETY: the SDK passes the next it was given and a writable errno.
    unsafe { request(next, call, Some((count, offset)), err, write_zeroes) }
}

pub(crate) unsafe extern "C" fn next_cache(
    next: *mut nbdkit_rust_next,
    count: u32,
    offset: u64,
    flags: u32,
    err: *mut c_int,
) -> c_int {
    let flags = Flags::from_bits_truncate(flags);
    let call = NextCall::Cache {
        count,
        offset,
        flags,
    };
    // SAFETY: the SDK passes the next it was given and a writable errno.
    unsafe { request(next, call, Some((count, offset)), err, |_, _| Ok(())) }
}

pub(crate) unsafe extern "C" fn next_extents(
    next: *mut nbdkit_rust_next,
    count: u32,
    offset: u64,
    flags: u32,
    extents: *mut nbdkit_extents,
    err: *mut c_int,
) -> c_int {
    let flags = Flags::from_bits_truncate(flags);
    let call = NextCall::Extents {
        count,
        offset,
        flags,
    };
    // SAFETY: the SDK passes a list of the fake nbdkit's, alive and
    // untouched for the call.
    let list = unsafe { &mut *extents.cast::<Extents>() };
    let serve = |s: &mut State, span: Range<usize>| {
        let whole = [(0, s.disk.len() as u64, ExtentType::Allocated)];
        let all = s.extents.as_deref().unwrap_or(&whole);
        let (start, end) = (span.start as u64, span.end as u64);
        for &(o, l, t) in all.iter().filter(|(o, l, _)| o + l > start && *o < end) {
            list.add(o, l, u32::from(t)).map_err(|m| (EINVAL, m))?;
            if flags.contains(Flags::REQ_ONE) {
                break;
            }
        }
        Ok(())
    };
    // SAFETY: the SDK passes the next it was given and a writable errno.
    unsafe { request(next, call, Some((count, offset)), err, serve) }
}

/// host->extents_full: a new list of the extents covering the range.
pub(crate) unsafe extern "C" fn extents_full(
    next: *mut nbdkit_rust_next,
    count: u32,
    offset: u64,
    flags: u32,
    err: *mut c_int,
) -> *mut nbdkit_extents {
    let end = offset.saturating_add(u64::from(count));
    let list = Box::into_raw(Box::new(Extents::new(offset, end)));
    let flags = flags & !Flags::REQ_ONE.bits();
    // SAFETY: the SDK passes the next it was given and a writable errno;
    // `list` is alive for the call.
    if unsafe { next_extents(next, count, offset, flags, list.cast(), err) } == -1 {
        // SAFETY: boxed above, freed once.
        drop(unsafe { Box::from_raw(list) });
        return ptr::null_mut();
    }
    list.cast()
}

// ---------------------------------------------------------------------
// Lists of a filter's own.

pub(crate) unsafe extern "C" fn extents_new(start: u64, end: u64) -> *mut nbdkit_extents {
    if start > i64::MAX as u64 || end > i64::MAX as u64 {
        nbdkit_error(format!(
            "nbdkit_extents_new: start ({}) or end ({}) > INT64_MAX",
            start, end
        ));
        return ptr::null_mut();
    }
    if start > end {
        nbdkit_error(format!(
            "nbdkit_extents_new: start ({}) > end ({})",
            start, end
        ));
        return ptr::null_mut();
    }
    Box::into_raw(Box::new(Extents::new(start, end))).cast()
}

pub(crate) unsafe extern "C" fn extents_free(extents: *mut nbdkit_extents) {
    if !extents.is_null() {
        // SAFETY: a list extents_new or extents_full boxed, freed once.
        drop(unsafe { Box::from_raw(extents.cast::<Extents>()) });
    }
}

pub(crate) unsafe extern "C" fn extents_count(extents: *const nbdkit_extents) -> usize {
    // SAFETY: the SDK passes a live list of the fake nbdkit's.
    unsafe { &*extents.cast::<Extents>() }.list.len()
}

pub(crate) unsafe extern "C" fn get_extent(
    extents: *const nbdkit_extents,
    i: usize,
    offset: *mut u64,
    length: *mut u64,
    type_: *mut u32,
) -> c_int {
    // SAFETY: the SDK passes a live list of the fake nbdkit's.
    match unsafe { &*extents.cast::<Extents>() }.list.get(i) {
        Some(&(o, l, t)) => {
            // SAFETY: the SDK passes three writable slots.
            unsafe {
                *offset = o;
                *length = l;
                *type_ = t;
            }
            0
        }
        None => -1,
    }
}

pub(crate) unsafe extern "C" fn exports_new() -> *mut nbdkit_exports {
    Box::into_raw(Box::<Exports>::default()).cast()
}

pub(crate) unsafe extern "C" fn exports_free(exports: *mut nbdkit_exports) {
    if !exports.is_null() {
        // SAFETY: a list exports_new boxed, freed once.
        drop(unsafe { Box::from_raw(exports.cast::<Exports>()) });
    }
}

pub(crate) unsafe extern "C" fn exports_count(exports: *const nbdkit_exports) -> usize {
    // SAFETY: the SDK passes a live list of the fake nbdkit's.
    unsafe { &*exports.cast::<Exports>() }.list.len()
}

pub(crate) unsafe extern "C" fn get_export(
    exports: *const nbdkit_exports,
    i: usize,
    name: *mut *const c_char,
    description: *mut *const c_char,
) -> c_int {
    // SAFETY: the SDK passes a live list of the fake nbdkit's.
    match unsafe { &*exports.cast::<Exports>() }.list.get(i) {
        Some((n, d)) => {
            // The list keeps Rust strings: C copies live as long as the
            // fake nbdkit's other interned strings, longer than the list.
            let d = d.as_ref().map_or(ptr::null(), |d| intern(d.as_bytes()));
            // SAFETY: the SDK passes two writable slots.
            unsafe {
                *name = intern(n.as_bytes());
                *description = d;
            }
            0
        }
        None => -1,
    }
}
