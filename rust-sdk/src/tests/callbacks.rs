// SPDX-License-Identifier: BSD-2-Clause
//! The glue, driven as the loader drives it: through the harness of
//! `nbdkit::testing` where it fits, and through the descriptors'
//! function pointers for what no client can send (NULL or non-UTF-8
//! strings, unknown flag bits).

use std::ffi::{CStr, CString};
use std::os::raw::c_char;
use std::ptr;

use super::fake_host::{self, take_errors, take_events, Event};
use super::plugins::{drops, full_descriptor, take_calls, Conn, Full, Minimal, PanicOnDrop};
use crate::descriptor::{callback_names, Builder};
use crate::errno::{EINVAL, EIO, ENOSPC, ENOTSUP, EPERM};
use crate::ffi::nbdkit_rust_plugin;
use crate::testing::Harness;
use crate::{CacheFlags, ExtentType, Flags, FuaFlags, ThreadModel};

fn cstr(p: *const c_char) -> String {
    assert!(!p.is_null());
    // SAFETY: the descriptor strings and interned strings are
    // NUL-terminated and live for the test.
    unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_owned()
}

#[test]
fn descriptor_strings_versions_and_sizes() {
    let d = full_descriptor();
    let p = d.raw();
    assert_eq!(p.abi_major, 1);
    assert_eq!(p.abi_minor, 1);
    assert_eq!(
        p.struct_size,
        std::mem::size_of::<nbdkit_rust_plugin>() as u64
    );
    assert!(p.struct_size >= crate::ffi::NBDKIT_RUST_PLUGIN_V1_MIN_SIZE as u64);
    assert_eq!(cstr(p.name), "full");
    assert_eq!(cstr(p.longname), "The full test plugin");
    assert_eq!(cstr(p.version), "1.2.3");
    assert_eq!(cstr(p.description), "Implements every method.");
    assert_eq!(cstr(p.config_help), "key=value  Anything.");
    assert_eq!(cstr(p.magic_config_key), "file");
    assert_eq!(cstr(p.sdk_version), "0.4.0");
    assert_eq!(cstr(p.sdk_version), env!("CARGO_PKG_VERSION"));
    assert_eq!(p.max_thread_model, 3);
    assert_eq!(p.reserved0, 0);
    assert_eq!(d.as_ptr(), p as *const _);
}

