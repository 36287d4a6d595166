// SPDX-License-Identifier: BSD-2-Clause
//! Plugin types the tests drive through their descriptors.
//!
//! `Full` implements every method and records what it was called with;
//! some argument values make it fail or panic on purpose.  `Minimal`
//! implements only the four required methods.  `PanicOnDrop` panics
//! when its connection is dropped, and in `cleanup`.

use std::cell::{Cell, RefCell};
use std::os::raw::c_void;

use crate::descriptor::{Builder, Descriptor};
use crate::errno::{ENOSPC, EPERM};
use crate::{
    CacheFlags, Error, ExportList, ExtentHandle, ExtentType, Flags, FuaFlags, Result, Server,
    ThreadModel,
};

thread_local! {
    /// What the plugin's methods were called with, on this thread.
    static CALLS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    /// How many `Full` connections were dropped on this thread.
    static DROPS: Cell<usize> = const { Cell::new(0) };
}

pub fn record(call: String) {
    CALLS.with(|calls| calls.borrow_mut().push(call));
}

/// Take (and clear) this thread's calls.
pub fn take_calls() -> Vec<String> {
    CALLS.with(|calls| std::mem::take(&mut *calls.borrow_mut()))
}

pub fn drops() -> usize {
    DROPS.with(|d| d.get())
}

/// An error whose Display panics, to check that formatting an error
/// cannot unwind into C either.
#[derive(Debug)]
struct BadDisplay;

impl std::fmt::Display for BadDisplay {
    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        panic!("Display panicked")
    }
}

impl std::error::Error for BadDisplay {}

pub struct Full {
    readonly: bool,
}

impl Drop for Full {
    fn drop(&mut self) {
        DROPS.with(|d| d.set(d.get() + 1));
        record("drop".into());
    }
}

impl Server for Full {
    fn name() -> &'static str {
        "full"
    }
    fn longname() -> Option<&'static str> {
        Some("The full test plugin")
    }
    fn version() -> Option<&'static str> {
        Some("1.2.3")
    }
    fn description() -> Option<&'static str> {
        Some("Implements every method.")
    }
    fn config_help() -> Option<&'static str> {
        Some("key=value  Anything.")
    }
    fn magic_config_key() -> Option<&'static str> {
        Some("file")
    }

    fn load() {
        record("load".into());
    }
    fn unload() {
        record("unload".into());
    }
    fn config(key: &str, value: &str) -> Result<()> {
        match key {
            "panic" => panic!("config panicked: {}", value),
            "fail" => Err(Error::new(ENOSPC, format!("config failed: {}", value))),
            "nofmt" => Err(Error::new(ENOSPC, BadDisplay)),
            _ => {
                record(format!("config {}={}", key, value));
                Ok(())
            }
        }
    }
    fn config_complete() -> Result<()> {
        record("config_complete".into());
        Ok(())
    }
    fn dump_plugin() {
        record("dump_plugin".into());
    }
    fn thread_model() -> Result<ThreadModel> {
        Ok(ThreadModel::SerializeRequests)
    }
    fn get_ready() -> Result<()> {
        record("get_ready".into());
        Ok(())
    }
    fn after_fork() -> Result<()> {
        record("after_fork".into());
        Ok(())
    }
    fn cleanup() {
        record("cleanup".into());
    }
    fn preconnect(readonly: bool) -> Result<()> {
        if readonly {
            Err(Error::new(EPERM, "preconnect: go away"))
        } else {
            Ok(())
        }
    }
    fn list_exports(readonly: bool, is_tls: bool, exports: &mut ExportList) -> Result<()> {
        exports.add("a", Some(&format!("readonly={} tls={}", readonly, is_tls)))?;
        exports.add("b", None)?;
        exports.use_default()
    }
    fn default_export(_readonly: bool, is_tls: bool) -> Result<String> {
        if is_tls {
            Ok("bad\0name".into())
        } else {
            Ok("a".into())
        }
    }
    fn open(readonly: bool) -> Result<Box<dyn Server>> {
        record(format!("open readonly={}", readonly));
        Ok(Box::new(Full { readonly }))
    }

    fn get_size(&self) -> Result<i64> {
        Ok(if self.readonly { -5 } else { 1 << 20 })
    }
    fn export_description(&self) -> Result<String> {
        Ok(format!("full disk, readonly={}", self.readonly))
    }
    fn block_size(&self) -> Result<(u32, u32, u32)> {
        Ok((512, 4096, 0xffff_ffff))
    }
    fn can_write(&self) -> Result<bool> {
        Ok(!self.readonly)
    }
    fn can_flush(&self) -> Result<bool> {
        Ok(true)
    }
    fn is_rotational(&self) -> Result<bool> {
        Ok(false)
    }
    fn can_trim(&self) -> Result<bool> {
        Ok(true)
    }
    fn can_zero(&self) -> Result<bool> {
        Ok(true)
    }
    fn can_fast_zero(&self) -> Result<bool> {
        Err(Error::new(EPERM, "can_fast_zero failed"))
    }
    fn can_fua(&self) -> Result<FuaFlags> {
        Ok(FuaFlags::Native)
    }
    fn can_multi_conn(&self) -> Result<bool> {
        Ok(true)
    }
    fn can_extents(&self) -> Result<bool> {
        panic!("can_extents panicked")
    }
    fn can_cache(&self) -> Result<CacheFlags> {
        Ok(CacheFlags::Emulate)
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<()> {
        match offset {
            1 => Err(Error::new(ENOSPC, "read_at: no space")),
            2 => panic!("read_at panicked at offset {}", offset),
            3 => Err(Error::new(0, "read_at: no errno")),
            4 => Err(std::io::Error::new(std::io::ErrorKind::Other, "io failure").into()),
            _ => {
                buf.fill(offset as u8);
                record(format!("read_at len={} offset={}", buf.len(), offset));
                Ok(())
            }
        }
    }
    fn write_at(&self, buf: &[u8], offset: u64, flags: Flags) -> Result<()> {
        record(format!(
            "write_at {:?} offset={} flags={:?}",
            std::str::from_utf8(buf).unwrap_or("?"),
            offset,
            flags
        ));
        Ok(())
    }
    fn flush(&self) -> Result<()> {
        record("flush".into());
        Ok(())
    }
    fn trim(&self, count: u32, offset: u64, flags: Flags) -> Result<()> {
        record(format!(
            "trim count={} offset={} flags={:?}",
            count, offset, flags
        ));
        Ok(())
    }
    fn zero(&self, count: u32, offset: u64, flags: Flags) -> Result<()> {
        if flags.contains(Flags::FAST_ZERO) {
            return Err(Error::new(crate::errno::ENOTSUP, "zero: no fast zero"));
        }
        record(format!(
            "zero count={} offset={} flags={:?}",
            count, offset, flags
        ));
        Ok(())
    }
    fn extents(
        &self,
        count: u32,
        offset: u64,
        flags: Flags,
        extent_handle: &mut ExtentHandle,
    ) -> Result<()> {
        extent_handle.add(offset, 4096, ExtentType::Allocated)?;
        if !flags.contains(Flags::REQ_ONE) {
            extent_handle.add(offset + 4096, u64::from(count) - 4096, ExtentType::HoleZero)?;
        }
        if count == 8192 {
            // Not contiguous: nbdkit refuses it.
            extent_handle.add(offset + 3 * 8192, 1, ExtentType::Zero)?;
        }
        Ok(())
    }
    fn cache(&self, count: u32, offset: u64) -> Result<()> {
        record(format!("cache count={} offset={}", count, offset));
        Ok(())
    }
}

