// SPDX-License-Identifier: BSD-2-Clause
//! The `extern "C"` callbacks the descriptor points to, and the entry
//! point's body.
//!
//! Each callback is a short function that turns C arguments into Rust
//! ones, calls the [`Server`] method, and turns the answer back, inside
//! [`call`], which keeps every panic and error from reaching C:
//!
//! * `Err(e)`: host->error with `e`'s text, host->set_error with
//!   `e.errno()` (`EIO` if 0), and the callback's failure value.
//! * a panic: host->error `"<callback>: panic: <message>"`,
//!   host->set_error `EIO`, and the failure value.
//!
//! The global callbacks are generic over the plugin type `T`; the
//! per-connection ones work on the `Box<dyn Server>` that `open` made
//! (the handle is a `*mut Box<dyn Server>`), so there is one copy of
//! them.  The data path (pread, pwrite, zero, trim, flush, extents,
//! cache) neither allocates nor locks unless it fails.

use std::any::{type_name, Any, TypeId};
use std::ffi::CStr;
use std::mem::MaybeUninit;
use std::os::raw::{c_char, c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicI32, Ordering};
use std::{ptr, slice};

use crate::descriptor::{thread_model_name, Descriptor, DescriptorCell};
use crate::errno::{EINVAL, EIO};
use crate::ffi::{
    nbdkit_exports, nbdkit_extents, nbdkit_rust_host, nbdkit_rust_plugin, NBDKIT_RUST_ABI_MAJOR,
    NBDKIT_RUST_HOST_V1_MIN_SIZE,
};
use crate::host;
use crate::server::Seal;
use crate::{Error, ExportList, ExtentHandle, Flags, Result, Server, ThreadModel};

/// Run the body of callback `callback`; on error or panic, report it as
/// the header asks and return `on_error`.
///
/// This runs on every request, so the path where `body` succeeds is
/// only the call itself: `catch_unwind` costs nothing until something
/// panics (its landing pad is out of line), and reporting an error or a
/// panic happens in the cold functions below, never inlined here.
#[inline(always)]
pub(crate) fn call<R>(callback: &'static str, on_error: R, body: impl FnOnce() -> Result<R>) -> R {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            report_error(callback, e, ErrnoSink::SetError);
            on_error
        }
        Err(payload) => {
            report_panic(callback, payload, ErrnoSink::SetError);
            on_error
        }
    }
}

/// [`call`] for the data callbacks of a filter, which hand the errno
/// back in `*err` (as a C filter does) rather than with host->set_error:
/// 0, or -1 with the failure logged and its errno in `*err`.
#[inline(always)]
pub(crate) fn call_err(
    callback: &'static str,
    err: *mut c_int,
    body: impl FnOnce() -> Result<()>,
) -> c_int {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => 0,
        Ok(Err(e)) => {
            report_error(callback, e, ErrnoSink::Store(err));
            -1
        }
        Err(payload) => {
            report_panic(callback, payload, ErrnoSink::Store(err));
            -1
        }
    }
}

/// Where a failing callback's errno goes.
#[derive(Clone, Copy)]
enum ErrnoSink {
    /// host->set_error: plugins, and the filter callbacks without `err`.
    SetError,
    /// The `int *err` of a filter's data callback (NULL: nowhere).
    Store(*mut c_int),
}

impl ErrnoSink {
    fn deliver(self, errno: i32) {
        match self {
            ErrnoSink::SetError => host::set_error(errno),
            ErrnoSink::Store(err) => {
                if !err.is_null() {
                    // SAFETY: the loader passes the `int *err` of the
                    // data callback running now, valid and ours for it.
                    unsafe { *err = errno };
                }
            }
        }
    }
}

/// Report a callback's error (host->error with its text unless it was
/// logged already, then its errno to `sink`) and drop it.
///
/// Formatting and dropping the error run the plugin's code (`Display`,
/// `Drop`): a panic there is caught and reported like any other.
#[cold]
#[inline(never)]
fn report_error(callback: &'static str, e: Error, sink: ErrnoSink) {
    let reported = catch_unwind(AssertUnwindSafe(move || {
        host::log(&e);
        sink.deliver(host::client_errno(&e));
        drop(e);
    }));
    if let Err(payload) = reported {
        report_panic(callback, payload, sink);
    }
}

