// SPDX-License-Identifier: BSD-2-Clause
//! The filter driven in-process over a fake layer below
//! (nbdkit::testing's FilterHarness), and its helpers alone.

use nbdkit::testing::{FilterHarness, NextCall, NextOp};

use super::*;

/// The block size of most tests: small, so that the fake disk (1 MiB)
/// holds many blocks.
const BS: u64 = 4096;

/// A harness with `cow-block-size=4096` and the other `key=value`s,
/// over a 1 MiB disk whose byte `i` is `i % 251`.
fn harness(keys: &[(&str, &str)]) -> FilterHarness<Cow> {
    let h = FilterHarness::<Cow>::new();
    h.backend().set_data(below(1 << 20));
    h.config("cow-block-size", "4096").unwrap();
    for (key, value) in keys {
        h.config(key, value).unwrap();
    }
    h
}

/// The contents of a fake disk of `size` bytes.
fn below(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i % 251) as u8).collect()
}

/// What the filter read from or wrote to the layer below.
fn data_calls(h: &FilterHarness<Cow>) -> Vec<NextCall> {
    h.backend()
        .take_calls()
        .into_iter()
        .filter(|c| {
            matches!(
                c.op(),
                Some(NextOp::Pread | NextOp::Pwrite | NextOp::Cache | NextOp::Extents)
            )
        })
        .collect()
}

fn pread(count: u32, offset: u64) -> NextCall {
    NextCall::Pread {
        count,
        offset,
        flags: Flags::empty(),
    }
}

#[test]
fn spans_cut_requests_at_block_boundaries() {
    assert_eq!(
        Span::new(4096, 65536, 65536),
        Span {
            head: Some((0, 4096, 61440)),
            body: (1, 0),
            tail: Some((1, 4096))
        }
    );
    assert_eq!(
        Span::new(65536, 3 * 65536, 65536),
        Span {
            head: None,
            body: (1, 3),
            tail: None
        }
    );
    assert_eq!(
        Span::new(100, 10, 4096),
        Span {
            head: Some((0, 100, 10)),
            body: (1, 0),
            tail: None
        }
    );
    assert_eq!(
        Span::new(0, 5000, 4096),
        Span {
            head: None,
            body: (0, 1),
            tail: Some((1, 904))
        }
    );
}

#[test]
fn on_read_path_follows_the_file() {
    let path = std::env::temp_dir().join(format!("cow-on-read-test-{}", std::process::id()));
    let on_read = OnRead::WhileExists(path.clone());
    assert!(!on_read.now());
    std::fs::write(&path, b"").unwrap();
    assert!(on_read.now());
    std::fs::remove_file(&path).unwrap();
    assert!(!on_read.now());
}

#[test]
fn the_layer_below_is_opened_read_only_and_never_written() -> Result<()> {
    let h = harness(&[]);
    let conn = h.open(false)?;
    assert!(h.backend().calls().contains(&NextCall::Open {
        readonly: true,
        export_name: String::new(),
        shared: false,
    }));
    conn.pwrite(&[0xee; 10_000], 1000, Flags::FUA)?;
    conn.trim(3 * BS as u32, 5 * BS, Flags::empty())?;
    conn.zero(100, 20 * BS + 7, Flags::empty())?;
    conn.flush(Flags::empty())?;
    assert_eq!(h.backend().data(), below(1 << 20));
    assert!(!h
        .backend()
        .calls()
        .iter()
        .any(|c| matches!(c.op(), Some(NextOp::Pwrite | NextOp::Trim | NextOp::Zero))));
    Ok(())
}

#[test]
fn writes_read_back_over_the_data_below() -> Result<()> {
    let h = harness(&[]);
    let conn = h.open(false)?;
    conn.pwrite(&[0xee; 10_000], 1000, Flags::empty())?;
    let mut buf = vec![0; 12_000];
    conn.pread(&mut buf, 0, Flags::empty())?;
    let mut want = below(12_000);
    want[1000..11_000].fill(0xee);
    assert_eq!(buf, want);
    Ok(())
}

