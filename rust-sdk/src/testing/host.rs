// SPDX-License-Identifier: BSD-2-Clause
//! The fake nbdkit behind [`Harness`](super::Harness) and
//! [`FilterHarness`](super::FilterHarness): a complete host table whose
//! services record what the plugin or filter asked of them and answer
//! as nbdkit 1.32 answers (the layer below a filter is `fake_next.rs`).
//!
//! The plugin's host table is a process-wide static (the real loader
//! hands it over once, at `dlopen`), and so is the plugin's own state.
//! So one [`Lock`] at a time owns the fake nbdkit: a `Harness` holds it
//! for its whole life, and the SDK's own tests take it to call the host
//! services directly.  Whoever holds it sees every event of every
//! thread.

use std::cell::Cell;
use std::ffi::{CStr, CString};
use std::fs;
use std::io::Read;
use std::os::raw::{c_char, c_int, c_uint, c_void};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::{Mutex, MutexGuard, Once, PoisonError};
use std::time::{Duration, Instant};

use super::fake_next;
use crate::ffi::{
    nbdkit_exports, nbdkit_extents, nbdkit_rust_host, sockaddr, socklen_t, NBDKIT_RUST_ABI_MAJOR,
    NBDKIT_RUST_ABI_MINOR,
};
use crate::PeerName;

/// Something the plugin did through nbdkit's services, in the order it
/// happened.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A message logged with `nbdkit_error`: every `Err` a callback
    /// returns, every caught panic, and the errors nbdkit itself logs
    /// (a parser refusing its input, a refused extent).
    Error(String),
    /// A message logged with `nbdkit_debug` ([`debug!`](crate::debug)).
    Debug(String),
    /// `nbdkit_set_error`: the errno a failing callback gives the client.
    SetError(i32),
    /// [`shutdown`](crate::shutdown) was called.
    Shutdown,
    /// [`disconnect`](crate::disconnect) was called, with its `force`.
    Disconnect(bool),
}

/// Who the fake client is, as the plugin sees it through
/// [`export_name`](crate::export_name), [`is_tls`](crate::is_tls),
/// [`peername`](crate::peername) and the `peer_*` functions.
#[derive(Clone, Debug)]
pub(crate) struct Client {
    pub(crate) export_name: CString,
    pub(crate) tls: bool,
    pub(crate) peer: PeerName,
    /// pid, uid, gid: only for a Unix domain socket peer.
    pub(crate) credentials: (i64, i64, i64),
}

/// `nbdkit -U -`'s client: an unnamed Unix domain socket of this
/// process, no export name, no TLS.
impl Default for Client {
    fn default() -> Client {
        let (uid, gid) = match fs::metadata("/proc/self") {
            Ok(m) => (i64::from(m.uid()), i64::from(m.gid())),
            Err(_) => (0, 0),
        };
        Client {
            export_name: CString::default(),
            tls: false,
            peer: PeerName::Unix(None),
            credentials: (i64::from(std::process::id()), uid, gid),
        }
    }
}

/// Everything the fake nbdkit keeps, reset by each [`lock`].
#[derive(Default)]
pub(crate) struct State {
    pub(crate) events: Vec<Event>,
    pub(crate) client: Client,
    /// The configuration phase is over: stdio is no longer safe.
    pub(crate) configured: bool,
    pub(crate) shutdown: bool,
    /// What `free` was given, as it was then: the SDK must wipe
    /// passwords before it releases them.
    pub(crate) freed: Vec<Vec<u8>>,
    /// Strings made by strdup_intern, kept until the lock is released
    /// (nbdkit keeps them until the connection closes, or until exit).
    interned: Vec<CString>,
}

static STATE: Mutex<Option<State>> = Mutex::new(None);

/// Run `f` on the fake nbdkit's state.  Never call the plugin inside:
/// its callbacks call back into the host.
pub(crate) fn with_state<R>(f: impl FnOnce(&mut State) -> R) -> R {
    let mut state = STATE.lock().unwrap_or_else(PoisonError::into_inner);
    let state = state.get_or_insert_with(State::default);
    f(state)
}

fn record(e: Event) {
    with_state(|s| s.events.push(e));
}

// ---------------------------------------------------------------------
// The lock.

static LOCK: Mutex<()> = Mutex::new(());

thread_local! {
    /// This thread holds the lock: taking it again would deadlock.
    static HELD: Cell<bool> = const { Cell::new(false) };
}

