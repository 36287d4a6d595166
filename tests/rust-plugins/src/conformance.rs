// SPDX-License-Identifier: BSD-2-Clause
//! The conformance plugins of defaults.bats and callbacks.bats.
//!
//! Each `examples/sub_<subset>.rs` is the Rust twin of the C plugin
//! `tests/c-plugins/subset-plugin.c` built for the same subset: a 1 MiB
//! RAM disk with the same fixed answers, logging the same
//! `TRACE <callback> <arguments>` debug messages.  The examples
//! implement every `Server` method through [`subset_server!`] and differ
//! only in their [`Answers`] and in the methods their `plugin!` list
//! registers, so a method left out of the list must behave as nbdkit
//! behaves for a C plugin without the callback.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use nbdkit::*;

/// The size of the disk unless the size key says otherwise.
pub const DEFAULT_SIZE: u64 = 1024 * 1024;

/// What the can_* callbacks answer, when registered.
pub struct Answers {
    /// The subset's name, as in c-<subset>.so.
    pub subset: &'static str,
    pub can_write: bool,
    pub can_flush: bool,
    pub can_trim: bool,
    pub can_zero: bool,
    pub can_fast_zero: bool,
    pub can_extents: bool,
    /// `FuaFlags::Native` when true, else `FuaFlags::Emulate`.
    pub can_fua_native: bool,
    /// `CacheFlags::Native` when true, else `CacheFlags::Emulate`.
    pub can_cache_native: bool,
    /// The extents callback reports no extent at all (an error).
    pub extents_empty: bool,
}

impl Answers {
    /// Yes to everything, as the C plugin answers by default.
    pub const YES: Answers = Answers {
        subset: "",
        can_write: true,
        can_flush: true,
        can_trim: true,
        can_zero: true,
        can_fast_zero: true,
        can_extents: true,
        can_fua_native: true,
        can_cache_native: true,
        extents_empty: false,
    };
}

/// The disk, shared by all connections, created by the first open.
static DISK: Mutex<Vec<u8>> = Mutex::new(Vec::new());
static SIZE: AtomicU64 = AtomicU64::new(DEFAULT_SIZE);
/// The size given by the size key, applied by config_complete.
static PENDING_SIZE: AtomicU64 = AtomicU64::new(0);

/// The initial content: the same pattern as the C plugin.
fn pattern(i: u64) -> u8 {
    ((i % 251) + (i >> 12)) as u8
}

fn disk() -> MutexGuard<'static, Vec<u8>> {
    // A panic while holding the lock leaves the bytes usable.
    DISK.lock().unwrap_or_else(|e| e.into_inner())
}

fn size() -> u64 {
    SIZE.load(Ordering::Relaxed)
}

/// "may_trim,fua,..." as the C plugin writes them, "none" for none.
fn flag_names(flags: Flags) -> String {
    let names = [
        (Flags::MAY_TRIM, "may_trim"),
        (Flags::FUA, "fua"),
        (Flags::REQ_ONE, "req_one"),
        (Flags::FAST_ZERO, "fast_zero"),
    ];
    let set: Vec<&str> = names
        .iter()
        .filter(|(flag, _)| flags.contains(*flag))
        .map(|(_, name)| *name)
        .collect();
    if set.is_empty() {
        "none".to_string()
    } else {
        set.join(",")
    }
}

/// The range [offset, offset + len) of the disk, which nbdkit has
/// already checked against the size.
fn range(offset: u64, len: usize) -> std::ops::Range<usize> {
    let start = offset as usize;
    start..start + len
}

fn clear(count: u32, offset: u64) {
    disk()[range(offset, count as usize)].fill(0);
}

/// The behaviour behind every `Server` method of a conformance plugin;
/// [`subset_server!`] forwards each method here.
pub struct Subset {
    pub answers: &'static Answers,
}

impl Subset {
    pub fn load(&self) {
        debug!("TRACE load");
    }

