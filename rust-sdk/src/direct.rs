// SPDX-License-Identifier: BSD-2-Clause
//! Loading straight into nbdkit, without the loader:
//! `nbdkit ./libfoo.so [key=value ...]`, as for a plugin written in C.
//!
//! nbdkit dlopens the library and calls its `plugin_init`, which
//! [`plugin!`](crate::plugin) defines next to the loader's entry point.
//! `plugin_init` fills the host table from the running nbdkit
//! (`direct_host.rs`), then hands nbdkit a `struct nbdkit_plugin`
//! (`nbdkit_ffi.rs`) made from the very descriptor the loader would get
//! (`descriptor.rs`): the plugin's callbacks where it has them, NULL
//! where it does not, so nbdkit applies its own defaults, as it does for
//! a C plugin.  The loader applies the same defaults itself, so a plugin
//! behaves the same both ways.
//!
//! What differs, and why:
//!
//! * nbdkit takes plugin names of ASCII letters, digits and dashes,
//!   while the SDK's names may have underscores (the loader's rule): nbdkit
//!   gets the name with each `_` made a `-`.  Log lines are prefixed with
//!   that name instead of `rust`.
//! * `dump_plugin` is always there: it prints the lines the loader prints
//!   about the Rust plugin (`rust_abi_version=`, `rust_plugin_name=`,
//!   `rust_sdk_version=`, ...), then calls the plugin's own.
//! * nbdkit's `load` and `dump_plugin` cannot fail, while the
//!   descriptor's `load_checked` and `dump_plugin_checked` (ABI 1.1)
//!   report a panic: nbdkit gets wrappers that then exit with status 1,
//!   as nbdkit itself does for a plugin that cannot start.
//!
//! The descriptor and the `struct nbdkit_plugin` made from it both
//! belong to the plugin's [`DescriptorCell`]: nbdkit gets a raw pointer
//! to the struct, and this module reaches the descriptor through the
//! cell only.
//!
//! The loader opens a plugin with `RTLD_LOCAL` and looks its entry point
//! up in that library alone, so the `plugin_init` every plugin now
//! exports is never seen there; nothing in the SDK calls it either.

use std::ffi::{CStr, CString, OsStr};
use std::io::Write;
use std::mem::size_of;
use std::os::raw::{c_char, c_int, c_void};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::ptr;
use std::sync::{Mutex, PoisonError};

use crate::descriptor::{callback_names, thread_model_name, Descriptor, DescriptorCell};
use crate::direct_host;
use crate::errno::EINVAL;
use crate::ffi::{nbdkit_rust_host, nbdkit_rust_plugin};
use crate::glue;
use crate::host;
use crate::nbdkit_ffi::{nbdkit_plugin, NBDKIT_API_VERSION};
use crate::{Error, Result};

extern "C" {
    // From the C library, which every Rust program links.
    fn fflush(stream: *mut c_void) -> c_int;
    fn dladdr(addr: *const c_void, info: *mut Dl_info) -> c_int;
}

/// `Dl_info` of `<dlfcn.h>`.
#[repr(C)]
struct Dl_info {
    dli_fname: *const c_char,
    dli_fbase: *mut c_void,
    dli_sname: *const c_char,
    dli_saddr: *mut c_void,
}

/// The cell `plugin_init` was given (a `static` of the plugin, which
/// lives as long as the library), for the wrappers below; `None` before
/// `plugin_init` ran.  Its lock also serialises `plugin_init` (nbdkit
/// calls it once; this makes a second call harmless).
static CELL: Mutex<Option<&'static DescriptorCell>> = Mutex::new(None);

/// The `struct nbdkit_plugin` handed to nbdkit and the name it points
/// to, owned by the plugin's [`DescriptorCell`] next to the descriptor
/// it was made from.
pub(crate) struct Direct {
    plugin: nbdkit_plugin,
    _name: CString,
}

