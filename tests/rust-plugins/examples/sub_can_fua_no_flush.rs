// SPDX-License-Identifier: BSD-2-Clause
//! Conformance subset "can_fua_no_flush": pwrite, and can_fua saying emulate without flush.
//!
//! The twin of tests/c-plugins c-can_fua_no_flush.so; see
//! rust_test_plugins::conformance.

use nbdkit::*;
use rust_test_plugins::conformance::Answers;
use rust_test_plugins::subset_server;

subset_server!(
    CanFuaNoFlush,
    Answers {
        subset: "can_fua_no_flush",
        can_fua_native: false,
        ..Answers::YES
    }
);
plugin!(CanFuaNoFlush { write_at, can_fua });
