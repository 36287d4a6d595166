// SPDX-License-Identifier: BSD-2-Clause
//! swab: swap the byte order of the layer below, a Rust port of
//! nbdkit's swab filter (`nbdkit-swab-filter(1)`).
//!
//! ```text
//! cargo build --release -p filter-swab
//! nbdkit --filter=rust file disk.img \
//!     rust-filter=./target/release/libfilter_swab.so swab-bits=16
//! ```
//!
//! The disk is cut into words of `swab-bits` bits, and the bytes of each
//! word are reversed on the way up (reads) and on the way down (writes):
//! with the default of 16 bits, bytes 0 1 2 3 are served as 1 0 3 2.
//!
//! Parameters (the same key as the C filter; any other key passes on to
//! the next layer):
//!
//! * `swab-bits=8|16|32|64`: the word size (default 16); 8 turns the
//!   swapping off.
//!
//! As in the C filter:
//!
//! * The size is rounded down to a whole number of words.
//! * Every request (read, write, trim, zero, cache, block status) must
//!   start and end on a word boundary; others fail with `EINVAL`
//!   ("swab: requests to this filter must be aligned").  The filter says
//!   so in its block size constraints: the minimum is at least a word
//!   (with no constraints from below: a word, 512, 0xffffffff).
//! * Block status is kept to whole words, as nbdkit's
//!   `nbdkit_extents_aligned` does: see [`align_extents`].
//! * Everything else passes straight through: the `can_*` answers,
//!   flush, the export description, and the flags of each request.
//!
//! One difference: with `swab-bits=8` the C filter of nbdkit 1.32 writes
//! an uninitialised buffer in place of the client's data (it allocates
//! the copy to swap into, then swaps nothing into it); this port writes
//! the client's data unchanged, as "turns the filter off" promises.

use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicU32, Ordering};

use nbdkit::*;

/// `swab-bits=`, set by `config`.  Every connection takes a copy when it
/// opens.
static BITS: AtomicU32 = AtomicU32::new(DEFAULT_BITS);

const DEFAULT_BITS: u32 = 16;

/// One extent: its offset, its length and its kind.
type Extent = (u64, u64, ExtentType);

/// One connection: the word size in bytes.
struct Swab {
    word: u32,
}

impl Swab {
    /// A request that does not cover whole words is refused, as by the C
    /// filter (the blocksize filter above this one can split and widen
    /// requests when a client needs that).
    fn check_aligned(&self, count: u32, offset: u64) -> Result<()> {
        if count % self.word == 0 && offset % u64::from(self.word) == 0 {
            Ok(())
        } else {
            Err(Error::new(
                errno::EINVAL,
                "swab: requests to this filter must be aligned",
            ))
        }
    }

    /// Reverse the bytes of every word of `buf`, which holds whole words.
    ///
    /// One loop per word size, each word read as an integer, its bytes
    /// swapped and stored back: the compiler turns the loop into a few
    /// vector instructions per 16 or 32 bytes (`word.reverse()` costs
    /// about 20 instructions per 2-byte word).
    fn swap(&self, buf: &mut [u8]) {
        match self.word {
            2 => {
                for w in buf.chunks_exact_mut(2) {
                    let v = u16::from_ne_bytes([w[0], w[1]]).swap_bytes();
                    w.copy_from_slice(&v.to_ne_bytes());
                }
            }
            4 => {
                for w in buf.chunks_exact_mut(4) {
                    let v = u32::from_ne_bytes([w[0], w[1], w[2], w[3]]).swap_bytes();
                    w.copy_from_slice(&v.to_ne_bytes());
                }
            }
            8 => {
                for w in buf.chunks_exact_mut(8) {
                    let v = u64::from_ne_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]])
                        .swap_bytes();
                    w.copy_from_slice(&v.to_ne_bytes());
                }
            }
            // swab-bits=8: nothing to swap.
            _ => {}
        }
    }
}