/// Log a caught panic and fail the request with `EIO`.
#[cold]
#[inline(never)]
fn report_panic(callback: &str, payload: Box<dyn Any + Send>, sink: ErrnoSink) {
    let message = if let Some(s) = payload.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.as_str()
    } else {
        "(the panic payload is not a string)"
    };
    host::error_message(&format!("{}: panic: {}", callback, message));
    sink.deliver(EIO);
    // A payload's Drop could panic in turn: never let that escape.
    if let Err(again) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        std::mem::forget(again);
    }
}

/// A string argument from C as `&str`; NULL or not UTF-8 is an `EINVAL`
/// error about `what()` (only called then).
///
/// # Safety
///
/// `p` must be NULL or a NUL-terminated string valid for `'a`.
pub(crate) unsafe fn str_arg<'a>(
    p: *const c_char,
    what: impl FnOnce() -> String,
) -> Result<&'a str> {
    if p.is_null() {
        return Err(Error::new(EINVAL, format!("{} is NULL", what())));
    }
    // SAFETY: the caller promises a NUL-terminated string valid for 'a.
    let c = unsafe { CStr::from_ptr(p) };
    c.to_str()
        .map_err(|e| Error::new(EINVAL, format!("{} is not valid UTF-8 ({})", what(), e)))
}

/// The key and value of a `config` callback as `&str`s.
///
/// # Safety
///
/// As for [`str_arg`], for both.
pub(crate) unsafe fn config_args<'a>(
    key: *const c_char,
    value: *const c_char,
) -> Result<(&'a str, &'a str)> {
    // SAFETY: nbdkit passes NUL-terminated strings valid for the call.
    let key = unsafe { str_arg(key, || "config: a key".to_string()) }?;
    // SAFETY: as for the key.
    let value = unsafe { str_arg(value, || format!("config: the value of {}", key)) }?;
    Ok((key, value))
}

/// The buffer of a `pread`, zeroed, as bytes.
///
/// # Safety
///
/// `buf` must be a buffer of `count` writable bytes, ours alone for
/// `'a`.  It may be uninitialised (a filter above may pass memory
/// straight from malloc, as the header says), so it is zeroed before a
/// slice of bytes is made over it.
#[inline(always)]
pub(crate) unsafe fn read_buf<'a>(buf: *mut c_void, count: u32) -> &'a mut [u8] {
    if count == 0 {
        &mut []
    } else {
        // SAFETY: as the caller promises.
        unsafe {
            ptr::write_bytes(buf.cast::<u8>(), 0, count as usize);
            slice::from_raw_parts_mut(buf.cast::<u8>(), count as usize)
        }
    }
}

/// The buffer of a `pread` as it was passed, not zeroed.
///
/// # Safety
///
/// `buf` must be a buffer of `count` writable bytes, ours alone for
/// `'a`; MaybeUninit<u8> may hold any byte, initialised or not, and has
/// the layout of u8.
#[inline(always)]
pub(crate) unsafe fn uninit_buf<'a>(buf: *mut c_void, count: u32) -> &'a mut [MaybeUninit<u8>] {
    if count == 0 {
        &mut []
    } else {
        // SAFETY: as the caller promises.
        unsafe { slice::from_raw_parts_mut(buf.cast::<MaybeUninit<u8>>(), count as usize) }
    }
}

/// The buffer of a `pwrite`.
///
/// # Safety
///
/// `buf` must be a buffer of `count` readable bytes, unchanged for `'a`.
#[inline(always)]
pub(crate) unsafe fn write_buf<'a>(buf: *const c_void, count: u32) -> &'a [u8] {
    if count == 0 {
        &[]
    } else {
        // SAFETY: as the caller promises.
        unsafe { slice::from_raw_parts(buf.cast::<u8>(), count as usize) }
    }
}

/// The connection's server from the handle `open` returned.
///
/// # Safety
///
/// `handle` must be a pointer `open` returned that has not been passed
/// to `close` yet; the header promises nbdkit only passes such handles.
unsafe fn server<'a>(handle: *mut c_void) -> &'a dyn Server {
    // SAFETY: the caller promises `handle` is a live
    // `Box::into_raw(Box<Box<dyn Server>>)` from `open`; nbdkit only
    // calls close after every other callback on the handle returned.
    unsafe { &**handle.cast::<Box<dyn Server>>() }
}

/// The request flags as [`Flags`]; bits unknown to this SDK are dropped
/// (nbdkit 1.32 sends none).
pub(crate) fn flags(raw: u32) -> Flags {
    Flags::from_bits_truncate(raw)
}

// ---------------------------------------------------------------------
// The entry point.

