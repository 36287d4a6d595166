//! A fake host table: Rust functions standing in for the loader's, which
//! record what the plugin asked of them.
//!
//! Each test runs on its own thread and the glue calls the host on the
//! caller's thread, so the record is thread-local: tests do not see each
//! other's events.  One table is installed for the whole test binary.

use std::cell::RefCell;
use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int, c_uint, c_void};
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::Once;

use crate::ffi::{
    nbdkit_exports, nbdkit_extents, nbdkit_rust_host, sockaddr, socklen_t, NBDKIT_RUST_ABI_MAJOR,
    NBDKIT_RUST_ABI_MINOR,
};

/// Something the plugin did through the host table.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    Error(String),
    Debug(String),
    SetError(i32),
    Shutdown,
    Disconnect(bool),
    Nanosleep(u32, u32),
    Intern(String, usize),
    Free(String),
}

thread_local! {
    static EVENTS: RefCell<Vec<Event>> = const { RefCell::new(Vec::new()) };
}

fn record(e: Event) {
    EVENTS.with(|events| events.borrow_mut().push(e));
}

/// Take (and clear) this thread's events.
pub fn take_events() -> Vec<Event> {
    EVENTS.with(|events| std::mem::take(&mut *events.borrow_mut()))
}

/// This thread's error messages and errnos, clearing the record.
pub fn take_errors() -> (Vec<String>, Vec<i32>) {
    let mut messages = Vec::new();
    let mut errnos = Vec::new();
    for e in take_events() {
        match e {
            Event::Error(m) => messages.push(m),
            Event::SetError(e) => errnos.push(e),
            _ => {}
        }
    }
    (messages, errnos)
}

