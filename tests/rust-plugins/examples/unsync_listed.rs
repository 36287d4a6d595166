// SPDX-License-Identifier: BSD-2-Clause
//! unsync_listed: the unsync plugin with its thread_model callback
//! listed (src/thread_safety.rs): no compile-time warning, and an
//! answer looser than serialize_requests is clamped, with a debug
//! message saying so.

use nbdkit::*;
use rust_test_plugins::thread_safety::UnsyncDisk;

plugin!(UnsyncDisk {
    config,
    cleanup,
    thread_model
});