impl Filter for Swab {
    fn name() -> &'static str {
        "swab"
    }

    fn longname() -> Option<&'static str> {
        Some("nbdkit byte-swapping filter")
    }

    fn version() -> Option<&'static str> {
        Some(env!("CARGO_PKG_VERSION"))
    }

    fn config_help() -> Option<&'static str> {
        Some("swab-bits=8|16|32|64       Size of byte swap (default 16).")
    }

    fn config(next: &NextConfig, key: &str, value: &str) -> Result<()> {
        if key != "swab-bits" {
            return next.config(key, value);
        }
        // nbdkit's parser logs why a value is no integer.
        match parse_int("swab-bits", value)? {
            bits @ (8 | 16 | 32 | 64) => {
                BITS.store(bits as u32, Ordering::Relaxed);
                Ok(())
            }
            _ => Err(Error::new(
                errno::EINVAL,
                "invalid swab-bits, must be 8, 16, 32 or 64",
            )),
        }
    }

    fn unload() {
        // nbdkit exits right after; a test binary loads the filter again
        // and must start from the default.
        BITS.store(DEFAULT_BITS, Ordering::Relaxed);
    }

    fn open(
        _next: &mut NextOpen,
        _readonly: bool,
        _export_name: &str,
        _is_tls: bool,
    ) -> Result<Box<dyn Filter>> {
        Ok(Box::new(Swab {
            word: BITS.load(Ordering::Relaxed) / 8,
        }))
    }

    /// The size below, rounded down to whole words: a partial word at the
    /// end could be neither swapped nor served.
    fn get_size(&self, next: &Next) -> Result<u64> {
        let size = next.get_size()?;
        Ok(size - size % u64::from(self.word))
    }

    fn block_size(&self, next: &Next) -> Result<(u32, u32, u32)> {
        let (minimum, preferred, maximum) = next.block_size()?;
        if minimum == 0 {
            // No constraints below: whole words, anything up to 4G.
            Ok((self.word, 512, u32::MAX))
        } else {
            Ok((minimum.max(self.word), preferred, maximum))
        }
    }

    /// The layer below fills the buffer, then the words are swapped in
    /// place: the SDK need not zero the buffer first.
    fn read_at_uninit(
        &self,
        next: &Next,
        buf: &mut [MaybeUninit<u8>],
        offset: u64,
        flags: Flags,
    ) -> Result<()> {
        self.check_aligned(buf.len() as u32, offset)?;
        let data = next.read_at_uninit(buf, offset, flags)?;
        self.swap(data);
        Ok(())
    }

    fn write_at(&self, next: &Next, buf: &[u8], offset: u64, flags: Flags) -> Result<()> {
        self.check_aligned(buf.len() as u32, offset)?;
        // The client's buffer is not ours to change: swap a copy (the C
        // filter too swaps into a bounce buffer it mallocs per write).
        let mut swapped = buf.to_vec();
        self.swap(&mut swapped);
        next.write_at(&swapped, offset, flags)
    }

    fn trim(&self, next: &Next, count: u32, offset: u64, flags: Flags) -> Result<()> {
        self.check_aligned(count, offset)?;
        next.trim(count, offset, flags)
    }

    fn zero(&self, next: &Next, count: u32, offset: u64, flags: Flags) -> Result<()> {
        self.check_aligned(count, offset)?;
        next.zero(count, offset, flags)
    }

    fn cache(&self, next: &Next, count: u32, offset: u64, flags: Flags) -> Result<()> {
        self.check_aligned(count, offset)?;
        next.cache(count, offset, flags)
    }

    fn extents(
        &self,
        next: &Next,
        count: u32,
        offset: u64,
        flags: Flags,
        extents: &mut ExtentHandle,
    ) -> Result<()> {
        self.check_aligned(count, offset)?;
        // The list nbdkit hands the outermost filter ends at the export
        // size; the layer below may report past it, which is cut off, as
        // it would be in that list.
        let end = self.get_size(next)?;
        let query = |count: u32, offset: u64, end: u64, flags: Flags| -> Result<Vec<Extent>> {
            let mut below = Extents::new(offset, end)?;
            next.extents(count, offset, flags, &mut below)?;
            Ok(below.iter().collect())
        };
        let word = self.word;
        let first = query(count, offset, end, flags)?;
        let aligned = align_extents(first, offset, word, |start, len| {
            // More of the first word: REQ_ONE would only slow this down.
            query(len, start, offset + u64::from(word), flags - Flags::REQ_ONE)
        })?;
        for (offset, length, kind) in aligned {
            extents.add(offset, length, kind)?;
        }
        Ok(())
    }
}

