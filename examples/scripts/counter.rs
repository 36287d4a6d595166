#!/usr/bin/nbdkit rust
//! ```cargo
//! lazy_static = "1"
//! ```
// SPDX-License-Identifier: BSD-2-Clause
//! counter.rs: a plugin script with a dependency.  A 1 MiB read-only
//! disk whose every 512-byte sector reads as a line of text saying how
//! often it has been read: "sector 3 read 2 times".
//!
//! ```text
//! nbdkit rust ./counter.rs --run 'nbdcopy "$uri" - | head -c 512'
//! ```
//!
//! The `cargo` block above is the `[dependencies]` table of the crate
//! the loader makes for this script (the rust-script convention; a
//! block may also hold whole tables, `[dependencies]` and others).  The
//! loader builds it with cargo, offline, from the distribution's crate
//! registry: on Debian, `apt-get install librust-lazy-static-dev`.
//! (Debian's nbdkit is /usr/bin/nbdkit; Fedora's is /usr/sbin/nbdkit.)

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use lazy_static::lazy_static;
use nbdkit::*;

const SECTOR: u64 = 512;
const SIZE: u64 = 1 << 20;

lazy_static! {
    /// How often each sector has been read, by sector number.  A
    /// HashMap cannot be made in a `static` with Rust 1.63's const fns.
    static ref READS: Mutex<HashMap<u64, u64>> = Mutex::new(HashMap::new());
}

struct Counter;

impl Server for Counter {
    fn name() -> &'static str {
        "counter"
    }

    fn open(_readonly: bool) -> Result<Box<dyn Server>> {
        Ok(Box::new(Counter))
    }

    fn get_size(&self) -> Result<i64> {
        Ok(SIZE as i64)
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<()> {
        let mut reads = READS.lock().unwrap_or_else(PoisonError::into_inner);
        let end = offset + buf.len() as u64;
        for sector in offset / SECTOR..(end + SECTOR - 1) / SECTOR {
            let count = reads.entry(sector).or_insert(0);
            *count += 1;
            let mut line = format!("sector {} read {} times", sector, count).into_bytes();
            line.resize(SECTOR as usize - 1, b' ');
            line.push(b'\n');
            // The part of this sector that the request covers.
            let base = sector * SECTOR;
            let (from, to) = (base.max(offset), (base + SECTOR).min(end));
            buf[(from - offset) as usize..(to - offset) as usize]
                .copy_from_slice(&line[(from - base) as usize..(to - base) as usize]);
        }
        Ok(())
    }
}

plugin!(Counter {});
