// SPDX-License-Identifier: BSD-2-Clause
//! The client's address, decoded from the `struct sockaddr` nbdkit fills
//! in into standard library types.
//!
//! The SDK uses the standard library only (no `libc` crate), so the few
//! Linux socket address layouts needed are decoded here by hand:
//! `sockaddr_in` (family, port, address), `sockaddr_in6` (family, port,
//! flow info, address, scope id) and `sockaddr_un` (family, path).

use std::ffi::OsStr;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use crate::errno::EIO;
use crate::ffi::sockaddr;
use crate::{Error, Result};

/// Linux `AF_UNIX`.
const AF_UNIX: u16 = 1;
/// Linux `AF_INET`.
const AF_INET: u16 = 2;
/// Linux `AF_INET6`.
const AF_INET6: u16 = 10;

/// The address of the client, returned by [`peername`](crate::peername).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeerName {
    /// A TCP/IP client (`AF_INET` or `AF_INET6`), with its address and
    /// port.
    Inet(SocketAddr),
    /// A Unix domain socket client (`AF_UNIX`).  The path is the
    /// client's own socket address, which is almost always unnamed:
    /// `None` for an unnamed socket and for an address in the Linux
    /// abstract namespace.
    Unix(Option<PathBuf>),
    /// Another address family (for example `AF_VSOCK`, 40 on Linux),
    /// given as its `AF_*` number.
    Other(i32),
}

/// A buffer the size and alignment of `struct sockaddr_storage` for
/// nbdkit_peer_name to fill in.
#[repr(C, align(8))]
pub(crate) struct SockaddrBuf([u8; 128]);

impl SockaddrBuf {
    pub(crate) fn new() -> SockaddrBuf {
        SockaddrBuf([0; 128])
    }

    pub(crate) fn capacity(&self) -> usize {
        self.0.len()
    }

    pub(crate) fn as_mut_ptr(&mut self) -> *mut sockaddr {
        self.0.as_mut_ptr().cast::<sockaddr>()
    }

    /// Decode the first `len` bytes (what nbdkit said it wrote).
    pub(crate) fn decode(&self, len: usize) -> Result<PeerName> {
        decode(&self.0[..len.min(self.0.len())])
    }
}

/// Decode a Linux socket address given as its bytes.
pub(crate) fn decode(addr: &[u8]) -> Result<PeerName> {
    let too_short = || {
        Error::new(
            EIO,
            format!("peer address too short ({} bytes)", addr.len()),
        )
    };
    if addr.len() < 2 {
        return Err(too_short());
    }
    let family = u16::from_ne_bytes([addr[0], addr[1]]);
    match family {
        AF_INET => {
            if addr.len() < 8 {
                return Err(too_short());
            }
            let port = u16::from_be_bytes([addr[2], addr[3]]);
            let ip = Ipv4Addr::new(addr[4], addr[5], addr[6], addr[7]);
            Ok(PeerName::Inet(SocketAddr::V4(SocketAddrV4::new(ip, port))))
        }
        AF_INET6 => {
            if addr.len() < 28 {
                return Err(too_short());
            }
            let port = u16::from_be_bytes([addr[2], addr[3]]);
            // Like the standard library's own conversion, the flow info
            // is passed on as stored, and the scope id is in host order.
            let flowinfo = u32::from_ne_bytes([addr[4], addr[5], addr[6], addr[7]]);
            let mut octets = [0u8; 16];
            octets.copy_from_slice(&addr[8..24]);
            let scope_id = u32::from_ne_bytes([addr[24], addr[25], addr[26], addr[27]]);
            let ip = Ipv6Addr::from(octets);
            Ok(PeerName::Inet(SocketAddr::V6(SocketAddrV6::new(
                ip, port, flowinfo, scope_id,
            ))))
        }
        AF_UNIX => {
            let path = &addr[2..];
            // The length may or may not count a terminating NUL.
            let path = match path.iter().position(|&b| b == 0) {
                Some(0) => &path[..0],
                Some(nul) => &path[..nul],
                None => path,
            };
            if path.is_empty() {
                Ok(PeerName::Unix(None))
            } else {
                Ok(PeerName::Unix(Some(PathBuf::from(OsStr::from_bytes(path)))))
            }
        }
        other => Ok(PeerName::Other(i32::from(other))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn family(f: u16) -> Vec<u8> {
        f.to_ne_bytes().to_vec()
    }

    #[test]
    fn inet4() {
        let mut a = family(AF_INET);
        a.extend_from_slice(&10809u16.to_be_bytes());
        a.extend_from_slice(&[192, 168, 1, 7]);
        a.extend_from_slice(&[0; 8]);
        assert_eq!(
            decode(&a).unwrap(),
            PeerName::Inet("192.168.1.7:10809".parse().unwrap())
        );
    }

    #[test]
    fn inet6() {
        let mut a = family(AF_INET6);
        a.extend_from_slice(&10809u16.to_be_bytes());
        a.extend_from_slice(&0u32.to_ne_bytes());
        a.extend_from_slice(&Ipv6Addr::LOCALHOST.octets());
        a.extend_from_slice(&3u32.to_ne_bytes());
        let want = SocketAddrV6::new(Ipv6Addr::LOCALHOST, 10809, 0, 3);
        assert_eq!(decode(&a).unwrap(), PeerName::Inet(SocketAddr::V6(want)));
    }

    #[test]
    fn unix_unnamed_named_and_abstract() {
        assert_eq!(decode(&family(AF_UNIX)).unwrap(), PeerName::Unix(None));
        let mut named = family(AF_UNIX);
        named.extend_from_slice(b"/tmp/sock\0");
        assert_eq!(
            decode(&named).unwrap(),
            PeerName::Unix(Some(PathBuf::from("/tmp/sock")))
        );
        let mut abstract_ = family(AF_UNIX);
        abstract_.extend_from_slice(b"\0hidden");
        assert_eq!(decode(&abstract_).unwrap(), PeerName::Unix(None));
    }

    #[test]
    fn other_family_and_short_addresses() {
        let mut vsock = family(40);
        vsock.extend_from_slice(&[0; 14]);
        assert_eq!(decode(&vsock).unwrap(), PeerName::Other(40));
        assert_eq!(decode(&[1]).unwrap_err().errno(), EIO);
        assert!(decode(&family(AF_INET)).is_err());
        assert!(decode(&family(AF_INET6)).is_err());
    }
}
