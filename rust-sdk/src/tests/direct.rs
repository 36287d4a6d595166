// SPDX-License-Identifier: BSD-2-Clause
//! Direct loading (`direct.rs`, `direct_host.rs`): nbdkit's struct made
//! from the descriptor, the name and `--dump-plugin` lines, and the host
//! table filled from whatever the process offers.
//!
//! `plugin_init` itself installs its table for the whole process, so it
//! runs in its own test binary (`rust-sdk/tests/direct.rs`) and, with a
//! real nbdkit, in tests/direct.bats and every `-direct` bats suite.

use std::ffi::{CStr, CString};
use std::mem::size_of;
use std::os::raw::{c_char, c_int, c_void};
use std::ptr;
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::plugins::all_listed;
use crate::descriptor::{callback_names, Builder, Descriptor};
use crate::direct::{dump_lines, nbdkit_name, nbdkit_plugin_for};
use crate::direct_host::host_table;
use crate::errno::ENOTSUP;
use crate::ffi::{nbdkit_rust_host, nbdkit_rust_plugin};
use crate::nbdkit_ffi::nbdkit_plugin;
use crate::{Flags, Result, Server, ThreadModel};

/// A plugin with every method but the required ones left to the
/// defaults: only the descriptor matters here.
struct Tiny;

impl Server for Tiny {
    fn name() -> &'static str {
        "tiny_disk"
    }

    fn open(_readonly: bool) -> Result<Box<dyn Server>> {
        Ok(Box::new(Tiny))
    }

    fn get_size(&self) -> Result<i64> {
        Ok(512)
    }

    fn read_at(&self, buf: &mut [u8], _offset: u64) -> Result<()> {
        buf.fill(0);
        Ok(())
    }

    fn write_at(&self, _buf: &[u8], _offset: u64, _flags: Flags) -> Result<()> {
        Ok(())
    }

    fn thread_model() -> Result<ThreadModel> {
        Ok(ThreadModel::SerializeRequests)
    }

    fn longname() -> Option<&'static str> {
        Some("tiny\ndisk \\ with\tcontrols")
    }

    fn config_help() -> Option<&'static str> {
        Some("size=N\nthe size")
    }
}

fn minimal() -> Descriptor {
    Builder::<Tiny>::new().build().unwrap()
}

/// Every optional callback the builder knows, listed.
fn everything() -> Descriptor {
    all_listed::<Tiny>().build().unwrap()
}

/// A callback as an address, to compare (None is 0).
fn addr<F: Copy>(f: Option<F>) -> usize {
    assert_eq!(size_of::<F>(), size_of::<usize>());
    match f {
        // SAFETY: F is a function pointer type, the size of a usize.
        Some(f) => unsafe { std::mem::transmute_copy::<F, usize>(&f) },
        None => 0,
    }
}

/// Checks that every callback and string nbdkit gets is the
/// descriptor's own; returns how many callbacks the descriptor has.
macro_rules! same_as_descriptor {
    ($p:expr, $d:expr; callbacks: $($cb:ident),*; strings: $($s:ident),*) => {{
        let (p, d): (&nbdkit_plugin, &nbdkit_rust_plugin) = ($p, $d);
        let mut present = 0;
        $(
            assert_eq!(addr(p.$cb), addr(d.$cb), stringify!($cb));
            if d.$cb.is_some() {
                present += 1;
            }
        )*
        $( assert_eq!(p.$s, d.$s, stringify!($s)); )*
        present
    }};
}