#[test]
fn partial_blocks_are_read_modify_written() -> Result<()> {
    let h = harness(&[]);
    let conn = h.open(false)?;
    h.backend().take_calls();
    // Head in block 0, blocks 1 and 2 whole, tail in block 3.
    conn.pwrite(&[1; 3 * BS as usize], 100, Flags::empty())?;
    assert_eq!(data_calls(&h), [pread(4096, 0), pread(4096, 3 * BS)]);
    // Block 0 is in the overlay now: no read below to change it again.
    conn.pwrite(&[2; 10], 7, Flags::empty())?;
    assert_eq!(data_calls(&h), []);
    Ok(())
}

#[test]
fn runs_of_blocks_not_in_the_overlay_are_read_in_one_request() -> Result<()> {
    let h = harness(&[]);
    let conn = h.open(false)?;
    conn.pwrite(&[1; BS as usize], 4 * BS, Flags::empty())?;
    h.backend().take_calls();
    let mut buf = vec![0; 8 * BS as usize];
    conn.pread(&mut buf, 0, Flags::empty())?;
    assert_eq!(data_calls(&h), [pread(16384, 0), pread(12288, 5 * BS)]);
    Ok(())
}

#[test]
fn trimmed_blocks_read_as_zeroes_and_are_holes() -> Result<()> {
    let h = harness(&[]);
    let conn = h.open(false)?;
    h.backend()
        .set_extents(vec![(0, 1 << 20, ExtentType::Allocated)]);
    // Whole blocks 2 and 3 are trimmed; the edges in blocks 1 and 4 are
    // written as zeroes.
    conn.trim(3 * BS as u32, BS + 2048, Flags::empty())?;
    let mut buf = vec![1; 5 * BS as usize];
    conn.pread(&mut buf, 0, Flags::empty())?;
    let mut want = below(5 * BS as usize);
    want[BS as usize + 2048..4 * BS as usize + 2048].fill(0);
    assert_eq!(buf, want);
    assert_eq!(
        conn.extents(6 * BS as u32, 0, Flags::empty())?,
        [
            (0, 2 * BS, ExtentType::Allocated),
            (2 * BS, 2 * BS, ExtentType::HoleZero),
            (4 * BS, 2 * BS, ExtentType::Allocated),
        ]
    );
    Ok(())
}

#[test]
fn zeroes_are_written_and_fast_zeroes_refused() -> Result<()> {
    let h = harness(&[]);
    let conn = h.open(false)?;
    let e = conn
        .zero(BS as u32, 0, Flags::FAST_ZERO)
        .expect_err("a fast zero");
    assert_eq!(e.errno(), errno::ENOTSUP);
    conn.zero(2 * BS as u32 + 10, BS - 5, Flags::empty())?;
    let mut buf = vec![1; 4 * BS as usize];
    conn.pread(&mut buf, 0, Flags::empty())?;
    let mut want = below(4 * BS as usize);
    want[BS as usize - 5..3 * BS as usize + 5].fill(0);
    assert_eq!(buf, want);
    // Zeroes are data in the overlay, not holes.
    assert_eq!(
        conn.extents(BS as u32, BS, Flags::empty())?,
        [(BS, BS, ExtentType::Allocated)]
    );
    Ok(())
}

