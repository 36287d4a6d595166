// SPDX-License-Identifier: BSD-2-Clause
//! The raw mirror of `abi/nbdkit-rust-abi.h`, one item per item of the
//! header, in the header's order.
//!
//! This module holds declarations only, no logic.  The header is the
//! contract; this file follows it, and the layout test
//! (`tests/layout.rs` in this crate's `src`) compiles the header with the
//! C compiler and checks that every size, alignment and field offset
//! here is the same as there.
//!
//! Every function pointer is an `Option<unsafe extern "C" fn ...>`: a
//! NULL pointer in C is `None` here, which is what the header means by
//! "not implemented" (descriptor) or "absent" (a host table field that
//! lies beyond the host's `struct_size`).

// A complete mirror: the SDK itself does not use every item.
#![allow(non_camel_case_types, dead_code)]

use std::mem::size_of;
use std::os::raw::{c_char, c_int, c_uint, c_void};

/// `NBDKIT_RUST_ABI_MAJOR`.
pub const NBDKIT_RUST_ABI_MAJOR: u32 = 1;
/// `NBDKIT_RUST_ABI_MINOR`.
pub const NBDKIT_RUST_ABI_MINOR: u32 = 1;

/// `NBDKIT_RUST_PLUGIN_V1_SYMBOL`, the name of the ABI 1 entry point.
pub const NBDKIT_RUST_PLUGIN_V1_SYMBOL: &str = "nbdkit_rust_plugin_v1";

/// `struct nbdkit_extents`: opaque, passed through unchanged.
#[repr(C)]
pub struct nbdkit_extents {
    _opaque: [u8; 0],
}

/// `struct nbdkit_exports`: opaque, passed through unchanged.
#[repr(C)]
pub struct nbdkit_exports {
    _opaque: [u8; 0],
}

/// `struct nbdkit_rust_next`: the layer below a filter for one
/// connection (nbdkit's `nbdkit_next *`), made by the loader.
#[repr(C)]
pub struct nbdkit_rust_next {
    _opaque: [u8; 0],
}

/// `struct nbdkit_rust_backend`: a filter's backend (nbdkit's
/// `nbdkit_backend *`).
#[repr(C)]
pub struct nbdkit_rust_backend {
    _opaque: [u8; 0],
}

/// `struct nbdkit_rust_context`: a filter's connection context
/// (nbdkit's `nbdkit_context *`).
#[repr(C)]
pub struct nbdkit_rust_context {
    _opaque: [u8; 0],
}

/// `struct nbdkit_rust_next_call`: one global call down the chain
/// (nbdkit's next function and its nxdata), valid for that call.
#[repr(C)]
pub struct nbdkit_rust_next_call {
    _opaque: [u8; 0],
}

/// `struct sockaddr` from `<sys/socket.h>`: only ever handled through a
/// pointer to a buffer big enough for any address (see `peer.rs`).
#[repr(C)]
pub struct sockaddr {
    _opaque: [u8; 0],
}

/// `socklen_t` from `<sys/socket.h>` (32 bits on every Linux target).
pub type socklen_t = u32;

/// `struct nbdkit_rust_host`: the table of nbdkit services the loader
/// hands the plugin.
#[repr(C)]
pub struct nbdkit_rust_host {
    /// `NBDKIT_RUST_ABI_MAJOR` of the loader.
    pub abi_major: u32,
    /// `NBDKIT_RUST_ABI_MINOR` of the loader.
    pub abi_minor: u32,
    /// `sizeof (struct nbdkit_rust_host)` as the loader compiled it.
    pub struct_size: u64,

    /// Version of nbdkit the host was built for, e.g. "1.32.5".
    pub nbdkit_version: *const c_char,

    /// `nbdkit_error` with a plain-text message.
    pub error: Option<unsafe extern "C" fn(msg: *const c_char)>,
    /// `nbdkit_debug` with a plain-text message.
    pub debug: Option<unsafe extern "C" fn(msg: *const c_char)>,

    /// `nbdkit_set_error`.
    pub set_error: Option<unsafe extern "C" fn(err: c_int)>,