/// The body of `nbdkit_rust_plugin_v1`, which [`plugin!`](crate::plugin)
/// defines: check and keep the host table, then return the plugin's
/// descriptor, built by `build` on the first call and kept in `cell`.
///
/// Returns NULL (after logging why, when the host table allows) if the
/// host table is unusable or the descriptor cannot be built.
///
/// # Safety
///
/// `host` must be NULL or point to a host table that stays valid and
/// unchanged until the library is unloaded, as the header promises.
pub unsafe fn entry_v1(
    host: *const nbdkit_rust_host,
    cell: &'static DescriptorCell,
    build: fn() -> Result<Descriptor>,
) -> *const nbdkit_rust_plugin {
    // SAFETY: the caller promises NULL or a table valid until dlclose.
    if !unsafe { install_host(host, NBDKIT_RUST_HOST_V1_MIN_SIZE, "ABI 1.0") } {
        return ptr::null();
    }
    call("nbdkit_rust_plugin_v1", ptr::null(), || {
        cell.with_built(build, |built| Ok(built.descriptor.as_ptr()))
    })
}

/// Check the host table an entry point was given and install it: it
/// must be of ABI major 1 and at least `min_size` bytes (what `needs`,
/// e.g. "ABI 1.0", needs).  False, after logging why when the table
/// allows, if it is unusable.
///
/// # Safety
///
/// `host` must be NULL or point to a host table that stays valid and
/// unchanged until the library is unloaded, as the header promises.
pub(crate) unsafe fn install_host(
    host: *const nbdkit_rust_host,
    min_size: usize,
    needs: &str,
) -> bool {
    // SAFETY: the caller promises NULL or a table valid until dlclose,
    // which is 'static as far as this library can tell.
    let table: &'static nbdkit_rust_host = match unsafe { host.as_ref() } {
        Some(table) => table,
        None => return false,
    };
    // The prefix (abi_major, abi_minor, struct_size) is fixed forever;
    // anything beyond it is only ABI 1's if abi_major says so.
    if table.abi_major != NBDKIT_RUST_ABI_MAJOR {
        return false;
    }
    if table.struct_size < min_size as u64 {
        let msg = format!(
            "nbdkit-rust: the loader's host table is {} bytes, {} needs at least {}",
            table.struct_size, needs, min_size
        );
        let error = host::lookup_in(
            table,
            "error",
            crate::layout::field_end!(nbdkit_rust_host, error),
            |h| h.error,
        );
        if let Ok(error) = error {
            let msg = std::ffi::CString::new(msg).unwrap_or_default();
            // SAFETY: `error` lies within the table's declared size and
            // is non-NULL; `msg` is NUL-terminated and outlives the call.
            unsafe { error(msg.as_ptr()) };
        }
        return false;
    }
    host::install(table);
    true
}

// ---------------------------------------------------------------------
// Lifecycle callbacks, generic over the plugin type.

pub(crate) unsafe extern "C" fn load<T: Server>() {
    call("load", (), || {
        T::load();
        Ok(())
    })
}

/// ABI 1.1's load: -1 after a panic, which nbdkit (or the loader)
/// takes for a plugin that cannot start.
pub(crate) unsafe extern "C" fn load_checked<T: Server>() -> c_int {
    call("load", -1, || {
        T::load();
        Ok(0)
    })
}

pub(crate) unsafe extern "C" fn unload<T: Server>() {
    call("unload", (), || {
        T::unload();
        Ok(())
    })
}

pub(crate) unsafe extern "C" fn config<T: Server>(
    key: *const c_char,
    value: *const c_char,
) -> c_int {
    call("config", -1, || {
        // SAFETY: nbdkit passes NUL-terminated strings valid for the call.
        let (key, value) = unsafe { config_args(key, value) }?;
        T::config(key, value)?;
        Ok(0)
    })
}

pub(crate) unsafe extern "C" fn config_complete<T: Server>() -> c_int {
    call("config_complete", -1, || {
        T::config_complete()?;
        Ok(0)
    })
}

pub(crate) unsafe extern "C" fn dump_plugin<T: Server>() {
    call("dump_plugin", (), || {
        T::dump_plugin();
        Ok(())
    })
}

/// ABI 1.1's dump_plugin: -1 after a panic.
pub(crate) unsafe extern "C" fn dump_plugin_checked<T: Server>() -> c_int {
    call("dump_plugin", -1, || {
        T::dump_plugin();
        Ok(0)
    })
}

