// SPDX-License-Identifier: BSD-2-Clause
//! Shared code for the buffer plugins (buffers.bats): a read-only disk
//! whose odd 4 KiB blocks hold data and whose even blocks are holes.
//!
//! Block N of the disk is 4096 bytes of `N as u8 | 1` when N is odd,
//! zeroes when N is even.  `HoleyDisk::read_at` writes only the data
//! blocks and leaves the holes to the buffer's zeroes, as a sparse
//! plugin may: the SDK promises `read_at` a zeroed buffer, whatever
//! memory nbdkit (or a filter above the plugin) passes.
//! `FillingDisk::read_at_uninit` writes every byte, with the safe
//! helpers of `nbdkit::uninit`.

use std::mem::MaybeUninit;

use nbdkit::*;

/// The disk's block size.
pub const BLOCK: u64 = 4096;
/// The disk size: 64 blocks.
pub const SIZE: u64 = 64 * BLOCK;

/// The byte every byte of block `n` holds: 0 in a hole.
pub fn block_byte(n: u64) -> u8 {
    if n % 2 == 1 {
        n as u8 | 1
    } else {
        0
    }
}

/// The pieces of `[offset, offset + len)`: `(start in the request,
/// length, block number)`.
fn pieces(len: usize, offset: u64) -> Result<Vec<(usize, usize, u64)>> {
    match offset.checked_add(len as u64) {
        Some(end) if end <= SIZE => {}
        _ => return Err(Error::new(errno::EINVAL, "buffers: beyond the end")),
    }
    let mut out = Vec::new();
    let mut done = 0;
    while done < len {
        let at = offset + done as u64;
        let n = at / BLOCK;
        let take = ((BLOCK - at % BLOCK) as usize).min(len - done);
        out.push((done, take, n));
        done += take;
    }
    Ok(out)
}

/// Writes only the data blocks in `read_at`.
pub struct HoleyDisk;

impl Server for HoleyDisk {
    fn name() -> &'static str {
        "holey"
    }

    fn open(_readonly: bool) -> Result<Box<dyn Server>> {
        Ok(Box::new(HoleyDisk))
    }

    fn get_size(&self) -> Result<i64> {
        Ok(SIZE as i64)
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<()> {
        for (start, len, n) in pieces(buf.len(), offset)? {
            let byte = block_byte(n);
            if byte != 0 {
                buf[start..start + len].fill(byte);
            }
        }
        Ok(())
    }
}

/// Writes every byte in `read_at_uninit`, without unsafe code.
pub struct FillingDisk;

impl Server for FillingDisk {
    fn name() -> &'static str {
        "filling"
    }

    fn open(_readonly: bool) -> Result<Box<dyn Server>> {
        Ok(Box::new(FillingDisk))
    }

    fn get_size(&self) -> Result<i64> {
        Ok(SIZE as i64)
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<()> {
        for (start, len, n) in pieces(buf.len(), offset)? {
            buf[start..start + len].fill(block_byte(n));
        }
        Ok(())
    }

    fn read_at_uninit(&self, buf: &mut [MaybeUninit<u8>], offset: u64) -> Result<()> {
        let block = [0u8; BLOCK as usize];
        for (start, len, n) in pieces(buf.len(), offset)? {
            let out = &mut buf[start..start + len];
            match block_byte(n) {
                // A copy, to use both helpers.
                0 => {
                    uninit::write(out, &block[..len]);
                }
                byte => {
                    uninit::fill(out, byte);
                }
            }
        }
        Ok(())
    }
}
