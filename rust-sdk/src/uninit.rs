// SPDX-License-Identifier: BSD-2-Clause
//! Filling a buffer that may be uninitialised, without `unsafe`: what
//! [`Server::read_at_uninit`](crate::Server::read_at_uninit) gets.
//!
//! Each function writes every byte of the destination and returns it
//! as the ordinary `&mut [u8]` it has become, so a plugin may go on
//! working on the bytes it wrote.  Writing part of a buffer is writing
//! all of a sub-slice (`&mut buf[a..b]`, which slices of `MaybeUninit`
//! allow), so a read made of pieces fills one piece at a time:
//!
//! ```
//! use std::mem::MaybeUninit;
//! use nbdkit::uninit;
//!
//! /// A read of 8 bytes: 3 from `data`, then 5 zeroes.
//! fn read(buf: &mut [MaybeUninit<u8>], data: &[u8; 3]) {
//!     let (head, tail) = buf.split_at_mut(3);
//!     uninit::write(head, data);
//!     uninit::fill(tail, 0);
//! }
//!
//! let mut buf = [MaybeUninit::<u8>::uninit(); 8];
//! read(&mut buf, b"abc");
//! ```
//!
//! Only the SDK's own code reads such a buffer as bytes: the SDK's
//! unsafe code is here and in the glue, nowhere in a plugin.

use std::mem::MaybeUninit;
use std::ptr;
use std::slice;

/// Copy `src` into `dst`, which must be as long, and return `dst` as
/// the bytes it now holds.
///
/// # Panics
///
/// If the two slices differ in length (as
/// [`slice::copy_from_slice`] does).
///
/// # Examples
///
/// ```
/// use std::mem::MaybeUninit;
/// let mut buf = [MaybeUninit::<u8>::uninit(); 4];
/// let written: &mut [u8] = nbdkit::uninit::write(&mut buf, b"nbd!");
/// assert_eq!(written, b"nbd!");
/// ```
pub fn write<'a>(dst: &'a mut [MaybeUninit<u8>], src: &[u8]) -> &'a mut [u8] {
    assert_eq!(
        dst.len(),
        src.len(),
        "nbdkit::uninit::write: the destination is {} bytes, the source {}",
        dst.len(),
        src.len()
    );
    // SAFETY: `dst` and `src` are valid for `src.len()` bytes (checked
    // above) and cannot overlap (`dst` is borrowed mutably); MaybeUninit<u8>
    // has the layout of u8.  Once every byte is written, `dst` is an
    // initialised `[u8]`, borrowed for 'a as the result.
    unsafe {
        ptr::copy_nonoverlapping(src.as_ptr(), dst.as_mut_ptr().cast::<u8>(), src.len());
        slice::from_raw_parts_mut(dst.as_mut_ptr().cast::<u8>(), dst.len())
    }
}

/// Set every byte of `dst` to `byte`, and return it as the bytes it now
/// holds.
///
/// # Examples
///
/// ```
/// use std::mem::MaybeUninit;
/// let mut buf = [MaybeUninit::<u8>::uninit(); 3];
/// assert_eq!(nbdkit::uninit::fill(&mut buf, 0), [0, 0, 0]);
/// ```
pub fn fill(dst: &mut [MaybeUninit<u8>], byte: u8) -> &mut [u8] {
    // SAFETY: `dst` is valid for writes of `dst.len()` bytes, and
    // MaybeUninit<u8> has the layout of u8.  Once every byte is written,
    // `dst` is an initialised `[u8]`, borrowed as long as `dst` was.
    unsafe {
        ptr::write_bytes(dst.as_mut_ptr().cast::<u8>(), byte, dst.len());
        slice::from_raw_parts_mut(dst.as_mut_ptr().cast::<u8>(), dst.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_copies_and_returns_the_bytes() {
        let mut buf = [MaybeUninit::<u8>::uninit(); 5];
        let out = write(&mut buf, b"hello");
        assert_eq!(out, b"hello");
        out[0] = b'j';
        assert_eq!(write(&mut buf[1..3], b"ab"), b"ab");
    }

    #[test]
    #[should_panic(expected = "the destination is 4 bytes, the source 3")]
    fn write_refuses_a_source_of_another_length() {
        let mut buf = [MaybeUninit::<u8>::uninit(); 4];
        write(&mut buf, b"abc");
    }

    #[test]
    fn fill_sets_every_byte() {
        let mut buf = [MaybeUninit::<u8>::uninit(); 4096];
        assert!(fill(&mut buf, 0xa5).iter().all(|&b| b == 0xa5));
        assert!(fill(&mut buf[..0], 1).is_empty());
    }

    #[test]
    fn pieces_fill_the_whole_buffer() {
        let mut buf = [MaybeUninit::<u8>::uninit(); 8];
        let (head, tail) = buf.split_at_mut(3);
        write(head, b"abc");
        fill(tail, b'-');
        // Every byte is written: reading them all is sound here.
        let all: Vec<u8> = buf
            .iter()
            // SAFETY: both pieces were written above.
            .map(|b| unsafe { b.assume_init() })
            .collect();
        assert_eq!(all, b"abc-----");
    }
}
