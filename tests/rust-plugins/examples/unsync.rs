// SPDX-License-Identifier: BSD-2-Clause
//! unsync: a plugin whose connection value is not Sync and which does
//! not list thread_model (src/thread_safety.rs): the SDK serves it with
//! serialize_requests.  plugin! warns at compile time; this test plugin
//! says it knows.
#![allow(deprecated)]

use nbdkit::*;
use rust_test_plugins::thread_safety::UnsyncDisk;

plugin!(UnsyncDisk { config, cleanup });
