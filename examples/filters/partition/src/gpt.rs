// SPDX-License-Identifier: BSD-2-Clause
//! Finding a partition in a GPT partition table: the header in LBA 1,
//! the array of partition entries from LBA 2 on.

use nbdkit::Result;

use crate::{le32, le64, refuse, Disk, Span, SECTOR_SIZE};

/// The part of an entry that is read: the type GUID, unique GUID, first
/// and last LBA, attributes and name.
const ENTRY_SIZE: usize = 128;

/// Find partition `partnum` (counting from 1) of the disk of `size`
/// bytes whose GPT header (LBA 1, starting "EFI PART") is `header`.
///
/// Like the C filter, this trusts the header's entry count and size but
/// not its other fields: the entries are read from LBA 2, and nothing is
/// checksummed.
pub(crate) fn find(partnum: u32, size: u64, header: &[u8], disk: &dyn Disk) -> Result<Span> {
    let entries = le32(header, 80);
    let entry_size = le32(header, 84);
    if partnum > entries {
        return Err(refuse("GPT partition number out of range"));
    }
    if (entry_size as usize) < ENTRY_SIZE {
        return Err(refuse("GPT partition entry size is < 128 bytes"));
    }
    // The disk must hold the protective MBR, both headers and both
    // copies of the array; otherwise the header is likely bogus.
    let table = 2 * u128::from(entries) * u128::from(entry_size);
    if u128::from(size) < 3 * u128::from(SECTOR_SIZE) + table {
        return Err(refuse("GPT partition table is too large for this disk"));
    }

    // Like the C filter, read the array entry by entry from the first
    // up to the wanted one (and on to the end if that one is unused), so
    // that the layer below sees the same reads.  All of them lie inside
    // the disk: checked just above.
    let mut entry = [0u8; ENTRY_SIZE];
    for i in 0..entries {
        let at = 2 * SECTOR_SIZE + u64::from(i) * u64::from(entry_size);
        disk.read(&mut entry, at)?;
        // An unused entry has a zero type GUID.
        if i + 1 == partnum && entry[..16].iter().any(|&b| b != 0) {
            return Ok(span(&entry));
        }
    }
    Err(refuse(format!("GPT partition {} not found", partnum)))
}

/// Where a used entry puts its partition.
fn span(entry: &[u8]) -> Span {
    let first_lba = le64(entry, 32);
    let last_lba = le64(entry, 40);
    // The last LBA is inclusive.  A nonsensical pair makes a span the
    // caller refuses as outside the disk.
    Span::from_lbas(first_lba, last_lba)
}
