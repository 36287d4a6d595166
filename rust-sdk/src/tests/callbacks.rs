//! The glue, driven through descriptors' function pointers as the loader
//! drives it, against the fake host.

use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int};
use std::ptr;

use super::fake_host::{self, take_errors, take_events, Event, ExportsList, ExtentList};
use super::plugins::{drops, full_descriptor, take_calls, Conn, Full, Minimal, PanicOnDrop};
use crate::descriptor::Builder;
use crate::errno::{EINVAL, EIO, ENOSPC, ENOTSUP, EPERM};
use crate::ffi::{nbdkit_exports, nbdkit_extents, nbdkit_rust_plugin};

fn cstr(p: *const c_char) -> String {
    assert!(!p.is_null());
    // SAFETY: the descriptor strings and interned strings are
    // NUL-terminated and live for the test.
    unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_owned()
}

/// Asserts that the last failure logged exactly one message containing
/// `text` and set errno `errno`.
fn assert_failed(text: &str, errno: i32) {
    let (messages, errnos) = take_errors();
    assert_eq!(messages.len(), 1, "messages: {:?}", messages);
    assert!(
        messages[0].contains(text),
        "{:?} does not contain {:?}",
        messages[0],
        text
    );
    assert_eq!(errnos, vec![errno]);
}

