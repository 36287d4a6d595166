// SPDX-License-Identifier: BSD-2-Clause
//! [`ExtentHandle`]: what [`Server::extents`](crate::Server::extents)
//! reports extents to.

use crate::errno::EINVAL;
use crate::ffi::nbdkit_extents;
use crate::host::service;
use crate::{Error, ExtentType, Result};

/// Used by [`Server::extents`](crate::Server::extents) and
/// [`Filter::extents`](crate::Filter::extents) to report extents to the
/// client (nbdkit's `struct nbdkit_extents`), and by
/// [`Next::extents`](crate::Next::extents) to collect those of the layer
/// below.
///
/// Only the SDK makes one: for the duration of an `extents` call, or
/// inside a filter's own list, [`Extents`](crate::Extents), which
/// dereferences to one.
#[derive(Debug)]
pub struct ExtentHandle {
    extents: *mut nbdkit_extents,
}

impl ExtentHandle {
    /// Wrap the pointer nbdkit passed to the extents callback.  The value
    /// must not outlive that call; the glue only lends it out.
    pub(crate) fn new(extents: *mut nbdkit_extents) -> ExtentHandle {
        ExtentHandle { extents }
    }

    /// The list this handle adds to, for host->next_extents.
    pub(crate) fn as_ptr(&self) -> *mut nbdkit_extents {
        self.extents
    }

    /// Report a single extent spanning `[offset .. offset + len)` back to
    /// the client (`nbdkit_add_extent`).
    ///
    /// Extents must be added in ascending order and be contiguous.
    /// nbdkit ignores the parts outside the range the client asked for.
    ///
    /// Errors: `EINVAL` if nbdkit refuses the extent (out of order, or
    /// not contiguous; nbdkit has logged why).
    pub fn add(&mut self, offset: u64, len: u64, et: ExtentType) -> Result<()> {
        let add_extent = service!(add_extent)?;
        // SAFETY: `add_extent` comes from the installed host table;
        // `self.extents` is the pointer nbdkit passed to the extents
        // callback that is running now (users cannot make or keep an
        // ExtentHandle).
        let r = unsafe { add_extent(self.extents, offset, len, u32::from(et)) };
        if r == -1 {
            return Err(Error::new(
                EINVAL,
                format!(
                    "could not add the extent at offset {} length {}",
                    offset, len
                ),
            ));
        }
        Ok(())
    }
}
