// SPDX-License-Identifier: BSD-2-Clause
//! Shared code for the Rust plugins the bats suites serve.
pub mod behaviour;
pub mod buffers;
pub mod conformance;
pub mod reload;
pub mod thread_safety;