/// Ownership of the fake nbdkit: the host table is installed and the
/// state fresh while it is held.
#[must_use = "the fake nbdkit is only yours while the Lock lives"]
pub(crate) struct Lock {
    _guard: MutexGuard<'static, ()>,
}

/// Wait for the fake nbdkit, install its table as the plugin's host
/// table, and start from a fresh state.
///
/// Panics if this thread already holds it (a second `Harness` in the
/// same test): it would wait for itself.
pub(crate) fn lock() -> Lock {
    if HELD.with(Cell::get) {
        panic!(
            "nbdkit::testing: this thread already has a Harness; drop it before making \
             another (a plugin's state is global, so harnesses take turns)"
        );
    }
    let guard = LOCK.lock().unwrap_or_else(PoisonError::into_inner);
    HELD.with(|h| h.set(true));
    with_state(|s| *s = State::default());
    crate::host::install(installed());
    Lock { _guard: guard }
}

impl Drop for Lock {
    fn drop(&mut self) {
        with_state(|s| s.interned.clear());
        HELD.with(|h| h.set(false));
    }
}

// ---------------------------------------------------------------------
// The services.

/// A copy of a C string from the plugin.
///
/// # Safety
///
/// `p` must be a NUL-terminated string.
unsafe fn string(p: *const c_char) -> String {
    // SAFETY: the caller promises a NUL-terminated string.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

/// Log an error as nbdkit itself would.
pub(crate) fn nbdkit_error(msg: String) {
    record(Event::Error(msg));
}

unsafe extern "C" fn error(msg: *const c_char) {
    // SAFETY: the ABI passes a NUL-terminated message.
    record(Event::Error(unsafe { string(msg) }));
}

unsafe extern "C" fn debug(msg: *const c_char) {
    // SAFETY: the ABI passes a NUL-terminated message.
    record(Event::Debug(unsafe { string(msg) }));
}

unsafe extern "C" fn set_error(err: c_int) {
    record(Event::SetError(err));
}

unsafe extern "C" fn export_name() -> *const c_char {
    // nbdkit keeps the name until the connection closes; an interned
    // copy lives until the lock is released.
    with_state(|s| {
        let copy = s.client.export_name.clone();
        let p = copy.as_ptr();
        s.interned.push(copy);
        p
    })
}

unsafe extern "C" fn is_tls() -> c_int {
    with_state(|s| c_int::from(s.client.tls))
}

/// The bytes of the Linux `struct sockaddr` for `peer`.
fn encode(peer: &PeerName) -> Vec<u8> {
    const AF_UNIX: u16 = 1;
    const AF_INET: u16 = 2;
    const AF_INET6: u16 = 10;
    let mut out = Vec::new();
    match peer {
        PeerName::Inet(std::net::SocketAddr::V4(a)) => {
            out.extend_from_slice(&AF_INET.to_ne_bytes());
            out.extend_from_slice(&a.port().to_be_bytes());
            out.extend_from_slice(&a.ip().octets());
            out.extend_from_slice(&[0; 8]);
        }
        PeerName::Inet(std::net::SocketAddr::V6(a)) => {
            out.extend_from_slice(&AF_INET6.to_ne_bytes());
            out.extend_from_slice(&a.port().to_be_bytes());
            out.extend_from_slice(&a.flowinfo().to_ne_bytes());
            out.extend_from_slice(&a.ip().octets());
            out.extend_from_slice(&a.scope_id().to_ne_bytes());
        }
        PeerName::Unix(path) => {
            out.extend_from_slice(&AF_UNIX.to_ne_bytes());
            if let Some(path) = path {
                out.extend_from_slice(path.as_os_str().as_bytes());
                out.push(0);
            }
        }
        PeerName::Other(family) => out.extend_from_slice(&(*family as u16).to_ne_bytes()),
    }
    out
}

unsafe extern "C" fn peer_name(addr: *mut sockaddr, addrlen: *mut socklen_t) -> c_int {
    let bytes = with_state(|s| encode(&s.client.peer));
    // SAFETY: the ABI passes a buffer of *addrlen writable bytes.
    unsafe {
        let n = bytes.len().min(*addrlen as usize);
        ptr::copy_nonoverlapping(bytes.as_ptr(), addr.cast::<u8>(), n);
        *addrlen = bytes.len() as socklen_t;
    }
    0
}

/// `nbdkit_peer_pid` and friends: only a Unix domain socket has them.
fn credential(what: &str, pick: fn(&(i64, i64, i64)) -> i64) -> i64 {
    let answer = with_state(|s| match s.client.peer {
        PeerName::Unix(_) => Some(pick(&s.client.credentials)),
        _ => None,
    });
    answer.unwrap_or_else(|| {
        nbdkit_error(format!("{}: not supported on this socket", what));
        -1
    })
}

unsafe extern "C" fn peer_pid() -> i64 {
    credential("nbdkit_peer_pid", |c| c.0)
}

unsafe extern "C" fn peer_uid() -> i64 {
    credential("nbdkit_peer_uid", |c| c.1)
}

unsafe extern "C" fn peer_gid() -> i64 {
    credential("nbdkit_peer_gid", |c| c.2)
}

unsafe extern "C" fn shutdown() {
    with_state(|s| {
        s.shutdown = true;
        s.events.push(Event::Shutdown);
    });
}

unsafe extern "C" fn disconnect(force: c_int) -> c_int {
    record(Event::Disconnect(force != 0));
    0
}

/// nbdkit_parse_size: a decimal number and an optional suffix, one of
/// bB (bytes), kK, mM, gG, tT, pP, eE (powers of 1024), sS (512).
fn parse_size_str(s: &str) -> Result<i64, &'static str> {
    let t = s.trim_start_matches(|c: char| c.is_ascii_whitespace());
    let (negative, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return Err("could not parse size string");
    }
    if negative {
        return Err("size cannot be negative");
    }
    let size: i64 = t[..digits]
        .parse()
        .map_err(|_| "size exceeds maximum value")?;
    let scale: i64 = match &t[digits..] {
        "" | "b" | "B" => 1,
        "s" | "S" => 512,
        "k" | "K" => 1 << 10,
        "m" | "M" => 1 << 20,
        "g" | "G" => 1 << 30,
        "t" | "T" => 1 << 40,
        "p" | "P" => 1 << 50,
        "e" | "E" => 1 << 60,
        _ => return Err("could not parse size: unknown suffix"),
    };
    size.checked_mul(scale)
        .ok_or("could not parse size: size * scale overflows")
}