/// Every callback field of a descriptor, by name, and whether it is
/// set.  The names are the descriptor's own list (`callback_names`, the
/// one `--dump-plugin` prints), of a descriptor that registers them all;
/// that list counts ABI 1.1's `load_checked` and `dump_plugin_checked`
/// as `load` and `dump_plugin`, so here each of the four is its own
/// field.
fn callbacks(p: &nbdkit_rust_plugin) -> Vec<(&'static str, bool)> {
    let set = callback_names(p);
    let mut fields: Vec<(&'static str, bool)> = callback_names(full_descriptor().raw())
        .into_iter()
        .map(|name| match name {
            "load" => (name, p.load.is_some()),
            "dump_plugin" => (name, p.dump_plugin.is_some()),
            _ => (name, set.contains(&name)),
        })
        .collect();
    assert_eq!(fields.len(), 34, "the ABI's callbacks, load to cache");
    fields.push(("load_checked", p.load_checked.is_some()));
    fields.push(("dump_plugin_checked", p.dump_plugin_checked.is_some()));
    fields
}

const REQUIRED: [&str; 4] = ["open", "close", "get_size", "pread"];

#[test]
fn unlisted_methods_are_null_and_required_ones_are_not() {
    let d = Builder::<Minimal>::new().build().unwrap();
    for (name, present) in callbacks(d.raw()) {
        assert_eq!(present, REQUIRED.contains(&name), "{}", name);
    }
    let p = d.raw();
    assert_eq!(cstr(p.name), "minimal");
    assert!(p.longname.is_null());
    assert!(p.version.is_null());
    assert!(p.description.is_null());
    assert!(p.config_help.is_null());
    assert!(p.magic_config_key.is_null());
    assert_eq!(cstr(p.sdk_version), "0.4.0");
}

#[test]
fn listed_methods_are_non_null() {
    let d = full_descriptor();
    for (name, present) in callbacks(d.raw()) {
        assert!(present, "{} is NULL", name);
    }
}

#[test]
fn each_name_sets_only_its_own_callback() {
    let mut b = Builder::<Full>::new();
    b.write_at();
    b.can_fua();
    b.longname();
    b.read_at();
    let d = b.build().unwrap();
    for (name, present) in callbacks(d.raw()) {
        let want = REQUIRED.contains(&name) || name == "pwrite" || name == "can_fua";
        assert_eq!(present, want, "{}", name);
    }
}

#[test]
fn load_and_dump_plugin_set_their_checked_twins() {
    let mut b = Builder::<Full>::new();
    b.load();
    let d = b.build().unwrap();
    assert!(d.raw().load.is_some() && d.raw().load_checked.is_some());
    assert!(d.raw().dump_plugin.is_none() && d.raw().dump_plugin_checked.is_none());
    let mut b = Builder::<Full>::new();
    b.dump_plugin();
    let d = b.build().unwrap();
    assert!(d.raw().dump_plugin.is_some() && d.raw().dump_plugin_checked.is_some());
    assert!(d.raw().load.is_none() && d.raw().load_checked.is_none());
}

#[test]
fn checked_load_and_dump_plugin_report_a_panic_with_minus_one() {
    struct Panics;
    impl crate::Server for Panics {
        fn name() -> &'static str {
            "panics"
        }
        fn load() {
            panic!("load panicked")
        }
        fn dump_plugin() {
            panic!("dump_plugin panicked")
        }
        fn open(_: bool) -> crate::Result<Box<dyn crate::Server>> {
            Ok(Box::new(Panics))
        }
        fn get_size(&self) -> crate::Result<i64> {
            Ok(0)
        }
        fn read_at(&self, _: &mut [u8], _: u64) -> crate::Result<()> {
            Ok(())
        }
    }
    let _host = fake_host::install();
    let mut b = Builder::<Panics>::new();
    b.load();
    b.dump_plugin();
    let d = b.build().unwrap();
    let p = d.raw();
    // SAFETY: the descriptor's callbacks take no arguments.
    unsafe {
        assert_eq!(p.load_checked.unwrap()(), -1);
        assert_eq!(p.dump_plugin_checked.unwrap()(), -1);
        // The ABI 1.0 twins cannot fail: the panic is only logged.
        p.load.unwrap()();
        p.dump_plugin.unwrap()();
    }
    let (messages, errnos) = take_errors();
    assert_eq!(
        messages,
        vec![
            "load: panic: load panicked",
            "dump_plugin: panic: dump_plugin panicked",
            "load: panic: load panicked",
            "dump_plugin: panic: dump_plugin panicked",
        ]
    );
    assert_eq!(errnos, vec![EIO; 4]);
}

/// A plugin of the given name.
macro_rules! named {
    ($ty:ident, $name:expr) => {
        struct $ty;
        impl crate::Server for $ty {
            fn name() -> &'static str {
                $name
            }
            fn open(_: bool) -> crate::Result<Box<dyn crate::Server>> {
                Ok(Box::new($ty))
            }
            fn get_size(&self) -> crate::Result<i64> {
                Ok(0)
            }
            fn read_at(&self, _: &mut [u8], _: u64) -> crate::Result<()> {
                Ok(())
            }
        }
    };
}

#[test]
fn bad_plugin_names_are_refused() {
    named!(Space, "bad name");
    named!(Underscore, "_bad");
    named!(Empty, "");
    named!(Dash, "bad-name");
    named!(NonAscii, "café");
    fn refused<T: crate::Server + 'static>(name: &str) {
        let e = Builder::<T>::new().build().err().unwrap();
        assert_eq!(e.errno(), EINVAL);
        let text = e.to_string();
        assert!(text.contains(&format!("{:?}", name)), "{}", text);
        assert!(text.contains("[A-Za-z0-9][A-Za-z0-9_]*"), "{}", text);
    }
    refused::<Space>("bad name");
    refused::<Underscore>("_bad");
    refused::<Empty>("");
    refused::<Dash>("bad-name");
    refused::<NonAscii>("café");
}

#[test]
fn good_plugin_names_are_taken() {
    named!(Digit, "9lives");
    named!(Trailing, "a_");
    named!(Single, "x");
    named!(Mixed, "Ram_Disk_2");
    assert!(Builder::<Digit>::new().build().is_ok());
    assert!(Builder::<Trailing>::new().build().is_ok());
    assert!(Builder::<Single>::new().build().is_ok());
    assert!(Builder::<Mixed>::new().build().is_ok());
}

