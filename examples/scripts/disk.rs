#!/usr/bin/nbdkit rust
// SPDX-License-Identifier: BSD-2-Clause
//! disk.rs: a sparse RAM disk, as a plugin script.
//!
//! ```text
//! nbdkit rust ./disk.rs size=1G        # compiled on first use, then cached
//! ./disk.rs size=1G                    # the same, through the #! line
//! nbdkit rust ./disk.rs --dump-plugin  # the source, the cached build, the compiler
//! ```
//!
//! The `#!` line above is Debian's nbdkit, /usr/bin/nbdkit; on Fedora
//! it is `#!/usr/sbin/nbdkit rust`.  The loader compiles this file
//! with rustc against the `nbdkit` crate (no Cargo.toml, no cargo) and
//! keeps the build in ~/.cache/nbdkit-rust, so only the first start and
//! the first start after an edit pay for the compiler.
//!
//! The disk is `size` bytes that read as zeroes until written.  Memory
//! is taken in 64 KiB pages, when a page is first written; trimming or
//! zeroing a whole page gives it back, and block status reports the
//! pages never written (or given back) as holes.  Every connection sees
//! the same disk.  Requests run in parallel: reads share a lock on the
//! page table, and a write holds it only while it copies its data.
//!
//! Parameters:
//!
//! * `size=SIZE` (required, the magic key: `./disk.rs 1G` works too):
//!   the size, in nbdkit's syntax (`1G`, `512M`, `100000`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use nbdkit::*;

/// The unit of allocation.
const PAGE_SIZE: u64 = 64 * 1024;

/// The largest disk this plugin accepts.
const MAX_SIZE: i64 = 1 << 40;

/// The written pages, by page number; a page not here reads as zeroes.
type Pages = HashMap<u64, Box<[u8]>>;

/// The disk every connection shares.
struct Disk {
    size: u64,
    pages: RwLock<Pages>,
}

/// `size=`, from `config`.
static SIZE: Mutex<Option<u64>> = Mutex::new(None);

/// The disk, made by `config_complete`.
static DISK: Mutex<Option<Arc<Disk>>> = Mutex::new(None);

impl Disk {
    /// The page table for reading.  A panic cannot leave it half
    /// updated (it is a map of byte arrays), so poisoning is ignored.
    fn read(&self) -> RwLockReadGuard<'_, Pages> {
        self.pages.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Pages> {
        self.pages.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Calls `f(page, offset in page, offset in the request, length)`
    /// for each page that `[offset, offset + len)` touches.
    fn for_pages(
        &self,
        len: u64,
        offset: u64,
        mut f: impl FnMut(u64, usize, usize, usize),
    ) -> Result<()> {
        match offset.checked_add(len) {
            Some(end) if end <= self.size => {}
            _ => {
                return Err(Error::new(
                    errno::EINVAL,
                    format!("disk.rs: request beyond the end (offset {})", offset),
                ))
            }
        }
        let mut done = 0;
        while done < len {
            let pos = offset + done;
            let in_page = pos % PAGE_SIZE;
            let n = (len - done).min(PAGE_SIZE - in_page);
            f(pos / PAGE_SIZE, in_page as usize, done as usize, n as usize);
            done += n;
        }
        Ok(())
    }

    /// Zeroes `[offset, offset + len)`: whole pages are given back,
    /// partial ones zeroed in place (a page never written is already
    /// zero).
    fn zero(&self, len: u64, offset: u64) -> Result<()> {
        let mut pages = self.write();
        self.for_pages(len, offset, |page, start, _, n| {
            if n as u64 == PAGE_SIZE {
                pages.remove(&page);
            } else if let Some(data) = pages.get_mut(&page) {
                data[start..start + n].fill(0);
            }
        })
    }
}

/// One connection.
struct RamDisk {
    disk: Arc<Disk>,
}

impl Server for RamDisk {
    fn name() -> &'static str {
        "disk"
    }