/// A builder for plugin type `T` with every optional method listed,
/// as `plugin!` makes it.
pub fn all_listed<T: Server + 'static>() -> Builder<T> {
    let mut b = Builder::<T>::new();
    b.write_at();
    b.flush();
    b.trim();
    b.zero();
    b.extents();
    b.cache();
    b.can_write();
    b.can_flush();
    b.is_rotational();
    b.can_trim();
    b.can_zero();
    b.can_fast_zero();
    b.can_fua();
    b.can_multi_conn();
    b.can_extents();
    b.can_cache();
    b.export_description();
    b.block_size();
    b.load();
    b.unload();
    b.config();
    b.config_complete();
    b.dump_plugin();
    b.thread_model();
    b.get_ready();
    b.after_fork();
    b.cleanup();
    b.preconnect();
    b.list_exports();
    b.default_export();
    b
}

/// The descriptor of `Full` with every optional method listed, built as
/// plugin! builds it.
pub fn full_descriptor() -> Descriptor {
    all_listed::<Full>()
        .build()
        .expect("the Full descriptor builds")
}

/// Only the required methods.
pub struct Minimal;

impl Server for Minimal {
    fn name() -> &'static str {
        "minimal"
    }
    fn open(_readonly: bool) -> Result<Box<dyn Server>> {
        Ok(Box::new(Minimal))
    }
    fn get_size(&self) -> Result<i64> {
        Ok(512)
    }
    fn read_at(&self, buf: &mut [u8], _offset: u64) -> Result<()> {
        buf.fill(0);
        Ok(())
    }
}

/// A connection whose Drop panics.
pub struct PanicOnDrop;

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        record("PanicOnDrop dropped".into());
        panic!("drop panicked")
    }
}

impl Server for PanicOnDrop {
    fn name() -> &'static str {
        "panic_on_drop"
    }
    fn cleanup() {
        panic!("cleanup panicked")
    }
    fn open(readonly: bool) -> Result<Box<dyn Server>> {
        if readonly {
            panic!("open panicked")
        }
        Ok(Box::new(PanicOnDrop))
    }
    fn get_size(&self) -> Result<i64> {
        Ok(0)
    }
    fn read_at(&self, _buf: &mut [u8], _offset: u64) -> Result<()> {
        Ok(())
    }
}

/// An open connection of a descriptor, for calling its callbacks.
pub struct Conn<'a> {
    pub d: &'a Descriptor,
    pub h: *mut c_void,
}

impl<'a> Conn<'a> {
    pub fn open(d: &'a Descriptor, readonly: bool) -> Conn<'a> {
        let open = d.raw().open.unwrap();
        // SAFETY: the descriptor's open callback takes a plain integer.
        let h = unsafe { open(i32::from(readonly)) };
        assert!(!h.is_null(), "open failed");
        Conn { d, h }
    }

    pub fn close(self) {
        let close = self.d.raw().close.unwrap();
        // SAFETY: `h` came from this descriptor's open and is closed once
        // (close consumes self).
        unsafe { close(self.h) };
    }
}
