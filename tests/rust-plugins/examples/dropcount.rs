// SPDX-License-Identifier: BSD-2-Clause
//! dropcount: a 1 MiB disk of zeroes that numbers its connections.
//!
//! open logs "dropcount: open N" and the connection's Drop logs
//! "dropcount: drop N" (nbdkit -v), so a test can see that every
//! handle nbdkit opened was dropped exactly once.

use nbdkit::*;
use std::sync::atomic::{AtomicU64, Ordering};

/// Numbers the handles, from 1.
static NEXT: AtomicU64 = AtomicU64::new(1);

struct DropCount {
    n: u64,
}

impl Server for DropCount {
    fn name() -> &'static str {
        "dropcount"
    }

    fn open(_readonly: bool) -> Result<Box<dyn Server>> {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        debug!("dropcount: open {n}");
        Ok(Box::new(DropCount { n }))
    }

    fn get_size(&self) -> Result<i64> {
        Ok(1 << 20)
    }

    fn read_at(&self, buf: &mut [u8], _offset: u64) -> Result<()> {
        buf.fill(0);
        Ok(())
    }
}

impl Drop for DropCount {
    fn drop(&mut self) {
        debug!("dropcount: drop {}", self.n);
    }
}

plugin!(DropCount {});
