// SPDX-License-Identifier: BSD-2-Clause
//! The host table the loader handed us (or, loaded directly by nbdkit,
//! the one `plugin_init` filled from the running nbdkit:
//! `direct_host.rs`), and the safe functions over the nbdkit services it
//! holds.
//!
//! The loader calls the plugin's entry point with its table once, right
//! after `dlopen`; the entry point validates it and [`install`]s it here.
//! Every service function reads the table through [`service!`], which
//! applies `NBDKIT_RUST_HAS_FIELD`: a field beyond the host's
//! `struct_size` (an older loader) or a NULL one is an `ENOTSUP` error,
//! never a call through a bad pointer.

use std::ffi::{CStr, CString, OsStr};
use std::fmt;
use std::os::raw::{c_char, c_int, c_uint, c_void};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::time::Duration;

use crate::errno::{EINVAL, EIO, ENOMEM, ENOTSUP, ESHUTDOWN};
use crate::ffi::{nbdkit_rust_host, socklen_t};
use crate::peer::{PeerName, SockaddrBuf};
use crate::{Error, Result};

/// The host table, or NULL before the entry point ran.
static HOST: AtomicPtr<nbdkit_rust_host> = AtomicPtr::new(ptr::null_mut());

/// Remember the host table for the life of the library.
///
/// The entry point calls this after checking the table's version and
/// size, so every reader may rely on the ABI 1.0 fields being there.
pub(crate) fn install(host: &'static nbdkit_rust_host) {
    HOST.store(host as *const nbdkit_rust_host as *mut _, Ordering::Release);
}

/// The host table, if the entry point has installed one.
#[inline]
pub(crate) fn table() -> Option<&'static nbdkit_rust_host> {
    let host = HOST.load(Ordering::Acquire);
    // SAFETY: HOST is NULL or a table `install` got as a `&'static`; the
    // header guarantees the table stays valid and unchanged until the
    // plugin is dlclose()d, and it is never written through.
    unsafe { host.as_ref() }
}

/// Look up one service of `host`: `NBDKIT_RUST_HAS_FIELD` (the field
/// must end within `host.struct_size`) and non-NULL, else `ENOTSUP`.
///
/// Inlined: on the data path (`Next`'s requests) this is a compare and
/// a load per call; the errors are built out of line.
#[inline]
pub(crate) fn lookup_in<F>(
    host: &nbdkit_rust_host,
    name: &'static str,
    field_end: usize,
    get: impl FnOnce(&nbdkit_rust_host) -> Option<F>,
) -> Result<F> {
    if host.struct_size < field_end as u64 {
        return Err(too_short(name, host.struct_size, field_end));
    }
    match get(host) {
        Some(f) => Ok(f),
        None => Err(null_service(name)),
    }
}

/// The error of a service beyond the end of the loader's table.
#[cold]
#[inline(never)]
fn too_short(name: &'static str, struct_size: u64, field_end: usize) -> Error {
    Error::new(
        ENOTSUP,
        format!(
            "nbdkit host service {} is not available: the loader's table has {} bytes, \
             the service needs {} (the loader is older than this plugin's SDK)",
            name, struct_size, field_end
        ),
    )
}

/// The error of a service that is NULL in the table.
#[cold]
#[inline(never)]
fn null_service(name: &'static str) -> Error {
    Error::new(
        ENOTSUP,
        format!(
            "nbdkit host service {} is not available: NULL in the host table \
             (loaded directly, the running nbdkit lacks nbdkit_{})",
            name, name
        ),
    )
}

/// The error of a service asked for before any table was installed.
#[cold]
#[inline(never)]
fn no_table(name: &'static str) -> Error {
    Error::new(
        ENOTSUP,
        format!(
            "nbdkit host service {} is not available: the plugin was not loaded by \
             nbdkit-rust-plugin.so nor by nbdkit (no host table)",
            name
        ),
    )
}

/// Look up one service of the installed table (see [`lookup_in`]).
#[inline]
pub(crate) fn lookup<F>(
    name: &'static str,
    field_end: usize,
    get: impl FnOnce(&nbdkit_rust_host) -> Option<F>,
) -> Result<F> {
    match table() {
        Some(host) => lookup_in(host, name, field_end, get),
        None => Err(no_table(name)),
    }
}