    /// `nbdkit_export_name`.
    pub export_name: Option<unsafe extern "C" fn() -> *const c_char>,
    /// `nbdkit_is_tls`.
    pub is_tls: Option<unsafe extern "C" fn() -> c_int>,
    /// `nbdkit_peer_name`.
    pub peer_name:
        Option<unsafe extern "C" fn(addr: *mut sockaddr, addrlen: *mut socklen_t) -> c_int>,
    /// `nbdkit_peer_pid`.
    pub peer_pid: Option<unsafe extern "C" fn() -> i64>,
    /// `nbdkit_peer_uid`.
    pub peer_uid: Option<unsafe extern "C" fn() -> i64>,
    /// `nbdkit_peer_gid`.
    pub peer_gid: Option<unsafe extern "C" fn() -> i64>,

    /// `nbdkit_shutdown`.
    pub shutdown: Option<unsafe extern "C" fn()>,

    /// `nbdkit_disconnect`.
    pub disconnect: Option<unsafe extern "C" fn(force: c_int) -> c_int>,

    /// `nbdkit_parse_size`.
    pub parse_size: Option<unsafe extern "C" fn(s: *const c_char) -> i64>,
    /// `nbdkit_parse_bool`.
    pub parse_bool: Option<unsafe extern "C" fn(s: *const c_char) -> c_int>,
    /// `nbdkit_parse_probability`.
    pub parse_probability:
        Option<unsafe extern "C" fn(what: *const c_char, s: *const c_char, r: *mut f64) -> c_int>,
    /// `nbdkit_parse_int`.
    pub parse_int:
        Option<unsafe extern "C" fn(what: *const c_char, s: *const c_char, r: *mut c_int) -> c_int>,
    /// `nbdkit_parse_unsigned`.
    pub parse_unsigned: Option<
        unsafe extern "C" fn(what: *const c_char, s: *const c_char, r: *mut c_uint) -> c_int,
    >,
    /// `nbdkit_parse_int8_t`.
    pub parse_int8_t:
        Option<unsafe extern "C" fn(what: *const c_char, s: *const c_char, r: *mut i8) -> c_int>,
    /// `nbdkit_parse_uint8_t`.
    pub parse_uint8_t:
        Option<unsafe extern "C" fn(what: *const c_char, s: *const c_char, r: *mut u8) -> c_int>,
    /// `nbdkit_parse_int16_t`.
    pub parse_int16_t:
        Option<unsafe extern "C" fn(what: *const c_char, s: *const c_char, r: *mut i16) -> c_int>,
    /// `nbdkit_parse_uint16_t`.
    pub parse_uint16_t:
        Option<unsafe extern "C" fn(what: *const c_char, s: *const c_char, r: *mut u16) -> c_int>,
    /// `nbdkit_parse_int32_t`.
    pub parse_int32_t:
        Option<unsafe extern "C" fn(what: *const c_char, s: *const c_char, r: *mut i32) -> c_int>,
    /// `nbdkit_parse_uint32_t`.
    pub parse_uint32_t:
        Option<unsafe extern "C" fn(what: *const c_char, s: *const c_char, r: *mut u32) -> c_int>,
    /// `nbdkit_parse_int64_t`.
    pub parse_int64_t:
        Option<unsafe extern "C" fn(what: *const c_char, s: *const c_char, r: *mut i64) -> c_int>,
    /// `nbdkit_parse_uint64_t`.
    pub parse_uint64_t:
        Option<unsafe extern "C" fn(what: *const c_char, s: *const c_char, r: *mut u64) -> c_int>,

    /// `nbdkit_read_password`; `*password` is released with `free`.
    pub read_password:
        Option<unsafe extern "C" fn(value: *const c_char, password: *mut *mut c_char) -> c_int>,

    /// `nbdkit_realpath`; the result is released with `free`.
    pub realpath: Option<unsafe extern "C" fn(path: *const c_char) -> *mut c_char>,
    /// `nbdkit_absolute_path`; the result is released with `free`.
    pub absolute_path: Option<unsafe extern "C" fn(path: *const c_char) -> *mut c_char>,

    /// `nbdkit_nanosleep`.
    pub nanosleep: Option<unsafe extern "C" fn(sec: c_uint, nsec: c_uint) -> c_int>,

    /// `nbdkit_stdio_safe`.
    pub stdio_safe: Option<unsafe extern "C" fn() -> c_int>,

    /// `nbdkit_add_extent`, only inside the extents callback.
    pub add_extent: Option<
        unsafe extern "C" fn(
            extents: *mut nbdkit_extents,
            offset: u64,
            length: u64,
            type_: u32,
        ) -> c_int,
    >,

