// SPDX-License-Identifier: BSD-2-Clause
//! A filter's own lists, `Extents` and `Exports`, over the fake
//! nbdkit's extents_* and exports_* services.

use super::fake_host::{self, take_errors};
use crate::errno::ERANGE;
use crate::{Exports, ExtentType, Extents};

#[test]
fn an_extents_list_keeps_what_is_added_clipped_and_merged() {
    let _host = fake_host::install();
    let mut list = Extents::new(100, 300).unwrap();
    assert!(list.is_empty());
    list.add(0, 150, ExtentType::Allocated).unwrap();
    list.add(150, 50, ExtentType::Allocated).unwrap();
    list.as_handle()
        .add(200, 200, ExtentType::HoleZero)
        .unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list.get(0), Some((100, 100, ExtentType::Allocated)));
    assert_eq!(list.get(2), None);
    let all: Vec<_> = list.iter().collect();
    assert_eq!(
        all,
        vec![
            (100, 100, ExtentType::Allocated),
            (200, 100, ExtentType::HoleZero)
        ]
    );
    assert_eq!(list.iter().len(), 2);
    assert_eq!(
        format!("{:?}", list),
        "[(100, 100, Allocated), (200, 100, HoleZero)]"
    );
    // Out of order: refused, as nbdkit refuses it.
    assert!(list.add(0, 1, ExtentType::Zero).is_err());
    assert_eq!(take_errors().0.len(), 1);
}

#[test]
fn a_bad_range_is_refused_logged_by_nbdkit() {
    let _host = fake_host::install();
    let e = Extents::new(10, 5).unwrap_err();
    assert_eq!(e.errno(), ERANGE);
    let (messages, _) = take_errors();
    assert_eq!(messages, vec!["nbdkit_extents_new: start (10) > end (5)"]);
    assert!(Extents::new(0, u64::MAX).is_err());
}

#[test]
fn an_exports_list_keeps_what_is_added() {
    let _host = fake_host::install();
    let mut list = Exports::new().unwrap();
    assert!(list.is_empty());
    list.add("a", Some("the first")).unwrap();
    list.add("b", None).unwrap();
    list.use_default().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list.get(1), Some(("b".to_string(), None)));
    assert_eq!(list.get(2), None);
    assert_eq!(
        list.iter().collect::<Vec<_>>(),
        vec![
            ("a".to_string(), Some("the first".to_string())),
            ("b".to_string(), None)
        ]
    );
    assert_eq!(
        format!("{:?}", list),
        "[(\"a\", Some(\"the first\")), (\"b\", None)]"
    );
}

#[test]
fn lists_without_a_host_are_errors_not_crashes() {
    // No lock: whatever table is installed, or none; the error path of
    // service! is the one taken when a field is missing.
    let e = crate::host::lookup::<fn()>("extents_new", usize::MAX, |_| None).unwrap_err();
    assert_eq!(e.errno(), crate::errno::ENOTSUP);
}
