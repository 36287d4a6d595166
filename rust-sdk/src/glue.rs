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

use std::any::Any;
use std::ffi::CStr;
use std::os::raw::{c_char, c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::{ptr, slice};

use crate::descriptor::{Descriptor, DescriptorCell};
use crate::errno::{EINVAL, EIO};
use crate::ffi::{
    nbdkit_exports, nbdkit_extents, nbdkit_rust_host, nbdkit_rust_plugin, NBDKIT_RUST_ABI_MAJOR,
    NBDKIT_RUST_HOST_V1_MIN_SIZE,
};
use crate::host;
use crate::{Error, ExportList, ExtentHandle, Flags, Result, Server};

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
            report_error(callback, e);
            on_error
        }
        Err(payload) => {
            report_panic(callback, payload);
            on_error
        }
    }
}

/// Report a callback's error (host->error with its text, host->set_error
/// with its errno) and drop it.
///
/// Formatting and dropping the error run the plugin's code (`Display`,
/// `Drop`): a panic there is caught and reported like any other.
#[cold]
#[inline(never)]
fn report_error(callback: &'static str, e: Error) {
    let reported = catch_unwind(AssertUnwindSafe(move || {
        host::report(&e);
        drop(e);
    }));
    if let Err(payload) = reported {
        report_panic(callback, payload);
    }
}

/// Log a caught panic and fail the request with `EIO`.
#[cold]
#[inline(never)]
fn report_panic(callback: &str, payload: Box<dyn Any + Send>) {
    let message = if let Some(s) = payload.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.as_str()
    } else {
        "(the panic payload is not a string)"
    };
    host::error_message(&format!("{}: panic: {}", callback, message));
    host::set_error(EIO);
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
unsafe fn str_arg<'a>(p: *const c_char, what: impl FnOnce() -> String) -> Result<&'a str> {
    if p.is_null() {
        return Err(Error::new(EINVAL, format!("{} is NULL", what())));
    }
    // SAFETY: the caller promises a NUL-terminated string valid for 'a.
    let c = unsafe { CStr::from_ptr(p) };
    c.to_str()
        .map_err(|e| Error::new(EINVAL, format!("{} is not valid UTF-8 ({})", what(), e)))
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
fn flags(raw: u32) -> Flags {
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
    // SAFETY: the caller promises NULL or a table valid until dlclose,
    // which is 'static as far as this library can tell.
    let table: &'static nbdkit_rust_host = match unsafe { host.as_ref() } {
        Some(table) => table,
        None => return ptr::null(),
    };
    // The prefix (abi_major, abi_minor, struct_size) is fixed forever;
    // anything beyond it is only ABI 1's if abi_major says so.
    if table.abi_major != NBDKIT_RUST_ABI_MAJOR {
        return ptr::null();
    }
    if table.struct_size < NBDKIT_RUST_HOST_V1_MIN_SIZE as u64 {
        let msg = format!(
            "nbdkit-rust: the loader's host table is {} bytes, ABI 1.0 needs at least {}",
            table.struct_size, NBDKIT_RUST_HOST_V1_MIN_SIZE
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
        return ptr::null();
    }
    host::install(table);
    call("nbdkit_rust_plugin_v1", ptr::null(), || {
        Ok(cell.get_or_build(build)?.as_ptr())
    })
}

// ---------------------------------------------------------------------
// Lifecycle callbacks, generic over the plugin type.

pub(crate) unsafe extern "C" fn load<T: Server>() {
    call("load", (), || {
        T::load();
        Ok(())
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
        let key = unsafe { str_arg(key, || "config: a key".to_string()) }?;
        // SAFETY: as for the key.
        let value = unsafe { str_arg(value, || format!("config: the value of {}", key)) }?;
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

pub(crate) unsafe extern "C" fn thread_model<T: Server>() -> c_int {
    call("thread_model", -1, || Ok(c_int::from(T::thread_model()?)))
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

pub(crate) unsafe extern "C" fn open<T: Server>(readonly: c_int) -> *mut c_void {
    call("open", ptr::null_mut(), || {
        let server: Box<dyn Server> = T::open(readonly != 0)?;
        // Box the (fat) trait object pointer once more to get a thin
        // pointer for C; `close` takes it back.
        Ok(Box::into_raw(Box::new(server)).cast::<c_void>())
    })
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
        let buf: &mut [u8] = if count == 0 {
            &mut []
        } else {
            // SAFETY: nbdkit passes a buffer of `count` writable bytes,
            // ours alone for the call, and initialised (nbdkit zeroes
            // its request buffers when it allocates them).
            unsafe { slice::from_raw_parts_mut(buf.cast::<u8>(), count as usize) }
        };
        // SAFETY: nbdkit passes a live handle from `open`.
        unsafe { server(handle) }.read_at(buf, offset)?;
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
        let buf: &[u8] = if count == 0 {
            &[]
        } else {
            // SAFETY: nbdkit passes a buffer of `count` readable bytes,
            // unchanged for the duration of the call.
            unsafe { slice::from_raw_parts(buf.cast::<u8>(), count as usize) }
        };
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
