// SPDX-License-Identifier: BSD-2-Clause
//! Building the plugin's descriptor (`struct nbdkit_rust_plugin`) from
//! the list of methods given to [`plugin!`](crate::plugin).
//!
//! `plugin!(MyPlugin {write_at, trim})` becomes
//!
//! ```text
//! let mut builder = Builder::<MyPlugin>::new();   // the required callbacks
//! builder.set_max_thread_model(...);              // Parallel if MyPlugin is Sync (probe.rs)
//! builder.write_at();                             // one call per name:
//! builder.trim();                                 // an unknown name is a compile error
//! builder.build()                                 // strings, sizes, versions
//! ```
//!
//! This is the one place a descriptor is made: every entry point
//! (`nbdkit_rust_plugin_v1` for the loader, `plugin_init` for nbdkit
//! loading the plugin directly) serves the same [`Descriptor`], which a
//! [`DescriptorCell`] owns until the library is unloaded.

use std::ffi::CString;
use std::marker::PhantomData;
use std::mem::size_of;
use std::os::raw::c_char;
use std::ptr;
use std::sync::{Mutex, PoisonError};

use crate::direct::Direct;
use crate::errno::EINVAL;
use crate::ffi::{nbdkit_rust_plugin, NBDKIT_RUST_ABI_MAJOR, NBDKIT_RUST_ABI_MINOR};
use crate::glue::{self, Kind};
use crate::{Error, Result, Server, ThreadModel};

/// This crate's version, as the descriptor's `sdk_version`.
pub(crate) const SDK_VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

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

    /// The raw descriptor, to spoil in a test.
    #[cfg(test)]
    pub(crate) fn raw_mut(&mut self) -> &mut nbdkit_rust_plugin {
        &mut self.plugin
    }
}

/// What a [`DescriptorCell`] owns once the descriptor is built.
pub(crate) struct Built<D> {
    /// The descriptor the loader gets a pointer to.
    pub(crate) descriptor: D,
    /// nbdkit's `struct nbdkit_plugin` made from it, and the name it
    /// points to, once `plugin_init` made it (direct loading; never for
    /// a filter's).
    pub(crate) direct: Option<Direct>,
}

/// Where the entry points keep the descriptor: built once, on the first
/// call, then owned here until the library is unloaded.
///
/// C gets raw pointers into it (the descriptor, nbdkit's struct), valid
/// until the library's destructor calls [`release`](Self::release).  The
/// SDK's Rust code reaches the descriptor only through the cell, under
/// its lock (`DescriptorCell::with`), never through a reference that
/// could outlive it.
///
/// `D` is the descriptor: a plugin's [`Descriptor`], or a filter's
/// [`FilterDescriptor`](crate::filter_descriptor::FilterDescriptor).
pub struct DescriptorCell<D = Descriptor>(Mutex<Option<Box<Built<D>>>>);

impl<D> DescriptorCell<D> {
    /// An empty cell, for a `static`.
    #[allow(clippy::new_without_default)]
    pub const fn new() -> DescriptorCell<D> {
        DescriptorCell(Mutex::new(None))
    }

    /// Run `f` on what the cell owns, building the descriptor with
    /// `build` first if this is the first call (a failed build is tried
    /// again next time).
    pub(crate) fn with_built<R>(
        &self,
        build: fn() -> Result<D>,
        f: impl FnOnce(&mut Built<D>) -> Result<R>,
    ) -> Result<R> {
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let built = match &mut *slot {
            Some(built) => built,
            None => slot.insert(Box::new(Built {
                descriptor: build()?,
                direct: None,
            })),
        };
        f(built)
    }

    /// Run `f` on the descriptor, if it was built (and not released).
    pub(crate) fn with<R>(&self, f: impl FnOnce(&D) -> R) -> Option<R> {
        let slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        slot.as_ref().map(|built| f(&built.descriptor))
    }

    /// Frees what the cell owns, if the descriptor was built:
    /// [`plugin!`](crate::plugin) calls this from the library's
    /// destructor, so that a build that `rust-reload` retires (dlclose)
    /// does not leak it (valgrind and LeakSanitizer found that leak, a
    /// descriptor and its strings per retired build).
    ///
    /// # Safety
    ///
    /// C must not use the pointers the cell handed out afterwards: only
    /// the library's destructor calls this, once nbdkit or the loader is
    /// done with the library.
    pub unsafe fn release(&self) {
        let taken = self.0.lock().unwrap_or_else(PoisonError::into_inner).take();
        drop(taken);
    }
}

