//! Unit tests that need more than one module: the glue driven through
//! descriptors against a fake host table, the host services, the entry
//! point, and the layout test that pins `ffi.rs` to the C header.

mod callbacks;
mod entry;
mod fake_host;
mod layout;
mod plugins;
mod services;
