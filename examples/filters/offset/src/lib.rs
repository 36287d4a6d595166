// SPDX-License-Identifier: BSD-2-Clause
//! offset: serve a byte range of the layer below, a Rust port of
//! nbdkit's offset filter (`nbdkit-offset-filter(1)`).
//!
//! ```text
//! cargo build --release -p filter-offset
//! nbdkit --filter=rust file disk.img \
//!     rust-filter=./target/release/libfilter_offset.so offset=1M range=100M
//! ```
//!
//! The client sees the bytes `[offset, offset + range)` of the layer
//! below as a disk of `range` bytes; every request is moved up by
//! `offset`, and block status (extents) is moved back down.
//!
//! Parameters (the same keys as the C filter; any other key passes on
//! to the next layer):
//!
//! * `offset=SIZE`: the first byte served (default 0).
//! * `range=SIZE`: how many bytes to serve (default: from `offset` to
//!   the end of the layer below).
//!
//! As with the C filter, a window that does not fit inside the layer
//! below is an error when a client connects (the size query fails), not
//! at start-up: the size below is not known before that.
//!
//! Everything the filter does not change passes straight through:
//! nbdkit answers `can_*`, block size, flush and the export description
//! from the layer below, and flags such as FUA, MAY_TRIM and FAST_ZERO
//! go down with each request unchanged.

use std::mem::MaybeUninit;
use std::sync::{Mutex, PoisonError};

use nbdkit::*;

/// The window the filter serves: what `offset=` and `range=` say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Window {
    offset: u64,
    /// `None` until `range=` is given: serve to the end of the layer below.
    range: Option<u64>,
}

impl Window {
    /// The window of a filter given neither key.
    const WHOLE: Window = Window {
        offset: 0,
        range: None,
    };

    /// The size the client sees, given the size of the layer below, or
    /// why the window does not fit in it.
    fn size(&self, real_size: u64) -> Result<u64> {
        match self.range {
            // Both are sizes nbdkit parsed, at most 2^63 - 1: no overflow.
            Some(range) if self.offset + range > real_size => Err(Error::new(
                errno::EINVAL,
                format!(
                    "offset+range ({}+{}) is larger than the real size ({}) \
                         of the underlying file or device",
                    self.offset, range, real_size
                ),
            )),
            Some(range) => Ok(range),
            None if self.offset > real_size => Err(Error::new(
                errno::EINVAL,
                format!(
                    "offset ({}) is larger than the real size ({}) \
                     of the underlying file or device",
                    self.offset, real_size
                ),
            )),
            None => Ok(real_size - self.offset),
        }
    }
}

/// `offset=` and `range=`, set by `config`.  Every connection takes a
/// copy when it opens.
static WINDOW: Mutex<Window> = Mutex::new(Window::WHOLE);

fn window() -> std::sync::MutexGuard<'static, Window> {
    WINDOW.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One connection: the window it serves.
struct Offset {
    window: Window,
}

impl Offset {
    /// Where a client offset lies in the layer below.  nbdkit has
    /// checked the request against the size `get_size` gave, which fits
    /// below, so this cannot overflow.
    fn below(&self, offset: u64) -> u64 {
        offset + self.window.offset
    }
}

