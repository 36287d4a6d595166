// SPDX-License-Identifier: BSD-2-Clause
//! [`Extents`]: an extents list a filter owns (nbdkit_extents_new), to
//! collect the extents of the layer below and read them back.

use std::fmt;
use std::ops::{Deref, DerefMut};

use crate::errno::{ENOMEM, ERANGE};
use crate::ffi::nbdkit_extents;
use crate::host::service;
use crate::{Error, ExtentHandle, ExtentType, Result};

/// An extents list of a filter's own (nbdkit's `struct nbdkit_extents`
/// from `nbdkit_extents_new`), freed when dropped.
///
/// It covers the range `[start, end)` given to [`Extents::new`]: extents
/// added to it are clipped to that range and neighbours of one type are
/// merged, as nbdkit does for the list a client's request fills.  It
/// dereferences to an [`ExtentHandle`], so it is what
/// [`Next::extents`](crate::Next::extents) fills and
/// [`ExtentHandle::add`] adds to; [`Next::extents_full`](crate::Next::extents_full)
/// returns one.  Read it back with [`Extents::iter`] (or a `for` loop
/// over `&extents`), as `(offset, length, type)`.
///
/// # Examples
///
/// A filter that shifts the disk by `SHIFT` bytes asks the layer below
/// for the extents of the shifted range and reports them shifted back:
///
/// ```
/// use nbdkit::*;
///
/// const SHIFT: u64 = 4096;
///
/// fn extents(
///     next: &Next,
///     count: u32,
///     offset: u64,
///     flags: Flags,
///     reply: &mut ExtentHandle,
/// ) -> Result<()> {
///     let below = next.extents_full(count, offset + SHIFT, flags)?;
///     for (offset, length, kind) in &below {
///         reply.add(offset - SHIFT, length, kind)?;
///     }
///     Ok(())
/// }
/// ```
pub struct Extents {
    handle: ExtentHandle,
}

impl Extents {
    /// A new, empty list for the range `[start, end)`
    /// (`nbdkit_extents_new`).
    ///
    /// Errors: `ERANGE` if `start > end` or either is beyond
    /// `i64::MAX` (nbdkit has logged why), `ENOMEM`.
    pub fn new(start: u64, end: u64) -> Result<Extents> {
        let extents_new = service!(extents_new)?;
        // SAFETY: `extents_new` comes from the installed host table and
        // takes plain integers.
        let p = unsafe { extents_new(start, end) };
        if p.is_null() {
            let errno = if start > end || end > i64::MAX as u64 {
                ERANGE
            } else {
                ENOMEM
            };
            return Err(Error::logged(
                errno,
                format!("nbdkit_extents_new ({}, {}) failed", start, end),
            ));
        }
        Ok(Extents::from_raw(p))
    }

    /// Take ownership of a list the host made (extents_new,
    /// extents_full).
    pub(crate) fn from_raw(p: *mut nbdkit_extents) -> Extents {
        Extents {
            handle: ExtentHandle::new(p),
        }
    }

    /// How many extents the list holds (`nbdkit_extents_count`).
    pub fn len(&self) -> usize {
        match service!(extents_count) {
            // SAFETY: the host's function over the list this value owns.
            Ok(count) => unsafe { count(self.handle.as_ptr()) },
            Err(_) => 0,
        }
    }

    /// Whether the list holds no extent.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `i`th extent as `(offset, length, type)`, or `None` past the
    /// end (`nbdkit_get_extent`).
    pub fn get(&self, i: usize) -> Option<(u64, u64, ExtentType)> {
        let get_extent = service!(get_extent).ok()?;
        let (mut offset, mut length, mut type_) = (0u64, 0u64, 0u32);
        // SAFETY: the host's function over the list this value owns,
        // with three writable slots; it checks `i` against the count.
        let r = unsafe {
            get_extent(
                self.handle.as_ptr(),
                i,
                &mut offset,
                &mut length,
                &mut type_,
            )
        };
        if r == -1 {
            return None;
        }
        Some((offset, length, ExtentType::from_bits(type_)))
    }

    /// The extents in order, as `(offset, length, type)`.
    pub fn iter(&self) -> ExtentsIter<'_> {
        ExtentsIter {
            extents: self,
            next: 0,
            len: self.len(),
        }
    }

    /// The list as the [`ExtentHandle`] that [`Next::extents`](crate::Next::extents)
    /// fills (what `DerefMut` gives too).
    pub fn as_handle(&mut self) -> &mut ExtentHandle {
        &mut self.handle
    }
}

impl Deref for Extents {
    type Target = ExtentHandle;

    fn deref(&self) -> &ExtentHandle {
        &self.handle
    }
}

impl DerefMut for Extents {
    fn deref_mut(&mut self) -> &mut ExtentHandle {
        &mut self.handle
    }
}

impl Drop for Extents {
    fn drop(&mut self) {
        if let Ok(free) = service!(extents_free) {
            // SAFETY: the list this value owns, freed once, here.
            unsafe { free(self.handle.as_ptr()) };
        }
    }
}

impl fmt::Debug for Extents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a> IntoIterator for &'a Extents {
    type Item = (u64, u64, ExtentType);
    type IntoIter = ExtentsIter<'a>;

    fn into_iter(self) -> ExtentsIter<'a> {
        self.iter()
    }
}

/// The iterator of [`Extents::iter`].
#[derive(Debug)]
pub struct ExtentsIter<'a> {
    extents: &'a Extents,
    next: usize,
    len: usize,
}

impl Iterator for ExtentsIter<'_> {
    type Item = (u64, u64, ExtentType);

    fn next(&mut self) -> Option<(u64, u64, ExtentType)> {
        if self.next >= self.len {
            return None;
        }
        let extent = self.extents.get(self.next);
        self.next += 1;
        extent
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.len - self.next.min(self.len);
        (left, Some(left))
    }
}

impl ExactSizeIterator for ExtentsIter<'_> {}
