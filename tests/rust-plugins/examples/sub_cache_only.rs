// SPDX-License-Identifier: BSD-2-Clause
//! Conformance subset "cache_only": cache, without can_cache.
//!
//! The twin of tests/c-plugins c-cache_only.so; see
//! rust_test_plugins::conformance.

use nbdkit::*;
use rust_test_plugins::conformance::Answers;
use rust_test_plugins::subset_server;

subset_server!(
    CacheOnly,
    Answers {
        subset: "cache_only",
        ..Answers::YES
    }
);
plugin!(CacheOnly { cache });