    /// `nbdkit_add_export`, only inside the list_exports callback.
    pub add_export: Option<
        unsafe extern "C" fn(
            exports: *mut nbdkit_exports,
            name: *const c_char,
            description: *const c_char,
        ) -> c_int,
    >,
    /// `nbdkit_use_default_export`, only inside the list_exports callback.
    pub use_default_export: Option<unsafe extern "C" fn(exports: *mut nbdkit_exports) -> c_int>,

    /// `nbdkit_strdup_intern`.
    pub strdup_intern: Option<unsafe extern "C" fn(s: *const c_char) -> *const c_char>,
    /// `nbdkit_strndup_intern`.
    pub strndup_intern: Option<unsafe extern "C" fn(s: *const c_char, n: usize) -> *const c_char>,

    /// `free` for memory the host allocated for the plugin.
    pub free: Option<unsafe extern "C" fn(ptr: *mut c_void)>,

    // ABI 1.1: what filters need.
    /// `next->prepare`.
    pub next_prepare: Option<unsafe extern "C" fn(next: *mut nbdkit_rust_next) -> c_int>,
    /// `next->finalize`.
    pub next_finalize: Option<unsafe extern "C" fn(next: *mut nbdkit_rust_next) -> c_int>,
    /// `next->get_size`.
    pub next_get_size: Option<unsafe extern "C" fn(next: *mut nbdkit_rust_next) -> i64>,
    /// `next->export_description`: owned by nbdkit, or NULL.
    pub next_export_description:
        Option<unsafe extern "C" fn(next: *mut nbdkit_rust_next) -> *const c_char>,
    /// `next->block_size`.
    pub next_block_size: Option<
        unsafe extern "C" fn(
            next: *mut nbdkit_rust_next,
            minimum: *mut u32,
            preferred: *mut u32,
            maximum: *mut u32,
        ) -> c_int,
    >,
    /// `next->can_write`.
    pub next_can_write: Option<unsafe extern "C" fn(next: *mut nbdkit_rust_next) -> c_int>,
    /// `next->can_flush`.
    pub next_can_flush: Option<unsafe extern "C" fn(next: *mut nbdkit_rust_next) -> c_int>,
    /// `next->is_rotational`.
    pub next_is_rotational: Option<unsafe extern "C" fn(next: *mut nbdkit_rust_next) -> c_int>,
    /// `next->can_trim`.
    pub next_can_trim: Option<unsafe extern "C" fn(next: *mut nbdkit_rust_next) -> c_int>,
    /// `next->can_zero`: `NBDKIT_ZERO_*`.
    pub next_can_zero: Option<unsafe extern "C" fn(next: *mut nbdkit_rust_next) -> c_int>,
    /// `next->can_fast_zero`.
    pub next_can_fast_zero: Option<unsafe extern "C" fn(next: *mut nbdkit_rust_next) -> c_int>,
    /// `next->can_extents`.
    pub next_can_extents: Option<unsafe extern "C" fn(next: *mut nbdkit_rust_next) -> c_int>,
    /// `next->can_fua`: `NBDKIT_FUA_*`.
    pub next_can_fua: Option<unsafe extern "C" fn(next: *mut nbdkit_rust_next) -> c_int>,
    /// `next->can_multi_conn`.
    pub next_can_multi_conn: Option<unsafe extern "C" fn(next: *mut nbdkit_rust_next) -> c_int>,
    /// `next->can_cache`: `NBDKIT_CACHE_*`.
    pub next_can_cache: Option<unsafe extern "C" fn(next: *mut nbdkit_rust_next) -> c_int>,
    /// `next->pread`.
    pub next_pread: Option<
        unsafe extern "C" fn(
            next: *mut nbdkit_rust_next,
            buf: *mut c_void,
            count: u32,
            offset: u64,
            flags: u32,
            err: *mut c_int,
        ) -> c_int,
    >,
    /// `next->pwrite`.
    pub next_pwrite: Option<
        unsafe extern "C" fn(
            next: *mut nbdkit_rust_next,
            buf: *const c_void,
            count: u32,
            offset: u64,
            flags: u32,
            err: *mut c_int,
        ) -> c_int,
    >,
    /// `next->flush`.
    pub next_flush: Option<
        unsafe extern "C" fn(next: *mut nbdkit_rust_next, flags: u32, err: *mut c_int) -> c_int,
    >,
    /// `next->trim`.
    pub next_trim: Option<
        unsafe extern "C" fn(
            next: *mut nbdkit_rust_next,
            count: u32,
            offset: u64,
            flags: u32,
            err: *mut c_int,
        ) -> c_int,
    >,
    /// `next->zero`.
    pub next_zero: Option<
        unsafe extern "C" fn(
            next: *mut nbdkit_rust_next,
            count: u32,
            offset: u64,
            flags: u32,
            err: *mut c_int,
        ) -> c_int,
    >,
    /// `next->extents`.
    pub next_extents: Option<
        unsafe extern "C" fn(
            next: *mut nbdkit_rust_next,
            count: u32,
            offset: u64,
            flags: u32,
            extents: *mut nbdkit_extents,
            err: *mut c_int,
        ) -> c_int,
    >,
    /// `next->cache`.
    pub next_cache: Option<
        unsafe extern "C" fn(
            next: *mut nbdkit_rust_next,
            count: u32,
            offset: u64,
            flags: u32,
            err: *mut c_int,
        ) -> c_int,
    >,

