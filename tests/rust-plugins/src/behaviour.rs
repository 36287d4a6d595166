// SPDX-License-Identifier: BSD-2-Clause
//! Shared code for the behaviour plugins (errors.bats, panics.bats,
//! threads.bats, drop.bats): fault injection for `faulty`, and the
//! concurrency gauges and RAM-less disk of `threads`.

use nbdkit::*;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// Every callback a fault can be attached to, by its nbdkit name.
pub const CALLBACKS: &[&str] = &[
    "config",
    "config_complete",
    "dump_plugin",
    "thread_model",
    "get_ready",
    "after_fork",
    "cleanup",
    "unload",
    "preconnect",
    "list_exports",
    "default_export",
    "open",
    "close",
    "get_size",
    "export_description",
    "block_size",
    "can_write",
    "can_flush",
    "is_rotational",
    "can_trim",
    "can_zero",
    "can_fast_zero",
    "can_fua",
    "can_multi_conn",
    "can_extents",
    "can_cache",
    "pread",
    "pwrite",
    "flush",
    "trim",
    "zero",
    "extents",
    "cache",
];

/// Every callback a fault of the `faulty_filter` test filter can be
/// attached to: every callback of a Rust filter (struct
/// nbdkit_rust_filter), by its nbdkit name, "close" meaning the
/// per-connection value's Drop.  load runs before any key reaches the
/// filter: its faults come from the environment (see faulty_filter.rs).
pub const FILTER_CALLBACKS: &[&str] = &[
    "load",
    "unload",
    "config",
    "config_complete",
    "thread_model",
    "get_ready",
    "after_fork",
    "cleanup",
    "preconnect",
    "list_exports",
    "default_export",
    "open",
    "close",
    "prepare",
    "finalize",
    "get_size",
    "export_description",
    "block_size",
    "can_write",
    "can_flush",
    "is_rotational",
    "can_trim",
    "can_zero",
    "can_fast_zero",
    "can_extents",
    "can_fua",
    "can_multi_conn",
    "can_cache",
    "pread",
    "pwrite",
    "flush",
    "trim",
    "zero",
    "extents",
    "cache",
];

/// Linux errno names a fault may use, so tests can say errno=ENOSPC.
const ERRNOS: &[(&str, i32)] = &[
    ("EPERM", 1),
    ("ENOENT", 2),
    ("EINTR", 4),
    ("EIO", 5),
    ("EBADF", 9),
    ("EAGAIN", 11),
    ("ENOMEM", 12),
    ("EACCES", 13),
    ("EBUSY", 16),
    ("EEXIST", 17),
    ("ENODEV", 19),
    ("EINVAL", 22),
    ("EFBIG", 27),
    ("ENOSPC", 28),
    ("ESPIPE", 29),
    ("EROFS", 30),
    ("ERANGE", 34),
    ("ENOSYS", 38),
    ("EOVERFLOW", 75),
    ("EOPNOTSUPP", 95),
    ("ENOTSUP", 95),
    ("ECONNRESET", 104),
    ("ESHUTDOWN", 108),
    ("ETIMEDOUT", 110),
    ("EDQUOT", 122),
];

/// Parses an errno given by name (EIO) or by number (5).
pub fn parse_errno(value: &str) -> Result<i32> {
    if let Some(&(_, n)) = ERRNOS.iter().find(|(name, _)| *name == value) {
        return Ok(n);
    }
    match value.parse::<i32>() {
        // 0 is allowed: the SDK must turn an error without errno into EIO.
        Ok(n) if n >= 0 => Ok(n),
        _ => Err(Error::new(
            errno::EINVAL,
            format!("faulty: errno={value}: not a known errno name or a number >= 0"),
        )),
    }
}

/// What a fault does when it fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// The callback returns an error with this errno.
    Fail(i32),
    /// The callback panics.
    Panic,
}

/// One fault: which callback, what happens, and on which calls.
///
/// A fault lets its first `after` calls through, then fires on the
/// next `times` calls (on every later call when `times` is None).
#[derive(Clone, Debug)]
pub struct Fault {
    pub callback: String,
    pub action: Action,
    pub message: Option<String>,
    pub after: u64,
    pub times: Option<u64>,
    calls: u64,
}

impl Fault {
    fn new(callback: &str, action: Action) -> Fault {
        Fault {
            callback: callback.to_string(),
            action,
            message: None,
            after: 0,
            times: None,
            calls: 0,
        }
    }

    /// Counts one call and says whether the fault fires on it.
    fn fires(&mut self) -> bool {
        self.calls += 1;
        if self.calls <= self.after {
            return false;
        }
        match self.times {
            Some(times) => self.calls - self.after <= times,
            None => true,
        }
    }
}

