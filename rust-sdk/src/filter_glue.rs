// SPDX-License-Identifier: BSD-2-Clause
//! The `extern "C"` callbacks a filter's descriptor points to, and the
//! body of its entry point: the filter's side of `glue.rs`, with the
//! same rules (every error and panic caught by [`call`] and reported as
//! the header asks).
//!
//! The data callbacks (pread .. cache) hand their errno back in
//! `*err`, as a C filter does ([`call_err`]); the others with
//! host->set_error, as the plugin glue.  The layer below comes as the
//! loader's opaque pointers, wrapped for one call in a [`Next`] or a
//! call type ([`NextOpen`], ...) that the filter method borrows.

use std::any::TypeId;
use std::os::raw::{c_char, c_int, c_void};
use std::ptr;
use std::sync::atomic::AtomicI32;

use crate::descriptor::DescriptorCell;
use crate::errno::EINVAL;
use crate::ffi::{
    nbdkit_exports, nbdkit_extents, nbdkit_rust_backend, nbdkit_rust_context, nbdkit_rust_filter,
    nbdkit_rust_host, nbdkit_rust_next, nbdkit_rust_next_call, NBDKIT_RUST_HOST_V1_1_MIN_SIZE,
};
use crate::filter_descriptor::FilterDescriptor;
use crate::glue::{
    call, call_err, clamp_thread_model, config_args, flags, foreign_type, install_host, read_buf,
    shares_values, str_arg, uninit_buf, write_buf, Kind,
};
use crate::host;
use crate::server::Seal;
use crate::{
    Backend, Error, ExportList, ExtentHandle, Filter, Next, NextConfig, NextConfigComplete,
    NextDefaultExport, NextListExports, NextOpen, NextPreconnect, Result, ThreadModel,
};

/// The body of `nbdkit_rust_filter_v1`, which [`filter!`](crate::filter)
/// defines: check and keep the host table (it must have the filter
/// services of ABI 1.1), then return the filter's descriptor, built by
/// `build` on the first call and kept in `cell`.
///
/// Returns NULL (after logging why, when the host table allows) if the
/// host table is unusable or the descriptor cannot be built.
///
/// # Safety
///
/// `host` must be NULL or point to a host table that stays valid and
/// unchanged until the library is unloaded, as the header promises.
pub unsafe fn filter_entry_v1(
    host: *const nbdkit_rust_host,
    cell: &'static DescriptorCell<FilterDescriptor>,
    build: fn() -> Result<FilterDescriptor>,
) -> *const nbdkit_rust_filter {
    // SAFETY: the caller promises NULL or a table valid until dlclose.
    if !unsafe { install_host(host, NBDKIT_RUST_HOST_V1_1_MIN_SIZE, "a filter (ABI 1.1)") } {
        return ptr::null();
    }
    call("nbdkit_rust_filter_v1", ptr::null(), || {
        cell.with_built(build, |built| Ok(built.descriptor.as_ptr()))
    })
}

/// The connection's filter from the handle `open` returned.
///
/// # Safety
///
/// `handle` must be a pointer `open` returned that has not been passed
/// to `close` yet; the header promises nbdkit only passes such handles.
unsafe fn filter<'a>(handle: *mut c_void) -> &'a dyn Filter {
    // SAFETY: the caller promises `handle` is a live
    // `Box::into_raw(Box<Box<dyn Filter>>)` from `open`.
    unsafe { &**handle.cast::<Box<dyn Filter>>() }
}

/// The handle C gets for a connection's value; `close` takes it back.
fn into_handle(filter: Box<dyn Filter>) -> *mut c_void {
    Box::into_raw(Box::new(filter)).cast::<c_void>()
}

// ---------------------------------------------------------------------
// Lifecycle callbacks, generic over the filter type.

pub(crate) unsafe extern "C" fn load<T: Filter>() -> c_int {
    call("load", -1, || {
        T::load()?;
        Ok(0)
    })
}

pub(crate) unsafe extern "C" fn unload<T: Filter>() {
    call("unload", (), || {
        T::unload();
        Ok(())
    })
}

pub(crate) unsafe extern "C" fn config<T: Filter>(
    next: *mut nbdkit_rust_next_call,
    key: *const c_char,
    value: *const c_char,
) -> c_int {
    call("config", -1, || {
        // SAFETY: nbdkit passes NUL-terminated strings valid for the call.
        let (key, value) = unsafe { config_args(key, value) }?;
        T::config(&NextConfig::new(next), key, value)?;
        Ok(0)
    })
}

