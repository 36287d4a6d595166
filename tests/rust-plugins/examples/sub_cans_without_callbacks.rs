// SPDX-License-Identifier: BSD-2-Clause
//! Conformance subset "cans_without_callbacks": can_write, can_flush, can_trim, can_zero,
//! can_extents and can_cache (native) say yes, but pwrite, flush, trim,
//! zero, extents and cache are missing.
//!
//! The twin of tests/c-plugins c-cans_without_callbacks.so; see
//! rust_test_plugins::conformance.

use nbdkit::*;
use rust_test_plugins::conformance::Answers;
use rust_test_plugins::subset_server;

subset_server!(
    CansWithoutCallbacks,
    Answers {
        subset: "cans_without_callbacks",
        ..Answers::YES
    }
);
plugin!(CansWithoutCallbacks {
    can_write,
    can_flush,
    can_trim,
    can_zero,
    can_extents,
    can_cache
});
