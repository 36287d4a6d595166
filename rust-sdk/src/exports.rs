// SPDX-License-Identifier: BSD-2-Clause
//! [`ExportList`]: what [`Server::list_exports`](crate::Server::list_exports)
//! fills in.

use std::ptr;

use crate::errno::EINVAL;
use crate::ffi::nbdkit_exports;
use crate::host::{self, service};
use crate::{Error, Result};

/// The list of exports [`Server::list_exports`](crate::Server::list_exports)
/// and [`Filter::list_exports`](crate::Filter::list_exports) report to a
/// client (nbdkit's `struct nbdkit_exports`).
///
/// Only the SDK makes one: for the duration of a `list_exports` call, or
/// inside a filter's own list, [`Exports`](crate::Exports), which
/// dereferences to one.
#[derive(Debug)]
pub struct ExportList {
    exports: *mut nbdkit_exports,
}

impl ExportList {
    /// Wrap the pointer nbdkit passed to the list_exports callback.  The
    /// value must not outlive that call; the glue only lends it out.
    pub(crate) fn new(exports: *mut nbdkit_exports) -> ExportList {
        ExportList { exports }
    }

    /// The list this adds to, for host->next_list_exports.
    pub(crate) fn as_ptr(&self) -> *mut nbdkit_exports {
        self.exports
    }

    /// Add the export `name` with an optional human-readable
    /// `description` (`nbdkit_add_export`).
    ///
    /// Errors: `EINVAL` if a string contains a NUL byte or nbdkit refuses
    /// the export (a name longer than 4096 bytes, too many exports; nbdkit
    /// has logged why).
    pub fn add(&mut self, name: &str, description: Option<&str>) -> Result<()> {
        let name_c = host::arg_to_c("export name", name)?;
        let description_c = match description {
            Some(d) => Some(host::arg_to_c("export description", d)?),
            None => None,
        };
        let add_export = service!(add_export)?;
        let description_ptr = description_c.as_ref().map_or(ptr::null(), |d| d.as_ptr());
        // SAFETY: `add_export` comes from the installed host table;
        // `self.exports` is the pointer nbdkit passed to the list_exports
        // callback that is running now (users cannot make or keep an
        // ExportList); the strings are NUL-terminated and outlive the
        // call, and DESCRIPTION may be NULL.
        let r = unsafe { add_export(self.exports, name_c.as_ptr(), description_ptr) };
        if r == -1 {
            return Err(Error::new(
                EINVAL,
                format!("could not add export {:?}", name),
            ));
        }
        Ok(())
    }

    /// Add the default export, under the name that
    /// [`Server::default_export`](crate::Server::default_export) gives it
    /// (`nbdkit_use_default_export`).
    ///
    /// Errors: `EINVAL` if nbdkit fails (it has logged why).
    pub fn use_default(&mut self) -> Result<()> {
        let use_default = service!(use_default_export)?;
        // SAFETY: as in `add`, `self.exports` is the live pointer of the
        // running list_exports callback.
        let r = unsafe { use_default(self.exports) };
        if r == -1 {
            return Err(Error::new(EINVAL, "could not add the default export"));
        }
        Ok(())
    }
}
