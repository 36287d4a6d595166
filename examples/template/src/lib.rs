// SPDX-License-Identifier: BSD-2-Clause
//! template: a RAM disk of `size=SIZE` bytes, shared by every
//! connection.  A starting point for a new plugin (see README.md).
//!
//! ```text
//! cargo build --release
//! nbdkit rust ./target/release/libtemplate.so size=1M
//! ```

use std::sync::{Mutex, PoisonError, RwLock};

use nbdkit::*;

/// The `size=` parameter, set by `config`.  A plugin's global state
/// lives in statics: nbdkit runs one plugin per process.
static SIZE: Mutex<Option<u64>> = Mutex::new(None);

/// The disk, made by `config_complete`; every connection shares it.
static DISK: RwLock<Vec<u8>> = RwLock::new(Vec::new());

/// One connection.  Put per-connection state here; it is dropped when
/// the client disconnects (implement `Drop` to release resources).
struct Template;

impl Server for Template {
    fn name() -> &'static str {
        "template"
    }

    fn config_help() -> Option<&'static str> {
        Some("size=<SIZE>  (required) Size of the RAM disk.")
    }

    fn config(key: &str, value: &str) -> Result<()> {
        match key {
            "size" => {
                let size = parse_size(value)? as u64;
                *SIZE.lock().unwrap_or_else(PoisonError::into_inner) = Some(size);
                Ok(())
            }
            _ => Err(Error::new(
                errno::EINVAL,
                format!("template: unknown parameter '{}'", key),
            )),
        }
    }

    fn config_complete() -> Result<()> {
        let size = SIZE
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .ok_or_else(|| Error::new(errno::EINVAL, "template: size=SIZE is required"))?;
        let size = usize::try_from(size)
            .map_err(|_| Error::new(errno::EINVAL, "template: size is too big"))?;
        *DISK.write().unwrap_or_else(PoisonError::into_inner) = vec![0; size];
        debug!("template: {} bytes", size);
        Ok(())
    }

    fn unload() {
        // Start from nothing when a test binary loads the plugin again.
        *SIZE.lock().unwrap_or_else(PoisonError::into_inner) = None;
        *DISK.write().unwrap_or_else(PoisonError::into_inner) = Vec::new();
    }

    fn open(_readonly: bool) -> Result<Box<dyn Server>> {
        Ok(Box::new(Template))
    }

    fn get_size(&self) -> Result<i64> {
        Ok(DISK.read().unwrap_or_else(PoisonError::into_inner).len() as i64)
    }

    // nbdkit checks that requests lie inside the disk before it calls
    // read_at and write_at.

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<()> {
        let disk = DISK.read().unwrap_or_else(PoisonError::into_inner);
        let start = offset as usize;
        buf.copy_from_slice(&disk[start..start + buf.len()]);
        Ok(())
    }

    fn write_at(&self, buf: &[u8], offset: u64, _flags: Flags) -> Result<()> {
        let mut disk = DISK.write().unwrap_or_else(PoisonError::into_inner);
        let start = offset as usize;
        disk[start..start + buf.len()].copy_from_slice(buf);
        Ok(())
    }
}

// Every optional method implemented above must be listed here; nbdkit
// uses its own defaults for the others.
plugin!(Template {
    config_help,
    config,
    config_complete,
    unload,
    write_at
});

#[cfg(test)]
mod tests {
    use super::*;
    use nbdkit::testing::Harness;

    #[test]
    fn reads_back_what_was_written() -> Result<()> {
        let t = Harness::<Template>::new();
        t.config("size", "1M")?;
        let c = t.open(false)?;
        assert_eq!(c.get_size()?, 1 << 20);
        c.pwrite(b"hello", 1000, Flags::empty())?;
        let mut buf = [0u8; 5];
        c.pread(&mut buf, 1000)?;
        assert_eq!(&buf, b"hello");
        assert!(t.errors().is_empty());
        Ok(())
    }

    #[test]
    fn size_is_required() {
        let t = Harness::<Template>::new();
        let e = t.open(false).unwrap_err();
        assert_eq!(e.errno(), errno::EINVAL);
        assert_eq!(t.errors(), vec!["template: size=SIZE is required"]);
    }
}