impl Filter for Offset {
    fn name() -> &'static str {
        "offset"
    }

    fn longname() -> Option<&'static str> {
        Some("nbdkit offset filter")
    }

    fn version() -> Option<&'static str> {
        Some(env!("CARGO_PKG_VERSION"))
    }

    fn config_help() -> Option<&'static str> {
        Some(
            "offset=<OFFSET>            The start offset to serve (default 0).\n\
             range=<LENGTH>             The total size to serve (default rest of file).",
        )
    }

    fn config(next: &NextConfig, key: &str, value: &str) -> Result<()> {
        match key {
            // nbdkit's parser logs why a value is no size, and refuses
            // negative sizes.
            "offset" => window().offset = parse_size(value)? as u64,
            "range" => window().range = Some(parse_size(value)? as u64),
            _ => return next.config(key, value),
        }
        Ok(())
    }

    fn unload() {
        // nbdkit exits right after; a test binary loads the filter again
        // and must start from the defaults.
        *window() = Window::WHOLE;
    }

    fn open(
        _next: &mut NextOpen,
        _readonly: bool,
        _export_name: &str,
        _is_tls: bool,
    ) -> Result<Box<dyn Filter>> {
        Ok(Box::new(Offset { window: *window() }))
    }

    fn get_size(&self, next: &Next) -> Result<u64> {
        self.window.size(next.get_size()?)
    }

    /// Reads go to the layer below's buffer-filling read directly: this
    /// layer writes no byte itself, so the SDK need not zero the buffer.
    fn read_at_uninit(
        &self,
        next: &Next,
        buf: &mut [MaybeUninit<u8>],
        offset: u64,
        flags: Flags,
    ) -> Result<()> {
        next.read_at_uninit(buf, self.below(offset), flags)?;
        Ok(())
    }

    fn write_at(&self, next: &Next, buf: &[u8], offset: u64, flags: Flags) -> Result<()> {
        next.write_at(buf, self.below(offset), flags)
    }

    fn trim(&self, next: &Next, count: u32, offset: u64, flags: Flags) -> Result<()> {
        next.trim(count, self.below(offset), flags)
    }

    fn zero(&self, next: &Next, count: u32, offset: u64, flags: Flags) -> Result<()> {
        next.zero(count, self.below(offset), flags)
    }

    fn cache(&self, next: &Next, count: u32, offset: u64, flags: Flags) -> Result<()> {
        next.cache(count, self.below(offset), flags)
    }

    fn extents(
        &self,
        next: &Next,
        count: u32,
        offset: u64,
        flags: Flags,
        extents: &mut ExtentHandle,
    ) -> Result<()> {
        // Ask the layer below about the same bytes, keeping what it
        // reports past the window out of the list (as the C filter does,
        // the end of the window is only computed from the layer below
        // when range= was not given).
        let start = self.below(offset);
        let end = match self.window.range {
            Some(range) => self.window.offset + range,
            None => next.get_size()?,
        };
        let mut below = Extents::new(start, end)?;
        next.extents(count, start, flags, &mut below)?;
        for (offset, length, kind) in below.iter() {
            extents.add(offset - self.window.offset, length, kind)?;
        }
        Ok(())
    }
}

// Only what the C filter implements: nbdkit passes everything else
// (flush, every can_*, block_size, export_description, ...) straight
// through to the layer below.
filter!(Offset {
    config,
    unload,
    get_size,
    read_at_uninit,
    write_at,
    trim,
    zero,
    cache,
    extents,
});

#[cfg(test)]
mod tests {
    use super::*;
    use nbdkit::testing::{FilterHarness, NextCall, NextOp};

    /// A harness over a disk of `size` bytes whose byte `i` is `i % 251`.
    fn harness(size: usize) -> FilterHarness<Offset> {
        let t = FilterHarness::<Offset>::new();
        t.backend()
            .set_data((0..size).map(|i| (i % 251) as u8).collect());
        t
    }

    #[test]
    fn serves_the_window() -> Result<()> {
        let t = harness(8192);
        t.config("offset", "1k")?;
        t.config("range", "2k")?;
        let c = t.open(false)?;
        assert_eq!(c.get_size()?, 2048);
        let data = c.assert_pread_fills(16, 100)?;
        let want: Vec<u8> = (1124..1140).map(|i| (i % 251) as u8).collect();
        assert_eq!(data, want);
        Ok(())
    }

    #[test]
    fn without_range_serves_to_the_end() -> Result<()> {
        let t = harness(8192);
        t.config("offset", "1000")?;
        assert_eq!(t.open(false)?.get_size()?, 7192);
        Ok(())
    }

    #[test]
    fn without_keys_serves_everything() -> Result<()> {
        let t = harness(8192);
        assert_eq!(t.open(false)?.get_size()?, 8192);
        Ok(())
    }

    #[test]
    fn every_request_moves_up_with_its_flags() -> Result<()> {
        let t = harness(8192);
        t.config("offset", "4096")?;
        let c = t.open(false)?;
        t.backend().take_calls();
        c.pwrite(b"abc", 10, Flags::FUA)?;
        c.trim(512, 512, Flags::FUA)?;
        c.zero(512, 1024, Flags::MAY_TRIM | Flags::FAST_ZERO)?;
        c.cache(512, 0, Flags::empty())?;
        c.flush(Flags::empty())?;
        let mut buf = [0u8; 3];
        c.pread(&mut buf, 10, Flags::empty())?;
        assert_eq!(&buf, b"abc");
        assert_eq!(&t.backend().data()[4106..4109], b"abc");
        assert_eq!(
            t.backend().calls(),
            vec![
                NextCall::Pwrite {
                    count: 3,
                    offset: 4106,
                    flags: Flags::FUA
                },
                NextCall::Trim {
                    count: 512,
                    offset: 4608,
                    flags: Flags::FUA
                },
                NextCall::Zero {
                    count: 512,
                    offset: 5120,
                    flags: Flags::MAY_TRIM | Flags::FAST_ZERO
                },
                NextCall::Cache {
                    count: 512,
                    offset: 4096,
                    flags: Flags::empty()
                },
                // flush is not the filter's: it passes straight through.
                NextCall::Flush {
                    flags: Flags::empty()
                },
                NextCall::Pread {
                    count: 3,
                    offset: 4106,
                    flags: Flags::empty()
                },
            ]
        );
        Ok(())
    }

