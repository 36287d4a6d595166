// SPDX-License-Identifier: BSD-2-Clause
//! foreign_handle: a Sync plugin type whose open returns a value of
//! another type, which is not Sync (src/thread_safety.rs).  In the
//! parallel model (the default) the SDK refuses such a connection;
//! with thread_model=serialize_requests it is served.

use nbdkit::*;
use rust_test_plugins::thread_safety::FrontDisk;

plugin!(FrontDisk {
    config,
    thread_model
});
