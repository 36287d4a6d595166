// SPDX-License-Identifier: BSD-2-Clause
//! The macros a plugin or filter uses: [`plugin!`](crate::plugin),
//! [`filter!`](crate::filter) and [`debug!`](crate::debug).

/// Register your plugin with nbdkit.
///
/// Declare which optional methods it supports by supplying each as an
/// argument, in any order, with or without a trailing comma.  Listing a
/// name that is not a [`Server`](crate::Server) method is a compile
/// error.  The methods that are always used (the four required ones and
/// the five that return static strings: `longname`, `version`,
/// `description`, `config_help`, `magic_config_key`) may be listed too;
/// that changes nothing.
///
/// The macro defines the library's two entry points, so the same
/// library loads both ways:
///
/// * `nbdkit_rust_plugin_v1`, which nbdkit-rust-plugin.so calls right
///   after loading the library (`nbdkit rust ./libfoo.so`): it keeps the
///   loader's table of nbdkit services and returns the plugin's
///   descriptor, built once;
/// * `plugin_init`, which nbdkit calls when it loads the library itself
///   (`nbdkit ./libfoo.so`), as for a plugin written in C: it fills the
///   table of services from the running nbdkit and returns nbdkit's
///   `struct nbdkit_plugin`, made from the same descriptor.
///
/// Use it once per library (a `cdylib`).
///
/// The plugin type decides the loosest thread model: parallel if it is
/// `Sync`, else serialize_requests, with a compile-time warning unless
/// `thread_model` is listed (see the thread safety section of
/// [`Server`](crate::Server)).
///
/// # Examples
///
/// ```
/// # use nbdkit::*;
/// struct MyPlugin {
///     // ...
/// }
/// impl Server for MyPlugin {
///     fn get_size(&self) -> Result<i64> {
///         // ...
///         # Ok(0)
///     }
///
///     fn name() -> &'static str {
///         "my_plugin"
///     }
///
///     fn open(_readonly: bool) -> Result<Box<dyn Server>> {
///         // ...
///         # Ok(Box::new(MyPlugin {}))
///     }
///
///     fn read_at(&self, buf: &mut [u8], offs: u64) -> Result<()> {
///         // ...
///         # Ok(())
///     }
///
///     fn write_at(&self, buf: &[u8], offs: u64, flags: Flags) -> Result<()> {
///         // ...
///         # Ok(())
///     }
/// }
///
/// plugin!(MyPlugin {write_at});
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! plugin {
    ( $plugin:path { $( $method:ident ),* $(,)? } ) => {
        const _: () = {
            static DESCRIPTOR: $crate::__private::DescriptorCell =
                $crate::__private::DescriptorCell::new();

            fn build() -> $crate::Result<$crate::__private::Descriptor> {
                #[allow(unused_mut)]
                let mut builder = $crate::__private::Builder::<$plugin>::new();
                builder.set_max_thread_model(
                    $crate::__nbdkit_max_thread_model!($plugin; $( $method ),*)
                );
                $( builder.$method(); )*
                builder.build()
            }

            /// The ABI 1 entry point (see abi/nbdkit-rust-abi.h).
            #[no_mangle]
            pub extern "C" fn nbdkit_rust_plugin_v1(
                host: *const $crate::__private::nbdkit_rust_host,
            ) -> *const $crate::__private::nbdkit_rust_plugin {
                // SAFETY: the loader passes its host table, valid until
                // the library is unloaded, as the header promises.
                unsafe { $crate::__private::entry_v1(host, &DESCRIPTOR, build) }
            }

            // The entry point has the header's type.
            const _: $crate::__private::nbdkit_rust_plugin_v1_fn = Some(nbdkit_rust_plugin_v1);

            /// nbdkit's entry point, for `nbdkit ./libfoo.so` (see
            /// nbdkit-plugin(3), NBDKIT_REGISTER_PLUGIN).
            #[no_mangle]
            pub extern "C" fn plugin_init() -> *mut $crate::__private::nbdkit_plugin {
                // SAFETY: only nbdkit calls plugin_init, right after
                // loading the library, before it starts any thread.
                unsafe { $crate::__private::plugin_init(&DESCRIPTOR, build) }
            }

            // The entry point has nbdkit's type.
            const _: $crate::__private::plugin_init_fn = Some(plugin_init);

            /// The library's destructor (ELF .fini_array): frees the
            /// descriptor when the library is unloaded.
            extern "C" fn release_descriptor() {
                // SAFETY: destructors run when the library is unloaded
                // (dlclose, or the process exiting), after nbdkit and
                // the loader are done with its descriptor.
                unsafe { DESCRIPTOR.release() }
            }

            #[used]
            #[link_section = ".fini_array"]
            static RELEASE_DESCRIPTOR: extern "C" fn() = release_descriptor;
        };
    };
}

/// What [`plugin!`] expands to: the loosest thread model of plugin type
/// `$plugin`, [`ThreadModel::Parallel`](crate::ThreadModel::Parallel)
/// if it is `Sync`, else
/// [`ThreadModel::SerializeRequests`](crate::ThreadModel::SerializeRequests)
/// (see `probe.rs`), with a deprecation warning for the latter unless
/// `thread_model` is among the names listed after the `;`.  Not part of
/// the API.
#[doc(hidden)]
#[macro_export]
macro_rules! __nbdkit_max_thread_model {
    // Nothing left: thread_model is not listed.
    ($plugin:path;) => {{
        #[allow(unused_imports)]
        use $crate::__private::{PluginTypeIsNotSync as _, PluginTypeIsSync as _};
        (&$crate::__private::SyncProbe::<$plugin>::new()).max_thread_model()
    }};
    ($plugin:path; thread_model $(, $rest:ident)*) => {{
        #[allow(unused_imports)]
        use $crate::__private::{ListedPluginTypeIsNotSync as _, ListedPluginTypeIsSync as _};
        (&$crate::__private::SyncProbe::<$plugin>::new()).max_thread_model_listed()
    }};
    ($plugin:path; $other:ident $(, $rest:ident)*) => {
        $crate::__nbdkit_max_thread_model!($plugin; $( $rest ),*)
    };
}