/// The thread model the plugin's thread_model callback chose (never
/// looser than its maximum), or -1 before nbdkit asked: then the
/// maximum stands.  One plugin per library, so one value.
static CHOSEN_THREAD_MODEL: AtomicI32 = AtomicI32::new(-1);

/// Forget the thread model chosen: a new run of the plugin (the
/// testing harness) asks again.
#[cfg(any(test, feature = "testing"))]
pub(crate) fn forget_thread_model() {
    CHOSEN_THREAD_MODEL.store(-1, Ordering::SeqCst);
}

/// `thread_model` of a plugin whose loosest model is `MAX` (the
/// descriptor's max_thread_model): the plugin's answer, made no looser
/// than `MAX`, as nbdkit and the loader make it too.  An answer that
/// was looser is reported with a debug message.
pub(crate) unsafe extern "C" fn thread_model<T: Server, const MAX: c_int>() -> c_int {
    call("thread_model", -1, || {
        let answer = c_int::from(T::thread_model()?);
        Ok(clamp_thread_model::<T>(
            Kind::Plugin,
            answer,
            MAX,
            &CHOSEN_THREAD_MODEL,
        ))
    })
}

/// What the glue is serving, for its messages.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    /// A [`Server`], registered with `plugin!`.
    Plugin,
    /// A [`Filter`](crate::Filter), registered with `filter!`.
    Filter,
}

impl Kind {
    /// "plugin" or "filter".
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Plugin => "plugin",
            Kind::Filter => "filter",
        }
    }

    /// The trait the thread safety section is in.
    fn trait_path(self) -> &'static str {
        match self {
            Kind::Plugin => "nbdkit::Server",
            Kind::Filter => "nbdkit::Filter",
        }
    }
}

/// The thread_model answer `answer` of type `T`, whose loosest model is
/// `max`, made no looser than that (with a debug message if it was) and
/// kept in `chosen`, for `open`.
pub(crate) fn clamp_thread_model<T>(
    kind: Kind,
    answer: c_int,
    max: c_int,
    chosen: &AtomicI32,
) -> c_int {
    let model = answer.min(max);
    if answer > max {
        host::debug_fmt(format_args!(
            "thread_model: the {} answered {}, but {} is not Sync: nbdkit-rust serves \
             it with {} (see the thread safety section of {})",
            kind.name(),
            thread_model_name(answer),
            type_name::<T>(),
            thread_model_name(model),
            kind.trait_path()
        ));
    }
    chosen.store(model, Ordering::SeqCst);
    model
}

/// Whether `open` must check the type of the value it returns: the
/// model chosen (`chosen`, -1 before thread_model ran: the maximum,
/// parallel, stands) is parallel.
pub(crate) fn shares_values(chosen: &AtomicI32) -> bool {
    let model = chosen.load(Ordering::SeqCst);
    model == -1 || model == c_int::from(ThreadModel::Parallel)
}

pub(crate) unsafe extern "C" fn get_ready<T: Server>() -> c_int {
    call("get_ready", -1, || {
        T::get_ready()?;
        Ok(0)
    })
}

pub(crate) unsafe extern "C" fn after_fork<T: Server>() -> c_int {
    call("after_fork", -1, || {
        T::after_fork()?;
        Ok(0)
    })
}

pub(crate) unsafe extern "C" fn cleanup<T: Server>() {
    call("cleanup", (), || {
        T::cleanup();
        Ok(())
    })
}

pub(crate) unsafe extern "C" fn preconnect<T: Server>(readonly: c_int) -> c_int {
    call("preconnect", -1, || {
        T::preconnect(readonly != 0)?;
        Ok(0)
    })
}

pub(crate) unsafe extern "C" fn list_exports<T: Server>(
    readonly: c_int,
    is_tls: c_int,
    exports: *mut nbdkit_exports,
) -> c_int {
    call("list_exports", -1, || {
        let mut list = ExportList::new(exports);
        T::list_exports(readonly != 0, is_tls != 0, &mut list)?;
        Ok(0)
    })
}

pub(crate) unsafe extern "C" fn default_export<T: Server>(
    readonly: c_int,
    is_tls: c_int,
) -> *const c_char {
    call("default_export", ptr::null(), || {
        let name = T::default_export(readonly != 0, is_tls != 0)?;
        host::strdup_intern("default_export", &name)
    })
}

/// `open` of a plugin served with a serialised thread model at most
/// (its type is not `Sync`): nbdkit calls every callback of the
/// connection on one thread, so the value may be of any type.
pub(crate) unsafe extern "C" fn open<T: Server>(readonly: c_int) -> *mut c_void {
    call("open", ptr::null_mut(), || {
        let server: Box<dyn Server> = T::open(readonly != 0)?;
        Ok(into_handle(server))
    })
}