/// Make the extents the layer below reported for a request at `offset`
/// (a multiple of `align`) cover whole multiples of `align`, as nbdkit's
/// `nbdkit_extents_aligned` does for the C filter:
///
/// * the list is kept up to the first extent whose length is not a
///   multiple of `align`;
/// * if that extent ends past the first `align` bytes, it is cut down to
///   a multiple of `align` (and dropped if nothing is left), and the
///   extents after it are dropped: the client asks again from there;
/// * otherwise it is the first extent and shorter than `align`: it is
///   merged with the extents after it, asking the layer below for more
///   (`more(start, len)`) when the list runs out, until it covers `align`
///   bytes, and becomes the only extent: `align` bytes whose kind is
///   what all the merged extents have in common (hole and zero are
///   "safe when unset" bits, so the intersection is right).
fn align_extents(
    mut list: Vec<Extent>,
    offset: u64,
    align: u32,
    mut more: impl FnMut(u64, u32) -> Result<Vec<Extent>>,
) -> Result<Vec<Extent>> {
    let block = u64::from(align);
    let unaligned = match list.iter().position(|e| e.1 % block != 0) {
        Some(i) => i,
        None => return Ok(list),
    };
    let (start, length, kind) = list[unaligned];
    if start + length > offset + block {
        let length = length - length % block;
        list.truncate(unaligned);
        if length > 0 {
            list.push((start, length, kind));
        }
        return Ok(list);
    }

    // Only the first extent can end inside the first block (those before
    // an unaligned one are whole blocks): it is shorter than a block.
    let (mut length, mut kind) = (length, kind);
    let mut rest = list.split_off(1).into_iter();
    while length < block {
        match rest.next() {
            Some((_, more_length, more_kind)) => {
                length += more_length;
                kind = common_kind(kind, more_kind);
            }
            None => {
                rest = more(start + length, (block - length) as u32)?.into_iter();
                if rest.as_slice().is_empty() {
                    return Err(Error::new(
                        errno::EIO,
                        "swab: the layer below reported no extent",
                    ));
                }
            }
        }
    }
    Ok(vec![(start, block, kind)])
}

/// What two kinds of extent have in common: the bits set in both.
fn common_kind(a: ExtentType, b: ExtentType) -> ExtentType {
    match u32::from(a) & u32::from(b) {
        0 => ExtentType::Allocated,
        1 => ExtentType::Hole,
        2 => ExtentType::Zero,
        _ => ExtentType::HoleZero,
    }
}

