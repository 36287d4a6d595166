// SPDX-License-Identifier: BSD-2-Clause
//! reload_b: build "B" of the reload test disk (src/reload.rs): 2 MiB
//! that reads as 'B' until written.

use nbdkit::*;
use rust_test_plugins::reload::ReloadDisk;

type ReloadB = ReloadDisk<b'B', { 2 << 20 }>;

plugin!(ReloadB {
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
