// SPDX-License-Identifier: BSD-2-Clause
//! The overlay: a deleted temporary file holding the blocks written so
//! far, and the map of which blocks it holds.  It works on whole blocks
//! only; the filter turns partial blocks into read-modify-write.
//!
//! One overlay serves every connection (they all see the same disk).
//! The map has its own lock, held only to look at or change it: a read
//! may return a block's old data while another thread writes it, but a
//! read sent after a write returned sees that write.

use std::fs::{File, OpenOptions};
use std::io;
use std::mem::MaybeUninit;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;
use std::process;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use nbdkit::*;

use crate::blocks::{BlockMap, State};

/// What a cache request does with a block the overlay does not hold
/// (nbdkit's cow filter's cache modes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheMode {
    /// Nothing (the layer below cannot cache).
    Ignore,
    /// Ask the layer below to cache it.
    Passthrough,
    /// Read it from the layer below and drop the data.
    Read,
    /// Read it from the layer below and keep it in the overlay
    /// (`cow-on-cache=true`).
    Copy,
}

/// A buffer [`Overlay::read`] fills: initialised bytes (`[u8]`), or
/// memory that need not be (`[MaybeUninit<u8>]`, the buffer of
/// `read_at_uninit`), which is then read into without being zeroed
/// first wherever the data allows.  Every method writes every byte of
/// the buffer it is called on.
pub trait ReadBuf {
    fn len(&self) -> usize;

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The buffer cut in two at `at`.
    fn split(&mut self, at: usize) -> (&mut Self, &mut Self);

    /// Fill the buffer from `src`, which is as long.
    fn copy_from(&mut self, src: &[u8]);

    /// Fill the buffer from the layer below at `offset`.
    fn read_below(&mut self, next: &Next, offset: u64) -> Result<&mut [u8]>;

    /// Fill the buffer with zeroes.
    fn zeroes(&mut self) -> &mut [u8];

    /// The buffer as bytes to read a file into: as it is, or zeroed
    /// if it need not be initialised (std reads files into `[u8]` only).
    fn for_file(&mut self) -> &mut [u8];
}

impl ReadBuf for [u8] {
    fn len(&self) -> usize {
        <[u8]>::len(self)
    }

    fn split(&mut self, at: usize) -> (&mut Self, &mut Self) {
        self.split_at_mut(at)
    }

    fn copy_from(&mut self, src: &[u8]) {
        self.copy_from_slice(src);
    }

    fn read_below(&mut self, next: &Next, offset: u64) -> Result<&mut [u8]> {
        next.read_at(self, offset, Flags::empty())?;
        Ok(self)
    }

    fn zeroes(&mut self) -> &mut [u8] {
        self.fill(0);
        self
    }

    fn for_file(&mut self) -> &mut [u8] {
        self
    }
}

impl ReadBuf for [MaybeUninit<u8>] {
    fn len(&self) -> usize {
        <[MaybeUninit<u8>]>::len(self)
    }

    fn split(&mut self, at: usize) -> (&mut Self, &mut Self) {
        self.split_at_mut(at)
    }

    fn copy_from(&mut self, src: &[u8]) {
        uninit::write(self, src);
    }

    fn read_below(&mut self, next: &Next, offset: u64) -> Result<&mut [u8]> {
        next.read_at_uninit(self, offset, Flags::empty())
    }

    fn zeroes(&mut self) -> &mut [u8] {
        uninit::fill(self, 0)
    }

    fn for_file(&mut self) -> &mut [u8] {
        uninit::fill(self, 0)
    }
}

/// The map and the disk size it was made for.
#[derive(Debug, Default)]
struct Map {
    blocks: BlockMap,
    /// The size of the layer below: the last block may be partial.
    size: u64,
}

/// The overlay file and its block map.
#[derive(Debug)]
pub struct Overlay {
    file: File,
    block_size: u64,
    map: Mutex<Map>,
}

/// An I/O error on the overlay file, as nbdkit's filter reports it
/// ("pwrite: No space left on device"): the client gets its errno.
fn io_error(what: &str, e: io::Error) -> Error {
    Error::new(
        e.raw_os_error().unwrap_or(errno::EIO),
        format!("{}: {}", what, strerror(&e)),
    )
}

