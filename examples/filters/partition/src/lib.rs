// SPDX-License-Identifier: BSD-2-Clause
//! partition: serve one partition of the disk below, a Rust port of
//! nbdkit's partition filter (`nbdkit-partition-filter(1)`).
//!
//! ```text
//! cargo build --release -p filter-partition
//! nbdkit --filter=rust file disk.img \
//!     rust-filter=./target/release/libfilter_partition.so partition=1
//! ```
//!
//! When a client connects, the filter reads the partition table of the
//! layer below (GPT, or else MBR with its extended and logical
//! partitions) and finds partition `partition=N`; the client then sees
//! that partition as its whole disk.  Works like `qemu-nbd -P`.
//!
//! Parameters (the same key as the C filter; any other key passes on to
//! the next layer):
//!
//! * `partition=N` (required): the partition number, counting from 1;
//!   5 and up are MBR logical partitions.
//!
//! As in the C filter:
//!
//! * A disk is GPT if it is at least 34 KiB (2 × 34 sectors) and LBA 1
//!   starts with "EFI PART"; else MBR if LBA 0 ends in 0x55 0xAA; else the
//!   connection fails.  So does a missing partition or one that does not
//!   lie inside the disk, with the same messages as the C filter.
//! * The export description is "partition N of GPT|MBR disk: ..." around
//!   the description of the layer below, and none if that has none.
//! * Everything else passes straight through: the `can_*` answers, block
//!   size, flush, and the flags of each request.
//!
//! Differences, all on nonsensical input: a GPT entry whose LBAs
//! overflow 64-bit byte offsets (first LBA of 2^55 or more) is refused
//! as outside the disk, where the C filter's arithmetic wraps and may
//! serve some other range; entry offsets are computed in 64 bits (the C
//! filter's wrap past 4 GiB of partition array); and a partition number
//! of 2^31 or more is printed as given, where the C filter prints it as
//! a negative `int`.

use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};

use nbdkit::*;

mod gpt;
mod mbr;

/// Partition tables count in 512-byte sectors (LBAs).
const SECTOR_SIZE: u64 = 512;

/// `partition=`, set by `config`; 0 until it is given.
static PARTNUM: AtomicU32 = AtomicU32::new(0);

/// What the table parsers read the disk through: the layer below in the
/// filter, a byte vector in the tests.
trait Disk {
    /// Fill `buf` from `offset` on.
    fn read(&self, buf: &mut [u8], offset: u64) -> Result<()>;
}

impl Disk for Next {
    fn read(&self, buf: &mut [u8], offset: u64) -> Result<()> {
        self.read_at(buf, offset, Flags::empty())
    }
}

/// The little-endian `u32` at `at` in `bytes`.
fn le32(bytes: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(b)
}

/// The little-endian `u64` at `at` in `bytes`.
fn le64(bytes: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(b)
}

/// Why the disk cannot be served: the connection fails with this
/// message in the log.
fn refuse<E: Into<Box<dyn std::error::Error>>>(why: E) -> Error {
    Error::new(errno::EINVAL, why)
}

/// Where a partition table puts a partition, in bytes: wide enough that
/// no value from a table overflows it, so that a nonsensical entry makes
/// a span that [`Span::inside`] refuses rather than one that wraps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Span {
    start: i128,
    length: i128,
}

impl Span {
    fn new(start: u64, length: u64) -> Span {
        Span {
            start: start.into(),
            length: length.into(),
        }
    }

    /// The span of the sectors `first..=last`.
    fn from_lbas(first: u64, last: u64) -> Span {
        let sector = i128::from(SECTOR_SIZE);
        Span {
            start: i128::from(first) * sector,
            length: (i128::from(last) + 1 - i128::from(first)) * sector,
        }
    }

    /// The span as (offset, length), if it lies inside a disk of `size`
    /// bytes.
    fn inside(&self, size: u64) -> Option<(u64, u64)> {
        if self.start < 0 || self.length < 0 || self.start + self.length > i128::from(size) {
            None
        } else {
            Some((self.start as u64, self.length as u64))
        }
    }
}

