// SPDX-License-Identifier: BSD-2-Clause
//! [`Next`]: the layer below a filter (the next filter or the plugin)
//! for one connection, reached through the host table's next_*
//! functions.

use std::ffi::CStr;
use std::fmt;
use std::io;
use std::mem::MaybeUninit;
use std::os::raw::c_int;
use std::slice;

use crate::errno::{EINVAL, EIO};
use crate::ffi::nbdkit_rust_next;
use crate::host::service;
use crate::{CacheFlags, Error, ExtentHandle, Extents, Flags, FuaFlags, Result, ZeroMode};

/// The layer below a filter for one connection: the next filter, or
/// the plugin (nbdkit's `nbdkit_next`).
///
/// The SDK lends one to each per-connection method of a
/// [`Filter`](crate::Filter) for the duration of the call (an
/// [`OwnedNext`](crate::OwnedNext) is one the filter opened itself).
/// Its methods are the layer's: the same queries and requests as a
/// client's, with the same meaning as in nbdkit-filter(3).  nbdkit
/// checks them as it checks a client's: for example, `read_at` only
/// after `get_size` was called once on the connection (nbdkit does that
/// during the handshake), `write_at` only after `can_write` said yes.
///
/// An error of the layer below comes back as an [`Error`] with the
/// errno it set (`EIO` if none), marked as logged already: a method
/// that returns it as is (`next.read_at(buf, offset, flags)?`) hands
/// the errno up without logging the failure a second time, as a C
/// filter does.  Wrap it in a new [`Error`] to add to the log.
///
/// # Examples
///
/// ```
/// use nbdkit::*;
///
/// /// Reads the layer below, inverting every bit.
/// fn read_inverted(next: &Next, buf: &mut [u8], offset: u64, flags: Flags) -> Result<()> {
///     next.read_at(buf, offset, flags)?;
///     for b in buf.iter_mut() {
///         *b = !*b;
///     }
///     Ok(())
/// }
/// ```
pub struct Next {
    raw: *mut nbdkit_rust_next,
}

impl fmt::Debug for Next {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Next").field(&self.raw).finish()
    }
}

/// The error of a query of the layer below, which logged why.
#[cold]
#[inline(never)]
fn query_failed(what: &str) -> Error {
    Error::logged(EIO, format!("{} of the layer below failed", what))
}

/// The error of a request of the layer below, which gave `errno`.
#[cold]
#[inline(never)]
fn request_failed(what: &str, errno: c_int) -> Error {
    let errno = if errno == 0 { EIO } else { errno };
    Error::logged(
        errno,
        format!(
            "{} of the layer below failed: {}",
            what,
            io::Error::from_raw_os_error(errno)
        ),
    )
}

/// A buffer's length as a request's count (32 bits).
#[inline]
fn count(len: usize) -> Result<u32> {
    match u32::try_from(len) {
        Ok(n) => Ok(n),
        Err(_) => Err(too_long(len)),
    }
}

/// The error of a buffer longer than a request's count allows.
#[cold]
#[inline(never)]
fn too_long(len: usize) -> Error {
    Error::new(
        EINVAL,
        format!("a request of {} bytes is longer than NBD allows", len),
    )
}

/// The yes/no queries.
macro_rules! next_bool {
    ($($(#[$doc:meta])* $name:ident => $field:ident;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(&self) -> Result<bool> {
                let f = service!($field)?;
                // SAFETY: a function of the installed host table, with
                // the next the loader lent this value.
                match unsafe { f(self.raw) } {
                    -1 => Err(query_failed(stringify!($name))),
                    r => Ok(r != 0),
                }
            }
        )*
    };
}