/// `service!(field)`: the function pointer in field `field` of the
/// installed host table, as a `Result` (see [`lookup`]).
macro_rules! service {
    ($field:ident) => {
        $crate::host::lookup(
            stringify!($field),
            $crate::layout::field_end!($crate::ffi::nbdkit_rust_host, $field),
            |host| host.$field,
        )
    };
}
pub(crate) use service;

/// A C copy of `s` for a message: NUL bytes (which C cannot carry) are
/// dropped rather than failing.  The one place messages lose their NUL
/// bytes, for the loader's host table and nbdkit's own functions alike.
pub(crate) fn message_to_c(s: &str) -> CString {
    let bytes: Vec<u8> = s.bytes().filter(|&b| b != 0).collect();
    CString::new(bytes).unwrap_or_default()
}

/// A C copy of an argument string; a NUL byte in it is an `EINVAL`
/// error naming `what`.
pub(crate) fn arg_to_c(what: &str, s: &str) -> Result<CString> {
    CString::new(s)
        .map_err(|_| Error::new(EINVAL, format!("{}: {:?} contains a NUL byte", what, s)))
}

/// A C copy of a path, which may be any bytes but NUL.
fn path_to_c(what: &str, path: &Path) -> Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| Error::new(EINVAL, format!("{}: {:?} contains a NUL byte", what, path)))
}

/// Log `msg` with nbdkit_error.  Without a host there is nowhere to log.
pub(crate) fn error_message(msg: &str) {
    if let Ok(error) = service!(error) {
        let msg = message_to_c(msg);
        // SAFETY: `error` comes from the installed host table; `msg` is a
        // NUL-terminated string that outlives the call.
        unsafe { error(msg.as_ptr()) };
    }
}

/// Set the errno the client receives (nbdkit_set_error).
pub(crate) fn set_error(errno: i32) {
    if let Ok(set_error) = service!(set_error) {
        // SAFETY: `set_error` comes from the installed host table and
        // takes a plain integer.
        unsafe { set_error(errno) };
    }
}

/// Log a callback's failure the way the header asks: its message with
/// host->error, unless nbdkit logged it already (a host service's,
/// [`Error::logged`]): logging it again would show the failure twice.
/// The glue then hands nbdkit [`client_errno`].
pub(crate) fn log(e: &Error) {
    if !e.is_logged() {
        error_message(&e.to_string());
    }
}

/// The errno a client receives for `e`: its own, or `EIO` if it has
/// none.
pub(crate) fn client_errno(e: &Error) -> i32 {
    if e.errno() == 0 {
        EIO
    } else {
        e.errno()
    }
}

/// Used by [`debug!`](crate::debug): format and send a debug message.
#[doc(hidden)]
pub fn debug_fmt(args: fmt::Arguments<'_>) {
    if let Ok(debug) = service!(debug) {
        let msg = message_to_c(&fmt::format(args));
        // SAFETY: `debug` comes from the installed host table; `msg` is a
        // NUL-terminated string that outlives the call.
        unsafe { debug(msg.as_ptr()) };
    }
}

/// Copy a string nbdkit keeps for the current connection (or, outside
/// one, until nbdkit exits): what the default_export and
/// export_description callbacks return.
pub(crate) fn strdup_intern(what: &str, s: &str) -> Result<*const c_char> {
    let c = arg_to_c(what, s)?;
    let intern = service!(strdup_intern)?;
    // SAFETY: `intern` comes from the installed host table; `c` is a
    // NUL-terminated string that outlives the call, and nbdkit copies it.
    let p = unsafe { intern(c.as_ptr()) };
    if p.is_null() {
        Err(Error::new(
            ENOMEM,
            format!("{}: nbdkit_strdup_intern failed", what),
        ))
    } else {
        Ok(p)
    }
}

