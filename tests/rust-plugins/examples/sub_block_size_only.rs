// SPDX-License-Identifier: BSD-2-Clause
//! Conformance subset "block_size_only": block_size.
//!
//! The twin of tests/c-plugins c-block_size_only.so; see
//! rust_test_plugins::conformance.

use nbdkit::*;
use rust_test_plugins::conformance::Answers;
use rust_test_plugins::subset_server;

subset_server!(
    BlockSizeOnly,
    Answers {
        subset: "block_size_only",
        ..Answers::YES
    }
);
plugin!(BlockSizeOnly { block_size });
