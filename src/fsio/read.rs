//! Bounded reads of regular files.

use crate::error::{Error, Result};
use std::fs::{File, Metadata};
use std::io::Read;
use std::path::Path;

/// What a loader expects to read: a name for messages and a size no real file of the kind
/// comes close to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileKind {
    /// "result file", "fleet file", …: used in "is this a …?".
    pub noun: &'static str,
    /// Files larger than this are refused before they are read.
    pub max_bytes: u64,
}

/// Result files: a sweep of a few hundred cases with their samples is a few megabytes.
pub const RESULT_FILE: FileKind = FileKind {
    noun: "result file",
    max_bytes: 256 * 1024 * 1024,
};
/// Fleet files are written by hand; the largest scenario is a few kilobytes. One mebibyte
/// holds some 18,000 entries and projects in under 100 MB of memory; the 16 MiB allowed before
/// took 1.4 GB for the TOML parse and the tables, for a file no fleet needs.
pub const FLEET_FILE: FileKind = FileKind {
    noun: "fleet file",
    max_bytes: 1024 * 1024,
};
/// Ratios files hold one row per device.
pub const RATIOS_FILE: FileKind = FileKind {
    noun: "ratios file",
    max_bytes: 64 * 1024 * 1024,
};
/// Epoch AI's ml_hardware.csv is about a hundred kilobytes.
pub const EPOCH_CSV: FileKind = FileKind {
    noun: "Epoch ml_hardware.csv",
    max_bytes: 64 * 1024 * 1024,
};
/// The tuning cache holds one record per adapter, driver and dtype.
pub const TUNING_CACHE: FileKind = FileKind {
    noun: "tuning cache",
    max_bytes: 64 * 1024 * 1024,
};

/// Reads all of `path`, which must be a regular file of at most `kind.max_bytes`.
///
/// The type is checked with `stat` before opening (opening a FIFO for reading blocks until a
/// writer appears), checked again on the opened handle (the name may have been swapped in
/// between), and the read itself stops one byte past the limit, so a file that grows while it
/// is read cannot grow memory either.
pub fn read_bounded(path: &Path, kind: FileKind) -> Result<Vec<u8>> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    check_regular(path, &meta, kind)?;
    check_size(path, meta.len(), kind)?;
    let file = open_without_blocking(path)?;
    let opened = file.metadata().map_err(|e| Error::io(path, e))?;
    check_regular(path, &opened, kind)?;
    let mut bytes = Vec::with_capacity(opened.len().min(kind.max_bytes) as usize);
    file.take(kind.max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    check_size(path, bytes.len() as u64, kind)?;
    Ok(bytes)
}

/// [`read_bounded`], then UTF-8: every text format the tool reads is UTF-8.
pub fn read_text(path: &Path, kind: FileKind) -> Result<String> {
    let bytes = read_bounded(path, kind)?;
    String::from_utf8(bytes)
        .map_err(|e| Error::parse(path, format!("not UTF-8 text ({})", e.utf8_error())))
}

fn check_regular(path: &Path, meta: &Metadata, kind: FileKind) -> Result<()> {
    if meta.is_file() {
        return Ok(());
    }
    let what = file_type_name(meta);
    let message = if meta.is_dir() {
        format!("is a directory, not a file (expected a {})", kind.noun)
    } else {
        format!("is {what}, not a regular file (expected a {})", kind.noun)
    };
    Err(Error::parse(path, message))
}

fn check_size(path: &Path, len: u64, kind: FileKind) -> Result<()> {
    if len <= kind.max_bytes {
        return Ok(());
    }
    Err(Error::parse(
        path,
        format!(
            "larger than the {}-byte limit; is this a {}?",
            kind.max_bytes, kind.noun
        ),
    ))
}

/// What kind of file system object `meta` describes, with its article, for messages.
pub fn file_type_name(meta: &Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if meta.is_dir() {
        "a directory"
    } else if meta.is_symlink() {
        "a symbolic link"
    } else if meta.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
}

/// Opens for reading with `O_NONBLOCK` where there is one: should a FIFO have replaced the file
/// since it was checked, the open returns at once and the second type check refuses it.
fn open_without_blocking(path: &Path) -> Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    options.open(path).map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: FileKind = FileKind {
        noun: "test file",
        max_bytes: 8,
    };

    #[test]
    fn reads_a_small_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a");
        std::fs::write(&path, b"12345678").unwrap();
        assert_eq!(read_bounded(&path, SMALL).unwrap(), b"12345678");
    }

    #[test]
    fn refuses_a_file_over_the_limit_and_asks_what_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a");
        std::fs::write(&path, b"123456789").unwrap();
        let e = read_bounded(&path, SMALL).unwrap_err().to_string();
        assert!(
            e.contains("larger than the 8-byte limit; is this a test file?"),
            "{e}"
        );
    }

    #[test]
    fn refuses_a_directory() {
        let dir = tempfile::tempdir().unwrap();
        let e = read_bounded(dir.path(), SMALL).unwrap_err().to_string();
        assert!(e.contains("is a directory"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn refuses_dev_zero_without_reading_it() {
        let e = read_bounded(Path::new("/dev/zero"), SMALL)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("is a character device, not a regular file"),
            "{e}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn refuses_a_fifo_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pipe");
        let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let e = read_bounded(&path, SMALL).unwrap_err().to_string();
        assert!(e.contains("is a named pipe (FIFO)"), "{e}");
    }

    #[test]
    fn text_must_be_utf8() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a");
        std::fs::write(&path, [0xff, 0xfe]).unwrap();
        let e = read_text(&path, SMALL).unwrap_err().to_string();
        assert!(e.contains("not UTF-8"), "{e}");
    }
}
