// SPDX-License-Identifier: BSD-2-Clause
//! Field offsets without `offset_of!` (which Rust 1.63 lacks).
//!
//! `NBDKIT_RUST_HAS_FIELD` needs the offset and size of a field, and the
//! layout test needs offset, size and alignment.  `field_layout!`
//! computes them from the address of the field inside an uninitialised
//! value, which the optimiser folds into constants.

/// The size of the value a pointer points to, without reading it.
pub(crate) fn size_of_pointee<T>(_: *const T) -> usize {
    std::mem::size_of::<T>()
}

/// The alignment of the value a pointer points to, without reading it.
pub(crate) fn align_of_pointee<T>(_: *const T) -> usize {
    std::mem::align_of::<T>()
}

/// `(offset, size, align)` of field `$field` of `#[repr(C)]` struct
/// `$type`.
macro_rules! field_layout {
    ($type:ty, $field:ident) => {{
        let uninit = ::std::mem::MaybeUninit::<$type>::uninit();
        let base: *const $type = uninit.as_ptr();
        // SAFETY: `base` points to a live (if uninitialised) local of
        // type `$type`; `addr_of!` computes the address of one of its
        // fields without reading memory or creating a reference.
        let field = unsafe { ::std::ptr::addr_of!((*base).$field) };
        (
            field as usize - base as usize,
            $crate::layout::size_of_pointee(field),
            $crate::layout::align_of_pointee(field),
        )
    }};
}

/// The offset one past the end of field `$field` of `$type`: what
/// `NBDKIT_RUST_HAS_FIELD` compares `struct_size` with.
macro_rules! field_end {
    ($type:ty, $field:ident) => {{
        let (offset, size, _) = $crate::layout::field_layout!($type, $field);
        offset + size
    }};
}

pub(crate) use {field_end, field_layout};
