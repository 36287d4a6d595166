// SPDX-License-Identifier: BSD-2-Clause
//! How a filter's connection gets its layer below: the SDK opens it if
//! `open` does not; `open` may open it with other arguments, or give
//! the connection one of its own (`set_next`); a filter may keep
//! connections of its own (`OwnedNext`), from `open` or from
//! `after_fork`'s backend.

use std::cell::RefCell;

use super::filters::{inverting_descriptor, Inverting};
use super::plugins::{record, take_calls};
use crate::errno::{EACCES, EINVAL};
use crate::filter_descriptor::FilterBuilder;
use crate::testing::{FilterHarness, NextCall, NextOp};
use crate::{Backend, Filter, Flags, Next, NextOpen, OwnedNext, Result, ThreadModel};

fn opens(calls: &[NextCall]) -> Vec<(bool, String, bool)> {
    calls
        .iter()
        .filter_map(|c| match c {
            NextCall::Open {
                readonly,
                export_name,
                shared,
            } => Some((*readonly, export_name.clone(), *shared)),
            _ => None,
        })
        .collect()
}

#[test]
fn the_sdk_opens_the_layer_below_if_open_did_not() {
    let t = FilterHarness::<Inverting>::with_descriptor(inverting_descriptor());
    t.set_export_name("disk");
    let c = t.open(true).unwrap();
    assert_eq!(t.backend().open_connections(), 1);
    drop(c);
    assert_eq!(t.backend().open_connections(), 0);
    assert_eq!(
        opens(&t.backend().calls()),
        vec![(true, "disk".to_string(), false)]
    );
}

#[test]
fn open_may_open_the_layer_below_its_own_way() {
    let t = FilterHarness::<Inverting>::with_descriptor(inverting_descriptor());
    t.set_export_name("below-read-only");
    let c = t.open(false).unwrap();
    drop(c);
    assert_eq!(
        opens(&t.backend().calls()),
        vec![(true, "below".to_string(), false)]
    );
}

#[test]
fn opening_the_layer_below_twice_is_an_error() {
    let t = FilterHarness::<Inverting>::with_descriptor(inverting_descriptor());
    t.set_export_name("twice");
    let e = t.open(false).unwrap_err();
    assert_eq!(e.errno(), EINVAL);
    assert!(e.to_string().contains("has a layer below already"), "{}", e);
    assert_eq!(t.open_connections(), 0);
    assert_eq!(t.backend().open_connections(), 0);
}

#[test]
fn a_refused_open_opens_nothing_below() {
    let t = FilterHarness::<Inverting>::with_descriptor(inverting_descriptor());
    t.set_export_name("refused");
    let e = t.open(false).unwrap_err();
    assert_eq!(e.errno(), EACCES);
    assert!(opens(&t.backend().calls()).is_empty());
}

#[test]
fn a_failure_to_open_below_fails_open_logged_once() {
    let t = FilterHarness::<Inverting>::with_descriptor(inverting_descriptor());
    t.backend().fail(NextOp::Open, 0);
    take_calls();
    assert!(t.open(false).is_err());
    assert_eq!(t.errors().len(), 1, "{:?}", t.errors());
    // The filter's value was dropped.
    assert!(take_calls().contains(&"drop".to_string()));
}

/// Manages its connections to the layer below itself.
struct Manual {
    own: RefCell<Option<OwnedNext>>,
}

