// SPDX-License-Identifier: BSD-2-Clause
//! The filter glue, driven through descriptors by the FilterHarness:
//! only listed callbacks are installed, the others pass through; what
//! each callback turns Rust answers into; errors, panics and the
//! errors of the layer below, each logged once.

use super::filters::{inverting_descriptor, Filling, Inverting, Nothing, ERR_OFFSET, PANIC_OFFSET};
use super::plugins::take_calls;
use crate::errno::{EINVAL, EIO, ENOSPC, EPERM};
use crate::filter_descriptor::FilterBuilder;
use crate::testing::{Event, FilterHarness, NextCall, NextOp};
use crate::{CacheFlags, ExtentType, Flags, FuaFlags, ThreadModel, ZeroMode};

fn inverting() -> FilterHarness<Inverting> {
    let t = FilterHarness::with_descriptor(inverting_descriptor());
    take_calls();
    t
}

fn nothing() -> FilterHarness<Nothing> {
    FilterHarness::with_descriptor(FilterBuilder::<Nothing>::new().build().unwrap())
}

#[test]
fn a_filter_listing_nothing_has_only_open_and_close() {
    let d = FilterBuilder::<Nothing>::new().build().unwrap();
    let f = d.raw();
    assert!(f.open.is_some() && f.close.is_some());
    assert!(f.pread.is_none() && f.pwrite.is_none() && f.get_size.is_none());
    assert!(f.config.is_none() && f.load.is_none() && f.prepare.is_none());
    assert_eq!(
        f.struct_size as usize,
        crate::ffi::NBDKIT_RUST_FILTER_V1_MIN_SIZE
    );
    assert_eq!(f.max_thread_model, 3);
}

#[test]
fn without_callbacks_every_call_passes_through() {
    let t = nothing();
    t.config("size", "1M").unwrap();
    let c = t.open(false).unwrap();
    assert_eq!(c.get_size().unwrap(), 1 << 20);
    assert!(c.can_write().unwrap());
    assert_eq!(c.can_zero().unwrap(), ZeroMode::Native);
    c.pwrite(b"abc", 10, Flags::FUA).unwrap();
    let mut buf = [0u8; 3];
    c.pread(&mut buf, 10, Flags::empty()).unwrap();
    assert_eq!(&buf, b"abc");
    c.close().unwrap();
    assert_eq!(
        t.backend().calls(),
        vec![
            NextCall::Config {
                key: "size".into(),
                value: "1M".into()
            },
            NextCall::ConfigComplete,
            NextCall::Open {
                readonly: false,
                export_name: String::new(),
                shared: false
            },
            NextCall::Prepare,
            NextCall::GetSize,
            NextCall::CanWrite,
            NextCall::CanZero,
            NextCall::Pwrite {
                count: 3,
                offset: 10,
                flags: Flags::FUA
            },
            NextCall::Pread {
                count: 3,
                offset: 10,
                flags: Flags::empty()
            },
            NextCall::Finalize,
            NextCall::Close,
        ]
    );
    assert!(t.errors().is_empty());
}

#[test]
fn the_lifecycle_runs_in_nbdkits_order() {
    let t = inverting();
    t.config("inv-key", "1").unwrap();
    t.config("other", "2").unwrap();
    t.start().unwrap();
    t.set_export_name("disk");
    t.set_tls(true);
    let c = t.open(true).unwrap();
    drop(c);
    drop(t);
    assert_eq!(
        take_calls(),
        vec![
            "config inv-key=1",
            "config_complete",
            "get_ready SerializeAllRequests",
            "after_fork",
            "open readonly=true name=\"disk\" tls=true",
            "prepare true size=1048576",
            "finalize",
            "drop",
            "cleanup",
            "unload",
        ]
    );
}