unsafe extern "C" fn parse_size(s: *const c_char) -> i64 {
    // SAFETY: the ABI passes a NUL-terminated string.
    let s = unsafe { string(s) };
    parse_size_str(&s).unwrap_or_else(|why| {
        nbdkit_error(format!("{}: {}", why, s));
        -1
    })
}

unsafe extern "C" fn parse_bool(s: *const c_char) -> c_int {
    // SAFETY: the ABI passes a NUL-terminated string.
    let s = unsafe { string(s) };
    let yes = ["true", "t", "yes", "y", "on"];
    let no = ["false", "f", "no", "n", "off"];
    if s == "1" || yes.iter().any(|w| s.eq_ignore_ascii_case(w)) {
        1
    } else if s == "0" || no.iter().any(|w| s.eq_ignore_ascii_case(w)) {
        0
    } else {
        nbdkit_error(format!("could not decipher boolean ({})", s));
        -1
    }
}

unsafe extern "C" fn parse_probability(
    what: *const c_char,
    s: *const c_char,
    r: *mut f64,
) -> c_int {
    // SAFETY: the ABI passes a NUL-terminated string; the parser is the
    // one the SDK uses when nbdkit lacks nbdkit_parse_probability, the
    // loader's grammar (loader/probability.c) with the same strtod.
    let parsed = unsafe { crate::direct_host::parse_probability_c(s) };
    // SAFETY: the ABI passes NUL-terminated strings.
    let (what, s) = unsafe { (string(what), string(s)) };
    match parsed {
        Some(d) => {
            // SAFETY: the ABI passes a writable f64 slot.
            unsafe { *r = d };
            0
        }
        None => {
            nbdkit_error(format!(
                "{}: could not parse '{}' as a probability",
                what, s
            ));
            -1
        }
    }
}