/// The kinds of partition table the filter reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Table {
    Mbr,
    Gpt,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Mbr => "MBR",
            Table::Gpt => "GPT",
        }
    }
}

/// The partition a connection serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Found {
    table: Table,
    offset: u64,
    range: u64,
}

/// Find partition `partnum` (from 1) of the disk of `size` bytes.
fn locate(partnum: u32, size: u64, disk: &dyn Disk) -> Result<Found> {
    if size < 2 * SECTOR_SIZE {
        return Err(refuse("disk is too small to be a partitioned disk"));
    }
    debug!("disk size={}", size);

    let mut lba01 = [0u8; 2 * SECTOR_SIZE as usize];
    disk.read(&mut lba01, 0)?;
    let (mbr, header) = lba01.split_at(SECTOR_SIZE as usize);
    let (table, span) = if size >= 2 * 34 * SECTOR_SIZE && header.starts_with(b"EFI PART") {
        (Table::Gpt, gpt::find(partnum, size, header, disk)?)
    } else if mbr[0x1fe..] == [0x55, 0xaa] {
        (Table::Mbr, mbr::find(partnum, size, mbr, disk)?)
    } else {
        return Err(refuse(
            "disk does not contain MBR or GPT partition table signature",
        ));
    };
    let (offset, range) = span
        .inside(size)
        .ok_or_else(|| refuse("partition is outside the disk"))?;
    debug!("partition offset={} range={}", offset, range);
    Ok(Found {
        table,
        offset,
        range,
    })
}

/// One connection: the partition number it was opened with, and the
/// partition, found by `prepare` (nbdkit calls it once, before anything
/// else that uses the partition).  The partition is kept in atomics, not
/// behind a lock: each request reads it with three loads.
struct Partition {
    partnum: u32,
    /// [`NOT_FOUND`], or the table the partition was found in
    /// ([`table_code`]), stored after `offset` and `range` (release):
    /// a request that sees it sees them.
    table: AtomicU8,
    offset: AtomicU64,
    range: AtomicU64,
}

/// `Partition::table` before `prepare` found the partition.
const NOT_FOUND: u8 = 0;

/// The code of `table` in `Partition::table`.
fn table_code(table: Table) -> u8 {
    match table {
        Table::Mbr => 1,
        Table::Gpt => 2,
    }
}

impl Partition {
    fn set_found(&self, found: Found) {
        self.offset.store(found.offset, Ordering::Relaxed);
        self.range.store(found.range, Ordering::Relaxed);
        self.table.store(table_code(found.table), Ordering::Release);
    }

    #[inline]
    fn found(&self) -> Result<Found> {
        let table = match self.table.load(Ordering::Acquire) {
            NOT_FOUND => return Err(not_found()),
            1 => Table::Mbr,
            _ => Table::Gpt,
        };
        Ok(Found {
            table,
            offset: self.offset.load(Ordering::Relaxed),
            range: self.range.load(Ordering::Relaxed),
        })
    }
}

/// The error of a request before `prepare` found the partition.
#[cold]
fn not_found() -> Error {
    Error::new(errno::EIO, "partition: the partition has not been found")
}

