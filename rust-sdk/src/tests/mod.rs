//! Unit tests that need more than one module: the glue driven through
//! descriptors against the fake nbdkit of `nbdkit::testing` (mostly
//! through its harness), the host services, the entry point, the
//! harness itself, and the layout test that pins `ffi.rs` to the C
//! header.

mod c_probe;
mod callbacks;
mod direct;
mod entry;
mod fake_host;
mod harness;
mod layout;
mod nbdkit_layout;
mod plugins;
mod services;
