// SPDX-License-Identifier: BSD-2-Clause
//! Conformance subset "extents_only": extents, without can_extents.
//!
//! The twin of tests/c-plugins c-extents_only.so; see
//! rust_test_plugins::conformance.

use nbdkit::*;
use rust_test_plugins::conformance::Answers;
use rust_test_plugins::subset_server;

subset_server!(
    ExtentsOnly,
    Answers {
        subset: "extents_only",
        ..Answers::YES
    }
);
plugin!(ExtentsOnly { extents });