pub(crate) unsafe extern "C" fn config_complete<T: Filter>(
    next: *mut nbdkit_rust_next_call,
) -> c_int {
    call("config_complete", -1, || {
        T::config_complete(&NextConfigComplete::new(next))?;
        Ok(0)
    })
}

/// The thread model the filter's thread_model callback chose, or -1
/// before nbdkit asked (see `glue.rs`).  One filter per library.
static CHOSEN_THREAD_MODEL: AtomicI32 = AtomicI32::new(-1);

/// Forget the thread model chosen: a new run of the filter (the testing
/// harness) asks again.
#[cfg(any(test, feature = "testing"))]
pub(crate) fn forget_thread_model() {
    CHOSEN_THREAD_MODEL.store(-1, std::sync::atomic::Ordering::SeqCst);
}

/// `thread_model` of a filter whose loosest model is `MAX`: its answer,
/// made no looser than `MAX`.
pub(crate) unsafe extern "C" fn thread_model<T: Filter, const MAX: c_int>() -> c_int {
    call("thread_model", -1, || {
        let answer = c_int::from(T::thread_model()?);
        Ok(clamp_thread_model::<T>(
            Kind::Filter,
            answer,
            MAX,
            &CHOSEN_THREAD_MODEL,
        ))
    })
}

pub(crate) unsafe extern "C" fn get_ready<T: Filter>(model: c_int) -> c_int {
    call("get_ready", -1, || {
        T::get_ready(ThreadModel::from_raw(model))?;
        Ok(0)
    })
}

pub(crate) unsafe extern "C" fn after_fork<T: Filter>(backend: *mut nbdkit_rust_backend) -> c_int {
    call("after_fork", -1, || {
        T::after_fork(&Backend::new(backend))?;
        Ok(0)
    })
}

pub(crate) unsafe extern "C" fn cleanup<T: Filter>(backend: *mut nbdkit_rust_backend) {
    call("cleanup", (), || {
        T::cleanup(&Backend::new(backend));
        Ok(())
    })
}

pub(crate) unsafe extern "C" fn preconnect<T: Filter>(
    next: *mut nbdkit_rust_next_call,
    readonly: c_int,
) -> c_int {
    call("preconnect", -1, || {
        T::preconnect(&NextPreconnect::new(next), readonly != 0)?;
        Ok(0)
    })
}

pub(crate) unsafe extern "C" fn list_exports<T: Filter>(
    next: *mut nbdkit_rust_next_call,
    readonly: c_int,
    is_tls: c_int,
    exports: *mut nbdkit_exports,
) -> c_int {
    call("list_exports", -1, || {
        let mut list = ExportList::new(exports);
        T::list_exports(
            &NextListExports::new(next),
            readonly != 0,
            is_tls != 0,
            &mut list,
        )?;
        Ok(0)
    })
}

pub(crate) unsafe extern "C" fn default_export<T: Filter>(
    next: *mut nbdkit_rust_next_call,
    readonly: c_int,
    is_tls: c_int,
) -> *const c_char {
    call("default_export", ptr::null(), || {
        let name = T::default_export(&NextDefaultExport::new(next), readonly != 0, is_tls != 0)?;
        host::strdup_intern("default_export", &name)
    })
}

/// The body of both `open`s: the filter's value, the layer below opened.
///
/// # Safety
///
/// The arguments are those nbdkit (through the loader) passes to open.
unsafe fn open_with<T: Filter + 'static>(
    next: *mut nbdkit_rust_next_call,
    context: *mut nbdkit_rust_context,
    readonly: c_int,
    exportname: *const c_char,
    is_tls: c_int,
    check_type: bool,
) -> Result<*mut c_void> {
    // SAFETY: nbdkit passes a NUL-terminated string valid for the call.
    let name = unsafe { str_arg(exportname, || "open: the export name".to_string()) }?;
    let mut next = NextOpen::new(next, context);
    let filter: Box<dyn Filter> = T::open(&mut next, readonly != 0, name, is_tls != 0)?;
    if check_type {
        let (type_id, returned) = filter.__nbdkit_concrete_type(Seal);
        if type_id != TypeId::of::<T>() {
            return Err(foreign_type::<T>(Kind::Filter, returned));
        }
    }
    // nbdkit needs the layer below open: do what open left undone.
    if !next.opened() {
        next.open(readonly != 0, name)?;
    }
    Ok(into_handle(filter))
}

