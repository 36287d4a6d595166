// SPDX-License-Identifier: BSD-2-Clause
//! filedisk: serve a file (or a block device) as the disk.
//!
//! ```text
//! cargo build --release -p filedisk
//! nbdkit rust ./target/release/libfiledisk.so file=disk.img
//! nbdkit rust ./target/release/libfiledisk.so disk.img      # file is the magic key
//! nbdkit -r rust ./target/release/libfiledisk.so disk.img   # read-only
//! ```
//!
//! The point of this example is per-connection state and `Drop`: every
//! connection opens the file for itself in `open` (read-only when nbdkit
//! runs with `-r`, or when the file cannot be opened for writing), serves
//! reads and writes with positioned I/O on its own descriptor, and closes
//! it when nbdkit drops the connection: the `Drop` implementation logs
//! `filedisk: closing PATH` (visible with `nbdkit -v`), and dropping the
//! `File` closes the descriptor.  The Rust SDK has no `close` method;
//! `Drop` is how a plugin releases per-connection resources.
//!
//! Flush is `fdatasync`, which also makes FUA work (nbdkit emulates it
//! with a flush); zeroing writes zeroes; the size is the file's (or the
//! device's) size when the connection opens.
//!
//! Parameters:
//!
//! * `file=PATH` (required): the file to serve.  A relative path is
//!   resolved when nbdkit starts, as nbdkit changes directory to `/` when
//!   it runs in the background.

use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use nbdkit::*;

/// The `file=` parameter, made absolute, set by `config`.
static FILE: Mutex<Option<PathBuf>> = Mutex::new(None);

/// Zeroes to write for zero requests, a chunk at a time.
static ZEROES: [u8; 64 * 1024] = [0; 64 * 1024];

/// One connection: its own open file.
struct FileDisk {
    file: File,
    path: PathBuf,
    writable: bool,
}

/// An I/O error as a plugin error naming the file: the errno is the OS
/// error's (EIO for a short read).
fn io_error(path: &Path, what: &str, e: std::io::Error) -> Error {
    Error::new(
        e.raw_os_error().unwrap_or(errno::EIO),
        format!("filedisk: {}: {}: {}", path.display(), what, e),
    )
}

impl FileDisk {
    fn sync(&self) -> Result<()> {
        self.file
            .sync_data()
            .map_err(|e| io_error(&self.path, "fdatasync", e))
    }
}

impl Drop for FileDisk {
    fn drop(&mut self) {
        // `self.file` is closed right after this, when its own Drop runs.
        debug!("filedisk: closing {}", self.path.display());
    }
}

impl Server for FileDisk {
    fn name() -> &'static str {
        "filedisk"
    }

    fn longname() -> Option<&'static str> {
        Some("nbdkit file plugin example (Rust)")
    }

    fn version() -> Option<&'static str> {
        Some(env!("CARGO_PKG_VERSION"))
    }

    fn description() -> Option<&'static str> {
        Some("Serves a file or block device; each connection opens it for itself.")
    }

    fn config_help() -> Option<&'static str> {
        Some("file=<PATH>  (required) The file or block device to serve.")
    }

    fn magic_config_key() -> Option<&'static str> {
        Some("file")
    }

    fn config(key: &str, value: &str) -> Result<()> {
        match key {
            "file" => {
                // nbdkit_realpath: absolute, and checks that it exists.
                let path = realpath(value)?;
                *FILE.lock().unwrap_or_else(PoisonError::into_inner) = Some(path);
                Ok(())
            }
            _ => Err(Error::new(
                errno::EINVAL,
                format!("filedisk: unknown parameter '{}' (try file=PATH)", key),
            )),
        }
    }

    fn config_complete() -> Result<()> {
        match &*FILE.lock().unwrap_or_else(PoisonError::into_inner) {
            Some(_) => Ok(()),
            None => Err(Error::new(
                errno::EINVAL,
                "filedisk: the file=PATH parameter is required",
            )),
        }
    }

    fn thread_model() -> Result<ThreadModel> {
        // Positioned reads and writes on a shared descriptor are safe in
        // parallel.
        Ok(ThreadModel::Parallel)
    }

    fn open(readonly: bool) -> Result<Box<dyn Server>> {
        let path = FILE
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or_else(|| Error::new(errno::EIO, "filedisk: no file configured"))?;
        let read_write = if readonly {
            None
        } else {
            match OpenOptions::new().read(true).write(true).open(&path) {
                Ok(file) => Some(file),
                Err(e) => {
                    // Like nbdkit's file plugin: serve it read-only.
                    debug!("filedisk: {}: opening read-only: {}", path.display(), e);
                    None
                }
            }
        };
        let (file, writable) = match read_write {
            Some(file) => (file, true),
            None => (
                File::open(&path).map_err(|e| io_error(&path, "open", e))?,
                false,
            ),
        };
        debug!(
            "filedisk: opened {} (writable: {})",
            path.display(),
            writable
        );
        Ok(Box::new(FileDisk {
            file,
            path,
            writable,
        }))
    }

    fn get_size(&self) -> Result<i64> {
        // Seeking to the end also works for block devices, whose
        // metadata says 0.
        let size = (&self.file)
            .seek(SeekFrom::End(0))
            .map_err(|e| io_error(&self.path, "seek", e))?;
        Ok(size as i64)
    }

    fn can_write(&self) -> Result<bool> {
        Ok(self.writable)
    }

    fn can_multi_conn(&self) -> Result<bool> {
        // fdatasync on any descriptor flushes the file for all of them.
        Ok(true)
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<()> {
        self.file
            .read_exact_at(buf, offset)
            .map_err(|e| io_error(&self.path, "read", e))
    }

    fn write_at(&self, buf: &[u8], offset: u64, flags: Flags) -> Result<()> {
        self.file
            .write_all_at(buf, offset)
            .map_err(|e| io_error(&self.path, "write", e))?;
        if flags.contains(Flags::FUA) {
            self.sync()?;
        }
        Ok(())
    }

    fn flush(&self) -> Result<()> {
        self.sync()
    }

    fn zero(&self, count: u32, offset: u64, flags: Flags) -> Result<()> {
        if flags.contains(Flags::FAST_ZERO) {
            // Writing zeroes is no faster than the client doing it.
            return Err(Error::new(
                errno::EOPNOTSUPP,
                "filedisk: zeroing is not faster than writing",
            ));
        }
        let mut done = 0u64;
        let count = u64::from(count);
        while done < count {
            let len = (count - done).min(ZEROES.len() as u64) as usize;
            self.file
                .write_all_at(&ZEROES[..len], offset + done)
                .map_err(|e| io_error(&self.path, "write zeroes", e))?;
            done += len as u64;
        }
        if flags.contains(Flags::FUA) {
            self.sync()?;
        }
        Ok(())
    }
}

