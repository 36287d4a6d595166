// SPDX-License-Identifier: BSD-2-Clause
//! The filter services (ABI 1.1) of the host table a plugin loaded
//! directly by nbdkit fills (`direct_host.rs`).
//!
//! Loaded directly, the library is a plugin: nothing hands it a layer
//! below, a backend or a context, so the functions that take one are
//! stubs that log "only filters may call ..." and fail with `ENOTSUP`
//! (or NULL), as the plugin loader's are.  The lists of a filter's own
//! (nbdkit_extents_new, nbdkit_exports_new, ...) are nbdkit's, looked
//! up by name like every other service; nbdkit_get_extent and
//! nbdkit_get_export return a struct by value, so the table gets
//! wrappers with the header's types that call them.

use std::mem::transmute;
use std::os::raw::{c_char, c_int, c_void};
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};

use crate::direct_host::report;
use crate::errno::ENOTSUP;
use crate::ffi::{
    nbdkit_exports, nbdkit_extents, nbdkit_rust_backend, nbdkit_rust_context, nbdkit_rust_next,
    nbdkit_rust_next_call,
};

/// nbdkit functions the wrappers below call, or NULL where the running
/// nbdkit lacks them: written by [`remember`] before nbdkit starts a
/// thread, read from any thread afterwards.
static NBDKIT_EXTENTS_COUNT: AtomicPtr<c_void> = AtomicPtr::new(ptr::null_mut());
static NBDKIT_GET_EXTENT: AtomicPtr<c_void> = AtomicPtr::new(ptr::null_mut());
static NBDKIT_EXPORTS_COUNT: AtomicPtr<c_void> = AtomicPtr::new(ptr::null_mut());
static NBDKIT_GET_EXPORT: AtomicPtr<c_void> = AtomicPtr::new(ptr::null_mut());

