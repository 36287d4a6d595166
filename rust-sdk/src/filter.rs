// SPDX-License-Identifier: BSD-2-Clause
//! The [`Filter`] trait: what a filter implements.

use std::any::{type_name, TypeId};
use std::mem::MaybeUninit;

use crate::server::Seal;
use crate::{
    Backend, CacheFlags, ExportList, ExtentHandle, Flags, FuaFlags, Next, NextConfig,
    NextConfigComplete, NextDefaultExport, NextListExports, NextOpen, NextPreconnect, Result,
    ThreadModel, ZeroMode,
};

/// A filter: a layer between nbdkit and its plugin (or the next filter)
/// that sees, and may change, every call on its way down.
///
/// A filter is a type implementing `Filter`, registered with
/// [`filter!`](crate::filter), built as a `cdylib`, and served by
/// nbdkit-rust-filter.so:
///
/// ```text
/// nbdkit --filter=rust memory 1G rust-filter=./libmyfilter.so mykey=1
/// ```
///
/// The static methods (those with `where Self: Sized`) are nbdkit's
/// global callbacks; [`Filter::open`] makes the per-connection value,
/// whose methods serve that connection, and which is dropped when the
/// connection closes (implement [`Drop`] to release per-connection
/// resources).  Each method gets the layer below: the global ones a
/// call type ([`NextConfig`], [`NextOpen`], ...) with the one call they
/// may pass on, the per-connection ones a [`Next`].
///
/// Two methods are required, [`Filter::name`] and [`Filter::open`].
/// Any of the others may be implemented, and **each one implemented
/// must also be listed in [`filter!`](crate::filter)**: for every other
/// one the loader passes the call straight through to the layer below,
/// as nbdkit does for a C filter that leaves the callback out, without
/// entering Rust at all.  The provided bodies below pass the call
/// through too, so listing a method without implementing it changes
/// nothing but the speed.
///
/// Errors and panics are handled as for a [`Server`](crate::Server): an
/// `Err` is logged (unless it is the layer below's failure, passed up
/// as it came: that was logged already) and the client receives its
/// errno; a panic is logged as `"<callback>: panic: <message>"` and
/// fails the request with `EIO`; the server keeps going.  A failing or
/// panicking `load` makes nbdkit exit with status 1.
///
/// # Thread safety
///
/// As for plugins (see the thread safety section of
/// [`Server`](crate::Server)): the filter type given to `filter!`
/// decides the loosest thread model.  If it is [`Sync`], the filter may
/// be served in parallel, and [`Filter::open`] must then return a value
/// of that very type; if not, it is served with
/// [`ThreadModel::SerializeRequests`] at most, and `filter!` warns at
/// compile time unless `thread_model` is listed.  nbdkit uses the
/// strictest model of all the layers.
///
/// # Examples
///
/// A filter that makes the disk read-only and counts reads:
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use nbdkit::*;
///
/// #[derive(Default)]
/// struct ReadOnly {
///     reads: AtomicU64,
/// }
///
/// impl Filter for ReadOnly {
///     fn name() -> &'static str {
///         "readonly"
///     }
///
///     fn open(
///         next: &mut NextOpen,
///         _readonly: bool,
///         export_name: &str,
///         _is_tls: bool,
///     ) -> Result<Box<dyn Filter>> {
///         next.open(true, export_name)?;
///         Ok(Box::new(ReadOnly::default()))
///     }
///
///     fn can_write(&self, _next: &Next) -> Result<bool> {
///         Ok(false)
///     }
///
///     fn read_at(&self, next: &Next, buf: &mut [u8], offset: u64, flags: Flags) -> Result<()> {
///         self.reads.fetch_add(1, Ordering::Relaxed);
///         next.read_at(buf, offset, flags)
///     }
/// }
///
/// filter!(ReadOnly { can_write, read_at });
/// # fn main() {}
/// ```
// We want the argument names to show up without underscores in the API docs
#[allow(unused_variables)]
pub trait Filter {
    /// Required: the name of the filter, `[A-Za-z0-9][A-Za-z0-9_]*`, as
    /// for a plugin ([`Server::name`](crate::Server::name)).  Another
    /// name makes the filter fail to load, with an error saying why.
    fn name() -> &'static str
    where
        Self: Sized;