// SAFETY: a Direct is never changed after it is made (nbdkit copies the
// struct); its pointers are to its own name, to the descriptor's
// strings (owned by the same cell) and to functions.
unsafe impl Send for Direct {}

impl Direct {
    /// nbdkit's struct for descriptor `d`.
    fn new(d: &Descriptor) -> Result<Direct> {
        let name = nbdkit_name(d.raw())?;
        Ok(Direct {
            plugin: nbdkit_plugin_for(d.raw(), name.as_ptr()),
            _name: name,
        })
    }
}

/// The cell `plugin_init` was given, if it ran.
fn cell() -> Option<&'static DescriptorCell> {
    *CELL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The body of `plugin_init`, which [`plugin!`](crate::plugin) defines:
/// fill and install the host table from the running nbdkit, then return
/// the `struct nbdkit_plugin` made from the plugin's descriptor (built by
/// `build` on the first call and kept in `cell`, as for the loader).
///
/// Returns NULL after logging why if the descriptor cannot be built.
///
/// # Safety
///
/// Only nbdkit may call this, right after loading the library, before
/// it starts any thread.
pub unsafe fn plugin_init(
    cell: &'static DescriptorCell,
    build: fn() -> Result<Descriptor>,
) -> *mut nbdkit_plugin {
    let mut given = CELL.lock().unwrap_or_else(PoisonError::into_inner);
    if given.is_none() {
        // The host table lives as long as the process: nbdkit may log
        // through it until it exits.
        let table: &'static nbdkit_rust_host =
            Box::leak(Box::new(direct_host::host_table(&direct_host::in_process)));
        host::install(table);
        *given = Some(cell);
    }
    glue::call("plugin_init", ptr::null_mut(), || {
        cell.with_built(build, |built| {
            let direct = match &mut built.direct {
                Some(direct) => direct,
                None => {
                    let direct = Direct::new(&built.descriptor)?;
                    crate::debug!(
                        "registered callbacks: {}",
                        callback_names(built.descriptor.raw()).join(",")
                    );
                    built.direct.insert(direct)
                }
            };
            Ok(&mut direct.plugin as *mut nbdkit_plugin)
        })
    })
}

/// The name nbdkit gets: the descriptor's, `[A-Za-z0-9][A-Za-z0-9_]*`,
/// with each `_` made a `-`, which nbdkit takes where it refuses `_`.
pub(crate) fn nbdkit_name(d: &nbdkit_rust_plugin) -> Result<CString> {
    if d.name.is_null() {
        return Err(Error::new(EINVAL, "the plugin has no name"));
    }
    // SAFETY: a descriptor's name is a NUL-terminated string it owns.
    let name = unsafe { CStr::from_ptr(d.name) }.to_bytes();
    let name: Vec<u8> = name
        .iter()
        .map(|&b| if b == b'_' { b'-' } else { b })
        .collect();
    CString::new(name).map_err(|_| Error::new(EINVAL, "the plugin's name contains a NUL byte"))
}

