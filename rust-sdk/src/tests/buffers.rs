// SPDX-License-Identifier: BSD-2-Clause
//! pread's buffer: `read_at` gets it zeroed whatever it held (a filter
//! above the plugin may pass memory straight from malloc), and
//! `read_at_uninit`, when listed, gets it as it is.

use std::mem::MaybeUninit;
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::plugins::{record, take_calls};
use crate::descriptor::Builder;
use crate::testing::Harness;
use crate::{uninit, Result, Server};

/// Reads by writing only the first half of the buffer, after noting
/// whether the buffer arrived all zeroes.
struct HalfWriter;

impl Server for HalfWriter {
    fn name() -> &'static str {
        "half_writer"
    }
    fn open(_: bool) -> Result<Box<dyn Server>> {
        Ok(Box::new(HalfWriter))
    }
    fn get_size(&self) -> Result<i64> {
        Ok(1 << 20)
    }
    fn read_at(&self, buf: &mut [u8], _offset: u64) -> Result<()> {
        record(format!("read_at zeroed={}", buf.iter().all(|&b| b == 0)));
        let half = buf.len() / 2;
        buf[..half].fill(0x11);
        Ok(())
    }
}

/// The same in `read_at_uninit`, with the safe helpers: a plugin that
/// forgets part of the buffer.
struct UninitHalfWriter;

impl Server for UninitHalfWriter {
    fn name() -> &'static str {
        "uninit_half_writer"
    }
    fn open(_: bool) -> Result<Box<dyn Server>> {
        Ok(Box::new(UninitHalfWriter))
    }
    fn get_size(&self) -> Result<i64> {
        Ok(1 << 20)
    }
    fn read_at(&self, _buf: &mut [u8], _offset: u64) -> Result<()> {
        record("read_at".into());
        Ok(())
    }
    fn read_at_uninit(&self, buf: &mut [MaybeUninit<u8>], _offset: u64) -> Result<()> {
        record("read_at_uninit".into());
        let half = buf.len() / 2;
        uninit::fill(&mut buf[..half], 0x22);
        Ok(())
    }
}

/// Writes every byte in `read_at_uninit`, without unsafe code.
struct UninitWriter;

impl Server for UninitWriter {
    fn name() -> &'static str {
        "uninit_writer"
    }
    fn open(_: bool) -> Result<Box<dyn Server>> {
        Ok(Box::new(UninitWriter))
    }
    fn get_size(&self) -> Result<i64> {
        Ok(1 << 20)
    }
    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<()> {
        buf.fill(offset as u8);
        Ok(())
    }
    fn read_at_uninit(&self, buf: &mut [MaybeUninit<u8>], offset: u64) -> Result<()> {
        let (head, tail) = buf.split_at_mut(buf.len().min(3));
        uninit::write(head, &[1, 2, 3][..head.len()]);
        uninit::fill(tail, offset as u8);
        Ok(())
    }
}

fn harness<T: Server + 'static>(uninit_listed: bool) -> Harness<T> {
    let mut b = Builder::<T>::new();
    if uninit_listed {
        b.read_at_uninit();
    }
    Harness::with_descriptor(b.build().unwrap())
}

#[test]
fn read_at_gets_zeroes_whatever_the_buffer_held() {
    let t = harness::<HalfWriter>(false);
    let c = t.open(false).unwrap();
    take_calls();
    let mut buf = vec![0xaa; 4096];
    c.pread(&mut buf, 0).unwrap();
    assert_eq!(take_calls(), vec!["read_at zeroed=true"]);
    // The half it left is zeroes, not the garbage.
    assert!(buf[..2048].iter().all(|&b| b == 0x11));
    assert!(buf[2048..].iter().all(|&b| b == 0));
    // So a client never gets what the buffer held.
    let data = c.assert_pread_fills(100, 0).unwrap();
    assert_eq!(data[..50], [0x11; 50]);
    assert_eq!(data[50..], [0; 50]);
}

#[test]
fn read_at_uninit_listed_gets_the_buffer_as_it_is() {
    let t = harness::<UninitHalfWriter>(true);
    let c = t.open(false).unwrap();
    take_calls();
    let mut buf = vec![0xaa; 4096];
    c.pread(&mut buf, 0).unwrap();
    assert_eq!(take_calls(), vec!["read_at_uninit"]);
    assert!(buf[..2048].iter().all(|&b| b == 0x22));
    assert!(buf[2048..].iter().all(|&b| b == 0xaa), "not zeroed");
}

#[test]
fn assert_pread_fills_catches_bytes_left_unwritten() {
    let t = harness::<UninitHalfWriter>(true);
    let c = t.open(false).unwrap();
    let panic = catch_unwind(AssertUnwindSafe(|| c.assert_pread_fills(100, 4096)))
        .expect_err("assert_pread_fills must panic");
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(
        message.contains("left the byte at offset 4146"),
        "{}",
        message
    );
}

#[test]
fn assert_pread_fills_passes_a_plugin_that_writes_everything() {
    let t = harness::<UninitWriter>(true);
    let c = t.open(false).unwrap();
    let data = c.assert_pread_fills(8, 9).unwrap();
    assert_eq!(data, [1, 2, 3, 9, 9, 9, 9, 9]);
    let mut buf = [0xaa; 2];
    c.pread(&mut buf, 9).unwrap();
    assert_eq!(buf, [1, 2]);
    c.pread(&mut [], 9).unwrap();
    assert!(t.errors().is_empty());
}

#[test]
fn read_at_uninit_listed_but_not_implemented_zero_fills() {
    // The provided read_at_uninit: zeroes, then read_at.
    let t = harness::<HalfWriter>(true);
    let c = t.open(false).unwrap();
    take_calls();
    let mut buf = vec![0xaa; 64];
    c.pread(&mut buf, 0).unwrap();
    assert_eq!(take_calls(), vec!["read_at zeroed=true"]);
    assert_eq!(buf[32..], [0; 32]);
}

#[test]
fn read_at_uninit_not_listed_is_not_used() {
    let t = harness::<UninitHalfWriter>(false);
    let c = t.open(false).unwrap();
    take_calls();
    let mut buf = vec![0xaa; 64];
    c.pread(&mut buf, 0).unwrap();
    assert_eq!(take_calls(), vec!["read_at"]);
    assert_eq!(buf, [0; 64]);
}

#[test]
fn pread_glue_zeroes_the_buffer_c_passes() {
    // The descriptor's pread, called as C calls it, on a buffer of
    // garbage it owns.
    let _host = super::fake_host::install();
    let d = Builder::<HalfWriter>::new().build().unwrap();
    let conn = super::plugins::Conn::open(&d, false);
    take_calls();
    let mut garbage = vec![0xaau8; 512];
    let pread = d.raw().pread.unwrap();
    // SAFETY: the descriptor's pread with its live handle and a buffer
    // of 512 writable bytes.
    let r = unsafe { pread(conn.h, garbage.as_mut_ptr().cast(), 512, 0, 0) };
    assert_eq!(r, 0);
    assert_eq!(take_calls(), vec!["read_at zeroed=true"]);
    assert_eq!(garbage[256..], [0; 256][..]);
    conn.close();
}
