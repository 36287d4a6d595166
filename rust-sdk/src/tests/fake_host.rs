// SPDX-License-Identifier: BSD-2-Clause
//! The SDK's tests run against the fake nbdkit of [`crate::testing`],
//! the one plugin authors get: these are the few helpers the tests
//! share on top of it, for tests that call the glue or the host
//! services directly rather than through a `Harness`.
//!
//! Whoever holds the [`Lock`] owns the fake nbdkit (its host table is
//! installed, its record fresh), so tests that use it take turns.

use crate::ffi::nbdkit_rust_host;
pub use crate::testing::Event;
pub(crate) use crate::testing::Lock;

/// Take the fake nbdkit: installs its table as the host table and
/// clears its record.  Hold the result for the whole test.
pub(crate) fn install() -> Lock {
    crate::testing::lock()
}

/// The installed table, as the entry point gets it.
pub fn installed() -> &'static nbdkit_rust_host {
    crate::testing::installed()
}

/// A fresh copy of the complete fake table, to spoil in a test.
pub fn table() -> nbdkit_rust_host {
    crate::testing::table()
}

/// Take (and clear) everything recorded.
pub fn take_events() -> Vec<Event> {
    crate::testing::with_state(|s| std::mem::take(&mut s.events))
}

/// The error messages and errnos recorded, clearing the record.
pub fn take_errors() -> (Vec<String>, Vec<i32>) {
    let mut messages = Vec::new();
    let mut errnos = Vec::new();
    for e in take_events() {
        match e {
            Event::Error(m) => messages.push(m),
            Event::SetError(e) => errnos.push(e),
            _ => {}
        }
    }
    (messages, errnos)
}

/// What the host's `free` was given, as it was then, clearing the
/// record.
pub fn take_freed() -> Vec<Vec<u8>> {
    crate::testing::with_state(|s| std::mem::take(&mut s.freed))
}
