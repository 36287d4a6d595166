// SPDX-License-Identifier: BSD-2-Clause
//! Conformance subset "minimal": only the four required callbacks.
//!
//! The twin of tests/c-plugins c-minimal.so; see
//! rust_test_plugins::conformance.

use nbdkit::*;
use rust_test_plugins::conformance::Answers;
use rust_test_plugins::subset_server;

subset_server!(
    Minimal,
    Answers {
        subset: "minimal",
        ..Answers::YES
    }
);
plugin!(Minimal {});