/// The faults the plugin was configured with.
///
/// Configuration is a sequence of keys: `fail=CALLBACK` or
/// `panic=CALLBACK` starts a new fault, and the keys that follow it
/// (`errno=`, `message=`, `after=`, `times=`) refine that fault.  So
/// several faults can be armed at once, and a new refinement is one
/// more key here.
pub struct Faults {
    list: Mutex<Vec<Fault>>,
    /// Who injects: the prefix of the messages ("faulty").
    who: &'static str,
    /// The callbacks a fault may name.
    callbacks: &'static [&'static str],
    /// The payload of a panic without message= (a &'static str).
    panic_text: &'static str,
}

impl Faults {
    /// The faults of the `faulty` plugin: its callbacks (CALLBACKS).
    pub const fn new() -> Faults {
        Faults::with_callbacks("faulty", CALLBACKS, "faulty: injected panic")
    }

    /// Faults of another injector WHO over CALLBACKS, whose panics
    /// without message= have the payload PANIC_TEXT.
    pub const fn with_callbacks(
        who: &'static str,
        callbacks: &'static [&'static str],
        panic_text: &'static str,
    ) -> Faults {
        Faults {
            list: Mutex::new(Vec::new()),
            who,
            callbacks,
            panic_text,
        }
    }

    /// Handles KEY if it describes a fault: Ok(true) if it did,
    /// Ok(false) if KEY is not a fault key.
    pub fn config(&self, key: &str, value: &str) -> Result<bool> {
        let mut list = self.lock();
        match key {
            "fail" | "panic" => {
                if !self.callbacks.contains(&value) {
                    return Err(Error::new(
                        errno::EINVAL,
                        format!("{}: {key}={value}: unknown callback", self.who),
                    ));
                }
                let action = if key == "fail" {
                    Action::Fail(errno::EIO)
                } else {
                    Action::Panic
                };
                list.push(Fault::new(value, action));
                Ok(true)
            }
            "errno" | "message" | "after" | "times" => {
                let fault = match list.last_mut() {
                    Some(f) => f,
                    None => {
                        return Err(Error::new(
                            errno::EINVAL,
                            format!("{}: {key}= must follow fail= or panic=", self.who),
                        ))
                    }
                };
                match key {
                    "errno" => {
                        if fault.action == Action::Panic {
                            return Err(Error::new(
                                errno::EINVAL,
                                format!("{}: errno= does not apply to panic=", self.who),
                            ));
                        }
                        fault.action = Action::Fail(parse_errno(value)?);
                    }
                    "message" => fault.message = Some(value.to_string()),
                    "after" => fault.after = parse_count(self.who, key, value)?,
                    _ => fault.times = Some(parse_count(self.who, key, value)?),
                }
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Called first thing in every callback: fails or panics if a
    /// fault for CALLBACK fires on this call.
    pub fn check(&self, callback: &str) -> Result<()> {
        // Decide under the lock, act after releasing it, so that a
        // panic never poisons the list.
        let fired = {
            let mut list = self.lock();
            list.iter_mut()
                .filter(|f| f.callback == callback)
                .find_map(|f| {
                    if f.fires() {
                        Some((f.action, f.message.clone()))
                    } else {
                        None
                    }
                })
        };
        match fired {
            None => Ok(()),
            // Without message= the message names the callback, as an
            // operator needs to know which one failed.
            Some((Action::Fail(errno), message)) => Err(Error::new(
                errno,
                message.unwrap_or_else(|| format!("{}: injected failure in {callback}", self.who)),
            )),
            // Without message= the payload is a &'static str, with it
            // a String: the SDK must report both.
            Some((Action::Panic, None)) => std::panic::panic_any(self.panic_text),
            Some((Action::Panic, Some(message))) => panic!("{}", message),
        }
    }

    /// check() for callbacks that cannot report an error (cleanup,
    /// unload, close): only a panic can come out of them.
    pub fn check_void(&self, callback: &str) {
        if let Err(e) = self.check(callback) {
            debug!("{}: {callback} cannot fail, ignoring: {e}", self.who);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Fault>> {
        // A poisoned list is still a valid list.
        self.list.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Default for Faults {
    fn default() -> Faults {
        Faults::new()
    }
}

fn parse_count(who: &str, key: &str, value: &str) -> Result<u64> {
    value.parse::<u64>().map_err(|_| {
        Error::new(
            errno::EINVAL,
            format!("{who}: {key}={value}: not a non-negative integer"),
        )
    })
}

/// Counts how many callers are inside a section at once and remembers
/// the highest count.
pub struct Gauge {
    now: AtomicUsize,
    max: AtomicUsize,
}

impl Gauge {
    pub const fn new() -> Gauge {
        Gauge {
            now: AtomicUsize::new(0),
            max: AtomicUsize::new(0),
        }
    }

    /// Enters the section until the returned guard is dropped.
    pub fn enter(&self) -> GaugeGuard<'_> {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.max.fetch_max(now, Ordering::SeqCst);
        GaugeGuard(self)
    }

    pub fn max(&self) -> usize {
        self.max.load(Ordering::SeqCst)
    }
}

impl Default for Gauge {
    fn default() -> Gauge {
        Gauge::new()
    }
}

pub struct GaugeGuard<'a>(&'a Gauge);

impl Drop for GaugeGuard<'_> {
    fn drop(&mut self) {
        self.0.now.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Preads in flight over the whole plugin.
static PREADS: Gauge = Gauge::new();
/// Connections open at once.
static CONNECTIONS: Gauge = Gauge::new();
/// Every connection's number and pread gauge, for the report at
/// cleanup.  The report cannot be made when a connection closes:
/// nbdkit 1.32 skips close (so Drop) for a connection still finishing
/// when the server quits, while cleanup always runs, after every
/// connection thread has ended.
static CONNECTION_PREADS: Mutex<Vec<(u64, Arc<Gauge>)>> = Mutex::new(Vec::new());
/// Numbers the connections, from 1.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);
/// How long each pread takes, in milliseconds.
static DELAY_MS: AtomicU64 = AtomicU64::new(20);
/// The thread model the thread_model callback answers, by nbdkit name.
static THREAD_MODEL: Mutex<Option<ThreadModel>> = Mutex::new(None);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The disk of the `threads` plugins: 1 MiB of zeroes whose preads
/// take DELAY_MS and are counted, per connection and plugin-wide.
/// The maxima are logged at cleanup (see report).
pub struct ThreadsDisk {
    id: u64,
    preads: Arc<Gauge>,
    _open: GaugeGuard<'static>,
}

impl ThreadsDisk {
    /// The threads plugins' config callback.
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
                            format!("threads: unknown thread_model {value}"),
                        ))
                    }
                };
                *lock(&THREAD_MODEL) = Some(model);
                Ok(())
            }
            "delay_ms" => {
                let ms = value.parse::<u64>().map_err(|_| {
                    Error::new(errno::EINVAL, format!("threads: bad delay_ms {value}"))
                })?;
                DELAY_MS.store(ms, Ordering::SeqCst);
                Ok(())
            }
            _ => Err(Error::new(
                errno::EINVAL,
                format!("threads: unknown parameter {key}"),
            )),
        }
    }

    /// The model configured with thread_model=, parallel if none.
    pub fn configured_thread_model() -> ThreadModel {
        lock(&THREAD_MODEL).unwrap_or(ThreadModel::Parallel)
    }

    pub fn new_connection() -> ThreadsDisk {
        let id = NEXT_ID.fetch_add(1, Ordering::SeqCst);
        let preads = Arc::new(Gauge::new());
        lock(&CONNECTION_PREADS).push((id, Arc::clone(&preads)));
        debug!("threads: open {id}");
        ThreadsDisk {
            id,
            preads,
            _open: CONNECTIONS.enter(),
        }
    }

    /// Logs the maxima: each connection's, then the plugin-wide ones.
    pub fn report() {
        for (id, preads) in lock(&CONNECTION_PREADS).iter() {
            debug!(
                "threads: connection {} max concurrent preads {}",
                id,
                preads.max()
            );
        }
        debug!("threads: global max concurrent preads {}", PREADS.max());
        debug!("threads: max open connections {}", CONNECTIONS.max());
    }

    pub fn size() -> i64 {
        1 << 20
    }

    pub fn read(&self, buf: &mut [u8]) {
        let _global = PREADS.enter();
        let _mine = self.preads.enter();
        thread::sleep(Duration::from_millis(DELAY_MS.load(Ordering::SeqCst)));
        buf.fill(0);
    }
}