impl Filter for Partition {
    fn name() -> &'static str {
        "partition"
    }

    fn longname() -> Option<&'static str> {
        Some("nbdkit partition filter")
    }

    fn version() -> Option<&'static str> {
        Some(env!("CARGO_PKG_VERSION"))
    }

    fn config_help() -> Option<&'static str> {
        Some("partition=<PART>    (required) The partition number (counting from 1).")
    }

    fn config(next: &NextConfig, key: &str, value: &str) -> Result<()> {
        if key != "partition" {
            return next.config(key, value);
        }
        // nbdkit's parser logs why a value is no number.
        match parse_unsigned("partition", value)? {
            0 => Err(refuse("invalid partition number")),
            partnum => {
                PARTNUM.store(partnum, Ordering::Relaxed);
                Ok(())
            }
        }
    }

    fn config_complete(next: &NextConfigComplete) -> Result<()> {
        if PARTNUM.load(Ordering::Relaxed) == 0 {
            return Err(refuse(
                "you must supply the partition parameter on the command line",
            ));
        }
        next.config_complete()
    }

    fn unload() {
        // nbdkit exits right after; a test binary loads the filter again
        // and must start with no partition number.
        PARTNUM.store(0, Ordering::Relaxed);
    }

    fn open(
        _next: &mut NextOpen,
        _readonly: bool,
        _export_name: &str,
        _is_tls: bool,
    ) -> Result<Box<dyn Filter>> {
        Ok(Box::new(Partition {
            partnum: PARTNUM.load(Ordering::Relaxed),
            table: AtomicU8::new(NOT_FOUND),
            offset: AtomicU64::new(0),
            range: AtomicU64::new(0),
        }))
    }

    fn prepare(&self, next: &Next, _readonly: bool) -> Result<()> {
        let found = locate(self.partnum, next.get_size()?, next)?;
        self.set_found(found);
        Ok(())
    }

    fn get_size(&self, _next: &Next) -> Result<u64> {
        Ok(self.found()?.range)
    }

    fn export_description(&self, next: &Next) -> Result<Option<String>> {
        // No description below (or a failure to get one, which nbdkit
        // cannot tell apart from none): none here either.
        let below = match next.export_description() {
            Ok(Some(below)) => below,
            _ => return Ok(None),
        };
        Ok(Some(format!(
            "partition {} of {} disk: {}",
            self.partnum,
            self.found()?.table.name(),
            below
        )))
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
        next.read_at_uninit(buf, self.found()?.offset + offset, flags)?;
        Ok(())
    }

    fn write_at(&self, next: &Next, buf: &[u8], offset: u64, flags: Flags) -> Result<()> {
        next.write_at(buf, self.found()?.offset + offset, flags)
    }

    fn trim(&self, next: &Next, count: u32, offset: u64, flags: Flags) -> Result<()> {
        next.trim(count, self.found()?.offset + offset, flags)
    }

    fn zero(&self, next: &Next, count: u32, offset: u64, flags: Flags) -> Result<()> {
        next.zero(count, self.found()?.offset + offset, flags)
    }

    fn cache(&self, next: &Next, count: u32, offset: u64, flags: Flags) -> Result<()> {
        next.cache(count, self.found()?.offset + offset, flags)
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
        // reports past the partition out of the list.
        let found = self.found()?;
        let start = found.offset + offset;
        let mut below = Extents::new(start, found.offset + found.range)?;
        next.extents(count, start, flags, &mut below)?;
        for (offset, length, kind) in below.iter() {
            extents.add(offset - found.offset, length, kind)?;
        }
        Ok(())
    }
}

