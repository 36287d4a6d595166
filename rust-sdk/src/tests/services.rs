//! The safe host-service functions, against the fake host.

use std::path::PathBuf;
use std::time::Duration;

use super::fake_host::{self, take_events, Event};
use crate::errno::{EINVAL, EIO, ENOTSUP, ESHUTDOWN};
use crate::ffi::nbdkit_rust_host;
use crate::host::lookup_in;
use crate::layout::field_end;
use crate::PeerName;

#[test]
fn a_field_beyond_struct_size_is_enotsup() {
    let mut table = fake_host::table();
    let end = field_end!(nbdkit_rust_host, free);
    table.struct_size = end as u64 - 1;
    let e = lookup_in(&table, "free", end, |h| h.free).err().unwrap();
    assert_eq!(e.errno(), ENOTSUP);
    assert!(e.to_string().contains("free is not available"), "{}", e);
    table.struct_size = end as u64;
    assert!(lookup_in(&table, "free", end, |h| h.free).is_ok());
    table.free = None;
    let e = lookup_in(&table, "free", end, |h| h.free).err().unwrap();
    assert_eq!(e.errno(), ENOTSUP);
    assert!(e.to_string().contains("NULL"), "{}", e);
}

#[test]
fn version_export_name_tls_stdio() {
    fake_host::install();
    assert_eq!(crate::nbdkit_version(), Some("1.32.5"));
    assert_eq!(crate::export_name().unwrap(), "fake-export");
    assert!(crate::is_tls().unwrap());
    assert!(crate::is_stdio_safe());
}

#[test]
fn peer_functions() {
    fake_host::install();
    assert_eq!(
        crate::peername().unwrap(),
        PeerName::Inet("127.0.0.1:10809".parse().unwrap())
    );
    assert_eq!(crate::peer_pid().unwrap(), 4242);
    assert_eq!(crate::peer_uid().unwrap(), 1000);
    let e = crate::peer_gid().unwrap_err();
    assert_eq!(e.errno(), EIO);
    assert_eq!(e.to_string(), "nbdkit_peer_gid failed");
}

#[test]
fn shutdown_disconnect_and_nanosleep() {
    fake_host::install();
    crate::shutdown();
    crate::disconnect(true);
    crate::disconnect(false);
    crate::nanosleep(Duration::new(1, 500)).unwrap();
    let e = crate::nanosleep(Duration::from_secs(999)).unwrap_err();
    assert_eq!(e.errno(), ESHUTDOWN);
    let e = crate::nanosleep(Duration::from_secs(u64::from(u32::MAX) + 1)).unwrap_err();
    assert_eq!(e.errno(), EINVAL);
    assert_eq!(
        take_events(),
        vec![
            Event::Shutdown,
            Event::Disconnect(true),
            Event::Disconnect(false),
            Event::Nanosleep(1, 500),
            Event::Nanosleep(999, 0),
        ]
    );
}

#[test]
fn parsers() {
    fake_host::install();
    assert_eq!(crate::parse_size("2M").unwrap(), 2 << 20);
    let e = crate::parse_size("lots").unwrap_err();
    assert_eq!(e.errno(), EINVAL);
    assert!(e.to_string().contains("\"lots\""));
    assert!(crate::parse_bool("yes").unwrap());
    assert!(!crate::parse_bool("off").unwrap());
    assert_eq!(crate::parse_bool("maybe").unwrap_err().errno(), EINVAL);
    assert_eq!(crate::parse_probability("p", "10%").unwrap(), 0.1);
    assert_eq!(
        crate::parse_probability("p", "x").unwrap_err().errno(),
        EINVAL
    );
    assert_eq!(crate::parse_int("n", "-7").unwrap(), -7);
    assert_eq!(crate::parse_unsigned("n", "7").unwrap(), 7);
    assert_eq!(crate::parse_i8("n", "-128").unwrap(), -128);
    assert_eq!(crate::parse_u8("n", "255").unwrap(), 255);
    assert_eq!(crate::parse_i16("n", "-300").unwrap(), -300);
    assert_eq!(crate::parse_u16("n", "65535").unwrap(), 65535);
    assert_eq!(crate::parse_i32("n", "-70000").unwrap(), -70000);
    assert_eq!(crate::parse_u32("n", "4000000000").unwrap(), 4_000_000_000);
    assert_eq!(
        crate::parse_i64("n", "-5000000000").unwrap(),
        -5_000_000_000
    );
    assert_eq!(
        crate::parse_u64("n", "18446744073709551615").unwrap(),
        u64::MAX
    );
    let e = crate::parse_u8("count", "256").unwrap_err();
    assert_eq!(e.errno(), EINVAL);
    assert!(e.to_string().starts_with("count: "), "{}", e);
    // A NUL byte cannot be passed to C.
    assert_eq!(crate::parse_size("1\0").unwrap_err().errno(), EINVAL);
    assert_eq!(crate::parse_int("n\0", "1").unwrap_err().errno(), EINVAL);
    take_events();
}

#[test]
fn read_password_copies_and_frees() {
    fake_host::install();
    assert_eq!(crate::read_password("secret").unwrap(), "secret");
    // The C copy was wiped before it was freed.
    assert_eq!(take_events(), vec![Event::Free(String::new())]);
    assert_eq!(crate::read_password("-99").unwrap_err().errno(), EINVAL);
    assert_eq!(crate::read_password("+latin1").unwrap_err().errno(), EINVAL);
    assert_eq!(take_events(), vec![Event::Free(String::new())]);
}

#[test]
fn realpath_and_absolute_path() {
    fake_host::install();
    assert_eq!(
        crate::realpath("./disk.img").unwrap(),
        PathBuf::from("/real/disk.img")
    );
    assert_eq!(take_events(), vec![Event::Free("/real/disk.img".into())]);
    let e = crate::realpath(PathBuf::from("missing")).unwrap_err();
    assert_eq!(e.errno(), EINVAL);
    assert_eq!(
        crate::absolute_path("a/b").unwrap(),
        PathBuf::from("/cwd/a/b")
    );
    assert_eq!(crate::absolute_path("/x").unwrap(), PathBuf::from("/x"));
    take_events();
}