/// A harness over the `Full` descriptor, every optional method listed,
/// with the `load` call it makes taken off the record.
fn full() -> Harness<Full> {
    let t = Harness::with_descriptor(full_descriptor());
    assert_eq!(take_calls(), vec!["load"]);
    t
}

/// Asserts that `e` is what a client gets for one logged message
/// containing `text` and errno `errno`, and that the harness logged
/// just that.
fn assert_failed<T: crate::Server>(t: &Harness<T>, e: crate::Error, text: &str, errno: i32) {
    assert_eq!(e.errno(), errno, "{}", e);
    assert!(
        e.to_string().contains(text),
        "{:?} does not contain {:?}",
        e.to_string(),
        text
    );
    let errors = t.errors();
    assert_eq!(errors.len(), 1, "errors: {:?}", errors);
    assert!(errors[0].contains(text), "{:?}", errors);
    t.clear_events();
}

#[test]
fn config_reaches_the_method() {
    let t = full();
    t.config("size", "1M").unwrap();
    assert_eq!(take_calls(), vec!["config size=1M"]);
    assert_eq!(t.events(), vec![]);
}

#[test]
fn config_error_gives_its_errno_and_message() {
    let t = full();
    let e = t.config("fail", "why").unwrap_err();
    assert_eq!(e.to_string(), "config failed: why");
    assert_failed(&t, e, "config failed: why", ENOSPC);
}

#[test]
fn config_panic_becomes_eio_and_a_message() {
    let t = full();
    let e = t.config("panic", "now").unwrap_err();
    assert_eq!(t.errors(), vec!["config: panic: config panicked: now"]);
    assert_failed(&t, e, "config: panic: config panicked: now", EIO);
}

#[test]
fn a_panicking_display_does_not_unwind_either() {
    let t = full();
    let e = t.config("nofmt", "x").unwrap_err();
    assert_failed(&t, e, "config: panic: Display panicked", EIO);
}

#[test]
fn non_utf8_config_is_einval_and_not_passed_on() {
    let _host = fake_host::install();
    let d = full_descriptor();
    let config = d.raw().config.unwrap();
    let good = CString::new("size").unwrap();
    let bad = CString::new(vec![b'a', 0xff, b'b']).unwrap();
    let assert_refused = |text: &str| {
        let (messages, errnos) = take_errors();
        assert_eq!(messages.len(), 1, "{:?}", messages);
        assert!(messages[0].contains(text), "{:?}", messages);
        assert_eq!(errnos, vec![EINVAL]);
    };
    // SAFETY: NUL-terminated strings, as nbdkit passes them.
    assert_eq!(unsafe { config(good.as_ptr(), bad.as_ptr()) }, -1);
    assert_refused("config: the value of size is not valid UTF-8");
    // SAFETY: as above.
    assert_eq!(unsafe { config(bad.as_ptr(), good.as_ptr()) }, -1);
    assert_refused("config: a key is not valid UTF-8");
    // SAFETY: a NULL key is refused before use.
    assert_eq!(unsafe { config(ptr::null(), good.as_ptr()) }, -1);
    assert_refused("config: a key is NULL");
    assert_eq!(take_calls(), Vec::<String>::new());
}

#[test]
fn lifecycle_callbacks_run_in_nbdkits_order() {
    let t = full();
    t.config_complete().unwrap();
    t.dump_plugin().unwrap();
    assert_eq!(t.thread_model().unwrap(), ThreadModel::SerializeRequests);
    t.start().unwrap();
    t.start().unwrap();
    assert_eq!(
        take_calls(),
        vec!["config_complete", "dump_plugin", "get_ready", "after_fork"]
    );
    drop(t);
    assert_eq!(take_calls(), vec!["cleanup", "unload"]);
}

#[test]
fn open_starts_the_plugin_first() {
    let t = full();
    let c = t.open(false).unwrap();
    assert_eq!(
        take_calls(),
        vec![
            "config_complete",
            "get_ready",
            "after_fork",
            "open readonly=false"
        ]
    );
    drop(c);
}

#[test]
fn an_error_without_errno_sends_eio() {
    let t = full();
    let c = t.open(false).unwrap();
    let e = c.pread(&mut [0u8; 4], 3).unwrap_err();
    assert_failed(&t, e, "read_at: no errno", EIO);
}

