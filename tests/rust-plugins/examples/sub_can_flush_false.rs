// SPDX-License-Identifier: BSD-2-Clause
//! Conformance subset "can_flush_false": pwrite and flush, with can_flush saying no.
//!
//! The twin of tests/c-plugins c-can_flush_false.so; see
//! rust_test_plugins::conformance.

use nbdkit::*;
use rust_test_plugins::conformance::Answers;
use rust_test_plugins::subset_server;

subset_server!(
    CanFlushFalse,
    Answers {
        subset: "can_flush_false",
        can_flush: false,
        ..Answers::YES
    }
);
plugin!(CanFlushFalse {
    write_at,
    flush,
    can_flush
});
