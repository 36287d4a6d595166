// SPDX-License-Identifier: BSD-2-Clause
//! ramdisk: a sparse RAM disk, shared by every connection.
//!
//! ```text
//! cargo build --release -p ramdisk
//! nbdkit rust ./target/release/libramdisk.so size=1G
//! nbdkit rust ./target/release/libramdisk.so 1G        # size is the magic key
//! ```
//!
//! The disk is `size` bytes of RAM that nobody has written yet: it is
//! cut into 64 KiB pages, and a page is only allocated when something
//! is first written to it, so `size=1G` costs no memory for data until
//! a client writes (the page table costs 32 bytes per page: 512 KiB for
//! 1 GiB).  Trimming or zeroing whole pages frees them again, and block
//! status (extents) reports never-written and freed pages as holes that
//! read as zeroes, written pages as data.
//!
//! Every page has its own read-write lock: requests on different pages
//! never wait for each other, and reads of the same page run in parallel
//! too.  The page table itself never changes size, so finding a page
//! takes no lock.  That lets the plugin use nbdkit's parallel thread
//! model and allow multiple connections (they all see the same disk, so
//! a flush on one is trivially visible on all).
//!
//! Reads go to `read_at_uninit` (listed in `plugin!`), which writes
//! every byte of nbdkit's buffer with `nbdkit::uninit`, so the SDK need
//! not zero the buffer first as it does for `read_at`.
//!
//! Parameters:
//!
//! * `size=SIZE` (required): the disk size, e.g. `1G`, `512M`, `100000`
//!   (nbdkit's size syntax), at most 1 TiB.

use std::mem::MaybeUninit;
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use nbdkit::*;

/// The unit of allocation.
const PAGE_SIZE: usize = 64 * 1024;

/// The largest disk: its page table (32 bytes a page) is then 512 MiB.
const MAX_SIZE: u64 = 1 << 40;

/// One page: `None` until written (it reads as zeroes), then its bytes.
type Page = RwLock<Option<Box<[u8]>>>;

/// The disk all connections share.
struct Disk {
    size: u64,
    pages: Box<[Page]>,
}

/// The `size=` parameter, set by `config`.
static SIZE: Mutex<Option<u64>> = Mutex::new(None);

/// The disk, made by `config_complete`; every connection holds a
/// reference.
static DISK: Mutex<Option<Arc<Disk>>> = Mutex::new(None);

/// Lock a page for reading.  A panic while a page was locked cannot
/// leave it inconsistent (it is just bytes), so poisoning is ignored.
fn read(page: &Page) -> RwLockReadGuard<'_, Option<Box<[u8]>>> {
    page.read().unwrap_or_else(PoisonError::into_inner)
}

/// Lock a page for writing (see [`read`] for poisoning).
fn write(page: &Page) -> RwLockWriteGuard<'_, Option<Box<[u8]>>> {
    page.write().unwrap_or_else(PoisonError::into_inner)
}

/// A new page of zeroes (the allocator hands out zeroed memory cheaply).
fn new_page() -> Box<[u8]> {
    vec![0u8; PAGE_SIZE].into_boxed_slice()
}

/// The pieces of a request `[offset, offset + len)`, one per page it
/// touches: `(page number, offset in the page, length)`.
struct Pieces {
    offset: u64,
    remaining: u64,
}

impl Iterator for Pieces {
    type Item = (usize, usize, usize);

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        let page = (self.offset / PAGE_SIZE as u64) as usize;
        let in_page = (self.offset % PAGE_SIZE as u64) as usize;
        let len = self.remaining.min((PAGE_SIZE - in_page) as u64) as usize;
        self.offset += len as u64;
        self.remaining -= len as u64;
        Some((page, in_page, len))
    }
}

impl Disk {
    fn new(size: u64) -> Disk {
        let n = ((size + PAGE_SIZE as u64 - 1) / PAGE_SIZE as u64) as usize;
        let pages = (0..n).map(|_| RwLock::new(None)).collect();
        Disk { size, pages }
    }

