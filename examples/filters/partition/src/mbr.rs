// SPDX-License-Identifier: BSD-2-Clause
//! Finding a partition in an MBR (DOS) partition table: primary
//! partitions 1-4 in the MBR itself, logical partitions 5 and up in the
//! chain of extended boot records (EBRs) inside the extended partition.

use nbdkit::{debug, Result};

use crate::{le32, refuse, Disk, Span, SECTOR_SIZE};

/// The partition types Linux treats as extended partitions
/// (linux.git/block/partitions/msdos.c: `is_extended_partition`).
fn is_extended(kind: u8) -> bool {
    matches!(kind, 0x05 | 0x0f | 0x85)
}

/// One of the four entries of an MBR or EBR sector.
#[derive(Clone, Copy, Debug)]
struct Entry {
    kind: u8,
    start_sector: u32,
    sectors: u32,
}

impl Entry {
    /// Entry `i` (0 to 3) of the partition table in `sector`.
    fn read(sector: &[u8], i: usize) -> Entry {
        let entry = &sector[0x1be + i * 16..][..16];
        Entry {
            kind: entry[4],
            start_sector: le32(entry, 8),
            sectors: le32(entry, 12),
        }
    }

    /// An extended partition, which holds the chain of EBRs.
    fn is_extended(&self) -> bool {
        self.sectors > 0 && is_extended(self.kind)
    }
}

fn sectors(n: u64) -> u64 {
    n * SECTOR_SIZE
}

/// Find partition `partnum` (counting from 1) of the disk of `size`
/// bytes whose first sector is `mbr` (with the 0x55 0xAA signature).
pub(crate) fn find(partnum: u32, size: u64, mbr: &[u8], disk: &dyn Disk) -> Result<Span> {
    if (1..=4).contains(&partnum) {
        let entry = Entry::read(mbr, partnum as usize - 1);
        if entry.sectors > 0 && entry.kind != 0 && !is_extended(entry.kind) {
            return Ok(Span::new(
                sectors(entry.start_sector.into()),
                sectors(entry.sectors.into()),
            ));
        }
        return Err(refuse(format!("MBR partition {} not found", partnum)));
    }

    let extended = (0..4)
        .map(|i| Entry::read(mbr, i))
        .find(Entry::is_extended)
        .ok_or_else(|| {
            refuse(
                "MBR logical partition selected, \
                 but there is no extended partition in the partition table",
            )
        })?;
    let extended_start = u64::from(extended.start_sector);
    let extended_end = sectors(extended_start + u64::from(extended.sectors));

    // Walk the chain: EBR n describes logical partition n (its first
    // entry, relative to the EBR) and links to the next EBR (its second
    // entry, relative to the extended partition).  Only links that go
    // strictly forward are followed, so the walk ends.  (Valid tables
    // may list their EBRs in another order; like the C filter, this one
    // refuses them.)
    let mut ebr = sectors(extended_start);
    let mut sector = [0u8; SECTOR_SIZE as usize];
    for number in 5u64.. {
        if ebr % SECTOR_SIZE != 0 || ebr < SECTOR_SIZE || ebr >= size - SECTOR_SIZE {
            return Err(refuse(
                "invalid EBR chain: next EBR boot sector is located outside disk boundary",
            ));
        }
        debug!("partition: reading EBR at {}", ebr);
        disk.read(&mut sector, ebr)?;

        if number == u64::from(partnum) {
            let entry = Entry::read(&sector, 0);
            let offset = ebr + sectors(entry.start_sector.into());
            let range = sectors(entry.sectors.into());
            // A logical partition starts after its EBR and ends inside
            // the extended partition.
            if offset <= ebr || offset + range > extended_end {
                return Err(refuse(format!(
                    "logical partition start or size out of range \
                     (offset={}, range={}, ep:startsect={}, ep:nrsects={})",
                    offset, range, extended.start_sector, extended.sectors
                )));
            }
            return Ok(Span::new(offset, range));
        }

        let link = Entry::read(&sector, 1);
        if link.start_sector == 0 && link.sectors == 0 {
            break; // the end of the chain
        }
        let next_ebr = sectors(extended_start + u64::from(link.start_sector));
        if next_ebr <= ebr {
            return Err(refuse(format!(
                "invalid EBR chain: next EBR {} <= current EBR {}",
                next_ebr, ebr
            )));
        }
        ebr = next_ebr;
    }
    Err(refuse(format!("MBR partition {} not found", partnum)))
}