/// `open` of a filter served with a serialised thread model at most
/// (its type is not `Sync`): the value may be of any type.
pub(crate) unsafe extern "C" fn open<T: Filter + 'static>(
    next: *mut nbdkit_rust_next_call,
    context: *mut nbdkit_rust_context,
    readonly: c_int,
    exportname: *const c_char,
    is_tls: c_int,
) -> *mut c_void {
    call("open", ptr::null_mut(), || {
        // SAFETY: nbdkit's arguments, passed on.
        unsafe { open_with::<T>(next, context, readonly, exportname, is_tls, false) }
    })
}

/// `open` of a filter that may be served in parallel (its type is
/// `Sync`): the value must be of the filter's own type, unless the
/// thread_model callback chose a serialised model.
pub(crate) unsafe extern "C" fn open_parallel<T: Filter + 'static>(
    next: *mut nbdkit_rust_next_call,
    context: *mut nbdkit_rust_context,
    readonly: c_int,
    exportname: *const c_char,
    is_tls: c_int,
) -> *mut c_void {
    call("open", ptr::null_mut(), || {
        let check = shares_values(&CHOSEN_THREAD_MODEL);
        // SAFETY: nbdkit's arguments, passed on.
        unsafe { open_with::<T>(next, context, readonly, exportname, is_tls, check) }
    })
}

// ---------------------------------------------------------------------
// Per-connection callbacks.

pub(crate) unsafe extern "C" fn close(handle: *mut c_void) {
    if handle.is_null() {
        return;
    }
    call("close", (), || {
        // SAFETY: `handle` is what `open` returned, and nbdkit calls
        // close exactly once per handle, after every other callback on
        // it: we own it again and drop it here, once.
        drop(unsafe { Box::from_raw(handle.cast::<Box<dyn Filter>>()) });
        Ok(())
    })
}

pub(crate) unsafe extern "C" fn prepare(
    next: *mut nbdkit_rust_next,
    handle: *mut c_void,
    readonly: c_int,
) -> c_int {
    call("prepare", -1, || {
        // SAFETY: nbdkit passes a live handle from `open`.
        unsafe { filter(handle) }.prepare(&Next::new(next), readonly != 0)?;
        Ok(0)
    })
}

pub(crate) unsafe extern "C" fn finalize(
    next: *mut nbdkit_rust_next,
    handle: *mut c_void,
) -> c_int {
    call("finalize", -1, || {
        // SAFETY: nbdkit passes a live handle from `open`.
        unsafe { filter(handle) }.finalize(&Next::new(next))?;
        Ok(0)
    })
}

pub(crate) unsafe extern "C" fn get_size(next: *mut nbdkit_rust_next, handle: *mut c_void) -> i64 {
    call("get_size", -1, || {
        // SAFETY: nbdkit passes a live handle from `open`.
        let size = unsafe { filter(handle) }.get_size(&Next::new(next))?;
        i64::try_from(size)
            .map_err(|_| Error::new(EINVAL, format!("get_size: {} is too large", size)))
    })
}

pub(crate) unsafe extern "C" fn export_description(
    next: *mut nbdkit_rust_next,
    handle: *mut c_void,
) -> *const c_char {
    call("export_description", ptr::null(), || {
        // SAFETY: nbdkit passes a live handle from `open`.
        match unsafe { filter(handle) }.export_description(&Next::new(next))? {
            Some(description) => host::strdup_intern("export_description", &description),
            None => Ok(ptr::null()),
        }
    })
}

pub(crate) unsafe extern "C" fn block_size(
    next: *mut nbdkit_rust_next,
    handle: *mut c_void,
    minimum: *mut u32,
    preferred: *mut u32,
    maximum: *mut u32,
) -> c_int {
    call("block_size", -1, || {
        // SAFETY: nbdkit passes a live handle from `open`.
        let (min, pref, max) = unsafe { filter(handle) }.block_size(&Next::new(next))?;
        // SAFETY: nbdkit passes three valid, writable u32 slots.
        unsafe {
            *minimum = min;
            *preferred = pref;
            *maximum = max;
        }
        Ok(0)
    })
}