fn check_struct(d: &Descriptor) -> usize {
    let name = nbdkit_name(d.raw()).unwrap();
    let p = nbdkit_plugin_for(d.raw(), name.as_ptr());
    assert_eq!(p._struct_size, size_of::<nbdkit_plugin>() as u64);
    assert_eq!(p._api_version, 2);
    assert_eq!(p._thread_model, d.raw().max_thread_model);
    assert_eq!(p._thread_model, ThreadModel::Parallel as c_int);
    assert_eq!(p.name, name.as_ptr());
    assert_eq!(p.errno_is_preserved, 0);
    assert!(p._pread_v1.is_none());
    assert!(p._pwrite_v1.is_none());
    assert!(p._flush_v1.is_none());
    assert!(p._trim_v1.is_none());
    assert!(p._zero_v1.is_none());
    // Always there, to print the Rust lines; it is not the plugin's own.
    assert!(p.dump_plugin.is_some());
    assert_ne!(addr(p.dump_plugin), addr(d.raw().dump_plugin));
    // load is a wrapper that exits if load_checked fails, there only
    // when the plugin has a load.
    assert_eq!(p.load.is_some(), d.raw().load.is_some());
    assert_eq!(p.load.is_some(), d.raw().load_checked.is_some());
    if p.load.is_some() {
        assert_ne!(addr(p.load), addr(d.raw().load));
    }
    let load = usize::from(p.load.is_some());
    load + same_as_descriptor!(&p, d.raw();
        callbacks: unload, config, config_complete, open, close, get_size,
            can_write, can_flush, is_rotational, can_trim, can_zero, can_fua,
            pread, pwrite, flush, trim, zero, can_multi_conn, can_extents, extents,
            can_cache, cache, thread_model, can_fast_zero, preconnect, get_ready,
            after_fork, list_exports, default_export, export_description, cleanup,
            block_size;
        strings: longname, version, description, config_help, magic_config_key)
}

#[test]
fn nbdkit_gets_the_descriptors_callbacks_and_null_for_the_rest() {
    // open, close, get_size, pread.
    assert_eq!(check_struct(&minimal()), 4);
    // All 33 callbacks nbdkit_plugin and the descriptor share (the
    // descriptor's dump_plugin is the 34th: nbdkit gets the wrapper).
    assert_eq!(check_struct(&everything()), 33);
}

#[test]
fn nbdkit_gets_the_name_with_dashes_for_underscores() {
    let d = minimal();
    assert_eq!(nbdkit_name(d.raw()).unwrap().to_str().unwrap(), "tiny-disk");
    // SAFETY: the descriptor's name is a NUL-terminated string.
    let original = unsafe { CStr::from_ptr(d.raw().name) };
    assert_eq!(original.to_str().unwrap(), "tiny_disk");
}

#[test]
fn dump_lines_are_the_loaders() {
    let d = everything();
    let lines =
        String::from_utf8(dump_lines(d.raw(), Some("/some/where/libtiny.so".into()))).unwrap();
    assert_eq!(
        lines,
        format!(
            "rust_abi_version=1.1\n\
             rust_plugin_path=/some/where/libtiny.so\n\
             rust_plugin_name=tiny_disk\n\
             rust_plugin_longname=tiny\\ndisk \\\\ with\\x09controls\n\
             rust_plugin_config_help=size=N\\nthe size\n\
             rust_sdk_version={}\n\
             rust_plugin_thread_model=parallel\n\
             rust_plugin_callbacks={}\n",
            env!("CARGO_PKG_VERSION"),
            HEADER_CALLBACKS.join(",")
        )
    );
    let without_path = String::from_utf8(dump_lines(d.raw(), None)).unwrap();
    assert!(!without_path.contains("rust_plugin_path="));
    let lines = String::from_utf8(dump_lines(minimal().raw(), None)).unwrap();
    assert!(
        lines.ends_with("rust_plugin_callbacks=open,close,get_size,pread\n"),
        "{}",
        lines
    );
}

/// The callback fields of the descriptor, load to cache, in the
/// header's order.
const HEADER_CALLBACKS: [&str; 34] = [
    "load",
    "unload",
    "config",
    "config_complete",
    "dump_plugin",
    "thread_model",
    "get_ready",
    "after_fork",
    "cleanup",
    "preconnect",
    "list_exports",
    "default_export",
    "open",
    "close",
    "get_size",
    "export_description",
    "block_size",
    "can_write",
    "can_flush",
    "is_rotational",
    "can_trim",
    "can_zero",
    "can_fast_zero",
    "can_fua",
    "can_multi_conn",
    "can_extents",
    "can_cache",
    "pread",
    "pwrite",
    "flush",
    "trim",
    "zero",
    "extents",
    "cache",
];

