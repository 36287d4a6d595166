// SPDX-License-Identifier: BSD-2-Clause
//! Filter types the tests drive through their descriptors.
//!
//! `Inverting` implements nearly every method (reads and writes invert
//! every bit, the size is halved, ...) and records what it was called
//! with (`plugins::record`); some arguments make it fail or panic on
//! purpose.  `Nothing` implements only the two required methods.

use std::mem::MaybeUninit;

use super::plugins::record;
use crate::errno::{EACCES, ENOSPC, EPERM};
use crate::filter_descriptor::{FilterBuilder, FilterDescriptor};
use crate::{
    Backend, CacheFlags, Error, ExportList, Exports, ExtentHandle, Filter, Flags, FuaFlags, Next,
    NextConfig, NextConfigComplete, NextDefaultExport, NextListExports, NextOpen, NextPreconnect,
    Result, ThreadModel, ZeroMode,
};

/// A read at this offset panics.
pub const PANIC_OFFSET: u64 = 4096;
/// A read at this offset fails with ENOSPC.
pub const ERR_OFFSET: u64 = 8192;

pub struct Inverting;

impl Drop for Inverting {
    fn drop(&mut self) {
        record("drop".into());
    }
}

fn invert(buf: &mut [u8]) {
    for b in buf {
        *b = !*b;
    }
}

impl Filter for Inverting {
    fn name() -> &'static str {
        "inverting"
    }
    fn longname() -> Option<&'static str> {
        Some("The inverting test filter")
    }
    fn version() -> Option<&'static str> {
        Some("1.0")
    }
    fn description() -> Option<&'static str> {
        Some("Inverts every bit.")
    }
    fn config_help() -> Option<&'static str> {
        Some("inv-key=VALUE  Taken by the filter.")
    }
    fn load() -> Result<()> {
        record("load".into());
        Ok(())
    }
    fn unload() {
        record("unload".into());
    }
    fn config(next: &NextConfig, key: &str, value: &str) -> Result<()> {
        match key {
            "inv-key" => {
                record(format!("config {}={}", key, value));
                Ok(())
            }
            "inv-fail" => Err(Error::new(EPERM, format!("inv-fail={} refused", value))),
            "inv-panic" => panic!("config panicked"),
            _ => next.config(key, value),
        }
    }
    fn config_complete(next: &NextConfigComplete) -> Result<()> {
        record("config_complete".into());
        next.config_complete()
    }
    fn thread_model() -> Result<ThreadModel> {
        Ok(ThreadModel::SerializeAllRequests)
    }
    fn get_ready(model: ThreadModel) -> Result<()> {
        record(format!("get_ready {:?}", model));
        Ok(())
    }
    fn after_fork(_backend: &Backend) -> Result<()> {
        record("after_fork".into());
        Ok(())
    }
    fn cleanup(_backend: &Backend) {
        record("cleanup".into());
    }
    fn preconnect(next: &NextPreconnect, readonly: bool) -> Result<()> {
        record(format!("preconnect {}", readonly));
        next.preconnect(readonly)
    }
    fn list_exports(
        next: &NextListExports,
        readonly: bool,
        _is_tls: bool,
        exports: &mut ExportList,
    ) -> Result<()> {
        let mut below = Exports::new()?;
        next.list_exports(readonly, &mut below)?;
        for (name, description) in below.iter() {
            exports.add(&format!("inv-{}", name), description.as_deref())?;
        }
        Ok(())
    }
    fn default_export(next: &NextDefaultExport, readonly: bool, _is_tls: bool) -> Result<String> {
        Ok(format!("inv-{}", next.default_export(readonly)?))
    }
    fn open(
        next: &mut NextOpen,
        readonly: bool,
        export_name: &str,
        is_tls: bool,
    ) -> Result<Box<dyn Filter>> {
        record(format!(
            "open readonly={} name={:?} tls={}",
            readonly, export_name, is_tls
        ));
        match export_name {
            "refused" => return Err(Error::new(EACCES, "export refused")),
            "below-read-only" => next.open(true, "below")?,
            "twice" => {
                next.open(readonly, export_name)?;
                next.open(readonly, export_name)?;
            }
            _ => {}
        }
        Ok(Box::new(Inverting))
    }
    fn prepare(&self, next: &Next, readonly: bool) -> Result<()> {
        record(format!("prepare {} size={}", readonly, next.get_size()?));
        Ok(())
    }
    fn finalize(&self, _next: &Next) -> Result<()> {
        record("finalize".into());
        Ok(())
    }
    fn get_size(&self, next: &Next) -> Result<u64> {
        Ok(next.get_size()? / 2)
    }
    fn export_description(&self, next: &Next) -> Result<Option<String>> {
        Ok(Some(format!(
            "inverted {}",
            next.export_description()?.unwrap_or_default()
        )))
    }
    fn block_size(&self, _next: &Next) -> Result<(u32, u32, u32)> {
        Ok((512, 4096, 1 << 20))
    }
    fn can_zero(&self, _next: &Next) -> Result<ZeroMode> {
        Ok(ZeroMode::Emulate)
    }
    fn can_fua(&self, _next: &Next) -> Result<FuaFlags> {
        Ok(FuaFlags::Emulate)
    }
    fn can_cache(&self, _next: &Next) -> Result<CacheFlags> {
        Ok(CacheFlags::None)
    }
    fn is_rotational(&self, _next: &Next) -> Result<bool> {
        Ok(true)
    }
    fn read_at(&self, next: &Next, buf: &mut [u8], offset: u64, flags: Flags) -> Result<()> {
        record(format!("read_at zeroed={}", buf.iter().all(|&b| b == 0)));
        match offset {
            PANIC_OFFSET => panic!("read_at panicked"),
            ERR_OFFSET => return Err(Error::new(ENOSPC, "read_at: no space")),
            _ => {}
        }
        next.read_at(buf, offset, flags)?;
        invert(buf);
        Ok(())
    }
    fn write_at(&self, next: &Next, buf: &[u8], offset: u64, flags: Flags) -> Result<()> {
        let mut copy = buf.to_vec();
        invert(&mut copy);
        next.write_at(&copy, offset, flags)
    }
    fn extents(
        &self,
        next: &Next,
        count: u32,
        offset: u64,
        flags: Flags,
        extents: &mut ExtentHandle,
    ) -> Result<()> {
        let below = next.extents_full(count, offset, flags)?;
        for (offset, length, kind) in &below {
            extents.add(offset, length, kind)?;
        }
        Ok(())
    }
}

