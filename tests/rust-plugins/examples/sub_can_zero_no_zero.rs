// SPDX-License-Identifier: BSD-2-Clause
//! Conformance subset "can_zero_no_zero": pwrite, and can_zero saying yes without zero.
//!
//! The twin of tests/c-plugins c-can_zero_no_zero.so; see
//! rust_test_plugins::conformance.

use nbdkit::*;
use rust_test_plugins::conformance::Answers;
use rust_test_plugins::subset_server;

subset_server!(
    CanZeroNoZero,
    Answers {
        subset: "can_zero_no_zero",
        ..Answers::YES
    }
);
plugin!(CanZeroNoZero { write_at, can_zero });