    /// An optional free text name of the filter, used in error
    /// messages.  Always queried.
    ///
    /// Provided: `None`.
    fn longname() -> Option<&'static str>
    where
        Self: Sized,
    {
        None
    }

    /// An optional version string.  Always queried.
    ///
    /// Provided: `None`.
    fn version() -> Option<&'static str>
    where
        Self: Sized,
    {
        None
    }

    /// An optional multi-line description of the filter.  Always
    /// queried.
    ///
    /// Provided: `None`.
    fn description() -> Option<&'static str>
    where
        Self: Sized,
    {
        None
    }

    /// An optional multi-line help message summarizing the `key=value`
    /// parameters the filter takes.  Always queried.
    ///
    /// Provided: `None`.
    fn config_help() -> Option<&'static str>
    where
        Self: Sized,
    {
        None
    }

    /// Called once just after the filter is loaded.  An error makes
    /// nbdkit exit with status 1.
    ///
    /// Provided: succeeds.
    fn load() -> Result<()>
    where
        Self: Sized,
    {
        Ok(())
    }

    /// Called once just before the filter is unloaded.
    ///
    /// Provided: does nothing.
    fn unload()
    where
        Self: Sized,
    {
    }

    /// Takes the command-line parameters, one at a time: every
    /// `key=value` that reaches this filter, whether it is the filter's
    /// or the plugin's.  Pass on the keys the filter does not take
    /// (`next.config(key, value)`); the plugin then refuses the keys
    /// nobody takes.  A key or value that is not UTF-8 is refused with
    /// `EINVAL` before this is called.
    ///
    /// Provided: passes every key on.
    fn config(next: &NextConfig, key: &str, value: &str) -> Result<()>
    where
        Self: Sized,
    {
        next.config(key, value)
    }

    /// Called after all the parameters were given: check the filter's
    /// own, then pass on (`next.config_complete()`).
    ///
    /// Provided: passes on.
    fn config_complete(next: &NextConfigComplete) -> Result<()>
    where
        Self: Sized,
    {
        next.config_complete()
    }

    /// Called after `config_complete`, to choose a stricter thread model
    /// than the filter's maximum (see the thread safety section above).
    /// nbdkit uses the strictest model of all the layers.
    ///
    /// Provided: [`ThreadModel::Parallel`].
    fn thread_model() -> Result<ThreadModel>
    where
        Self: Sized,
    {
        Ok(ThreadModel::Parallel)
    }

    /// Called before the server starts serving, with the thread model
    /// nbdkit chose for the whole chain.
    ///
    /// Provided: succeeds.
    fn get_ready(model: ThreadModel) -> Result<()>
    where
        Self: Sized,
    {
        Ok(())
    }

    /// Called once the server serves, whether or not it forked: the
    /// place to start background threads.  `backend` is valid until
    /// [`Filter::cleanup`].
    ///
    /// Provided: succeeds.
    fn after_fork(backend: &Backend) -> Result<()>
    where
        Self: Sized,
    {
        Ok(())
    }

    /// Called once when nbdkit is about to exit, after the last
    /// connection closed: stop background threads, close the
    /// connections opened with [`Backend::open_next`].
    ///
    /// Provided: does nothing.
    fn cleanup(backend: &Backend)
    where
        Self: Sized,
    {
    }

    /// Called when a client connects, before NBD negotiation: an error
    /// refuses the client.  Pass on (`next.preconnect(readonly)`) to let
    /// the layer below decide too.
    ///
    /// Provided: passes on.
    fn preconnect(next: &NextPreconnect, readonly: bool) -> Result<()>
    where
        Self: Sized,
    {
        next.preconnect(readonly)
    }