/// `e` as C's `%m` prints it: without std's " (os error N)".
pub fn strerror(e: &io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Tells apart the overlays one process creates.
static CREATED: AtomicU32 = AtomicU32::new(0);

impl Overlay {
    /// A new empty overlay of blocks of `block_size` bytes, in a file
    /// created in `dir` and unlinked at once, so that it vanishes with
    /// the process.
    pub fn create(dir: &Path, block_size: u64) -> io::Result<Overlay> {
        let file = loop {
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0);
            let name = dir.join(format!(
                "nbdkit-cow-{}-{}-{}",
                process::id(),
                CREATED.fetch_add(1, Ordering::Relaxed),
                nanos
            ));
            // std opens with O_CLOEXEC: nothing nbdkit runs inherits it.
            match OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&name)
            {
                Ok(file) => {
                    std::fs::remove_file(&name)?;
                    break file;
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        };
        Ok(Overlay {
            file,
            block_size,
            map: Mutex::default(),
        })
    }

    /// The block size.
    pub fn block_size(&self) -> u64 {
        self.block_size
    }

    fn map(&self) -> MutexGuard<'_, Map> {
        // The map is valid after any panic: every change is one store.
        self.map.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Size the overlay for a disk of `size` bytes (the last block may
    /// be partial), keeping what it holds.
    pub fn set_size(&self, size: u64) -> Result<()> {
        let mut map = self.map();
        map.size = size;
        let blocks = (size + self.block_size - 1) / self.block_size;
        map.blocks.resize(blocks);
        self.file
            .set_len(blocks * self.block_size)
            .map_err(|e| io_error("ftruncate", e))
    }

    /// Whether block `n` is in the overlay, and whether it was trimmed.
    pub fn status(&self, n: u64) -> State {
        self.map().blocks.get(n)
    }

    /// Read the whole blocks from `first` into `buf` (a multiple of the
    /// block size): from the overlay, as zeroes for trimmed blocks, or
    /// from the layer below, which `copy` then saves in the overlay
    /// (cow-on-read).  Past the end of the disk, a partial last block
    /// reads as zeroes.  Every byte of `buf` is written.
    pub fn read<B: ReadBuf + ?Sized>(
        &self,
        next: &Next,
        first: u64,
        buf: &mut B,
        copy: bool,
    ) -> Result<()> {
        let bs = self.block_size as usize;
        let mut n = first;
        let mut rest = buf;
        while !rest.is_empty() {
            // Serve a run of blocks in the same state with one call.
            let ((state, run), size) = {
                let map = self.map();
                (map.blocks.run(n, (rest.len() / bs) as u64), map.size)
            };
            let (chunk, after) = rest.split(run as usize * bs);
            let offset = n * self.block_size;
            match state {
                State::Absent => {
                    let within = size.saturating_sub(offset).min(chunk.len() as u64) as usize;
                    let (data, past_end) = chunk.split(within);
                    let data = data.read_below(next, offset)?;
                    let past_end = past_end.zeroes();
                    if copy {
                        self.file
                            .write_all_at(data, offset)
                            .and_then(|()| self.file.write_all_at(past_end, offset + within as u64))
                            .map_err(|e| io_error("pwrite", e))?;
                        let mut map = self.map();
                        for b in n..n + run {
                            map.blocks.set(b, State::Allocated);
                        }
                    }
                }
                State::Allocated => self
                    .file
                    .read_exact_at(chunk.for_file(), offset)
                    .map_err(|e| io_error("pread", e))?,
                State::Trimmed => {
                    chunk.zeroes();
                }
            }
            n += run;
            rest = after;
        }
        Ok(())
    }

    /// Write block `n` (`data` is one whole block) to the overlay.
    pub fn write(&self, n: u64, data: &[u8]) -> Result<()> {
        self.file
            .write_all_at(data, n * self.block_size)
            .map_err(|e| io_error("pwrite", e))?;
        self.map().blocks.set(n, State::Allocated);
        Ok(())
    }

    /// Trim block `n`: it reads as zeroes from now on.  (Its old data
    /// stays in the file, unused.)
    pub fn trim(&self, n: u64) {
        self.map().blocks.set(n, State::Trimmed);
    }

    /// Cache block `n` as `mode` says, unless the overlay holds it
    /// already.  The map stays locked throughout, as in nbdkit's filter.
    pub fn cache(&self, next: &Next, n: u64, mode: CacheMode) -> Result<()> {
        let mut map = self.map();
        let offset = n * self.block_size;
        let within = map.size.saturating_sub(offset).min(self.block_size);
        match (map.blocks.get(n), mode) {
            // nbdkit's filter advises the kernel to read allocated
            // blocks ahead (posix_fadvise), which std cannot: a hint only.
            (State::Allocated, _) | (State::Trimmed, _) | (State::Absent, CacheMode::Ignore) => {
                Ok(())
            }
            (State::Absent, CacheMode::Passthrough) => {
                next.cache(within as u32, offset, Flags::empty())
            }
            (State::Absent, CacheMode::Read) | (State::Absent, CacheMode::Copy) => {
                let mut block = vec![0; self.block_size as usize];
                next.read_at(&mut block[..within as usize], offset, Flags::empty())?;
                if mode == CacheMode::Copy {
                    self.file
                        .write_all_at(&block, offset)
                        .map_err(|e| io_error("pwrite", e))?;
                    map.blocks.set(n, State::Allocated);
                }
                Ok(())
            }
        }
    }
}
