// SPDX-License-Identifier: BSD-2-Clause
//! Conformance subset "exports": list_exports, default_export and export_description.
//!
//! The twin of tests/c-plugins c-exports.so; see
//! rust_test_plugins::conformance.

use nbdkit::*;
use rust_test_plugins::conformance::Answers;
use rust_test_plugins::subset_server;

subset_server!(
    Exports,
    Answers {
        subset: "exports",
        ..Answers::YES
    }
);
plugin!(Exports {
    list_exports,
    default_export,
    export_description
});
