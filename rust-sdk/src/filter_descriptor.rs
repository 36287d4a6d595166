// SPDX-License-Identifier: BSD-2-Clause
//! Building the filter's descriptor (`struct nbdkit_rust_filter`) from
//! the list of methods given to [`filter!`](crate::filter), as
//! `descriptor.rs` builds a plugin's:
//!
//! ```text
//! let mut builder = FilterBuilder::<MyFilter>::new();  // name, open, close
//! builder.set_max_thread_model(...);                   // Parallel if MyFilter is Sync
//! builder.read_at();                                   // one call per name:
//! builder.config();                                    // an unknown name is a compile error
//! builder.build()                                      // strings, sizes, versions
//! ```
//!
//! A callback not listed stays NULL, and the loader passes it straight
//! through to the layer below, without entering Rust.

use std::ffi::CString;
use std::marker::PhantomData;
use std::mem::size_of;
use std::os::raw::c_char;
use std::ptr;

use crate::descriptor::{check_name, keep, SDK_VERSION};
use crate::ffi::{nbdkit_rust_filter, NBDKIT_RUST_ABI_MAJOR, NBDKIT_RUST_ABI_MINOR};
use crate::filter_glue as glue;
use crate::glue::Kind;
use crate::{Filter, Result, ThreadModel};

/// A finished filter descriptor and the C strings it points to.
pub struct FilterDescriptor {
    filter: nbdkit_rust_filter,
    /// Owns the strings `filter` points to.
    _strings: Vec<CString>,
}

// SAFETY: a FilterDescriptor is never changed after `build`; its
// pointers are to strings it owns or that are static, and to functions.
unsafe impl Send for FilterDescriptor {}
// SAFETY: as for Send.
unsafe impl Sync for FilterDescriptor {}

impl FilterDescriptor {
    /// The `struct nbdkit_rust_filter` to hand the loader.
    pub fn as_ptr(&self) -> *const nbdkit_rust_filter {
        &self.filter
    }

    /// The raw descriptor, for the SDK's tests.
    #[cfg(test)]
    pub(crate) fn raw(&self) -> &nbdkit_rust_filter {
        &self.filter
    }
}

/// Builds the descriptor of filter type `T`; see the module docs.
///
/// Made and driven only by [`filter!`](crate::filter).  It has one
/// method per name `filter!` accepts, each filling in its callback.
pub struct FilterBuilder<T: Filter> {
    filter: nbdkit_rust_filter,
    /// `thread_model` was listed: its glue depends on the maximum.
    thread_model: bool,
    /// `read_at` was listed.
    read_at: bool,
    /// `read_at_uninit` was listed: it wins over `read_at`.
    read_at_uninit: bool,
    _filter_type: PhantomData<fn() -> T>,
}