/// Take a string nbdkit malloc'd for us (read_password, realpath,
/// absolute_path): copy it, then release it with host->free after
/// overwriting it with zeroes if `wipe` is set.
///
/// # Safety
///
/// `p` must be NULL or a NUL-terminated string allocated by the host for
/// the plugin, not used again after this call.
unsafe fn take_host_string(p: *mut c_char, wipe: bool) -> Result<Vec<u8>> {
    if p.is_null() {
        return Ok(Vec::new());
    }
    // SAFETY: the caller promises a NUL-terminated string.
    let bytes = unsafe { CStr::from_ptr(p) }.to_bytes().to_vec();
    if wipe {
        // SAFETY: `p` points to `bytes.len()` writable bytes that the
        // host allocated for us (the string without its NUL).
        unsafe { ptr::write_bytes(p, 0, bytes.len()) };
    }
    let free = service!(free)?;
    // SAFETY: `free` comes from the installed host table and releases
    // memory the host allocated for the plugin; nobody uses `p` after.
    unsafe { free(p.cast::<c_void>()) };
    Ok(bytes)
}

/// The version of nbdkit the loader was built for, e.g. `"1.32.5"`, or
/// `None` when the plugin was not loaded by nbdkit-rust-plugin.so (nbdkit
/// loading the plugin directly does not tell its version).
pub fn nbdkit_version() -> Option<&'static str> {
    let host = table()?;
    if host.nbdkit_version.is_null() {
        return None;
    }
    // SAFETY: the header says the string is static and NUL-terminated.
    unsafe { CStr::from_ptr(host.nbdkit_version) }.to_str().ok()
}

/// Request nbdkit to disconnect the current client (`nbdkit_disconnect`).
///
/// If `force` is true, nbdkit will disconnect the client immediately,
/// and the client will not receive any response to the current command or
/// any other commands in flight. If `force` is false, nbdkit will not
/// accept any new commands from the client (it will reply to any
/// further commands with `ESHUTDOWN`), but will allow existing commands
/// to complete gracefully.  Either way, the next call to the
/// [`Server`](crate::Server) after the current one will be `close`
/// (`Drop`).
///
/// nbdkit_disconnect appeared in nbdkit 1.34: with an older nbdkit an
/// error saying so is logged and nothing happens.
pub fn disconnect(force: bool) {
    if let Ok(disconnect) = service!(disconnect) {
        // SAFETY: `disconnect` comes from the installed host table and
        // takes a plain integer.
        unsafe { disconnect(c_int::from(force)) };
    }
}

/// Return the optional NBD export name if one was negotiated with the
/// current client (`nbdkit_export_name`).
///
/// Note that this function must be called from one of nbdkit's own
/// threads, in a connection: that is, in the same thread as one of the
/// [`Server`](crate::Server) callbacks.
pub fn export_name() -> std::result::Result<String, Box<dyn std::error::Error>> {
    let export_name = service!(export_name)?;
    // SAFETY: `export_name` comes from the installed host table and takes
    // no arguments.
    let p = unsafe { export_name() };
    if p.is_null() {
        return Err("No export name available".into());
    }
    // SAFETY: a non-NULL result is a NUL-terminated string owned by
    // nbdkit, valid until the connection closes; it is copied here.
    let name = unsafe { CStr::from_ptr(p) };
    Ok(name.to_str()?.to_owned())
}

/// Is it safe to interact with stdin and stdout during the
/// configuration phase (`nbdkit_stdio_safe`)?
///
/// This function is only relevant up through `config_complete`.  After
/// the configuration phase, the plugin should assume that stdin and
/// stdout have been closed.  False when no host table is available.
pub fn is_stdio_safe() -> bool {
    match service!(stdio_safe) {
        Ok(stdio_safe) => {
            // SAFETY: `stdio_safe` comes from the installed host table
            // and takes no arguments.
            let r = unsafe { stdio_safe() };
            r == 1
        }
        Err(_) => false,
    }
}