#[test]
fn keys_the_filter_does_not_take_pass_on() {
    let t = inverting();
    t.config("inv-key", "1").unwrap();
    t.config("file", "disk.img").unwrap();
    assert_eq!(
        t.backend().calls(),
        vec![NextCall::Config {
            key: "file".into(),
            value: "disk.img".into()
        }]
    );
    let e = t.config("inv-fail", "x").unwrap_err();
    assert_eq!(e.errno(), EPERM);
    assert_eq!(e.to_string(), "inv-fail=x refused");
    let e = t.config("inv-panic", "x").unwrap_err();
    assert_eq!(e.errno(), EIO);
    assert_eq!(e.to_string(), "config: panic: config panicked");
}

#[test]
fn a_key_the_layer_below_refuses_is_logged_once() {
    let t = inverting();
    t.backend().fail(NextOp::Config, 0);
    let e = t.config("unknown", "1").unwrap_err();
    assert_eq!(
        t.errors(),
        vec!["Config { key: \"unknown\", value: \"1\" }: injected failure"]
    );
    assert_eq!(e.errno(), EINVAL);
}

#[test]
fn the_thread_model_is_clamped_to_the_maximum() {
    let t = inverting();
    assert_eq!(t.thread_model().unwrap(), ThreadModel::SerializeAllRequests);
    let t2 = {
        drop(t);
        let mut b = FilterBuilder::<Nothing>::new();
        b.set_max_thread_model(ThreadModel::SerializeRequests);
        FilterHarness::<Nothing>::with_descriptor(b.build().unwrap())
    };
    assert_eq!(t2.thread_model().unwrap(), ThreadModel::SerializeRequests);
}

#[test]
fn queries_answer_what_the_filter_says_or_the_layer_below() {
    let t = inverting();
    t.backend().set_export_description(Some("below"));
    t.backend().set_can_write(false);
    let c = t.open(false).unwrap();
    assert_eq!(c.get_size().unwrap(), 1 << 19);
    assert_eq!(
        c.export_description().unwrap().as_deref(),
        Some("inverted below")
    );
    assert_eq!(c.block_size().unwrap(), (512, 4096, 1 << 20));
    assert!(
        !c.can_write().unwrap(),
        "listed, provided: the layer below's"
    );
    assert!(c.is_rotational().unwrap());
    assert_eq!(c.can_zero().unwrap(), ZeroMode::Emulate);
    assert_eq!(c.can_fua().unwrap(), FuaFlags::Emulate);
    assert_eq!(c.can_cache().unwrap(), CacheFlags::None);
    // Not listed: the layer below's.
    assert!(c.can_flush().unwrap());
    assert!(c.can_multi_conn().unwrap());
    assert!(c.can_extents().unwrap());
    assert!(c.can_trim().unwrap());
    assert!(c.can_fast_zero().unwrap());
}

#[test]
fn data_goes_through_the_filter_and_back() {
    let t = inverting();
    let c = t.open(false).unwrap();
    c.pwrite(&[0x0f, 0xf0], 100, Flags::empty()).unwrap();
    assert_eq!(&t.backend().data()[100..102], &[0xf0, 0x0f]);
    let mut buf = [0x55u8; 2];
    c.pread(&mut buf, 100, Flags::empty()).unwrap();
    assert_eq!(buf, [0x0f, 0xf0]);
    c.zero(2, 100, Flags::MAY_TRIM).unwrap();
    c.trim(2, 100, Flags::FUA).unwrap();
    c.flush(Flags::empty()).unwrap();
    c.cache(2, 100, Flags::empty()).unwrap();
    let calls = t.backend().take_calls();
    assert!(calls.ends_with(&[
        NextCall::Zero {
            count: 2,
            offset: 100,
            flags: Flags::MAY_TRIM
        },
        NextCall::Trim {
            count: 2,
            offset: 100,
            flags: Flags::FUA
        },
        NextCall::Flush {
            flags: Flags::empty()
        },
        NextCall::Cache {
            count: 2,
            offset: 100,
            flags: Flags::empty()
        },
    ]));
}

