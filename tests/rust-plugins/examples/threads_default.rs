// SPDX-License-Identifier: BSD-2-Clause
//! threads_default: the threads plugin without a thread_model
//! callback, to see which thread model the SDK chooses by default.
//! A thread_model= key is accepted but has no effect.

use nbdkit::*;
use rust_test_plugins::behaviour::ThreadsDisk;

plugin!(ThreadsDisk { config, cleanup });