#[test]
fn extents_come_from_below_for_blocks_not_in_the_overlay() -> Result<()> {
    let h = harness(&[]);
    h.backend().set_extents(vec![
        (0, 10 * BS, ExtentType::Allocated),
        (10 * BS, (1 << 20) - 10 * BS, ExtentType::HoleZero),
    ]);
    let conn = h.open(false)?;
    conn.pwrite(&[1; 10], 12 * BS, Flags::empty())?;
    assert_eq!(
        conn.extents(20 * BS as u32, 100, Flags::empty())?,
        [
            (100, 10 * BS - 100, ExtentType::Allocated),
            (10 * BS, 2 * BS, ExtentType::HoleZero),
            (12 * BS, BS, ExtentType::Allocated),
            (13 * BS, 7 * BS + 100, ExtentType::HoleZero),
        ]
    );
    // REQ_ONE: only the first, from one request below.
    h.backend().take_calls();
    assert_eq!(
        conn.extents(20 * BS as u32, 11 * BS, Flags::REQ_ONE)?,
        [(11 * BS, BS, ExtentType::HoleZero)]
    );
    assert_eq!(data_calls(&h).len(), 1);
    Ok(())
}

#[test]
fn without_extents_below_every_block_is_data() -> Result<()> {
    let h = harness(&[]);
    h.backend().set_can_extents(false);
    let conn = h.open(false)?;
    assert!(conn.can_extents()?);
    conn.trim(BS as u32, 0, Flags::empty())?;
    assert_eq!(
        conn.extents(3 * BS as u32, 0, Flags::empty())?,
        [
            (0, BS, ExtentType::HoleZero),
            (BS, 2 * BS, ExtentType::Allocated),
        ]
    );
    Ok(())
}

#[test]
fn cache_follows_the_layer_below_unless_cow_on_cache() -> Result<()> {
    let h = harness(&[]);
    let conn = h.open(false)?;
    h.backend().take_calls();
    // Native below: passed down, block by block.
    conn.cache(100, BS + 10, Flags::empty())?;
    assert_eq!(
        data_calls(&h),
        [NextCall::Cache {
            count: 4096,
            offset: BS,
            flags: Flags::empty()
        }]
    );
    // Blocks in the overlay are not asked for.
    conn.pwrite(&[1; BS as usize], 0, Flags::empty())?;
    conn.cache(10, 0, Flags::empty())?;
    assert_eq!(data_calls(&h), []);
    // None below: nothing; emulated below: read.
    h.backend().set_can_cache(CacheFlags::None);
    let conn = h.open(false)?;
    conn.cache(10, BS, Flags::empty())?;
    assert_eq!(data_calls(&h), []);
    h.backend().set_can_cache(CacheFlags::Emulate);
    let conn = h.open(false)?;
    conn.cache(10, BS, Flags::empty())?;
    assert_eq!(data_calls(&h), [pread(4096, BS)]);
    Ok(())
}

#[test]
fn cow_on_cache_copies_blocks_into_the_overlay() -> Result<()> {
    let h = harness(&[("cow-on-cache", "true")]);
    let conn = h.open(false)?;
    h.backend().take_calls();
    conn.cache(BS as u32, 2 * BS, Flags::empty())?;
    assert_eq!(data_calls(&h), [pread(4096, 2 * BS)]);
    let mut buf = vec![0; BS as usize];
    conn.pread(&mut buf, 2 * BS, Flags::empty())?;
    assert_eq!(data_calls(&h), []);
    assert_eq!(buf, below(3 * BS as usize)[2 * BS as usize..]);
    Ok(())
}

#[test]
fn cow_on_read_copies_what_is_read() -> Result<()> {
    let h = harness(&[("cow-on-read", "true")]);
    let conn = h.open(false)?;
    h.backend().take_calls();
    let mut buf = vec![0; 100];
    conn.pread(&mut buf, BS + 1, Flags::empty())?;
    assert_eq!(data_calls(&h), [pread(4096, BS)]);
    conn.pread(&mut buf, BS + 1, Flags::empty())?;
    assert_eq!(data_calls(&h), []);
    assert_eq!(buf, below(BS as usize + 101)[BS as usize + 1..]);
    Ok(())
}