/// The per-connection queries: the answer as nbdkit's integer.
macro_rules! query {
    ($($name:ident),* $(,)?) => {
        $(
            pub(crate) unsafe extern "C" fn $name(
                next: *mut nbdkit_rust_next,
                handle: *mut c_void,
            ) -> c_int {
                call(stringify!($name), -1, || {
                    // SAFETY: nbdkit passes a live handle from `open`.
                    let answer = unsafe { filter(handle) }.$name(&Next::new(next))?;
                    Ok(c_int::from(answer))
                })
            }
        )*
    };
}

query!(
    can_write,
    can_flush,
    is_rotational,
    can_trim,
    can_zero,
    can_fast_zero,
    can_extents,
    can_fua,
    can_multi_conn,
    can_cache,
);

// ---------------------------------------------------------------------
// The data path: the errno in `*err`.  As in glue.rs, the closures take
// the arguments by value.

pub(crate) unsafe extern "C" fn pread(
    next: *mut nbdkit_rust_next,
    handle: *mut c_void,
    buf: *mut c_void,
    count: u32,
    offset: u64,
    flags_: u32,
    err: *mut c_int,
) -> c_int {
    call_err("pread", err, move || {
        // SAFETY: nbdkit passes a buffer of `count` writable bytes, ours
        // alone for the call.
        let buf = unsafe { read_buf(buf, count) };
        // SAFETY: nbdkit passes a live handle from `open`.
        unsafe { filter(handle) }.read_at(&Next::new(next), buf, offset, flags(flags_))
    })
}

/// `pread` of a filter that listed `read_at_uninit`: the buffer as the
/// layer above passed it, not zeroed.
pub(crate) unsafe extern "C" fn pread_uninit(
    next: *mut nbdkit_rust_next,
    handle: *mut c_void,
    buf: *mut c_void,
    count: u32,
    offset: u64,
    flags_: u32,
    err: *mut c_int,
) -> c_int {
    call_err("pread", err, move || {
        // SAFETY: nbdkit passes a buffer of `count` writable bytes, ours
        // alone for the call.
        let buf = unsafe { uninit_buf(buf, count) };
        // SAFETY: nbdkit passes a live handle from `open`.
        unsafe { filter(handle) }.read_at_uninit(&Next::new(next), buf, offset, flags(flags_))
    })
}

pub(crate) unsafe extern "C" fn pwrite(
    next: *mut nbdkit_rust_next,
    handle: *mut c_void,
    buf: *const c_void,
    count: u32,
    offset: u64,
    flags_: u32,
    err: *mut c_int,
) -> c_int {
    call_err("pwrite", err, move || {
        // SAFETY: nbdkit passes a buffer of `count` readable bytes,
        // unchanged for the duration of the call.
        let buf = unsafe { write_buf(buf, count) };
        // SAFETY: nbdkit passes a live handle from `open`.
        unsafe { filter(handle) }.write_at(&Next::new(next), buf, offset, flags(flags_))
    })
}

pub(crate) unsafe extern "C" fn flush(
    next: *mut nbdkit_rust_next,
    handle: *mut c_void,
    flags_: u32,
    err: *mut c_int,
) -> c_int {
    call_err("flush", err, move || {
        // SAFETY: nbdkit passes a live handle from `open`.
        unsafe { filter(handle) }.flush(&Next::new(next), flags(flags_))
    })
}

/// The requests of a range that take no buffer.
macro_rules! range {
    ($($name:ident => $method:ident),* $(,)?) => {
        $(
            pub(crate) unsafe extern "C" fn $name(
                next: *mut nbdkit_rust_next,
                handle: *mut c_void,
                count: u32,
                offset: u64,
                flags_: u32,
                err: *mut c_int,
            ) -> c_int {
                call_err(stringify!($name), err, move || {
                    // SAFETY: nbdkit passes a live handle from `open`.
                    unsafe { filter(handle) }.$method(&Next::new(next), count, offset, flags(flags_))
                })
            }
        )*
    };
}

range!(trim => trim, zero => zero, cache => cache);

pub(crate) unsafe extern "C" fn extents(
    next: *mut nbdkit_rust_next,
    handle: *mut c_void,
    count: u32,
    offset: u64,
    flags_: u32,
    extents: *mut nbdkit_extents,
    err: *mut c_int,
) -> c_int {
    call_err("extents", err, move || {
        let mut extent_handle = ExtentHandle::new(extents);
        // SAFETY: nbdkit passes a live handle from `open`.
        unsafe { filter(handle) }.extents(
            &Next::new(next),
            count,
            offset,
            flags(flags_),
            &mut extent_handle,
        )
    })
}