#[test]
fn a_panic_in_a_void_callback_is_caught() {
    let _host = fake_host::install();
    let d = Builder::<PanicOnDrop>::new();
    let mut d = d;
    d.cleanup();
    let d = d.build().unwrap();
    // SAFETY: cleanup takes no arguments.
    unsafe { d.raw().cleanup.unwrap()() };
    let (messages, errnos) = take_errors();
    assert_eq!(messages, vec!["cleanup: panic: cleanup panicked"]);
    assert_eq!(errnos, vec![EIO]);
}

#[test]
fn preconnect_passes_readonly_and_its_error() {
    let t = full();
    t.preconnect(false).unwrap();
    let e = t.preconnect(true).unwrap_err();
    assert_failed(&t, e, "preconnect: go away", EPERM);
}

#[test]
fn open_and_close_drop_the_connection_exactly_once() {
    let t = full();
    t.start().unwrap();
    take_calls();
    let before = drops();
    let conn = t.open(false).unwrap();
    let other = t.open(true).unwrap();
    assert_eq!(t.open_connections(), 2);
    assert_eq!(
        take_calls(),
        vec!["open readonly=false", "open readonly=true"]
    );
    assert_eq!(drops(), before);
    conn.close().unwrap();
    assert_eq!(drops(), before + 1);
    assert_eq!(t.open_connections(), 1);
    assert_eq!(take_calls(), vec!["drop"]);
    drop(other);
    assert_eq!(drops(), before + 2);
    assert_eq!(t.open_connections(), 0);
    assert_eq!(t.events(), vec![]);
}

#[test]
fn close_of_null_is_ignored() {
    let _host = fake_host::install();
    let d = full_descriptor();
    let before = drops();
    // SAFETY: close(NULL) is ignored.
    unsafe { d.raw().close.unwrap()(ptr::null_mut()) };
    assert_eq!(drops(), before);
    assert_eq!(take_events(), vec![]);
}

#[test]
fn a_panic_in_drop_at_close_is_caught() {
    let t = Harness::<PanicOnDrop>::with_descriptor(Builder::<PanicOnDrop>::new().build().unwrap());
    let conn = t.open(false).unwrap();
    let e = conn.close().unwrap_err();
    assert_eq!(take_calls(), vec!["PanicOnDrop dropped"]);
    assert_failed(&t, e, "close: panic: drop panicked", EIO);
    assert_eq!(t.open_connections(), 0);
}

#[test]
fn a_panic_in_open_fails_the_connection() {
    let t = Harness::<PanicOnDrop>::with_descriptor(Builder::<PanicOnDrop>::new().build().unwrap());
    let e = t.open(true).unwrap_err();
    assert_failed(&t, e, "open: panic: open panicked", EIO);
    assert_eq!(t.open_connections(), 0);
}

#[test]
fn get_size_and_a_negative_size() {
    let t = full();
    let rw = t.open(false).unwrap();
    let ro = t.open(true).unwrap();
    assert_eq!(rw.get_size().unwrap(), 1 << 20);
    let e = ro.get_size().unwrap_err();
    assert_failed(&t, e, "negative size -5", EINVAL);
}

#[test]
fn can_callbacks_answer_bools_or_the_enum() {
    let t = full();
    let rw = t.open(false).unwrap();
    let ro = t.open(true).unwrap();
    assert!(rw.can_write().unwrap());
    assert!(!ro.can_write().unwrap());
    assert!(rw.can_flush().unwrap());
    assert!(!rw.is_rotational().unwrap());
    assert!(rw.can_trim().unwrap());
    assert!(rw.can_zero().unwrap());
    assert!(rw.can_multi_conn().unwrap());
    assert_eq!(rw.can_fua().unwrap(), FuaFlags::Native);
    assert_eq!(rw.can_cache().unwrap(), CacheFlags::Emulate);
    assert_eq!(t.errors(), Vec::<String>::new());
    let e = rw.can_fast_zero().unwrap_err();
    assert_failed(&t, e, "can_fast_zero failed", EPERM);
    let e = rw.can_extents().unwrap_err();
    assert_failed(&t, e, "can_extents: panic: can_extents panicked", EIO);
}

