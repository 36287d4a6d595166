// SPDX-License-Identifier: BSD-2-Clause
//! holey: a disk whose `read_at` writes only its data blocks and
//! leaves the holes to the zeroes the SDK promises (src/buffers.rs).

use nbdkit::*;
use rust_test_plugins::buffers::HoleyDisk;

plugin!(HoleyDisk {});
