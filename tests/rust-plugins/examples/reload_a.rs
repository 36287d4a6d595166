// SPDX-License-Identifier: BSD-2-Clause
//! reload_a: build "A" of the reload test disk (src/reload.rs): 1 MiB
//! that reads as 'A' until written.

use nbdkit::*;
use rust_test_plugins::reload::ReloadDisk;

type ReloadA = ReloadDisk<b'A', { 1 << 20 }>;

plugin!(ReloadA {
    load,
    unload,
    config,
    config_complete,
    thread_model,
    get_ready,
    after_fork,
    cleanup,
    write_at
});