/// Did the client complete TLS authentication (`nbdkit_is_tls`)?
///
/// Only meaningful in a connection (from `open` on).  An error (`EIO`)
/// if nbdkit cannot tell.
pub fn is_tls() -> Result<bool> {
    let is_tls = service!(is_tls)?;
    // SAFETY: `is_tls` comes from the installed host table and takes no
    // arguments.
    match unsafe { is_tls() } {
        -1 => Err(Error::new(EIO, "nbdkit_is_tls failed")),
        r => Ok(r != 0),
    }
}

/// Request nbdkit to asynchronously and safely shut down the server
/// (`nbdkit_shutdown`).
pub fn shutdown() {
    if let Ok(shutdown) = service!(shutdown) {
        // SAFETY: `shutdown` comes from the installed host table and
        // takes no arguments.
        unsafe { shutdown() };
    }
}

/// The address of the client of the current connection
/// (`nbdkit_peer_name`), as a [`PeerName`].
///
/// Call it from a connection, e.g. in
/// [`Server::preconnect`](crate::Server::preconnect) for access control.
/// An error (`EIO`) if nbdkit cannot tell (it has logged why).
///
/// Unlike 0.3.0's `peername` (which needed the `nix` feature and
/// returned a `nix` address), this returns standard library types.
pub fn peername() -> Result<PeerName> {
    let peer_name = service!(peer_name)?;
    let mut buf = SockaddrBuf::new();
    let mut len = buf.capacity() as socklen_t;
    // SAFETY: `peer_name` comes from the installed host table; `buf` is
    // a writable, suitably aligned sockaddr_storage-sized buffer and
    // `len` says how big it is.
    let r = unsafe { peer_name(buf.as_mut_ptr(), &mut len) };
    if r == -1 {
        return Err(Error::logged(EIO, "nbdkit_peer_name failed"));
    }
    buf.decode(len as usize)
}