/// strtoimax/strtoumax with base 0 (decimal, 0x hex, 0 octal), the
/// whole string, as nbdkit's integer parsers read it.
fn parse_integer_str(what: &str, s: &str, unsigned: bool) -> Result<i128, String> {
    let t = s.trim_start_matches(|c: char| c.is_ascii_whitespace());
    if unsigned && t.starts_with('-') {
        return Err(format!("{}: negative numbers are not allowed", what));
    }
    let (negative, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (radix, t) = if (t.starts_with("0x") || t.starts_with("0X"))
        && t[2..].starts_with(|c: char| c.is_ascii_hexdigit())
    {
        (16, &t[2..])
    } else if t.starts_with('0') {
        (8, t)
    } else {
        (10, t)
    };
    let digits = t.chars().take_while(|c| c.is_digit(radix)).count();
    if digits == 0 {
        return Err(format!("{}: could not parse number: \"{}\"", what, s));
    }
    if digits != t.len() {
        return Err(format!(
            "{}: could not parse number: \"{}\": trailing garbage",
            what, s
        ));
    }
    let out_of_range = || {
        format!(
            "{}: could not parse number: \"{}\": Numerical result out of range",
            what, s
        )
    };
    let magnitude = i128::from_str_radix(t, radix).map_err(|_| out_of_range())?;
    if magnitude > i128::from(u64::MAX) {
        return Err(out_of_range());
    }
    Ok(if negative { -magnitude } else { magnitude })
}

macro_rules! parse_integer {
    ($($name:ident: $t:ty, $unsigned:expr;)*) => {
        $(
            unsafe extern "C" fn $name(what: *const c_char, s: *const c_char, r: *mut $t) -> c_int {
                // SAFETY: the ABI passes NUL-terminated strings.
                let (what, s) = unsafe { (string(what), string(s)) };
                let value = parse_integer_str(&what, &s, $unsigned).and_then(|v| {
                    <$t>::try_from(v).map_err(|_| format!("{}: out of range", what))
                });
                match value {
                    Ok(v) => {
                        // SAFETY: the ABI passes a writable slot of this type.
                        unsafe { *r = v };
                        0
                    }
                    Err(msg) => {
                        nbdkit_error(msg);
                        -1
                    }
                }
            }
        )*
    };
}

parse_integer! {
    parse_int: c_int, false;
    parse_unsigned: c_uint, true;
    parse_int8_t: i8, false;
    parse_uint8_t: u8, true;
    parse_int16_t: i16, false;
    parse_uint16_t: u16, true;
    parse_int32_t: i32, false;
    parse_uint32_t: u32, true;
    parse_int64_t: i64, false;
    parse_uint64_t: u64, true;
}

extern "C" {
    // The C library's allocator: the strings nbdkit hands the plugin to
    // release with host->free are malloc'd, as in nbdkit.
    fn malloc(size: usize) -> *mut c_void;
    #[link_name = "free"]
    fn libc_free(p: *mut c_void);
}

/// A malloc'd C copy of `bytes` (which must hold no NUL).
fn host_string(bytes: &[u8]) -> *mut c_char {
    // SAFETY: malloc of len+1 bytes, checked for NULL, then filled with
    // the bytes and a terminating NUL.
    unsafe {
        let p = malloc(bytes.len() + 1).cast::<u8>();
        assert!(!p.is_null(), "malloc failed");
        ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len());
        *p.add(bytes.len()) = 0;
        p.cast::<c_char>()
    }
}

/// nbdkit_read_password: the value itself, `+FILE` (its contents
/// without one trailing newline), `-FD`, or `-` (a prompt: refused, as
/// a test has no terminal).
fn read_password_bytes(value: &str) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    if value == "-" {
        return Err("stdin is not a tty, cannot read password interactively".into());
    } else if let Some(file) = value.strip_prefix('+') {
        fs::File::open(file)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(|e| format!("{}: {}", file, e))?;
    } else if value.starts_with('-') && value[1..].bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "read_password: {}: reading a file descriptor is not supported by \
             nbdkit::testing (use +FILE)",
            value
        ));
    } else {
        bytes.extend_from_slice(value.as_bytes());
    }
    if bytes.last() == Some(&b'\n') {
        bytes.pop();
    }
    if bytes.contains(&0) {
        return Err("read_password: the password contains a NUL byte".into());
    }
    Ok(bytes)
}

unsafe extern "C" fn read_password(value: *const c_char, password: *mut *mut c_char) -> c_int {
    // SAFETY: the ABI passes a NUL-terminated string.
    let value = unsafe { string(value) };
    match read_password_bytes(&value) {
        Ok(bytes) => {
            // SAFETY: the ABI passes a writable pointer slot.
            unsafe { *password = host_string(&bytes) };
            0
        }
        Err(msg) => {
            nbdkit_error(msg);
            -1
        }
    }
}

/// The bytes of a C path string.
///
/// # Safety
///
/// `p` must be a NUL-terminated string.
unsafe fn path(p: *const c_char) -> PathBuf {
    // SAFETY: the caller promises a NUL-terminated string.
    let bytes = unsafe { CStr::from_ptr(p) }.to_bytes();
    PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
}

