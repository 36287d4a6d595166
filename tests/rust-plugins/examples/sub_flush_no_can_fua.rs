// SPDX-License-Identifier: BSD-2-Clause
//! Conformance subset "flush_no_can_fua": pwrite and flush, without can_fua (FUA emulated).
//!
//! The twin of tests/c-plugins c-flush_no_can_fua.so; see
//! rust_test_plugins::conformance.

use nbdkit::*;
use rust_test_plugins::conformance::Answers;
use rust_test_plugins::subset_server;

subset_server!(
    FlushNoCanFua,
    Answers {
        subset: "flush_no_can_fua",
        ..Answers::YES
    }
);
plugin!(FlushNoCanFua { write_at, flush });