/// The requests of a range that take no buffer.
macro_rules! next_range {
    ($($(#[$doc:meta])* $name:ident => $field:ident;)*) => {
        $(
            $(#[$doc])*
            #[inline]
            pub fn $name(&self, count: u32, offset: u64, flags: Flags) -> Result<()> {
                let f = service!($field)?;
                let mut err: c_int = 0;
                // SAFETY: a function of the installed host table, with
                // the next the loader lent this value and a writable
                // errno slot.
                match unsafe { f(self.raw, count, offset, flags.bits(), &mut err) } {
                    -1 => Err(request_failed(stringify!($name), err)),
                    _ => Ok(()),
                }
            }
        )*
    };
}

impl Next {
    /// Wrap the pointer the loader passed to a filter callback; the
    /// glue lends the value for the call only.
    pub(crate) fn new(raw: *mut nbdkit_rust_next) -> Next {
        Next { raw }
    }

    /// The pointer, for host calls that take it.
    pub(crate) fn as_ptr(&self) -> *mut nbdkit_rust_next {
        self.raw
    }

    /// A query that answers an integer, -1 on failure.
    fn query(
        &self,
        what: &'static str,
        f: unsafe extern "C" fn(*mut nbdkit_rust_next) -> c_int,
    ) -> Result<c_int> {
        // SAFETY: a function of the installed host table, with the next
        // the loader lent this value.
        match unsafe { f(self.raw) } {
            -1 => Err(query_failed(what)),
            r => Ok(r),
        }
    }

    /// The size of the layer below, in bytes.
    pub fn get_size(&self) -> Result<u64> {
        let get_size = service!(next_get_size)?;
        // SAFETY: a function of the installed host table, with the next
        // the loader lent this value.
        match unsafe { get_size(self.raw) } {
            -1 => Err(query_failed("get_size")),
            size => Ok(size as u64),
        }
    }

    /// The description of the layer below's export, if it has one
    /// (`None` too if asking failed: nbdkit does not tell the two apart).
    pub fn export_description(&self) -> Result<Option<String>> {
        let f = service!(next_export_description)?;
        // SAFETY: a function of the installed host table, with the next
        // the loader lent this value.
        let p = unsafe { f(self.raw) };
        if p.is_null() {
            return Ok(None);
        }
        // SAFETY: a non-NULL answer is a NUL-terminated string owned by
        // nbdkit, valid until the connection closes; it is copied here.
        let s = unsafe { CStr::from_ptr(p) };
        Ok(Some(s.to_string_lossy().into_owned()))
    }

    /// The block size constraints of the layer below, `(minimum,
    /// preferred, maximum)`; all zero for none.
    pub fn block_size(&self) -> Result<(u32, u32, u32)> {
        let f = service!(next_block_size)?;
        let (mut min, mut pref, mut max) = (0u32, 0u32, 0u32);
        // SAFETY: a function of the installed host table, with the next
        // the loader lent this value and three writable slots.
        match unsafe { f(self.raw, &mut min, &mut pref, &mut max) } {
            -1 => Err(query_failed("block_size")),
            _ => Ok((min, pref, max)),
        }
    }

    next_bool! {
        /// Whether the layer below can be written.
        can_write => next_can_write;
        /// Whether the layer below can flush.
        can_flush => next_can_flush;
        /// Whether the layer below is a rotational medium.
        is_rotational => next_is_rotational;
        /// Whether the layer below can trim.
        can_trim => next_can_trim;
        /// Whether the layer below fails fast zero requests at once
        /// when zeroing would be slow.
        can_fast_zero => next_can_fast_zero;
        /// Whether the layer below reports extents.
        can_extents => next_can_extents;
        /// Whether several connections to the layer below see the same
        /// data.
        can_multi_conn => next_can_multi_conn;
    }

    /// How the layer below serves zero requests.
    pub fn can_zero(&self) -> Result<ZeroMode> {
        let f = service!(next_can_zero)?;
        self.query("can_zero", f).map(ZeroMode::from_raw)
    }

    /// How the layer below serves the FUA flag.
    pub fn can_fua(&self) -> Result<FuaFlags> {
        let f = service!(next_can_fua)?;
        self.query("can_fua", f).map(FuaFlags::from_raw)
    }

    /// How the layer below serves cache requests.
    pub fn can_cache(&self) -> Result<CacheFlags> {
        let f = service!(next_can_cache)?;
        self.query("can_cache", f).map(CacheFlags::from_raw)
    }

    /// Read `buf.len()` bytes at `offset` from the layer below.
    #[inline]
    pub fn read_at(&self, buf: &mut [u8], offset: u64, flags: Flags) -> Result<()> {
        let n = count(buf.len())?;
        let pread = service!(next_pread)?;
        let mut err: c_int = 0;
        // SAFETY: a function of the installed host table, with the next
        // the loader lent this value, a buffer of `n` writable bytes and
        // a writable errno slot.
        let r = unsafe {
            pread(
                self.raw,
                buf.as_mut_ptr().cast(),
                n,
                offset,
                flags.bits(),
                &mut err,
            )
        };
        if r == -1 {
            return Err(request_failed("pread", err));
        }
        Ok(())
    }

    /// [`read_at`](Self::read_at) into a buffer that need not be
    /// initialised (such as the one
    /// [`Filter::read_at_uninit`](crate::Filter::read_at_uninit) gets):
    /// on success the layer below has written every byte, returned as
    /// the bytes they now are.
    #[inline]
    pub fn read_at_uninit<'a>(
        &self,
        buf: &'a mut [MaybeUninit<u8>],
        offset: u64,
        flags: Flags,
    ) -> Result<&'a mut [u8]> {
        let n = count(buf.len())?;
        let pread = service!(next_pread)?;
        let mut err: c_int = 0;
        let p = buf.as_mut_ptr().cast::<u8>();
        // SAFETY: as in `read_at`; the layer below only writes `buf`.
        let r = unsafe { pread(self.raw, p.cast(), n, offset, flags.bits(), &mut err) };
        if r == -1 {
            return Err(request_failed("pread", err));
        }
        // SAFETY: a pread that succeeded wrote all `n` bytes (nbdkit's
        // contract for every layer), so `buf` is initialised now,
        // borrowed as long as `buf` was.
        Ok(unsafe { slice::from_raw_parts_mut(p, buf.len()) })
    }

    /// Write `buf` at `offset` to the layer below.
    #[inline]
    pub fn write_at(&self, buf: &[u8], offset: u64, flags: Flags) -> Result<()> {
        let n = count(buf.len())?;
        let pwrite = service!(next_pwrite)?;
        let mut err: c_int = 0;
        // SAFETY: a function of the installed host table, with the next
        // the loader lent this value, a buffer of `n` readable bytes and
        // a writable errno slot.
        let r = unsafe {
            pwrite(
                self.raw,
                buf.as_ptr().cast(),
                n,
                offset,
                flags.bits(),
                &mut err,
            )
        };
        if r == -1 {
            return Err(request_failed("pwrite", err));
        }
        Ok(())
    }

    /// Flush the layer below.
    #[inline]
    pub fn flush(&self, flags: Flags) -> Result<()> {
        let flush = service!(next_flush)?;
        let mut err: c_int = 0;
        // SAFETY: a function of the installed host table, with the next
        // the loader lent this value and a writable errno slot.
        match unsafe { flush(self.raw, flags.bits(), &mut err) } {
            -1 => Err(request_failed("flush", err)),
            _ => Ok(()),
        }
    }

    next_range! {
        /// Trim `count` bytes at `offset` in the layer below.
        trim => next_trim;
        /// Zero `count` bytes at `offset` in the layer below.
        zero => next_zero;
        /// Ask the layer below to cache `count` bytes at `offset`.
        cache => next_cache;
    }

    /// The extents of the layer below for `count` bytes at `offset`,
    /// added to `extents`: the handle a filter's own
    /// [`Filter::extents`](crate::Filter::extents) got (to pass them up
    /// unchanged), or an [`Extents`] list of its own.  The layer may
    /// report fewer than asked for (only the first with
    /// [`Flags::REQ_ONE`]); [`extents_full`](Self::extents_full) asks
    /// until the whole range is covered.
    pub fn extents(
        &self,
        count: u32,
        offset: u64,
        flags: Flags,
        extents: &mut ExtentHandle,
    ) -> Result<()> {
        let f = service!(next_extents)?;
        let mut err: c_int = 0;
        // SAFETY: a function of the installed host table, with the next
        // the loader lent this value, the list `extents` wraps (alive
        // while it is borrowed) and a writable errno slot.
        let r = unsafe {
            f(
                self.raw,
                count,
                offset,
                flags.bits(),
                extents.as_ptr(),
                &mut err,
            )
        };
        if r == -1 {
            return Err(request_failed("extents", err));
        }
        Ok(())
    }

    /// The extents of the layer below covering all of `count` bytes at
    /// `offset` (`nbdkit_extents_full`), in a new list.
    pub fn extents_full(&self, count: u32, offset: u64, flags: Flags) -> Result<Extents> {
        let f = service!(extents_full)?;
        let mut err: c_int = 0;
        // SAFETY: a function of the installed host table, with the next
        // the loader lent this value and a writable errno slot.
        let p = unsafe { f(self.raw, count, offset, flags.bits(), &mut err) };
        if p.is_null() {
            return Err(request_failed("extents", err));
        }
        Ok(Extents::from_raw(p))
    }
}
