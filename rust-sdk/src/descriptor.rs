//! Building the plugin's descriptor (`struct nbdkit_rust_plugin`) from
//! the list of methods given to [`plugin!`](crate::plugin).
//!
//! `plugin!(MyPlugin {write_at, trim})` becomes
//!
//! ```text
//! let mut builder = Builder::<MyPlugin>::new();   // the required callbacks
//! builder.write_at();                             // one call per name:
//! builder.trim();                                 // an unknown name is a compile error
//! builder.build()                                 // strings, sizes, versions
//! ```
//!
//! This is the one place a descriptor is made: every entry point
//! (`nbdkit_rust_plugin_v1` for the loader, `plugin_init` for nbdkit
//! loading the plugin directly) serves the same [`Descriptor`].

use std::ffi::CString;
use std::marker::PhantomData;
use std::mem::size_of;
use std::os::raw::c_char;
use std::ptr;
use std::sync::{Mutex, PoisonError};

use crate::errno::EINVAL;
use crate::ffi::{nbdkit_rust_plugin, NBDKIT_RUST_ABI_MAJOR, NBDKIT_RUST_ABI_MINOR};
use crate::glue;
use crate::{Error, Result, Server, ThreadModel};

/// This crate's version, as the descriptor's `sdk_version`.
const SDK_VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

/// A finished descriptor and the C strings it points to.
pub struct Descriptor {
    plugin: nbdkit_rust_plugin,
    /// Owns the strings `plugin` points to (a CString's bytes stay put
    /// when the CString moves).
    _strings: Vec<CString>,
}

// SAFETY: a Descriptor is never changed after `build`; its pointers are
// to strings it owns or that are static, and to functions.  Sharing it
// between threads only ever reads it.
unsafe impl Send for Descriptor {}
// SAFETY: as for Send.
unsafe impl Sync for Descriptor {}

impl Descriptor {
    /// The `struct nbdkit_rust_plugin` to hand the loader.
    pub fn as_ptr(&self) -> *const nbdkit_rust_plugin {
        &self.plugin
    }

    /// The raw descriptor: what `plugin_init` makes nbdkit's struct
    /// from (`direct.rs`).
    pub(crate) fn raw(&self) -> &nbdkit_rust_plugin {
        &self.plugin
    }
}

/// Where the entry point keeps the descriptor it built: built once, on
/// the first call, then kept until the library is unloaded.
pub struct DescriptorCell(Mutex<Option<&'static Descriptor>>);

impl DescriptorCell {
    /// An empty cell, for a `static`.
    #[allow(clippy::new_without_default)]
    pub const fn new() -> DescriptorCell {
        DescriptorCell(Mutex::new(None))
    }

    /// The descriptor, built by `build` if this is the first call (a
    /// failed build is tried again next time).
    pub fn get_or_build(&self, build: fn() -> Result<Descriptor>) -> Result<&'static Descriptor> {
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(descriptor) = *slot {
            return Ok(descriptor);
        }
        let descriptor: &'static Descriptor = Box::leak(Box::new(build()?));
        *slot = Some(descriptor);
        Ok(descriptor)
    }

    /// Frees the descriptor, if it was built: [`plugin!`](crate::plugin)
    /// calls this from the library's destructor, so that a build that
    /// `rust-reload` retires (dlclose) does not leak it (valgrind and
    /// LeakSanitizer found that leak, a descriptor and its strings per
    /// retired build).
    ///
    /// # Safety
    ///
    /// Nothing may use the descriptor afterwards: only the library's
    /// destructor calls this, once nbdkit or the loader is done with
    /// the library.
    pub unsafe fn release(&self) {
        let taken = self.0.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(descriptor) = taken {
            // SAFETY: `descriptor` is the Box that get_or_build leaked,
            // taken out of the cell so that it is freed once, and the
            // caller promises that nothing uses it any more.
            drop(unsafe { Box::from_raw(descriptor as *const Descriptor as *mut Descriptor) });
        }
    }
}

/// Builds the descriptor of plugin type `T`; see the module docs.
///
/// Made and driven only by [`plugin!`](crate::plugin).  It has one
/// method per name `plugin!` accepts, each filling in its callback.
pub struct Builder<T: Server> {
    plugin: nbdkit_rust_plugin,
    _plugin_type: PhantomData<fn() -> T>,
}

