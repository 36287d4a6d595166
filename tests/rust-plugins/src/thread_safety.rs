// SPDX-License-Identifier: BSD-2-Clause
//! Shared code for the thread safety plugins (threads.bats): a disk
//! whose connection value is not `Sync` (it holds a `RefCell` and a
//! `Cell`), and a `Sync` plugin type whose `open` returns that other
//! type.
//!
//! `UnsyncDisk` reads as the byte `offset / 512` (mod 256) and holds its
//! `RefCell` borrowed for the whole read (`delay_ms`, default 20), so
//! two reads of one connection at once would panic ("already
//! borrowed") if nbdkit ever made them, instead of passing silently.
//! It counts reads in flight like the threads plugin and logs at
//! cleanup (with -v):
//!   unsync: connection N max concurrent preads M
//!   unsync: global max concurrent preads M
//!
//! Keys: `thread_model=serialize_connections|serialize_all_requests|
//! serialize_requests|parallel` (what the thread_model callback answers,
//! default parallel, for the plugins that list it) and `delay_ms=N`.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use nbdkit::*;

use crate::behaviour::Gauge;

/// Reads in flight over the whole plugin.
static PREADS: Gauge = Gauge::new();
/// Every connection's number and gauge, for the report at cleanup.
static CONNECTIONS: Mutex<Vec<(u64, Arc<Gauge>)>> = Mutex::new(Vec::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(1);
static DELAY_MS: AtomicU64 = AtomicU64::new(20);
static THREAD_MODEL: Mutex<Option<ThreadModel>> = Mutex::new(None);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The config callback of these plugins.
pub fn configure(key: &str, value: &str) -> Result<()> {
    match key {
        "thread_model" => {
            let model = match value {
                "serialize_connections" => ThreadModel::SerializeConnections,
                "serialize_all_requests" => ThreadModel::SerializeAllRequests,
                "serialize_requests" => ThreadModel::SerializeRequests,
                "parallel" => ThreadModel::Parallel,
                _ => {
                    return Err(Error::new(
                        errno::EINVAL,
                        format!("unsync: unknown thread_model {value}"),
                    ))
                }
            };
            *lock(&THREAD_MODEL) = Some(model);
            Ok(())
        }
        "delay_ms" => {
            let ms = value
                .parse::<u64>()
                .map_err(|_| Error::new(errno::EINVAL, format!("unsync: bad delay_ms {value}")))?;
            DELAY_MS.store(ms, Ordering::SeqCst);
            Ok(())
        }
        _ => Err(Error::new(
            errno::EINVAL,
            format!("unsync: unknown parameter {key}"),
        )),
    }
}

/// The thread_model callback's answer: thread_model=, else parallel.
pub fn configured_thread_model() -> ThreadModel {
    lock(&THREAD_MODEL).unwrap_or(ThreadModel::Parallel)
}

/// Logs the maxima (see the module documentation).
pub fn report() {
    for (id, preads) in lock(&CONNECTIONS).iter() {
        debug!(
            "unsync: connection {} max concurrent preads {}",
            id,
            preads.max()
        );
    }
    debug!("unsync: global max concurrent preads {}", PREADS.max());
}

/// One connection; not `Sync`.
pub struct UnsyncDisk {
    id: u64,
    preads: Arc<Gauge>,
    reads: Cell<u64>,
    scratch: RefCell<Vec<u8>>,
}

impl UnsyncDisk {
    pub fn new_connection() -> UnsyncDisk {
        let id = NEXT_ID.fetch_add(1, Ordering::SeqCst);
        let preads = Arc::new(Gauge::new());
        lock(&CONNECTIONS).push((id, Arc::clone(&preads)));
        UnsyncDisk {
            id,
            preads,
            reads: Cell::new(0),
            scratch: RefCell::new(Vec::new()),
        }
    }
}

impl Server for UnsyncDisk {
    fn name() -> &'static str {
        "unsync"
    }

    fn config(key: &str, value: &str) -> Result<()> {
        configure(key, value)
    }

    fn thread_model() -> Result<ThreadModel> {
        Ok(configured_thread_model())
    }

    fn cleanup() {
        report();
    }

    fn open(_readonly: bool) -> Result<Box<dyn Server>> {
        Ok(Box::new(UnsyncDisk::new_connection()))
    }

    fn get_size(&self) -> Result<i64> {
        Ok(1 << 20)
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<()> {
        let _global = PREADS.enter();
        let _mine = self.preads.enter();
        // Borrowed for the whole read: a second read at once on this
        // connection would panic here.
        let mut scratch = self.scratch.borrow_mut();
        scratch.clear();
        scratch.extend((0..buf.len() as u64).map(|i| ((offset + i) / 512) as u8));
        thread::sleep(Duration::from_millis(DELAY_MS.load(Ordering::SeqCst)));
        buf.copy_from_slice(&scratch);
        self.reads.set(self.reads.get() + 1);
        Ok(())
    }
}

impl Drop for UnsyncDisk {
    fn drop(&mut self) {
        debug!("unsync: close {} after {} reads", self.id, self.reads.get());
    }
}

/// A `Sync` plugin type whose `open` returns an `UnsyncDisk`.
pub struct FrontDisk;

impl Server for FrontDisk {
    fn name() -> &'static str {
        "front"
    }

    fn config(key: &str, value: &str) -> Result<()> {
        configure(key, value)
    }

    fn thread_model() -> Result<ThreadModel> {
        Ok(configured_thread_model())
    }

    fn open(_readonly: bool) -> Result<Box<dyn Server>> {
        Ok(Box::new(UnsyncDisk::new_connection()))
    }

    fn get_size(&self) -> Result<i64> {
        Ok(1 << 20)
    }

    fn read_at(&self, buf: &mut [u8], _offset: u64) -> Result<()> {
        buf.fill(0);
        Ok(())
    }
}