    pub fn unload(&self) {
        debug!("TRACE unload");
    }

    /// size=BYTES changes the size of the disk, once config_complete
    /// has accepted it.
    pub fn config(&self, key: &str, value: &str) -> Result<()> {
        debug!("TRACE config {}={}", key, value);
        if key != "size" {
            return Err(Error::new(
                errno::EINVAL,
                format!("unknown parameter '{}'", key),
            ));
        }
        let bytes = value
            .parse::<u64>()
            .map_err(|e| Error::new(errno::EINVAL, format!("size: {}", e)))?;
        PENDING_SIZE.store(bytes, Ordering::Relaxed);
        Ok(())
    }

    pub fn config_complete(&self) -> Result<()> {
        debug!("TRACE config_complete");
        let pending = PENDING_SIZE.load(Ordering::Relaxed);
        if pending != 0 {
            SIZE.store(pending, Ordering::Relaxed);
        }
        Ok(())
    }

    pub fn dump_plugin(&self) {
        debug!("TRACE dump_plugin");
        println!("subset_dump_plugin={}", self.answers.subset);
    }

    pub fn thread_model(&self) -> Result<ThreadModel> {
        debug!("TRACE thread_model");
        Ok(ThreadModel::SerializeRequests)
    }

    pub fn get_ready(&self) -> Result<()> {
        debug!("TRACE get_ready");
        Ok(())
    }

    pub fn after_fork(&self) -> Result<()> {
        debug!("TRACE after_fork");
        Ok(())
    }

    pub fn cleanup(&self) {
        debug!("TRACE cleanup");
    }

    pub fn preconnect(&self, readonly: bool) -> Result<()> {
        debug!("TRACE preconnect readonly={}", readonly as i32);
        Ok(())
    }

    pub fn list_exports(
        &self,
        readonly: bool,
        is_tls: bool,
        exports: &mut ExportList,
    ) -> Result<()> {
        debug!(
            "TRACE list_exports readonly={} is_tls={}",
            readonly as i32, is_tls as i32
        );
        exports.add("alpha", Some("the first export"))?;
        exports.add("beta", None)?;
        Ok(())
    }

    pub fn default_export(&self, readonly: bool, is_tls: bool) -> Result<String> {
        debug!(
            "TRACE default_export readonly={} is_tls={}",
            readonly as i32, is_tls as i32
        );
        Ok("alpha".to_string())
    }

    pub fn open(&self, readonly: bool) {
        debug!("TRACE open readonly={}", readonly as i32);
        let mut disk = disk();
        if disk.is_empty() {
            *disk = (0..size()).map(pattern).collect();
        }
    }

    pub fn get_size(&self) -> Result<i64> {
        debug!("TRACE get_size");
        Ok(size() as i64)
    }

    pub fn export_description(&self) -> Result<String> {
        debug!("TRACE export_description");
        Ok("conformance RAM disk".to_string())
    }

    pub fn block_size(&self) -> Result<(u32, u32, u32)> {
        debug!("TRACE block_size");
        Ok((512, 4096, 1024 * 1024))
    }

    pub fn can_write(&self) -> Result<bool> {
        debug!("TRACE can_write");
        Ok(self.answers.can_write)
    }

    pub fn can_flush(&self) -> Result<bool> {
        debug!("TRACE can_flush");
        Ok(self.answers.can_flush)
    }

    pub fn is_rotational(&self) -> Result<bool> {
        debug!("TRACE is_rotational");
        Ok(true)
    }

    pub fn can_trim(&self) -> Result<bool> {
        debug!("TRACE can_trim");
        Ok(self.answers.can_trim)
    }

    pub fn can_zero(&self) -> Result<bool> {
        debug!("TRACE can_zero");
        Ok(self.answers.can_zero)
    }

    pub fn can_fast_zero(&self) -> Result<bool> {
        debug!("TRACE can_fast_zero");
        Ok(self.answers.can_fast_zero)
    }