#[test]
fn pread_reaches_read_at() {
    let t = full();
    let conn = t.open(false).unwrap();
    take_calls();
    let mut buf = [0u8; 16];
    conn.pread(&mut buf, 7).unwrap();
    assert_eq!(buf, [7u8; 16]);
    assert_eq!(take_calls(), vec!["read_at len=16 offset=7"]);
    conn.pread(&mut [], 9).unwrap();
    assert_eq!(take_calls(), vec!["read_at len=0 offset=9"]);
    assert_eq!(t.events(), vec![]);
}

#[test]
fn pread_errors_and_panics() {
    let t = full();
    let conn = t.open(false).unwrap();
    let mut buf = [0u8; 16];
    let e = conn.pread(&mut buf, 1).unwrap_err();
    assert_failed(&t, e, "read_at: no space", ENOSPC);
    let e = conn.pread(&mut buf, 2).unwrap_err();
    assert_failed(&t, e, "pread: panic: read_at panicked at offset 2", EIO);
    let e = conn.pread(&mut buf, 4).unwrap_err();
    assert_failed(&t, e, "io failure", EIO);
    // The server keeps going after a panic.
    conn.pread(&mut buf, 5).unwrap();
    assert_eq!(buf, [5u8; 16]);
}

#[test]
fn pwrite_passes_data_and_flags() {
    let t = full();
    let conn = t.open(false).unwrap();
    take_calls();
    conn.pwrite(b"hello", 512, Flags::FUA).unwrap();
    conn.pwrite(b"", 0, Flags::empty()).unwrap();
    assert_eq!(
        take_calls(),
        vec![
            "write_at \"hello\" offset=512 flags=FUA",
            "write_at \"\" offset=0 flags=(empty)",
        ]
    );
    assert_eq!(t.events(), vec![]);
}

#[test]
fn unknown_flag_bits_are_dropped() {
    let _host = fake_host::install();
    let d = full_descriptor();
    let conn = Conn::open(&d, false);
    take_calls();
    let data = b"hello";
    // SAFETY: a live handle and a buffer of 5 bytes.
    let r = unsafe { d.raw().pwrite.unwrap()(conn.h, data.as_ptr().cast(), 5, 0, 0xffff_fff0 | 2) };
    assert_eq!(r, 0);
    assert_eq!(take_calls(), vec!["write_at \"hello\" offset=0 flags=FUA"]);
    conn.close();
}

#[test]
fn trim_zero_flush_and_cache_pass_their_arguments() {
    let t = full();
    let conn = t.open(false).unwrap();
    take_calls();
    conn.trim(4096, 8192, Flags::FUA).unwrap();
    conn.zero(100, 200, Flags::MAY_TRIM | Flags::FUA).unwrap();
    conn.flush().unwrap();
    conn.cache(10, 20).unwrap();
    assert_eq!(
        take_calls(),
        vec![
            "trim count=4096 offset=8192 flags=FUA",
            "zero count=100 offset=200 flags=MAY_TRIM | FUA",
            "flush",
            "cache count=10 offset=20",
        ]
    );
    let e = conn.zero(100, 200, Flags::FAST_ZERO).unwrap_err();
    assert_failed(&t, e, "zero: no fast zero", ENOTSUP);
}

#[test]
fn extents_are_reported_through_the_handle() {
    let t = full();
    let conn = t.open(false).unwrap();
    assert_eq!(
        conn.extents(65536, 65536, Flags::empty()).unwrap(),
        vec![
            (65536, 4096, ExtentType::Allocated),
            (69632, 61440, ExtentType::HoleZero)
        ]
    );
    assert_eq!(
        conn.extents(65536, 65536, Flags::REQ_ONE).unwrap(),
        vec![(65536, 4096, ExtentType::Allocated)]
    );
    assert_eq!(t.events(), vec![]);
}

#[test]
fn a_refused_extent_fails_the_request() {
    let t = full();
    let conn = t.open(false).unwrap();
    let e = conn.extents(8192, 0, Flags::empty()).unwrap_err();
    assert_eq!(e.errno(), EINVAL);
    let errors = t.errors();
    assert_eq!(errors.len(), 2, "{:?}", errors);
    assert!(errors[0].contains("must be contiguous"), "{:?}", errors);
    assert!(
        errors[1].contains("could not add the extent at offset 24576 length 1"),
        "{:?}",
        errors
    );
}

