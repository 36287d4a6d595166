// SPDX-License-Identifier: BSD-2-Clause
//! The host table of a plugin loaded directly by nbdkit (`nbdkit
//! ./libfoo.so`, see `direct.rs`): the same `struct nbdkit_rust_host`
//! the loader hands over, filled from the running nbdkit.
//!
//! Each service is looked up by name in the process (`dlsym` on the
//! default scope, where nbdkit's own exported functions are), so the
//! plugin still imports no `nbdkit_*` symbol: it loads into any nbdkit,
//! and into one that lacks a newer function too.  A function the running
//! nbdkit lacks is NULL in the table, which the SDK's service functions
//! (`host.rs`) turn into an `ENOTSUP` error saying so; this table never
//! leaves the SDK, so the header's promise of non-NULL fields (made for
//! the loader's table) is not needed.  Two functions newer than nbdkit
//! 1.32 are handled as the loader handles them: `nbdkit_disconnect`
//! (1.34) gets a wrapper that logs why it cannot disconnect and fails
//! with `ENOTSUP`, and `nbdkit_parse_probability` (1.34) gets a port of
//! the loader's own parser (loader/probability.c).
//!
//! The services of ABI 1.1 for filters are in `direct_host_filter.rs`:
//! those that need a layer below are stubs that fail with `ENOTSUP`, as
//! in the plugin loader's table; the lists (nbdkit_extents_new, ...) are
//! nbdkit's.
//!
//! Where the table points straight at nbdkit's function, the types are
//! the ones the loader's host.c assigns the same functions to, which the
//! C compiler checks against `<nbdkit-plugin.h>` there.

use std::ffi::CStr;
use std::mem::{size_of, transmute};
use std::os::raw::{c_char, c_int, c_uint, c_void};
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};

use crate::direct_host_filter as filter_only;
use crate::errno::ENOTSUP;
use crate::ffi::{nbdkit_rust_host, NBDKIT_RUST_ABI_MAJOR, NBDKIT_RUST_ABI_MINOR};

extern "C" {
    // From the C library, which every Rust program links.
    fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
    fn free(ptr: *mut c_void);
    fn strtod(s: *const c_char, end: *mut *mut c_char) -> f64;
}

/// `RTLD_DEFAULT` of glibc and musl: search the global scope, where the
/// nbdkit executable's exported functions are.
const RTLD_DEFAULT: *mut c_void = ptr::null_mut();

/// `nbdkit_error` and `nbdkit_debug`: printf-like.
type LogFn = unsafe extern "C" fn(fmt: *const c_char, ...);

/// nbdkit functions that the wrappers below call, or NULL where the
/// running nbdkit lacks them.  Written once by [`host_table`] before
/// nbdkit starts a thread, read from any thread afterwards.
static NBDKIT_ERROR: AtomicPtr<c_void> = AtomicPtr::new(ptr::null_mut());
static NBDKIT_DEBUG: AtomicPtr<c_void> = AtomicPtr::new(ptr::null_mut());
static NBDKIT_SET_ERROR: AtomicPtr<c_void> = AtomicPtr::new(ptr::null_mut());
static NBDKIT_DISCONNECT: AtomicPtr<c_void> = AtomicPtr::new(ptr::null_mut());

/// Look `symbol` (NUL-terminated) up in the running process.
pub(crate) fn in_process(symbol: &'static str) -> *mut c_void {
    debug_assert!(symbol.ends_with('\0'));
    // SAFETY: `symbol` is a NUL-terminated string; dlsym on the default
    // scope only reads it and returns NULL for a name it does not find.
    unsafe { dlsym(RTLD_DEFAULT, symbol.as_ptr().cast::<c_char>()) }
}

/// `straight_from_nbdkit!(host, lookup: field = nbdkit_fn(ARGS) [-> RET];
/// ...)`: point `host.field` at nbdkit's `nbdkit_fn` when `lookup` finds
/// it, else leave it NULL.  The compiler checks that the types given
/// here are the field's.
macro_rules! straight_from_nbdkit {
    ($host:ident, $lookup:ident:
     $( $field:ident = $symbol:ident ( $($arg:ty),* $(,)? ) $(-> $ret:ty)?; )*) => {
        $(
            $host.$field = {
                let found = $lookup(concat!(stringify!($symbol), "\0"));
                if found.is_null() {
                    None
                } else {
                    // SAFETY: `found` is nbdkit's function of this name,
                    // whose C type is the one written here (the loader's
                    // host.c assigns the same function to the same field).
                    Some(unsafe {
                        transmute::<*mut c_void, unsafe extern "C" fn($($arg),*) $(-> $ret)?>(found)
                    })
                }
            };
        )*
    };
}

