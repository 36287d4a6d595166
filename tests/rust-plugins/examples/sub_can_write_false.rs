// SPDX-License-Identifier: BSD-2-Clause
//! Conformance subset "can_write_false": pwrite, with can_write saying no.
//!
//! The twin of tests/c-plugins c-can_write_false.so; see
//! rust_test_plugins::conformance.

use nbdkit::*;
use rust_test_plugins::conformance::Answers;
use rust_test_plugins::subset_server;

subset_server!(
    CanWriteFalse,
    Answers {
        subset: "can_write_false",
        can_write: false,
        ..Answers::YES
    }
);
plugin!(CanWriteFalse {
    write_at,
    can_write
});