#[test]
fn list_exports_adds_through_the_list() {
    let t = full();
    assert_eq!(
        t.list_exports(true, false).unwrap(),
        vec![
            ("a".to_string(), Some("readonly=true tls=false".to_string())),
            ("b".to_string(), None),
            // use_default: the name default_export gives.
            ("a".to_string(), None),
        ]
    );
}

#[test]
fn list_exports_provided_is_the_default_export() {
    let mut b = Builder::<Minimal>::new();
    b.list_exports();
    let t = Harness::<Minimal>::with_descriptor(b.build().unwrap());
    assert_eq!(
        t.list_exports(false, false).unwrap(),
        vec![(String::new(), None)]
    );
}

#[test]
fn default_export_is_interned() {
    let t = full();
    assert_eq!(t.default_export(false, false).unwrap(), "a");
    // A NUL in the name cannot go to C: EINVAL.
    let e = t.default_export(false, true).unwrap_err();
    assert_failed(
        &t,
        e,
        "default_export: \"bad\\0name\" contains a NUL byte",
        EINVAL,
    );
}

#[test]
fn export_description_and_block_size() {
    let t = full();
    let conn = t.open(true).unwrap();
    assert_eq!(
        conn.export_description().unwrap().as_deref(),
        Some("full disk, readonly=true")
    );
    assert_eq!(conn.block_size().unwrap(), (512, 4096, 0xffff_ffff));
}

#[test]
fn provided_defaults_answer_like_nbdkit() {
    use crate::{CacheFlags, Flags, FuaFlags, Server, ThreadModel};
    let _host = fake_host::install();
    let m = Minimal;
    assert!(!m.can_write().unwrap());
    assert!(!m.can_flush().unwrap());
    assert!(!m.can_trim().unwrap());
    assert!(!m.can_zero().unwrap());
    assert!(!m.can_fast_zero().unwrap());
    assert!(!m.can_extents().unwrap());
    assert!(!m.can_multi_conn().unwrap());
    assert!(!m.is_rotational().unwrap());
    assert_eq!(m.can_fua().unwrap(), FuaFlags::None);
    assert_eq!(m.can_cache().unwrap(), CacheFlags::None);
    assert_eq!(
        m.write_at(b"x", 0, Flags::empty()).unwrap_err().errno(),
        crate::errno::EROFS
    );
    assert_eq!(m.flush().unwrap_err().errno(), EINVAL);
    assert_eq!(m.trim(1, 0, Flags::empty()).unwrap_err().errno(), EINVAL);
    assert_eq!(
        m.zero(1, 0, Flags::empty()).unwrap_err().errno(),
        crate::errno::EOPNOTSUPP
    );
    assert!(m.cache(1, 0).is_ok());
    assert_eq!(m.block_size().unwrap(), (0, 0, 0));
    assert_eq!(
        m.export_description().unwrap_err().errno(),
        crate::errno::EOPNOTSUPP
    );
    assert_eq!(Minimal::thread_model().unwrap(), ThreadModel::Parallel);
    assert_eq!(Minimal::default_export(false, false).unwrap(), "");
    assert_eq!(Minimal::config("k", "v").unwrap_err().errno(), EINVAL);
    assert!(Minimal::config_complete().is_ok());
    assert!(Minimal::get_ready().is_ok());
    assert!(Minimal::after_fork().is_ok());
    assert!(Minimal::preconnect(true).is_ok());
    Minimal::load();
    Minimal::unload();
    Minimal::dump_plugin();
    Minimal::cleanup();
    assert_eq!(Minimal::longname(), None);
    assert_eq!(Minimal::version(), None);
    assert_eq!(Minimal::description(), None);
    assert_eq!(Minimal::config_help(), None);
    assert_eq!(Minimal::magic_config_key(), None);
    assert_eq!(take_events(), vec![]);
}

#[test]
fn debug_macro_goes_to_host_debug() {
    let _host = fake_host::install();
    crate::debug!("hello {} {:?}", 42, "x");
    crate::debug!("no arguments");
    crate::debug!("a NUL \0 is dropped");
    assert_eq!(
        take_events(),
        vec![
            Event::Debug("hello 42 \"x\"".into()),
            Event::Debug("no arguments".into()),
            Event::Debug("a NUL  is dropped".into()),
        ]
    );
}
