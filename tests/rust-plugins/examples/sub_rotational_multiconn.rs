// SPDX-License-Identifier: BSD-2-Clause
//! Conformance subset "rotational_multiconn": is_rotational and can_multi_conn.
//!
//! The twin of tests/c-plugins c-rotational_multiconn.so; see
//! rust_test_plugins::conformance.

use nbdkit::*;
use rust_test_plugins::conformance::Answers;
use rust_test_plugins::subset_server;

subset_server!(
    RotationalMulticonn,
    Answers {
        subset: "rotational_multiconn",
        ..Answers::YES
    }
);
plugin!(RotationalMulticonn {
    is_rotational,
    can_multi_conn
});
