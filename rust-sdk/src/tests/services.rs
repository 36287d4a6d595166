// SPDX-License-Identifier: BSD-2-Clause
//! The safe host-service functions, against the fake nbdkit of
//! `nbdkit::testing`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::fake_host::{self, take_events, take_freed, Event};
use super::plugins::Minimal;
use crate::descriptor::Builder;
use crate::errno::{EINVAL, EIO, ENOTSUP, ESHUTDOWN};
use crate::ffi::nbdkit_rust_host;
use crate::host::lookup_in;
use crate::layout::field_end;
use crate::testing::Harness;
use crate::PeerName;

fn minimal() -> Harness<Minimal> {
    Harness::with_descriptor(Builder::<Minimal>::new().build().unwrap())
}

/// A scratch directory of this test process.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "nbdkit-rust-services-{}-{}",
        std::process::id(),
        name
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

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
    let t = minimal();
    assert_eq!(crate::nbdkit_version(), Some("1.32.5"));
    assert_eq!(crate::export_name().unwrap(), "");
    assert!(!crate::is_tls().unwrap());
    t.set_export_name("disk1");
    t.set_tls(true);
    assert_eq!(crate::export_name().unwrap(), "disk1");
    assert!(crate::is_tls().unwrap());
    // Safe while configuring, as in nbdkit; not once configured.
    assert!(crate::is_stdio_safe());
    t.config_complete().unwrap();
    assert!(!crate::is_stdio_safe());
}

#[test]
fn peer_functions() {
    let t = minimal();
    // By default: an unnamed Unix socket of this process.
    assert_eq!(crate::peername().unwrap(), PeerName::Unix(None));
    assert_eq!(crate::peer_pid().unwrap(), i64::from(std::process::id()));
    t.set_peer_credentials(4242, 1000, 100);
    assert_eq!(crate::peer_pid().unwrap(), 4242);
    assert_eq!(crate::peer_uid().unwrap(), 1000);
    assert_eq!(crate::peer_gid().unwrap(), 100);
    // A TCP client has no credentials: nbdkit logs why.
    t.set_peer(PeerName::Inet("127.0.0.1:10809".parse().unwrap()));
    assert_eq!(
        crate::peername().unwrap(),
        PeerName::Inet("127.0.0.1:10809".parse().unwrap())
    );
    let e = crate::peer_gid().unwrap_err();
    assert_eq!(e.errno(), EIO);
    assert_eq!(e.to_string(), "nbdkit_peer_gid failed");
    assert_eq!(
        t.errors(),
        vec!["nbdkit_peer_gid: not supported on this socket"]
    );
}

#[test]
fn shutdown_disconnect_and_nanosleep() {
    let t = minimal();
    crate::nanosleep(Duration::from_millis(1)).unwrap();
    crate::disconnect(true);
    crate::disconnect(false);
    assert!(!t.shutdown_requested());
    crate::shutdown();
    assert!(t.shutdown_requested());
    // Once shut down, nanosleep returns at once.
    let start = Instant::now();
    let e = crate::nanosleep(Duration::from_secs(999)).unwrap_err();
    assert_eq!(e.errno(), ESHUTDOWN);
    assert!(start.elapsed() < Duration::from_secs(60));
    let e = crate::nanosleep(Duration::from_secs(u64::from(u32::MAX) + 1)).unwrap_err();
    assert_eq!(e.errno(), EINVAL);
    assert_eq!(
        t.events(),
        vec![
            Event::Disconnect(true),
            Event::Disconnect(false),
            Event::Shutdown,
        ]
    );
}

#[test]
fn parsers() {
    let t = minimal();
    assert_eq!(crate::parse_size("2M").unwrap(), 2 << 20);
    assert_eq!(crate::parse_size("4s").unwrap(), 2048);
    let e = crate::parse_size("lots").unwrap_err();
    assert_eq!(e.errno(), EINVAL);
    assert!(e.to_string().contains("\"lots\""));
    assert_eq!(t.errors(), vec!["could not parse size string: lots"]);
    assert!(crate::parse_bool("yes").unwrap());
    assert!(crate::parse_bool("TRUE").unwrap());
    assert!(!crate::parse_bool("off").unwrap());
    assert_eq!(crate::parse_bool("maybe").unwrap_err().errno(), EINVAL);
    assert_eq!(crate::parse_probability("p", "10%").unwrap(), 0.1);
    assert_eq!(crate::parse_probability("p", "1:4").unwrap(), 0.25);
    assert_eq!(
        crate::parse_probability("p", "x").unwrap_err().errno(),
        EINVAL
    );
    assert_eq!(crate::parse_int("n", "-7").unwrap(), -7);
    assert_eq!(crate::parse_int("n", "0x10").unwrap(), 16);
    assert_eq!(crate::parse_unsigned("n", "7").unwrap(), 7);
    assert_eq!(
        crate::parse_unsigned("n", "-7").unwrap_err().errno(),
        EINVAL
    );
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
    t.clear_events();
    let e = crate::parse_u8("count", "256").unwrap_err();
    assert_eq!(e.errno(), EINVAL);
    assert!(e.to_string().starts_with("count: "), "{}", e);
    assert_eq!(t.errors(), vec!["count: out of range"]);
    // A NUL byte cannot be passed to C.
    assert_eq!(crate::parse_size("1\0").unwrap_err().errno(), EINVAL);
    assert_eq!(crate::parse_int("n\0", "1").unwrap_err().errno(), EINVAL);
}

#[test]
fn read_password_copies_wipes_and_frees() {
    let _t = minimal();
    assert_eq!(crate::read_password("secret").unwrap(), "secret");
    // The C copy was wiped before it was freed.
    assert_eq!(take_freed(), vec![Vec::<u8>::new()]);
    let dir = scratch("password");
    std::fs::write(dir.join("pw"), "from a file\n").unwrap();
    std::fs::write(dir.join("latin1"), [0xe9]).unwrap();
    let file = format!("+{}", dir.join("pw").display());
    assert_eq!(crate::read_password(&file).unwrap(), "from a file");
    take_freed();
    // A prompt cannot work in a test: nbdkit's error.
    assert_eq!(crate::read_password("-").unwrap_err().errno(), EINVAL);
    // Not UTF-8: refused, and still wiped and freed.
    let latin1 = format!("+{}", dir.join("latin1").display());
    assert_eq!(crate::read_password(&latin1).unwrap_err().errno(), EINVAL);
    assert_eq!(take_freed(), vec![Vec::<u8>::new()]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn realpath_and_absolute_path() {
    let _t = minimal();
    let dir = scratch("paths");
    std::fs::write(dir.join("disk.img"), b"").unwrap();
    let real = std::fs::canonicalize(dir.join("disk.img")).unwrap();
    assert_eq!(crate::realpath(dir.join("./disk.img")).unwrap(), real);
    assert_eq!(
        take_freed(),
        vec![real.as_os_str().to_str().unwrap().as_bytes().to_vec()]
    );
    let e = crate::realpath(dir.join("missing")).unwrap_err();
    assert_eq!(e.errno(), EINVAL);
    assert_eq!(
        crate::absolute_path("a/b").unwrap(),
        std::env::current_dir().unwrap().join("a/b")
    );
    assert_eq!(crate::absolute_path("/x").unwrap(), PathBuf::from("/x"));
    assert_eq!(crate::absolute_path("").unwrap_err().errno(), EINVAL);
    take_events();
    std::fs::remove_dir_all(dir).unwrap();
}