    /// The next layer's `.config`.
    pub next_config: Option<
        unsafe extern "C" fn(
            call: *mut nbdkit_rust_next_call,
            key: *const c_char,
            value: *const c_char,
        ) -> c_int,
    >,
    /// The next layer's `.config_complete`.
    pub next_config_complete:
        Option<unsafe extern "C" fn(call: *mut nbdkit_rust_next_call) -> c_int>,
    /// The next layer's `.preconnect`.
    pub next_preconnect:
        Option<unsafe extern "C" fn(call: *mut nbdkit_rust_next_call, readonly: c_int) -> c_int>,
    /// The next layer's `.list_exports`.
    pub next_list_exports: Option<
        unsafe extern "C" fn(
            call: *mut nbdkit_rust_next_call,
            readonly: c_int,
            exports: *mut nbdkit_exports,
        ) -> c_int,
    >,
    /// The next layer's `.default_export`: owned by nbdkit, or NULL.
    pub next_default_export: Option<
        unsafe extern "C" fn(call: *mut nbdkit_rust_next_call, readonly: c_int) -> *const c_char,
    >,
    /// The next layer's `.open`.
    pub next_open: Option<
        unsafe extern "C" fn(
            call: *mut nbdkit_rust_next_call,
            context: *mut nbdkit_rust_context,
            readonly: c_int,
            exportname: *const c_char,
        ) -> c_int,
    >,

    /// `nbdkit_extents_new`.
    pub extents_new: Option<unsafe extern "C" fn(start: u64, end: u64) -> *mut nbdkit_extents>,
    /// `nbdkit_extents_free`.
    pub extents_free: Option<unsafe extern "C" fn(extents: *mut nbdkit_extents)>,
    /// `nbdkit_extents_count`.
    pub extents_count: Option<unsafe extern "C" fn(extents: *const nbdkit_extents) -> usize>,
    /// `nbdkit_get_extent`, by pointers.
    pub get_extent: Option<
        unsafe extern "C" fn(
            extents: *const nbdkit_extents,
            i: usize,
            offset: *mut u64,
            length: *mut u64,
            type_: *mut u32,
        ) -> c_int,
    >,
    /// `nbdkit_extents_full`.
    pub extents_full: Option<
        unsafe extern "C" fn(
            next: *mut nbdkit_rust_next,
            count: u32,
            offset: u64,
            flags: u32,
            err: *mut c_int,
        ) -> *mut nbdkit_extents,
    >,

    /// `nbdkit_exports_new`.
    pub exports_new: Option<unsafe extern "C" fn() -> *mut nbdkit_exports>,
    /// `nbdkit_exports_free`.
    pub exports_free: Option<unsafe extern "C" fn(exports: *mut nbdkit_exports)>,
    /// `nbdkit_exports_count`.
    pub exports_count: Option<unsafe extern "C" fn(exports: *const nbdkit_exports) -> usize>,
    /// `nbdkit_get_export`, by pointers.
    pub get_export: Option<
        unsafe extern "C" fn(
            exports: *const nbdkit_exports,
            i: usize,
            name: *mut *const c_char,
            description: *mut *const c_char,
        ) -> c_int,
    >,