#[test]
fn header_callbacks_are_the_headers() {
    // The function pointers of struct nbdkit_rust_plugin in
    // abi/nbdkit-rust-abi.h, in order, without ABI 1.1's *_checked
    // (named after their twins).
    let header = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("abi/nbdkit-rust-abi.h"),
    )
    .unwrap();
    let start = header.find("struct nbdkit_rust_plugin {").unwrap();
    let end = start + header[start..].find("\n};").unwrap();
    let mut names = Vec::new();
    for piece in header[start..end].split("(*").skip(1) {
        let name = &piece[..piece.find(')').unwrap()];
        names.push(name.to_string());
    }
    assert_eq!(
        names.iter().filter(|n| n.ends_with("_checked")).count(),
        2,
        "{:?}",
        names
    );
    names.retain(|n| !n.ends_with("_checked"));
    assert_eq!(names, HEADER_CALLBACKS);
}

#[test]
fn callbacks_listed_are_the_non_null_ones_in_the_headers_order() {
    assert_eq!(callback_names(everything().raw()), HEADER_CALLBACKS);
    assert_eq!(
        callback_names(minimal().raw()),
        ["open", "close", "get_size", "pread"]
    );
    // load and dump_plugin count when only their ABI 1.1 twin is set,
    // and are listed once, by their own names.
    let mut d = minimal();
    d.raw_mut().load_checked = everything().raw().load_checked;
    d.raw_mut().dump_plugin_checked = everything().raw().dump_plugin_checked;
    assert!(d.raw().load.is_none() && d.raw().dump_plugin.is_none());
    assert_eq!(
        callback_names(d.raw()),
        ["load", "dump_plugin", "open", "close", "get_size", "pread"]
    );
    let mut b = Builder::<Tiny>::new();
    b.load();
    b.dump_plugin();
    b.write_at();
    b.read_at_uninit();
    assert_eq!(
        callback_names(b.build().unwrap().raw()),
        [
            "load",
            "dump_plugin",
            "open",
            "close",
            "get_size",
            "pread",
            "pwrite"
        ]
    );
}

// ---------------------------------------------------------------------
// The host table.  host_table remembers the few nbdkit functions its
// wrappers call in statics of direct_host.rs, which nothing else in
// this test binary uses; these tests take turns with them.

static TURN: Mutex<()> = Mutex::new(());

pub(super) fn turn() -> MutexGuard<'static, ()> {
    TURN.lock().unwrap_or_else(PoisonError::into_inner)
}

static SET_ERRORS: Mutex<Vec<c_int>> = Mutex::new(Vec::new());

fn take_set_errors() -> Vec<c_int> {
    std::mem::take(&mut *SET_ERRORS.lock().unwrap_or_else(PoisonError::into_inner))
}

/// Stands in for nbdkit_set_error.
unsafe extern "C" fn fake_set_error(err: c_int) {
    SET_ERRORS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(err);
}

/// Stands in for nbdkit_parse_size.
unsafe extern "C" fn fake_parse_size(_s: *const c_char) -> i64 {
    4242
}

/// Finds only the two fakes above.
fn fakes(symbol: &'static str) -> *mut c_void {
    match symbol {
        "nbdkit_set_error\0" => fake_set_error as unsafe extern "C" fn(c_int) as *mut c_void,
        "nbdkit_parse_size\0" => {
            fake_parse_size as unsafe extern "C" fn(*const c_char) -> i64 as *mut c_void
        }
        _ => ptr::null_mut(),
    }
}

fn nothing(_symbol: &'static str) -> *mut c_void {
    ptr::null_mut()
}

