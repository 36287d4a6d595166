// SPDX-License-Identifier: BSD-2-Clause
//! The [`Server`] trait: what a plugin implements.

use std::any::{type_name, TypeId};
use std::mem::MaybeUninit;

use crate::errno::{EINVAL, EOPNOTSUPP, EROFS};
use crate::{CacheFlags, Error, ExportList, ExtentHandle, Flags, FuaFlags, Result, ThreadModel};

/// What keeps [`Server::__nbdkit_concrete_type`] the SDK's own: its
/// argument is of a type no plugin can name, so no plugin can
/// implement (override) it.
mod sealed {
    /// Only the SDK can name (and make) one.
    #[derive(Clone, Copy, Debug)]
    pub struct Seal;
}

pub(crate) use sealed::Seal;

/// Define the entry point for your plugin.
///
/// A plugin is a type implementing `Server`, registered with
/// [`plugin!`](crate::plugin).  The static methods (those with
/// `where Self: Sized`) are nbdkit's global callbacks; [`Server::open`]
/// makes the per-connection value, whose methods serve that connection,
/// and which is dropped when the connection closes (there is no `close`
/// method: implement [`Drop`] to release per-connection resources).
///
/// Four methods are required.  Any of the others may be implemented,
/// and **each one implemented must also be listed in
/// [`plugin!`](crate::plugin)**: nbdkit only calls the methods listed
/// there, and for every other one it behaves exactly as for a C plugin
/// that leaves that callback out (see nbdkit-plugin(3)).  The provided
/// bodies below are what a method listed in `plugin!` but not
/// implemented answers; they never panic, and each one's documentation
/// says what it does.
///
/// A panic in any method is caught: it is logged as
/// `"<callback>: panic: <message>"`, the request fails with `EIO`, and
/// the server keeps going (a panic in `load` or `dump_plugin` makes
/// nbdkit exit with status 1, as it does for a plugin that cannot
/// start).
///
/// # Thread safety
///
/// nbdkit calls a plugin from several threads, and safe code must not
/// be able to make that a data race.  So the thread model depends on
/// whether the type given to [`plugin!`](crate::plugin) is [`Sync`]:
///
/// * In the [`ThreadModel::Parallel`] model, nbdkit's worker threads
///   call the methods of one connection's value at once, through shared
///   references: that value must be `Sync`.  A plugin whose type is
///   `Sync` may be served in parallel (the default).
/// * In every stricter model, nbdkit calls all of a connection's
///   callbacks (open, every request, and close, which drops the value)
///   on that connection's own thread, one at a time: the value needs
///   neither `Sync` nor `Send`.  So a plugin whose type is not `Sync`
///   (it holds a `Cell`, `RefCell` or `Rc`) is served with
///   [`ThreadModel::SerializeRequests`] at most, whatever
///   [`Server::thread_model`] answers, and `plugin!` warns at compile
///   time unless `thread_model` is listed in it (implementing and
///   listing `thread_model` says the serialised model is what the author
///   wants).  Make the type `Sync` (a `Mutex`, `RwLock` or atomics
///   instead of `Cell` and `RefCell`, `Arc` instead of `Rc`) to serve
///   requests in parallel.
/// * Global state is in `static`s, which Rust already requires to be
///   `Sync`.
///
/// Only the type given to `plugin!` is checked, so in the parallel
/// model [`Server::open`] must return a value of that very type: a
/// connection whose `open` returns another type is refused (its error
/// names both types).  In the stricter models `open` may return any
/// type.
///
/// This trait (for compatibility with the nbdkit crate 0.3.0) requires
/// neither `Send` nor `Sync`.
// We want the argument names to show up without underscores in the API docs
#[allow(unused_variables)]
pub trait Server {
    /// Called after the server has started serving, whether or not it
    /// forked into the background: the place to start background threads
    /// (threads started earlier do not survive the fork).
    ///
    /// Provided: does nothing and succeeds.
    fn after_fork() -> Result<()>
    where
        Self: Sized,
    {
        Ok(())
    }

    /// Indicates that the client intends to make further accesses to the
    /// given data region.
    ///
    /// Called only when [`Server::can_cache`] returned
    /// [`CacheFlags::Native`].  The cache command may always fail and
    /// still be compliant, and success need not bring a performance gain.
    ///
    /// Provided: succeeds without doing anything, as nbdkit does for a
    /// plugin without a cache callback.
    fn cache(&self, count: u32, offset: u64) -> Result<()> {
        Ok(())
    }

