//! Shared code for the Rust plugins the bats suites serve.
pub mod behaviour;
pub mod conformance;
pub mod reload;