    fn version() -> Option<&'static str> {
        Some(env!("CARGO_PKG_VERSION"))
    }

    fn description() -> Option<&'static str> {
        Some("A sparse RAM disk, from a plugin script (examples/scripts/disk.rs).")
    }

    fn config_help() -> Option<&'static str> {
        Some("size=<SIZE>  (required) Size of the RAM disk, at most 1T.")
    }

    fn magic_config_key() -> Option<&'static str> {
        Some("size")
    }

    fn config(key: &str, value: &str) -> Result<()> {
        if key != "size" {
            return Err(Error::new(
                errno::EINVAL,
                format!("disk.rs: unknown parameter '{}' (try size=SIZE)", key),
            ));
        }
        let size = parse_size(value)?;
        if !(0..=MAX_SIZE).contains(&size) {
            return Err(Error::new(
                errno::EINVAL,
                format!("disk.rs: size={} is out of range (0 to 1T)", value),
            ));
        }
        *SIZE.lock().unwrap_or_else(PoisonError::into_inner) = Some(size as u64);
        Ok(())
    }

    fn config_complete() -> Result<()> {
        let size = SIZE
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .ok_or_else(|| Error::new(errno::EINVAL, "disk.rs: size=SIZE is required"))?;
        let disk = Disk {
            size,
            pages: RwLock::new(HashMap::new()),
        };
        *DISK.lock().unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(disk));
        debug!("disk.rs: {} bytes", size);
        Ok(())
    }

    fn unload() {
        *DISK.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    fn dump_plugin() {
        println!("disk_page_size={}", PAGE_SIZE);
    }

    fn thread_model() -> Result<ThreadModel> {
        Ok(ThreadModel::Parallel)
    }

    fn open(_readonly: bool) -> Result<Box<dyn Server>> {
        let disk = DISK.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let disk = disk.ok_or_else(|| Error::new(errno::EIO, "disk.rs: no disk"))?;
        Ok(Box::new(RamDisk { disk }))
    }

    fn get_size(&self) -> Result<i64> {
        Ok(self.disk.size as i64)
    }

    fn can_multi_conn(&self) -> Result<bool> {
        // One disk for every connection, and no cache to flush.
        Ok(true)
    }

    fn can_fua(&self) -> Result<FuaFlags> {
        Ok(FuaFlags::Native)
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<()> {
        let pages = self.disk.read();
        self.disk
            .for_pages(buf.len() as u64, offset, |page, start, at, n| {
                let out = &mut buf[at..at + n];
                match pages.get(&page) {
                    Some(data) => out.copy_from_slice(&data[start..start + n]),
                    None => out.fill(0),
                }
            })
    }

    fn write_at(&self, buf: &[u8], offset: u64, _flags: Flags) -> Result<()> {
        let mut pages = self.disk.write();
        self.disk
            .for_pages(buf.len() as u64, offset, |page, start, at, n| {
                let data = pages
                    .entry(page)
                    .or_insert_with(|| vec![0; PAGE_SIZE as usize].into_boxed_slice());
                data[start..start + n].copy_from_slice(&buf[at..at + n]);
            })
    }

    fn flush(&self) -> Result<()> {
        Ok(())
    }

    fn trim(&self, count: u32, offset: u64, _flags: Flags) -> Result<()> {
        self.disk.zero(count.into(), offset)
    }

    fn zero(&self, count: u32, offset: u64, _flags: Flags) -> Result<()> {
        // Giving pages back is always fast, so FAST_ZERO needs nothing.
        self.disk.zero(count.into(), offset)
    }

    fn extents(&self, count: u32, offset: u64, flags: Flags, h: &mut ExtentHandle) -> Result<()> {
        // Runs of written pages (data) and holes, from `offset` on.
        let pages = self.disk.read();
        let mut runs: Vec<(u64, u64, bool)> = Vec::new();
        self.disk
            .for_pages(count.into(), offset, |page, start, _, n| {
                let pos = page * PAGE_SIZE + start as u64;
                let data = pages.contains_key(&page);
                match runs.last_mut() {
                    Some(last) if last.2 == data => last.1 += n as u64,
                    _ => runs.push((pos, n as u64, data)),
                }
            })?;
        for (start, len, data) in runs {
            let kind = if data {
                ExtentType::Allocated
            } else {
                ExtentType::HoleZero
            };
            h.add(start, len, kind)?;
            if flags.contains(Flags::REQ_ONE) {
                break;
            }
        }
        Ok(())
    }
}

plugin!(RamDisk {
    config,
    config_complete,
    unload,
    dump_plugin,
    thread_model,
    can_multi_conn,
    can_fua,
    write_at,
    flush,
    trim,
    zero,
    extents,
});
