// SPDX-License-Identifier: BSD-2-Clause
//! The raw mirror of nbdkit's own `struct nbdkit_plugin`
//! (`<nbdkit-plugin.h>` of nbdkit 1.32 with `NBDKIT_API_VERSION 2`), in
//! the header's order: what `plugin_init` hands nbdkit when it loads a
//! Rust plugin directly (`nbdkit ./libfoo.so`, see `direct.rs`).
//!
//! This module holds declarations only, no logic.  The layout test
//! (`tests/nbdkit_layout.rs` in this crate's `src`) compiles nbdkit's
//! header with the C compiler and checks that every size, alignment and
//! field offset here is the same as there.
//!
//! The callbacks have the very types of the ABI descriptor's
//! (`ffi::nbdkit_rust_plugin`), which has nbdkit's API version 2
//! signatures: `direct.rs` copies them across field by field, so the
//! compiler checks that they agree.

// A complete mirror: the SDK itself does not use every item.
#![allow(non_camel_case_types, dead_code)]

use std::os::raw::{c_char, c_int, c_void};

use crate::ffi::{nbdkit_exports, nbdkit_extents};

/// `NBDKIT_API_VERSION`: the API version this struct is laid out for.
pub const NBDKIT_API_VERSION: c_int = 2;

/// `struct nbdkit_plugin` of nbdkit 1.32, API version 2.
#[repr(C)]
pub struct nbdkit_plugin {
    /// `sizeof (struct nbdkit_plugin)` as the plugin compiled it.
    pub _struct_size: u64,
    /// `NBDKIT_API_VERSION` of the plugin: 2.
    pub _api_version: c_int,
    /// The plugin's `THREAD_MODEL`: the loosest model it supports.
    pub _thread_model: c_int,

    /// `.name`: required.
    pub name: *const c_char,
    /// `.longname`.
    pub longname: *const c_char,
    /// `.version`.
    pub version: *const c_char,
    /// `.description`.
    pub description: *const c_char,

    /// `.load`.
    pub load: Option<unsafe extern "C" fn()>,
    /// `.unload`.
    pub unload: Option<unsafe extern "C" fn()>,

    /// `.config`.
    pub config: Option<unsafe extern "C" fn(key: *const c_char, value: *const c_char) -> c_int>,
    /// `.config_complete`.
    pub config_complete: Option<unsafe extern "C" fn() -> c_int>,
    /// `.config_help`.
    pub config_help: *const c_char,

    /// `.open`: required.
    pub open: Option<unsafe extern "C" fn(readonly: c_int) -> *mut c_void>,
    /// `.close`.
    pub close: Option<unsafe extern "C" fn(handle: *mut c_void)>,

    /// `.get_size`: required.
    pub get_size: Option<unsafe extern "C" fn(handle: *mut c_void) -> i64>,

    /// `.can_write`.
    pub can_write: Option<unsafe extern "C" fn(handle: *mut c_void) -> c_int>,
    /// `.can_flush`.
    pub can_flush: Option<unsafe extern "C" fn(handle: *mut c_void) -> c_int>,
    /// `.is_rotational`.
    pub is_rotational: Option<unsafe extern "C" fn(handle: *mut c_void) -> c_int>,
    /// `.can_trim`.
    pub can_trim: Option<unsafe extern "C" fn(handle: *mut c_void) -> c_int>,

    /// API version 1's pread: NULL in an API version 2 plugin.
    pub _pread_v1: Option<
        unsafe extern "C" fn(
            handle: *mut c_void,
            buf: *mut c_void,
            count: u32,
            offset: u64,
        ) -> c_int,
    >,
    /// API version 1's pwrite: NULL in an API version 2 plugin.
    pub _pwrite_v1: Option<
        unsafe extern "C" fn(
            handle: *mut c_void,
            buf: *const c_void,
            count: u32,
            offset: u64,
        ) -> c_int,
    >,
    /// API version 1's flush: NULL in an API version 2 plugin.
    pub _flush_v1: Option<unsafe extern "C" fn(handle: *mut c_void) -> c_int>,
    /// API version 1's trim: NULL in an API version 2 plugin.
    pub _trim_v1:
        Option<unsafe extern "C" fn(handle: *mut c_void, count: u32, offset: u64) -> c_int>,
    /// API version 1's zero: NULL in an API version 2 plugin.
    pub _zero_v1: Option<
        unsafe extern "C" fn(
            handle: *mut c_void,
            count: u32,
            offset: u64,
            may_trim: c_int,
        ) -> c_int,
    >,

    /// `.errno_is_preserved`: whether nbdkit may read `errno` after a
    /// failed callback.
    pub errno_is_preserved: c_int,

    /// `.dump_plugin`.
    pub dump_plugin: Option<unsafe extern "C" fn()>,

    /// `.can_zero`.
    pub can_zero: Option<unsafe extern "C" fn(handle: *mut c_void) -> c_int>,
    /// `.can_fua`.
    pub can_fua: Option<unsafe extern "C" fn(handle: *mut c_void) -> c_int>,

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

    /// `.magic_config_key`.
    pub magic_config_key: *const c_char,

    /// `.can_multi_conn`.
    pub can_multi_conn: Option<unsafe extern "C" fn(handle: *mut c_void) -> c_int>,

    /// `.can_extents`.
    pub can_extents: Option<unsafe extern "C" fn(handle: *mut c_void) -> c_int>,
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
    /// `.can_cache`.
    pub can_cache: Option<unsafe extern "C" fn(handle: *mut c_void) -> c_int>,
    /// `.cache`.
    pub cache: Option<
        unsafe extern "C" fn(handle: *mut c_void, count: u32, offset: u64, flags: u32) -> c_int,
    >,

    /// `.thread_model`.
    pub thread_model: Option<unsafe extern "C" fn() -> c_int>,

    /// `.can_fast_zero`.
    pub can_fast_zero: Option<unsafe extern "C" fn(handle: *mut c_void) -> c_int>,

    /// `.preconnect`.
    pub preconnect: Option<unsafe extern "C" fn(readonly: c_int) -> c_int>,

    /// `.get_ready`.
    pub get_ready: Option<unsafe extern "C" fn() -> c_int>,
    /// `.after_fork`.
    pub after_fork: Option<unsafe extern "C" fn() -> c_int>,

    /// `.list_exports`.
    pub list_exports: Option<
        unsafe extern "C" fn(readonly: c_int, is_tls: c_int, exports: *mut nbdkit_exports) -> c_int,
    >,
    /// `.default_export`.
    pub default_export:
        Option<unsafe extern "C" fn(readonly: c_int, is_tls: c_int) -> *const c_char>,
    /// `.export_description`.
    pub export_description: Option<unsafe extern "C" fn(handle: *mut c_void) -> *const c_char>,

    /// `.cleanup`.
    pub cleanup: Option<unsafe extern "C" fn()>,

    /// `.block_size`.
    pub block_size: Option<
        unsafe extern "C" fn(
            handle: *mut c_void,
            minimum: *mut u32,
            preferred: *mut u32,
            maximum: *mut u32,
        ) -> c_int,
    >,
}

/// The type of `plugin_init`, which nbdkit calls right after loading a
/// plugin.
pub type plugin_init_fn = Option<unsafe extern "C" fn() -> *mut nbdkit_plugin>;