#[test]
fn read_at_gets_zeroes_whatever_the_buffer_held() {
    let t = inverting();
    let c = t.open(false).unwrap();
    take_calls();
    let mut buf = [0xaau8; 16];
    c.pread(&mut buf, 0, Flags::empty()).unwrap();
    assert_eq!(take_calls(), vec!["read_at zeroed=true"]);
    assert_eq!(buf, [0xff; 16]);
}

#[test]
fn errors_of_the_filter_are_logged_and_stored_in_err() {
    let t = inverting();
    let c = t.open(false).unwrap();
    t.clear_events();
    let e = c
        .pread(&mut [0u8; 4], ERR_OFFSET, Flags::empty())
        .unwrap_err();
    assert_eq!(e.errno(), ENOSPC);
    // The data path hands the errno back in *err, not with set_error.
    assert_eq!(t.events(), vec![Event::Error("read_at: no space".into())]);
    t.clear_events();
    let e = c
        .pread(&mut [0u8; 4], PANIC_OFFSET, Flags::empty())
        .unwrap_err();
    assert_eq!(e.errno(), EIO);
    assert_eq!(
        t.events(),
        vec![Event::Error("pread: panic: read_at panicked".into())]
    );
    // The server keeps going.
    c.pread(&mut [0u8; 4], 0, Flags::empty()).unwrap();
}

#[test]
fn errors_of_the_layer_below_pass_up_logged_once() {
    let t = inverting();
    let c = t.open(false).unwrap();
    t.clear_events();
    t.backend().fail(NextOp::Pread, ENOSPC);
    let e = c.pread(&mut [0u8; 4], 0, Flags::empty()).unwrap_err();
    assert_eq!(e.errno(), ENOSPC);
    assert_eq!(t.errors().len(), 1, "{:?}", t.errors());
    assert!(t.errors()[0].contains("injected failure"));
    t.clear_events();
    // A query: the layer below logged, the filter returns -1 with EIO.
    t.backend().fail(NextOp::GetSize, 0);
    let e = c.get_size().unwrap_err();
    assert_eq!(e.errno(), EIO);
    assert_eq!(t.errors(), vec!["GetSize: injected failure"]);
    t.clear_events();
    // extents_full, inside the filter's extents.
    t.backend().fail(NextOp::Extents, EPERM);
    let e = c.extents(512, 0, Flags::empty()).unwrap_err();
    assert_eq!(e.errno(), EPERM);
    assert_eq!(t.errors().len(), 1);
}

#[test]
fn extents_go_through_a_list_of_the_filters_own() {
    let t = inverting();
    t.backend().set_extents(vec![
        (0, 4096, ExtentType::Allocated),
        (4096, 4096, ExtentType::HoleZero),
        (8192, (1 << 20) - 8192, ExtentType::Zero),
    ]);
    let c = t.open(false).unwrap();
    assert_eq!(
        c.extents(8192, 2048, Flags::empty()).unwrap(),
        vec![
            (2048, 2048, ExtentType::Allocated),
            (4096, 4096, ExtentType::HoleZero),
            (8192, 2048, ExtentType::Zero),
        ]
    );
    assert!(t.backend().calls().contains(&NextCall::Extents {
        count: 8192,
        offset: 2048,
        flags: Flags::empty()
    }));
    // REQ_ONE: extents_full asks without it, the client gets one.
    assert_eq!(
        c.extents(8192, 2048, Flags::REQ_ONE).unwrap(),
        vec![(2048, 2048, ExtentType::Allocated)]
    );
}

#[test]
fn exports_and_the_default_export_are_the_filters() {
    let t = inverting();
    // The layer below only asks for the default export, in the filter's
    // own list: as with nbdkit, a filter that copies the names does not
    // copy that request.
    assert_eq!(t.list_exports(false, false).unwrap(), vec![]);
    t.backend()
        .set_exports(vec![("a".into(), Some("first".into())), ("b".into(), None)]);
    t.backend().set_default_export("a");
    assert_eq!(
        t.list_exports(true, false).unwrap(),
        vec![
            ("inv-a".to_string(), Some("first".to_string())),
            ("inv-b".to_string(), None)
        ]
    );
    assert_eq!(t.default_export(false, false).unwrap(), "inv-a");
    // Without the callbacks: the layer below's.
    drop(t);
    let t = nothing();
    t.backend().set_default_export("x");
    assert_eq!(
        t.list_exports(false, false).unwrap(),
        vec![("x".to_string(), None)]
    );
}

