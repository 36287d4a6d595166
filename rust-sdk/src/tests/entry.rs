// SPDX-License-Identifier: BSD-2-Clause
//! The entry point `plugin!` defines, called as the loader calls it.

use std::ffi::CStr;

use super::fake_host::{self, take_errors};
use super::plugins::Full;
use crate::descriptor::DescriptorCell;
use crate::ffi::{nbdkit_rust_host, nbdkit_rust_plugin, NBDKIT_RUST_HOST_V1_MIN_SIZE};

// The one plugin! of the test binary, with a trailing comma and the
// names in no particular order (plugin! of no names and without a
// trailing comma are in the doctests).
crate::plugin!(Full {
    zero,
    write_at,
    thread_model,
    config,
    longname,
    can_multi_conn,
});

extern "C" {
    // Defined by the plugin! above.
    fn nbdkit_rust_plugin_v1(host: *const nbdkit_rust_host) -> *const nbdkit_rust_plugin;
}

#[test]
fn entry_point_returns_the_descriptor_once_built() {
    let _host = fake_host::install();
    let host = fake_host::installed();
    // SAFETY: the fake host table lives for the whole test binary.
    let d1 = unsafe { nbdkit_rust_plugin_v1(host) };
    // SAFETY: as above.
    let d2 = unsafe { nbdkit_rust_plugin_v1(host) };
    assert!(!d1.is_null());
    assert_eq!(d1, d2, "the descriptor is built once");
    // SAFETY: a non-NULL result points to the static descriptor.
    let p = unsafe { &*d1 };
    // SAFETY: the name is a NUL-terminated string of the descriptor.
    assert_eq!(unsafe { CStr::from_ptr(p.name) }.to_str().unwrap(), "full");
    assert!(p.pwrite.is_some());
    assert!(p.zero.is_some());
    assert!(p.thread_model.is_some());
    assert!(p.config.is_some());
    assert!(p.can_multi_conn.is_some());
    assert!(p.flush.is_none());
    assert!(p.trim.is_none());
    assert!(p.extents.is_none());
    assert!(p.can_write.is_none());
    assert!(p.list_exports.is_none());
    assert_eq!(take_errors(), (vec![], vec![]));
}

#[test]
fn entry_point_refuses_a_null_host() {
    // SAFETY: NULL is allowed and refused.
    assert!(unsafe { nbdkit_rust_plugin_v1(std::ptr::null()) }.is_null());
}

static CELL: DescriptorCell = DescriptorCell::new();

fn build_full() -> crate::Result<crate::__private::Descriptor> {
    Ok(super::plugins::full_descriptor())
}

#[test]
fn entry_refuses_another_major_version() {
    let _host = fake_host::install();
    let mut table = fake_host::table();
    table.abi_major = 2;
    let table: &'static nbdkit_rust_host = Box::leak(Box::new(table));
    // SAFETY: a leaked, valid table.
    assert!(unsafe { crate::glue::entry_v1(table, &CELL, build_full) }.is_null());
    // Nothing is logged: beyond the prefix, a v2 table is unknown.
    assert_eq!(take_errors(), (vec![], vec![]));
}

#[test]
fn entry_refuses_a_table_below_the_minimum_size() {
    let _host = fake_host::install();
    let mut table = fake_host::table();
    table.struct_size = NBDKIT_RUST_HOST_V1_MIN_SIZE as u64 - 8;
    let table: &'static nbdkit_rust_host = Box::leak(Box::new(table));
    // SAFETY: a leaked, valid table.
    assert!(unsafe { crate::glue::entry_v1(table, &CELL, build_full) }.is_null());
    let (messages, _) = take_errors();
    assert_eq!(messages.len(), 1);
    assert!(
        messages[0].contains("ABI 1.0 needs at least"),
        "{}",
        messages[0]
    );
}

#[test]
fn entry_reports_a_descriptor_that_cannot_be_built() {
    static BAD_CELL: DescriptorCell = DescriptorCell::new();
    fn fails() -> crate::Result<crate::__private::Descriptor> {
        Err(crate::Error::new(crate::errno::EINVAL, "cannot build"))
    }
    fn panics() -> crate::Result<crate::__private::Descriptor> {
        panic!("build panicked")
    }
    let _host = fake_host::install();
    let host = fake_host::installed();
    // SAFETY: the installed fake table.
    assert!(unsafe { crate::glue::entry_v1(host, &BAD_CELL, fails) }.is_null());
    assert_eq!(take_errors().0, vec!["cannot build"]);
    // SAFETY: as above.
    assert!(unsafe { crate::glue::entry_v1(host, &BAD_CELL, panics) }.is_null());
    assert_eq!(
        take_errors().0,
        vec!["nbdkit_rust_plugin_v1: panic: build panicked"]
    );
}