    pub fn can_fua(&self) -> Result<FuaFlags> {
        debug!("TRACE can_fua");
        Ok(if self.answers.can_fua_native {
            FuaFlags::Native
        } else {
            FuaFlags::Emulate
        })
    }

    pub fn can_multi_conn(&self) -> Result<bool> {
        debug!("TRACE can_multi_conn");
        Ok(true)
    }

    pub fn can_extents(&self) -> Result<bool> {
        debug!("TRACE can_extents");
        Ok(self.answers.can_extents)
    }

    pub fn can_cache(&self) -> Result<CacheFlags> {
        debug!("TRACE can_cache");
        Ok(if self.answers.can_cache_native {
            CacheFlags::Native
        } else {
            CacheFlags::Emulate
        })
    }

    pub fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<()> {
        debug!("TRACE pread count={} offset={}", buf.len(), offset);
        buf.copy_from_slice(&disk()[range(offset, buf.len())]);
        Ok(())
    }

    pub fn write_at(&self, buf: &[u8], offset: u64, flags: Flags) -> Result<()> {
        debug!(
            "TRACE pwrite count={} offset={} flags={}",
            buf.len(),
            offset,
            flag_names(flags)
        );
        disk()[range(offset, buf.len())].copy_from_slice(buf);
        Ok(())
    }

    pub fn flush(&self) -> Result<()> {
        debug!("TRACE flush");
        Ok(())
    }

    /// Trimmed ranges read back as zeroes.
    pub fn trim(&self, count: u32, offset: u64, flags: Flags) -> Result<()> {
        debug!(
            "TRACE trim count={} offset={} flags={}",
            count,
            offset,
            flag_names(flags)
        );
        clear(count, offset);
        Ok(())
    }

    pub fn zero(&self, count: u32, offset: u64, flags: Flags) -> Result<()> {
        debug!(
            "TRACE zero count={} offset={} flags={}",
            count,
            offset,
            flag_names(flags)
        );
        clear(count, offset);
        Ok(())
    }

    /// The first half of the disk is data, the second half a hole that
    /// reads as zeroes, whatever was written.
    pub fn extents(
        &self,
        count: u32,
        offset: u64,
        flags: Flags,
        h: &mut ExtentHandle,
    ) -> Result<()> {
        debug!(
            "TRACE extents count={} offset={} flags={}",
            count,
            offset,
            flag_names(flags)
        );
        if self.answers.extents_empty {
            return Ok(());
        }
        let half = size() / 2;
        let mut offset = offset;
        if offset < half {
            h.add(offset, half - offset, ExtentType::Allocated)?;
            offset = half;
        }
        h.add(offset, size() - offset, ExtentType::HoleZero)
    }

    pub fn cache(&self, count: u32, offset: u64) -> Result<()> {
        debug!("TRACE cache count={} offset={}", count, offset);
        Ok(())
    }
}