/// Remember the nbdkit functions the wrappers call, found by `lookup`.
pub(crate) fn remember(lookup: &dyn Fn(&'static str) -> *mut c_void) {
    NBDKIT_EXTENTS_COUNT.store(lookup("nbdkit_extents_count\0"), Ordering::Release);
    NBDKIT_GET_EXTENT.store(lookup("nbdkit_get_extent\0"), Ordering::Release);
    NBDKIT_EXPORTS_COUNT.store(lookup("nbdkit_exports_count\0"), Ordering::Release);
    NBDKIT_GET_EXPORT.store(lookup("nbdkit_get_export\0"), Ordering::Release);
}

/// Whether the wrapper of `get` can work: both functions were found.
fn wrappable(count: &AtomicPtr<c_void>, get: &AtomicPtr<c_void>) -> bool {
    !count.load(Ordering::Acquire).is_null() && !get.load(Ordering::Acquire).is_null()
}

/// Whether the running nbdkit has what [`get_extent`] calls.
pub(crate) fn has_get_extent() -> bool {
    wrappable(&NBDKIT_EXTENTS_COUNT, &NBDKIT_GET_EXTENT)
}

/// Whether the running nbdkit has what [`get_export`] calls.
pub(crate) fn has_get_export() -> bool {
    wrappable(&NBDKIT_EXPORTS_COUNT, &NBDKIT_GET_EXPORT)
}

/// `struct nbdkit_extent` of `<nbdkit-filter.h>`.
#[repr(C)]
struct NbdkitExtent {
    offset: u64,
    length: u64,
    type_: u32,
}

/// `struct nbdkit_export` of `<nbdkit-filter.h>`.
#[repr(C)]
struct NbdkitExport {
    name: *mut c_char,
    description: *mut c_char,
}

/// The count function in `count`, `size_t (const LIST *)`.
///
/// # Safety
///
/// `count` must hold NULL or nbdkit's `nbdkit_extents_count` or
/// `nbdkit_exports_count`, whose argument is a pointer to `L`.
unsafe fn count_of<L>(count: &AtomicPtr<c_void>, list: *const L) -> Option<usize> {
    let f = count.load(Ordering::Acquire);
    if f.is_null() {
        return None;
    }
    // SAFETY: as the caller promises, `size_t (const L *)`.
    let f = unsafe { transmute::<*mut c_void, unsafe extern "C" fn(*const L) -> usize>(f) };
    // SAFETY: the SDK passes a list nbdkit made.
    Some(unsafe { f(list) })
}

/// host->get_extent over nbdkit_get_extent: -1 if `i` is out of range
/// (nbdkit_get_extent would abort).
pub(crate) unsafe extern "C" fn get_extent(
    extents: *const nbdkit_extents,
    i: usize,
    offset: *mut u64,
    length: *mut u64,
    type_: *mut u32,
) -> c_int {
    // SAFETY: NBDKIT_EXTENTS_COUNT is nbdkit_extents_count.
    let n = unsafe { count_of(&NBDKIT_EXTENTS_COUNT, extents) };
    let f = NBDKIT_GET_EXTENT.load(Ordering::Acquire);
    if f.is_null() || !matches!(n, Some(n) if i < n) {
        return -1;
    }
    // SAFETY: the pointer is nbdkit_get_extent, `struct nbdkit_extent
    // (const struct nbdkit_extents *, size_t)`.
    let f = unsafe {
        transmute::<*mut c_void, unsafe extern "C" fn(*const nbdkit_extents, usize) -> NbdkitExtent>(
            f,
        )
    };
    // SAFETY: a list nbdkit made and an index below its count; the SDK
    // passes three writable slots.
    unsafe {
        let e = f(extents, i);
        *offset = e.offset;
        *length = e.length;
        *type_ = e.type_;
    }
    0
}

/// host->get_export over nbdkit_get_export: -1 if `i` is out of range.
pub(crate) unsafe extern "C" fn get_export(
    exports: *const nbdkit_exports,
    i: usize,
    name: *mut *const c_char,
    description: *mut *const c_char,
) -> c_int {
    // SAFETY: NBDKIT_EXPORTS_COUNT is nbdkit_exports_count.
    let n = unsafe { count_of(&NBDKIT_EXPORTS_COUNT, exports) };
    let f = NBDKIT_GET_EXPORT.load(Ordering::Acquire);
    if f.is_null() || !matches!(n, Some(n) if i < n) {
        return -1;
    }
    // SAFETY: the pointer is nbdkit_get_export, `struct nbdkit_export
    // (const struct nbdkit_exports *, size_t)`.
    let f = unsafe {
        transmute::<*mut c_void, unsafe extern "C" fn(*const nbdkit_exports, usize) -> NbdkitExport>(
            f,
        )
    };
    // SAFETY: a list nbdkit made and an index below its count; the
    // strings belong to the list; the SDK passes two writable slots.
    unsafe {
        let e = f(exports, i);
        *name = e.name;
        *description = e.description;
    }
    0
}

/// Log that `function` is for filters and set `ENOTSUP`.
#[cold]
fn refuse(function: &str) {
    report(
        &format!(
            "only filters may call {}: this library was loaded by nbdkit as a plugin",
            function
        ),
        Some(ENOTSUP),
    );
}

/// Store `ENOTSUP` in a data call's `*err`.
///
/// # Safety
///
/// `err` must be NULL or writable.
unsafe fn store_enotsup(err: *mut c_int) {
    if !err.is_null() {
        // SAFETY: as the caller promises.
        unsafe { *err = ENOTSUP };
    }
}

/// `filter_only!(name(arg: type, ...) -> ret = failure [, err];)`: a
/// stub that refuses with [`refuse`], stores `ENOTSUP` in `*err` if
/// named, and returns `failure`.
macro_rules! filter_only {
    ($( $name:ident ( $( $arg:ident : $ty:ty ),* ) $( -> $ret:ty )?
        = $fail:expr $( , $err:ident )?; )*) => {
        $(
            #[allow(unused_variables)]
            pub(crate) unsafe extern "C" fn $name( $( $arg: $ty ),* ) $( -> $ret )? {
                refuse(stringify!($name));
                $(
                    // SAFETY: the SDK passes NULL or a writable `int *err`.
                    unsafe { store_enotsup($err) };
                )?
                $fail
            }
        )*
    };
}

type Next = *mut nbdkit_rust_next;
type Call = *mut nbdkit_rust_next_call;

filter_only! {
    next_prepare(next: Next) -> c_int = -1;
    next_finalize(next: Next) -> c_int = -1;
    next_get_size(next: Next) -> i64 = -1;
    next_export_description(next: Next) -> *const c_char = ptr::null();
    next_block_size(next: Next, minimum: *mut u32, preferred: *mut u32, maximum: *mut u32)
        -> c_int = -1;
    next_can_write(next: Next) -> c_int = -1;
    next_can_flush(next: Next) -> c_int = -1;
    next_is_rotational(next: Next) -> c_int = -1;
    next_can_trim(next: Next) -> c_int = -1;
    next_can_zero(next: Next) -> c_int = -1;
    next_can_fast_zero(next: Next) -> c_int = -1;
    next_can_extents(next: Next) -> c_int = -1;
    next_can_fua(next: Next) -> c_int = -1;
    next_can_multi_conn(next: Next) -> c_int = -1;
    next_can_cache(next: Next) -> c_int = -1;
    next_pread(next: Next, buf: *mut c_void, count: u32, offset: u64, flags: u32, err: *mut c_int)
        -> c_int = -1, err;
    next_pwrite(next: Next, buf: *const c_void, count: u32, offset: u64, flags: u32,
                err: *mut c_int) -> c_int = -1, err;
    next_flush(next: Next, flags: u32, err: *mut c_int)
        -> c_int = -1, err;
    next_trim(next: Next, count: u32, offset: u64, flags: u32, err: *mut c_int)
        -> c_int = -1, err;
    next_zero(next: Next, count: u32, offset: u64, flags: u32, err: *mut c_int)
        -> c_int = -1, err;
    next_extents(next: Next, count: u32, offset: u64, flags: u32, extents: *mut nbdkit_extents,
                 err: *mut c_int) -> c_int = -1, err;
    next_cache(next: Next, count: u32, offset: u64, flags: u32, err: *mut c_int)
        -> c_int = -1, err;
    next_config(call: Call, key: *const c_char, value: *const c_char) -> c_int = -1;
    next_config_complete(call: Call) -> c_int = -1;
    next_preconnect(call: Call, readonly: c_int) -> c_int = -1;
    next_list_exports(call: Call, readonly: c_int, exports: *mut nbdkit_exports) -> c_int = -1;
    next_default_export(call: Call, readonly: c_int) -> *const c_char = ptr::null();
    next_open(call: Call, context: *mut nbdkit_rust_context, readonly: c_int,
              exportname: *const c_char) -> c_int = -1;
    extents_full(next: Next, count: u32, offset: u64, flags: u32, err: *mut c_int)
        -> *mut nbdkit_extents = ptr::null_mut(), err;
    context_get_backend(context: *mut nbdkit_rust_context)
        -> *mut nbdkit_rust_backend = ptr::null_mut();
    next_context_open(backend: *mut nbdkit_rust_backend, readonly: c_int,
                      exportname: *const c_char, shared: c_int)
        -> *mut nbdkit_rust_next = ptr::null_mut();
    next_context_close(next: Next) = ();
    context_set_next(context: *mut nbdkit_rust_context, next: Next)
        -> *mut nbdkit_rust_next = ptr::null_mut();
}
