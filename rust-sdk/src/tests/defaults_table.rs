// SPDX-License-Identifier: BSD-2-Clause
//! The harness answers for methods left out of `plugin!` as the loader
//! does for NULL callbacks: both are checked against one table,
//! `abi/nbdkit-defaults.tsv` (ctest's loader-defaults-table checks the
//! loader's side, tests/defaults.bats the loader against nbdkit).

use crate::__private::Builder;
use crate::errno::{EINVAL, EOPNOTSUPP, EROFS};
use crate::testing::{Connection, Harness};
use crate::{CacheFlags, Flags, FuaFlags, Result};

use super::plugins::Full;

/// The table, with its comment lines.
const TABLE: &str = include_str!("../../abi/nbdkit-defaults.tsv");

/// What a request gets, in the table's words, when the plugin lacks
/// the method (a present method is only ever "call").
fn outcome(present: bool, request: impl FnOnce() -> Result<()>) -> String {
    if present {
        return "call".into();
    }
    match request() {
        Ok(()) => "ok".into(),
        Err(e) => match e.errno() {
            EROFS => "EROFS".into(),
            EINVAL => "EINVAL".into(),
            EOPNOTSUPP => "EOPNOTSUPP".into(),
            _ => "other".into(),
        },
    }
}

/// One row of the table for the data methods in `present` (pwrite,
/// flush, trim, zero, extents, cache).
fn row(present: [bool; 6], conn: &Connection<'_>) -> Result<String> {
    let fua = match conn.can_fua()? {
        FuaFlags::None => 0,
        FuaFlags::Emulate => 1,
        FuaFlags::Native => 2,
    };
    let cache = match conn.can_cache()? {
        CacheFlags::None => 0,
        CacheFlags::Emulate => 1,
        CacheFlags::Native => 2,
    };
    let (min, pref, max) = conn.block_size()?;
    let mut cells: Vec<String> = present.iter().map(|&p| u8::from(p).to_string()).collect();
    for answer in [
        conn.can_write()?,
        conn.can_flush()?,
        conn.is_rotational()?,
        conn.can_trim()?,
        conn.can_zero()?,
    ] {
        cells.push(u8::from(answer).to_string());
    }
    cells.push(u8::from(conn.can_fast_zero()?).to_string());
    cells.push(fua.to_string());
    cells.push(u8::from(conn.can_multi_conn()?).to_string());
    cells.push(u8::from(conn.can_extents()?).to_string());
    cells.push(cache.to_string());
    cells.push(format!("{}/{}/{}", min, pref, max));
    let none = Flags::empty();
    cells.push(outcome(present[0], || conn.pwrite(&[0], 0, none)));
    cells.push(outcome(present[1], || conn.flush()));
    cells.push(outcome(present[2], || conn.trim(1, 0, none)));
    cells.push(outcome(present[3], || conn.zero(1, 0, none)));
    cells.push(outcome(present[4], || conn.extents(1, 0, none).map(drop)));
    cells.push(outcome(present[5], || conn.cache(1, 0)));
    Ok(cells.join("\t"))
}

#[test]
fn defaults_are_the_tables() -> Result<()> {
    let mut lines = TABLE.lines().filter(|l| !l.starts_with('#'));
    let header = lines.next().expect("the table has a header line");
    assert!(header.starts_with("pwrite\tflush\ttrim\tzero\textents\tcache\t"));
    let want: Vec<&str> = lines.collect();
    assert_eq!(want.len(), 64, "one row per combination");
    for (combo, want) in want.iter().enumerate() {
        let present = [0, 1, 2, 3, 4, 5].map(|bit| combo & (1 << bit) != 0);
        let mut b = Builder::<Full>::new();
        // Methods in the table's column order, as plugin! would list them.
        let methods: [fn(&mut Builder<Full>); 6] = [
            Builder::write_at,
            Builder::flush,
            Builder::trim,
            Builder::zero,
            Builder::extents,
            Builder::cache,
        ];
        for (listed, method) in present.iter().zip(methods) {
            if *listed {
                method(&mut b);
            }
        }
        let harness = Harness::<Full>::with_descriptor(b.build()?);
        let conn = harness.open(false)?;
        assert_eq!(row(present, &conn)?, *want, "row {} of the table", combo);
    }
    Ok(())
}