/// Implements `nbdkit::Server` for a new unit struct `$name`, every
/// method forwarding to a [`Subset`] with the given answers.  Which of
/// them nbdkit gets to call is up to the `plugin!` list.
#[macro_export]
macro_rules! subset_server {
    ($name:ident, $answers:expr) => {
        struct $name;

        const SUBSET: $crate::conformance::Subset =
            $crate::conformance::Subset { answers: &$answers };

        impl ::nbdkit::Server for $name {
            fn name() -> &'static str {
                "subset"
            }
            fn load() {
                SUBSET.load()
            }
            fn unload() {
                SUBSET.unload()
            }
            fn config(key: &str, value: &str) -> ::nbdkit::Result<()> {
                SUBSET.config(key, value)
            }
            fn config_complete() -> ::nbdkit::Result<()> {
                SUBSET.config_complete()
            }
            fn dump_plugin() {
                SUBSET.dump_plugin()
            }
            fn thread_model() -> ::nbdkit::Result<::nbdkit::ThreadModel> {
                SUBSET.thread_model()
            }
            fn get_ready() -> ::nbdkit::Result<()> {
                SUBSET.get_ready()
            }
            fn after_fork() -> ::nbdkit::Result<()> {
                SUBSET.after_fork()
            }
            fn cleanup() {
                SUBSET.cleanup()
            }
            fn preconnect(readonly: bool) -> ::nbdkit::Result<()> {
                SUBSET.preconnect(readonly)
            }
            fn list_exports(
                readonly: bool,
                is_tls: bool,
                exports: &mut ::nbdkit::ExportList,
            ) -> ::nbdkit::Result<()> {
                SUBSET.list_exports(readonly, is_tls, exports)
            }
            fn default_export(readonly: bool, is_tls: bool) -> ::nbdkit::Result<String> {
                SUBSET.default_export(readonly, is_tls)
            }
            fn open(readonly: bool) -> ::nbdkit::Result<Box<dyn ::nbdkit::Server>> {
                SUBSET.open(readonly);
                Ok(Box::new($name))
            }
            fn get_size(&self) -> ::nbdkit::Result<i64> {
                SUBSET.get_size()
            }
            fn export_description(&self) -> ::nbdkit::Result<String> {
                SUBSET.export_description()
            }
            fn block_size(&self) -> ::nbdkit::Result<(u32, u32, u32)> {
                SUBSET.block_size()
            }
            fn can_write(&self) -> ::nbdkit::Result<bool> {
                SUBSET.can_write()
            }
            fn can_flush(&self) -> ::nbdkit::Result<bool> {
                SUBSET.can_flush()
            }
            fn is_rotational(&self) -> ::nbdkit::Result<bool> {
                SUBSET.is_rotational()
            }
            fn can_trim(&self) -> ::nbdkit::Result<bool> {
                SUBSET.can_trim()
            }
            fn can_zero(&self) -> ::nbdkit::Result<bool> {
                SUBSET.can_zero()
            }
            fn can_fast_zero(&self) -> ::nbdkit::Result<bool> {
                SUBSET.can_fast_zero()
            }
            fn can_fua(&self) -> ::nbdkit::Result<::nbdkit::FuaFlags> {
                SUBSET.can_fua()
            }
            fn can_multi_conn(&self) -> ::nbdkit::Result<bool> {
                SUBSET.can_multi_conn()
            }
            fn can_extents(&self) -> ::nbdkit::Result<bool> {
                SUBSET.can_extents()
            }
            fn can_cache(&self) -> ::nbdkit::Result<::nbdkit::CacheFlags> {
                SUBSET.can_cache()
            }
            fn read_at(&self, buf: &mut [u8], offset: u64) -> ::nbdkit::Result<()> {
                SUBSET.read_at(buf, offset)
            }
            fn write_at(
                &self,
                buf: &[u8],
                offset: u64,
                flags: ::nbdkit::Flags,
            ) -> ::nbdkit::Result<()> {
                SUBSET.write_at(buf, offset, flags)
            }
            fn flush(&self) -> ::nbdkit::Result<()> {
                SUBSET.flush()
            }
            fn trim(
                &self,
                count: u32,
                offset: u64,
                flags: ::nbdkit::Flags,
            ) -> ::nbdkit::Result<()> {
                SUBSET.trim(count, offset, flags)
            }
            fn zero(
                &self,
                count: u32,
                offset: u64,
                flags: ::nbdkit::Flags,
            ) -> ::nbdkit::Result<()> {
                SUBSET.zero(count, offset, flags)
            }
            fn extents(
                &self,
                count: u32,
                offset: u64,
                flags: ::nbdkit::Flags,
                h: &mut ::nbdkit::ExtentHandle,
            ) -> ::nbdkit::Result<()> {
                SUBSET.extents(count, offset, flags, h)
            }
            fn cache(&self, count: u32, offset: u64) -> ::nbdkit::Result<()> {
                SUBSET.cache(count, offset)
            }
        }
    };
}