macro_rules! peer_id {
    ($(#[$doc:meta])* $name:ident, $c_name:literal) => {
        $(#[$doc])*
        pub fn $name() -> Result<i64> {
            let get = service!($name)?;
            // SAFETY: the function comes from the installed host table
            // and takes no arguments.
            match unsafe { get() } {
                -1 => Err(Error::logged(EIO, concat!($c_name, " failed"))),
                id => Ok(id),
            }
        }
    };
}

peer_id!(
    /// The process ID of the client of the current connection
    /// (`nbdkit_peer_pid`), only for Unix domain socket connections on
    /// Linux.  An error (`EIO`) otherwise (nbdkit has logged why).
    peer_pid,
    "nbdkit_peer_pid"
);
peer_id!(
    /// The user ID of the client of the current connection
    /// (`nbdkit_peer_uid`), only for Unix domain socket connections.  An
    /// error (`EIO`) otherwise (nbdkit has logged why).
    peer_uid,
    "nbdkit_peer_uid"
);
peer_id!(
    /// The group ID of the client of the current connection
    /// (`nbdkit_peer_gid`), only for Unix domain socket connections.  An
    /// error (`EIO`) otherwise (nbdkit has logged why).
    peer_gid,
    "nbdkit_peer_gid"
);

/// Parse a string as a boolean (`nbdkit_parse_bool`): "1", "true",
/// "yes", "on" and their opposites, case-insensitively.
///
/// On failure nbdkit has logged why; the error is `EINVAL`, and a
/// callback returning it as is does not log it again.
pub fn parse_bool(s: &str) -> Result<bool> {
    let c = arg_to_c("parse_bool", s)?;
    let parse = service!(parse_bool)?;
    // SAFETY: `parse` comes from the installed host table; `c` is a
    // NUL-terminated string that outlives the call.
    match unsafe { parse(c.as_ptr()) } {
        -1 => Err(Error::logged(
            EINVAL,
            format!("could not parse {:?} as a boolean", s),
        )),
        r => Ok(r != 0),
    }
}

/// Parse a string as a probability (`nbdkit_parse_probability`):
/// "0.1", "1e-1", "10%", "1:10" or "1/10".  `what` names the value in
/// nbdkit's error message.
///
/// On failure nbdkit has logged why; the error is `EINVAL`, and a
/// callback returning it as is does not log it again.
pub fn parse_probability(what: &str, s: &str) -> Result<f64> {
    let what_c = arg_to_c("parse_probability", what)?;
    let c = arg_to_c(what, s)?;
    let parse = service!(parse_probability)?;
    let mut r = 0.0f64;
    // SAFETY: `parse` comes from the installed host table; both strings
    // are NUL-terminated and outlive the call; `r` is a valid f64 slot.
    match unsafe { parse(what_c.as_ptr(), c.as_ptr(), &mut r) } {
        -1 => Err(Error::logged(
            EINVAL,
            format!("{}: could not parse {:?} as a probability", what, s),
        )),
        _ => Ok(r),
    }
}

/// Parse a string as a size in bytes (`nbdkit_parse_size`): a number
/// with an optional scaling suffix, "1M", "2G", "512b", ...
///
/// On failure nbdkit has logged why; the error is `EINVAL`, and a
/// callback returning it as is does not log it again.
pub fn parse_size(s: &str) -> Result<i64> {
    let c = arg_to_c("parse_size", s)?;
    let parse = service!(parse_size)?;
    // SAFETY: `parse` comes from the installed host table; `c` is a
    // NUL-terminated string that outlives the call.
    match unsafe { parse(c.as_ptr()) } {
        -1 => Err(Error::logged(
            EINVAL,
            format!("could not parse {:?} as a size", s),
        )),
        r => Ok(r),
    }
}

macro_rules! parse_integer {
    ($(#[$doc:meta])* $name:ident, $field:ident, $t:ty, $c_name:literal) => {
        $(#[$doc])*
        ///
        /// `what` names the value in nbdkit's error message.  On failure
        /// nbdkit has logged why; the error is `EINVAL`, and a callback
        /// returning it as is does not log it again.
        pub fn $name(what: &str, s: &str) -> Result<$t> {
            let what_c = arg_to_c($c_name, what)?;
            let c = arg_to_c(what, s)?;
            let parse = service!($field)?;
            let mut r: $t = 0;
            // SAFETY: `parse` comes from the installed host table; both
            // strings are NUL-terminated and outlive the call; `r` is a
            // valid slot of the C type the function writes.
            match unsafe { parse(what_c.as_ptr(), c.as_ptr(), &mut r) } {
                -1 => Err(Error::logged(
                    EINVAL,
                    format!("{}: could not parse {:?} ({})", what, s, $c_name),
                )),
                _ => Ok(r),
            }
        }
    };
}

parse_integer!(
    /// Parse a string as a C `int` (`nbdkit_parse_int`).
    parse_int, parse_int, c_int, "nbdkit_parse_int"
);
parse_integer!(
    /// Parse a string as a C `unsigned` (`nbdkit_parse_unsigned`).
    parse_unsigned, parse_unsigned, c_uint, "nbdkit_parse_unsigned"
);
parse_integer!(
    /// Parse a string as an `i8` (`nbdkit_parse_int8_t`).
    parse_i8, parse_int8_t, i8, "nbdkit_parse_int8_t"
);
parse_integer!(
    /// Parse a string as a `u8` (`nbdkit_parse_uint8_t`).
    parse_u8, parse_uint8_t, u8, "nbdkit_parse_uint8_t"
);
parse_integer!(
    /// Parse a string as an `i16` (`nbdkit_parse_int16_t`).
    parse_i16, parse_int16_t, i16, "nbdkit_parse_int16_t"
);
parse_integer!(
    /// Parse a string as a `u16` (`nbdkit_parse_uint16_t`).
    parse_u16, parse_uint16_t, u16, "nbdkit_parse_uint16_t"
);
parse_integer!(
    /// Parse a string as an `i32` (`nbdkit_parse_int32_t`).
    parse_i32, parse_int32_t, i32, "nbdkit_parse_int32_t"
);
parse_integer!(
    /// Parse a string as a `u32` (`nbdkit_parse_uint32_t`).
    parse_u32, parse_uint32_t, u32, "nbdkit_parse_uint32_t"
);
parse_integer!(
    /// Parse a string as an `i64` (`nbdkit_parse_int64_t`).
    parse_i64, parse_int64_t, i64, "nbdkit_parse_int64_t"
);
parse_integer!(
    /// Parse a string as a `u64` (`nbdkit_parse_uint64_t`).
    parse_u64, parse_uint64_t, u64, "nbdkit_parse_uint64_t"
);

/// Read a password as nbdkit does for `password=VALUE` parameters
/// (`nbdkit_read_password`): `VALUE` itself, `-` to prompt on the
/// terminal, `+FILENAME` to read it from a file, or `-FD` to read it from
/// a file descriptor.
///
/// The C copy nbdkit made is overwritten with zeroes and released before
/// this returns.  Errors: `EINVAL` if nbdkit failed (it has logged why)
/// or the password is not UTF-8.
pub fn read_password(value: &str) -> Result<String> {
    let c = arg_to_c("read_password", value)?;
    let read_password = service!(read_password)?;
    let mut password: *mut c_char = ptr::null_mut();
    // SAFETY: `read_password` comes from the installed host table; `c`
    // is NUL-terminated and outlives the call; `password` is a valid
    // slot for the result pointer.
    let r = unsafe { read_password(c.as_ptr(), &mut password) };
    if r == -1 {
        return Err(Error::logged(EINVAL, "nbdkit_read_password failed"));
    }
    // SAFETY: on success `password` is a malloc'd NUL-terminated string
    // (or NULL) that we own and release here.
    let bytes = unsafe { take_host_string(password, true) }?;
    String::from_utf8(bytes).map_err(|_| Error::new(EINVAL, "the password is not valid UTF-8"))
}

/// Call a realpath-like host service and take its result.
fn host_path(
    what: &'static str,
    path: &Path,
    service: unsafe extern "C" fn(*const c_char) -> *mut c_char,
) -> Result<PathBuf> {
    let c = path_to_c(what, path)?;
    // SAFETY: `service` comes from the installed host table; `c` is
    // NUL-terminated and outlives the call.
    let p = unsafe { service(c.as_ptr()) };
    if p.is_null() {
        return Err(Error::logged(
            EINVAL,
            format!("{}: {:?} failed", what, path),
        ));
    }
    // SAFETY: a non-NULL result is a malloc'd NUL-terminated string that
    // we own and release here.
    let bytes = unsafe { take_host_string(p, false) }?;
    Ok(PathBuf::from(OsStr::from_bytes(&bytes)))
}

/// The canonical absolute form of an existing path (`nbdkit_realpath`).
///
/// nbdkit changes directory to `/` when it forks into the background, so
/// resolve relative paths given as parameters in `config` or
/// `config_complete`.  An error (`EINVAL`) if the path does not exist or
/// cannot be resolved (nbdkit has logged why).
pub fn realpath<P: AsRef<Path>>(path: P) -> Result<PathBuf> {
    let service = service!(realpath)?;
    host_path("nbdkit_realpath", path.as_ref(), service)
}

/// The absolute form of a path, which need not exist
/// (`nbdkit_absolute_path`).  See [`realpath`] for when to call it.
pub fn absolute_path<P: AsRef<Path>>(path: P) -> Result<PathBuf> {
    let service = service!(absolute_path)?;
    host_path("nbdkit_absolute_path", path.as_ref(), service)
}

/// Sleep for `duration`, but return early with an `ESHUTDOWN` error if
/// nbdkit is shutting down or the client disconnects
/// (`nbdkit_nanosleep`).
///
/// A duration of more than `u32::MAX` seconds is an `EINVAL` error.
pub fn nanosleep(duration: Duration) -> Result<()> {
    let sec = c_uint::try_from(duration.as_secs())
        .map_err(|_| Error::new(EINVAL, format!("nanosleep: {:?} is too long", duration)))?;
    let nanosleep = service!(nanosleep)?;
    // SAFETY: `nanosleep` comes from the installed host table and takes
    // plain integers.
    match unsafe { nanosleep(sec, duration.subsec_nanos()) } {
        -1 => Err(Error::new(
            ESHUTDOWN,
            "nbdkit_nanosleep: interrupted by shutdown",
        )),
        _ => Ok(()),
    }
}