    /// Indicate the level of caching support to the client.
    ///
    /// Not listed in `plugin!`: [`CacheFlags::Native`] if `cache` is
    /// listed, else [`CacheFlags::None`].
    ///
    /// Provided: [`CacheFlags::None`].
    fn can_cache(&self) -> Result<CacheFlags> {
        Ok(CacheFlags::None)
    }

    /// Indicate whether the plugin supports detecting allocated
    /// (non-sparse) regions of the disk with [`Server::extents`].
    ///
    /// Not listed in `plugin!`: true if `extents` is listed.
    ///
    /// Provided: `false` (nbdkit then reports the whole disk as
    /// allocated data).
    fn can_extents(&self) -> Result<bool> {
        Ok(false)
    }

    /// Indicate whether the plugin supports the flush-to-disk operation.
    ///
    /// Not listed in `plugin!`: true if `flush` is listed.
    ///
    /// Provided: `false`.
    fn can_flush(&self) -> Result<bool> {
        Ok(false)
    }

    /// Indicate whether the plugin supports fast-zero requests
    /// ([`Flags::FAST_ZERO`]).
    ///
    /// Not listed in `plugin!`: true if `zero` is not listed (nbdkit
    /// then fails fast zeroes itself), otherwise true only if
    /// [`Server::can_zero`] returned false.
    ///
    /// Provided: `false` (fast zero is not advertised).
    fn can_fast_zero(&self) -> Result<bool> {
        Ok(false)
    }

    /// Indicate whether the plugin supports the Forced Unit Access (FUA)
    /// flag on write, trim and zero requests.
    ///
    /// Not listed in `plugin!`: [`FuaFlags::Emulate`] if `flush` is
    /// listed, else [`FuaFlags::None`].
    ///
    /// Provided: [`FuaFlags::None`].
    fn can_fua(&self) -> Result<FuaFlags> {
        Ok(FuaFlags::None)
    }

    /// Indicate whether the plugin is prepared to handle multiple
    /// connections from a single client.
    ///
    /// If this returns `true` then a client may open multiple connections
    /// to the server and spread requests across them.  That is only safe
    /// if the effects of a [`Server::flush`] (or of [`Flags::FUA`] on a
    /// write, trim or zero) on one connection are visible on all the
    /// others before the plugin replies to it.
    ///
    /// Not listed in `plugin!`, and provided: `false`.
    fn can_multi_conn(&self) -> Result<bool> {
        Ok(false)
    }

    /// Indicate whether the plugin supports the trim/discard operation
    /// for punching holes in the backing store.
    ///
    /// Not listed in `plugin!`: true if `trim` is listed.
    ///
    /// Provided: `false`.
    fn can_trim(&self) -> Result<bool> {
        Ok(false)
    }

    /// Indicate whether the plugin supports writes.
    ///
    /// Not listed in `plugin!`: true if `write_at` is listed.
    ///
    /// Provided: `false` (the export is read-only).
    fn can_write(&self) -> Result<bool> {
        Ok(false)
    }

    /// Indicate whether the [`Server::zero`] callback should be used.
    ///
    /// Returning `false` makes nbdkit emulate zero requests by writing
    /// buffers of zeroes with [`Server::write_at`].
    ///
    /// Not listed in `plugin!`: true if `zero` is listed.
    ///
    /// Provided: `false` (zeroes are emulated).
    fn can_zero(&self) -> Result<bool> {
        Ok(false)
    }

    /// Supplies command-line parameters, one at a time, to the plugin.
    ///
    /// On the nbdkit command line, after the plugin filename, come an
    /// optional list of `key=value` arguments.  These are passed to the
    /// plugin through this callback when the plugin is first loaded and
    /// before any connections are accepted.  A key or value that is not
    /// UTF-8 is refused with `EINVAL` before this is called.
    ///
    /// Not listed in `plugin!`: any parameter is an error.
    ///
    /// Provided: fails with `EINVAL`, "unknown parameter".
    fn config(key: &str, value: &str) -> Result<()>
    where
        Self: Sized,
    {
        Err(Error::new(EINVAL, format!("unknown parameter '{}'", key)))
    }

    /// Called after all the configuration has been passed to the plugin:
    /// a good place to check that the required parameters were given.
    ///
    /// Provided: does nothing and succeeds.
    fn config_complete() -> Result<()>
    where
        Self: Sized,
    {
        Ok(())
    }

