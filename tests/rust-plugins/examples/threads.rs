// SPDX-License-Identifier: BSD-2-Clause
//! threads: a disk of zeroes whose preads take 20 ms and are counted,
//! to see which requests nbdkit lets overlap in each thread model.
//!
//!   thread_model=serialize_connections|serialize_all_requests|
//!                serialize_requests|parallel   (default parallel)
//!   delay_ms=N     how long each pread sleeps (default 20)
//!
//! With nbdkit -v it logs at cleanup the highest number of preads in
//! flight on each connection and over the whole plugin, and the most
//! connections open at once.

use nbdkit::*;
use rust_test_plugins::behaviour::ThreadsDisk;

plugin!(ThreadsDisk {
    config,
    thread_model,
    cleanup
});