#[test]
fn descriptor_strings_versions_and_sizes() {
    let d = full_descriptor();
    let p = d.raw();
    assert_eq!(p.abi_major, 1);
    assert_eq!(p.abi_minor, 0);
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

/// Every callback field of a descriptor, by name.
fn callbacks(p: &nbdkit_rust_plugin) -> Vec<(&'static str, bool)> {
    vec![
        ("load", p.load.is_some()),
        ("unload", p.unload.is_some()),
        ("config", p.config.is_some()),
        ("config_complete", p.config_complete.is_some()),
        ("dump_plugin", p.dump_plugin.is_some()),
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
    ]
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
fn bad_plugin_names_are_refused() {
    struct Named;
    impl crate::Server for Named {
        fn name() -> &'static str {
            "bad name"
        }
        fn open(_: bool) -> crate::Result<Box<dyn crate::Server>> {
            Ok(Box::new(Named))
        }
        fn get_size(&self) -> crate::Result<i64> {
            Ok(0)
        }
        fn read_at(&self, _: &mut [u8], _: u64) -> crate::Result<()> {
            Ok(())
        }
    }
    let e = Builder::<Named>::new().build().err().unwrap();
    assert_eq!(e.errno(), EINVAL);
    assert!(e.to_string().contains("bad name"));
}

#[test]
fn config_reaches_the_method() {
    fake_host::install();
    let d = full_descriptor();
    let config = d.raw().config.unwrap();
    let (k, v) = (CString::new("size").unwrap(), CString::new("1M").unwrap());
    // SAFETY: NUL-terminated strings, as nbdkit passes them.
    assert_eq!(unsafe { config(k.as_ptr(), v.as_ptr()) }, 0);
    assert_eq!(take_calls(), vec!["config size=1M"]);
    assert_eq!(take_events(), vec![]);
}

#[test]
fn config_error_gives_its_errno_and_message() {
    fake_host::install();
    let d = full_descriptor();
    let config = d.raw().config.unwrap();
    let (k, v) = (CString::new("fail").unwrap(), CString::new("why").unwrap());
    // SAFETY: NUL-terminated strings, as nbdkit passes them.
    assert_eq!(unsafe { config(k.as_ptr(), v.as_ptr()) }, -1);
    let (messages, errnos) = take_errors();
    assert_eq!(messages, vec!["config failed: why"]);
    assert_eq!(errnos, vec![ENOSPC]);
}

#[test]
fn config_panic_becomes_eio_and_a_message() {
    fake_host::install();
    let d = full_descriptor();
    let config = d.raw().config.unwrap();
    let (k, v) = (CString::new("panic").unwrap(), CString::new("now").unwrap());
    // SAFETY: NUL-terminated strings, as nbdkit passes them.
    assert_eq!(unsafe { config(k.as_ptr(), v.as_ptr()) }, -1);
    let (messages, errnos) = take_errors();
    assert_eq!(messages, vec!["config: panic: config panicked: now"]);
    assert_eq!(errnos, vec![EIO]);
}

#[test]
fn a_panicking_display_does_not_unwind_either() {
    fake_host::install();
    let d = full_descriptor();
    let config = d.raw().config.unwrap();
    let (k, v) = (CString::new("nofmt").unwrap(), CString::new("x").unwrap());
    // SAFETY: NUL-terminated strings, as nbdkit passes them.
    assert_eq!(unsafe { config(k.as_ptr(), v.as_ptr()) }, -1);
    let (messages, errnos) = take_errors();
    assert_eq!(messages, vec!["config: panic: Display panicked"]);
    assert_eq!(errnos, vec![EIO]);
}

#[test]
fn non_utf8_config_is_einval_and_not_passed_on() {
    fake_host::install();
    let d = full_descriptor();
    let config = d.raw().config.unwrap();
    let good = CString::new("size").unwrap();
    let bad = CString::new(vec![b'a', 0xff, b'b']).unwrap();
    // SAFETY: NUL-terminated strings, as nbdkit passes them.
    assert_eq!(unsafe { config(good.as_ptr(), bad.as_ptr()) }, -1);
    assert_failed("config: the value of size is not valid UTF-8", EINVAL);
    // SAFETY: as above.
    assert_eq!(unsafe { config(bad.as_ptr(), good.as_ptr()) }, -1);
    assert_failed("config: a key is not valid UTF-8", EINVAL);
    // SAFETY: a NULL key is refused before use.
    assert_eq!(unsafe { config(ptr::null(), good.as_ptr()) }, -1);
    assert_failed("config: a key is NULL", EINVAL);
    assert_eq!(take_calls(), Vec::<String>::new());
}

#[test]
fn lifecycle_callbacks_reach_the_methods() {
    fake_host::install();
    let d = full_descriptor();
    let p = d.raw();
    // SAFETY: these callbacks take no arguments.
    unsafe {
        p.load.unwrap()();
        assert_eq!(p.config_complete.unwrap()(), 0);
        p.dump_plugin.unwrap()();
        assert_eq!(p.get_ready.unwrap()(), 0);
        assert_eq!(p.thread_model.unwrap()(), 2);
        p.unload.unwrap()();
    }
    assert_eq!(
        take_calls(),
        vec![
            "load",
            "config_complete",
            "dump_plugin",
            "get_ready",
            "unload"
        ]
    );
    assert_eq!(take_events(), vec![]);
}

#[test]
fn an_error_without_errno_sends_eio() {
    fake_host::install();
    let d = full_descriptor();
    // SAFETY: after_fork takes no arguments.
    assert_eq!(unsafe { d.raw().after_fork.unwrap()() }, -1);
    let (messages, errnos) = take_errors();
    assert_eq!(messages, vec!["after_fork failed without an errno"]);
    assert_eq!(errnos, vec![EIO]);
}

#[test]
fn a_panic_in_a_void_callback_is_caught() {
    fake_host::install();
    let d = full_descriptor();
    // SAFETY: cleanup takes no arguments.
    unsafe { d.raw().cleanup.unwrap()() };
    assert_failed("cleanup: panic: cleanup panicked", EIO);
}

#[test]
fn preconnect_passes_readonly_and_its_error() {
    fake_host::install();
    let d = full_descriptor();
    let preconnect = d.raw().preconnect.unwrap();
    // SAFETY: preconnect takes a plain integer.
    assert_eq!(unsafe { preconnect(0) }, 0);
    // SAFETY: as above.
    assert_eq!(unsafe { preconnect(1) }, -1);
    assert_failed("preconnect: go away", EPERM);
}

#[test]
fn open_and_close_drop_the_connection_exactly_once() {
    fake_host::install();
    let d = full_descriptor();
    let before = drops();
    let conn = Conn::open(&d, false);
    assert_eq!(take_calls(), vec!["open readonly=false"]);
    assert_eq!(drops(), before);
    conn.close();
    assert_eq!(drops(), before + 1);
    assert_eq!(take_calls(), vec!["drop"]);
    // SAFETY: close(NULL) is ignored.
    unsafe { d.raw().close.unwrap()(ptr::null_mut()) };
    assert_eq!(drops(), before + 1);
    assert_eq!(take_events(), vec![]);
}

#[test]
fn a_panic_in_drop_at_close_is_caught() {
    fake_host::install();
    let d = Builder::<PanicOnDrop>::new().build().unwrap();
    let conn = Conn::open(&d, false);
    conn.close();
    assert_eq!(take_calls(), vec!["PanicOnDrop dropped"]);
    assert_failed("close: panic: drop panicked", EIO);
}

#[test]
fn a_panic_in_open_returns_null() {
    fake_host::install();
    let d = Builder::<PanicOnDrop>::new().build().unwrap();
    // SAFETY: open takes a plain integer.
    let h = unsafe { d.raw().open.unwrap()(1) };
    assert!(h.is_null());
    assert_failed("open: panic: open panicked", EIO);
}

#[test]
fn get_size_and_a_negative_size() {
    fake_host::install();
    let d = full_descriptor();
    let get_size = d.raw().get_size.unwrap();
    let rw = Conn::open(&d, false);
    let ro = Conn::open(&d, true);
    // SAFETY: live handles from open.
    unsafe {
        assert_eq!(get_size(rw.h), 1 << 20);
        assert_eq!(get_size(ro.h), -1);
    }
    assert_failed("negative size -5", EINVAL);
    rw.close();
    ro.close();
}

#[test]
fn can_callbacks_answer_0_1_or_the_enum() {
    fake_host::install();
    let d = full_descriptor();
    let p = d.raw();
    let rw = Conn::open(&d, false);
    let ro = Conn::open(&d, true);
    // SAFETY: live handles from open.
    unsafe {
        assert_eq!(p.can_write.unwrap()(rw.h), 1);
        assert_eq!(p.can_write.unwrap()(ro.h), 0);
        assert_eq!(p.can_flush.unwrap()(rw.h), 1);
        assert_eq!(p.is_rotational.unwrap()(rw.h), 0);
        assert_eq!(p.can_trim.unwrap()(rw.h), 1);
        assert_eq!(p.can_zero.unwrap()(rw.h), 1);
        assert_eq!(p.can_multi_conn.unwrap()(rw.h), 1);
        assert_eq!(p.can_fua.unwrap()(rw.h), 2);
        assert_eq!(p.can_cache.unwrap()(rw.h), 1);
    }
    assert_eq!(take_events(), vec![]);
    // SAFETY: as above.
    assert_eq!(unsafe { p.can_fast_zero.unwrap()(rw.h) }, -1);
    assert_failed("can_fast_zero failed", EPERM);
    // SAFETY: as above.
    assert_eq!(unsafe { p.can_extents.unwrap()(rw.h) }, -1);
    assert_failed("can_extents: panic: can_extents panicked", EIO);
    rw.close();
    ro.close();
}

fn pread(d: &crate::descriptor::Descriptor, conn: &Conn, buf: &mut [u8], offset: u64) -> c_int {
    // SAFETY: a live handle and a buffer of buf.len() bytes.
    unsafe { d.raw().pread.unwrap()(conn.h, buf.as_mut_ptr().cast(), buf.len() as u32, offset, 0) }
}

#[test]
fn pread_reaches_read_at() {
    fake_host::install();
    let d = full_descriptor();
    let conn = Conn::open(&d, false);
    take_calls();
    let mut buf = [0u8; 16];
    assert_eq!(pread(&d, &conn, &mut buf, 7), 0);
    assert_eq!(buf, [7u8; 16]);
    assert_eq!(take_calls(), vec!["read_at len=16 offset=7"]);
    assert_eq!(pread(&d, &conn, &mut [], 9), 0);
    assert_eq!(take_calls(), vec!["read_at len=0 offset=9"]);
    assert_eq!(take_events(), vec![]);
    conn.close();
}

#[test]
fn pread_errors_and_panics() {
    fake_host::install();
    let d = full_descriptor();
    let conn = Conn::open(&d, false);
    let mut buf = [0u8; 16];
    assert_eq!(pread(&d, &conn, &mut buf, 1), -1);
    assert_failed("read_at: no space", ENOSPC);
    assert_eq!(pread(&d, &conn, &mut buf, 2), -1);
    assert_failed("pread: panic: read_at panicked at offset 2", EIO);
    assert_eq!(pread(&d, &conn, &mut buf, 3), -1);
    assert_failed("read_at: no errno", EIO);
    assert_eq!(pread(&d, &conn, &mut buf, 4), -1);
    assert_failed("io failure", EIO);
    // The server keeps going after a panic.
    assert_eq!(pread(&d, &conn, &mut buf, 5), 0);
    assert_eq!(buf, [5u8; 16]);
    conn.close();
}

#[test]
fn pwrite_passes_data_and_flags_and_drops_unknown_bits() {
    fake_host::install();
    let d = full_descriptor();
    let conn = Conn::open(&d, false);
    take_calls();
    let pwrite = d.raw().pwrite.unwrap();
    let data = b"hello";
    // SAFETY: a live handle and a buffer of 5 bytes.
    unsafe {
        assert_eq!(pwrite(conn.h, data.as_ptr().cast(), 5, 512, 2), 0);
        assert_eq!(
            pwrite(conn.h, data.as_ptr().cast(), 5, 0, 0xffff_fff0 | 2),
            0
        );
        assert_eq!(pwrite(conn.h, data.as_ptr().cast(), 0, 0, 0), 0);
    }
    assert_eq!(
        take_calls(),
        vec![
            "write_at \"hello\" offset=512 flags=FUA",
            "write_at \"hello\" offset=0 flags=FUA",
            "write_at \"\" offset=0 flags=(empty)",
        ]
    );
    assert_eq!(take_events(), vec![]);
    conn.close();
}

#[test]
fn trim_zero_flush_and_cache_pass_their_arguments() {
    fake_host::install();
    let d = full_descriptor();
    let p = d.raw();
    let conn = Conn::open(&d, false);
    take_calls();
    // SAFETY: a live handle.
    unsafe {
        assert_eq!(p.trim.unwrap()(conn.h, 4096, 8192, 2), 0);
        assert_eq!(p.zero.unwrap()(conn.h, 100, 200, 1 | 2), 0);
        assert_eq!(p.flush.unwrap()(conn.h, 0), 0);
        assert_eq!(p.cache.unwrap()(conn.h, 10, 20, 0), 0);
    }
    assert_eq!(
        take_calls(),
        vec![
            "trim count=4096 offset=8192 flags=FUA",
            "zero count=100 offset=200 flags=MAY_TRIM | FUA",
            "flush",
            "cache count=10 offset=20",
        ]
    );
    // SAFETY: as above.
    assert_eq!(unsafe { p.zero.unwrap()(conn.h, 100, 200, 8) }, -1);
    assert_failed("zero: no fast zero", ENOTSUP);
    conn.close();
}

fn extents(
    d: &crate::descriptor::Descriptor,
    conn: &Conn,
    count: u32,
    flags: u32,
) -> (c_int, ExtentList) {
    let mut list: ExtentList = Vec::new();
    let ptr = (&mut list as *mut ExtentList).cast::<nbdkit_extents>();
    // SAFETY: a live handle; the fake host takes the extents pointer to
    // be an ExtentList.
    let r = unsafe { d.raw().extents.unwrap()(conn.h, count, 1 << 16, flags, ptr) };
    (r, list)
}

#[test]
fn extents_are_reported_through_the_handle() {
    fake_host::install();
    let d = full_descriptor();
    let conn = Conn::open(&d, false);
    assert_eq!(
        extents(&d, &conn, 65536, 0),
        (0, vec![(65536, 4096, 0), (69632, 61440, 3)])
    );
    assert_eq!(extents(&d, &conn, 65536, 4), (0, vec![(65536, 4096, 0)]));
    assert_eq!(take_events(), vec![]);
    // The fake host refuses a zero-length extent: an EINVAL error.
    let (r, _) = extents(&d, &conn, 8192, 0);
    assert_eq!(r, -1);
    let (messages, errnos) = take_errors();
    assert_eq!(messages.len(), 2);
    assert!(messages[1].contains("could not add the extent at offset 73728 length 0"));
    assert_eq!(errnos, vec![EINVAL]);
    conn.close();
}

#[test]
fn list_exports_adds_through_the_list() {
    fake_host::install();
    let d = full_descriptor();
    let mut list: ExportsList = Vec::new();
    let ptr = (&mut list as *mut ExportsList).cast::<nbdkit_exports>();
    // SAFETY: the fake host takes the exports pointer to be an
    // ExportsList.
    assert_eq!(unsafe { d.raw().list_exports.unwrap()(1, 0, ptr) }, 0);
    assert_eq!(
        list,
        vec![
            ("a".to_string(), Some("readonly=true tls=false".to_string())),
            ("b".to_string(), None),
            ("<default>".to_string(), None),
        ]
    );
}

#[test]
fn list_exports_default_is_the_default_export() {
    fake_host::install();
    let mut list: ExportsList = Vec::new();
    let ptr = (&mut list as *mut ExportsList).cast::<nbdkit_exports>();
    let mut exports = crate::ExportList::new(ptr);
    <Minimal as crate::Server>::list_exports(false, false, &mut exports).unwrap();
    assert_eq!(list, vec![("<default>".to_string(), None)]);
}

#[test]
fn default_export_is_interned() {
    fake_host::install();
    let d = full_descriptor();
    // SAFETY: default_export takes plain integers.
    let p = unsafe { d.raw().default_export.unwrap()(0, 0) };
    assert_eq!(cstr(p), "a");
    assert_eq!(take_events(), vec![Event::Intern("a".into(), p as usize)]);
    // A NUL in the name cannot go to C: EINVAL, NULL.
    // SAFETY: as above.
    let p = unsafe { d.raw().default_export.unwrap()(0, 1) };
    assert!(p.is_null());
    assert_failed("default_export: \"bad\\0name\" contains a NUL byte", EINVAL);
}

#[test]
fn export_description_is_interned_and_block_size_written() {
    fake_host::install();
    let d = full_descriptor();
    let p = d.raw();
    let conn = Conn::open(&d, true);
    take_calls();
    // SAFETY: a live handle.
    let s = unsafe { p.export_description.unwrap()(conn.h) };
    assert_eq!(cstr(s), "full disk, readonly=true");
    assert_eq!(
        take_events(),
        vec![Event::Intern("full disk, readonly=true".into(), s as usize)]
    );
    let (mut min, mut pref, mut max) = (0u32, 0u32, 0u32);
    let block_size = p.block_size.unwrap();
    // SAFETY: a live handle and three u32 slots.
    let r = unsafe { block_size(conn.h, &mut min, &mut pref, &mut max) };
    assert_eq!(r, 0);
    assert_eq!((min, pref, max), (512, 4096, 0xffff_ffff));
    conn.close();
}

#[test]
fn provided_defaults_answer_like_nbdkit() {
    use crate::{CacheFlags, Flags, FuaFlags, Server, ThreadModel};
    fake_host::install();
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
    fake_host::install();
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