    /// Called for `nbdkit PLUGIN --dump-plugin`, after the config
    /// callbacks and before `config_complete`.  It should print any
    /// additional informative `key=value` fields to stdout, prefixed with
    /// the plugin's name.
    ///
    /// Provided: prints nothing.
    fn dump_plugin()
    where
        Self: Sized,
    {
    }

    /// An optional multi-line help message summarizing the `key=value`
    /// parameters the plugin takes.  It need not repeat
    /// [`Server::description`].  Always queried: listing it in `plugin!`
    /// is allowed and changes nothing.
    ///
    /// Provided: `None`.
    fn config_help() -> Option<&'static str>
    where
        Self: Sized,
    {
        None
    }

    /// An optional multi-line description of the plugin.  Always queried.
    ///
    /// Provided: `None`.
    fn description() -> Option<&'static str>
    where
        Self: Sized,
    {
        None
    }

    /// Detect allocated, sparse and zeroed regions of the disk.
    ///
    /// Not called if [`Server::can_extents`] returned `false`, nor for a
    /// client that did not negotiate structured replies.  It should
    /// report the extents overlapping `[offset, offset + count)` in
    /// ascending order, contiguously, starting at `offset`, each with
    /// [`ExtentHandle::add`]; reporting none is an error.  With
    /// [`Flags::REQ_ONE`] the client only wants the first extent: the
    /// plugin may stop after it.
    ///
    /// Provided: fails with `EINVAL`, as nbdkit does for a plugin that
    /// advertises extents without an extents callback.
    fn extents(
        &self,
        count: u32,
        offset: u64,
        flags: Flags,
        extent_handle: &mut ExtentHandle,
    ) -> Result<()> {
        Err(Error::new(EINVAL, "extents is not implemented"))
    }

    /// Sync the backing store to permanent storage.
    ///
    /// Not called directly by the client if [`Server::can_flush`]
    /// returned `false`; but nbdkit calls it after writes if
    /// [`Server::can_fua`] returned [`FuaFlags::Emulate`].
    ///
    /// Provided: fails with `EINVAL`, as nbdkit does for a plugin without
    /// a flush callback.
    fn flush(&self) -> Result<()> {
        Err(Error::new(EINVAL, "flush is not implemented"))
    }

    /// Called before the server starts serving, before it forks or
    /// changes directory: the last chance for global preparation.
    ///
    /// Provided: does nothing and succeeds.
    fn get_ready() -> Result<()>
    where
        Self: Sized,
    {
        Ok(())
    }

    /// Required: the size in bytes of the exported block device.  A
    /// negative size is refused with `EINVAL`.
    fn get_size(&self) -> Result<i64>;

    /// Return `true` if the backing store is a rotational medium (like a
    /// traditional hard disk) as opposed to a non-rotating one like an
    /// SSD.
    ///
    /// Not listed in `plugin!`, and provided: `false`.
    fn is_rotational(&self) -> Result<bool> {
        Ok(false)
    }

    /// Called once just after the plugin is loaded into memory, for any
    /// global initialization.
    ///
    /// Provided: does nothing.
    fn load()
    where
        Self: Sized,
    {
    }

    /// An optional free text name of the plugin, used in error messages.
    /// Always queried.
    ///
    /// Provided: `None`.
    fn longname() -> Option<&'static str>
    where
        Self: Sized,
    {
        None
    }

    /// The key a "bare" parameter (one without `=`) is given to.
    ///
    /// If `Some(key)`, a bare parameter `VALUE` on the command line is
    /// passed to [`Server::config`] as `(key, VALUE)`.  If `None`, nbdkit
    /// passes a first bare parameter as `("script", VALUE)` and refuses
    /// any other.  Always queried.
    ///
    /// Provided: `None`.
    fn magic_config_key() -> Option<&'static str>
    where
        Self: Sized,
    {
        None
    }

    /// Required: the name of the plugin, `[A-Za-z0-9][A-Za-z0-9_]*`
    /// (nbdkit takes it with each `_` made a `-`, and needs a letter or
    /// digit first), unique amongst all plugins.  Another name makes the
    /// plugin fail to load, with an error saying why.
    fn name() -> &'static str
    where
        Self: Sized;

    /// Required: make the value serving a new connection.
    ///
    /// `readonly` is true when the server was started with `-r`; a plugin
    /// that can only serve read-only can ignore it.  The value is dropped
    /// when the connection closes.
    fn open(readonly: bool) -> Result<Box<dyn Server>>
    where
        Self: Sized;