unsafe extern "C" fn realpath(p: *const c_char) -> *mut c_char {
    // SAFETY: the ABI passes a NUL-terminated string.
    let p = unsafe { path(p) };
    match fs::canonicalize(&p) {
        Ok(real) => host_string(real.as_os_str().as_bytes()),
        Err(e) => {
            nbdkit_error(format!("realpath: {}: {}", p.display(), e));
            ptr::null_mut()
        }
    }
}

unsafe extern "C" fn absolute_path(p: *const c_char) -> *mut c_char {
    // SAFETY: the ABI passes a NUL-terminated string.
    let p = unsafe { path(p) };
    if p.as_os_str().is_empty() {
        nbdkit_error("cannot convert null or empty path to an absolute path".into());
        return ptr::null_mut();
    }
    let absolute = if p.is_absolute() {
        p
    } else {
        match std::env::current_dir() {
            Ok(cwd) => cwd.join(p),
            Err(e) => {
                nbdkit_error(format!("getcwd: {}", e));
                return ptr::null_mut();
            }
        }
    };
    host_string(absolute.as_os_str().as_bytes())
}

/// nbdkit_nanosleep: sleeps, but returns -1 at once when shutdown has
/// been requested (before or during the sleep).
unsafe extern "C" fn nanosleep(sec: c_uint, nsec: c_uint) -> c_int {
    let deadline = Instant::now() + Duration::new(u64::from(sec), nsec);
    loop {
        if with_state(|s| s.shutdown) {
            return -1;
        }
        let now = Instant::now();
        if now >= deadline {
            return 0;
        }
        std::thread::sleep((deadline - now).min(Duration::from_millis(10)));
    }
}

unsafe extern "C" fn stdio_safe() -> c_int {
    // nbdkit: safe during configuration, unless serving on stdin.
    with_state(|s| c_int::from(!s.configured))
}

/// What a `struct nbdkit_extents` is in the fake nbdkit: the range the
/// request covers and the extents kept so far, as nbdkit keeps them.
pub(crate) struct Extents {
    start: u64,
    end: u64,
    /// Where the next extent must start; None before the first.
    next: Option<u64>,
    pub(crate) list: Vec<(u64, u64, u32)>,
}

impl Extents {
    pub(crate) fn new(start: u64, end: u64) -> Extents {
        Extents {
            start,
            end,
            next: None,
            list: Vec::new(),
        }
    }

    pub(crate) fn as_ptr(&mut self) -> *mut nbdkit_extents {
        (self as *mut Extents).cast()
    }

    /// nbdkit_add_extent of nbdkit 1.32 (server/extents.c).
    pub(crate) fn add(
        &mut self,
        mut offset: u64,
        mut length: u64,
        type_: u32,
    ) -> Result<(), String> {
        if matches!(self.next, Some(next) if next != offset) {
            return Err(
                "nbdkit_add_extent: extents must be added in ascending order and \
                        must be contiguous"
                    .into(),
            );
        }
        self.next = Some(offset.wrapping_add(length));
        if length == 0 || offset >= self.end {
            return Ok(());
        }
        length = length.min(self.end - offset);
        if self.list.is_empty() {
            if offset + length <= self.start {
                return Ok(());
            }
            if offset > self.start {
                return Err(format!(
                    "nbdkit_add_extent: first extent must not be > start ({})",
                    self.start
                ));
            }
            length -= self.start - offset;
            offset = self.start;
        }
        match self.list.last_mut() {
            Some(last) if last.2 == type_ => last.1 += length,
            _ => self.list.push((offset, length, type_)),
        }
        Ok(())
    }
}

unsafe extern "C" fn add_extent(
    extents: *mut nbdkit_extents,
    offset: u64,
    length: u64,
    type_: u32,
) -> c_int {
    // SAFETY: the harness passes a pointer to its live Extents as the
    // extents of the callback that is running.
    let extents = unsafe { &mut *extents.cast::<Extents>() };
    match extents.add(offset, length, type_) {
        Ok(()) => 0,
        Err(msg) => {
            nbdkit_error(msg);
            -1
        }
    }
}

/// What a `struct nbdkit_exports` is in the fake nbdkit.
#[derive(Default)]
pub(crate) struct Exports {
    pub(crate) list: Vec<(String, Option<String>)>,
    pub(crate) use_default: bool,
}

impl Exports {
    pub(crate) fn as_ptr(&mut self) -> *mut nbdkit_exports {
        (self as *mut Exports).cast()
    }
}

/// nbdkit's limits on export lists (NBD_MAX_STRING, MAX_EXPORTS).
const MAX_STRING: usize = 4096;
const MAX_EXPORTS: usize = 10000;

