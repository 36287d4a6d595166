// SPDX-License-Identifier: BSD-2-Clause
//! Conformance subset "trim_only": pwrite and trim, without can_trim.
//!
//! The twin of tests/c-plugins c-trim_only.so; see
//! rust_test_plugins::conformance.

use nbdkit::*;
use rust_test_plugins::conformance::Answers;
use rust_test_plugins::subset_server;

subset_server!(
    TrimOnly,
    Answers {
        subset: "trim_only",
        ..Answers::YES
    }
);
plugin!(TrimOnly { write_at, trim });