/// Builds the descriptor of plugin type `T`; see the module docs.
///
/// Made and driven only by [`plugin!`](crate::plugin).  It has one
/// method per name `plugin!` accepts, each filling in its callback.
pub struct Builder<T: Server> {
    plugin: nbdkit_rust_plugin,
    /// `thread_model` was listed: its glue depends on the maximum
    /// thread model, so [`build`](Self::build) sets it.
    thread_model: bool,
    _plugin_type: PhantomData<fn() -> T>,
}

impl<T: Server + 'static> Builder<T> {
    /// A descriptor with the required callbacks (open, close, get_size,
    /// pread) and NULL for every optional one, for a plugin that may be
    /// served in parallel (see [`set_max_thread_model`](Self::set_max_thread_model)).
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
                load_checked: None,
                dump_plugin_checked: None,
            },
            thread_model: false,
            _plugin_type: PhantomData,
        }
    }

    /// The loosest thread model the plugin may be served with:
    /// [`ThreadModel::Parallel`] if `T` is `Sync`, else
    /// [`ThreadModel::SerializeRequests`] (which [`plugin!`](crate::plugin)
    /// works out at compile time).  See the thread safety section of
    /// [`Server`].
    pub fn set_max_thread_model(&mut self, model: ThreadModel) {
        self.plugin.max_thread_model = model.into();
    }

    /// `thread_model`: its glue clamps the answer to the maximum, set in
    /// [`build`](Self::build).
    pub fn thread_model(&mut self) {
        self.thread_model = true;
    }

    /// `load`: both the ABI 1.0 callback and ABI 1.1's `load_checked`,
    /// which can report a panic.
    pub fn load(&mut self) {
        self.plugin.load = Some(glue::load::<T>);
        self.plugin.load_checked = Some(glue::load_checked::<T>);
    }

    /// `dump_plugin`: both the ABI 1.0 callback and ABI 1.1's
    /// `dump_plugin_checked`, which can report a panic.
    pub fn dump_plugin(&mut self) {
        self.plugin.dump_plugin = Some(glue::dump_plugin::<T>);
        self.plugin.dump_plugin_checked = Some(glue::dump_plugin_checked::<T>);
    }

    /// Finish: the callbacks that depend on the maximum thread model,
    /// and the strings from `T`'s static methods.
    ///
    /// Fails with `EINVAL` if the name is not `[A-Za-z0-9][A-Za-z0-9_]*`
    /// or a string contains a NUL byte.
    pub fn build(self) -> Result<Descriptor> {
        let mut plugin = self.plugin;
        let mut strings = Vec::new();
        let name = T::name();
        check_name(Kind::Plugin, name)?;
        let max = plugin.max_thread_model;
        // Only a value of the type known to be Sync may be shared by
        // nbdkit's worker threads.
        plugin.open = Some(if max == ThreadModel::Parallel as i32 {
            glue::open_parallel::<T>
        } else {
            glue::open::<T>
        });
        if self.thread_model {
            plugin.thread_model = Some(match max {
                0 => glue::thread_model::<T, 0>,
                1 => glue::thread_model::<T, 1>,
                2 => glue::thread_model::<T, 2>,
                _ => glue::thread_model::<T, 3>,
            });
        }
        let mut keep = |what, s| keep(&mut strings, Kind::Plugin, what, s);
        plugin.name = keep("name", Some(name))?;
        plugin.longname = keep("longname", T::longname())?;
        plugin.version = keep("version", T::version())?;
        plugin.description = keep("description", T::description())?;
        plugin.config_help = keep("config_help", T::config_help())?;
        plugin.magic_config_key = keep("magic_config_key", T::magic_config_key())?;
        Ok(Descriptor {
            plugin,
            _strings: strings,
        })
    }
}

/// The rule for plugin and filter names, as error messages show it.
pub(crate) const NAME_RULE: &str = "[A-Za-z0-9][A-Za-z0-9_]*";

