// SPDX-License-Identifier: BSD-2-Clause
//! Shared code for the reload test plugins (reload.bats): builds of one
//! RAM disk that differ, by their compile-time tag, in size and in what
//! they read where nothing was written, so that a client can tell which
//! build serves it.
//!
//! Keys (a new build gets them all again, replayed by the loader):
//!
//!   note=TEXT           logged as "reload X: config note=TEXT"
//!   fail=TAGS:CALLBACK  the builds whose tag is in TAGS fail CALLBACK
//!                       (config_complete, get_ready or after_fork)
//!   strict=TAGS         the builds whose tag is in TAGS ask for the
//!                       serialize_requests thread model
//!
//! Every lifecycle callback logs "reload X: CALLBACK" (nbdkit -v).  The
//! disk is plugin-global: the connections to one build share it, and a
//! new build starts from a blank disk of its own.
//!
//! open and reads use a thread-local buffer, as a plugin's per-thread
//! scratch space would.  Its destructor is registered with glibc in the
//! threads that use it, and glibc keeps a library mapped after dlclose
//! while a live thread has such destructors registered in it: the
//! reload tests check that a retired build is unmapped all the same.

use nbdkit::*;
use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, RwLock};

/// The disk: `SIZE` bytes of `TAG` until written.  Allocated by `load`.
static DISK: RwLock<Vec<u8>> = RwLock::new(Vec::new());

/// The callback this build fails, from fail=.
static FAIL: Mutex<Option<String>> = Mutex::new(None);

/// Whether this build asks for serialize_requests, from strict=.
static STRICT: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// Per-thread scratch space for reads.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The callbacks fail= may name.
const FAILABLE: &[&str] = &["config_complete", "get_ready", "after_fork"];

/// One build of the reload test disk: `SIZE` bytes that read as the
/// byte `TAG` until written.  The connection holds nothing; the disk is
/// global.
pub struct ReloadDisk<const TAG: u8, const SIZE: u64>;

impl<const TAG: u8, const SIZE: u64> ReloadDisk<TAG, SIZE> {
    fn tag() -> char {
        TAG as char
    }

    /// Logs CALLBACK, then fails it if fail= named it for this build.
    fn lifecycle(callback: &str) -> Result<()> {
        debug!("reload {}: {callback}", Self::tag());
        let fail = FAIL.lock().unwrap_or_else(|e| e.into_inner());
        if fail.as_deref() == Some(callback) {
            return Err(Error::new(
                errno::EIO,
                format!("reload {}: {callback} fails, as fail= asked", Self::tag()),
            ));
        }
        Ok(())
    }

    /// Whether TAGS (from fail= or strict=) names this build.
    fn named_in(tags: &str) -> bool {
        tags.bytes().any(|b| b == TAG)
    }
}

impl<const TAG: u8, const SIZE: u64> Server for ReloadDisk<TAG, SIZE> {
    fn name() -> &'static str {
        "reload"
    }

    fn load() {
        debug!("reload {}: load", Self::tag());
        let mut disk = DISK.write().unwrap_or_else(|e| e.into_inner());
        disk.clear();
        disk.resize(SIZE as usize, TAG);
    }

    /// Statics are never dropped, and dlclose does not free what they
    /// own: a build that is retired while nbdkit runs on must free its
    /// global state here, or leak it.
    fn unload() {
        debug!("reload {}: unload", Self::tag());
        *DISK.write().unwrap_or_else(|e| e.into_inner()) = Vec::new();
        *FAIL.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    fn config(key: &str, value: &str) -> Result<()> {
        debug!("reload {}: config {key}={value}", Self::tag());
        match key {
            "note" => Ok(()),
            "fail" => {
                let (tags, callback) = value.split_once(':').unwrap_or(("", ""));
                if !FAILABLE.contains(&callback) {
                    return Err(Error::new(
                        errno::EINVAL,
                        format!("reload: fail={value}: expected TAGS:CALLBACK, CALLBACK one of {FAILABLE:?}"),
                    ));
                }
                if Self::named_in(tags) {
                    *FAIL.lock().unwrap_or_else(|e| e.into_inner()) = Some(callback.to_string());
                }
                Ok(())
            }
            "strict" => {
                STRICT.store(Self::named_in(value), Ordering::SeqCst);
                Ok(())
            }
            _ => Err(Error::new(
                errno::EINVAL,
                format!("reload: unknown parameter {key}"),
            )),
        }
    }

    fn config_complete() -> Result<()> {
        Self::lifecycle("config_complete")
    }

    fn thread_model() -> Result<ThreadModel> {
        if STRICT.load(Ordering::SeqCst) {
            Ok(ThreadModel::SerializeRequests)
        } else {
            Ok(ThreadModel::Parallel)
        }
    }

    fn get_ready() -> Result<()> {
        Self::lifecycle("get_ready")
    }

    fn after_fork() -> Result<()> {
        Self::lifecycle("after_fork")
    }

    fn cleanup() {
        debug!("reload {}: cleanup", Self::tag());
    }

    fn open(_readonly: bool) -> Result<Box<dyn Server>> {
        // open runs in the connection's own thread, reads in nbdkit's
        // worker threads: use the scratch space in both.
        SCRATCH.with(|scratch| scratch.borrow_mut().clear());
        Ok(Box::new(ReloadDisk::<TAG, SIZE>))
    }

    fn get_size(&self) -> Result<i64> {
        Ok(SIZE as i64)
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<()> {
        let start = offset as usize;
        SCRATCH.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            scratch.clear();
            let disk = DISK.read().unwrap_or_else(|e| e.into_inner());
            scratch.extend_from_slice(&disk[start..start + buf.len()]);
            drop(disk);
            buf.copy_from_slice(&scratch);
        });
        Ok(())
    }

    fn write_at(&self, buf: &[u8], offset: u64, _flags: Flags) -> Result<()> {
        let mut disk = DISK.write().unwrap_or_else(|e| e.into_inner());
        let start = offset as usize;
        disk[start..start + buf.len()].copy_from_slice(buf);
        Ok(())
    }
}