unsafe extern "C" fn add_export(
    exports: *mut nbdkit_exports,
    name: *const c_char,
    description: *const c_char,
) -> c_int {
    // SAFETY: the harness passes a pointer to its live Exports as the
    // exports of the callback that is running.
    let exports = unsafe { &mut *exports.cast::<Exports>() };
    // SAFETY: the ABI passes NUL-terminated strings; DESCRIPTION may be
    // NULL.
    let (name, description) = unsafe {
        (
            string(name),
            if description.is_null() {
                None
            } else {
                Some(string(description))
            },
        )
    };
    if exports.list.len() == MAX_EXPORTS {
        nbdkit_error("nbdkit_add_export: too many exports".into());
        return -1;
    }
    if name.len() > MAX_STRING || description.as_ref().map_or(0, String::len) > MAX_STRING {
        nbdkit_error("nbdkit_add_export: string too long".into());
        return -1;
    }
    exports.list.push((name, description));
    0
}

unsafe extern "C" fn use_default_export(exports: *mut nbdkit_exports) -> c_int {
    // SAFETY: as in add_export.
    unsafe { &mut *exports.cast::<Exports>() }.use_default = true;
    0
}

pub(crate) fn intern(bytes: &[u8]) -> *const c_char {
    let copy = CString::new(bytes).unwrap_or_default();
    let p = copy.as_ptr();
    with_state(|s| s.interned.push(copy));
    p
}

unsafe extern "C" fn strdup_intern(s: *const c_char) -> *const c_char {
    // SAFETY: the ABI passes a NUL-terminated string.
    intern(unsafe { CStr::from_ptr(s) }.to_bytes())
}

unsafe extern "C" fn strndup_intern(s: *const c_char, n: usize) -> *const c_char {
    // SAFETY: the ABI passes a NUL-terminated string.
    let bytes = unsafe { CStr::from_ptr(s) }.to_bytes();
    intern(&bytes[..n.min(bytes.len())])
}

unsafe extern "C" fn free(p: *mut c_void) {
    if p.is_null() {
        return;
    }
    // SAFETY: everything this host hands out for freeing is a malloc'd
    // block holding a NUL-terminated string, or wiped to zeroes (then
    // the first byte is the NUL).
    let contents = unsafe { CStr::from_ptr(p.cast::<c_char>()) }
        .to_bytes()
        .to_vec();
    with_state(|s| s.freed.push(contents));
    // SAFETY: it came from malloc and the ABI frees it once.
    unsafe { libc_free(p) };
}