/// Register your filter with nbdkit-rust-filter.so.
///
/// The same syntax as [`plugin!`](crate::plugin): the filter type, then
/// the optional [`Filter`](crate::Filter) methods it implements, in any
/// order, with or without a trailing comma.  Listing a name that is not
/// a `Filter` method is a compile error; `name`, `open` and the four
/// string methods may be listed and change nothing.
///
/// **Only the methods listed are called.**  For every other one the
/// loader passes the call straight through to the layer below, as
/// nbdkit does for a C filter without that callback, without entering
/// Rust: a filter that lists nothing (`filter!(MyFilter {})`) costs
/// nothing but its `open` and `close`.
///
/// The macro defines the library's entry point
/// `nbdkit_rust_filter_v1`, which nbdkit-rust-filter.so calls right
/// after loading the library (`nbdkit --filter=rust PLUGIN
/// rust-filter=./libfoo.so`): it keeps the loader's table of nbdkit
/// services and returns the filter's descriptor, built once.  Use it
/// once per library; a library may have a `plugin!` too.
///
/// The filter type decides the loosest thread model: parallel if it is
/// `Sync`, else serialize_requests, with a compile-time warning unless
/// `thread_model` is listed (see the thread safety section of
/// [`Filter`](crate::Filter)).
///
/// # Examples
///
/// ```
/// # use nbdkit::*;
/// struct Nothing;
///
/// impl Filter for Nothing {
///     fn name() -> &'static str {
///         "nothing"
///     }
///
///     fn open(
///         _next: &mut NextOpen,
///         _readonly: bool,
///         _export_name: &str,
///         _is_tls: bool,
///     ) -> Result<Box<dyn Filter>> {
///         Ok(Box::new(Nothing))
///     }
/// }
///
/// filter!(Nothing {});
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! filter {
    ( $filter:path { $( $method:ident ),* $(,)? } ) => {
        const _: () = {
            static DESCRIPTOR: $crate::__private::DescriptorCell<
                $crate::__private::FilterDescriptor,
            > = $crate::__private::DescriptorCell::new();

            fn build() -> $crate::Result<$crate::__private::FilterDescriptor> {
                #[allow(unused_mut)]
                let mut builder = $crate::__private::FilterBuilder::<$filter>::new();
                builder.set_max_thread_model(
                    $crate::__nbdkit_filter_max_thread_model!($filter; $( $method ),*)
                );
                $( builder.$method(); )*
                builder.build()
            }

            /// The filter entry point of ABI 1.1 (see
            /// abi/nbdkit-rust-abi.h).
            #[no_mangle]
            pub extern "C" fn nbdkit_rust_filter_v1(
                host: *const $crate::__private::nbdkit_rust_host,
            ) -> *const $crate::__private::nbdkit_rust_filter {
                // SAFETY: the loader passes its host table, valid until
                // the library is unloaded, as the header promises.
                unsafe { $crate::__private::filter_entry_v1(host, &DESCRIPTOR, build) }
            }

            // The entry point has the header's type.
            const _: $crate::__private::nbdkit_rust_filter_v1_fn = Some(nbdkit_rust_filter_v1);

            /// The library's destructor (ELF .fini_array): frees the
            /// descriptor when the library is unloaded.
            extern "C" fn release_descriptor() {
                // SAFETY: destructors run when the library is unloaded,
                // after the loader is done with its descriptor.
                unsafe { DESCRIPTOR.release() }
            }

            #[used]
            #[link_section = ".fini_array"]
            static RELEASE_DESCRIPTOR: extern "C" fn() = release_descriptor;
        };
    };
}

/// What [`filter!`] expands to: the loosest thread model of filter type
/// `$filter`, as [`__nbdkit_max_thread_model!`] for plugins, with the
/// filter's own warning.  Not part of the API.
#[doc(hidden)]
#[macro_export]
macro_rules! __nbdkit_filter_max_thread_model {
    // Nothing left: thread_model is not listed.
    ($filter:path;) => {{
        #[allow(unused_imports)]
        use $crate::__private::{FilterTypeIsNotSync as _, PluginTypeIsSync as _};
        (&$crate::__private::SyncProbe::<$filter>::new()).max_thread_model()
    }};
    ($filter:path; thread_model $(, $rest:ident)*) => {
        $crate::__nbdkit_max_thread_model!($filter; thread_model)
    };
    ($filter:path; $other:ident $(, $rest:ident)*) => {
        $crate::__nbdkit_filter_max_thread_model!($filter; $( $rest ),*)
    };
}

/// Print a debug message with nbdkit_debug: the arguments of
/// [`format!`].
///
/// nbdkit shows debug messages only when run with `-v`.  Outside nbdkit
/// (no host table) the message goes nowhere.
///
/// # Examples
///
/// ```
/// # use nbdkit::*;
/// let size = 1 << 20;
/// debug!("ramdisk: allocated {} bytes", size);
/// ```
#[macro_export]
macro_rules! debug {
    ($($arg:tt)*) => {
        $crate::__private::debug_fmt(::std::format_args!($($arg)*))
    };
}
