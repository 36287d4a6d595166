// SPDX-License-Identifier: BSD-2-Clause
//! `plugin_init`, the entry point nbdkit calls when it loads a plugin
//! itself (`nbdkit ./libfoo.so`), in a process without nbdkit: the
//! struct it returns serves the plugin, and every nbdkit service it
//! looks up by name is missing here, so each fails with ENOTSUP (the
//! ones nbdkit 1.32 lacks, parse_probability, still works).
//!
//! Its own test binary: plugin_init installs its host table for the
//! whole process.  With a real nbdkit, tests/direct.bats and the
//! `-direct` bats suites drive the same code.

use std::ffi::CStr;
use std::os::raw::c_void;
use std::ptr;

use nbdkit::__private::nbdkit_plugin;
use nbdkit::*;

struct Disk;

impl Server for Disk {
    fn name() -> &'static str {
        "direct_test"
    }

    fn open(_readonly: bool) -> Result<Box<dyn Server>> {
        Ok(Box::new(Disk))
    }

    fn get_size(&self) -> Result<i64> {
        Ok(4096)
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<()> {
        if offset >= 4096 {
            return Err(Error::new(errno::EINVAL, "out of range"));
        }
        buf.fill(0x5a);
        Ok(())
    }

    fn config(key: &str, _value: &str) -> Result<()> {
        Err(Error::new(errno::EINVAL, format!("unknown {}", key)))
    }
}

plugin!(Disk { config });

extern "C" {
    // Defined by the plugin! above.
    fn plugin_init() -> *mut nbdkit_plugin;
}

#[test]
fn plugin_init_serves_the_plugin_without_nbdkit_services() {
    // SAFETY: called once from this thread before any other uses it, as
    // nbdkit would.
    let p = unsafe { plugin_init() };
    assert!(!p.is_null());
    // SAFETY: a second call returns the same struct.
    assert_eq!(unsafe { plugin_init() }, p);
    // SAFETY: plugin_init returns a valid, never freed struct.
    let p = unsafe { &*p };
    assert_eq!(p._api_version, 2);
    assert_eq!(p._thread_model, 3);
    // SAFETY: the name is a NUL-terminated string that lives as long.
    let name = unsafe { CStr::from_ptr(p.name) };
    assert_eq!(name.to_str().unwrap(), "direct-test");
    assert!(p.config.is_some());
    assert!(p.pwrite.is_none());
    assert!(p.can_write.is_none());
    assert!(p.thread_model.is_none());

    // A connection through nbdkit's struct.
    // SAFETY: the callbacks, called as nbdkit calls them: open's handle
    // goes to the others, then to close once.
    unsafe {
        let h: *mut c_void = p.open.unwrap()(0);
        assert!(!h.is_null());
        assert_eq!(p.get_size.unwrap()(h), 4096);
        let mut buf = [0u8; 16];
        assert_eq!(p.pread.unwrap()(h, buf.as_mut_ptr().cast(), 16, 0, 0), 0);
        assert_eq!(buf, [0x5a; 16]);
        // An error: its message would go to nbdkit_error.
        assert_eq!(
            p.pread.unwrap()(h, buf.as_mut_ptr().cast(), 16, 8192, 0),
            -1
        );
        p.close.unwrap()(h);
    }

    // The services: none of nbdkit's here, so each fails with ENOTSUP,
    // saying why.
    assert_eq!(nbdkit_version(), None);
    let e = parse_size("1M").unwrap_err();
    assert_eq!(e.errno(), errno::ENOTSUP);
    assert!(
        e.to_string()
            .contains("the running nbdkit lacks nbdkit_parse_size"),
        "{}",
        e
    );
    assert_eq!(is_tls().unwrap_err().errno(), errno::ENOTSUP);
    assert_eq!(realpath("/").unwrap_err().errno(), errno::ENOTSUP);
    assert!(export_name().is_err());
    assert!(!is_stdio_safe());
    disconnect(false);
    shutdown();
    debug!("goes nowhere");
    // Except parse_probability: nbdkit 1.32 lacks it, so the SDK has it.
    assert_eq!(parse_probability("p", "1:4").unwrap(), 0.25);
    assert_eq!(parse_probability("p", "25%").unwrap(), 0.25);
    assert_eq!(
        parse_probability("p", "1:0").unwrap_err().errno(),
        errno::EINVAL
    );

    // Never read: the struct's strings and callbacks are still there.
    assert!(!ptr::eq(p.name, ptr::null()));
}
