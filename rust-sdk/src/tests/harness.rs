// SPDX-License-Identifier: BSD-2-Clause
//! `nbdkit::testing` itself: the harness answers for missing callbacks
//! as the loader and nbdkit do, finds the plugin through its entry
//! point, and takes turns.

use super::plugins::{take_calls, Full, Minimal};
use crate::descriptor::Builder;
use crate::errno::{EINVAL, EOPNOTSUPP, EROFS};
use crate::testing::{Event, Harness};
use crate::{CacheFlags, ExtentHandle, Flags, FuaFlags, Result, Server, ThreadModel};

fn minimal() -> Harness<Minimal> {
    Harness::with_descriptor(Builder::<Minimal>::new().build().unwrap())
}

#[test]
fn missing_callbacks_answer_as_nbdkit_does() {
    let t = minimal();
    let c = t.open(false).unwrap();
    assert_eq!(c.get_size().unwrap(), 512);
    assert!(!c.can_write().unwrap());
    assert!(!c.can_flush().unwrap());
    assert!(!c.can_trim().unwrap());
    assert!(!c.can_zero().unwrap());
    assert!(
        c.can_fast_zero().unwrap(),
        "no zero: fast zeroes fail at once"
    );
    assert!(!c.can_extents().unwrap());
    assert!(!c.can_multi_conn().unwrap());
    assert!(!c.is_rotational().unwrap());
    assert_eq!(c.can_fua().unwrap(), FuaFlags::None);
    assert_eq!(c.can_cache().unwrap(), CacheFlags::None);
    assert_eq!(c.block_size().unwrap(), (0, 0, 0));
    assert_eq!(c.export_description().unwrap(), None);
    let refused = [
        (c.pwrite(b"x", 0, Flags::empty()), EROFS),
        (c.flush(), EINVAL),
        (c.trim(1, 0, Flags::empty()), EINVAL),
        (c.zero(1, 0, Flags::empty()), EOPNOTSUPP),
        (c.extents(1, 0, Flags::empty()).map(|_| ()), EINVAL),
    ];
    for (r, errno) in refused {
        assert_eq!(r.unwrap_err().errno(), errno);
    }
    c.cache(1, 0).unwrap();
    // The loader sets the errno and logs nothing, like nbdkit.
    assert_eq!(t.errors(), Vec::<String>::new());
    assert_eq!(
        t.events(),
        [EROFS, EINVAL, EINVAL, EOPNOTSUPP, EINVAL]
            .iter()
            .map(|&e| Event::SetError(e))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        t.list_exports(false, false).unwrap(),
        vec![(String::new(), None)]
    );
    assert_eq!(t.default_export(false, false).unwrap(), "");
    assert_eq!(t.thread_model().unwrap(), ThreadModel::Parallel);
}

#[test]
fn a_plugin_without_config_takes_no_parameters() {
    let t = minimal();
    let e = t.config("size", "1M").unwrap_err();
    assert_eq!(e.errno(), EINVAL);
    assert_eq!(
        t.errors(),
        vec!["the Rust plugin minimal takes no parameters, but was given size"]
    );
}

#[test]
fn new_goes_through_the_entry_point_plugin_defined() {
    // tests/entry.rs registers Full {zero, write_at, thread_model,
    // config, longname, can_multi_conn}: only those are there.
    let t = Harness::<Full>::new();
    t.config("size", "1M").unwrap();
    let c = t.open(false).unwrap();
    assert_eq!(t.thread_model().unwrap(), ThreadModel::SerializeRequests);
    assert!(c.can_write().unwrap());
    assert!(c.can_multi_conn().unwrap());
    // Not listed, though Full implements them: nbdkit's defaults.
    assert!(!c.can_flush().unwrap());
    assert_eq!(c.flush().unwrap_err().errno(), EINVAL);
    assert_eq!(c.block_size().unwrap(), (0, 0, 0));
    assert_eq!(c.can_cache().unwrap(), CacheFlags::None);
    drop(c);
    // load and config_complete are not listed either.
    assert_eq!(
        take_calls(),
        vec!["config size=1M", "open readonly=false", "drop"]
    );
}

#[test]
#[should_panic(expected = "registers the plugin \"full\", not \"minimal\"")]
fn new_refuses_a_type_plugin_did_not_register() {
    let _t = Harness::<Minimal>::new();
}

#[test]
#[should_panic(expected = "already has a Harness")]
fn a_second_harness_on_one_thread_panics() {
    let _t = minimal();
    let _u = minimal();
}

#[test]
fn harnesses_take_turns_across_threads() {
    let t = minimal();
    t.config_complete().unwrap();
    let other = std::thread::spawn(|| {
        // Waits for `t` to go, then starts from a fresh record.
        let u = minimal();
        u.events()
    });
    crate::debug!("only in the first harness");
    std::thread::sleep(std::time::Duration::from_millis(50));
    assert_eq!(t.debug_messages(), vec!["only in the first harness"]);
    drop(t);
    assert_eq!(other.join().unwrap(), vec![]);
}

/// Reports no extent at all, and one beyond the start.
struct Gaps;

impl Server for Gaps {
    fn name() -> &'static str {
        "gaps"
    }
    fn open(_: bool) -> Result<Box<dyn Server>> {
        Ok(Box::new(Gaps))
    }
    fn get_size(&self) -> Result<i64> {
        Ok(1 << 20)
    }
    fn read_at(&self, _: &mut [u8], _: u64) -> Result<()> {
        Ok(())
    }
    fn extents(&self, _: u32, offset: u64, _: Flags, h: &mut ExtentHandle) -> Result<()> {
        if offset == 4096 {
            h.add(8192, 512, crate::ExtentType::Zero)?;
        }
        Ok(())
    }
}

#[test]
fn extents_must_report_something_from_the_start() {
    let mut b = Builder::<Gaps>::new();
    b.extents();
    let t = Harness::<Gaps>::with_descriptor(b.build().unwrap());
    let c = t.open(true).unwrap();
    let e = c.extents(512, 0, Flags::empty()).unwrap_err();
    assert_eq!(e.errno(), EINVAL);
    assert_eq!(
        e.to_string(),
        "extents: plugin must return at least one extent"
    );
    t.clear_events();
    let e = c.extents(8192, 4096, Flags::empty()).unwrap_err();
    assert_eq!(e.errno(), EINVAL);
    assert_eq!(
        t.errors()[0],
        "nbdkit_add_extent: first extent must not be > start (4096)"
    );
}
