// SPDX-License-Identifier: BSD-2-Clause
//! Conformance subset "full": every optional callback.
//!
//! The twin of tests/c-plugins c-full.so; see
//! rust_test_plugins::conformance.

use nbdkit::*;
use rust_test_plugins::conformance::Answers;
use rust_test_plugins::subset_server;

subset_server!(
    Full,
    Answers {
        subset: "full",
        ..Answers::YES
    }
);
plugin!(Full {
    load,
    unload,
    config,
    config_complete,
    dump_plugin,
    thread_model,
    get_ready,
    after_fork,
    cleanup,
    preconnect,
    list_exports,
    default_export,
    export_description,
    block_size,
    can_write,
    can_flush,
    is_rotational,
    can_trim,
    can_zero,
    can_fast_zero,
    can_fua,
    can_multi_conn,
    can_extents,
    can_cache,
    write_at,
    flush,
    trim,
    zero,
    extents,
    cache
});