    /// `nbdkit_context_get_backend`.
    pub context_get_backend:
        Option<unsafe extern "C" fn(context: *mut nbdkit_rust_context) -> *mut nbdkit_rust_backend>,
    /// `nbdkit_next_context_open`.
    pub next_context_open: Option<
        unsafe extern "C" fn(
            backend: *mut nbdkit_rust_backend,
            readonly: c_int,
            exportname: *const c_char,
            shared: c_int,
        ) -> *mut nbdkit_rust_next,
    >,
    /// `nbdkit_next_context_close`.
    pub next_context_close: Option<unsafe extern "C" fn(next: *mut nbdkit_rust_next)>,
    /// `nbdkit_context_set_next`: the previous next, or NULL.
    pub context_set_next: Option<
        unsafe extern "C" fn(
            context: *mut nbdkit_rust_context,
            next: *mut nbdkit_rust_next,
        ) -> *mut nbdkit_rust_next,
    >,
}

/// `NBDKIT_RUST_HOST_V1_MIN_SIZE`: the host table of ABI 1.0, up to and
/// including `free` (the 16-byte prefix, then 36 pointers).
pub const NBDKIT_RUST_HOST_V1_MIN_SIZE: usize = 16 + 36 * size_of::<usize>();

/// `NBDKIT_RUST_HOST_V1_1_MIN_SIZE`: the smallest host table a filter
/// can use, ABI 1.1 up to and including `context_set_next` (the ABI 1.0
/// table, then 41 pointers).
pub const NBDKIT_RUST_HOST_V1_1_MIN_SIZE: usize =
    NBDKIT_RUST_HOST_V1_MIN_SIZE + 41 * size_of::<usize>();

/// `struct nbdkit_rust_plugin`: the plugin's descriptor.
#[repr(C)]
pub struct nbdkit_rust_plugin {
    /// `NBDKIT_RUST_ABI_MAJOR` of the plugin.
    pub abi_major: u32,
    /// `NBDKIT_RUST_ABI_MINOR` of the plugin.
    pub abi_minor: u32,
    /// `sizeof (struct nbdkit_rust_plugin)` as the plugin compiled it.
    pub struct_size: u64,

    /// Required: the plugin's name.
    pub name: *const c_char,
    /// Optional (may be NULL).
    pub longname: *const c_char,
    /// Optional (may be NULL).
    pub version: *const c_char,
    /// Optional (may be NULL).
    pub description: *const c_char,
    /// Optional (may be NULL).
    pub config_help: *const c_char,
    /// The key a bare argument is given to, or NULL.
    pub magic_config_key: *const c_char,
    /// The version of the Rust SDK that built the plugin.
    pub sdk_version: *const c_char,

    /// The loosest thread model the plugin can ever support.
    pub max_thread_model: i32,
    /// Zero.
    pub reserved0: u32,

    /// `.load`.
    pub load: Option<unsafe extern "C" fn()>,
    /// `.unload`.
    pub unload: Option<unsafe extern "C" fn()>,
    /// `.config`.
    pub config: Option<unsafe extern "C" fn(key: *const c_char, value: *const c_char) -> c_int>,
    /// `.config_complete`.
    pub config_complete: Option<unsafe extern "C" fn() -> c_int>,
    /// `.dump_plugin`.
    pub dump_plugin: Option<unsafe extern "C" fn()>,
    /// `.thread_model`.
    pub thread_model: Option<unsafe extern "C" fn() -> c_int>,
    /// `.get_ready`.
    pub get_ready: Option<unsafe extern "C" fn() -> c_int>,
    /// `.after_fork`.
    pub after_fork: Option<unsafe extern "C" fn() -> c_int>,
    /// `.cleanup`.
    pub cleanup: Option<unsafe extern "C" fn()>,

    /// `.preconnect`.
    pub preconnect: Option<unsafe extern "C" fn(readonly: c_int) -> c_int>,
    /// `.list_exports`.
    pub list_exports: Option<
        unsafe extern "C" fn(readonly: c_int, is_tls: c_int, exports: *mut nbdkit_exports) -> c_int,
    >,
    /// `.default_export`.
    pub default_export:
        Option<unsafe extern "C" fn(readonly: c_int, is_tls: c_int) -> *const c_char>,

    /// `.open`: required.
    pub open: Option<unsafe extern "C" fn(readonly: c_int) -> *mut c_void>,
    /// `.close`: required.
    pub close: Option<unsafe extern "C" fn(handle: *mut c_void)>,