/// nbdkit's `struct nbdkit_plugin` for descriptor `d`, named `name`.
///
/// Every callback is the descriptor's own (the same glue the loader
/// calls), NULL where the plugin has none; but `dump_plugin` is always
/// there, to print the Rust plugin's details first, and `load`, when
/// the plugin has one, is a wrapper that exits if it fails.
pub(crate) fn nbdkit_plugin_for(d: &nbdkit_rust_plugin, name: *const c_char) -> nbdkit_plugin {
    let has_load = d.load.is_some() || d.load_checked.is_some();
    nbdkit_plugin {
        _struct_size: size_of::<nbdkit_plugin>() as u64,
        _api_version: NBDKIT_API_VERSION,
        // nbdkit uses the stricter of this and the thread_model callback's
        // answer, as the loader does with the same two values.
        _thread_model: d.max_thread_model,
        name,
        longname: d.longname,
        version: d.version,
        description: d.description,
        load: if has_load { Some(load) } else { None },
        unload: d.unload,
        config: d.config,
        config_complete: d.config_complete,
        config_help: d.config_help,
        open: d.open,
        close: d.close,
        get_size: d.get_size,
        can_write: d.can_write,
        can_flush: d.can_flush,
        is_rotational: d.is_rotational,
        can_trim: d.can_trim,
        _pread_v1: None,
        _pwrite_v1: None,
        _flush_v1: None,
        _trim_v1: None,
        _zero_v1: None,
        // The glue reports every failure with nbdkit_set_error.
        errno_is_preserved: 0,
        dump_plugin: Some(dump_plugin),
        can_zero: d.can_zero,
        can_fua: d.can_fua,
        pread: d.pread,
        pwrite: d.pwrite,
        flush: d.flush,
        trim: d.trim,
        zero: d.zero,
        magic_config_key: d.magic_config_key,
        can_multi_conn: d.can_multi_conn,
        can_extents: d.can_extents,
        extents: d.extents,
        can_cache: d.can_cache,
        cache: d.cache,
        thread_model: d.thread_model,
        can_fast_zero: d.can_fast_zero,
        preconnect: d.preconnect,
        get_ready: d.get_ready,
        after_fork: d.after_fork,
        list_exports: d.list_exports,
        default_export: d.default_export,
        export_description: d.export_description,
        cleanup: d.cleanup,
        block_size: d.block_size,
    }
}

/// A callback of the descriptor that can fail (ABI 1.1) and its ABI 1.0
/// twin, which cannot.
type Lifecycle = (
    Option<unsafe extern "C" fn() -> c_int>,
    Option<unsafe extern "C" fn()>,
);

/// Call a lifecycle callback of the descriptor as nbdkit's void one:
/// the one that can fail if there is one, and if it fails (it has
/// logged why, a panic for one), exit with status 1, as nbdkit does
/// for a plugin that cannot start.
///
/// # Safety
///
/// The callbacks must be the descriptor's, called when nbdkit calls
/// their namesake.
unsafe fn call_or_exit(callbacks: Lifecycle) {
    match callbacks {
        (Some(checked), _) => {
            // SAFETY: the descriptor's callback, as the caller promises.
            if unsafe { checked() } == -1 {
                exit_failure();
            }
        }
        // SAFETY: as above.
        (None, Some(plain)) => unsafe { plain() },
        (None, None) => {}
    }
}

/// Exit with status 1 after flushing what was printed so far.
fn exit_failure() -> ! {
    let _ = std::io::stdout().flush();
    // SAFETY: fflush (NULL) flushes every C output stream.
    unsafe { fflush(ptr::null_mut()) };
    std::process::exit(1)
}

/// `.load`, when the plugin has one: its `load_checked` (else `load`),
/// exiting with status 1 if that fails.
unsafe extern "C" fn load() {
    let callbacks = cell().and_then(|cell| cell.with(|d| (d.raw().load_checked, d.raw().load)));
    if let Some(callbacks) = callbacks {
        // SAFETY: the descriptor's callbacks, called as nbdkit calls load.
        unsafe { call_or_exit(callbacks) };
    }
}

/// `.dump_plugin`: the loader's lines about the Rust plugin, then the
/// plugin's own dump_plugin if it has one (its `dump_plugin_checked`,
/// exiting with status 1 if that fails).
unsafe extern "C" fn dump_plugin() {
    let path = library_path();
    let found = cell().and_then(|cell| {
        cell.with(|d| {
            let d = d.raw();
            (dump_lines(d, path), (d.dump_plugin_checked, d.dump_plugin))
        })
    });
    let (lines, own) = match found {
        Some(found) => found,
        None => return,
    };
    // nbdkit printed its own lines with C stdio: they come first.
    // SAFETY: fflush (NULL) flushes every C output stream.
    unsafe { fflush(ptr::null_mut()) };
    glue::call("dump_plugin", (), || {
        let mut out = std::io::stdout();
        // A closed stdout is nbdkit's business, not a reason to fail.
        let _ = out.write_all(&lines);
        let _ = out.flush();
        Ok(())
    });
    // SAFETY: the descriptor's callbacks, called as nbdkit calls
    // dump_plugin.
    unsafe { call_or_exit(own) };
}

