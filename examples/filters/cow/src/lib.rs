// SPDX-License-Identifier: BSD-2-Clause
//! filter-cow: a copy-on-write overlay, a Rust port of nbdkit 1.32's
//! cow filter (`man nbdkit-cow-filter`).
//!
//! ```text
//! cargo build --release -p filter-cow
//! nbdkit --filter=rust file disk.img rust-filter=./target/release/libfilter_cow.so
//! ```
//!
//! The layer below is opened read-only and never written: writes, trims
//! and zeroes land in an overlay, a temporary file in `$TMPDIR` (else
//! `/var/tmp`) that is unlinked as soon as it is created, so everything
//! written vanishes when nbdkit exits.  The disk is cut into blocks
//! (64 KiB by default); a block map says for each one whether the
//! overlay holds it, whether it was trimmed (it reads as zeroes), or
//! neither (it reads through to the layer below).  A write of part of a
//! block reads the whole block, changes it and writes it to the overlay
//! (read-modify-write, serialised by one lock for all connections).
//!
//! As the C filter does, it always allows writes (even over a read-only
//! plugin), trims, flushes (which do nothing: the overlay is thrown away
//! anyway), FUA (ignored, for the same reason), block status (the
//! overlay's blocks, and the layer below's extents for the others),
//! cache and multiple connections (all connections share the overlay).
//! Zeroes are written as blocks of zeroes; a fast zero always fails
//! with `ENOTSUP`.  Zero support itself is what the layer below,
//! opened read-only, answers: nbdkit 1.32 does not advertise it.
//!
//! Parameters:
//!
//! * `cow-block-size=N`: the block size, a power of 2 from 4K to 2G;
//!   64K by default.
//! * `cow-on-read=BOOL|/PATH`: also keep the blocks read from the layer
//!   below in the overlay; with an absolute path, only while that path
//!   exists.  Off by default.
//! * `cow-on-cache=BOOL`: keep the blocks of cache (prefetch) requests
//!   in the overlay.  Off by default.

mod blocks;
mod overlay;

use std::cell::RefCell;
use std::mem::MaybeUninit;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use nbdkit::*;

use blocks::State;
use overlay::{strerror, CacheMode, Overlay, ReadBuf};

/// Where the overlay goes when `$TMPDIR` is not set (nbdkit's
/// LARGE_TMPDIR).
const DEFAULT_TMPDIR: &str = "/var/tmp";

/// When to keep what is read from the layer below in the overlay.
#[derive(Clone, Debug, PartialEq, Eq)]
enum OnRead {
    Never,
    Always,
    /// While this path exists (checked at each request).
    WhileExists(PathBuf),
}

impl OnRead {
    fn now(&self) -> bool {
        match self {
            OnRead::Never => false,
            OnRead::Always => true,
            OnRead::WhileExists(path) => path.exists(),
        }
    }
}

/// The parameters.
#[derive(Debug)]
struct Config {
    block_size: u64,
    on_read: OnRead,
    on_cache: bool,
}

impl Config {
    /// The parameters of a filter given no key.
    const DEFAULT: Config = Config {
        block_size: 65536,
        on_read: OnRead::Never,
        on_cache: false,
    };
}

static CONFIG: Mutex<Config> = Mutex::new(Config::DEFAULT);

/// The overlay every connection shares, created by `get_ready`.
static OVERLAY: Mutex<Option<Arc<Overlay>>> = Mutex::new(None);

/// Held over each read-modify-write of a partial block, so that two of
/// them on the same block cannot lose one another's change.
static RMW: Mutex<()> = Mutex::new(());

/// Lock one of the statics.  They hold plain values that a panic
/// cannot leave half-changed, so poisoning is ignored.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Blocks up to this size are read and changed in a buffer each thread
/// keeps ([`with_block`]); larger ones in a new one each time.
const KEPT_BLOCK_MAX: usize = 1 << 20;