// Only what the C filter implements: nbdkit passes everything else
// (flush, every can_*, export_description, ...) straight through.
filter!(Swab {
    config,
    unload,
    get_size,
    block_size,
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
    use nbdkit::testing::{FilterHarness, NextCall};

    use ExtentType::{Allocated, Hole, HoleZero, Zero};

    /// A harness over a disk of `size` bytes whose byte `i` is `i`
    /// (mod 256), with `swab-bits=bits` if given.
    fn harness(size: usize, bits: Option<&str>) -> FilterHarness<Swab> {
        let t = FilterHarness::<Swab>::new();
        t.backend().set_data((0..size).map(|i| i as u8).collect());
        if let Some(bits) = bits {
            t.config("swab-bits", bits).unwrap();
        }
        t
    }

    fn read(bits: Option<&str>, count: u32, offset: u64) -> Vec<u8> {
        let t = harness(4096, bits);
        let c = t.open(false).unwrap();
        c.assert_pread_fills(count, offset).unwrap()
    }

    #[test]
    fn reads_swap_the_bytes_of_each_word() {
        assert_eq!(read(None, 8, 8), [9, 8, 11, 10, 13, 12, 15, 14]);
        assert_eq!(read(Some("16"), 4, 0), [1, 0, 3, 2]);
        assert_eq!(read(Some("32"), 8, 4), [7, 6, 5, 4, 11, 10, 9, 8]);
        assert_eq!(read(Some("64"), 8, 8), [15, 14, 13, 12, 11, 10, 9, 8]);
        assert_eq!(read(Some("8"), 3, 5), [5, 6, 7]);
    }

    #[test]
    fn writes_are_swapped_on_the_way_down_with_their_flags() -> Result<()> {
        for (bits, want) in [
            ("8", [1u8, 2, 3, 4, 5, 6, 7, 8]),
            ("16", [2, 1, 4, 3, 6, 5, 8, 7]),
            ("32", [4, 3, 2, 1, 8, 7, 6, 5]),
            ("64", [8, 7, 6, 5, 4, 3, 2, 1]),
        ] {
            let t = harness(4096, Some(bits));
            let c = t.open(false)?;
            t.backend().take_calls();
            c.pwrite(&[1, 2, 3, 4, 5, 6, 7, 8], 16, Flags::FUA)?;
            assert_eq!(t.backend().data()[16..24], want, "swab-bits={}", bits);
            assert_eq!(
                t.backend().calls(),
                vec![NextCall::Pwrite {
                    count: 8,
                    offset: 16,
                    flags: Flags::FUA
                }]
            );
            // And back.
            let mut buf = [0u8; 8];
            c.pread(&mut buf, 16, Flags::empty())?;
            assert_eq!(buf, [1, 2, 3, 4, 5, 6, 7, 8]);
        }
        Ok(())
    }

    #[test]
    fn unaligned_requests_fail_with_einval_before_going_down() -> Result<()> {
        let t = harness(4096, Some("32"));
        let c = t.open(false)?;
        t.backend().take_calls();
        let mut buf = [0u8; 4];
        let failures = [
            c.pread(&mut buf, 2, Flags::empty()),
            c.pread(&mut buf[..2], 0, Flags::empty()),
            c.pwrite(&buf, 6, Flags::empty()),
            c.trim(4, 1, Flags::empty()),
            c.zero(6, 0, Flags::empty()),
            c.cache(4, 2, Flags::empty()),
            c.extents(4, 2, Flags::empty()).map(|_| ()),
        ];
        for e in failures {
            assert_eq!(e.unwrap_err().errno(), errno::EINVAL);
        }
        assert!(t.backend().calls().is_empty());
        assert_eq!(
            t.errors(),
            vec!["swab: requests to this filter must be aligned"; 7]
        );
        // Aligned ones go down unchanged.
        c.trim(8, 4, Flags::FUA)?;
        c.zero(4, 8, Flags::MAY_TRIM)?;
        c.cache(4, 12, Flags::empty())?;
        assert_eq!(
            t.backend().calls(),
            vec![
                NextCall::Trim {
                    count: 8,
                    offset: 4,
                    flags: Flags::FUA
                },
                NextCall::Zero {
                    count: 4,
                    offset: 8,
                    flags: Flags::MAY_TRIM
                },
                NextCall::Cache {
                    count: 4,
                    offset: 12,
                    flags: Flags::empty()
                },
            ]
        );
        Ok(())
    }

    #[test]
    fn the_size_is_rounded_down_to_whole_words() -> Result<()> {
        for (bits, size) in [("8", 1001), ("16", 1000), ("32", 1000), ("64", 1000)] {
            let t = harness(1001, Some(bits));
            assert_eq!(t.open(false)?.get_size()?, size, "swab-bits={}", bits);
        }
        Ok(())
    }

    #[test]
    fn block_size_asks_for_whole_words() -> Result<()> {
        {
            let t = harness(4096, Some("64"));
            assert_eq!(t.open(false)?.block_size()?, (8, 512, u32::MAX));
        }
        {
            let t = harness(4096, Some("8"));
            assert_eq!(t.open(false)?.block_size()?, (1, 512, u32::MAX));
        }
        {
            let t = harness(4096, Some("32"));
            t.backend().set_block_size((1, 4096, 65536));
            assert_eq!(t.open(false)?.block_size()?, (4, 4096, 65536));
        }
        let t = harness(4096, Some("16"));
        t.backend().set_block_size((512, 4096, 65536));
        assert_eq!(t.open(false)?.block_size()?, (512, 4096, 65536));
        Ok(())
    }

    #[test]
    fn bad_swab_bits_are_refused_as_the_c_filter_refuses_them() {
        let t = FilterHarness::<Swab>::new();
        let e = t.config("swab-bits", "12").unwrap_err();
        assert_eq!(e.errno(), errno::EINVAL);
        assert_eq!(e.to_string(), "invalid swab-bits, must be 8, 16, 32 or 64");
        // nbdkit's parser logs its own message.
        assert!(t.config("swab-bits", "sixteen").is_err());
        assert_eq!(t.errors().len(), 2, "{:?}", t.errors());
        // Other keys pass on.
        t.config("size", "1M").unwrap();
        assert!(t.backend().calls().contains(&NextCall::Config {
            key: "size".into(),
            value: "1M".into()
        }));
    }

    #[test]
    fn queries_pass_straight_through() -> Result<()> {
        let t = harness(4096, None);
        t.backend().set_can_flush(false);
        t.backend().set_can_fua(FuaFlags::Emulate);
        t.backend().set_export_description(Some("below"));
        let c = t.open(false)?;
        assert!(!c.can_flush()?);
        assert_eq!(c.can_fua()?, FuaFlags::Emulate);
        assert!(c.can_extents()?);
        assert_eq!(c.export_description()?, Some("below".to_string()));
        Ok(())
    }

    #[test]
    fn extents_are_whole_words() -> Result<()> {
        let t = harness(64, Some("64"));
        t.backend().set_extents(vec![
            (0, 3, HoleZero),
            (3, 2, HoleZero),
            (5, 1, Zero),
            (6, 2, HoleZero),
            (8, 8, Allocated),
            (16, 5, Allocated),
            (21, 27, HoleZero),
            (48, 16, Allocated),
        ]);
        let c = t.open(false)?;
        // The first word is zero, not a hole, as a whole.
        assert_eq!(c.extents(16, 0, Flags::empty())?, vec![(0, 8, Zero)]);
        // Cut down to whole words: 16..24 is data, the rest is asked again.
        assert_eq!(c.extents(48, 16, Flags::empty())?, vec![(16, 8, Allocated)]);
        assert_eq!(c.extents(24, 24, Flags::empty())?, vec![(24, 24, HoleZero)]);
        Ok(())
    }

    fn no_more(_: u64, _: u32) -> Result<Vec<Extent>> {
        panic!("asked the layer below for more")
    }

    #[test]
    fn aligned_extents_are_kept() -> Result<()> {
        let list = vec![(0, 8, Allocated), (8, 16, HoleZero)];
        assert_eq!(align_extents(list.clone(), 0, 8, no_more)?, list);
        Ok(())
    }

    #[test]
    fn an_unaligned_extent_past_the_first_block_is_cut_and_ends_the_list() -> Result<()> {
        let list = vec![(0, 8, Allocated), (8, 12, HoleZero), (20, 12, Zero)];
        assert_eq!(
            align_extents(list, 0, 8, no_more)?,
            vec![(0, 8, Allocated), (8, 8, HoleZero)]
        );
        // The first one, longer than a block.
        assert_eq!(
            align_extents(vec![(16, 13, Hole), (29, 3, Zero)], 16, 4, no_more)?,
            vec![(16, 12, Hole)]
        );
        // An extent cut down to nothing is dropped.
        assert_eq!(
            align_extents(vec![(0, 8, Zero), (8, 3, Hole)], 0, 8, no_more)?,
            vec![(0, 8, Zero)]
        );
        Ok(())
    }

    #[test]
    fn a_short_first_extent_is_merged_into_one_block() -> Result<()> {
        let list = vec![(0, 2, HoleZero), (2, 1, Hole), (3, 3, HoleZero)];
        assert_eq!(align_extents(list, 0, 4, no_more)?, vec![(0, 4, Hole)]);
        Ok(())
    }

    #[test]
    fn merging_asks_below_for_more_when_the_list_runs_out() -> Result<()> {
        let mut asked = Vec::new();
        let merged = align_extents(vec![(8, 3, HoleZero)], 8, 8, |start, len| {
            asked.push((start, len));
            Ok(if start == 11 {
                vec![(11, 2, Zero)]
            } else {
                vec![(13, 7, HoleZero)]
            })
        })?;
        assert_eq!(merged, vec![(8, 8, Zero)]);
        assert_eq!(asked, vec![(11, 5), (13, 3)]);
        Ok(())
    }

    #[test]
    fn the_common_kind_of_extents_is_the_bits_they_share() {
        assert_eq!(common_kind(HoleZero, Hole), Hole);
        assert_eq!(common_kind(HoleZero, Zero), Zero);
        assert_eq!(common_kind(Hole, Zero), Allocated);
        assert_eq!(common_kind(HoleZero, HoleZero), HoleZero);
    }
}