#[test]
fn a_partial_last_block_reads_within_the_disk() -> Result<()> {
    let h = harness(&[]);
    h.backend().set_data(below(10 * BS as usize + 100));
    let conn = h.open(false)?;
    assert_eq!(conn.get_size()?, 10 * BS + 100);
    h.backend().take_calls();
    conn.pwrite(&[9; 50], 10 * BS + 10, Flags::empty())?;
    assert_eq!(data_calls(&h), [pread(100, 10 * BS)]);
    let mut buf = vec![0; 100];
    conn.pread(&mut buf, 10 * BS, Flags::empty())?;
    let mut want = below(10 * BS as usize + 100)[10 * BS as usize..].to_vec();
    want[10..60].fill(9);
    assert_eq!(buf, want);
    Ok(())
}

#[test]
fn connections_share_the_overlay() -> Result<()> {
    let h = harness(&[]);
    let a = h.open(false)?;
    let b = h.open(false)?;
    a.pwrite(&[5; 3], 10, Flags::empty())?;
    let mut buf = [0; 3];
    b.pread(&mut buf, 10, Flags::empty())?;
    assert_eq!(buf, [5; 3]);
    Ok(())
}

#[test]
fn failures_below_reach_the_client_with_their_errno() -> Result<()> {
    let h = harness(&[]);
    let conn = h.open(false)?;
    h.backend().fail(NextOp::Pread, errno::ENOSPC);
    let e = conn
        .pwrite(&[1; 10], 5, Flags::empty())
        .expect_err("the read below fails");
    assert_eq!(e.errno(), errno::ENOSPC);
    Ok(())
}

#[test]
fn answers_as_nbdkits_cow_filter() -> Result<()> {
    let h = harness(&[]);
    h.backend().set_can_write(false);
    h.backend().set_can_trim(false);
    h.backend().set_can_fast_zero(false);
    h.backend().set_can_multi_conn(false);
    h.backend().set_can_fua(FuaFlags::None);
    h.backend().set_can_cache(CacheFlags::None);
    h.backend().set_can_zero(ZeroMode::None);
    let conn = h.open(false)?;
    assert!(conn.can_write()?);
    assert!(conn.can_trim()?);
    assert!(conn.can_flush()?);
    assert!(conn.can_extents()?);
    assert!(conn.can_fast_zero()?);
    assert!(conn.can_multi_conn()?);
    assert_eq!(conn.can_fua()?, FuaFlags::Native);
    assert_eq!(conn.can_cache()?, CacheFlags::Native);
    // can_zero passes through: nbdkit asks the layer below, opened
    // read-only.
    assert_eq!(conn.can_zero()?, ZeroMode::None);
    assert_eq!(h.thread_model()?, ThreadModel::Parallel);
    Ok(())
}

#[test]
fn block_sizes_prefer_the_cow_block_size() -> Result<()> {
    let h = harness(&[]);
    let conn = h.open(false)?;
    assert_eq!(conn.block_size()?, (1, 4096, u32::MAX));
    h.backend().set_block_size((512, 1024, 1 << 20));
    assert_eq!(conn.block_size()?, (512, 4096, 1 << 20));
    h.backend().set_block_size((512, 1024, 2048));
    assert_eq!(conn.block_size()?, (512, 1024, 2048));
    Ok(())
}

#[test]
fn bad_block_sizes_are_refused() {
    let h = FilterHarness::<Cow>::new();
    for value in ["2048", "5000", "4G", "-4096"] {
        let e = h.config("cow-block-size", value).expect_err(value);
        assert_eq!(e.errno(), errno::EINVAL);
    }
    assert!(h.config("cow-on-read", "maybe").is_err());
    assert!(h.config("cow-on-cache", "maybe").is_err());
    assert!(h
        .errors()
        .iter()
        .any(|e| e == "cow-block-size is out of range (4096..2G) or not a power of 2"));
    h.config("cow-block-size", "2G").unwrap();
}

#[test]
fn other_keys_pass_on() -> Result<()> {
    let h = FilterHarness::<Cow>::new();
    h.config("size", "1M")?;
    assert_eq!(
        h.backend().calls(),
        [NextCall::Config {
            key: "size".into(),
            value: "1M".into()
        }]
    );
    Ok(())
}