thread_local! {
    /// The block buffer of [`with_block`] on this thread.
    static BLOCK: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Run `f` on a buffer of `bs` bytes of no particular contents, for a
/// block that `f` reads in whole before it uses it (as C's unzeroed
/// malloc).  The buffer is this thread's, zeroed once and reused, so
/// that a partial-block request does not zero a whole block each time.
fn with_block<R>(bs: usize, f: impl FnOnce(&mut [u8]) -> R) -> R {
    if bs > KEPT_BLOCK_MAX {
        return f(&mut vec![0; bs]);
    }
    BLOCK.with(|block| {
        let mut block = block.borrow_mut();
        if block.len() != bs {
            *block = vec![0; bs];
        }
        f(&mut block)
    })
}

/// A request `[offset, offset + count)` cut at block boundaries: a
/// partial head block, whole blocks, a partial tail block.
#[derive(Debug, PartialEq, Eq)]
struct Span {
    /// The first block, if the request starts inside it: the block,
    /// where the request starts in it, and how many of its bytes it
    /// covers.
    head: Option<(u64, usize, usize)>,
    /// The first whole block and how many whole blocks follow.
    body: (u64, u64),
    /// The last block, if the request ends inside it: the block and how
    /// many of its bytes (from its start) the request covers.
    tail: Option<(u64, usize)>,
}

impl Span {
    fn new(offset: u64, count: u64, block_size: u64) -> Span {
        let mut block = offset / block_size;
        let start = offset % block_size;
        let mut count = count;
        let head = if start != 0 {
            let len = count.min(block_size - start);
            count -= len;
            block += 1;
            Some((block - 1, start as usize, len as usize))
        } else {
            None
        };
        let body = (block, count / block_size);
        let rest = count % block_size;
        let tail = (rest != 0).then_some((block + body.1, rest as usize));
        Span { head, body, tail }
    }

    /// How many bytes of the request the head covers.
    fn head_len(&self) -> usize {
        self.head.map_or(0, |(_, _, len)| len)
    }
}

/// One connection: the shared overlay and the parameters.
struct Cow {
    overlay: Arc<Overlay>,
    on_read: OnRead,
    on_cache: bool,
}

impl Cow {
    fn block_size(&self) -> u64 {
        self.overlay.block_size()
    }

    /// Read-modify-write: read block `n`, let `change` change `len`
    /// bytes of it from `start`, write it to the overlay.
    fn modify<F>(&self, next: &Next, n: u64, start: usize, len: usize, change: F) -> Result<()>
    where
        F: FnOnce(&mut [u8]),
    {
        with_block(self.block_size() as usize, |block| {
            let _rmw = lock(&RMW);
            self.overlay.read(next, n, block, self.on_read.now())?;
            change(&mut block[start..start + len]);
            self.overlay.write(n, block)
        })
    }

    /// Read `buf.len()` bytes at `offset`: whole blocks straight into
    /// `buf`, partial ones through a block buffer.  Every byte of `buf`
    /// is written.
    fn read_into<B: ReadBuf + ?Sized>(&self, next: &Next, buf: &mut B, offset: u64) -> Result<()> {
        let span = Span::new(offset, buf.len() as u64, self.block_size());
        let bs = self.block_size() as usize;
        let on_read = self.on_read.now();
        let (head, rest) = buf.split(span.head_len());
        let (body, tail) = rest.split(span.body.1 as usize * bs);
        if let Some((n, start, len)) = span.head {
            with_block(bs, |block| -> Result<()> {
                self.overlay.read(next, n, block, on_read)?;
                head.copy_from(&block[start..start + len]);
                Ok(())
            })?;
        }
        self.overlay.read(next, span.body.0, body, on_read)?;
        if let Some((n, len)) = span.tail {
            with_block(bs, |block| -> Result<()> {
                self.overlay.read(next, n, block, on_read)?;
                tail.copy_from(&block[..len]);
                Ok(())
            })?;
        }
        Ok(())
    }

    /// Write zeroes over `len` bytes from `start` of block `n` (the
    /// partial blocks of trim and zero).
    fn zero_partial(&self, next: &Next, n: u64, start: usize, len: usize) -> Result<()> {
        self.modify(next, n, start, len, |b| b.fill(0))
    }
}

impl Filter for Cow {
    fn name() -> &'static str {
        "cow"
    }

    fn longname() -> Option<&'static str> {
        Some("nbdkit copy-on-write (COW) filter (Rust)")
    }

    fn version() -> Option<&'static str> {
        Some(env!("CARGO_PKG_VERSION"))
    }

    fn config_help() -> Option<&'static str> {
        Some(
            "cow-block-size=<N>       Set COW block size.\n\
             cow-on-cache=<BOOL>      Copy cache (prefetch) requests to the overlay.\n\
             cow-on-read=<BOOL>|/PATH Copy read requests to the overlay.",
        )
    }

    fn config(next: &NextConfig, key: &str, value: &str) -> Result<()> {
        match key {
            "cow-block-size" => {
                let size = parse_size(value)?;
                if size < 4096 || size > i64::from(u32::MAX) || !(size as u64).is_power_of_two() {
                    return Err(Error::new(
                        errno::EINVAL,
                        "cow-block-size is out of range (4096..2G) or not a power of 2",
                    ));
                }
                lock(&CONFIG).block_size = size as u64;
            }
            "cow-on-cache" => lock(&CONFIG).on_cache = parse_bool(value)?,
            "cow-on-read" => {
                lock(&CONFIG).on_read = if value.starts_with('/') {
                    OnRead::WhileExists(PathBuf::from(value))
                } else if parse_bool(value)? {
                    OnRead::Always
                } else {
                    OnRead::Never
                };
            }
            _ => return next.config(key, value),
        }
        Ok(())
    }

    fn get_ready(_model: ThreadModel) -> Result<()> {
        let dir = std::env::var_os("TMPDIR").unwrap_or_else(|| DEFAULT_TMPDIR.into());
        let dir = Path::new(&dir);
        debug!("cow: temporary directory for overlay: {}", dir.display());
        let overlay = Overlay::create(dir, lock(&CONFIG).block_size).map_err(|e| {
            Error::new(
                e.raw_os_error().unwrap_or(errno::EIO),
                format!(
                    "cannot create the overlay in {}: {}",
                    dir.display(),
                    strerror(&e)
                ),
            )
        })?;
        *lock(&OVERLAY) = Some(Arc::new(overlay));
        Ok(())
    }

    fn unload() {
        // Closes the overlay once no connection uses it.  nbdkit exits
        // right after; a test binary loads the filter again and must
        // start from the defaults.
        *lock(&OVERLAY) = None;
        *lock(&CONFIG) = Config::DEFAULT;
    }

    fn open(
        next: &mut NextOpen,
        _readonly: bool,
        export_name: &str,
        _is_tls: bool,
    ) -> Result<Box<dyn Filter>> {
        // The layer below is never written.
        next.open(true, export_name)?;
        let overlay = lock(&OVERLAY)
            .clone()
            .ok_or_else(|| Error::new(errno::EIO, "cow: the overlay was not created"))?;
        let config = lock(&CONFIG);
        Ok(Box::new(Cow {
            overlay,
            on_read: config.on_read.clone(),
            on_cache: config.on_cache,
        }))
    }

    fn prepare(&self, next: &Next, _readonly: bool) -> Result<()> {
        // Size the overlay before any request comes.
        self.get_size(next).map(|_| ())
    }

    fn get_size(&self, next: &Next) -> Result<u64> {
        let size = next.get_size()?;
        debug!("cow: underlying file size: {}", size);
        self.overlay.set_size(size)?;
        Ok(size)
    }

    fn block_size(&self, next: &Next) -> Result<(u32, u32, u32)> {
        let (minimum, preferred, maximum) = next.block_size()?;
        let bs = self.block_size() as u32;
        Ok(if minimum == 0 {
            // The layer below set no constraints.
            (1, bs, u32::MAX)
        } else if maximum >= bs {
            (minimum, preferred.max(bs), maximum)
        } else {
            (minimum, preferred, maximum)
        })
    }

    fn can_write(&self, _next: &Next) -> Result<bool> {
        Ok(true)
    }

    fn can_flush(&self, _next: &Next) -> Result<bool> {
        Ok(true)
    }

    fn can_trim(&self, _next: &Next) -> Result<bool> {
        Ok(true)
    }

    fn can_extents(&self, _next: &Next) -> Result<bool> {
        Ok(true)
    }

    fn can_fua(&self, _next: &Next) -> Result<FuaFlags> {
        // FUA is ignored: the overlay does not outlive nbdkit anyway.
        Ok(FuaFlags::Native)
    }

    fn can_cache(&self, next: &Next) -> Result<CacheFlags> {
        // Ask now, so that nbdkit knows the answer before cache needs it.
        next.can_cache()?;
        Ok(CacheFlags::Native)
    }

    fn can_multi_conn(&self, _next: &Next) -> Result<bool> {
        // All connections share the overlay.
        Ok(true)
    }

    fn can_fast_zero(&self, _next: &Next) -> Result<bool> {
        // Better to advertise it and fail every fast zero: zeroes are
        // written, which is never fast.
        Ok(true)
    }

    fn read_at(&self, next: &Next, buf: &mut [u8], offset: u64, _flags: Flags) -> Result<()> {
        self.read_into(next, buf, offset)
    }

    /// As `read_at`, which writes every byte of `buf`: the SDK need not
    /// zero it first, nor this filter the parts the layer below fills.
    fn read_at_uninit(
        &self,
        next: &Next,
        buf: &mut [MaybeUninit<u8>],
        offset: u64,
        _flags: Flags,
    ) -> Result<()> {
        self.read_into(next, buf, offset)
    }

    fn write_at(&self, next: &Next, buf: &[u8], offset: u64, _flags: Flags) -> Result<()> {
        let span = Span::new(offset, buf.len() as u64, self.block_size());
        let bs = self.block_size() as usize;
        let (head, rest) = buf.split_at(span.head_len());
        let (body, tail) = rest.split_at(span.body.1 as usize * bs);
        if let Some((n, start, len)) = span.head {
            self.modify(next, n, start, len, |b| b.copy_from_slice(head))?;
        }
        for (n, block) in (span.body.0..).zip(body.chunks(bs)) {
            self.overlay.write(n, block)?;
        }
        if let Some((n, len)) = span.tail {
            self.modify(next, n, 0, len, |b| b.copy_from_slice(tail))?;
        }
        Ok(())
    }

    fn zero(&self, next: &Next, count: u32, offset: u64, flags: Flags) -> Result<()> {
        if flags.contains(Flags::FAST_ZERO) {
            // Zeroes are written like data: never fast.
            return Err(Error::new(
                errno::ENOTSUP,
                "cow: fast zero is not supported",
            ));
        }
        let span = Span::new(offset, count.into(), self.block_size());
        if let Some((n, start, len)) = span.head {
            self.zero_partial(next, n, start, len)?;
        }
        let zeroes = vec![0; self.block_size() as usize];
        let (first, blocks) = span.body;
        for n in first..first + blocks {
            self.overlay.write(n, &zeroes)?;
        }
        if let Some((n, len)) = span.tail {
            self.zero_partial(next, n, 0, len)?;
        }
        Ok(())
    }

    fn trim(&self, next: &Next, count: u32, offset: u64, _flags: Flags) -> Result<()> {
        let span = Span::new(offset, count.into(), self.block_size());
        if let Some((n, start, len)) = span.head {
            self.zero_partial(next, n, start, len)?;
        }
        let (first, blocks) = span.body;
        for n in first..first + blocks {
            self.overlay.trim(n);
        }
        if let Some((n, len)) = span.tail {
            self.zero_partial(next, n, 0, len)?;
        }
        Ok(())
    }

    fn flush(&self, _next: &Next, _flags: Flags) -> Result<()> {
        // The overlay is thrown away at exit: nothing to make durable.
        Ok(())
    }

    fn cache(&self, next: &Next, count: u32, offset: u64, _flags: Flags) -> Result<()> {
        let mode = if self.on_cache {
            CacheMode::Copy
        } else {
            match next.can_cache()? {
                CacheFlags::None => CacheMode::Ignore,
                CacheFlags::Emulate => CacheMode::Read,
                CacheFlags::Native => CacheMode::Passthrough,
            }
        };
        // Every block the request touches.
        let bs = self.block_size();
        let first = offset / bs;
        let end = (offset + u64::from(count) + bs - 1) / bs;
        for n in first..end {
            self.overlay.cache(next, n, mode)?;
        }
        Ok(())
    }

    fn extents(
        &self,
        next: &Next,
        count: u32,
        offset: u64,
        flags: Flags,
        extents: &mut ExtentHandle,
    ) -> Result<()> {
        let below_has_extents = next.can_extents()?;
        let bs = self.block_size();
        // Whole blocks, from the one the request starts in.
        let mut n = offset / bs;
        let end = (offset + u64::from(count) + bs - 1) / bs;
        while n < end {
            let state = self.overlay.status(n);
            if state != State::Absent || !below_has_extents {
                // A block of the overlay, or one the layer below cannot
                // describe: data.
                let kind = if state == State::Trimmed {
                    ExtentType::HoleZero
                } else {
                    ExtentType::Allocated
                };
                extents.add(n * bs, bs, kind)?;
                n += 1;
            } else {
                // Ask the layer below about the run of blocks the
                // overlay does not hold, in one request that fits in
                // 32 bits (less than 4G), and not past its end.
                let first = n;
                let most = u64::from(u32::MAX) / bs;
                n += 1;
                while n < end && n - first < most && self.overlay.status(n) == State::Absent {
                    n += 1;
                }
                let start = first * bs;
                let len = (n * bs).min(next.get_size()?) - start;
                for (o, l, t) in &next.extents_full(len as u32, start, flags)? {
                    extents.add(o, l, t)?;
                }
            }
            // The first block gave at least one extent covering the
            // start of the request: that is all REQ_ONE asks for.
            if flags.contains(Flags::REQ_ONE) {
                break;
            }
        }
        Ok(())
    }
}

filter!(Cow {
    longname,
    version,
    config_help,
    config,
    get_ready,
    unload,
    prepare,
    get_size,
    block_size,
    can_write,
    can_flush,
    can_trim,
    can_extents,
    can_fua,
    can_cache,
    can_multi_conn,
    can_fast_zero,
    read_at_uninit,
    write_at,
    zero,
    trim,
    flush,
    cache,
    extents
});

#[cfg(test)]
mod tests;