/// `open` of a plugin that may be served in parallel (its type is
/// `Sync`): nbdkit's worker threads then share the value, so it must be
/// of the plugin's own type, the one known to be `Sync`.  Another type
/// refuses the connection, unless the thread_model callback chose a
/// serialised model.
pub(crate) unsafe extern "C" fn open_parallel<T: Server + 'static>(readonly: c_int) -> *mut c_void {
    call("open", ptr::null_mut(), || {
        let server: Box<dyn Server> = T::open(readonly != 0)?;
        if shares_values(&CHOSEN_THREAD_MODEL) {
            let (type_id, name) = server.__nbdkit_concrete_type(Seal);
            if type_id != TypeId::of::<T>() {
                return Err(foreign_type::<T>(Kind::Plugin, name));
            }
        }
        Ok(into_handle(server))
    })
}

/// The error of `open` in the parallel model for a value of type
/// `name`, not `T`.
#[cold]
#[inline(never)]
pub(crate) fn foreign_type<T>(kind: Kind, name: &str) -> Error {
    Error::new(
        EINVAL,
        format!(
            "open returned a {returned}, not the {kind}'s type {own}: in the parallel \
             thread model nbdkit shares a connection's value between threads, so it must be \
             of the type given to {kind}!, which is Sync; return a {own} from open, or \
             implement thread_model returning ThreadModel::SerializeRequests (or stricter) \
             and list it in {kind}!",
            returned = name,
            kind = kind.name(),
            own = type_name::<T>()
        ),
    )
}

/// The handle C gets for a connection's value: the (fat) trait object
/// pointer boxed once more, for a thin pointer; `close` takes it back.
fn into_handle(server: Box<dyn Server>) -> *mut c_void {
    Box::into_raw(Box::new(server)).cast::<c_void>()
}

// ---------------------------------------------------------------------
// Per-connection callbacks.

pub(crate) unsafe extern "C" fn close(handle: *mut c_void) {
    if handle.is_null() {
        return;
    }
    call("close", (), || {
        // SAFETY: `handle` is what `open` returned (a leaked
        // `Box<Box<dyn Server>>`), and nbdkit calls close exactly once
        // per handle, after every other callback on it: we own it again
        // and drop it here, once.
        drop(unsafe { Box::from_raw(handle.cast::<Box<dyn Server>>()) });
        Ok(())
    })
}

pub(crate) unsafe extern "C" fn get_size(handle: *mut c_void) -> i64 {
    call("get_size", -1, || {
        // SAFETY: nbdkit passes a live handle from `open`.
        let size = unsafe { server(handle) }.get_size()?;
        if size < 0 {
            return Err(Error::new(
                EINVAL,
                format!("get_size: negative size {}", size),
            ));
        }
        Ok(size)
    })
}

pub(crate) unsafe extern "C" fn export_description(handle: *mut c_void) -> *const c_char {
    call("export_description", ptr::null(), || {
        // SAFETY: nbdkit passes a live handle from `open`.
        let description = unsafe { server(handle) }.export_description()?;
        host::strdup_intern("export_description", &description)
    })
}

pub(crate) unsafe extern "C" fn block_size(
    handle: *mut c_void,
    minimum: *mut u32,
    preferred: *mut u32,
    maximum: *mut u32,
) -> c_int {
    call("block_size", -1, || {
        // SAFETY: nbdkit passes a live handle from `open`.
        let (min, pref, max) = unsafe { server(handle) }.block_size()?;
        // SAFETY: nbdkit passes three valid, writable u32 slots.
        unsafe {
            *minimum = min;
            *preferred = pref;
            *maximum = max;
        }
        Ok(0)
    })
}

/// The callbacks answering a yes/no question about the connection.
macro_rules! can_bool {
    ($($name:ident),* $(,)?) => {
        $(
            pub(crate) unsafe extern "C" fn $name(handle: *mut c_void) -> c_int {
                call(stringify!($name), -1, || {
                    // SAFETY: nbdkit passes a live handle from `open`.
                    Ok(c_int::from(unsafe { server(handle) }.$name()?))
                })
            }
        )*
    };
}

can_bool!(
    can_write,
    can_flush,
    is_rotational,
    can_trim,
    can_zero,
    can_fast_zero,
    can_multi_conn,
    can_extents,
);