impl<T: Server> Builder<T> {
    /// A descriptor with the required callbacks (open, close, get_size,
    /// pread) and NULL for every optional one.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Builder<T> {
        Builder {
            plugin: nbdkit_rust_plugin {
                abi_major: NBDKIT_RUST_ABI_MAJOR,
                abi_minor: NBDKIT_RUST_ABI_MINOR,
                struct_size: size_of::<nbdkit_rust_plugin>() as u64,
                name: ptr::null(),
                longname: ptr::null(),
                version: ptr::null(),
                description: ptr::null(),
                config_help: ptr::null(),
                magic_config_key: ptr::null(),
                sdk_version: SDK_VERSION.as_ptr().cast::<c_char>(),
                max_thread_model: ThreadModel::Parallel as i32,
                reserved0: 0,
                load: None,
                unload: None,
                config: None,
                config_complete: None,
                dump_plugin: None,
                thread_model: None,
                get_ready: None,
                after_fork: None,
                cleanup: None,
                preconnect: None,
                list_exports: None,
                default_export: None,
                open: Some(glue::open::<T>),
                close: Some(glue::close),
                get_size: Some(glue::get_size),
                export_description: None,
                block_size: None,
                can_write: None,
                can_flush: None,
                is_rotational: None,
                can_trim: None,
                can_zero: None,
                can_fast_zero: None,
                can_fua: None,
                can_multi_conn: None,
                can_extents: None,
                can_cache: None,
                pread: Some(glue::pread),
                pwrite: None,
                flush: None,
                trim: None,
                zero: None,
                extents: None,
                cache: None,
            },
            _plugin_type: PhantomData,
        }
    }

    /// Finish: fill in the strings from `T`'s static methods.
    ///
    /// Fails with `EINVAL` if the name is not `[A-Za-z0-9_]+` or a
    /// string contains a NUL byte.
    pub fn build(self) -> Result<Descriptor> {
        let mut plugin = self.plugin;
        let mut strings = Vec::new();
        let name = T::name();
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(Error::new(
                EINVAL,
                format!("plugin name {:?} is not [A-Za-z0-9_]+", name),
            ));
        }
        plugin.name = keep(&mut strings, "name", Some(name))?;
        plugin.longname = keep(&mut strings, "longname", T::longname())?;
        plugin.version = keep(&mut strings, "version", T::version())?;
        plugin.description = keep(&mut strings, "description", T::description())?;
        plugin.config_help = keep(&mut strings, "config_help", T::config_help())?;
        plugin.magic_config_key = keep(&mut strings, "magic_config_key", T::magic_config_key())?;
        Ok(Descriptor {
            plugin,
            _strings: strings,
        })
    }
}

/// A C copy of `s` kept in `strings`, or NULL for `None`.
fn keep(strings: &mut Vec<CString>, what: &str, s: Option<&str>) -> Result<*const c_char> {
    match s {
        None => Ok(ptr::null()),
        Some(s) => {
            let c = CString::new(s).map_err(|_| {
                Error::new(
                    EINVAL,
                    format!("plugin {} {:?} contains a NUL byte", what, s),
                )
            })?;
            let p = c.as_ptr();
            strings.push(c);
            Ok(p)
        }
    }
}

/// One builder method per optional callback name: sets `field` to the
/// glue function `glue`.
macro_rules! optional {
    ($($(#[$doc:meta])* $method:ident => $field:ident = $glue:expr;)*) => {
        impl<T: Server> Builder<T> {
            $(
                $(#[$doc])*
                pub fn $method(&mut self) {
                    self.plugin.$field = Some($glue);
                }
            )*
        }
    };
}

optional! {
    /// `write_at`: the pwrite callback.
    write_at => pwrite = glue::pwrite;
    /// `flush`.
    flush => flush = glue::flush;
    /// `trim`.
    trim => trim = glue::trim;
    /// `zero`.
    zero => zero = glue::zero;
    /// `extents`.
    extents => extents = glue::extents;
    /// `cache`.
    cache => cache = glue::cache;
    /// `can_write`.
    can_write => can_write = glue::can_write;
    /// `can_flush`.
    can_flush => can_flush = glue::can_flush;
    /// `is_rotational`.
    is_rotational => is_rotational = glue::is_rotational;
    /// `can_trim`.
    can_trim => can_trim = glue::can_trim;
    /// `can_zero`.
    can_zero => can_zero = glue::can_zero;
    /// `can_fast_zero`.
    can_fast_zero => can_fast_zero = glue::can_fast_zero;
    /// `can_fua`.
    can_fua => can_fua = glue::can_fua;
    /// `can_multi_conn`.
    can_multi_conn => can_multi_conn = glue::can_multi_conn;
    /// `can_extents`.
    can_extents => can_extents = glue::can_extents;
    /// `can_cache`.
    can_cache => can_cache = glue::can_cache;
    /// `export_description`.
    export_description => export_description = glue::export_description;
    /// `block_size`.
    block_size => block_size = glue::block_size;
    /// `load`.
    load => load = glue::load::<T>;
    /// `unload`.
    unload => unload = glue::unload::<T>;
    /// `config`.
    config => config = glue::config::<T>;
    /// `config_complete`.
    config_complete => config_complete = glue::config_complete::<T>;
    /// `dump_plugin`.
    dump_plugin => dump_plugin = glue::dump_plugin::<T>;
    /// `thread_model`.
    thread_model => thread_model = glue::thread_model::<T>;
    /// `get_ready`.
    get_ready => get_ready = glue::get_ready::<T>;
    /// `after_fork`.
    after_fork => after_fork = glue::after_fork::<T>;
    /// `cleanup`.
    cleanup => cleanup = glue::cleanup::<T>;
    /// `preconnect`.
    preconnect => preconnect = glue::preconnect::<T>;
    /// `list_exports`.
    list_exports => list_exports = glue::list_exports::<T>;
    /// `default_export`.
    default_export => default_export = glue::default_export::<T>;
}

/// Names `plugin!` accepts that change nothing: the required methods,
/// which are always there, and the strings, which are always queried.
macro_rules! always {
    ($($method:ident),* $(,)?) => {
        impl<T: Server> Builder<T> {
            $(
                #[doc = concat!("`", stringify!($method), "`: always used; listing it changes nothing.")]
                pub fn $method(&mut self) {}
            )*
        }
    };
}

always!(
    name,
    open,
    get_size,
    read_at,
    longname,
    version,
    description,
    config_help,
    magic_config_key,
);
