// SPDX-License-Identifier: BSD-2-Clause
//! faulty: a small RAM disk whose callbacks fail or panic on demand.
//!
//! Every callback first asks the fault list (behaviour::Faults) whether
//! to fail or panic, then does its ordinary job.  The faults come from
//! the configuration, in order:
//!
//!   fail=CALLBACK   start a fault: CALLBACK returns an error
//!   panic=CALLBACK  start a fault: CALLBACK panics
//!   errno=NAME|N    the errno of a fail= (default EIO; 0 is allowed)
//!   message=TEXT    the error or panic message (without it a panic
//!                   has a &'static str payload, with it a String)
//!   after=N         let the first N calls through
//!   times=N         then fire on N calls only (default: on every one)
//!   size=SIZE       the disk size (default 1M)
//!
//! --dump-plugin lists the callbacks (faulty_callbacks=a,b,...).
//! errno=, message=, after= and times= refine the latest fault, so
//! several faults can be armed at once.  CALLBACK is an nbdkit callback
//! name (behaviour::CALLBACKS), "close" meaning the handle's Drop.  A
//! fault on "config" fires on the first non-fault key after it (e.g.
//! size=).  cleanup, unload, close and dump_plugin cannot fail, only
//! panic.  load runs before any key, so FAULTY_PANIC_IN_LOAD (set in
//! the environment) makes it panic.

use nbdkit::*;
use rust_test_plugins::behaviour::{Faults, CALLBACKS};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;

static FAULTS: Faults = Faults::new();
static SIZE: AtomicI64 = AtomicI64::new(1 << 20);
/// The disk, shared by every connection; sized by the first open.
static DISK: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct Faulty;

fn disk() -> std::sync::MutexGuard<'static, Vec<u8>> {
    DISK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Checks that [offset, offset + count) lies inside the disk.
fn range(count: usize, offset: u64) -> Result<std::ops::Range<usize>> {
    let start = offset as usize;
    match start.checked_add(count) {
        Some(end) if end as i64 <= SIZE.load(Ordering::SeqCst) => Ok(start..end),
        _ => Err(Error::new(errno::EINVAL, "faulty: request out of range")),
    }
}