// Only what the C filter implements: nbdkit passes everything else
// (flush, every can_*, block_size, ...) straight through.
filter!(Partition {
    config,
    config_complete,
    unload,
    prepare,
    get_size,
    export_description,
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

    const S: usize = SECTOR_SIZE as usize;

    /// A disk of `sectors` sectors whose sector `n` starts with the byte
    /// `n` (mod 256).
    fn blank(sectors: usize) -> Vec<u8> {
        let mut disk = vec![0u8; sectors * S];
        for n in 0..sectors {
            disk[n * S] = n as u8;
        }
        disk
    }

    /// Set entry `i` of the MBR or EBR in sector `sector`.
    fn mbr_entry(disk: &mut [u8], sector: usize, i: usize, kind: u8, start: u32, len: u32) {
        let e = sector * S + 0x1be + i * 16;
        disk[e + 4] = kind;
        disk[e + 8..e + 12].copy_from_slice(&start.to_le_bytes());
        disk[e + 12..e + 16].copy_from_slice(&len.to_le_bytes());
        disk[sector * S + 0x1fe] = 0x55;
        disk[sector * S + 0x1ff] = 0xaa;
    }

    /// 200 sectors: 1 = sectors 10-19, 2 = 20-24, 3 unused, 4 extended
    /// (40-139) holding 5 = 42-49 (EBR at 40) and 6 = 61-69 (EBR at 60).
    fn mbr_disk() -> Vec<u8> {
        let mut disk = blank(200);
        mbr_entry(&mut disk, 0, 0, 0x83, 10, 10);
        mbr_entry(&mut disk, 0, 1, 0x07, 20, 5);
        mbr_entry(&mut disk, 0, 3, 0x0f, 40, 100);
        mbr_entry(&mut disk, 40, 0, 0x83, 2, 8);
        mbr_entry(&mut disk, 40, 1, 0x05, 20, 30);
        mbr_entry(&mut disk, 60, 0, 0x83, 1, 9);
        disk
    }

    /// 100 sectors, 4 entries of `entry_size` bytes from LBA 2: 1 = 34-43,
    /// 2 unused, 3 = 50-59, 4 = 90-120 (past the end).
    fn gpt_disk(entry_size: u32) -> Vec<u8> {
        let mut disk = blank(100);
        disk[S..S + 8].copy_from_slice(b"EFI PART");
        disk[S + 80..S + 84].copy_from_slice(&4u32.to_le_bytes());
        disk[S + 84..S + 88].copy_from_slice(&entry_size.to_le_bytes());
        for (i, lbas) in [Some((34u64, 43u64)), None, Some((50, 59)), Some((90, 120))]
            .iter()
            .enumerate()
        {
            if let Some((first, last)) = lbas {
                let e = 2 * S + i * entry_size as usize;
                disk[e] = 0xaf; // some type GUID
                disk[e + 32..e + 40].copy_from_slice(&first.to_le_bytes());
                disk[e + 40..e + 48].copy_from_slice(&last.to_le_bytes());
            }
        }
        disk
    }

    fn harness(disk: Vec<u8>, partnum: &str) -> FilterHarness<Partition> {
        let t = FilterHarness::<Partition>::new();
        t.backend().set_data(disk);
        t.config("partition", partnum).unwrap();
        t
    }

    /// The size of partition `partnum` of `disk` and the first byte of
    /// each of its sectors, or the error the connection failed with.
    fn serve(disk: Vec<u8>, partnum: &str) -> std::result::Result<(u64, Vec<u8>), String> {
        let t = harness(disk, partnum);
        let c = t.open(false).map_err(|e| e.to_string())?;
        let size = c.get_size().unwrap();
        let data = c.assert_pread_fills(size as u32, 0).unwrap();
        Ok((size, data.iter().step_by(S).copied().collect()))
    }

    #[test]
    fn mbr_primary_partitions() {
        assert_eq!(serve(mbr_disk(), "1"), Ok((5120, (10..20).collect())));
        assert_eq!(serve(mbr_disk(), "2"), Ok((2560, (20..25).collect())));
        // Unused, and the extended partition itself.
        assert_eq!(
            serve(mbr_disk(), "3"),
            Err("MBR partition 3 not found".into())
        );
        assert_eq!(
            serve(mbr_disk(), "4"),
            Err("MBR partition 4 not found".into())
        );
    }

    #[test]
    fn mbr_logical_partitions() {
        assert_eq!(serve(mbr_disk(), "5"), Ok((4096, (42..50).collect())));
        assert_eq!(serve(mbr_disk(), "6"), Ok((4608, (61..70).collect())));
        assert_eq!(
            serve(mbr_disk(), "7"),
            Err("MBR partition 7 not found".into())
        );
    }

    #[test]
    fn the_ebr_chain_is_logged_as_it_is_walked() -> Result<()> {
        let t = harness(mbr_disk(), "6");
        drop(t.open(false)?);
        assert_eq!(
            t.debug_messages(),
            vec![
                "disk size=102400",
                "partition: reading EBR at 20480",
                "partition: reading EBR at 30720",
                "partition offset=31232 range=4608",
            ]
        );
        Ok(())
    }

    #[test]
    fn broken_ebr_chains_are_refused() {
        let mut disk = mbr_disk();
        mbr_entry(&mut disk, 0, 3, 0x83, 40, 100);
        assert_eq!(
            serve(disk, "5"),
            Err("MBR logical partition selected, \
                 but there is no extended partition in the partition table"
                .into())
        );

        let mut disk = mbr_disk();
        mbr_entry(&mut disk, 40, 1, 0x05, 0, 1); // links back to itself
        assert_eq!(
            serve(disk, "6"),
            Err("invalid EBR chain: next EBR 20480 <= current EBR 20480".into())
        );

        let mut disk = mbr_disk();
        mbr_entry(&mut disk, 40, 1, 0x05, 159, 1); // the last sector
        assert_eq!(
            serve(disk, "6"),
            Err("invalid EBR chain: next EBR boot sector is located outside disk boundary".into())
        );

        let mut disk = mbr_disk();
        mbr_entry(&mut disk, 40, 0, 0x83, 2, 99); // past the extended partition
        assert_eq!(
            serve(disk, "5"),
            Err("logical partition start or size out of range \
                 (offset=21504, range=50688, ep:startsect=40, ep:nrsects=100)"
                .into())
        );
    }

    #[test]
    fn gpt_partitions() {
        assert_eq!(serve(gpt_disk(128), "1"), Ok((5120, (34..44).collect())));
        assert_eq!(serve(gpt_disk(256), "3"), Ok((5120, (50..60).collect())));
        assert_eq!(
            serve(gpt_disk(128), "2"),
            Err("GPT partition 2 not found".into())
        );
        assert_eq!(
            serve(gpt_disk(128), "4"),
            Err("partition is outside the disk".into())
        );
        assert_eq!(
            serve(gpt_disk(128), "5"),
            Err("GPT partition number out of range".into())
        );
        assert_eq!(
            serve(gpt_disk(64), "1"),
            Err("GPT partition entry size is < 128 bytes".into())
        );
        let mut disk = gpt_disk(128);
        disk[S + 80..S + 84].copy_from_slice(&1000u32.to_le_bytes());
        assert_eq!(
            serve(disk, "1"),
            Err("GPT partition table is too large for this disk".into())
        );
    }

    #[test]
    fn gpt_entries_are_read_in_order_up_to_the_one_wanted() -> Result<()> {
        let t = harness(gpt_disk(256), "3");
        drop(t.open(false)?);
        let reads: Vec<_> = t
            .backend()
            .calls()
            .into_iter()
            .filter_map(|call| match call {
                NextCall::Pread { count, offset, .. } => Some((count, offset)),
                _ => None,
            })
            .collect();
        assert_eq!(
            reads,
            vec![(1024, 0), (128, 1024), (128, 1280), (128, 1536)]
        );
        Ok(())
    }

    #[test]
    fn a_small_disk_with_gpt_signature_is_read_as_mbr() {
        let mut disk = gpt_disk(128);
        disk.truncate(67 * S); // under 34 KiB
        assert_eq!(
            serve(disk.clone(), "1"),
            Err("disk does not contain MBR or GPT partition table signature".into())
        );
        mbr_entry(&mut disk, 0, 0, 0x83, 10, 10);
        assert_eq!(serve(disk, "1"), Ok((5120, (10..20).collect())));
    }

    #[test]
    fn disks_without_a_table_are_refused() {
        assert_eq!(
            serve(blank(100), "1"),
            Err("disk does not contain MBR or GPT partition table signature".into())
        );
        assert_eq!(
            serve(vec![0; 1023], "1"),
            Err("disk is too small to be a partitioned disk".into())
        );
        let mut disk = mbr_disk();
        mbr_entry(&mut disk, 0, 0, 0x83, 190, 11);
        assert_eq!(
            serve(disk, "1"),
            Err("partition is outside the disk".into())
        );
    }

    #[test]
    fn every_request_moves_up_with_its_flags() -> Result<()> {
        let t = harness(mbr_disk(), "5");
        let c = t.open(false)?;
        t.backend().take_calls();
        let p = 42 * SECTOR_SIZE;
        c.pwrite(b"abc", 10, Flags::FUA)?;
        c.trim(512, 512, Flags::FUA)?;
        c.zero(512, 1024, Flags::MAY_TRIM | Flags::FAST_ZERO)?;
        c.cache(512, 0, Flags::empty())?;
        c.flush(Flags::empty())?;
        let mut buf = [0u8; 3];
        c.pread(&mut buf, 10, Flags::empty())?;
        assert_eq!(&buf, b"abc");
        assert_eq!(&t.backend().data()[p as usize + 10..][..3], b"abc");
        assert_eq!(
            t.backend().calls(),
            vec![
                NextCall::Pwrite {
                    count: 3,
                    offset: p + 10,
                    flags: Flags::FUA
                },
                NextCall::Trim {
                    count: 512,
                    offset: p + 512,
                    flags: Flags::FUA
                },
                NextCall::Zero {
                    count: 512,
                    offset: p + 1024,
                    flags: Flags::MAY_TRIM | Flags::FAST_ZERO
                },
                NextCall::Cache {
                    count: 512,
                    offset: p,
                    flags: Flags::empty()
                },
                NextCall::Flush {
                    flags: Flags::empty()
                },
                NextCall::Pread {
                    count: 3,
                    offset: p + 10,
                    flags: Flags::empty()
                },
            ]
        );
        Ok(())
    }

    #[test]
    fn extents_move_down_and_stop_at_the_partition() -> Result<()> {
        let t = harness(mbr_disk(), "1");
        let k = 512;
        t.backend().set_extents(vec![
            (0, 12 * k, ExtentType::Allocated),
            (12 * k, 4 * k, ExtentType::HoleZero),
            (16 * k, 184 * k, ExtentType::Zero),
        ]);
        let c = t.open(false)?;
        assert_eq!(
            c.extents(10 * k as u32, 0, Flags::empty())?,
            vec![
                (0, 2 * k, ExtentType::Allocated),
                (2 * k, 4 * k, ExtentType::HoleZero),
                (6 * k, 4 * k, ExtentType::Zero),
            ]
        );
        Ok(())
    }

    #[test]
    fn the_export_description_names_the_partition() -> Result<()> {
        {
            let t = harness(mbr_disk(), "6");
            t.backend().set_export_description(Some("a disk"));
            let c = t.open(false)?;
            assert_eq!(
                c.export_description()?,
                Some("partition 6 of MBR disk: a disk".to_string())
            );
        }
        {
            let t = harness(gpt_disk(128), "3");
            t.backend().set_export_description(Some("b"));
            let c = t.open(false)?;
            assert_eq!(
                c.export_description()?,
                Some("partition 3 of GPT disk: b".to_string())
            );
        }
        // None below, none here.
        let t = harness(gpt_disk(128), "1");
        let c = t.open(false)?;
        assert_eq!(c.export_description()?, None);
        Ok(())
    }

    #[test]
    fn queries_pass_straight_through() -> Result<()> {
        let t = harness(mbr_disk(), "2");
        t.backend().set_can_write(false);
        t.backend().set_block_size((512, 4096, 65536));
        let c = t.open(true)?;
        assert!(!c.can_write()?);
        assert_eq!(c.block_size()?, (512, 4096, 65536));
        Ok(())
    }

    #[test]
    fn a_failed_table_read_fails_the_connection_logged_once() {
        let t = harness(mbr_disk(), "1");
        t.backend().fail(NextOp::Pread, errno::EPERM);
        assert!(t.open(false).is_err());
        assert_eq!(t.errors().len(), 1, "{:?}", t.errors());
    }

    #[test]
    fn the_partition_number_is_required_and_counts_from_1() {
        {
            let t = FilterHarness::<Partition>::new();
            let e = t.config_complete().unwrap_err();
            assert_eq!(
                e.to_string(),
                "you must supply the partition parameter on the command line"
            );
        }
        let t = FilterHarness::<Partition>::new();
        let e = t.config("partition", "0").unwrap_err();
        assert_eq!(e.to_string(), "invalid partition number");
        assert!(t.config("partition", "-1").is_err());
        assert!(t.config("partition", "x").is_err());
        // nbdkit's parser logged its own messages.
        assert_eq!(t.errors().len(), 3, "{:?}", t.errors());
        t.config("file", "disk.img").unwrap();
        assert!(t.backend().calls().contains(&NextCall::Config {
            key: "file".into(),
            value: "disk.img".into()
        }));
    }
}