impl Server for ThreadsDisk {
    fn name() -> &'static str {
        "threads"
    }

    fn config(key: &str, value: &str) -> Result<()> {
        ThreadsDisk::configure(key, value)
    }

    fn thread_model() -> Result<ThreadModel> {
        Ok(ThreadsDisk::configured_thread_model())
    }

    fn cleanup() {
        ThreadsDisk::report();
    }

    fn open(_readonly: bool) -> Result<Box<dyn Server>> {
        Ok(Box::new(ThreadsDisk::new_connection()))
    }

    fn get_size(&self) -> Result<i64> {
        Ok(ThreadsDisk::size())
    }

    fn read_at(&self, buf: &mut [u8], _offset: u64) -> Result<()> {
        self.read(buf);
        Ok(())
    }
}

impl Drop for ThreadsDisk {
    fn drop(&mut self) {
        debug!("threads: close {}", self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faults(args: &[(&str, &str)]) -> Faults {
        let f = Faults::new();
        for (k, v) in args {
            assert!(f.config(k, v).unwrap(), "{k} is a fault key");
        }
        f
    }

    #[test]
    fn errno_by_name_or_number() {
        assert_eq!(parse_errno("ENOSPC").unwrap(), errno::ENOSPC);
        assert_eq!(parse_errno("ESHUTDOWN").unwrap(), errno::ESHUTDOWN);
        assert_eq!(parse_errno("28").unwrap(), 28);
        assert!(parse_errno("ENOPE").is_err());
        assert_eq!(parse_errno("0").unwrap(), 0);
        assert!(parse_errno("-1").is_err());
    }

    #[test]
    fn errno_table_matches_the_sdk() {
        for (name, n) in ERRNOS {
            let sdk = match *name {
                "EPERM" => errno::EPERM,
                "EIO" => errno::EIO,
                "ENOMEM" => errno::ENOMEM,
                "EINVAL" => errno::EINVAL,
                "ENOSPC" => errno::ENOSPC,
                "EROFS" => errno::EROFS,
                "EOVERFLOW" => errno::EOVERFLOW,
                "ENOTSUP" => errno::ENOTSUP,
                "ESHUTDOWN" => errno::ESHUTDOWN,
                "EDQUOT" => errno::EDQUOT,
                "EFBIG" => errno::EFBIG,
                _ => continue,
            };
            assert_eq!(*n, sdk, "{name}");
        }
    }

    #[test]
    fn other_keys_are_not_fault_keys() {
        assert!(!Faults::new().config("size", "1M").unwrap());
    }

    #[test]
    fn refinements_need_a_fault_and_a_known_callback() {
        assert!(Faults::new().config("errno", "EIO").is_err());
        assert!(Faults::new().config("fail", "no_such_callback").is_err());
        let f = faults(&[("panic", "pread")]);
        assert!(f.config("errno", "EIO").is_err());
    }

    #[test]
    fn a_fault_fails_only_its_callback_with_its_errno_and_message() {
        let f = faults(&[("fail", "pread"), ("errno", "ENOSPC"), ("message", "full")]);
        assert!(f.check("pwrite").is_ok());
        let e = f.check("pread").unwrap_err();
        assert_eq!(e.errno(), errno::ENOSPC);
        assert_eq!(e.to_string(), "full");
        assert!(
            f.check("pread").is_err(),
            "without times= it fires every time"
        );
    }

    #[test]
    fn after_and_times_choose_the_calls() {
        let f = faults(&[("fail", "flush"), ("after", "2"), ("times", "1")]);
        let fired: Vec<bool> = (0..5).map(|_| f.check("flush").is_err()).collect();
        assert_eq!(fired, [false, false, true, false, false]);
    }

    #[test]
    fn a_panic_fault_panics_with_its_message() {
        let f = faults(&[("panic", "open"), ("message", "Zorglub")]);
        let payload = std::panic::catch_unwind(|| f.check("open")).unwrap_err();
        assert_eq!(payload.downcast_ref::<String>().unwrap(), "Zorglub");
        let f = faults(&[("panic", "open")]);
        let payload = std::panic::catch_unwind(|| f.check("open")).unwrap_err();
        assert_eq!(
            *payload.downcast_ref::<&str>().unwrap(),
            "faulty: injected panic"
        );
        // The list survives the panic.
        assert!(std::panic::catch_unwind(|| f.check("open")).is_err());
    }

    #[test]
    fn filter_faults_take_the_filter_callbacks_and_name_their_injector() {
        let f = Faults::with_callbacks("faulty_filter", FILTER_CALLBACKS, "ff: panic");
        assert!(f.config("fail", "prepare").unwrap());
        assert!(
            f.config("fail", "dump_plugin").is_err(),
            "not a filter callback"
        );
        assert!(
            Faults::new().config("fail", "prepare").is_err(),
            "not a plugin callback"
        );
        let e = f.check("prepare").unwrap_err();
        assert_eq!(e.errno(), errno::EIO);
        assert_eq!(e.to_string(), "faulty_filter: injected failure in prepare");
        assert!(f.config("panic", "load").unwrap());
        let payload = std::panic::catch_unwind(|| f.check("load")).unwrap_err();
        assert_eq!(*payload.downcast_ref::<&str>().unwrap(), "ff: panic");
    }

    #[test]
    fn gauge_counts_the_most_at_once() {
        let g = Gauge::new();
        {
            let _a = g.enter();
            let _b = g.enter();
        }
        let _c = g.enter();
        assert_eq!(g.max(), 2);
    }
}