/// A string the test harness owns, from a C pointer.
///
/// # Safety
///
/// `p` must be a NUL-terminated string.
unsafe fn string(p: *const c_char) -> String {
    // SAFETY: the caller promises a NUL-terminated string.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

/// What the extents fake collects: `(offset, length, type)`.
pub type ExtentList = Vec<(u64, u64, u32)>;
/// What the exports fake collects: `(name, description)`.
pub type ExportsList = Vec<(String, Option<String>)>;

unsafe extern "C" fn error(msg: *const c_char) {
    // SAFETY: the SDK passes a NUL-terminated message.
    record(Event::Error(unsafe { string(msg) }));
}

unsafe extern "C" fn debug(msg: *const c_char) {
    // SAFETY: the SDK passes a NUL-terminated message.
    record(Event::Debug(unsafe { string(msg) }));
}

unsafe extern "C" fn set_error(err: c_int) {
    record(Event::SetError(err));
}

unsafe extern "C" fn export_name() -> *const c_char {
    b"fake-export\0".as_ptr().cast()
}

unsafe extern "C" fn is_tls() -> c_int {
    1
}

unsafe extern "C" fn peer_name(addr: *mut sockaddr, addrlen: *mut socklen_t) -> c_int {
    // sockaddr_in for 127.0.0.1:10809.
    let mut sin = [0u8; 16];
    sin[0..2].copy_from_slice(&2u16.to_ne_bytes());
    sin[2..4].copy_from_slice(&10809u16.to_be_bytes());
    sin[4..8].copy_from_slice(&[127, 0, 0, 1]);
    // SAFETY: the SDK passes a buffer of *addrlen writable bytes, and
    // *addrlen is at least 16 (sockaddr_storage).
    unsafe {
        assert!(*addrlen as usize >= sin.len());
        ptr::copy_nonoverlapping(sin.as_ptr(), addr.cast::<u8>(), sin.len());
        *addrlen = sin.len() as socklen_t;
    }
    0
}

unsafe extern "C" fn peer_pid() -> i64 {
    4242
}

unsafe extern "C" fn peer_uid() -> i64 {
    1000
}

unsafe extern "C" fn peer_gid() -> i64 {
    record(Event::Error("nbdkit_peer_gid: not a Unix socket".into()));
    -1
}

unsafe extern "C" fn shutdown() {
    record(Event::Shutdown);
}

unsafe extern "C" fn disconnect(force: c_int) -> c_int {
    record(Event::Disconnect(force != 0));
    0
}

unsafe extern "C" fn parse_size(s: *const c_char) -> i64 {
    // SAFETY: the SDK passes a NUL-terminated string.
    let s = unsafe { string(s) };
    let (digits, scale) = match s.chars().last() {
        Some('K') => (&s[..s.len() - 1], 1 << 10),
        Some('M') => (&s[..s.len() - 1], 1 << 20),
        Some('G') => (&s[..s.len() - 1], 1 << 30),
        _ => (&s[..], 1),
    };
    match digits.parse::<i64>() {
        Ok(n) => n * scale,
        Err(_) => {
            record(Event::Error(format!("could not parse size string ({})", s)));
            -1
        }
    }
}

unsafe extern "C" fn parse_bool(s: *const c_char) -> c_int {
    // SAFETY: the SDK passes a NUL-terminated string.
    match unsafe { string(s) }.as_str() {
        "1" | "yes" | "true" | "on" => 1,
        "0" | "no" | "false" | "off" => 0,
        _ => -1,
    }
}

unsafe extern "C" fn parse_probability(
    _what: *const c_char,
    s: *const c_char,
    r: *mut f64,
) -> c_int {
    // SAFETY: the SDK passes a NUL-terminated string.
    let s = unsafe { string(s) };
    let value = match s.strip_suffix('%') {
        Some(percent) => percent.parse::<f64>().map(|p| p / 100.0),
        None => s.parse::<f64>(),
    };
    match value {
        Ok(v) => {
            // SAFETY: the SDK passes a valid f64 slot.
            unsafe { *r = v };
            0
        }
        Err(_) => -1,
    }
}

macro_rules! fake_parse_integer {
    ($($name:ident: $t:ty),* $(,)?) => {
        $(
            unsafe extern "C" fn $name(_what: *const c_char, s: *const c_char, r: *mut $t) -> c_int {
                // SAFETY: the SDK passes a NUL-terminated string.
                match unsafe { string(s) }.parse::<$t>() {
                    Ok(v) => {
                        // SAFETY: the SDK passes a valid slot of this type.
                        unsafe { *r = v };
                        0
                    }
                    Err(_) => -1,
                }
            }
        )*
    };
}

fake_parse_integer!(
    parse_int: c_int,
    parse_unsigned: c_uint,
    parse_int8_t: i8,
    parse_uint8_t: u8,
    parse_int16_t: i16,
    parse_uint16_t: u16,
    parse_int32_t: i32,
    parse_uint32_t: u32,
    parse_int64_t: i64,
    parse_uint64_t: u64,
);

extern "C" {
    // The C library's allocator (std links it anyway): host strings are
    // malloc'd by the host and released with host->free, as in nbdkit.
    #[link_name = "malloc"]
    fn libc_malloc(size: usize) -> *mut c_void;
    #[link_name = "free"]
    fn libc_free(p: *mut c_void);
}

/// A string "allocated by the host" with malloc: released by `free`
/// below.
fn host_string_bytes(s: &[u8]) -> *mut c_char {
    // SAFETY: malloc of len+1 bytes, checked for NULL, then filled with
    // the bytes and a terminating NUL.
    unsafe {
        let p = libc_malloc(s.len() + 1).cast::<u8>();
        assert!(!p.is_null());
        ptr::copy_nonoverlapping(s.as_ptr(), p, s.len());
        *p.add(s.len()) = 0;
        p.cast::<c_char>()
    }
}

fn host_string(s: &str) -> *mut c_char {
    host_string_bytes(s.as_bytes())
}

unsafe extern "C" fn read_password(value: *const c_char, password: *mut *mut c_char) -> c_int {
    // SAFETY: the SDK passes a NUL-terminated string.
    let value = unsafe { string(value) };
    if value == "-99" {
        return -1;
    }
    let answer = if value == "+latin1" {
        // A password that is not UTF-8.
        host_string_bytes(&[0xe9])
    } else {
        host_string(&value)
    };
    // SAFETY: the SDK passes a valid pointer slot.
    unsafe { *password = answer };
    0
}

unsafe extern "C" fn realpath(path: *const c_char) -> *mut c_char {
    // SAFETY: the SDK passes a NUL-terminated string.
    let path = unsafe { string(path) };
    if path.contains("missing") {
        record(Event::Error(format!(
            "realpath: {}: No such file or directory",
            path
        )));
        return ptr::null_mut();
    }
    host_string(&format!("/real/{}", path.trim_start_matches("./")))
}

unsafe extern "C" fn absolute_path(path: *const c_char) -> *mut c_char {
    // SAFETY: the SDK passes a NUL-terminated string.
    let path = unsafe { string(path) };
    if path.starts_with('/') {
        host_string(&path)
    } else {
        host_string(&format!("/cwd/{}", path))
    }
}

unsafe extern "C" fn nanosleep(sec: c_uint, nsec: c_uint) -> c_int {
    record(Event::Nanosleep(sec, nsec));
    if sec == 999 {
        -1
    } else {
        0
    }
}

unsafe extern "C" fn stdio_safe() -> c_int {
    1
}

unsafe extern "C" fn add_extent(
    extents: *mut nbdkit_extents,
    offset: u64,
    length: u64,
    type_: u32,
) -> c_int {
    if length == 0 {
        record(Event::Error("nbdkit_add_extent: zero length".into()));
        return -1;
    }
    // SAFETY: the tests pass a pointer to an ExtentList as the extents.
    let list = unsafe { &mut *extents.cast::<ExtentList>() };
    list.push((offset, length, type_));
    0
}

unsafe extern "C" fn add_export(
    exports: *mut nbdkit_exports,
    name: *const c_char,
    description: *const c_char,
) -> c_int {
    // SAFETY: the tests pass a pointer to an ExportsList as the exports.
    let list = unsafe { &mut *exports.cast::<ExportsList>() };
    // SAFETY: the SDK passes NUL-terminated strings; DESCRIPTION may be
    // NULL.
    let entry = unsafe {
        (
            string(name),
            if description.is_null() {
                None
            } else {
                Some(string(description))
            },
        )
    };
    list.push(entry);
    0
}

unsafe extern "C" fn use_default_export(exports: *mut nbdkit_exports) -> c_int {
    // SAFETY: the tests pass a pointer to an ExportsList as the exports.
    let list = unsafe { &mut *exports.cast::<ExportsList>() };
    list.push(("<default>".into(), None));
    0
}

unsafe extern "C" fn strdup_intern(s: *const c_char) -> *const c_char {
    // SAFETY: the SDK passes a NUL-terminated string.
    let copy = unsafe { string(s) };
    // The fake "nbdkit" keeps interned strings forever.
    let p = CString::new(copy.clone()).unwrap().into_raw() as *const c_char;
    record(Event::Intern(copy, p as usize));
    p
}

unsafe extern "C" fn strndup_intern(s: *const c_char, n: usize) -> *const c_char {
    // SAFETY: the SDK passes a NUL-terminated string.
    let copy: String = unsafe { string(s) }.chars().take(n).collect();
    let p = CString::new(copy.clone()).unwrap().into_raw() as *const c_char;
    record(Event::Intern(copy, p as usize));
    p
}

unsafe extern "C" fn free(p: *mut c_void) {
    if p.is_null() {
        return;
    }
    // SAFETY: every string this fake host hands out for freeing is a
    // malloc'd NUL-terminated string (possibly wiped to zeroes).
    let s = unsafe { string(p.cast::<c_char>()) };
    // SAFETY: as above: it came from malloc and is freed once.
    unsafe { libc_free(p) };
    record(Event::Free(s));
}

/// A complete ABI 1.0 fake host table.
pub fn table() -> nbdkit_rust_host {
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
    }
}

static INSTALLED: AtomicPtr<nbdkit_rust_host> = AtomicPtr::new(ptr::null_mut());
static INSTALL: Once = Once::new();

/// The one fake table of this test binary, installed as the host table
/// (as the entry point would).  Clears this thread's events.
pub fn install() -> &'static nbdkit_rust_host {
    INSTALL.call_once(|| {
        let table: &'static nbdkit_rust_host = Box::leak(Box::new(table()));
        crate::host::install(table);
        INSTALLED.store(table as *const _ as *mut _, Ordering::Release);
    });
    take_events();
    let table = INSTALLED.load(Ordering::Acquire);
    // SAFETY: set once above to a leaked, never-changed table.
    unsafe { &*table }
}
