// SPDX-License-Identifier: BSD-2-Clause
//! Whether the plugin type is `Sync`, found out at compile time by
//! [`plugin!`](crate::plugin), which serves a plugin whose type is not
//! `Sync` with a serialised thread model (see the thread safety section
//! of [`Server`](crate::Server)); and [`filter!`](crate::filter) asks the
//! same of a filter type, with its own warning ([`FilterTypeIsNotSync`]).
//!
//! Rust has no specialisation, so `plugin!` asks with autoref
//! specialisation: it calls a method on `&SyncProbe<MyPlugin>`.  Method
//! resolution tries the receiver's own type first, where the method of
//! [`PluginTypeIsSync`] exists only if `MyPlugin: Sync`; failing that it
//! borrows once more and finds the fallback of [`PluginTypeIsNotSync`],
//! implemented for every `&SyncProbe<T>`.  So the choice is made for the
//! concrete type, at compile time.
//!
//! The fallback is `#[deprecated]`: calling it is how `plugin!` warns
//! that the plugin will be served with a serialised model.  When
//! `thread_model` is listed in `plugin!`, the author chose a model, and
//! `plugin!` asks through the other pair of traits, whose fallback does
//! not warn (`__nbdkit_max_thread_model!` in `macros.rs` decides).

use std::marker::PhantomData;

use crate::ThreadModel;

/// The receiver of the probe: nothing but the type asked about.
pub struct SyncProbe<T>(PhantomData<fn() -> T>);

impl<T> SyncProbe<T> {
    /// A probe for `T`.
    #[allow(clippy::new_without_default)]
    pub fn new() -> SyncProbe<T> {
        SyncProbe(PhantomData)
    }
}

/// The answer for a `Sync` type.
pub trait PluginTypeIsSync {
    /// [`ThreadModel::Parallel`]: the type may be shared by nbdkit's
    /// worker threads.
    fn max_thread_model(&self) -> ThreadModel {
        ThreadModel::Parallel
    }
}

impl<T: Sync> PluginTypeIsSync for SyncProbe<T> {}

/// The answer for any other type, with a warning.
pub trait PluginTypeIsNotSync {
    /// [`ThreadModel::SerializeRequests`]: nbdkit then calls a
    /// connection's callbacks on one thread only.
    #[deprecated(
        note = "the type given to plugin! is not Sync: nbdkit-rust serves it with the \
                serialize_requests thread model. Make it Sync (Mutex/RwLock/atomics instead \
                of Cell/RefCell, Arc instead of Rc) to serve requests in parallel, or \
                implement thread_model returning ThreadModel::SerializeRequests (or stricter) \
                and list it in plugin! to say that is what you want."
    )]
    fn max_thread_model(&self) -> ThreadModel {
        ThreadModel::SerializeRequests
    }
}

impl<T> PluginTypeIsNotSync for &SyncProbe<T> {}

/// The answer for a `Sync` type whose plugin lists `thread_model`.
pub trait ListedPluginTypeIsSync {
    /// [`ThreadModel::Parallel`], as [`PluginTypeIsSync`].
    fn max_thread_model_listed(&self) -> ThreadModel {
        ThreadModel::Parallel
    }
}

impl<T: Sync> ListedPluginTypeIsSync for SyncProbe<T> {}

/// The answer for any other type whose plugin lists `thread_model`:
/// the author chose the model, so no warning.
pub trait ListedPluginTypeIsNotSync {
    /// [`ThreadModel::SerializeRequests`], as [`PluginTypeIsNotSync`].
    fn max_thread_model_listed(&self) -> ThreadModel {
        ThreadModel::SerializeRequests
    }
}

impl<T> ListedPluginTypeIsNotSync for &SyncProbe<T> {}

/// The answer for a filter type that is not `Sync`, with a warning
/// (the `Sync` answer is [`PluginTypeIsSync`]'s, and a filter that lists
/// `thread_model` asks as a plugin does).
pub trait FilterTypeIsNotSync {
    /// [`ThreadModel::SerializeRequests`], as [`PluginTypeIsNotSync`].
    #[deprecated(
        note = "the type given to filter! is not Sync: nbdkit-rust serves it with the \
                serialize_requests thread model. Make it Sync (Mutex/RwLock/atomics instead \
                of Cell/RefCell, Arc instead of Rc) to serve requests in parallel, or \
                implement thread_model returning ThreadModel::SerializeRequests (or stricter) \
                and list it in filter! to say that is what you want."
    )]
    fn max_thread_model(&self) -> ThreadModel {
        ThreadModel::SerializeRequests
    }
}

impl<T> FilterTypeIsNotSync for &SyncProbe<T> {}
