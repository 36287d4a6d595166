// SPDX-License-Identifier: BSD-2-Clause
//! The error type every [`Server`](crate::Server) method returns.

use std::{error, fmt, io};

use crate::errno::EIO;

/// The error type used by [`Result`]: a message for nbdkit's log and the
/// errno the client receives.
///
/// When a [`Server`](crate::Server) method returns `Err(e)`, the SDK logs
/// `e`'s [`Display`](fmt::Display) text with `nbdkit_error` and hands
/// [`e.errno()`](Error::errno) to `nbdkit_set_error` (`EIO` if that is 0).
///
/// An error returned by one of nbdkit's services that logs its own
/// failures ([`parse_size`](crate::parse_size) and the other parsers,
/// [`read_password`](crate::read_password),
/// [`realpath`](crate::realpath), ...) has been logged already: when a
/// method returns it as is (`parse_size(value)?`), the SDK only hands
/// nbdkit its errno, so that the failure is logged once.
///
/// An `Error` is one pointer wide, so that `Result<()>` and the other
/// small results of the data path come back in a register: what failed
/// lives behind a box, allocated only when something fails.
pub struct Error {
    inner: Box<Inner>,
}

/// What an [`Error`] carries.
#[derive(Debug)]
struct Inner {
    source: Box<dyn error::Error + 'static>,
    errno: i32,
    /// nbdkit has logged this failure already (see [`Error::logged`]).
    logged: bool,
}

impl Error {
    /// Create a new Error with a supplied errno.
    ///
    /// `error` is anything that converts into a boxed error, including a
    /// `&str` or a `String`.
    ///
    /// # Examples
    /// ```
    /// # use nbdkit::{errno, Error};
    /// let e = Error::new(errno::EINVAL, "Invalid value for option foo");
    /// assert_eq!(e.errno(), errno::EINVAL);
    /// assert_eq!(e.to_string(), "Invalid value for option foo");
    /// ```
    pub fn new<E>(errno: i32, error: E) -> Error
    where
        E: Into<Box<dyn error::Error + 'static>>,
    {
        Error {
            inner: Box::new(Inner {
                source: error.into(),
                errno,
                logged: false,
            }),
        }
    }

    /// An error about a failure that nbdkit has logged already (a host
    /// service that logs its own failures, such as nbdkit_parse_size):
    /// a callback returning it only sets its errno.
    pub(crate) fn logged<E>(errno: i32, error: E) -> Error
    where
        E: Into<Box<dyn error::Error + 'static>>,
    {
        let mut e = Error::new(errno, error);
        e.inner.logged = true;
        e
    }

    /// Whether nbdkit has logged this failure already.
    pub(crate) fn is_logged(&self) -> bool {
        self.inner.logged
    }

    /// The errno the client receives for this error (see the
    /// [`errno`](crate::errno) module).  0 means "unspecified"; the SDK
    /// sends `EIO` then.
    pub fn errno(&self) -> i32 {
        self.inner.errno
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.debug_struct("Error")
            .field("source", &self.inner.source)
            .field("errno", &self.inner.errno)
            .finish()
    }
}

impl error::Error for Error {
    fn source(&self) -> Option<&(dyn error::Error + 'static)> {
        Some(&*self.inner.source)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        self.inner.source.fmt(f)
    }
}

/// The errno is the OS error code the `io::Error` carries, or `EIO` for
/// an `io::Error` that does not come from the OS (e.g. `UnexpectedEof`).
impl From<io::Error> for Error {
    fn from(e: io::Error) -> Error {
        Error::new(e.raw_os_error().unwrap_or(EIO), e)
    }
}

/// The Result type returned by all [`Server`](crate::Server) callbacks.
pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errno::{ENOENT, ENOSPC};

    #[test]
    fn new_keeps_errno_and_message() {
        let e = Error::new(ENOSPC, format!("disk {} is full", 3));
        assert_eq!(e.errno(), ENOSPC);
        assert_eq!(e.to_string(), "disk 3 is full");
        assert!(error::Error::source(&e).is_some());
    }

    #[test]
    fn results_of_the_data_path_fit_in_registers() {
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
        assert_eq!(
            std::mem::size_of::<Result<()>>(),
            std::mem::size_of::<usize>()
        );
    }

    #[test]
    fn only_the_host_services_make_logged_errors() {
        assert!(!Error::new(ENOSPC, "full").is_logged());
        let e = Error::logged(ENOSPC, "nbdkit said why");
        assert!(e.is_logged());
        assert_eq!(e.errno(), ENOSPC);
        assert_eq!(e.to_string(), "nbdkit said why");
        // Wrapping it in a new error (to add context) logs that.
        assert!(!Error::new(ENOSPC, e).is_logged());
        let io: Error = io::Error::from_raw_os_error(ENOENT).into();
        assert!(!io.is_logged());
    }

    #[test]
    fn debug_shows_message_and_errno() {
        let e = Error::new(ENOSPC, "full");
        assert_eq!(
            format!("{:?}", e),
            format!("Error {{ source: \"full\", errno: {} }}", ENOSPC)
        );
    }

    #[test]
    fn io_error_with_os_code_keeps_it() {
        let e: Error = io::Error::from_raw_os_error(ENOENT).into();
        assert_eq!(e.errno(), ENOENT);
    }

    #[test]
    fn io_error_without_os_code_is_eio() {
        let e: Error = io::Error::new(io::ErrorKind::UnexpectedEof, "short read").into();
        assert_eq!(e.errno(), EIO);
        assert_eq!(e.to_string(), "short read");
    }
}