/// A complete table of the fake nbdkit's services, ABI 1.1's for
/// filters included (`fake_next.rs`): every pointer non-NULL.
pub(crate) fn table() -> nbdkit_rust_host {
    nbdkit_rust_host {
        abi_major: NBDKIT_RUST_ABI_MAJOR,
        abi_minor: NBDKIT_RUST_ABI_MINOR,
        struct_size: std::mem::size_of::<nbdkit_rust_host>() as u64,
        nbdkit_version: b"1.32.5\0".as_ptr().cast(),
        error: Some(error),
        debug: Some(debug),
        set_error: Some(set_error),
        export_name: Some(export_name),
        is_tls: Some(is_tls),
        peer_name: Some(peer_name),
        peer_pid: Some(peer_pid),
        peer_uid: Some(peer_uid),
        peer_gid: Some(peer_gid),
        shutdown: Some(shutdown),
        disconnect: Some(disconnect),
        parse_size: Some(parse_size),
        parse_bool: Some(parse_bool),
        parse_probability: Some(parse_probability),
        parse_int: Some(parse_int),
        parse_unsigned: Some(parse_unsigned),
        parse_int8_t: Some(parse_int8_t),
        parse_uint8_t: Some(parse_uint8_t),
        parse_int16_t: Some(parse_int16_t),
        parse_uint16_t: Some(parse_uint16_t),
        parse_int32_t: Some(parse_int32_t),
        parse_uint32_t: Some(parse_uint32_t),
        parse_int64_t: Some(parse_int64_t),
        parse_uint64_t: Some(parse_uint64_t),
        read_password: Some(read_password),
        realpath: Some(realpath),
        absolute_path: Some(absolute_path),
        nanosleep: Some(nanosleep),
        stdio_safe: Some(stdio_safe),
        add_extent: Some(add_extent),
        add_export: Some(add_export),
        use_default_export: Some(use_default_export),
        strdup_intern: Some(strdup_intern),
        strndup_intern: Some(strndup_intern),
        free: Some(free),
        next_prepare: Some(fake_next::next_prepare),
        next_finalize: Some(fake_next::next_finalize),
        next_get_size: Some(fake_next::next_get_size),
        next_export_description: Some(fake_next::next_export_description),
        next_block_size: Some(fake_next::next_block_size),
        next_can_write: Some(fake_next::next_can_write),
        next_can_flush: Some(fake_next::next_can_flush),
        next_is_rotational: Some(fake_next::next_is_rotational),
        next_can_trim: Some(fake_next::next_can_trim),
        next_can_zero: Some(fake_next::next_can_zero),
        next_can_fast_zero: Some(fake_next::next_can_fast_zero),
        next_can_extents: Some(fake_next::next_can_extents),
        next_can_fua: Some(fake_next::next_can_fua),
        next_can_multi_conn: Some(fake_next::next_can_multi_conn),
        next_can_cache: Some(fake_next::next_can_cache),
        next_pread: Some(fake_next::next_pread),
        next_pwrite: Some(fake_next::next_pwrite),
        next_flush: Some(fake_next::next_flush),
        next_trim: Some(fake_next::next_trim),
        next_zero: Some(fake_next::next_zero),
        next_extents: Some(fake_next::next_extents),
        next_cache: Some(fake_next::next_cache),
        next_config: Some(fake_next::next_config),
        next_config_complete: Some(fake_next::next_config_complete),
        next_preconnect: Some(fake_next::next_preconnect),
        next_list_exports: Some(fake_next::next_list_exports),
        next_default_export: Some(fake_next::next_default_export),
        next_open: Some(fake_next::next_open),
        extents_new: Some(fake_next::extents_new),
        extents_free: Some(fake_next::extents_free),
        extents_count: Some(fake_next::extents_count),
        get_extent: Some(fake_next::get_extent),
        extents_full: Some(fake_next::extents_full),
        exports_new: Some(fake_next::exports_new),
        exports_free: Some(fake_next::exports_free),
        exports_count: Some(fake_next::exports_count),
        get_export: Some(fake_next::get_export),
        context_get_backend: Some(fake_next::context_get_backend),
        next_context_open: Some(fake_next::next_context_open),
        next_context_close: Some(fake_next::next_context_close),
        context_set_next: Some(fake_next::context_set_next),
    }
}

static INSTALLED: AtomicPtr<nbdkit_rust_host> = AtomicPtr::new(ptr::null_mut());
static MAKE: Once = Once::new();