    /// `.get_size`: required.
    pub get_size: Option<unsafe extern "C" fn(handle: *mut c_void) -> i64>,
    /// `.export_description`.
    pub export_description: Option<unsafe extern "C" fn(handle: *mut c_void) -> *const c_char>,
    /// `.block_size`.
    pub block_size: Option<
        unsafe extern "C" fn(
            handle: *mut c_void,
            minimum: *mut u32,
            preferred: *mut u32,
            maximum: *mut u32,
        ) -> c_int,
    >,
    /// `.can_write`.
    pub can_write: Option<unsafe extern "C" fn(handle: *mut c_void) -> c_int>,
    /// `.can_flush`.
    pub can_flush: Option<unsafe extern "C" fn(handle: *mut c_void) -> c_int>,
    /// `.is_rotational`.
    pub is_rotational: Option<unsafe extern "C" fn(handle: *mut c_void) -> c_int>,
    /// `.can_trim`.
    pub can_trim: Option<unsafe extern "C" fn(handle: *mut c_void) -> c_int>,
    /// `.can_zero`.
    pub can_zero: Option<unsafe extern "C" fn(handle: *mut c_void) -> c_int>,
    /// `.can_fast_zero`.
    pub can_fast_zero: Option<unsafe extern "C" fn(handle: *mut c_void) -> c_int>,
    /// `.can_fua`.
    pub can_fua: Option<unsafe extern "C" fn(handle: *mut c_void) -> c_int>,
    /// `.can_multi_conn`.
    pub can_multi_conn: Option<unsafe extern "C" fn(handle: *mut c_void) -> c_int>,
    /// `.can_extents`.
    pub can_extents: Option<unsafe extern "C" fn(handle: *mut c_void) -> c_int>,
    /// `.can_cache`.
    pub can_cache: Option<unsafe extern "C" fn(handle: *mut c_void) -> c_int>,

    /// `.pread`: required.
    pub pread: Option<
        unsafe extern "C" fn(
            handle: *mut c_void,
            buf: *mut c_void,
            count: u32,
            offset: u64,
            flags: u32,
        ) -> c_int,
    >,
    /// `.pwrite`.
    pub pwrite: Option<
        unsafe extern "C" fn(
            handle: *mut c_void,
            buf: *const c_void,
            count: u32,
            offset: u64,
            flags: u32,
        ) -> c_int,
    >,
    /// `.flush`.
    pub flush: Option<unsafe extern "C" fn(handle: *mut c_void, flags: u32) -> c_int>,
    /// `.trim`.
    pub trim: Option<
        unsafe extern "C" fn(handle: *mut c_void, count: u32, offset: u64, flags: u32) -> c_int,
    >,
    /// `.zero`.
    pub zero: Option<
        unsafe extern "C" fn(handle: *mut c_void, count: u32, offset: u64, flags: u32) -> c_int,
    >,
    /// `.extents`.
    pub extents: Option<
        unsafe extern "C" fn(
            handle: *mut c_void,
            count: u32,
            offset: u64,
            flags: u32,
            extents: *mut nbdkit_extents,
        ) -> c_int,
    >,
    /// `.cache`.
    pub cache: Option<
        unsafe extern "C" fn(handle: *mut c_void, count: u32, offset: u64, flags: u32) -> c_int,
    >,

    /// ABI 1.1: `load` that can fail (0, or -1 after host->error).
    pub load_checked: Option<unsafe extern "C" fn() -> c_int>,
    /// ABI 1.1: `dump_plugin` that can fail (0, or -1 after
    /// host->error).
    pub dump_plugin_checked: Option<unsafe extern "C" fn() -> c_int>,
}

/// `NBDKIT_RUST_PLUGIN_V1_MIN_SIZE`: the descriptor of ABI 1.0, up to
/// and including `cache` (the 16-byte prefix, 7 string pointers, the
/// two 32-bit fields, then 34 callbacks).
pub const NBDKIT_RUST_PLUGIN_V1_MIN_SIZE: usize =
    16 + 7 * size_of::<usize>() + 8 + 34 * size_of::<usize>();

/// `nbdkit_rust_plugin_v1_fn`: the type of the version 1 entry point.
pub type nbdkit_rust_plugin_v1_fn =
    Option<unsafe extern "C" fn(host: *const nbdkit_rust_host) -> *const nbdkit_rust_plugin>;

/// `NBDKIT_RUST_FILTER_V1_SYMBOL`, the name of the filter entry point.
pub const NBDKIT_RUST_FILTER_V1_SYMBOL: &str = "nbdkit_rust_filter_v1";