pub(crate) unsafe extern "C" fn can_fua(handle: *mut c_void) -> c_int {
    call("can_fua", -1, || {
        // SAFETY: nbdkit passes a live handle from `open`.
        Ok(i32::from(unsafe { server(handle) }.can_fua()?))
    })
}

pub(crate) unsafe extern "C" fn can_cache(handle: *mut c_void) -> c_int {
    call("can_cache", -1, || {
        // SAFETY: nbdkit passes a live handle from `open`.
        Ok(i32::from(unsafe { server(handle) }.can_cache()?))
    })
}

// ---------------------------------------------------------------------
// The data path.
//
// Its closures take the arguments by value (`move`): Rust 1.63 does not
// inline catch_unwind's machinery, and a closure of references then
// costs a store and a load per argument on every request.

pub(crate) unsafe extern "C" fn pread(
    handle: *mut c_void,
    buf: *mut c_void,
    count: u32,
    offset: u64,
    _flags: u32,
) -> c_int {
    call("pread", -1, move || {
        // SAFETY: nbdkit passes a buffer of `count` writable bytes, ours
        // alone for the call.
        let buf = unsafe { read_buf(buf, count) };
        // SAFETY: nbdkit passes a live handle from `open`.
        unsafe { server(handle) }.read_at(buf, offset)?;
        Ok(0)
    })
}

/// `pread` of a plugin that listed `read_at_uninit`: the buffer as
/// nbdkit passed it, not zeroed.
pub(crate) unsafe extern "C" fn pread_uninit(
    handle: *mut c_void,
    buf: *mut c_void,
    count: u32,
    offset: u64,
    _flags: u32,
) -> c_int {
    call("pread", -1, move || {
        // SAFETY: nbdkit passes a buffer of `count` writable bytes, ours
        // alone for the call.
        let buf = unsafe { uninit_buf(buf, count) };
        // SAFETY: nbdkit passes a live handle from `open`.
        unsafe { server(handle) }.read_at_uninit(buf, offset)?;
        Ok(0)
    })
}

pub(crate) unsafe extern "C" fn pwrite(
    handle: *mut c_void,
    buf: *const c_void,
    count: u32,
    offset: u64,
    flags_: u32,
) -> c_int {
    call("pwrite", -1, move || {
        // SAFETY: nbdkit passes a buffer of `count` readable bytes,
        // unchanged for the duration of the call.
        let buf = unsafe { write_buf(buf, count) };
        // SAFETY: nbdkit passes a live handle from `open`.
        unsafe { server(handle) }.write_at(buf, offset, flags(flags_))?;
        Ok(0)
    })
}

pub(crate) unsafe extern "C" fn flush(handle: *mut c_void, _flags: u32) -> c_int {
    call("flush", -1, move || {
        // SAFETY: nbdkit passes a live handle from `open`.
        unsafe { server(handle) }.flush()?;
        Ok(0)
    })
}

pub(crate) unsafe extern "C" fn trim(
    handle: *mut c_void,
    count: u32,
    offset: u64,
    flags_: u32,
) -> c_int {
    call("trim", -1, move || {
        // SAFETY: nbdkit passes a live handle from `open`.
        unsafe { server(handle) }.trim(count, offset, flags(flags_))?;
        Ok(0)
    })
}

pub(crate) unsafe extern "C" fn zero(
    handle: *mut c_void,
    count: u32,
    offset: u64,
    flags_: u32,
) -> c_int {
    call("zero", -1, move || {
        // SAFETY: nbdkit passes a live handle from `open`.
        unsafe { server(handle) }.zero(count, offset, flags(flags_))?;
        Ok(0)
    })
}

pub(crate) unsafe extern "C" fn extents(
    handle: *mut c_void,
    count: u32,
    offset: u64,
    flags_: u32,
    extents: *mut nbdkit_extents,
) -> c_int {
    call("extents", -1, move || {
        let mut extent_handle = ExtentHandle::new(extents);
        // SAFETY: nbdkit passes a live handle from `open`.
        unsafe { server(handle) }.extents(count, offset, flags(flags_), &mut extent_handle)?;
        Ok(0)
    })
}

pub(crate) unsafe extern "C" fn cache(
    handle: *mut c_void,
    count: u32,
    offset: u64,
    _flags: u32,
) -> c_int {
    call("cache", -1, move || {
        // SAFETY: nbdkit passes a live handle from `open`.
        unsafe { server(handle) }.cache(count, offset)?;
        Ok(0)
    })
}
