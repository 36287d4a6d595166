// SPDX-License-Identifier: BSD-2-Clause
//! faulty_filter: a pass-through filter whose callbacks fail or panic
//! on demand (tests/filter-faults.bats), the filter twin of faulty.rs.
//!
//!     nbdkit --filter=rust memory 1M rust-filter=libfaulty_filter.so \
//!            fail=pread errno=ENOSPC times=1
//!
//! Every callback, all of them listed in filter!, first asks the fault
//! list (behaviour::Faults over behaviour::FILTER_CALLBACKS) whether to
//! fail or panic, then does its ordinary job: pass the call on to the
//! layer below.  The faults come from the keys after rust-filter=, in
//! order, as for faulty:
//!
//!   fail=CALLBACK   start a fault: CALLBACK returns an error
//!   panic=CALLBACK  start a fault: CALLBACK panics
//!   errno=NAME|N    the errno of a fail= (default EIO)
//!   message=TEXT    the error or panic message
//!   after=N         let the first N calls through
//!   times=N         then fire on N calls only (default: on every one)
//!   description=TEXT  the export description it reports (default
//!                   "faulty filter disk"; the layer below's is ignored)
//!
//! Every other key is passed on.  CALLBACK is an nbdkit filter callback
//! name, "close" meaning the connection's value's Drop.  A fault on
//! "config" fires on the first non-fault key after it (description=,
//! or a key passed on).  cleanup, unload and close cannot fail, only
//! panic.  load runs before any key: FAULTY_FILTER_LOAD (in the
//! environment) holds fault keys for it, e.g. "panic=load times=1".
//! With -v, load logs the callbacks a fault can name
//! ("faulty_filter: callbacks: load,unload,...").

use nbdkit::*;
use rust_test_plugins::behaviour::{Faults, FILTER_CALLBACKS};
use std::sync::Mutex;

static FAULTS: Faults = Faults::with_callbacks(
    "faulty_filter",
    FILTER_CALLBACKS,
    "faulty_filter: injected panic",
);
static DESCRIPTION: Mutex<Option<String>> = Mutex::new(None);

struct FaultyFilter;