    /// Called when a client has connected, before NBD or TLS negotiation:
    /// the place for basic access control, for example checking
    /// [`peername`](crate::peername).  Returning an error refuses the
    /// connection.  Keep it fast and cheap.
    ///
    /// Provided: accepts every connection.
    fn preconnect(readonly: bool) -> Result<()>
    where
        Self: Sized,
    {
        Ok(())
    }

    /// Required: read `buf.len()` bytes from the backing store, starting
    /// at `offset`.  The whole buffer must be filled, or the call must
    /// fail.
    ///
    /// `buf` arrives filled with zeroes, whatever memory nbdkit passed
    /// (a filter above the plugin, such as nbdkit's cow filter, may pass
    /// memory straight from `malloc`): the SDK writes zeroes over it
    /// first.  A plugin that cannot afford that on every read implements
    /// [`Server::read_at_uninit`] too, and lists it in `plugin!`.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<()>;

    /// The fast path of [`Server::read_at`], used instead of it when
    /// `read_at_uninit` is listed in [`plugin!`](crate::plugin): the
    /// buffer nbdkit passed, as it is, without the zeroes `read_at` gets.
    ///
    /// The buffer may hold anything: nbdkit zeroes its own buffers, but a
    /// filter above the plugin may pass memory straight from `malloc`.
    /// So it is a slice of [`MaybeUninit`], which safe code can write but
    /// not read; the helpers of [`uninit`](crate::uninit) fill it without
    /// `unsafe` and return the bytes written as `&mut [u8]`.
    ///
    /// The method must write all of `buf` before it returns `Ok`.  A byte
    /// it leaves unwritten is not undefined behaviour in Rust (nothing in
    /// the plugin reads it), but it reaches the client as whatever that
    /// memory held before: possibly another request's data, an
    /// information leak.  `nbdkit::testing` (the `testing` feature) checks
    /// this: `Connection::assert_pread_fills`.
    ///
    /// Not in nbdkit crate 0.3.0.  Provided: fills `buf` with zeroes and
    /// calls [`Server::read_at`], so listing it without implementing it
    /// is sound (and gains nothing).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::mem::MaybeUninit;
    /// use nbdkit::*;
    ///
    /// struct Ones;
    ///
    /// impl Server for Ones {
    ///     fn name() -> &'static str {
    ///         "ones"
    ///     }
    ///     fn open(_readonly: bool) -> Result<Box<dyn Server>> {
    ///         Ok(Box::new(Ones))
    ///     }
    ///     fn get_size(&self) -> Result<i64> {
    ///         Ok(1 << 20)
    ///     }
    ///     fn read_at(&self, buf: &mut [u8], _offset: u64) -> Result<()> {
    ///         buf.fill(1);
    ///         Ok(())
    ///     }
    ///     fn read_at_uninit(&self, buf: &mut [MaybeUninit<u8>], _offset: u64) -> Result<()> {
    ///         uninit::fill(buf, 1);
    ///         Ok(())
    ///     }
    /// }
    ///
    /// plugin!(Ones { read_at_uninit });
    /// # fn main() {}
    /// ```
    fn read_at_uninit(&self, buf: &mut [MaybeUninit<u8>], offset: u64) -> Result<()> {
        self.read_at(crate::uninit::fill(buf, 0), offset)
    }

    /// Called after all the configuration has been passed to the plugin,
    /// to choose a stricter thread model than the plugin's maximum:
    /// [`ThreadModel::Parallel`] if the type given to
    /// [`plugin!`](crate::plugin) is `Sync`, else
    /// [`ThreadModel::SerializeRequests`] (see the thread safety section
    /// above).  nbdkit uses the stricter of the two; when the answer was
    /// looser than the maximum, a debug message says so.
    ///
    /// Provided: [`ThreadModel::Parallel`].
    fn thread_model() -> Result<ThreadModel>
    where
        Self: Sized,
    {
        Ok(ThreadModel::Parallel)
    }

    /// Punch a hole in the backing store.
    ///
    /// Not called if [`Server::can_trim`] returned `false`.  `flags` may
    /// include [`Flags::FUA`] depending on [`Server::can_fua`].
    ///
    /// Provided: fails with `EINVAL`, as nbdkit does for a plugin that
    /// advertises trim without a trim callback.
    fn trim(&self, count: u32, offset: u64, flags: Flags) -> Result<()> {
        Err(Error::new(EINVAL, "trim is not implemented"))
    }

    /// Called once just before the plugin is unloaded from memory.
    ///
    /// Provided: does nothing.
    fn unload()
    where
        Self: Sized,
    {
    }