/// `struct nbdkit_rust_filter`: the filter's descriptor.
#[repr(C)]
pub struct nbdkit_rust_filter {
    /// `NBDKIT_RUST_ABI_MAJOR` of the filter.
    pub abi_major: u32,
    /// `NBDKIT_RUST_ABI_MINOR` of the filter.
    pub abi_minor: u32,
    /// `sizeof (struct nbdkit_rust_filter)` as the filter compiled it.
    pub struct_size: u64,

    /// Required: the filter's name.
    pub name: *const c_char,
    /// Optional (may be NULL).
    pub longname: *const c_char,
    /// Optional (may be NULL).
    pub version: *const c_char,
    /// Optional (may be NULL).
    pub description: *const c_char,
    /// Optional (may be NULL).
    pub config_help: *const c_char,
    /// The version of the Rust SDK that built the filter.
    pub sdk_version: *const c_char,

    /// The loosest thread model the filter can ever support.
    pub max_thread_model: i32,
    /// Zero.
    pub reserved0: u32,

    /// `.load`, which can fail.
    pub load: Option<unsafe extern "C" fn() -> c_int>,
    /// `.unload`.
    pub unload: Option<unsafe extern "C" fn()>,
    /// `.config`.
    pub config: Option<
        unsafe extern "C" fn(
            next: *mut nbdkit_rust_next_call,
            key: *const c_char,
            value: *const c_char,
        ) -> c_int,
    >,
    /// `.config_complete`.
    pub config_complete: Option<unsafe extern "C" fn(next: *mut nbdkit_rust_next_call) -> c_int>,
    /// `.thread_model`.
    pub thread_model: Option<unsafe extern "C" fn() -> c_int>,
    /// `.get_ready`.
    pub get_ready: Option<unsafe extern "C" fn(thread_model: c_int) -> c_int>,
    /// `.after_fork`.
    pub after_fork: Option<unsafe extern "C" fn(backend: *mut nbdkit_rust_backend) -> c_int>,
    /// `.cleanup`.
    pub cleanup: Option<unsafe extern "C" fn(backend: *mut nbdkit_rust_backend)>,

    /// `.preconnect`.
    pub preconnect:
        Option<unsafe extern "C" fn(next: *mut nbdkit_rust_next_call, readonly: c_int) -> c_int>,
    /// `.list_exports`.
    pub list_exports: Option<
        unsafe extern "C" fn(
            next: *mut nbdkit_rust_next_call,
            readonly: c_int,
            is_tls: c_int,
            exports: *mut nbdkit_exports,
        ) -> c_int,
    >,
    /// `.default_export`.
    pub default_export: Option<
        unsafe extern "C" fn(
            next: *mut nbdkit_rust_next_call,
            readonly: c_int,
            is_tls: c_int,
        ) -> *const c_char,
    >,

    /// `.open`: required.
    pub open: Option<
        unsafe extern "C" fn(
            next: *mut nbdkit_rust_next_call,
            context: *mut nbdkit_rust_context,
            readonly: c_int,
            exportname: *const c_char,
            is_tls: c_int,
        ) -> *mut c_void,
    >,
    /// `.close`.
    pub close: Option<unsafe extern "C" fn(handle: *mut c_void)>,
    /// `.prepare`.
    pub prepare: Option<
        unsafe extern "C" fn(
            next: *mut nbdkit_rust_next,
            handle: *mut c_void,
            readonly: c_int,
        ) -> c_int,
    >,
    /// `.finalize`.
    pub finalize:
        Option<unsafe extern "C" fn(next: *mut nbdkit_rust_next, handle: *mut c_void) -> c_int>,