/// The absolute path of this library, as the loader shows the plugin's.
fn library_path() -> Option<PathBuf> {
    let mut info = Dl_info {
        dli_fname: ptr::null(),
        dli_fbase: ptr::null_mut(),
        dli_sname: ptr::null(),
        dli_saddr: ptr::null_mut(),
    };
    let addr = dump_plugin as unsafe extern "C" fn() as *const c_void;
    // SAFETY: `addr` is a function of this library and `info` a writable
    // Dl_info.
    if unsafe { dladdr(addr, &mut info) } == 0 || info.dli_fname.is_null() {
        return None;
    }
    // SAFETY: dladdr stores a NUL-terminated path that lives as long as
    // the library is loaded; it is copied here.
    let path = unsafe { CStr::from_ptr(info.dli_fname) };
    let path = PathBuf::from(OsStr::from_bytes(path.to_bytes()));
    std::fs::canonicalize(&path).ok().or(Some(path))
}

/// A string of descriptor `_d`, or `None` for NULL.
fn c_str(_d: &nbdkit_rust_plugin, p: *const c_char) -> Option<&[u8]> {
    if p.is_null() {
        return None;
    }
    // SAFETY: a descriptor's strings are NULL or NUL-terminated, and
    // live as long as the descriptor, which `_d` borrows.
    Some(unsafe { CStr::from_ptr(p) }.to_bytes())
}

/// The `--dump-plugin` lines of loader/config.c about descriptor `d`,
/// after `rust_loader_version=` and `rust_loader_abi_version=` (there is
/// no loader): one `key=value` a line, values escaped as there.
pub(crate) fn dump_lines(d: &nbdkit_rust_plugin, path: Option<PathBuf>) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(format!("rust_abi_version={}.{}\n", d.abi_major, d.abi_minor).as_bytes());
    if let Some(path) = path {
        dump_field(&mut out, "rust_plugin_path", path.as_os_str().as_bytes());
    }
    dump_field(
        &mut out,
        "rust_plugin_name",
        c_str(d, d.name).unwrap_or_default(),
    );
    for (key, value) in [
        ("rust_plugin_version", d.version),
        ("rust_plugin_longname", d.longname),
        ("rust_plugin_description", d.description),
        ("rust_plugin_magic_config_key", d.magic_config_key),
        ("rust_plugin_config_help", d.config_help),
    ] {
        if let Some(value) = c_str(d, value) {
            dump_field(&mut out, key, value);
        }
    }
    dump_field(
        &mut out,
        "rust_sdk_version",
        c_str(d, d.sdk_version).unwrap_or_default(),
    );
    out.extend_from_slice(
        format!(
            "rust_plugin_thread_model={}\n",
            thread_model_name(d.max_thread_model)
        )
        .as_bytes(),
    );
    out.extend_from_slice(
        format!("rust_plugin_callbacks={}\n", callback_names(d).join(",")).as_bytes(),
    );
    out
}

/// `KEY=VALUE` on one line, with newlines, backslashes and control
/// characters escaped as loader/config.c's dump_field does.
fn dump_field(out: &mut Vec<u8>, key: &str, value: &[u8]) {
    out.extend_from_slice(key.as_bytes());
    out.push(b'=');
    for &b in value {
        match b {
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0..=0x1f | 0x7f => out.extend_from_slice(format!("\\x{:02x}", b).as_bytes()),
            _ => out.push(b),
        }
    }
    out.push(b'\n');
}
