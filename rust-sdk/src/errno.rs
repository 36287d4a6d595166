// SPDX-License-Identifier: BSD-2-Clause
//! Linux errno values, for [`Error::new`](crate::Error::new).
//!
//! They spare a simple plugin a dependency: the SDK itself uses the
//! standard library only, so that it builds anywhere, offline.  A plugin
//! may as well take them from the `libc` crate (the numbers are the
//! same), from crates.io or, offline, from the distribution's registry
//! (on Debian, `librust-libc-dev` and a `.cargo/config.toml` naming
//! `/usr/share/cargo/registry`: see README.md, "Using other crates").
//! The values are Linux's (`<asm-generic/errno-base.h>` and
//! `<asm-generic/errno.h>`, used by x86, x86-64, ARM, AArch64, RISC-V,
//! s390x and PowerPC); the SDK's tests compare each of them with the C
//! library's `<errno.h>`.
//!
//! nbdkit maps the errno a callback fails with to an NBD error for the
//! client: `EROFS` and `EPERM` become `NBD_EPERM`, `EIO` `NBD_EIO`,
//! `ENOMEM` `NBD_ENOMEM`, `EINVAL` `NBD_EINVAL`, `ENOSPC`/`EFBIG`/`EDQUOT`
//! `NBD_ENOSPC`, `ENOTSUP`/`EOPNOTSUPP` `NBD_ENOTSUP`, `ESHUTDOWN`
//! `NBD_ESHUTDOWN`, `EOVERFLOW` `NBD_EOVERFLOW` (only for a read with the
//! "don't fragment" flag) and anything else `NBD_EINVAL`.

/// Operation not permitted.
pub const EPERM: i32 = 1;
/// No such file or directory.
pub const ENOENT: i32 = 2;
/// Interrupted system call.
pub const EINTR: i32 = 4;
/// Input/output error: the SDK's default when nothing better is known.
pub const EIO: i32 = 5;
/// No such device or address.
pub const ENXIO: i32 = 6;
/// Bad file descriptor.
pub const EBADF: i32 = 9;
/// Resource temporarily unavailable.
pub const EAGAIN: i32 = 11;
/// Cannot allocate memory.
pub const ENOMEM: i32 = 12;
/// Permission denied.
pub const EACCES: i32 = 13;
/// Bad address.
pub const EFAULT: i32 = 14;
/// Device or resource busy.
pub const EBUSY: i32 = 16;
/// File exists.
pub const EEXIST: i32 = 17;
/// No such device.
pub const ENODEV: i32 = 19;
/// Not a directory.
pub const ENOTDIR: i32 = 20;
/// Is a directory.
pub const EISDIR: i32 = 21;
/// Invalid argument.
pub const EINVAL: i32 = 22;
/// Too many open files.
pub const EMFILE: i32 = 24;
/// File too large.
pub const EFBIG: i32 = 27;
/// No space left on device.
pub const ENOSPC: i32 = 28;
/// Illegal seek.
pub const ESPIPE: i32 = 29;
/// Read-only file system.
pub const EROFS: i32 = 30;
/// Numerical result out of range.
pub const ERANGE: i32 = 34;
/// Function not implemented.
pub const ENOSYS: i32 = 38;
/// No data available.
pub const ENODATA: i32 = 61;
/// Value too large for defined data type.
pub const EOVERFLOW: i32 = 75;
/// Operation not supported (the same value as [`ENOTSUP`] on Linux).
pub const EOPNOTSUPP: i32 = 95;
/// Operation not supported (the same value as [`EOPNOTSUPP`] on Linux).
pub const ENOTSUP: i32 = EOPNOTSUPP;
/// Cannot send after transport endpoint shutdown.
pub const ESHUTDOWN: i32 = 108;
/// Connection timed out.
pub const ETIMEDOUT: i32 = 110;
/// Connection refused.
pub const ECONNREFUSED: i32 = 111;
/// Disk quota exceeded.
pub const EDQUOT: i32 = 122;
/// Operation canceled.
pub const ECANCELED: i32 = 125;