impl<T: Filter + 'static> FilterBuilder<T> {
    /// A descriptor with the required callbacks (open, close) and NULL
    /// for every other one, for a filter that may be served in parallel.
    #[allow(clippy::new_without_default)]
    pub fn new() -> FilterBuilder<T> {
        FilterBuilder {
            filter: nbdkit_rust_filter {
                abi_major: NBDKIT_RUST_ABI_MAJOR,
                abi_minor: NBDKIT_RUST_ABI_MINOR,
                struct_size: size_of::<nbdkit_rust_filter>() as u64,
                name: ptr::null(),
                longname: ptr::null(),
                version: ptr::null(),
                description: ptr::null(),
                config_help: ptr::null(),
                sdk_version: SDK_VERSION.as_ptr().cast::<c_char>(),
                max_thread_model: ThreadModel::Parallel as i32,
                reserved0: 0,
                load: None,
                unload: None,
                config: None,
                config_complete: None,
                thread_model: None,
                get_ready: None,
                after_fork: None,
                cleanup: None,
                preconnect: None,
                list_exports: None,
                default_export: None,
                open: Some(glue::open::<T>),
                close: Some(glue::close),
                prepare: None,
                finalize: None,
                get_size: None,
                export_description: None,
                block_size: None,
                can_write: None,
                can_flush: None,
                is_rotational: None,
                can_trim: None,
                can_zero: None,
                can_fast_zero: None,
                can_extents: None,
                can_fua: None,
                can_multi_conn: None,
                can_cache: None,
                pread: None,
                pwrite: None,
                flush: None,
                trim: None,
                zero: None,
                extents: None,
                cache: None,
            },
            thread_model: false,
            read_at: false,
            read_at_uninit: false,
            _filter_type: PhantomData,
        }
    }

    /// The loosest thread model the filter may be served with:
    /// [`ThreadModel::Parallel`] if `T` is `Sync`, else
    /// [`ThreadModel::SerializeRequests`].
    pub fn set_max_thread_model(&mut self, model: ThreadModel) {
        self.filter.max_thread_model = model.into();
    }

    /// `thread_model`: its glue clamps the answer to the maximum, set in
    /// [`build`](Self::build).
    pub fn thread_model(&mut self) {
        self.thread_model = true;
    }

    /// `read_at`: the pread callback, which zeroes the buffer first.
    pub fn read_at(&mut self) {
        self.read_at = true;
    }

    /// `read_at_uninit`: the pread callback that passes the buffer as it
    /// is; listed with `read_at`, it wins.
    pub fn read_at_uninit(&mut self) {
        self.read_at_uninit = true;
    }

    /// Finish: the callbacks that depend on the maximum thread model or
    /// on several names, and the strings from `T`'s static methods.
    ///
    /// Fails with `EINVAL` if the name is not `[A-Za-z0-9][A-Za-z0-9_]*`
    /// or a string contains a NUL byte.
    pub fn build(self) -> Result<FilterDescriptor> {
        let mut filter = self.filter;
        let mut strings = Vec::new();
        let name = T::name();
        check_name(Kind::Filter, name)?;
        let max = filter.max_thread_model;
        // Only a value of the type known to be Sync may be shared by
        // nbdkit's worker threads.
        filter.open = Some(if max == ThreadModel::Parallel as i32 {
            glue::open_parallel::<T>
        } else {
            glue::open::<T>
        });
        if self.thread_model {
            filter.thread_model = Some(match max {
                0 => glue::thread_model::<T, 0>,
                1 => glue::thread_model::<T, 1>,
                2 => glue::thread_model::<T, 2>,
                _ => glue::thread_model::<T, 3>,
            });
        }
        if self.read_at_uninit {
            filter.pread = Some(glue::pread_uninit);
        } else if self.read_at {
            filter.pread = Some(glue::pread);
        }
        let mut keep = |what, s| keep(&mut strings, Kind::Filter, what, s);
        filter.name = keep("name", Some(name))?;
        filter.longname = keep("longname", T::longname())?;
        filter.version = keep("version", T::version())?;
        filter.description = keep("description", T::description())?;
        filter.config_help = keep("config_help", T::config_help())?;
        Ok(FilterDescriptor {
            filter,
            _strings: strings,
        })
    }
}

/// One builder method per optional callback name: sets `field` to the
/// glue function `glue`.
macro_rules! optional {
    ($($method:ident => $field:ident = $glue:expr;)*) => {
        impl<T: Filter + 'static> FilterBuilder<T> {
            $(
                #[doc = concat!("`", stringify!($method), "`.")]
                pub fn $method(&mut self) {
                    self.filter.$field = Some($glue);
                }
            )*
        }
    };
}

optional! {
    load => load = glue::load::<T>;
    unload => unload = glue::unload::<T>;
    config => config = glue::config::<T>;
    config_complete => config_complete = glue::config_complete::<T>;
    get_ready => get_ready = glue::get_ready::<T>;
    after_fork => after_fork = glue::after_fork::<T>;
    cleanup => cleanup = glue::cleanup::<T>;
    preconnect => preconnect = glue::preconnect::<T>;
    list_exports => list_exports = glue::list_exports::<T>;
    default_export => default_export = glue::default_export::<T>;
    prepare => prepare = glue::prepare;
    finalize => finalize = glue::finalize;
    get_size => get_size = glue::get_size;
    export_description => export_description = glue::export_description;
    block_size => block_size = glue::block_size;
    can_write => can_write = glue::can_write;
    can_flush => can_flush = glue::can_flush;
    is_rotational => is_rotational = glue::is_rotational;
    can_trim => can_trim = glue::can_trim;
    can_zero => can_zero = glue::can_zero;
    can_fast_zero => can_fast_zero = glue::can_fast_zero;
    can_extents => can_extents = glue::can_extents;
    can_fua => can_fua = glue::can_fua;
    can_multi_conn => can_multi_conn = glue::can_multi_conn;
    can_cache => can_cache = glue::can_cache;
    write_at => pwrite = glue::pwrite;
    flush => flush = glue::flush;
    trim => trim = glue::trim;
    zero => zero = glue::zero;
    extents => extents = glue::extents;
    cache => cache = glue::cache;
}

/// Names `filter!` accepts that change nothing: the required methods,
/// which are always there, and the strings, which are always queried.
macro_rules! always {
    ($($method:ident),* $(,)?) => {
        impl<T: Filter + 'static> FilterBuilder<T> {
            $(
                #[doc = concat!("`", stringify!($method), "`: always used; listing it changes nothing.")]
                pub fn $method(&mut self) {}
            )*
        }
    };
}

always!(name, open, longname, version, description, config_help);
