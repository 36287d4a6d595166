// SPDX-License-Identifier: BSD-2-Clause
//! What `filter!` defines: the entry point (called as
//! nbdkit-rust-filter.so calls it, and by `FilterHarness::new`), the
//! descriptor of the names listed, and the thread model its type
//! allows.  The test binary has a `plugin!` too (entry.rs): a library
//! may have both.

use std::cell::Cell;
use std::ffi::CStr;

use super::fake_host::{self, take_errors};
use super::filters::{Inverting, Nothing};
use super::plugins::take_calls;
use crate::errno::EINVAL;
use crate::ffi::{nbdkit_rust_filter, nbdkit_rust_host, NBDKIT_RUST_HOST_V1_MIN_SIZE};
use crate::filter_descriptor::FilterBuilder;
use crate::testing::FilterHarness;
use crate::{Filter, Flags, NextOpen, Result, ThreadModel};

crate::filter!(Inverting {
    read_at,
    write_at,
    thread_model,
    config,
    name,
    get_size,
});

extern "C" {
    // Defined by the filter! above.
    fn nbdkit_rust_filter_v1(host: *const nbdkit_rust_host) -> *const nbdkit_rust_filter;
}

#[test]
fn the_entry_point_returns_the_descriptor_of_the_names_listed() {
    let _host = fake_host::install();
    let host = fake_host::installed();
    // SAFETY: the fake host table lives for the whole test binary.
    let d1 = unsafe { nbdkit_rust_filter_v1(host) };
    // SAFETY: as above.
    let d2 = unsafe { nbdkit_rust_filter_v1(host) };
    assert!(!d1.is_null());
    assert_eq!(d1, d2, "the descriptor is built once");
    // SAFETY: a non-NULL result points to the static descriptor.
    let f = unsafe { &*d1 };
    // SAFETY: the strings are NUL-terminated strings of the descriptor.
    let (name, sdk) = unsafe { (CStr::from_ptr(f.name), CStr::from_ptr(f.sdk_version)) };
    assert_eq!(name.to_str().unwrap(), "inverting");
    assert_eq!(sdk.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    assert!(f.pread.is_some() && f.pwrite.is_some() && f.thread_model.is_some());
    assert!(f.config.is_some() && f.get_size.is_some());
    assert!(f.load.is_none() && f.flush.is_none() && f.can_write.is_none());
    assert!(f.extents.is_none() && f.prepare.is_none());
    assert_eq!(f.max_thread_model, 3);
    assert_eq!(take_errors(), (vec![], vec![]));
}

#[test]
fn the_filter_entry_refuses_a_host_table_without_the_filter_services() {
    let _host = fake_host::install();
    let mut table = fake_host::table();
    table.struct_size = NBDKIT_RUST_HOST_V1_MIN_SIZE as u64;
    let table: &'static nbdkit_rust_host = Box::leak(Box::new(table));
    // SAFETY: a leaked, valid table.
    assert!(unsafe { nbdkit_rust_filter_v1(table) }.is_null());
    let (messages, _) = take_errors();
    assert_eq!(messages.len(), 1);
    assert!(
        messages[0].contains("a filter (ABI 1.1) needs at least"),
        "{}",
        messages[0]
    );
    // SAFETY: NULL is allowed and refused.
    assert!(unsafe { nbdkit_rust_filter_v1(std::ptr::null()) }.is_null());
}

#[test]
fn the_harness_finds_the_filter_through_its_entry_point() {
    let t = FilterHarness::<Inverting>::new();
    take_calls();
    let c = t.open(false).unwrap();
    assert_eq!(c.get_size().unwrap(), 1 << 19);
    let mut buf = [0u8; 2];
    c.pread(&mut buf, 0, Flags::empty()).unwrap();
    assert_eq!(buf, [0xff, 0xff]);
    // Not listed, so not called: the layer below answers.
    assert_eq!(c.block_size().unwrap(), (0, 0, 0));
    assert_eq!(t.thread_model().unwrap(), ThreadModel::SerializeAllRequests);
}

#[test]
#[should_panic(expected = "registers the filter \"inverting\", not \"nothing\"")]
fn the_harness_names_the_filter_it_found() {
    let _t = FilterHarness::<Nothing>::new();
}

/// A filter type that is not Sync.
struct Unsync {
    reads: Cell<u32>,
}

impl Filter for Unsync {
    fn name() -> &'static str {
        "unsync"
    }
    fn open(_: &mut NextOpen, _: bool, _: &str, _: bool) -> Result<Box<dyn Filter>> {
        Ok(Box::new(Unsync {
            reads: Cell::new(0),
        }))
    }
}

#[test]
#[allow(deprecated)]
fn the_probe_tells_sync_filter_types_from_the_others() {
    assert_eq!(
        crate::__nbdkit_filter_max_thread_model!(Nothing;),
        ThreadModel::Parallel
    );
    assert_eq!(
        crate::__nbdkit_filter_max_thread_model!(Unsync;),
        ThreadModel::SerializeRequests
    );
    assert_eq!(
        crate::__nbdkit_filter_max_thread_model!(Unsync; read_at, thread_model),
        ThreadModel::SerializeRequests
    );
    assert_eq!(
        crate::__nbdkit_filter_max_thread_model!(Nothing; thread_model),
        ThreadModel::Parallel
    );
    let u = Unsync {
        reads: Cell::new(1),
    };
    assert_eq!(u.reads.get(), 1);
}

/// A Sync filter type whose open returns another type.
struct Front;

impl Filter for Front {
    fn name() -> &'static str {
        "front"
    }
    fn open(next: &mut NextOpen, ro: bool, name: &str, tls: bool) -> Result<Box<dyn Filter>> {
        if name == "other" {
            Unsync::open(next, ro, name, tls)
        } else {
            Ok(Box::new(Front))
        }
    }
}

fn front(max: ThreadModel) -> FilterHarness<Front> {
    let mut b = FilterBuilder::<Front>::new();
    b.set_max_thread_model(max);
    FilterHarness::with_descriptor(b.build().unwrap())
}

#[test]
fn in_parallel_open_refuses_a_value_of_another_type() {
    let t = front(ThreadModel::Parallel);
    t.set_export_name("other");
    let e = t.open(false).unwrap_err();
    assert_eq!(e.errno(), EINVAL);
    let text = e.to_string();
    assert!(
        text.contains("filter_macro::Unsync")
            && text.contains("not the filter's type ")
            && text.contains("filter_macro::Front")
            && text.contains("list it in filter!"),
        "{}",
        text
    );
    assert_eq!(t.backend().open_connections(), 0);
    t.set_export_name("");
    assert!(t.open(false).is_ok());
}

#[test]
fn a_filter_type_that_is_not_sync_may_open_any_type() {
    let t = front(ThreadModel::SerializeRequests);
    t.set_export_name("other");
    assert!(t.open(false).is_ok());
}