plugin!(FileDisk {
    config,
    config_complete,
    thread_model,
    can_write,
    can_multi_conn,
    write_at,
    flush,
    zero,
});

#[cfg(test)]
mod tests {
    use super::*;

    /// A connection to a fresh temporary file of `size` bytes.
    fn temp_disk(name: &str, size: u64) -> FileDisk {
        let path = std::env::temp_dir().join(format!("filedisk-{}-{}", std::process::id(), name));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .unwrap();
        file.set_len(size).unwrap();
        std::fs::remove_file(&path).unwrap();
        FileDisk {
            file,
            path,
            writable: true,
        }
    }

    #[test]
    fn write_read_zero_and_size() {
        let d = temp_disk("rw", 200_000);
        assert_eq!(d.get_size().unwrap(), 200_000);
        let data = vec![0x5au8; 150_000];
        d.write_at(&data, 10, Flags::FUA).unwrap();
        d.zero(100_000, 20, Flags::MAY_TRIM).unwrap();
        d.flush().unwrap();
        let mut back = vec![1u8; 150_010];
        d.read_at(&mut back, 0).unwrap();
        assert!(back[..10].iter().all(|&b| b == 0));
        assert!(back[10..20].iter().all(|&b| b == 0x5a));
        assert!(back[20..100_020].iter().all(|&b| b == 0));
        assert!(back[100_020..].iter().all(|&b| b == 0x5a));
    }

    #[test]
    fn fast_zero_is_refused_and_short_reads_fail() {
        let d = temp_disk("fz", 1000);
        let e = d.zero(10, 0, Flags::FAST_ZERO).unwrap_err();
        assert_eq!(e.errno(), errno::EOPNOTSUPP);
        let mut buf = [0u8; 10];
        assert_eq!(d.read_at(&mut buf, 995).unwrap_err().errno(), errno::EIO);
    }

    #[test]
    fn each_connection_closes_its_file_when_dropped() -> Result<()> {
        use nbdkit::testing::Harness;

        let path = std::env::temp_dir().join(format!("filedisk-{}-drop", std::process::id()));
        std::fs::write(&path, vec![0x11u8; 4096]).unwrap();
        let t = Harness::<FileDisk>::new();
        t.config("file", path.to_str().unwrap())?;
        let path = std::fs::canonicalize(&path).unwrap();
        let closing = format!("filedisk: closing {}", path.display());
        let rw = t.open(false)?;
        let ro = t.open(true)?;
        assert!(rw.can_write()? && !ro.can_write()?);
        rw.pwrite(b"data", 0, Flags::empty())?;
        let mut buf = [0u8; 4];
        ro.pread(&mut buf, 0)?;
        assert_eq!(&buf, b"data");
        let closed = || t.debug_messages().iter().filter(|m| **m == closing).count();
        assert_eq!(closed(), 0);
        drop(rw);
        assert_eq!(closed(), 1);
        ro.close()?;
        assert_eq!(closed(), 2);
        assert!(t.errors().is_empty());
        std::fs::remove_file(&path).unwrap();
        Ok(())
    }
}