    /// The pieces of `[offset, offset + len)`, which must lie inside the
    /// disk (nbdkit checks that for clients; this guards the plugin).
    fn pieces(&self, len: u64, offset: u64) -> Result<Pieces> {
        match offset.checked_add(len) {
            Some(end) if end <= self.size => Ok(Pieces {
                offset,
                remaining: len,
            }),
            _ => Err(Error::new(
                errno::EINVAL,
                format!(
                    "ramdisk: request beyond the end of the disk (offset {})",
                    offset
                ),
            )),
        }
    }

    /// Zero `[offset, offset + len)`.  Whole pages are freed if `punch`
    /// is set; otherwise every page of the range ends up allocated (the
    /// client asked that no hole be made).
    fn zero(&self, len: u64, offset: u64, punch: bool) -> Result<()> {
        for (n, start, len) in self.pieces(len, offset)? {
            let mut page = write(&self.pages[n]);
            if punch && len == PAGE_SIZE {
                *page = None;
            } else if punch {
                if let Some(data) = page.as_mut() {
                    data[start..start + len].fill(0);
                }
            } else {
                page.get_or_insert_with(new_page)[start..start + len].fill(0);
            }
        }
        Ok(())
    }
}

/// One connection: a reference to the shared disk.
struct RamDisk {
    disk: Arc<Disk>,
}