#[test]
fn preconnect_passes_on_and_can_refuse() {
    let t = inverting();
    t.preconnect(true).unwrap();
    assert!(t
        .backend()
        .calls()
        .contains(&NextCall::Preconnect { readonly: true }));
    t.backend().fail(NextOp::Preconnect, 0);
    assert!(t.preconnect(false).is_err());
    assert_eq!(t.errors().len(), 1);
}

#[test]
fn a_size_beyond_i64_is_refused() {
    struct Huge;
    impl crate::Filter for Huge {
        fn name() -> &'static str {
            "huge"
        }
        fn open(
            _: &mut crate::NextOpen,
            _: bool,
            _: &str,
            _: bool,
        ) -> crate::Result<Box<dyn crate::Filter>> {
            Ok(Box::new(Huge))
        }
        fn get_size(&self, _: &crate::Next) -> crate::Result<u64> {
            Ok(u64::MAX)
        }
    }
    let mut b = FilterBuilder::<Huge>::new();
    b.get_size();
    let t = FilterHarness::<Huge>::with_descriptor(b.build().unwrap());
    let c = t.open(false).unwrap();
    let e = c.get_size().unwrap_err();
    assert_eq!(e.errno(), EINVAL);
    assert!(e.to_string().contains("too large"), "{}", e);
}

#[test]
fn names_follow_the_plugin_rule() {
    struct Bad;
    impl crate::Filter for Bad {
        fn name() -> &'static str {
            "_bad-name"
        }
        fn open(
            _: &mut crate::NextOpen,
            _: bool,
            _: &str,
            _: bool,
        ) -> crate::Result<Box<dyn crate::Filter>> {
            Ok(Box::new(Bad))
        }
    }
    let e = FilterBuilder::<Bad>::new().build().err().unwrap();
    assert_eq!(e.errno(), EINVAL);
    assert!(
        e.to_string()
            .starts_with("filter name \"_bad-name\" is not [A-Za-z0-9][A-Za-z0-9_]*"),
        "{}",
        e
    );
}

fn filling(uninit: bool) -> FilterHarness<Filling> {
    let mut b = FilterBuilder::<Filling>::new();
    if uninit {
        b.read_at_uninit();
    }
    // Listed after read_at_uninit: read_at_uninit still wins.
    b.read_at();
    FilterHarness::with_descriptor(b.build().unwrap())
}

#[test]
fn read_at_uninit_listed_gets_the_buffer_as_it_is() {
    let t = filling(true);
    let c = t.open(false).unwrap();
    take_calls();
    let mut buf = [0xaau8; 8];
    c.pread(&mut buf, 0, Flags::empty()).unwrap();
    assert_eq!(buf, [0xee; 8]);
    assert_eq!(take_calls(), vec!["read_at_uninit"]);
    assert_eq!(c.assert_pread_fills(8, 0).unwrap(), vec![0xee; 8]);
    drop(c);
    t.set_export_name("skip-last");
    let c = t.open(false).unwrap();
    let caught =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| c.assert_pread_fills(8, 0)));
    let message = *caught.unwrap_err().downcast::<String>().unwrap();
    assert!(message.contains("left the byte at offset 7"), "{}", message);
}

#[test]
fn read_at_listed_alone_gets_zeroes() {
    let t = filling(false);
    t.set_export_name("skip-last");
    let c = t.open(false).unwrap();
    take_calls();
    let mut buf = [0xaau8; 4];
    c.pread(&mut buf, 0, Flags::empty()).unwrap();
    assert_eq!(buf, [0xee, 0xee, 0xee, 0]);
    assert_eq!(take_calls(), vec!["read_at zeroed=true"]);
}
