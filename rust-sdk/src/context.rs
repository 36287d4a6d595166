// SPDX-License-Identifier: BSD-2-Clause
//! A filter that manages its own connections to the layer below:
//! [`Backend`] opens them, [`OwnedNext`] is one.

use std::fmt;
use std::mem::ManuallyDrop;
use std::ops::Deref;
use std::os::raw::c_int;

use crate::errno::EIO;
use crate::ffi::{nbdkit_rust_backend, nbdkit_rust_next};
use crate::host::{self, service};
use crate::{Error, Next, Result};

/// A filter's backend (nbdkit's `nbdkit_backend`): what it opens
/// connections to the layer below with, outside the one nbdkit opens
/// for each client ([`Backend::open_next`]).
///
/// [`Filter::after_fork`](crate::Filter::after_fork) and
/// [`Filter::cleanup`](crate::Filter::cleanup) get it, and
/// [`NextOpen::backend`](crate::NextOpen::backend) returns it.  It is
/// valid from `after_fork` until `cleanup`, and may be kept and used
/// from any thread meanwhile.
#[derive(Clone, Copy)]
pub struct Backend {
    raw: *mut nbdkit_rust_backend,
}

// SAFETY: nbdkit's backend is one per filter instance, alive from
// after_fork until cleanup, and nbdkit_next_context_open may be called
// with it from any thread; the SDK never writes through the pointer.
unsafe impl Send for Backend {}
// SAFETY: as for Send: sharing it only ever passes the pointer to
// nbdkit.
unsafe impl Sync for Backend {}

impl fmt::Debug for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Backend").field(&self.raw).finish()
    }
}

impl Backend {
    /// Wrap the pointer the loader passed.
    pub(crate) fn new(raw: *mut nbdkit_rust_backend) -> Backend {
        Backend { raw }
    }

    /// Open a connection to the layer below of the filter's own
    /// (`nbdkit_next_context_open`), `readonly` or not, on export
    /// `export_name`.
    ///
    /// With `shared` false it must be called while serving a client,
    /// and the connection shares that client's details (export name,
    /// TLS) and must not outlive it; with `shared` true it may be
    /// called outside a client connection (from `after_fork`) and
    /// shared by several.  Call [`OwnedNext::prepare`] before any other
    /// request; dropping it finalizes (if prepared) and closes it.  Or
    /// hand it, unprepared, to [`NextOpen::set_next`](crate::NextOpen::set_next).
    ///
    /// An error if the layer below cannot be opened (it has logged
    /// why).
    pub fn open_next(&self, readonly: bool, export_name: &str, shared: bool) -> Result<OwnedNext> {
        let name = host::arg_to_c("open_next: the export name", export_name)?;
        let f = service!(next_context_open)?;
        // SAFETY: a function of the installed host table, with the
        // backend the loader passed and a NUL-terminated string that
        // outlives the call (nbdkit copies it).
        let p = unsafe {
            f(
                self.raw,
                c_int::from(readonly),
                name.as_ptr(),
                c_int::from(shared),
            )
        };
        if p.is_null() {
            return Err(Error::logged(
                EIO,
                "nbdkit_next_context_open of the layer below failed",
            ));
        }
        Ok(OwnedNext::from_raw(p))
    }
}

/// A connection to the layer below that the filter opened itself
/// ([`Backend::open_next`]): a [`Next`] (it dereferences to one) whose
/// life the filter manages.
///
/// Call [`prepare`](Self::prepare) before any request.  Dropping it
/// finalizes it (if it was prepared and not finalized, ignoring an
/// error) and closes it (`nbdkit_next_context_close`).
pub struct OwnedNext {
    next: Next,
    prepared: bool,
}

impl fmt::Debug for OwnedNext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedNext")
            .field("next", &self.next)
            .field("prepared", &self.prepared)
            .finish()
    }
}

impl OwnedNext {
    /// Own a context of the layer below that nbdkit opened, unprepared.
    pub(crate) fn from_raw(raw: *mut nbdkit_rust_next) -> OwnedNext {
        OwnedNext {
            next: Next::new(raw),
            prepared: false,
        }
    }

    /// Give up ownership (to nbdkit, with `context_set_next`).
    pub(crate) fn into_raw(self) -> *mut nbdkit_rust_next {
        ManuallyDrop::new(self).next.as_ptr()
    }

    /// Prepare the connection (`next->prepare`), as nbdkit prepares the
    /// ones it opens, before any request.
    pub fn prepare(&mut self) -> Result<()> {
        let f = service!(next_prepare)?;
        // SAFETY: a function of the installed host table, with the
        // context this value owns.
        if unsafe { f(self.next.as_ptr()) } == -1 {
            return Err(Error::logged(EIO, "prepare of the layer below failed"));
        }
        self.prepared = true;
        Ok(())
    }

    /// Finalize the connection (`next->finalize`), as nbdkit finalizes
    /// the ones it opens, after the last request.
    pub fn finalize(&mut self) -> Result<()> {
        let f = service!(next_finalize)?;
        self.prepared = false;
        // SAFETY: a function of the installed host table, with the
        // context this value owns.
        if unsafe { f(self.next.as_ptr()) } == -1 {
            return Err(Error::logged(EIO, "finalize of the layer below failed"));
        }
        Ok(())
    }
}

impl Deref for OwnedNext {
    type Target = Next;

    fn deref(&self) -> &Next {
        &self.next
    }
}

impl Drop for OwnedNext {
    fn drop(&mut self) {
        if self.prepared {
            // A failure was logged by the layer below; a drop cannot
            // return it.
            let _ = self.finalize();
        }
        if let Ok(close) = service!(next_context_close) {
            // SAFETY: a function of the installed host table, with the
            // context this value owns, closed once, here.
            unsafe { close(self.next.as_ptr()) };
        }
    }
}