    /// An optional version string displayed in help and debugging output.
    /// Always queried.
    ///
    /// Provided: `None`.
    fn version() -> Option<&'static str>
    where
        Self: Sized,
    {
        None
    }

    /// Write `buf` to the backing store at `offset`.
    ///
    /// `flags` may include [`Flags::FUA`] depending on
    /// [`Server::can_fua`].  The whole buffer must be written, or the
    /// call must fail.
    ///
    /// Provided: fails with `EROFS`, as nbdkit does for a plugin without a
    /// pwrite callback.
    fn write_at(&self, buf: &[u8], offset: u64, flags: Flags) -> Result<()> {
        Err(Error::new(EROFS, "write_at is not implemented"))
    }

    /// Write `count` zero bytes to the backing store at `offset`.
    ///
    /// `flags` may include [`Flags::MAY_TRIM`] (a hole that reads back as
    /// zeroes is fine), [`Flags::FAST_ZERO`] (fail at once with
    /// `ENOTSUP` unless this is faster than writing zeroes) and
    /// [`Flags::FUA`].  Failing with `ENOTSUP`/`EOPNOTSUPP` without
    /// `FAST_ZERO` makes nbdkit fall back to [`Server::write_at`].
    ///
    /// Provided: fails with `EOPNOTSUPP`, so nbdkit writes zeroes with
    /// `write_at` instead (or fails a fast zero), as for a plugin without
    /// a zero callback.
    fn zero(&self, count: u32, offset: u64, flags: Flags) -> Result<()> {
        Err(Error::new(EOPNOTSUPP, "zero is not implemented"))
    }

    /// List the exports the server offers to a client that asks
    /// (`NBD_OPT_LIST`), with [`ExportList::add`] and
    /// [`ExportList::use_default`].  `readonly` is true with `-r`;
    /// `is_tls` tells whether the client negotiated TLS.
    ///
    /// Not in nbdkit crate 0.3.0.  Not listed in `plugin!`, and
    /// provided: only the default export
    /// ([`ExportList::use_default`]).
    fn list_exports(readonly: bool, is_tls: bool, exports: &mut ExportList) -> Result<()>
    where
        Self: Sized,
    {
        exports.use_default()
    }

    /// The canonical name of the default export `""`.
    ///
    /// Not in nbdkit crate 0.3.0.  Not listed in `plugin!`, and
    /// provided: `""`.
    fn default_export(readonly: bool, is_tls: bool) -> Result<String>
    where
        Self: Sized,
    {
        Ok(String::new())
    }

    /// A free-form description of this connection's export, sent to
    /// clients that ask for it.
    ///
    /// Not in nbdkit crate 0.3.0.  Not listed in `plugin!`: no
    /// description.
    ///
    /// Provided: fails with `EOPNOTSUPP`, which nbdkit takes as "no
    /// description" (after logging the error).
    fn export_description(&self) -> Result<String> {
        Err(Error::new(
            EOPNOTSUPP,
            "export_description is not implemented",
        ))
    }

    /// The block size constraints of this connection's export:
    /// `(minimum, preferred, maximum)`.
    ///
    /// nbdkit checks them: the minimum a power of two from 1 to 64 KiB,
    /// the preferred a power of two from 512 bytes to 32 MiB, the maximum
    /// a multiple of the minimum or `0xffff_ffff`, and minimum <=
    /// preferred <= maximum.  All three zero means "no constraints".
    ///
    /// Not in nbdkit crate 0.3.0.  Not listed in `plugin!`, and
    /// provided: `(0, 0, 0)`.
    fn block_size(&self) -> Result<(u32, u32, u32)> {
        Ok((0, 0, 0))
    }

    /// Called once when nbdkit is about to exit, after the last
    /// connection closed and before `unload`: the counterpart of
    /// [`Server::get_ready`] and [`Server::after_fork`].
    ///
    /// Not in nbdkit crate 0.3.0.  Provided: does nothing.
    fn cleanup()
    where
        Self: Sized,
    {
    }

    /// The SDK's own: the type of the value behind a `dyn Server`, so
    /// that the open callback can check it is the plugin's type.  It
    /// takes an argument of a type no plugin can name, so no plugin can
    /// implement it.
    #[doc(hidden)]
    fn __nbdkit_concrete_type(&self, _: Seal) -> (TypeId, &'static str)
    where
        Self: 'static,
    {
        (TypeId::of::<Self>(), type_name::<Self>())
    }
}