impl Filter for Manual {
    fn name() -> &'static str {
        "manual"
    }
    fn after_fork(backend: &Backend) -> Result<()> {
        let mut shared = backend.open_next(true, "shared", true)?;
        shared.prepare()?;
        record(format!("shared size {}", shared.get_size()?));
        Ok(())
    }
    fn open(
        next: &mut NextOpen,
        readonly: bool,
        export_name: &str,
        _is_tls: bool,
    ) -> Result<Box<dyn Filter>> {
        let backend = next.backend()?;
        let mut own = None;
        match export_name {
            "set-next" => {
                let mine = backend.open_next(readonly, "mine", false)?;
                let previous = next.set_next(mine)?;
                record(format!("previous {}", previous.is_some()));
            }
            "set-next-after-open" => {
                next.open(readonly, "first")?;
                let mine = backend.open_next(readonly, "second", false)?;
                let previous = next.set_next(mine)?;
                record(format!("previous {}", previous.is_some()));
            }
            _ => {
                let mut side = backend.open_next(true, "side", false)?;
                side.prepare()?;
                own = Some(side);
            }
        }
        Ok(Box::new(Manual {
            own: RefCell::new(own),
        }))
    }
    fn read_at(&self, next: &Next, buf: &mut [u8], offset: u64, flags: Flags) -> Result<()> {
        match &*self.own.borrow() {
            Some(own) => own.read_at(buf, offset, flags),
            None => next.read_at(buf, offset, flags),
        }
    }
}

fn manual() -> FilterHarness<Manual> {
    let mut b = FilterBuilder::<Manual>::new();
    // It holds a RefCell: not Sync.
    b.set_max_thread_model(ThreadModel::SerializeRequests);
    b.after_fork();
    b.read_at();
    FilterHarness::with_descriptor(b.build().unwrap())
}

#[test]
fn after_fork_may_open_a_shared_connection() {
    let t = manual();
    take_calls();
    t.start().unwrap();
    assert_eq!(take_calls(), vec!["shared size 1048576"]);
    assert_eq!(
        t.backend().take_calls(),
        vec![
            NextCall::ConfigComplete,
            NextCall::Open {
                readonly: true,
                export_name: "shared".into(),
                shared: true
            },
            NextCall::Prepare,
            NextCall::GetSize,
            NextCall::Finalize,
            NextCall::Close,
        ]
    );
}

#[test]
fn set_next_gives_the_connection_a_layer_below_of_the_filters() {
    let t = manual();
    t.start().unwrap();
    t.backend().take_calls();
    t.set_export_name("set-next");
    take_calls();
    let c = t.open(false).unwrap();
    assert_eq!(take_calls(), vec!["previous false"]);
    c.pread(&mut [0u8; 8], 0, Flags::empty()).unwrap();
    drop(c);
    assert_eq!(t.backend().open_connections(), 0);
    // Not opened a second time by the SDK; nbdkit prepared, finalized
    // and closed it.
    assert_eq!(
        t.backend().take_calls(),
        vec![
            NextCall::Open {
                readonly: false,
                export_name: "mine".into(),
                shared: false
            },
            NextCall::Prepare,
            NextCall::Pread {
                count: 8,
                offset: 0,
                flags: Flags::empty()
            },
            NextCall::Finalize,
            NextCall::Close,
        ]
    );
}

#[test]
fn set_next_returns_the_previous_layer_below_to_close() {
    let t = manual();
    t.start().unwrap();
    t.set_export_name("set-next-after-open");
    take_calls();
    let c = t.open(false).unwrap();
    assert_eq!(take_calls(), vec!["previous true"]);
    // The previous one was closed when dropped in open.
    assert_eq!(t.backend().open_connections(), 1);
    drop(c);
    assert_eq!(t.backend().open_connections(), 0);
}

#[test]
fn a_connection_of_the_filters_own_is_finalized_and_closed_on_drop() {
    let t = manual();
    t.start().unwrap();
    t.backend().take_calls();
    let c = t.open(false).unwrap();
    assert_eq!(t.backend().open_connections(), 2);
    c.pread(&mut [0u8; 4], 0, Flags::empty()).unwrap();
    drop(c);
    assert_eq!(t.backend().open_connections(), 0);
    let calls = t.backend().take_calls();
    let finalizes = calls.iter().filter(|c| **c == NextCall::Finalize).count();
    let closes = calls.iter().filter(|c| **c == NextCall::Close).count();
    assert_eq!((finalizes, closes), (2, 2), "{:?}", calls);
    assert_eq!(
        opens(&calls),
        vec![
            (true, "side".to_string(), false),
            (false, String::new(), false)
        ]
    );
}
