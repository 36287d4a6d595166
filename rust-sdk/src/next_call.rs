// SPDX-License-Identifier: BSD-2-Clause
//! The global calls down the chain a filter may make: one type per
//! filter callback, each lent to that callback only, with the one call
//! of the layer below it may pass on ([`NextConfig::config`],
//! [`NextOpen::open`], ...).

use std::ffi::CStr;
use std::fmt;
use std::os::raw::c_int;

use crate::context::{Backend, OwnedNext};
use crate::errno::{EINVAL, EIO};
use crate::ffi::{nbdkit_rust_context, nbdkit_rust_next_call};
use crate::host::{self, service};
use crate::{Error, ExportList, Result};

/// The error of a global call of the layer below, which logged why.
#[cold]
#[inline(never)]
fn failed(errno: i32, what: &str) -> Error {
    Error::logged(errno, format!("{} of the layer below failed", what))
}

/// `-1` from the layer below is a failure it logged.
fn check(r: c_int, errno: i32, what: &str) -> Result<()> {
    match r {
        -1 => Err(failed(errno, what)),
        _ => Ok(()),
    }
}

/// Define a call type over `*mut nbdkit_rust_next_call`.
macro_rules! call_type {
    ($($(#[$doc:meta])* $name:ident;)*) => {
        $(
            $(#[$doc])*
            pub struct $name {
                raw: *mut nbdkit_rust_next_call,
            }

            impl $name {
                /// Wrap the pointer the loader passed to the callback;
                /// the glue lends the value for the call only.
                pub(crate) fn new(raw: *mut nbdkit_rust_next_call) -> $name {
                    $name { raw }
                }
            }

            impl fmt::Debug for $name {
                fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.debug_tuple(stringify!($name)).field(&self.raw).finish()
                }
            }
        )*
    };
}

call_type! {
    /// What [`Filter::config`](crate::Filter::config) may pass a
    /// parameter on to: the layer below's `config`.
    NextConfig;
    /// What [`Filter::config_complete`](crate::Filter::config_complete)
    /// passes on to: the layer below's `config_complete`.
    NextConfigComplete;
    /// What [`Filter::preconnect`](crate::Filter::preconnect) passes on
    /// to: the layer below's `preconnect`.
    NextPreconnect;
    /// What [`Filter::list_exports`](crate::Filter::list_exports) asks:
    /// the layer below's `list_exports`.
    NextListExports;
    /// What [`Filter::default_export`](crate::Filter::default_export)
    /// asks: the layer below's `default_export`.
    NextDefaultExport;
}

impl NextConfig {
    /// Pass `key=value` on to the layer below (a filter passes on the
    /// keys it does not take).
    ///
    /// The layer below may keep the strings for as long as nbdkit runs,
    /// so the SDK hands it copies that nbdkit keeps
    /// (`nbdkit_strdup_intern`).  An error if the layer below refuses
    /// the key (it has logged why).
    pub fn config(&self, key: &str, value: &str) -> Result<()> {
        let key_c = host::strdup_intern("config key", key)?;
        let value_c = host::strdup_intern("config value", value)?;
        let f = service!(next_config)?;
        // SAFETY: a function of the installed host table, with the call
        // the loader lent this value and two interned NUL-terminated
        // strings, which live until nbdkit exits.
        check(unsafe { f(self.raw, key_c, value_c) }, EINVAL, "config")
    }
}

impl NextConfigComplete {
    /// End the configuration of the layer below.
    pub fn config_complete(&self) -> Result<()> {
        let f = service!(next_config_complete)?;
        // SAFETY: a function of the installed host table, with the call
        // the loader lent this value.
        check(unsafe { f(self.raw) }, EINVAL, "config_complete")
    }
}

impl NextPreconnect {
    /// The layer below's `preconnect`: an error refuses the client.
    pub fn preconnect(&self, readonly: bool) -> Result<()> {
        let f = service!(next_preconnect)?;
        // SAFETY: a function of the installed host table, with the call
        // the loader lent this value.
        check(
            unsafe { f(self.raw, c_int::from(readonly)) },
            EIO,
            "preconnect",
        )
    }
}

impl NextListExports {
    /// The exports of the layer below, added to `exports`: the list the
    /// filter's own `list_exports` got (to pass them on unchanged), or
    /// an [`Exports`](crate::Exports) list of its own.
    pub fn list_exports(&self, readonly: bool, exports: &mut ExportList) -> Result<()> {
        let f = service!(next_list_exports)?;
        // SAFETY: a function of the installed host table, with the call
        // the loader lent this value and the list `exports` wraps, alive
        // while it is borrowed.
        let r = unsafe { f(self.raw, c_int::from(readonly), exports.as_ptr()) };
        check(r, EIO, "list_exports")
    }
}

impl NextDefaultExport {
    /// The canonical name of the layer below's default export.
    pub fn default_export(&self, readonly: bool) -> Result<String> {
        let f = service!(next_default_export)?;
        // SAFETY: a function of the installed host table, with the call
        // the loader lent this value.
        let p = unsafe { f(self.raw, c_int::from(readonly)) };
        if p.is_null() {
            return Err(failed(EIO, "default_export"));
        }
        // SAFETY: a non-NULL answer is a NUL-terminated string owned by
        // nbdkit; it is copied here.
        let name = unsafe { CStr::from_ptr(p) };
        Ok(name.to_string_lossy().into_owned())
    }
}

/// What [`Filter::open`](crate::Filter::open) opens the layer below
/// with, for the new connection.
///
/// nbdkit needs the layer below opened for the filter to use it: if
/// `open` neither calls [`NextOpen::open`] nor gives the connection a
/// next of its own ([`NextOpen::set_next`]), the SDK calls
/// `next.open(readonly, export_name)` with the arguments `open` got,
/// after `open` returns successfully.  Call it yourself to open the
/// layer below with other arguments (read-only below a writable
/// filter, another export name).
pub struct NextOpen {
    raw: *mut nbdkit_rust_next_call,
    context: *mut nbdkit_rust_context,
    /// The connection has a layer below: `open` or `set_next` ran.
    opened: bool,
}

impl fmt::Debug for NextOpen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NextOpen")
            .field("raw", &self.raw)
            .field("context", &self.context)
            .field("opened", &self.opened)
            .finish()
    }
}

