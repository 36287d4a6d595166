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
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::{Mutex, PoisonError};

use crate::descriptor::{Descriptor, DescriptorCell};
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

/// Serialises `plugin_init` (nbdkit calls it once; this makes a second
/// call harmless).
static INIT: Mutex<()> = Mutex::new(());
/// What `plugin_init` returned, once it succeeded.
static PLUGIN: AtomicPtr<nbdkit_plugin> = AtomicPtr::new(ptr::null_mut());
/// The descriptor it was made from, for `dump_plugin`.
static DESCRIPTOR: Mutex<Option<&'static Descriptor>> = Mutex::new(None);

/// The `struct nbdkit_plugin` handed to nbdkit and the name it points to.
struct Direct {
    plugin: nbdkit_plugin,
    _name: CString,
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
    let _init = INIT.lock().unwrap_or_else(PoisonError::into_inner);
    let done = PLUGIN.load(Ordering::Acquire);
    if !done.is_null() {
        return done;
    }
    let table: &'static nbdkit_rust_host =
        Box::leak(Box::new(direct_host::host_table(&direct_host::in_process)));
    host::install(table);
    glue::call("plugin_init", ptr::null_mut(), || {
        let descriptor = cell.get_or_build(build)?;
        let name = nbdkit_name(descriptor.raw())?;
        let direct: &'static mut Direct = Box::leak(Box::new(Direct {
            plugin: nbdkit_plugin_for(descriptor.raw(), name.as_ptr()),
            _name: name,
        }));
        *DESCRIPTOR.lock().unwrap_or_else(PoisonError::into_inner) = Some(descriptor);
        let plugin: *mut nbdkit_plugin = &mut direct.plugin;
        PLUGIN.store(plugin, Ordering::Release);
        Ok(plugin)
    })
}

/// The name nbdkit gets: the descriptor's, `[A-Za-z0-9_]+`, with each
/// `_` made a `-`, which nbdkit takes where it refuses `_`.
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
/// calls), NULL where the plugin has none; only `dump_plugin` is always
/// there, to print the Rust plugin's details first.
pub(crate) fn nbdkit_plugin_for(d: &nbdkit_rust_plugin, name: *const c_char) -> nbdkit_plugin {
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
        load: d.load,
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

/// `.dump_plugin`: the loader's lines about the Rust plugin, then the
/// plugin's own dump_plugin if it has one.
unsafe extern "C" fn dump_plugin() {
    let descriptor = *DESCRIPTOR.lock().unwrap_or_else(PoisonError::into_inner);
    let d = match descriptor {
        Some(descriptor) => descriptor.raw(),
        None => return,
    };
    // nbdkit printed its own lines with C stdio: they come first.
    // SAFETY: fflush (NULL) flushes every C output stream.
    unsafe { fflush(ptr::null_mut()) };
    glue::call("dump_plugin", (), || {
        let mut out = std::io::stdout();
        // A closed stdout is nbdkit's business, not a reason to fail.
        let _ = out.write_all(&dump_lines(d, library_path()));
        let _ = out.flush();
        Ok(())
    });
    if let Some(own) = d.dump_plugin {
        // SAFETY: the descriptor's callback, called as nbdkit would.
        unsafe { own() };
    }
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

/// A descriptor's string, or `None` for NULL.
fn c_str(p: *const c_char) -> Option<&'static [u8]> {
    if p.is_null() {
        return None;
    }
    // SAFETY: a descriptor's strings are NULL or NUL-terminated, and
    // live as long as the library.
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
        c_str(d.name).unwrap_or_default(),
    );
    for (key, value) in [
        ("rust_plugin_version", d.version),
        ("rust_plugin_longname", d.longname),
        ("rust_plugin_description", d.description),
        ("rust_plugin_magic_config_key", d.magic_config_key),
        ("rust_plugin_config_help", d.config_help),
    ] {
        if let Some(value) = c_str(value) {
            dump_field(&mut out, key, value);
        }
    }
    dump_field(
        &mut out,
        "rust_sdk_version",
        c_str(d.sdk_version).unwrap_or_default(),
    );
    out.extend_from_slice(
        format!(
            "rust_plugin_thread_model={}\n",
            thread_model_name(d.max_thread_model)
        )
        .as_bytes(),
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

/// nbdkit's name for a thread model, as loader/config.c prints it.
fn thread_model_name(model: i32) -> &'static str {
    match model {
        0 => "serialize_connections",
        1 => "serialize_all_requests",
        2 => "serialize_requests",
        3 => "parallel",
        _ => "unknown",
    }
}