    /// The exports a client listing them gets.  `is_tls` tells whether
    /// the client negotiated TLS; it is not passed on.  Collect the
    /// layer below's in an [`Exports`](crate::Exports) list to change
    /// them.
    ///
    /// Provided: the layer below's.
    fn list_exports(
        next: &NextListExports,
        readonly: bool,
        is_tls: bool,
        exports: &mut ExportList,
    ) -> Result<()>
    where
        Self: Sized,
    {
        next.list_exports(readonly, exports)
    }

    /// The canonical name of the default export `""`.
    ///
    /// Provided: the layer below's.
    fn default_export(next: &NextDefaultExport, readonly: bool, is_tls: bool) -> Result<String>
    where
        Self: Sized,
    {
        next.default_export(readonly)
    }

    /// Required: make the value serving a new connection.
    ///
    /// Open the layer below with `next.open(readonly, export_name)`,
    /// with the arguments given or others; if `open` does not, the SDK
    /// does it with the arguments given once `open` succeeds (see
    /// [`NextOpen`]).  `export_name` is the export the client asked for;
    /// `is_tls` whether it negotiated TLS.  The value is dropped when
    /// the connection closes.
    fn open(
        next: &mut NextOpen,
        readonly: bool,
        export_name: &str,
        is_tls: bool,
    ) -> Result<Box<dyn Filter>>
    where
        Self: Sized;

    /// Called once the connection is open, the layer below prepared:
    /// the place to read what the filter needs to know of the disk (a
    /// partition table, a header).  An error is reported to the client,
    /// which may try again.
    ///
    /// Provided: succeeds.
    fn prepare(&self, next: &Next, readonly: bool) -> Result<()> {
        Ok(())
    }

    /// Called before the connection closes, while the layer below is
    /// still usable: the place to write back what the filter must.  An
    /// error disconnects the client.
    ///
    /// Provided: succeeds.
    fn finalize(&self, next: &Next) -> Result<()> {
        Ok(())
    }

    /// The size of the disk the client sees, in bytes (at most
    /// `i64::MAX`).  nbdkit asks once per connection.
    ///
    /// Provided: the layer below's.
    fn get_size(&self, next: &Next) -> Result<u64> {
        next.get_size()
    }

    /// A description of the export, if any.
    ///
    /// Provided: the layer below's.
    fn export_description(&self, next: &Next) -> Result<Option<String>> {
        next.export_description()
    }

    /// The block size constraints `(minimum, preferred, maximum)`, all
    /// zero for none (see [`Server::block_size`](crate::Server::block_size)).
    ///
    /// Provided: the layer below's.
    fn block_size(&self, next: &Next) -> Result<(u32, u32, u32)> {
        next.block_size()
    }

    /// Whether the disk can be written.
    ///
    /// Provided: the layer below's answer.
    fn can_write(&self, next: &Next) -> Result<bool> {
        next.can_write()
    }

    /// Whether flush works.
    ///
    /// Provided: the layer below's answer.
    fn can_flush(&self, next: &Next) -> Result<bool> {
        next.can_flush()
    }

    /// Whether the disk is a rotational medium.
    ///
    /// Provided: the layer below's answer.
    fn is_rotational(&self, next: &Next) -> Result<bool> {
        next.is_rotational()
    }

    /// Whether trim works.
    ///
    /// Provided: the layer below's answer.
    fn can_trim(&self, next: &Next) -> Result<bool> {
        next.can_trim()
    }

    /// How zero requests are served: [`ZeroMode::Emulate`] makes nbdkit
    /// write zeroes through `write_at` instead of calling `zero`.
    ///
    /// Provided: the layer below's answer.
    fn can_zero(&self, next: &Next) -> Result<ZeroMode> {
        next.can_zero()
    }

    /// Whether a fast zero request fails at once when zeroing would be
    /// slow.
    ///
    /// Provided: the layer below's answer.
    fn can_fast_zero(&self, next: &Next) -> Result<bool> {
        next.can_fast_zero()
    }

    /// Whether extents are reported.
    ///
    /// Provided: the layer below's answer.
    fn can_extents(&self, next: &Next) -> Result<bool> {
        next.can_extents()
    }