impl NextOpen {
    /// Wrap the pointers the loader passed to `open`; the glue lends the
    /// value for the call only.
    pub(crate) fn new(
        raw: *mut nbdkit_rust_next_call,
        context: *mut nbdkit_rust_context,
    ) -> NextOpen {
        NextOpen {
            raw,
            context,
            opened: false,
        }
    }

    /// Whether the connection has a layer below now.
    pub(crate) fn opened(&self) -> bool {
        self.opened
    }

    fn check_not_opened(&self, what: &str) -> Result<()> {
        if self.opened {
            return Err(Error::new(
                EINVAL,
                format!("open: {}: the connection has a layer below already", what),
            ));
        }
        Ok(())
    }

    /// Open the layer below for this connection, `readonly` or not, on
    /// export `export_name`.  An error if it fails (the layer below has
    /// logged why) or was opened already.
    pub fn open(&mut self, readonly: bool, export_name: &str) -> Result<()> {
        self.check_not_opened("next.open")?;
        let name = host::arg_to_c("open: the export name", export_name)?;
        let f = service!(next_open)?;
        // SAFETY: a function of the installed host table, with the call
        // and context the loader lent this value, and a NUL-terminated
        // string that outlives the call (nbdkit copies it).
        let r = unsafe { f(self.raw, self.context, c_int::from(readonly), name.as_ptr()) };
        check(r, EIO, "open")?;
        self.opened = true;
        Ok(())
    }

    /// The filter's backend, to open contexts of the layer below of its
    /// own ([`Backend::open_next`]).
    pub fn backend(&self) -> Result<Backend> {
        let f = service!(context_get_backend)?;
        // SAFETY: a function of the installed host table, with the
        // context the loader lent this value.
        let p = unsafe { f(self.context) };
        if p.is_null() {
            return Err(Error::new(EIO, "nbdkit_context_get_backend failed"));
        }
        Ok(Backend::new(p))
    }

    /// Make `next` (opened with [`Backend::open_next`], not prepared)
    /// this connection's layer below, instead of calling
    /// [`open`](Self::open) (`nbdkit_context_set_next`): nbdkit then
    /// passes it to the filter's per-connection methods, prepares,
    /// finalizes and closes it.  Returns the connection's previous layer
    /// below, if it had one, which is the caller's again (dropping it
    /// closes it).
    pub fn set_next(&mut self, next: OwnedNext) -> Result<Option<OwnedNext>> {
        let f = service!(context_set_next)?;
        let raw = next.into_raw();
        // SAFETY: a function of the installed host table, with the
        // context the loader lent this value and a context of the layer
        // below whose ownership passes to nbdkit.
        let previous = unsafe { f(self.context, raw) };
        self.opened = true;
        Ok(if previous.is_null() {
            None
        } else {
            Some(OwnedNext::from_raw(previous))
        })
    }
}
