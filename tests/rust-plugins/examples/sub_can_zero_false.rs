// SPDX-License-Identifier: BSD-2-Clause
//! Conformance subset "can_zero_false": pwrite and zero, with can_zero saying no.
//!
//! The twin of tests/c-plugins c-can_zero_false.so; see
//! rust_test_plugins::conformance.

use nbdkit::*;
use rust_test_plugins::conformance::Answers;
use rust_test_plugins::subset_server;

subset_server!(
    CanZeroFalse,
    Answers {
        subset: "can_zero_false",
        can_zero: false,
        ..Answers::YES
    }
);
plugin!(CanZeroFalse {
    write_at,
    zero,
    can_zero
});