/// Checks the name of a plugin or filter against [`NAME_RULE`]: what
/// nbdkit takes for a name (`[A-Za-z0-9][A-Za-z0-9-]*`) once each `_` is
/// made a `-`.
pub(crate) fn check_name(kind: Kind, name: &str) -> Result<()> {
    let mut bytes = name.bytes();
    let first_ok = matches!(bytes.next(), Some(b) if b.is_ascii_alphanumeric());
    if first_ok && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Ok(());
    }
    Err(Error::new(
        EINVAL,
        format!(
            "{} name {:?} is not {}: a name is ASCII letters, digits and '_', \
             and starts with a letter or digit (nbdkit takes it with each '_' made a '-')",
            kind.name(),
            name,
            NAME_RULE
        ),
    ))
}

/// nbdkit's name for a thread model, as loader/config.c prints it.
pub(crate) fn thread_model_name(model: i32) -> &'static str {
    match model {
        0 => "serialize_connections",
        1 => "serialize_all_requests",
        2 => "serialize_requests",
        3 => "parallel",
        _ => "unknown",
    }
}

/// The callbacks descriptor `p` registers: the names of its non-NULL
/// callback fields, in the header's order (load .. cache), as
/// `--dump-plugin` prints them (`rust_plugin_callbacks=`).  ABI 1.1's
/// `load_checked` and `dump_plugin_checked` count as their twins `load`
/// and `dump_plugin`, never under their own names.
pub(crate) fn callback_names(p: &nbdkit_rust_plugin) -> Vec<&'static str> {
    let fields = [
        ("load", p.load.is_some() || p.load_checked.is_some()),
        ("unload", p.unload.is_some()),
        ("config", p.config.is_some()),
        ("config_complete", p.config_complete.is_some()),
        (
            "dump_plugin",
            p.dump_plugin.is_some() || p.dump_plugin_checked.is_some(),
        ),
        ("thread_model", p.thread_model.is_some()),
        ("get_ready", p.get_ready.is_some()),
        ("after_fork", p.after_fork.is_some()),
        ("cleanup", p.cleanup.is_some()),
        ("preconnect", p.preconnect.is_some()),
        ("list_exports", p.list_exports.is_some()),
        ("default_export", p.default_export.is_some()),
        ("open", p.open.is_some()),
        ("close", p.close.is_some()),
        ("get_size", p.get_size.is_some()),
        ("export_description", p.export_description.is_some()),
        ("block_size", p.block_size.is_some()),
        ("can_write", p.can_write.is_some()),
        ("can_flush", p.can_flush.is_some()),
        ("is_rotational", p.is_rotational.is_some()),
        ("can_trim", p.can_trim.is_some()),
        ("can_zero", p.can_zero.is_some()),
        ("can_fast_zero", p.can_fast_zero.is_some()),
        ("can_fua", p.can_fua.is_some()),
        ("can_multi_conn", p.can_multi_conn.is_some()),
        ("can_extents", p.can_extents.is_some()),
        ("can_cache", p.can_cache.is_some()),
        ("pread", p.pread.is_some()),
        ("pwrite", p.pwrite.is_some()),
        ("flush", p.flush.is_some()),
        ("trim", p.trim.is_some()),
        ("zero", p.zero.is_some()),
        ("extents", p.extents.is_some()),
        ("cache", p.cache.is_some()),
    ];
    fields
        .iter()
        .filter(|(_, present)| *present)
        .map(|(name, _)| *name)
        .collect()
}

/// A C copy of `s` (the string `what` of a `kind`) kept in `strings`,
/// or NULL for `None`.
pub(crate) fn keep(
    strings: &mut Vec<CString>,
    kind: Kind,
    what: &str,
    s: Option<&str>,
) -> Result<*const c_char> {
    match s {
        None => Ok(ptr::null()),
        Some(s) => {
            let c = CString::new(s).map_err(|_| {
                Error::new(
                    EINVAL,
                    format!("{} {} {:?} contains a NUL byte", kind.name(), what, s),
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
        impl<T: Server + 'static> Builder<T> {
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
    /// `read_at_uninit`: the pread callback that passes the buffer as it
    /// is, without zeroing it first.
    read_at_uninit => pread = glue::pread_uninit;
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
    /// `unload`.
    unload => unload = glue::unload::<T>;
    /// `config`.
    config => config = glue::config::<T>;
    /// `config_complete`.
    config_complete => config_complete = glue::config_complete::<T>;
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
        impl<T: Server + 'static> Builder<T> {
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