impl Server for Faulty {
    fn name() -> &'static str {
        "faulty"
    }

    fn config(key: &str, value: &str) -> Result<()> {
        if FAULTS.config(key, value)? {
            return Ok(());
        }
        FAULTS.check("config")?;
        match key {
            "size" => {
                SIZE.store(parse_size(value)?, Ordering::SeqCst);
                Ok(())
            }
            _ => Err(Error::new(
                errno::EINVAL,
                format!("faulty: unknown parameter {key}"),
            )),
        }
    }

    fn config_complete() -> Result<()> {
        FAULTS.check("config_complete")
    }

    fn dump_plugin() {
        FAULTS.check_void("dump_plugin");
        // What a fault can be attached to (tests/faults.bats checks its
        // table against this).
        println!("faulty_callbacks={}", CALLBACKS.join(","));
    }

    fn load() {
        // load runs before any key: its fault comes from the environment.
        if std::env::var_os("FAULTY_PANIC_IN_LOAD").is_some() {
            panic!("faulty: injected panic");
        }
    }

    fn thread_model() -> Result<ThreadModel> {
        FAULTS.check("thread_model")?;
        Ok(ThreadModel::Parallel)
    }

    fn get_ready() -> Result<()> {
        FAULTS.check("get_ready")
    }

    fn after_fork() -> Result<()> {
        FAULTS.check("after_fork")
    }

    fn cleanup() {
        FAULTS.check_void("cleanup");
    }

    fn unload() {
        FAULTS.check_void("unload");
    }

    fn preconnect(_readonly: bool) -> Result<()> {
        FAULTS.check("preconnect")
    }

    fn list_exports(_readonly: bool, _is_tls: bool, exports: &mut ExportList) -> Result<()> {
        FAULTS.check("list_exports")?;
        exports.add("", Some("faulty disk"))
    }

    fn default_export(_readonly: bool, _is_tls: bool) -> Result<String> {
        FAULTS.check("default_export")?;
        Ok(String::new())
    }

    fn open(_readonly: bool) -> Result<Box<dyn Server>> {
        FAULTS.check("open")?;
        let size = SIZE.load(Ordering::SeqCst) as usize;
        let mut disk = disk();
        if disk.len() != size {
            disk.resize(size, 0);
        }
        Ok(Box::new(Faulty))
    }

    fn get_size(&self) -> Result<i64> {
        FAULTS.check("get_size")?;
        Ok(SIZE.load(Ordering::SeqCst))
    }

    fn export_description(&self) -> Result<String> {
        FAULTS.check("export_description")?;
        Ok("faulty disk".to_string())
    }

    fn block_size(&self) -> Result<(u32, u32, u32)> {
        FAULTS.check("block_size")?;
        Ok((1, 4096, 0xffff_ffff))
    }

    fn can_write(&self) -> Result<bool> {
        FAULTS.check("can_write")?;
        Ok(true)
    }

    fn can_flush(&self) -> Result<bool> {
        FAULTS.check("can_flush")?;
        Ok(true)
    }

    fn is_rotational(&self) -> Result<bool> {
        FAULTS.check("is_rotational")?;
        Ok(false)
    }

    fn can_trim(&self) -> Result<bool> {
        FAULTS.check("can_trim")?;
        Ok(true)
    }

    fn can_zero(&self) -> Result<bool> {
        FAULTS.check("can_zero")?;
        Ok(true)
    }

    fn can_fast_zero(&self) -> Result<bool> {
        FAULTS.check("can_fast_zero")?;
        Ok(true)
    }

    fn can_fua(&self) -> Result<FuaFlags> {
        FAULTS.check("can_fua")?;
        Ok(FuaFlags::Native)
    }

    fn can_multi_conn(&self) -> Result<bool> {
        FAULTS.check("can_multi_conn")?;
        Ok(true)
    }

    fn can_extents(&self) -> Result<bool> {
        FAULTS.check("can_extents")?;
        Ok(true)
    }

    fn can_cache(&self) -> Result<CacheFlags> {
        FAULTS.check("can_cache")?;
        Ok(CacheFlags::Native)
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<()> {
        FAULTS.check("pread")?;
        let r = range(buf.len(), offset)?;
        buf.copy_from_slice(&disk()[r]);
        Ok(())
    }

    fn write_at(&self, buf: &[u8], offset: u64, _flags: Flags) -> Result<()> {
        FAULTS.check("pwrite")?;
        let r = range(buf.len(), offset)?;
        disk()[r].copy_from_slice(buf);
        Ok(())
    }

    fn flush(&self) -> Result<()> {
        FAULTS.check("flush")
    }

    fn trim(&self, count: u32, offset: u64, _flags: Flags) -> Result<()> {
        FAULTS.check("trim")?;
        let r = range(count as usize, offset)?;
        disk()[r].fill(0);
        Ok(())
    }

    fn zero(&self, count: u32, offset: u64, _flags: Flags) -> Result<()> {
        FAULTS.check("zero")?;
        let r = range(count as usize, offset)?;
        disk()[r].fill(0);
        Ok(())
    }

    fn extents(&self, count: u32, offset: u64, _flags: Flags, h: &mut ExtentHandle) -> Result<()> {
        FAULTS.check("extents")?;
        h.add(offset, count as u64, ExtentType::Allocated)
    }

    fn cache(&self, count: u32, offset: u64) -> Result<()> {
        FAULTS.check("cache")?;
        range(count as usize, offset).map(|_| ())
    }
}

impl Drop for Faulty {
    fn drop(&mut self) {
        FAULTS.check_void("close");
    }
}

plugin!(Faulty {
    load,
    config,
    config_complete,
    dump_plugin,
    thread_model,
    get_ready,
    after_fork,
    cleanup,
    unload,
    preconnect,
    list_exports,
    default_export,
    export_description,
    block_size,
    can_write,
    can_flush,
    is_rotational,
    can_trim,
    can_zero,
    can_fast_zero,
    can_fua,
    can_multi_conn,
    can_extents,
    can_cache,
    write_at,
    flush,
    trim,
    zero,
    extents,
    cache
});
