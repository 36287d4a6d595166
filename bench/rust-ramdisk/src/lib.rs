// SPDX-License-Identifier: BSD-2-Clause
//! rust_ramdisk: the Rust twin of bench/c-ramdisk.c, for the benchmarks.
//!
//! ```text
//! nbdkit rust rust=./librust_ramdisk.so size=256M
//! ```
//!
//! Callback for callback the same logic as the C plugin: one flat
//! buffer of `size` bytes, shared by every connection, no lock, a bounds
//! check and a copy per request, the same callbacks and the same
//! answers.  So whatever the benchmark measures between the two is the
//! loader and the SDK glue.
//!
//! Like the C plugin, concurrent requests on overlapping ranges race
//! (NBD leaves their order undefined).  In Rust's memory model, as in
//! C's, that is a data race and undefined behaviour in principle; it is
//! kept on purpose, because the point of the twin is to do exactly what
//! the C plugin does, and no benchmark client checks the data it reads,
//! so a torn copy changes nothing that is measured.  Do not copy this
//! into a real plugin; see examples/ramdisk for one that locks.

use std::mem::MaybeUninit;
use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

use nbdkit::*;

/// The disk: `SIZE` bytes, allocated by `config_complete` (zeroed, so
/// the kernel maps pages only as they are touched, as calloc does).
static DISK: AtomicPtr<u8> = AtomicPtr::new(ptr::null_mut());

/// The disk size; 0 until `size=` is given.
static SIZE: AtomicU64 = AtomicU64::new(0);

/// One connection: nothing of its own.
struct RamDisk;

/// The disk at `offset`, if `[offset, offset + count)` lies inside it
/// (nbdkit checks too; the C plugin checks the same way).
fn check(count: usize, offset: u64) -> Option<*mut u8> {
    let size = SIZE.load(Ordering::Relaxed);
    if offset > size || count as u64 > size - offset {
        return None;
    }
    // The offset fits in usize: it is below the size of an allocation.
    Some(DISK.load(Ordering::Relaxed).wrapping_add(offset as usize))
}

/// The failure of a request beyond the end, out of the requests' way
/// as the C compiler puts the C plugin's.
#[cold]
#[inline(never)]
fn beyond_the_end(offset: u64) -> Result<()> {
    Err(Error::new(
        errno::EINVAL,
        format!(
            "rust-ramdisk: request beyond the end of the disk (offset {})",
            offset
        ),
    ))
}

impl Server for RamDisk {
    fn name() -> &'static str {
        "rust_ramdisk"
    }

    fn longname() -> Option<&'static str> {
        Some("nbdkit-rust benchmark Rust RAM disk")
    }

    fn version() -> Option<&'static str> {
        Some("1.0")
    }

    fn magic_config_key() -> Option<&'static str> {
        Some("size")
    }

    fn config(key: &str, value: &str) -> Result<()> {
        if key != "size" {
            return Err(Error::new(
                errno::EINVAL,
                format!("rust-ramdisk: unknown parameter '{}' (try size=SIZE)", key),
            ));
        }
        SIZE.store(parse_size(value)? as u64, Ordering::Relaxed);
        Ok(())
    }

    fn config_complete() -> Result<()> {
        let size = SIZE.load(Ordering::Relaxed);
        if size == 0 {
            return Err(Error::new(
                errno::EINVAL,
                "rust-ramdisk: size=SIZE is required",
            ));
        }
        let disk: Box<[u8]> = vec![0u8; size as usize].into_boxed_slice();
        DISK.store(Box::leak(disk).as_mut_ptr(), Ordering::Relaxed);
        Ok(())
    }

    fn unload() {
        let disk = DISK.swap(ptr::null_mut(), Ordering::Relaxed);
        if !disk.is_null() {
            let size = SIZE.load(Ordering::Relaxed) as usize;
            // SAFETY: `disk` is the `Box<[u8]>` of `size` bytes that
            // config_complete leaked, taken out of DISK, so dropped once;
            // nbdkit calls unload after every connection has gone.
            drop(unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(disk, size)) });
        }
    }

    fn open(_readonly: bool) -> Result<Box<dyn Server>> {
        Ok(Box::new(RamDisk))
    }

    fn get_size(&self) -> Result<i64> {
        Ok(SIZE.load(Ordering::Relaxed) as i64)
    }

    fn can_multi_conn(&self) -> Result<bool> {
        // One disk for all connections, and nothing is cached.
        Ok(true)
    }

    fn can_fua(&self) -> Result<FuaFlags> {
        // A write is as durable as RAM gets once it returns.
        Ok(FuaFlags::Native)
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<()> {
        let from = match check(buf.len(), offset) {
            Some(from) => from,
            None => return beyond_the_end(offset),
        };
        // SAFETY: `check` made sure `from` has `buf.len()` bytes of the
        // disk behind it; they may race with a concurrent write, as in
        // the C plugin (see the module documentation).
        unsafe { ptr::copy_nonoverlapping(from, buf.as_mut_ptr(), buf.len()) };
        Ok(())
    }

    /// What nbdkit calls (listed in `plugin!`): the copy straight into
    /// the buffer nbdkit passed, which the C plugin's pread does too,
    /// without the SDK zeroing it first for `read_at`.
    fn read_at_uninit(&self, buf: &mut [MaybeUninit<u8>], offset: u64) -> Result<()> {
        let from = match check(buf.len(), offset) {
            Some(from) => from,
            None => return beyond_the_end(offset),
        };
        // SAFETY: as in read_at; every byte of `buf` is written, and
        // MaybeUninit<u8> has the layout of u8.
        unsafe { ptr::copy_nonoverlapping(from, buf.as_mut_ptr().cast::<u8>(), buf.len()) };
        Ok(())
    }

    fn write_at(&self, buf: &[u8], offset: u64, _flags: Flags) -> Result<()> {
        let to = match check(buf.len(), offset) {
            Some(to) => to,
            None => return beyond_the_end(offset),
        };
        // SAFETY: as in read_at.
        unsafe { ptr::copy_nonoverlapping(buf.as_ptr(), to, buf.len()) };
        Ok(())
    }

    fn flush(&self) -> Result<()> {
        Ok(())
    }

    fn trim(&self, count: u32, offset: u64, _flags: Flags) -> Result<()> {
        let to = match check(count as usize, offset) {
            Some(to) => to,
            None => return beyond_the_end(offset),
        };
        // SAFETY: as in read_at.
        unsafe { ptr::write_bytes(to, 0, count as usize) };
        Ok(())
    }

    fn zero(&self, count: u32, offset: u64, _flags: Flags) -> Result<()> {
        let to = match check(count as usize, offset) {
            Some(to) => to,
            None => return beyond_the_end(offset),
        };
        // SAFETY: as in read_at.
        unsafe { ptr::write_bytes(to, 0, count as usize) };
        Ok(())
    }
}

/// `plugin!` with the callbacks every build lists, and `$read`: the
/// benchmark's own build takes the buffer as it is (`read_at_uninit`);
/// the `zeroed` feature leaves that out, so that the SDK zeroes the
/// buffer before `read_at`, which bench/run measures as rust-zeroed.
macro_rules! register {
    ($($read:ident)?) => {
        plugin!(RamDisk {
            $($read,)?
            config,
            config_complete,
            unload,
            can_multi_conn,
            can_fua,
            write_at,
            flush,
            trim,
            zero,
        });
    };
}

#[cfg(not(feature = "zeroed"))]
register!(read_at_uninit);
#[cfg(feature = "zeroed")]
register!();
