// SPDX-License-Identifier: BSD-2-Clause
//! Conformance subset "extents_empty": extents reporting no extent at all.
//!
//! The twin of tests/c-plugins c-extents_empty.so; see
//! rust_test_plugins::conformance.

use nbdkit::*;
use rust_test_plugins::conformance::Answers;
use rust_test_plugins::subset_server;

subset_server!(
    ExtentsEmpty,
    Answers {
        subset: "extents_empty",
        extents_empty: true,
        ..Answers::YES
    }
);
plugin!(ExtentsEmpty { extents });