    /// How the FUA flag is served.
    ///
    /// Provided: the layer below's answer.
    fn can_fua(&self, next: &Next) -> Result<FuaFlags> {
        next.can_fua()
    }

    /// Whether several connections of one client see the same data.
    ///
    /// Provided: the layer below's answer.
    fn can_multi_conn(&self, next: &Next) -> Result<bool> {
        next.can_multi_conn()
    }

    /// How cache requests are served.
    ///
    /// Provided: the layer below's answer.
    fn can_cache(&self, next: &Next) -> Result<CacheFlags> {
        next.can_cache()
    }

    /// Read `buf.len()` bytes at `offset`.  The whole buffer must be
    /// filled, or the call must fail.
    ///
    /// `buf` arrives filled with zeroes, whatever memory the layer above
    /// passed (a C filter above may pass memory straight from `malloc`).
    /// A filter that cannot afford that on every read implements
    /// [`Filter::read_at_uninit`] too, and lists it in `filter!`.
    ///
    /// Provided: reads the layer below.
    fn read_at(&self, next: &Next, buf: &mut [u8], offset: u64, flags: Flags) -> Result<()> {
        next.read_at(buf, offset, flags)
    }

    /// The fast path of [`Filter::read_at`], used instead of it when
    /// `read_at_uninit` is listed in [`filter!`](crate::filter): the
    /// buffer as the layer above passed it, not zeroed, as for
    /// [`Server::read_at_uninit`](crate::Server::read_at_uninit).
    /// [`Next::read_at_uninit`] reads the layer below into it.  The
    /// method must write all of `buf` before it returns `Ok`.
    ///
    /// Provided: fills `buf` with zeroes and calls [`Filter::read_at`],
    /// so listing it without implementing it is sound (and gains
    /// nothing).
    fn read_at_uninit(
        &self,
        next: &Next,
        buf: &mut [MaybeUninit<u8>],
        offset: u64,
        flags: Flags,
    ) -> Result<()> {
        self.read_at(next, crate::uninit::fill(buf, 0), offset, flags)
    }

    /// Write `buf` at `offset`.
    ///
    /// Provided: writes to the layer below.
    fn write_at(&self, next: &Next, buf: &[u8], offset: u64, flags: Flags) -> Result<()> {
        next.write_at(buf, offset, flags)
    }

    /// Flush.
    ///
    /// Provided: flushes the layer below.
    fn flush(&self, next: &Next, flags: Flags) -> Result<()> {
        next.flush(flags)
    }

    /// Trim `count` bytes at `offset`.
    ///
    /// Provided: trims the layer below.
    fn trim(&self, next: &Next, count: u32, offset: u64, flags: Flags) -> Result<()> {
        next.trim(count, offset, flags)
    }

    /// Zero `count` bytes at `offset`.
    ///
    /// Provided: zeroes the layer below.
    fn zero(&self, next: &Next, count: u32, offset: u64, flags: Flags) -> Result<()> {
        next.zero(count, offset, flags)
    }

    /// Report the extents of `count` bytes at `offset` to `extents`, as
    /// [`Server::extents`](crate::Server::extents) does.
    ///
    /// Provided: the layer below's.
    fn extents(
        &self,
        next: &Next,
        count: u32,
        offset: u64,
        flags: Flags,
        extents: &mut ExtentHandle,
    ) -> Result<()> {
        next.extents(count, offset, flags, extents)
    }

    /// Cache `count` bytes at `offset`.
    ///
    /// Provided: asks the layer below.
    fn cache(&self, next: &Next, count: u32, offset: u64, flags: Flags) -> Result<()> {
        next.cache(count, offset, flags)
    }

    /// The SDK's own: the type of the value behind a `dyn Filter`, so
    /// that the open callback can check it is the filter's type.  It
    /// takes an argument of a type no filter can name, so no filter can
    /// implement it.
    #[doc(hidden)]
    fn __nbdkit_concrete_type(&self, _: Seal) -> (TypeId, &'static str)
    where
        Self: 'static,
    {
        (TypeId::of::<Self>(), type_name::<Self>())
    }
}