    #[test]
    fn a_window_past_the_end_fails_the_size_query() {
        {
            let t = harness(8192);
            t.config("offset", "7k").unwrap();
            t.config("range", "2k").unwrap();
            let e = t.open(false).and_then(|c| c.get_size()).unwrap_err();
            assert_eq!(
                e.to_string(),
                "offset+range (7168+2048) is larger than the real size (8192) \
                 of the underlying file or device"
            );
        }
        let t = harness(8192);
        t.config("offset", "9k").unwrap();
        let e = t.open(false).and_then(|c| c.get_size()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "offset (9216) is larger than the real size (8192) \
             of the underlying file or device"
        );
    }

    #[test]
    fn the_window_may_end_at_the_end() -> Result<()> {
        {
            let t = harness(8192);
            t.config("offset", "8192")?;
            assert_eq!(t.open(false)?.get_size()?, 0);
        }
        let t = harness(8192);
        t.config("offset", "6k")?;
        t.config("range", "2k")?;
        assert_eq!(t.open(false)?.get_size()?, 2048);
        Ok(())
    }

    #[test]
    fn extents_move_down_and_stop_at_the_window() -> Result<()> {
        let t = harness(8192);
        t.backend().set_extents(vec![
            (0, 1024, ExtentType::Allocated),
            (1024, 2048, ExtentType::HoleZero),
            (3072, 4096, ExtentType::Zero),
            (7168, 1024, ExtentType::Allocated),
        ]);
        t.config("offset", "512")?;
        t.config("range", "4k")?;
        let c = t.open(false)?;
        assert_eq!(
            c.extents(4096, 0, Flags::empty())?,
            vec![
                (0, 512, ExtentType::Allocated),
                (512, 2048, ExtentType::HoleZero),
                (2560, 1536, ExtentType::Zero),
            ]
        );
        assert_eq!(
            c.extents(1024, 1024, Flags::REQ_ONE)?,
            // (The harness's list ends where the request does.)
            vec![(1024, 1024, ExtentType::HoleZero)]
        );
        assert!(t.backend().calls().contains(&NextCall::Extents {
            count: 1024,
            offset: 1536,
            flags: Flags::REQ_ONE
        }));
        Ok(())
    }

    #[test]
    fn queries_pass_straight_through() -> Result<()> {
        let t = harness(8192);
        t.backend().set_can_trim(false);
        t.backend().set_block_size((512, 4096, 65536));
        t.backend().set_export_description(Some("below"));
        t.config("offset", "1k")?;
        let c = t.open(false)?;
        assert!(!c.can_trim()?);
        assert!(c.can_write()? && c.can_multi_conn()?);
        assert_eq!(c.block_size()?, (512, 4096, 65536));
        assert_eq!(c.export_description()?, Some("below".to_string()));
        Ok(())
    }

    #[test]
    fn failures_below_reach_the_client_with_their_errno() -> Result<()> {
        let t = harness(8192);
        t.config("offset", "1k")?;
        let c = t.open(false)?;
        t.backend().fail(NextOp::Zero, errno::ENOSPC);
        let e = c.zero(512, 0, Flags::empty()).unwrap_err();
        assert_eq!(e.errno(), errno::ENOSPC);
        // Logged once, by the layer below.
        assert_eq!(t.errors().len(), 1, "{:?}", t.errors());
        Ok(())
    }

    #[test]
    fn keys_are_parsed_as_nbdkit_sizes_and_others_pass_on() {
        let t = harness(8192);
        assert!(t.config("offset", "lots").is_err());
        assert!(t.config("range", "-1").is_err());
        t.config("file", "disk.img").unwrap();
        assert!(t.backend().calls().contains(&NextCall::Config {
            key: "file".into(),
            value: "disk.img".into()
        }));
    }
}