    /// `.get_size`.
    pub get_size:
        Option<unsafe extern "C" fn(next: *mut nbdkit_rust_next, handle: *mut c_void) -> i64>,
    /// `.export_description`.
    pub export_description: Option<
        unsafe extern "C" fn(next: *mut nbdkit_rust_next, handle: *mut c_void) -> *const c_char,
    >,
    /// `.block_size`.
    pub block_size: Option<
        unsafe extern "C" fn(
            next: *mut nbdkit_rust_next,
            handle: *mut c_void,
            minimum: *mut u32,
            preferred: *mut u32,
            maximum: *mut u32,
        ) -> c_int,
    >,
    /// `.can_write`.
    pub can_write:
        Option<unsafe extern "C" fn(next: *mut nbdkit_rust_next, handle: *mut c_void) -> c_int>,
    /// `.can_flush`.
    pub can_flush:
        Option<unsafe extern "C" fn(next: *mut nbdkit_rust_next, handle: *mut c_void) -> c_int>,
    /// `.is_rotational`.
    pub is_rotational:
        Option<unsafe extern "C" fn(next: *mut nbdkit_rust_next, handle: *mut c_void) -> c_int>,
    /// `.can_trim`.
    pub can_trim:
        Option<unsafe extern "C" fn(next: *mut nbdkit_rust_next, handle: *mut c_void) -> c_int>,
    /// `.can_zero`.
    pub can_zero:
        Option<unsafe extern "C" fn(next: *mut nbdkit_rust_next, handle: *mut c_void) -> c_int>,
    /// `.can_fast_zero`.
    pub can_fast_zero:
        Option<unsafe extern "C" fn(next: *mut nbdkit_rust_next, handle: *mut c_void) -> c_int>,
    /// `.can_extents`.
    pub can_extents:
        Option<unsafe extern "C" fn(next: *mut nbdkit_rust_next, handle: *mut c_void) -> c_int>,
    /// `.can_fua`.
    pub can_fua:
        Option<unsafe extern "C" fn(next: *mut nbdkit_rust_next, handle: *mut c_void) -> c_int>,
    /// `.can_multi_conn`.
    pub can_multi_conn:
        Option<unsafe extern "C" fn(next: *mut nbdkit_rust_next, handle: *mut c_void) -> c_int>,
    /// `.can_cache`.
    pub can_cache:
        Option<unsafe extern "C" fn(next: *mut nbdkit_rust_next, handle: *mut c_void) -> c_int>,

    /// `.pread`.
    pub pread: Option<
        unsafe extern "C" fn(
            next: *mut nbdkit_rust_next,
            handle: *mut c_void,
            buf: *mut c_void,
            count: u32,
            offset: u64,
            flags: u32,
            err: *mut c_int,
        ) -> c_int,
    >,
    /// `.pwrite`.
    pub pwrite: Option<
        unsafe extern "C" fn(
            next: *mut nbdkit_rust_next,
            handle: *mut c_void,
            buf: *const c_void,
            count: u32,
            offset: u64,
            flags: u32,
            err: *mut c_int,
        ) -> c_int,
    >,
    /// `.flush`.
    pub flush: Option<
        unsafe extern "C" fn(
            next: *mut nbdkit_rust_next,
            handle: *mut c_void,
            flags: u32,
            err: *mut c_int,
        ) -> c_int,
    >,
    /// `.trim`.
    pub trim: Option<
        unsafe extern "C" fn(
            next: *mut nbdkit_rust_next,
            handle: *mut c_void,
            count: u32,
            offset: u64,
            flags: u32,
            err: *mut c_int,
        ) -> c_int,
    >,
    /// `.zero`.
    pub zero: Option<
        unsafe extern "C" fn(
            next: *mut nbdkit_rust_next,
            handle: *mut c_void,
            count: u32,
            offset: u64,
            flags: u32,
            err: *mut c_int,
        ) -> c_int,
    >,
    /// `.extents`.
    pub extents: Option<
        unsafe extern "C" fn(
            next: *mut nbdkit_rust_next,
            handle: *mut c_void,
            count: u32,
            offset: u64,
            flags: u32,
            extents: *mut nbdkit_extents,
            err: *mut c_int,
        ) -> c_int,
    >,
    /// `.cache`.
    pub cache: Option<
        unsafe extern "C" fn(
            next: *mut nbdkit_rust_next,
            handle: *mut c_void,
            count: u32,
            offset: u64,
            flags: u32,
            err: *mut c_int,
        ) -> c_int,
    >,
}

/// `NBDKIT_RUST_FILTER_V1_MIN_SIZE`: the filter descriptor of ABI 1.1,
/// up to and including `cache` (the 16-byte prefix, 6 string pointers,
/// the two 32-bit fields, then 35 callbacks).
pub const NBDKIT_RUST_FILTER_V1_MIN_SIZE: usize =
    16 + 6 * size_of::<usize>() + 8 + 35 * size_of::<usize>();

/// `nbdkit_rust_filter_v1_fn`: the type of the filter entry point.
pub type nbdkit_rust_filter_v1_fn =
    Option<unsafe extern "C" fn(host: *const nbdkit_rust_host) -> *const nbdkit_rust_filter>;