/// The builder of `Inverting` with every method it implements listed,
/// and the pass-through defaults `can_write`, `flush`, `trim`, `zero`,
/// `cache` listed too.
pub fn inverting_builder() -> FilterBuilder<Inverting> {
    let mut b = FilterBuilder::<Inverting>::new();
    b.load();
    b.unload();
    b.config();
    b.config_complete();
    b.thread_model();
    b.get_ready();
    b.after_fork();
    b.cleanup();
    b.preconnect();
    b.list_exports();
    b.default_export();
    b.prepare();
    b.finalize();
    b.get_size();
    b.export_description();
    b.block_size();
    b.can_write();
    b.is_rotational();
    b.can_zero();
    b.can_fua();
    b.can_cache();
    b.read_at();
    b.write_at();
    b.flush();
    b.trim();
    b.zero();
    b.extents();
    b.cache();
    b
}

pub fn inverting_descriptor() -> FilterDescriptor {
    inverting_builder().build().unwrap()
}

/// Only the required methods.
pub struct Nothing;

impl Filter for Nothing {
    fn name() -> &'static str {
        "nothing"
    }
    fn open(_: &mut NextOpen, _: bool, _: &str, _: bool) -> Result<Box<dyn Filter>> {
        Ok(Box::new(Nothing))
    }
}

/// Fills reads with 0xee itself, through read_at_uninit when listed
/// (leaving the last byte unwritten when asked to).
pub struct Filling {
    pub skip_last: bool,
}

impl Filter for Filling {
    fn name() -> &'static str {
        "filling"
    }
    fn open(_: &mut NextOpen, _: bool, name: &str, _: bool) -> Result<Box<dyn Filter>> {
        Ok(Box::new(Filling {
            skip_last: name == "skip-last",
        }))
    }
    fn read_at(&self, _next: &Next, buf: &mut [u8], _offset: u64, _flags: Flags) -> Result<()> {
        record(format!("read_at zeroed={}", buf.iter().all(|&b| b == 0)));
        let n = buf.len() - usize::from(self.skip_last);
        buf[..n].fill(0xee);
        Ok(())
    }
    fn read_at_uninit(
        &self,
        _next: &Next,
        buf: &mut [MaybeUninit<u8>],
        _offset: u64,
        _flags: Flags,
    ) -> Result<()> {
        record("read_at_uninit".into());
        let n = buf.len() - usize::from(self.skip_last);
        crate::uninit::fill(&mut buf[..n], 0xee);
        Ok(())
    }
}