/// The one table of the process, made on first use and never freed:
/// the plugin keeps the pointer, as it keeps the loader's.
pub(crate) fn installed() -> &'static nbdkit_rust_host {
    MAKE.call_once(|| {
        let table: &'static mut nbdkit_rust_host = Box::leak(Box::new(table()));
        INSTALLED.store(table, Ordering::Release);
    });
    // SAFETY: set once above to a leaked table that is never written.
    unsafe { &*INSTALLED.load(Ordering::Acquire) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_service_of_the_table_is_there() {
        let t = table();
        assert_eq!(
            t.struct_size as usize,
            crate::ffi::NBDKIT_RUST_HOST_V1_1_MIN_SIZE
        );
        macro_rules! all_some {
            ($($field:ident),* $(,)?) => {
                $( assert!(t.$field.is_some(), stringify!($field)); )*
            };
        }
        all_some!(
            error,
            debug,
            set_error,
            export_name,
            is_tls,
            peer_name,
            peer_pid,
            peer_uid,
            peer_gid,
            shutdown,
            disconnect,
            parse_size,
            parse_bool,
            parse_probability,
            parse_int,
            parse_unsigned,
            parse_int8_t,
            parse_uint8_t,
            parse_int16_t,
            parse_uint16_t,
            parse_int32_t,
            parse_uint32_t,
            parse_int64_t,
            parse_uint64_t,
            read_password,
            realpath,
            absolute_path,
            nanosleep,
            stdio_safe,
            add_extent,
            add_export,
            use_default_export,
            strdup_intern,
            strndup_intern,
            free,
            next_prepare,
            next_finalize,
            next_get_size,
            next_export_description,
            next_block_size,
            next_can_write,
            next_can_flush,
            next_is_rotational,
            next_can_trim,
            next_can_zero,
            next_can_fast_zero,
            next_can_extents,
            next_can_fua,
            next_can_multi_conn,
            next_can_cache,
            next_pread,
            next_pwrite,
            next_flush,
            next_trim,
            next_zero,
            next_extents,
            next_cache,
            next_config,
            next_config_complete,
            next_preconnect,
            next_list_exports,
            next_default_export,
            next_open,
            extents_new,
            extents_free,
            extents_count,
            get_extent,
            extents_full,
            exports_new,
            exports_free,
            exports_count,
            get_export,
            context_get_backend,
            next_context_open,
            next_context_close,
            context_set_next,
        );
    }

    #[test]
    fn sizes_parse_as_in_nbdkit() {
        assert_eq!(parse_size_str("0"), Ok(0));
        assert_eq!(parse_size_str("512b"), Ok(512));
        assert_eq!(parse_size_str("2s"), Ok(1024));
        assert_eq!(parse_size_str("1K"), Ok(1024));
        assert_eq!(parse_size_str("1m"), Ok(1 << 20));
        assert_eq!(parse_size_str("3G"), Ok(3 << 30));
        assert_eq!(parse_size_str("1E"), Ok(1 << 60));
        assert_eq!(parse_size_str(" 7"), Ok(7));
        assert!(parse_size_str("8E").is_err());
        assert!(parse_size_str("1MB").is_err());
        assert!(parse_size_str("-1").is_err());
        assert!(parse_size_str("").is_err());
        assert!(parse_size_str("M").is_err());
    }

    #[test]
    fn integers_parse_as_strtoimax_base_0() {
        assert_eq!(parse_integer_str("n", "0x10", false), Ok(16));
        assert_eq!(parse_integer_str("n", "010", false), Ok(8));
        assert_eq!(parse_integer_str("n", "-12", false), Ok(-12));
        assert_eq!(parse_integer_str("n", "0", true), Ok(0));
        assert!(parse_integer_str("n", "-1", true).is_err());
        assert!(parse_integer_str("n", "12x", false).is_err());
        assert!(parse_integer_str("n", "", false).is_err());
        assert!(parse_integer_str("n", "08", false).is_err());
    }

    /// The fake nbdkit's parse_probability, through its host table
    /// entry: the loader's grammar (C strtod), which accepts what Rust's
    /// f64 parser would not (hex floats, leading blanks).
    fn probability(s: &str) -> Option<f64> {
        let (what, s) = (CString::new("p").unwrap(), CString::new(s).unwrap());
        let mut r = -1.0;
        // SAFETY: NUL-terminated strings and a writable f64 slot.
        match unsafe { parse_probability(what.as_ptr(), s.as_ptr(), &mut r) } {
            0 => Some(r),
            _ => None,
        }
    }

    #[test]
    fn probabilities_parse_as_the_loader_parses_them() {
        let _lock = lock();
        for (s, want) in [
            ("0.25", 0.25),
            ("1e-1", 0.1),
            ("10%", 0.1),
            ("1:4", 0.25),
            ("1/4", 0.25),
            ("0:0", 0.0),
            ("0x1p-2", 0.25),
            (" 0.5", 0.5),
        ] {
            assert_eq!(probability(s), Some(want), "{:?}", s);
        }
        for s in ["1:0", "-1", "x", "10%%", "1/", ""] {
            assert_eq!(probability(s), None, "{:?}", s);
        }
    }

    #[test]
    fn extents_follow_nbdkits_rules() {
        let mut e = Extents::new(100, 200);
        // Before start: ignored; overlapping start: clipped.
        e.add(0, 50, 0).unwrap();
        e.add(50, 60, 3).unwrap();
        // Same type: coalesced.  Beyond the end: clipped, then ignored.
        e.add(110, 10, 3).unwrap();
        e.add(120, 100, 0).unwrap();
        e.add(220, 10, 3).unwrap();
        assert_eq!(e.list, vec![(100, 20, 3), (120, 80, 0)]);
        assert!(e.add(500, 1, 0).is_err(), "not contiguous");
        let mut e = Extents::new(100, 200);
        assert!(e.add(150, 1, 0).is_err(), "first extent after start");
        let mut e = Extents::new(0, 10);
        e.add(0, 0, 0).unwrap();
        assert!(e.list.is_empty(), "zero length is ignored");
    }

    #[test]
    fn peer_addresses_encode_as_linux_sockaddrs() {
        use crate::peer::decode;
        for peer in [
            PeerName::Inet("127.0.0.1:10809".parse().unwrap()),
            PeerName::Inet("[::1]:10809".parse().unwrap()),
            PeerName::Unix(None),
            PeerName::Unix(Some(PathBuf::from("/tmp/sock"))),
            PeerName::Other(40),
        ] {
            assert_eq!(decode(&encode(&peer)).unwrap(), peer);
        }
    }
}
