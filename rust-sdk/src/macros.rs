//! The macros a plugin uses: [`plugin!`](crate::plugin) and
//! [`debug!`](crate::debug).

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