/// The host table over the functions `lookup` finds (by NUL-terminated
/// name; NULL for one it does not).  Also remembers the functions the
/// wrappers call, so call it once, before nbdkit starts a thread.
pub(crate) fn host_table(lookup: &dyn Fn(&'static str) -> *mut c_void) -> nbdkit_rust_host {
    NBDKIT_ERROR.store(lookup("nbdkit_error\0"), Ordering::Release);
    NBDKIT_DEBUG.store(lookup("nbdkit_debug\0"), Ordering::Release);
    NBDKIT_SET_ERROR.store(lookup("nbdkit_set_error\0"), Ordering::Release);
    NBDKIT_DISCONNECT.store(lookup("nbdkit_disconnect\0"), Ordering::Release);
    filter_only::remember(lookup);

    let parse_probability = lookup("nbdkit_parse_probability\0");
    let mut host = nbdkit_rust_host {
        abi_major: NBDKIT_RUST_ABI_MAJOR,
        abi_minor: NBDKIT_RUST_ABI_MINOR,
        struct_size: size_of::<nbdkit_rust_host>() as u64,
        // nbdkit exports no version: nbdkit_version() says None.
        nbdkit_version: ptr::null(),
        error: Some(error),
        debug: Some(debug),
        set_error: None,
        export_name: None,
        is_tls: None,
        peer_name: None,
        peer_pid: None,
        peer_uid: None,
        peer_gid: None,
        shutdown: None,
        disconnect: Some(disconnect),
        parse_size: None,
        parse_bool: None,
        parse_probability: if parse_probability.is_null() {
            Some(parse_probability_port)
        } else {
            // SAFETY: nbdkit_parse_probability (nbdkit >= 1.34) has this
            // C type, the one the header gives the field.
            Some(unsafe {
                transmute::<
                    *mut c_void,
                    unsafe extern "C" fn(*const c_char, *const c_char, *mut f64) -> c_int,
                >(parse_probability)
            })
        },
        parse_int: None,
        parse_unsigned: None,
        parse_int8_t: None,
        parse_uint8_t: None,
        parse_int16_t: None,
        parse_uint16_t: None,
        parse_int32_t: None,
        parse_uint32_t: None,
        parse_int64_t: None,
        parse_uint64_t: None,
        read_password: None,
        realpath: None,
        absolute_path: None,
        nanosleep: None,
        stdio_safe: None,
        add_extent: None,
        add_export: None,
        use_default_export: None,
        strdup_intern: None,
        strndup_intern: None,
        // nbdkit allocates what it hands plugins with malloc.
        free: Some(free),
        // ABI 1.1: a plugin has no layer below, backend or context.
        next_prepare: Some(filter_only::next_prepare),
        next_finalize: Some(filter_only::next_finalize),
        next_get_size: Some(filter_only::next_get_size),
        next_export_description: Some(filter_only::next_export_description),
        next_block_size: Some(filter_only::next_block_size),
        next_can_write: Some(filter_only::next_can_write),
        next_can_flush: Some(filter_only::next_can_flush),
        next_is_rotational: Some(filter_only::next_is_rotational),
        next_can_trim: Some(filter_only::next_can_trim),
        next_can_zero: Some(filter_only::next_can_zero),
        next_can_fast_zero: Some(filter_only::next_can_fast_zero),
        next_can_extents: Some(filter_only::next_can_extents),
        next_can_fua: Some(filter_only::next_can_fua),
        next_can_multi_conn: Some(filter_only::next_can_multi_conn),
        next_can_cache: Some(filter_only::next_can_cache),
        next_pread: Some(filter_only::next_pread),
        next_pwrite: Some(filter_only::next_pwrite),
        next_flush: Some(filter_only::next_flush),
        next_trim: Some(filter_only::next_trim),
        next_zero: Some(filter_only::next_zero),
        next_extents: Some(filter_only::next_extents),
        next_cache: Some(filter_only::next_cache),
        next_config: Some(filter_only::next_config),
        next_config_complete: Some(filter_only::next_config_complete),
        next_preconnect: Some(filter_only::next_preconnect),
        next_list_exports: Some(filter_only::next_list_exports),
        next_default_export: Some(filter_only::next_default_export),
        next_open: Some(filter_only::next_open),
        extents_new: None,
        extents_free: None,
        extents_count: None,
        get_extent: if filter_only::has_get_extent() {
            Some(filter_only::get_extent)
        } else {
            None
        },
        extents_full: Some(filter_only::extents_full),
        exports_new: None,
        exports_free: None,
        exports_count: None,
        get_export: if filter_only::has_get_export() {
            Some(filter_only::get_export)
        } else {
            None
        },
        context_get_backend: Some(filter_only::context_get_backend),
        next_context_open: Some(filter_only::next_context_open),
        next_context_close: Some(filter_only::next_context_close),
        context_set_next: Some(filter_only::context_set_next),
    };
    straight_from_nbdkit!(host, lookup:
        set_error = nbdkit_set_error(c_int);
        export_name = nbdkit_export_name() -> *const c_char;
        is_tls = nbdkit_is_tls() -> c_int;
        peer_name = nbdkit_peer_name(*mut crate::ffi::sockaddr, *mut crate::ffi::socklen_t)
            -> c_int;
        peer_pid = nbdkit_peer_pid() -> i64;
        peer_uid = nbdkit_peer_uid() -> i64;
        peer_gid = nbdkit_peer_gid() -> i64;
        shutdown = nbdkit_shutdown();
        parse_size = nbdkit_parse_size(*const c_char) -> i64;
        parse_bool = nbdkit_parse_bool(*const c_char) -> c_int;
        parse_int = nbdkit_parse_int(*const c_char, *const c_char, *mut c_int) -> c_int;
        parse_unsigned = nbdkit_parse_unsigned(*const c_char, *const c_char, *mut c_uint)
            -> c_int;
        parse_int8_t = nbdkit_parse_int8_t(*const c_char, *const c_char, *mut i8)
            -> c_int;
        parse_uint8_t = nbdkit_parse_uint8_t(*const c_char, *const c_char, *mut u8)
            -> c_int;
        parse_int16_t = nbdkit_parse_int16_t(*const c_char, *const c_char, *mut i16)
            -> c_int;
        parse_uint16_t = nbdkit_parse_uint16_t(*const c_char, *const c_char, *mut u16)
            -> c_int;
        parse_int32_t = nbdkit_parse_int32_t(*const c_char, *const c_char, *mut i32)
            -> c_int;
        parse_uint32_t = nbdkit_parse_uint32_t(*const c_char, *const c_char, *mut u32)
            -> c_int;
        parse_int64_t = nbdkit_parse_int64_t(*const c_char, *const c_char, *mut i64)
            -> c_int;
        parse_uint64_t = nbdkit_parse_uint64_t(*const c_char, *const c_char, *mut u64)
            -> c_int;
        read_password = nbdkit_read_password(*const c_char, *mut *mut c_char) -> c_int;
        realpath = nbdkit_realpath(*const c_char) -> *mut c_char;
        absolute_path = nbdkit_absolute_path(*const c_char) -> *mut c_char;
        nanosleep = nbdkit_nanosleep(c_uint, c_uint) -> c_int;
        stdio_safe = nbdkit_stdio_safe() -> c_int;
        add_extent = nbdkit_add_extent(*mut crate::ffi::nbdkit_extents, u64, u64, u32)
            -> c_int;
        add_export = nbdkit_add_export(*mut crate::ffi::nbdkit_exports, *const c_char,
                                       *const c_char) -> c_int;
        use_default_export = nbdkit_use_default_export(*mut crate::ffi::nbdkit_exports)
            -> c_int;
        strdup_intern = nbdkit_strdup_intern(*const c_char) -> *const c_char;
        strndup_intern = nbdkit_strndup_intern(*const c_char, usize)
            -> *const c_char;
        extents_new = nbdkit_extents_new(u64, u64) -> *mut crate::ffi::nbdkit_extents;
        extents_free = nbdkit_extents_free(*mut crate::ffi::nbdkit_extents);
        extents_count = nbdkit_extents_count(*const crate::ffi::nbdkit_extents) -> usize;
        exports_new = nbdkit_exports_new() -> *mut crate::ffi::nbdkit_exports;
        exports_free = nbdkit_exports_free(*mut crate::ffi::nbdkit_exports);
        exports_count = nbdkit_exports_count(*const crate::ffi::nbdkit_exports) -> usize;
    );
    host
}

/// Log `msg` with nbdkit_error and, if `err` is given, set that errno
/// with nbdkit_set_error, as far as the running nbdkit has them.
pub(crate) fn report(msg: &str, err: Option<c_int>) {
    let msg = crate::host::message_to_c(msg);
    // SAFETY: `msg` is a NUL-terminated string that outlives the call.
    unsafe { error(msg.as_ptr()) };
    let set_error = NBDKIT_SET_ERROR.load(Ordering::Acquire);
    if let (Some(err), false) = (err, set_error.is_null()) {
        // SAFETY: the pointer is nbdkit_set_error, `void (int)`.
        let set_error = unsafe { transmute::<*mut c_void, unsafe extern "C" fn(c_int)>(set_error) };
        // SAFETY: it takes a plain integer.
        unsafe { set_error(err) };
    }
}

/// host->error: nbdkit_error ("%s", msg).  Without nbdkit (in a test)
/// there is nowhere to log.
unsafe extern "C" fn error(msg: *const c_char) {
    let f = NBDKIT_ERROR.load(Ordering::Acquire);
    if f.is_null() {
        return;
    }
    // SAFETY: the pointer is nbdkit_error, `void (const char *fmt, ...)`.
    let f = unsafe { transmute::<*mut c_void, LogFn>(f) };
    // SAFETY: "%s" takes exactly the one string argument given.
    unsafe { f(b"%s\0".as_ptr().cast::<c_char>(), msg) };
}

/// host->debug: nbdkit_debug ("%s", msg), or nothing without nbdkit.
unsafe extern "C" fn debug(msg: *const c_char) {
    let f = NBDKIT_DEBUG.load(Ordering::Acquire);
    if f.is_null() {
        return;
    }
    // SAFETY: the pointer is nbdkit_debug, `void (const char *fmt, ...)`.
    let f = unsafe { transmute::<*mut c_void, LogFn>(f) };
    // SAFETY: "%s" takes exactly the one string argument given.
    unsafe { f(b"%s\0".as_ptr().cast::<c_char>(), msg) };
}

/// host->disconnect: nbdkit_disconnect, which appeared in nbdkit 1.34,
/// returns nothing; the table's returns -1 when it is missing, after
/// saying so, exactly as the loader's does.
unsafe extern "C" fn disconnect(force: c_int) -> c_int {
    let f = NBDKIT_DISCONNECT.load(Ordering::Acquire);
    if f.is_null() {
        report(
            "disconnect: this nbdkit has no nbdkit_disconnect (it appeared in nbdkit 1.34)",
            Some(ENOTSUP),
        );
        return -1;
    }
    // SAFETY: the pointer is nbdkit_disconnect, `void (int force)`.
    let f = unsafe { transmute::<*mut c_void, unsafe extern "C" fn(c_int)>(f) };
    // SAFETY: it takes a plain integer.
    unsafe { f(force) };
    0
}

/// host->parse_probability on an nbdkit without
/// nbdkit_parse_probability (< 1.34): loader/probability.c in Rust, with
/// the same grammar and the same C `strtod`, so that both ways of
/// loading accept and refuse the same strings:
///
/// * "0.1", "1e-1": a number
/// * "10%": a percentage
/// * "1:10", "1/10": a ratio; "0:0" is 0, any other N:0 is an error
///
/// The result must be finite and not negative; it may be above 1.
unsafe extern "C" fn parse_probability_port(
    what: *const c_char,
    s: *const c_char,
    r: *mut f64,
) -> c_int {
    // SAFETY: the SDK passes NUL-terminated strings.
    match unsafe { parse_probability_c(s) } {
        Some(d) => {
            if !r.is_null() {
                // SAFETY: a non-NULL `r` is a writable f64 slot.
                unsafe { *r = d };
            }
            0
        }
        None => {
            // SAFETY: the SDK passes NUL-terminated strings.
            let (what, s) = unsafe { (CStr::from_ptr(what), CStr::from_ptr(s)) };
            // As nbdkit's parsers: a message, no errno.
            report(
                &format!(
                    "{}: could not parse '{}' as a probability",
                    what.to_string_lossy(),
                    s.to_string_lossy()
                ),
                None,
            );
            -1
        }
    }
}

/// The grammar of [`parse_probability_port`]: the value, or `None`.
/// The fake nbdkit of [`crate::testing`] parses with it too, so that
/// every Rust copy of the grammar is this one, pinned to the C one by
/// tests/direct.bats.
///
/// # Safety
///
/// `s` must be a NUL-terminated string.
pub(crate) unsafe fn parse_probability_c(s: *const c_char) -> Option<f64> {
    let mut end: *mut c_char = ptr::null_mut();
    // SAFETY: `s` is NUL-terminated; strtod stores in `end` a pointer
    // into it, at most at its NUL.
    let mut d = unsafe { strtod(s, &mut end) };
    if ptr::eq(end, s) {
        return None;
    }
    // SAFETY: `end` points into `s`, at or before its NUL.
    let c = unsafe { *end } as u8;
    if c == b':' || c == b'/' {
        // SAFETY: `end` is not at the NUL, so `end + 1` is still in `s`.
        let denominator = unsafe { end.add(1) };
        let mut end2: *mut c_char = ptr::null_mut();
        // SAFETY: as for the first strtod.
        let d2 = unsafe { strtod(denominator, &mut end2) };
        // SAFETY: `end2` points into `s`, at or before its NUL.
        if end2 == denominator || unsafe { *end2 } != 0 {
            return None;
        }
        if d2 == 0.0 {
            if d != 0.0 {
                return None;
            }
        } else {
            d /= d2;
        }
    } else if c == b'%' {
        // SAFETY: `end` is not at the NUL, so `end + 1` is still in `s`.
        if unsafe { *end.add(1) } != 0 {
            return None;
        }
        d /= 100.0;
    } else if c != 0 {
        return None;
    }
    if !d.is_finite() || d.is_sign_negative() {
        return None;
    }
    Some(d)
}
