// SPDX-License-Identifier: BSD-2-Clause
//! Conformance subset "write_only": pwrite and nothing else.
//!
//! The twin of tests/c-plugins c-write_only.so; see
//! rust_test_plugins::conformance.

use nbdkit::*;
use rust_test_plugins::conformance::Answers;
use rust_test_plugins::subset_server;

subset_server!(
    WriteOnly,
    Answers {
        subset: "write_only",
        ..Answers::YES
    }
);
plugin!(WriteOnly { write_at });
