// SPDX-License-Identifier: BSD-2-Clause
//! holey_uninit_listed: the holey disk (src/buffers.rs) with
//! read_at_uninit listed but not implemented: the SDK's provided
//! read_at_uninit zeroes the buffer and calls read_at.

use nbdkit::*;
use rust_test_plugins::buffers::HoleyDisk;

plugin!(HoleyDisk { read_at_uninit });
