// SPDX-License-Identifier: BSD-2-Clause
//! Thread safety: the plugin type's `Sync` decides the loosest thread
//! model (`probe.rs`, found out by `plugin!` at compile time), a
//! thread_model answer looser than that is clamped (and said so), and
//! in the parallel model `open` must return the plugin's own type.

use std::cell::RefCell;
use std::sync::atomic::{AtomicI32, Ordering};

use crate::descriptor::Builder;
use crate::errno::EINVAL;
use crate::testing::Harness;
use crate::{Result, Server, ThreadModel};

/// A connection value that is not Sync.
struct Unsync {
    reads: RefCell<u64>,
}

impl Server for Unsync {
    fn name() -> &'static str {
        "unsync"
    }
    fn open(_: bool) -> Result<Box<dyn Server>> {
        Ok(Box::new(Unsync {
            reads: RefCell::new(0),
        }))
    }
    fn get_size(&self) -> Result<i64> {
        Ok(512)
    }
    fn read_at(&self, buf: &mut [u8], _: u64) -> Result<()> {
        *self.reads.borrow_mut() += 1;
        buf.fill(*self.reads.borrow() as u8);
        Ok(())
    }
    fn thread_model() -> Result<ThreadModel> {
        Ok(answer())
    }
}

/// What the thread_model callbacks below answer.
static ANSWER: AtomicI32 = AtomicI32::new(3);

fn answer() -> ThreadModel {
    match ANSWER.load(Ordering::SeqCst) {
        0 => ThreadModel::SerializeConnections,
        1 => ThreadModel::SerializeAllRequests,
        2 => ThreadModel::SerializeRequests,
        _ => ThreadModel::Parallel,
    }
}

/// A Sync plugin type whose open returns another type (Unsync).
struct Front;

impl Server for Front {
    fn name() -> &'static str {
        "front"
    }
    fn open(readonly: bool) -> Result<Box<dyn Server>> {
        if readonly {
            Ok(Box::new(Front))
        } else {
            Unsync::open(readonly)
        }
    }
    fn get_size(&self) -> Result<i64> {
        Ok(512)
    }
    fn read_at(&self, buf: &mut [u8], _: u64) -> Result<()> {
        buf.fill(0);
        Ok(())
    }
    fn thread_model() -> Result<ThreadModel> {
        Ok(answer())
    }
}

#[test]
#[allow(deprecated)]
fn the_probe_tells_sync_types_from_the_others() {
    assert_eq!(
        crate::__nbdkit_max_thread_model!(Front;),
        ThreadModel::Parallel
    );
    assert_eq!(
        crate::__nbdkit_max_thread_model!(Unsync;),
        ThreadModel::SerializeRequests
    );
    assert_eq!(
        crate::__nbdkit_max_thread_model!(std::rc::Rc<u8>;),
        ThreadModel::SerializeRequests
    );
    // With thread_model listed, anywhere in the list.
    assert_eq!(
        crate::__nbdkit_max_thread_model!(Unsync; write_at, thread_model, flush),
        ThreadModel::SerializeRequests
    );
    assert_eq!(
        crate::__nbdkit_max_thread_model!(Front; thread_model),
        ThreadModel::Parallel
    );
    assert_eq!(
        crate::__nbdkit_max_thread_model!(Unsync; write_at, flush),
        ThreadModel::SerializeRequests
    );
}

fn descriptor<T: Server + 'static>(max: ThreadModel, thread_model: bool) -> Harness<T> {
    let mut b = Builder::<T>::new();
    b.set_max_thread_model(max);
    if thread_model {
        b.thread_model();
    }
    Harness::with_descriptor(b.build().unwrap())
}

#[test]
fn the_maximum_is_in_the_descriptor_and_bounds_the_model() {
    let t = descriptor::<Unsync>(ThreadModel::SerializeRequests, false);
    assert_eq!(t.thread_model().unwrap(), ThreadModel::SerializeRequests);
    assert!(t.debug_messages().is_empty());
    let c = t.open(false).unwrap();
    let mut buf = [0u8; 4];
    c.pread(&mut buf, 0).unwrap();
    c.pread(&mut buf, 0).unwrap();
    assert_eq!(buf, [2; 4]);
}

#[test]
fn a_looser_answer_is_clamped_and_said_so() {
    ANSWER.store(3, Ordering::SeqCst);
    let t = descriptor::<Unsync>(ThreadModel::SerializeRequests, true);
    assert_eq!(t.thread_model().unwrap(), ThreadModel::SerializeRequests);
    let debug = t.debug_messages();
    assert_eq!(debug.len(), 1, "{:?}", debug);
    assert!(
        debug[0].contains("answered parallel")
            && debug[0].contains("thread_safety::Unsync is not Sync")
            && debug[0].contains("serves it with serialize_requests"),
        "{}",
        debug[0]
    );
    t.clear_events();
    // A stricter answer stands, silently.
    ANSWER.store(1, Ordering::SeqCst);
    assert_eq!(t.thread_model().unwrap(), ThreadModel::SerializeAllRequests);
    assert!(t.debug_messages().is_empty());
}

#[test]
fn the_glue_answers_the_clamped_model() {
    let _host = super::fake_host::install();
    ANSWER.store(3, Ordering::SeqCst);
    let mut b = Builder::<Unsync>::new();
    b.set_max_thread_model(ThreadModel::SerializeRequests);
    b.thread_model();
    let d = b.build().unwrap();
    assert_eq!(d.raw().max_thread_model, 2);
    // SAFETY: the descriptor's thread_model takes no arguments.
    assert_eq!(unsafe { d.raw().thread_model.unwrap()() }, 2);
    super::fake_host::take_events();
}

#[test]
fn in_parallel_open_refuses_a_value_of_another_type() {
    ANSWER.store(3, Ordering::SeqCst);
    let t = descriptor::<Front>(ThreadModel::Parallel, true);
    let e = t.open(false).unwrap_err();
    assert_eq!(e.errno(), EINVAL);
    let text = e.to_string();
    assert!(
        text.contains("open returned a ")
            && text.contains("thread_safety::Unsync")
            && text.contains("not the plugin's type ")
            && text.contains("thread_safety::Front")
            && text.contains("ThreadModel::SerializeRequests"),
        "{}",
        text
    );
    assert_eq!(t.open_connections(), 0);
    // Its own type is served.
    let c = t.open(true).unwrap();
    c.pread(&mut [0u8; 4], 0).unwrap();
}

#[test]
fn in_parallel_without_thread_model_open_refuses_another_type_too() {
    let t = descriptor::<Front>(ThreadModel::Parallel, false);
    assert_eq!(t.open(false).unwrap_err().errno(), EINVAL);
}

#[test]
fn a_serialised_model_chosen_lets_open_return_another_type() {
    ANSWER.store(2, Ordering::SeqCst);
    let t = descriptor::<Front>(ThreadModel::Parallel, true);
    let c = t.open(false).unwrap();
    let mut buf = [0u8; 2];
    c.pread(&mut buf, 0).unwrap();
    assert_eq!(buf, [1; 2]);
    assert!(t.errors().is_empty());
}

#[test]
fn a_plugin_type_that_is_not_sync_may_open_any_type() {
    // Its maximum is serialised: nothing is shared between threads.
    let t = descriptor::<Front>(ThreadModel::SerializeRequests, false);
    assert!(t.open(false).is_ok());
}
