// SPDX-License-Identifier: BSD-2-Clause
//! Conformance subset "zero_no_can_zero": pwrite and zero, without can_zero or can_fast_zero.
//!
//! The twin of tests/c-plugins c-zero_no_can_zero.so; see
//! rust_test_plugins::conformance.

use nbdkit::*;
use rust_test_plugins::conformance::Answers;
use rust_test_plugins::subset_server;

subset_server!(
    ZeroNoCanZero,
    Answers {
        subset: "zero_no_can_zero",
        ..Answers::YES
    }
);
plugin!(ZeroNoCanZero { write_at, zero });