impl Server for RamDisk {
    fn name() -> &'static str {
        "ramdisk"
    }

    fn longname() -> Option<&'static str> {
        Some("nbdkit sparse RAM disk plugin (Rust)")
    }

    fn version() -> Option<&'static str> {
        Some(env!("CARGO_PKG_VERSION"))
    }

    fn description() -> Option<&'static str> {
        Some("A sparse RAM disk, allocated in 64 KiB pages as it is written.")
    }

    fn config_help() -> Option<&'static str> {
        Some("size=<SIZE>  (required) Size of the RAM disk, at most 1T.")
    }

    fn magic_config_key() -> Option<&'static str> {
        Some("size")
    }

    fn config(key: &str, value: &str) -> Result<()> {
        match key {
            "size" => {
                let size = parse_size(value)?;
                if size < 0 || size as u64 > MAX_SIZE {
                    return Err(Error::new(
                        errno::EINVAL,
                        format!("ramdisk: size={} is out of range (0 to 1T)", value),
                    ));
                }
                *SIZE.lock().unwrap_or_else(PoisonError::into_inner) = Some(size as u64);
                Ok(())
            }
            _ => Err(Error::new(
                errno::EINVAL,
                format!("ramdisk: unknown parameter '{}' (try size=SIZE)", key),
            )),
        }
    }

    fn config_complete() -> Result<()> {
        let size = SIZE
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .ok_or_else(|| {
                Error::new(
                    errno::EINVAL,
                    "ramdisk: the size=SIZE parameter is required",
                )
            })?;
        let disk = Disk::new(size);
        debug!(
            "ramdisk: {} bytes in {} pages of {}",
            size,
            disk.pages.len(),
            PAGE_SIZE
        );
        *DISK.lock().unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(disk));
        Ok(())
    }

    fn unload() {
        // Release the disk.  nbdkit exits right after, but a test binary
        // loads the plugin again and must start from no size.
        *DISK.lock().unwrap_or_else(PoisonError::into_inner) = None;
        *SIZE.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    fn dump_plugin() {
        println!("ramdisk_page_size={}", PAGE_SIZE);
        println!("ramdisk_max_size={}", MAX_SIZE);
    }

    fn thread_model() -> Result<ThreadModel> {
        Ok(ThreadModel::Parallel)
    }

    fn open(_readonly: bool) -> Result<Box<dyn Server>> {
        let disk = DISK
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or_else(|| Error::new(errno::EIO, "ramdisk: the disk was not created"))?;
        Ok(Box::new(RamDisk { disk }))
    }

    fn get_size(&self) -> Result<i64> {
        Ok(self.disk.size as i64)
    }

    fn can_multi_conn(&self) -> Result<bool> {
        // One disk for all connections, and nothing is cached.
        Ok(true)
    }

    fn can_fua(&self) -> Result<FuaFlags> {
        // Every write is as durable as RAM gets once it returns.
        Ok(FuaFlags::Native)
    }

    fn can_fast_zero(&self) -> Result<bool> {
        // Zeroing RAM (or dropping pages) is always faster than writing.
        Ok(true)
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<()> {
        let mut done = 0;
        for (n, start, len) in self.disk.pieces(buf.len() as u64, offset)? {
            let out = &mut buf[done..done + len];
            match &*read(&self.disk.pages[n]) {
                Some(data) => out.copy_from_slice(&data[start..start + len]),
                None => out.fill(0),
            }
            done += len;
        }
        Ok(())
    }

    /// What nbdkit calls (listed in `plugin!`): `read_at` without the
    /// SDK zeroing the buffer first, since every byte is written here
    /// anyway, with `nbdkit::uninit`.
    fn read_at_uninit(&self, buf: &mut [MaybeUninit<u8>], offset: u64) -> Result<()> {
        let mut done = 0;
        for (n, start, len) in self.disk.pieces(buf.len() as u64, offset)? {
            let out = &mut buf[done..done + len];
            match &*read(&self.disk.pages[n]) {
                Some(data) => {
                    uninit::write(out, &data[start..start + len]);
                }
                None => {
                    uninit::fill(out, 0);
                }
            }
            done += len;
        }
        Ok(())
    }

    fn write_at(&self, buf: &[u8], offset: u64, _flags: Flags) -> Result<()> {
        let mut done = 0;
        for (n, start, len) in self.disk.pieces(buf.len() as u64, offset)? {
            let mut page = write(&self.disk.pages[n]);
            page.get_or_insert_with(new_page)[start..start + len]
                .copy_from_slice(&buf[done..done + len]);
            done += len;
        }
        Ok(())
    }

    fn flush(&self) -> Result<()> {
        Ok(())
    }

    fn trim(&self, count: u32, offset: u64, _flags: Flags) -> Result<()> {
        // Trimmed data reads back as zeroes, so extents can call it a hole.
        self.disk.zero(count.into(), offset, true)
    }

    fn zero(&self, count: u32, offset: u64, flags: Flags) -> Result<()> {
        // FAST_ZERO needs nothing special: this is always fast.
        self.disk
            .zero(count.into(), offset, flags.contains(Flags::MAY_TRIM))
    }

    fn extents(
        &self,
        count: u32,
        offset: u64,
        flags: Flags,
        extent_handle: &mut ExtentHandle,
    ) -> Result<()> {
        // Runs of pages of one kind, reported from `offset` on.
        let mut run: Option<(u64, bool)> = None;
        let mut pos = offset;
        for (n, _, len) in self.disk.pieces(count.into(), offset)? {
            let allocated = read(&self.disk.pages[n]).is_some();
            match run {
                Some((start, kind)) if kind != allocated => {
                    extent_handle.add(start, pos - start, extent_type(kind))?;
                    if flags.contains(Flags::REQ_ONE) {
                        return Ok(());
                    }
                    run = Some((pos, allocated));
                }
                Some(_) => {}
                None => run = Some((pos, allocated)),
            }
            pos += len as u64;
        }
        if let Some((start, kind)) = run {
            extent_handle.add(start, pos - start, extent_type(kind))?;
        }
        Ok(())
    }
}

fn extent_type(allocated: bool) -> ExtentType {
    if allocated {
        ExtentType::Allocated
    } else {
        ExtentType::HoleZero
    }
}

plugin!(RamDisk {
    read_at_uninit,
    config,
    config_complete,
    unload,
    dump_plugin,
    thread_model,
    can_multi_conn,
    can_fua,
    can_fast_zero,
    write_at,
    flush,
    trim,
    zero,
    extents,
});

#[cfg(test)]
mod tests {
    use super::*;

    fn disk(size: u64) -> RamDisk {
        RamDisk {
            disk: Arc::new(Disk::new(size)),
        }
    }

    fn allocated(d: &RamDisk) -> Vec<bool> {
        d.disk.pages.iter().map(|p| read(p).is_some()).collect()
    }

    #[test]
    fn pieces_split_at_page_boundaries() {
        let p: Vec<_> = Pieces {
            offset: PAGE_SIZE as u64 - 10,
            remaining: PAGE_SIZE as u64 + 20,
        }
        .collect();
        assert_eq!(
            p,
            vec![(0, PAGE_SIZE - 10, 10), (1, 0, PAGE_SIZE), (2, 0, 10)]
        );
    }

    #[test]
    fn unwritten_disk_reads_zeroes_and_allocates_nothing() {
        let d = disk(1 << 30);
        let mut buf = vec![1u8; 4096];
        d.read_at(&mut buf, 12345).unwrap();
        assert!(buf.iter().all(|&b| b == 0));
        assert!(allocated(&d).iter().all(|a| !a));
    }

    #[test]
    fn writes_read_back_across_pages() {
        let d = disk(4 * PAGE_SIZE as u64);
        let data: Vec<u8> = (0..PAGE_SIZE + 100).map(|i| i as u8).collect();
        let offset = PAGE_SIZE as u64 - 50;
        d.write_at(&data, offset, Flags::empty()).unwrap();
        let mut back = vec![0u8; data.len()];
        d.read_at(&mut back, offset).unwrap();
        assert_eq!(back, data);
        assert_eq!(allocated(&d), vec![true, true, true, false]);
    }

    #[test]
    fn zero_frees_whole_pages_only_with_may_trim() {
        let d = disk(3 * PAGE_SIZE as u64);
        d.write_at(&vec![7u8; 3 * PAGE_SIZE], 0, Flags::empty())
            .unwrap();
        // Without MAY_TRIM the pages stay allocated.
        d.zero(PAGE_SIZE as u32, 0, Flags::empty()).unwrap();
        assert_eq!(allocated(&d), vec![true, true, true]);
        // With it, whole pages go; a partial page is zeroed in place.
        d.zero(PAGE_SIZE as u32 + 10, PAGE_SIZE as u64, Flags::MAY_TRIM)
            .unwrap();
        assert_eq!(allocated(&d), vec![true, false, true]);
        let mut buf = vec![1u8; 3 * PAGE_SIZE];
        d.read_at(&mut buf, 0).unwrap();
        assert!(buf[..2 * PAGE_SIZE + 10].iter().all(|&b| b == 0));
        assert!(buf[2 * PAGE_SIZE + 10..].iter().all(|&b| b == 7));
        // Zeroing a hole without MAY_TRIM allocates it.
        d.zero(10, PAGE_SIZE as u64, Flags::empty()).unwrap();
        assert_eq!(allocated(&d), vec![true, true, true]);
    }

    #[test]
    fn trim_frees_pages() {
        let d = disk(2 * PAGE_SIZE as u64);
        d.write_at(&vec![7u8; 2 * PAGE_SIZE], 0, Flags::empty())
            .unwrap();
        d.trim(2 * PAGE_SIZE as u32, 0, Flags::empty()).unwrap();
        assert_eq!(allocated(&d), vec![false, false]);
    }

    #[test]
    fn requests_beyond_the_end_fail() {
        let d = disk(PAGE_SIZE as u64);
        let mut buf = [0u8; 2];
        assert_eq!(
            d.read_at(&mut buf, PAGE_SIZE as u64 - 1)
                .unwrap_err()
                .errno(),
            errno::EINVAL
        );
        assert!(d.write_at(&buf, u64::MAX, Flags::empty()).is_err());
    }

    #[test]
    fn size_of_a_page_slot() {
        // What the documentation says the page table costs.
        assert!(std::mem::size_of::<Page>() <= 32);
    }

    // The plugin as nbdkit runs it: through the descriptor plugin!
    // made, with nbdkit::testing standing in for nbdkit.

    use nbdkit::testing::Harness;

    #[test]
    fn serves_what_was_written_and_reports_holes() -> Result<()> {
        let t = Harness::<RamDisk>::new();
        t.config("size", "1M")?;
        let c = t.open(false)?;
        assert_eq!(c.get_size()?, 1 << 20);
        assert!(c.can_write()? && c.can_trim()? && c.can_zero()? && c.can_extents()?);
        assert!(c.can_multi_conn()?);
        assert_eq!(c.can_fua()?, FuaFlags::Native);
        c.pwrite(b"hello", PAGE_SIZE as u64 + 10, Flags::FUA)?;
        let mut buf = [0u8; 5];
        c.pread(&mut buf, PAGE_SIZE as u64 + 10)?;
        assert_eq!(&buf, b"hello");
        let p = PAGE_SIZE as u64;
        assert_eq!(
            c.extents(3 * PAGE_SIZE as u32, 0, Flags::empty())?,
            vec![
                (0, p, ExtentType::HoleZero),
                (p, p, ExtentType::Allocated),
                (2 * p, p, ExtentType::HoleZero),
            ]
        );
        // Zeroing with MAY_TRIM frees the page again.
        c.zero(PAGE_SIZE as u32, p, Flags::MAY_TRIM)?;
        assert_eq!(
            c.extents(3 * PAGE_SIZE as u32, 0, Flags::empty())?,
            vec![(0, 3 * p, ExtentType::HoleZero)]
        );
        c.flush()?;
        assert_eq!(
            t.debug_messages(),
            vec![format!(
                "ramdisk: 1048576 bytes in 16 pages of {}",
                PAGE_SIZE
            )]
        );
        assert!(t.errors().is_empty());
        Ok(())
    }

    #[test]
    fn connections_share_the_disk_and_drop_their_reference() -> Result<()> {
        let t = Harness::<RamDisk>::new();
        t.config("size", "128K")?;
        let disk = || DISK.lock().unwrap().clone().unwrap();
        let a = t.open(false)?;
        let b = t.open(true)?;
        a.pwrite(&[7; 512], 0, Flags::empty())?;
        let mut buf = [0u8; 512];
        b.pread(&mut buf, 0)?;
        assert_eq!(buf, [7; 512]);
        // The static, each connection, and `disk()`'s own copy.
        assert_eq!(Arc::strong_count(&disk()), 4);
        drop(a);
        assert_eq!(Arc::strong_count(&disk()), 3);
        b.close()?;
        assert_eq!(Arc::strong_count(&disk()), 2);
        assert_eq!(t.open_connections(), 0);
        Ok(())
    }

    #[test]
    fn bad_parameters_are_refused_as_nbdkit_would_show_them() {
        let t = Harness::<RamDisk>::new();
        let e = t.config("size", "2T").unwrap_err();
        assert_eq!(e.errno(), errno::EINVAL);
        assert_eq!(e.to_string(), "ramdisk: size=2T is out of range (0 to 1T)");
        let e = t.config("size", "lots").unwrap_err();
        assert_eq!(e.errno(), errno::EINVAL);
        let e = t.config("colour", "blue").unwrap_err();
        assert!(e.to_string().contains("unknown parameter 'colour'"));
        // No valid size was given.
        let e = t.open(false).unwrap_err();
        assert_eq!(
            e.to_string(),
            "ramdisk: the size=SIZE parameter is required"
        );
        // One each: nbdkit's parser logged why "lots" is no size.
        assert_eq!(t.errors().len(), 4, "{:?}", t.errors());
    }

    #[test]
    fn reads_write_every_byte_of_the_buffer() -> Result<()> {
        let t = Harness::<RamDisk>::new();
        t.config("size", "256K")?;
        let c = t.open(false)?;
        c.pwrite(&[9; 100], PAGE_SIZE as u64 - 50, Flags::empty())?;
        // Across a hole, written data and another hole.
        let data = c.assert_pread_fills(3 * PAGE_SIZE as u32, 0)?;
        assert!(data[..PAGE_SIZE - 50].iter().all(|&b| b == 0));
        assert_eq!(data[PAGE_SIZE - 50..PAGE_SIZE + 50], [9; 100]);
        assert!(data[PAGE_SIZE + 50..].iter().all(|&b| b == 0));
        Ok(())
    }

    #[test]
    fn requests_beyond_the_end_fail_with_einval() -> Result<()> {
        let t = Harness::<RamDisk>::new();
        t.config("size", "64K")?;
        let c = t.open(false)?;
        let e = c.pread(&mut [0u8; 2], PAGE_SIZE as u64 - 1).unwrap_err();
        assert_eq!(e.errno(), errno::EINVAL);
        assert_eq!(
            t.errors(),
            vec!["ramdisk: request beyond the end of the disk (offset 65535)"]
        );
        Ok(())
    }
}
