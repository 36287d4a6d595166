// SPDX-License-Identifier: BSD-2-Clause
//! A failure nbdkit logged already (a host service's: the parsers,
//! read_password, realpath, ...) is logged once when a callback returns
//! it: the glue only sets its errno.

use crate::descriptor::Builder;
use crate::errno::{EINVAL, ENOSPC};
use crate::testing::Harness;
use crate::{Error, Result, Server};

struct Configured;

impl Server for Configured {
    fn name() -> &'static str {
        "configured"
    }
    fn config(key: &str, value: &str) -> Result<()> {
        match key {
            "size" => crate::parse_size(value).map(drop),
            "count" => crate::parse_u8("count", value).map(drop),
            "flag" => crate::parse_bool(value).map(drop),
            "file" => crate::realpath(value).map(drop),
            "password" => crate::read_password(value).map(drop),
            // Context added to a service's error: logged again, with it.
            "wrapped" => crate::parse_size(value)
                .map(drop)
                .map_err(|e| Error::new(EINVAL, format!("wrapped: {}", e))),
            _ => Err(Error::new(ENOSPC, format!("configured: {} refused", key))),
        }
    }
    fn open(_: bool) -> Result<Box<dyn Server>> {
        Ok(Box::new(Configured))
    }
    fn get_size(&self) -> Result<i64> {
        Ok(0)
    }
    fn read_at(&self, _: &mut [u8], _: u64) -> Result<()> {
        Ok(())
    }
}

fn harness() -> Harness<Configured> {
    let mut b = Builder::<Configured>::new();
    b.config();
    Harness::with_descriptor(b.build().unwrap())
}

/// Configures `key=value`, which must fail with EINVAL, and returns the
/// errors logged meanwhile.
fn errors_of(t: &Harness<Configured>, key: &str, value: &str) -> Vec<String> {
    t.clear_events();
    let e = t.config(key, value).unwrap_err();
    assert_eq!(e.errno(), EINVAL, "{}", e);
    t.errors()
}

#[test]
fn a_service_error_returned_as_is_is_logged_once() {
    let t = harness();
    assert_eq!(
        errors_of(&t, "size", "bogus"),
        vec!["could not parse size string: bogus"]
    );
    assert_eq!(errors_of(&t, "count", "256"), vec!["count: out of range"]);
    assert_eq!(errors_of(&t, "flag", "maybe").len(), 1);
    assert_eq!(errors_of(&t, "file", "/no/such/file").len(), 1);
    assert_eq!(errors_of(&t, "password", "-").len(), 1);
}

#[test]
fn the_errno_is_still_set() {
    let t = harness();
    t.config("size", "bogus").unwrap_err();
    assert!(t
        .events()
        .contains(&crate::testing::Event::SetError(EINVAL)));
}

#[test]
fn other_errors_are_logged_by_the_glue() {
    let t = harness();
    t.clear_events();
    let e = t.config("other", "x").unwrap_err();
    assert_eq!(e.errno(), ENOSPC);
    assert_eq!(t.errors(), vec!["configured: other refused"]);
    assert_eq!(
        errors_of(&t, "wrapped", "bogus"),
        vec![
            "could not parse size string: bogus",
            "wrapped: could not parse \"bogus\" as a size"
        ]
    );
}