impl Filter for FaultyFilter {
    fn name() -> &'static str {
        "faulty_filter"
    }

    fn load() -> Result<()> {
        debug!("faulty_filter: callbacks: {}", FILTER_CALLBACKS.join(","));
        if let Ok(keys) = std::env::var("FAULTY_FILTER_LOAD") {
            for kv in keys.split_whitespace() {
                let (key, value) = kv.split_once('=').unwrap_or((kv, ""));
                if !FAULTS.config(key, value)? {
                    return Err(Error::new(
                        errno::EINVAL,
                        format!("faulty_filter: FAULTY_FILTER_LOAD: {kv}: not a fault key"),
                    ));
                }
            }
        }
        FAULTS.check("load")
    }

    fn unload() {
        FAULTS.check_void("unload");
    }

    fn config(next: &NextConfig, key: &str, value: &str) -> Result<()> {
        if FAULTS.config(key, value)? {
            return Ok(());
        }
        FAULTS.check("config")?;
        if key == "description" {
            *DESCRIPTION.lock().unwrap_or_else(|e| e.into_inner()) = Some(value.to_string());
            return Ok(());
        }
        next.config(key, value)
    }

    fn config_complete(next: &NextConfigComplete) -> Result<()> {
        FAULTS.check("config_complete")?;
        next.config_complete()
    }

    fn thread_model() -> Result<ThreadModel> {
        FAULTS.check("thread_model")?;
        Ok(ThreadModel::Parallel)
    }

    fn get_ready(_model: ThreadModel) -> Result<()> {
        FAULTS.check("get_ready")
    }

    fn after_fork(_backend: &Backend) -> Result<()> {
        FAULTS.check("after_fork")
    }

    fn cleanup(_backend: &Backend) {
        FAULTS.check_void("cleanup");
    }

    fn preconnect(next: &NextPreconnect, readonly: bool) -> Result<()> {
        FAULTS.check("preconnect")?;
        next.preconnect(readonly)
    }

    fn list_exports(
        next: &NextListExports,
        readonly: bool,
        _is_tls: bool,
        exports: &mut ExportList,
    ) -> Result<()> {
        FAULTS.check("list_exports")?;
        next.list_exports(readonly, exports)
    }

    fn default_export(next: &NextDefaultExport, readonly: bool, _is_tls: bool) -> Result<String> {
        FAULTS.check("default_export")?;
        next.default_export(readonly)
    }

    fn open(
        next: &mut NextOpen,
        readonly: bool,
        export_name: &str,
        _is_tls: bool,
    ) -> Result<Box<dyn Filter>> {
        FAULTS.check("open")?;
        next.open(readonly, export_name)?;
        Ok(Box::new(FaultyFilter))
    }

    fn prepare(&self, _next: &Next, _readonly: bool) -> Result<()> {
        FAULTS.check("prepare")
    }

    fn finalize(&self, _next: &Next) -> Result<()> {
        FAULTS.check("finalize")
    }

    fn get_size(&self, next: &Next) -> Result<u64> {
        FAULTS.check("get_size")?;
        next.get_size()
    }

    fn export_description(&self, _next: &Next) -> Result<Option<String>> {
        FAULTS.check("export_description")?;
        let description = DESCRIPTION.lock().unwrap_or_else(|e| e.into_inner());
        Ok(Some(
            description
                .clone()
                .unwrap_or_else(|| "faulty filter disk".to_string()),
        ))
    }

    fn block_size(&self, next: &Next) -> Result<(u32, u32, u32)> {
        FAULTS.check("block_size")?;
        next.block_size()
    }

    fn can_write(&self, next: &Next) -> Result<bool> {
        FAULTS.check("can_write")?;
        next.can_write()
    }

    fn can_flush(&self, next: &Next) -> Result<bool> {
        FAULTS.check("can_flush")?;
        next.can_flush()
    }

    fn is_rotational(&self, next: &Next) -> Result<bool> {
        FAULTS.check("is_rotational")?;
        next.is_rotational()
    }

    fn can_trim(&self, next: &Next) -> Result<bool> {
        FAULTS.check("can_trim")?;
        next.can_trim()
    }

    fn can_zero(&self, next: &Next) -> Result<ZeroMode> {
        FAULTS.check("can_zero")?;
        next.can_zero()
    }

    fn can_fast_zero(&self, next: &Next) -> Result<bool> {
        FAULTS.check("can_fast_zero")?;
        next.can_fast_zero()
    }

    fn can_extents(&self, next: &Next) -> Result<bool> {
        FAULTS.check("can_extents")?;
        next.can_extents()
    }

    fn can_fua(&self, next: &Next) -> Result<FuaFlags> {
        FAULTS.check("can_fua")?;
        next.can_fua()
    }

    fn can_multi_conn(&self, next: &Next) -> Result<bool> {
        FAULTS.check("can_multi_conn")?;
        next.can_multi_conn()
    }

    fn can_cache(&self, next: &Next) -> Result<CacheFlags> {
        FAULTS.check("can_cache")?;
        next.can_cache()
    }

    fn read_at(&self, next: &Next, buf: &mut [u8], offset: u64, flags: Flags) -> Result<()> {
        FAULTS.check("pread")?;
        next.read_at(buf, offset, flags)
    }

    fn write_at(&self, next: &Next, buf: &[u8], offset: u64, flags: Flags) -> Result<()> {
        FAULTS.check("pwrite")?;
        next.write_at(buf, offset, flags)
    }

    fn flush(&self, next: &Next, flags: Flags) -> Result<()> {
        FAULTS.check("flush")?;
        next.flush(flags)
    }

    fn trim(&self, next: &Next, count: u32, offset: u64, flags: Flags) -> Result<()> {
        FAULTS.check("trim")?;
        next.trim(count, offset, flags)
    }

    fn zero(&self, next: &Next, count: u32, offset: u64, flags: Flags) -> Result<()> {
        FAULTS.check("zero")?;
        next.zero(count, offset, flags)
    }

    fn extents(
        &self,
        next: &Next,
        count: u32,
        offset: u64,
        flags: Flags,
        extents: &mut ExtentHandle,
    ) -> Result<()> {
        FAULTS.check("extents")?;
        next.extents(count, offset, flags, extents)
    }

    fn cache(&self, next: &Next, count: u32, offset: u64, flags: Flags) -> Result<()> {
        FAULTS.check("cache")?;
        next.cache(count, offset, flags)
    }
}

impl Drop for FaultyFilter {
    fn drop(&mut self) {
        FAULTS.check_void("close");
    }
}

filter!(FaultyFilter {
    load,
    unload,
    config,
    config_complete,
    thread_model,
    get_ready,
    after_fork,
    cleanup,
    preconnect,
    list_exports,
    default_export,
    prepare,
    finalize,
    get_size,
    export_description,
    block_size,
    can_write,
    can_flush,
    is_rotational,
    can_trim,
    can_zero,
    can_fast_zero,
    can_extents,
    can_fua,
    can_multi_conn,
    can_cache,
    read_at,
    write_at,
    flush,
    trim,
    zero,
    extents,
    cache
});
