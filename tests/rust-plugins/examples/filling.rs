// SPDX-License-Identifier: BSD-2-Clause
//! filling: the holey disk's data, read by read_at_uninit into the
//! buffer nbdkit passed as it is, every byte written with
//! nbdkit::uninit (src/buffers.rs).

use nbdkit::*;
use rust_test_plugins::buffers::FillingDisk;

plugin!(FillingDisk { read_at_uninit });