#[test]
fn a_service_nbdkit_lacks_is_null_but_for_disconnect_and_parse_probability() {
    let _turn = turn();
    let host: nbdkit_rust_host = host_table(&nothing);
    assert_eq!(host.abi_major, 1);
    assert_eq!(host.struct_size, size_of::<nbdkit_rust_host>() as u64);
    assert!(host.nbdkit_version.is_null());
    macro_rules! all {
        ($what:ident: $($field:ident),*) => {
            $( assert!(host.$field.$what(), "{} {}", stringify!($field), stringify!($what)); )*
        };
    }
    // NULL: host.rs makes it an ENOTSUP error saying so.
    all!(is_none:
        set_error, export_name, is_tls, peer_name, peer_pid, peer_uid, peer_gid, shutdown,
        parse_size, parse_bool, parse_int, parse_unsigned, parse_int8_t, parse_uint8_t,
        parse_int16_t, parse_uint16_t, parse_int32_t, parse_uint32_t, parse_int64_t,
        parse_uint64_t, read_password, realpath, absolute_path, nanosleep, stdio_safe,
        add_extent, add_export, use_default_export, strdup_intern, strndup_intern,
        extents_new, extents_free, extents_count, get_extent,
        exports_new, exports_free, exports_count, get_export
    );
    // Wrappers (error and debug write to stderr, or nowhere, without
    // nbdkit), the SDK's own parse_probability, and libc's free.
    all!(is_some: error, debug, disconnect, parse_probability, free);
    // A plugin has no layer below: the filter services are stubs
    // (direct_host_filter.rs), whatever the process offers.
    all!(is_some:
        next_prepare, next_finalize, next_get_size, next_export_description, next_block_size,
        next_can_write, next_can_flush, next_is_rotational, next_can_trim, next_can_zero,
        next_can_fast_zero, next_can_extents, next_can_fua, next_can_multi_conn,
        next_can_cache, next_pread, next_pwrite, next_flush, next_trim, next_zero,
        next_extents, next_cache, next_config, next_config_complete, next_preconnect,
        next_list_exports, next_default_export, next_open, extents_full,
        context_get_backend, next_context_open, next_context_close, context_set_next
    );
}

#[test]
fn a_service_nbdkit_has_is_nbdkits_own() {
    let _turn = turn();
    let host = host_table(&fakes);
    take_set_errors();
    let s = CString::new("1M").unwrap();
    assert_eq!(
        addr(host.parse_size),
        fake_parse_size as unsafe extern "C" fn(*const c_char) -> i64 as usize
    );
    // SAFETY: the table's function, with a NUL-terminated string.
    assert_eq!(unsafe { host.parse_size.unwrap()(s.as_ptr()) }, 4242);
    assert_eq!(
        addr(host.set_error),
        fake_set_error as unsafe extern "C" fn(c_int) as usize
    );
    assert!(host.parse_bool.is_none());
    assert_eq!(take_set_errors(), vec![]);
}

#[test]
fn disconnect_without_nbdkit_disconnect_fails_with_enotsup() {
    // As the loader's table does on nbdkit < 1.34: it logs why (nowhere
    // here, there being no nbdkit_error), sets ENOTSUP, returns -1.
    let _turn = turn();
    let host = host_table(&fakes);
    take_set_errors();
    // SAFETY: the table's function, with a plain integer.
    assert_eq!(unsafe { host.disconnect.unwrap()(0) }, -1);
    assert_eq!(take_set_errors(), vec![ENOTSUP]);
}

/// host->parse_probability without nbdkit_parse_probability.
fn probability(host: &nbdkit_rust_host, s: &str) -> Option<f64> {
    let what = CString::new("p").unwrap();
    let s = CString::new(s).unwrap();
    let mut r = -1.0;
    // SAFETY: the table's function, with NUL-terminated strings and a
    // writable f64.
    match unsafe { host.parse_probability.unwrap()(what.as_ptr(), s.as_ptr(), &mut r) } {
        0 => Some(r),
        _ => None,
    }
}

#[test]
fn parse_probability_is_the_loaders_grammar_without_nbdkit() {
    let _turn = turn();
    let host = host_table(&fakes);
    take_set_errors();
    for (s, want) in [
        ("0.1", 0.1),
        ("1e-1", 0.1),
        ("10%", 0.1),
        ("1:10", 0.1),
        ("1/10", 0.1),
        ("0:0", 0.0),
        ("0/0", 0.0),
        ("0", 0.0),
        ("1", 1.0),
        ("3/2", 1.5),
        ("150%", 1.5),
        (" 0.5", 0.5),
        ("0x1p-2", 0.25),
    ] {
        assert_eq!(probability(&host, s), Some(want), "{:?}", s);
    }
    for s in [
        "", "abc", "1:0", "5/0", "-0.1", "-0", "10%x", "10%%", "1:", "1/", ":1", "1:2:3", "0.1x",
        "inf", "nan", "1e999", "1:1e-999",
    ] {
        assert_eq!(probability(&host, s), None, "{:?}", s);
    }
    // As nbdkit's parsers, it logs but sets no errno.
    assert_eq!(take_set_errors(), vec![]);
}
