// SPDX-License-Identifier: BSD-2-Clause
//! [`Exports`]: an export list a filter owns (nbdkit_exports_new), to
//! collect the exports of the layer below and read them back.

use std::ffi::CStr;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::os::raw::c_char;
use std::ptr;

use crate::errno::ENOMEM;
use crate::ffi::nbdkit_exports;
use crate::host::service;
use crate::{Error, ExportList, Result};

/// An export list of a filter's own (nbdkit's `struct nbdkit_exports`
/// from `nbdkit_exports_new`), freed when dropped.
///
/// It dereferences to an [`ExportList`], so it is what
/// [`NextListExports::list_exports`](crate::NextListExports::list_exports)
/// fills; read it back with [`Exports::iter`], as `(name, description)`.
///
/// # Examples
///
/// A filter that hides the exports whose name starts with `.`:
///
/// ```
/// use nbdkit::*;
///
/// fn list_exports(
///     next: &NextListExports,
///     readonly: bool,
///     reply: &mut ExportList,
/// ) -> Result<()> {
///     let mut below = Exports::new()?;
///     next.list_exports(readonly, &mut below)?;
///     for (name, description) in below.iter() {
///         if !name.starts_with('.') {
///             reply.add(&name, description.as_deref())?;
///         }
///     }
///     Ok(())
/// }
/// ```
pub struct Exports {
    list: ExportList,
}

impl Exports {
    /// A new, empty list (`nbdkit_exports_new`).
    ///
    /// Errors: `ENOMEM` (nbdkit has logged why).
    pub fn new() -> Result<Exports> {
        let exports_new = service!(exports_new)?;
        // SAFETY: `exports_new` comes from the installed host table and
        // takes no arguments.
        let p = unsafe { exports_new() };
        if p.is_null() {
            return Err(Error::logged(ENOMEM, "nbdkit_exports_new failed"));
        }
        Ok(Exports {
            list: ExportList::new(p),
        })
    }

    fn as_ptr(&self) -> *const nbdkit_exports {
        self.list.as_ptr()
    }

    /// How many exports the list holds (`nbdkit_exports_count`); a
    /// [`use_default`](ExportList::use_default) is not one of them.
    pub fn len(&self) -> usize {
        match service!(exports_count) {
            // SAFETY: the host's function over the list this value owns.
            Ok(count) => unsafe { count(self.as_ptr()) },
            Err(_) => 0,
        }
    }

    /// Whether the list holds no export.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A copy of the `i`th export as `(name, description)`, or `None`
    /// past the end (`nbdkit_get_export`).  Bytes that are not UTF-8
    /// are replaced with U+FFFD.
    pub fn get(&self, i: usize) -> Option<(String, Option<String>)> {
        let get_export = service!(get_export).ok()?;
        let (mut name, mut description): (*const c_char, *const c_char) =
            (ptr::null(), ptr::null());
        // SAFETY: the host's function over the list this value owns,
        // with two writable slots; it checks `i` against the count.
        let r = unsafe { get_export(self.as_ptr(), i, &mut name, &mut description) };
        if r == -1 || name.is_null() {
            return None;
        }
        // SAFETY: on success the strings are NUL-terminated and belong
        // to the list, alive while `self` is; they are copied here.
        let copy = |p: *const c_char| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned();
        let description = if description.is_null() {
            None
        } else {
            Some(copy(description))
        };
        Some((copy(name), description))
    }

    /// Copies of the exports in order, as `(name, description)`.
    pub fn iter(&self) -> impl Iterator<Item = (String, Option<String>)> + '_ {
        (0..self.len()).filter_map(move |i| self.get(i))
    }
}

impl Deref for Exports {
    type Target = ExportList;

    fn deref(&self) -> &ExportList {
        &self.list
    }
}

impl DerefMut for Exports {
    fn deref_mut(&mut self) -> &mut ExportList {
        &mut self.list
    }
}

impl Drop for Exports {
    fn drop(&mut self) {
        if let Ok(free) = service!(exports_free) {
            // SAFETY: the list this value owns, freed once, here.
            unsafe { free(self.list.as_ptr()) };
        }
    }
}

impl fmt::Debug for Exports {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}
