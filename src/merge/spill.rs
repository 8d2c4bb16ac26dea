//! The merge's temporary files: what a fleet's units contribute is appended to binary files in
//! a private temporary directory as the files are read, and read back in passes when the report
//! is made and printed, so the merge's memory does not grow with the number of units.
//!
//! Three files, each written once from start to end and then only read:
//! - `units`: one record per merged unit, in the order the units were merged: its group, its
//!   index in the group, the number of case records that follow it in `stats`, and its names
//!   (host, device index, run id, file path);
//! - `stats`: 32 bytes per unit and case: the case's column (a group's case), the unit's index
//!   in its group, its sample count, median and the upper end of that median's interval; the
//!   records of one unit follow each other, units in the order of `units`;
//! - `scores`: 32 bytes per unit, written when the report is made, in the same order.
//!
//! The directory is removed when the last owner (the [`super::Merger`], then the report that
//! reads its rows) is dropped, on success and on error alike. A merge that is killed (SIGKILL,
//! the out-of-memory killer, a batch scheduler past its grace period) cannot remove it, and at
//! a fleet's size it holds gigabytes: so each directory holds a file locked for as long as its
//! merge lives (the operating system drops the lock when the process dies, however it dies),
//! and a new merge removes every merge directory beside its own whose lock it can take. A
//! write that fails (a full or unwritable temporary directory) is an error naming the file and
//! saying what to do.

use crate::error::{Error, Result};
use std::fs::File;
use std::io::{BufReader, BufWriter, ErrorKind, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The temporary directory and the paths of its files.
#[derive(Debug)]
pub(super) struct SpillDir {
    /// Locked while this merge lives (declared first, so it is closed before the directory is
    /// removed).
    _owner: File,
    dir: tempfile::TempDir,
}

/// What the merge directories' names start with.
const PREFIX: &str = ".fleetbench-merge-";
/// The file whose lock says the directory's merge is alive.
const OWNER: &str = "owner.lock";
/// The owner file before it is locked and renamed into place.
const STARTING: &str = "owner.starting";

/// Which of the spill's files.
#[derive(Debug, Clone, Copy)]
pub(super) enum SpillFile {
    Units,
    Stats,
    Scores,
}

impl SpillDir {
    /// A new private directory under the system's temporary directory (`TMPDIR`), after
    /// removing those that merges killed before they could clean up left there.
    pub(super) fn new() -> Result<Self> {
        Self::new_in(&std::env::temp_dir())
    }

    /// A new private directory under `root`, after removing the dead merges' ones there.
    pub(super) fn new_in(root: &Path) -> Result<Self> {
        remove_abandoned(root);
        let dir = tempfile::Builder::new()
            .prefix(PREFIX)
            .tempdir_in(root)
            .map_err(|e| {
                let cause = without_path(e);
                let cause = std::io::Error::new(
                    cause.kind(),
                    format!("cannot make merge's temporary directory here: {cause}"),
                );
                with_hint(root, cause)
            })?;
        let owner = lock_owner(dir.path())?;
        Ok(SpillDir { _owner: owner, dir })
    }

    /// The path of one of the files.
    pub(super) fn path(&self, file: SpillFile) -> PathBuf {
        self.dir.path().join(match file {
            SpillFile::Units => "units.bin",
            SpillFile::Stats => "stats.bin",
            SpillFile::Scores => "scores.bin",
        })
    }

    /// A buffered writer that creates the file.
    pub(super) fn create(&self, file: SpillFile) -> Result<SpillWriter> {
        let path = self.path(file);
        let handle = File::create(&path).map_err(|e| spill_error(&path, e))?;
        Ok(SpillWriter {
            out: BufWriter::with_capacity(64 * 1024, handle),
            path,
            written: 0,
        })
    }

    /// A buffered reader from the file's start, or from `offset`.
    pub(super) fn open(&self, file: SpillFile, offset: u64) -> Result<SpillReader> {
        let path = self.path(file);
        let mut handle = File::open(&path).map_err(|e| spill_error(&path, e))?;
        if offset > 0 {
            handle
                .seek(SeekFrom::Start(offset))
                .map_err(|e| spill_error(&path, e))?;
        }
        Ok(SpillReader {
            input: BufReader::with_capacity(64 * 1024, handle),
            path,
            position: offset,
        })
    }
}

/// Creates the directory's owner file and locks it. The file is locked under a name sweepers
/// do not look at and then renamed (the lock stays with the file), so a sweeper never takes
/// the lock of a directory whose merge is only starting.
fn lock_owner(dir: &Path) -> Result<File> {
    let starting = dir.join(STARTING);
    let owner = File::create(&starting).map_err(|e| spill_error(&starting, e))?;
    owner.try_lock().map_err(|e| {
        spill_error(
            &starting,
            std::io::Error::other(format!("cannot lock it: {e}")),
        )
    })?;
    let path = dir.join(OWNER);
    std::fs::rename(&starting, &path).map_err(|e| spill_error(&path, e))?;
    Ok(owner)
}

/// Removes the merge directories under `root` whose merge is gone: their owner file can be
/// locked, or their merge died before it renamed its owner file into place (a file left
/// `owner.starting` for longer than [`STARTING_AT_MOST`] that can be locked). Best effort: a
/// directory that cannot be read, locked or removed is left as it is, and the merge goes on
/// (its own directory is what it needs).
fn remove_abandoned(root: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let is_merge = name.to_str().is_some_and(|n| n.starts_with(PREFIX));
        if is_merge && entry.file_type().is_ok_and(|t| t.is_dir()) && abandoned(&entry.path()) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// How long a live merge takes at most between creating its owner file and renaming it into
/// place (microseconds in practice; a stopped or swapped-out process gets the rest).
const STARTING_AT_MOST: std::time::Duration = std::time::Duration::from_secs(60);

/// Whether the merge of directory `dir` is gone. A directory with neither owner file is one
/// being made, or an older fleetbench's: kept.
fn abandoned(dir: &Path) -> bool {
    if let Ok(owner) = File::open(dir.join(OWNER)) {
        return owner.try_lock().is_ok(); // the file is closed before the directory goes
    }
    let Ok(starting) = File::open(dir.join(STARTING)) else {
        return false;
    };
    let age = starting.metadata().and_then(|m| m.modified()).ok();
    let old = age
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|a| a > STARTING_AT_MOST);
    old && starting.try_lock().is_ok()
}

/// tempfile's error with the path it appends (`… at path "…"`) cut off: the message names
/// the directory itself.
fn without_path(cause: std::io::Error) -> std::io::Error {
    let text = cause.to_string();
    match text.split_once(" at path \"") {
        Some((os, _)) => std::io::Error::new(cause.kind(), os.to_string()),
        None => cause,
    }
}

/// An I/O error of a spill file, in one line that says what the file is and, where the
/// temporary directory is at fault (full, read-only, missing), what to do.
pub(super) fn spill_error(path: &Path, cause: std::io::Error) -> Error {
    let kind = cause.kind();
    with_hint(
        path,
        std::io::Error::new(kind, format!("merge's temporary file: {cause}")),
    )
}

/// The error with what to do added where the temporary directory is at fault.
fn with_hint(path: &Path, cause: std::io::Error) -> Error {
    let hint = match cause.kind() {
        ErrorKind::StorageFull
        | ErrorKind::QuotaExceeded
        | ErrorKind::FileTooLarge
        | ErrorKind::PermissionDenied
        | ErrorKind::ReadOnlyFilesystem
        | ErrorKind::NotFound => " (set TMPDIR to a writable directory with room)",
        _ => "",
    };
    Error::Io {
        path: path.to_path_buf(),
        cause: std::io::Error::new(cause.kind(), format!("{cause}{hint}")),
    }
}

/// Appends little-endian records to one spill file.
pub(super) struct SpillWriter {
    out: BufWriter<File>,
    path: PathBuf,
    written: u64,
}

impl SpillWriter {
    /// Bytes written so far: the offset the next record starts at.
    pub(super) fn offset(&self) -> u64 {
        self.written
    }

    pub(super) fn bytes(&mut self, bytes: &[u8]) -> Result<()> {
        self.out
            .write_all(bytes)
            .map_err(|e| spill_error(&self.path, e))?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    pub(super) fn u32(&mut self, value: u32) -> Result<()> {
        self.bytes(&value.to_le_bytes())
    }

    pub(super) fn u64(&mut self, value: u64) -> Result<()> {
        self.bytes(&value.to_le_bytes())
    }

    pub(super) fn f64(&mut self, value: f64) -> Result<()> {
        self.bytes(&value.to_bits().to_le_bytes())
    }

    /// A length-prefixed byte string.
    pub(super) fn text(&mut self, bytes: &[u8]) -> Result<()> {
        let len = u32::try_from(bytes.len()).map_err(|_| {
            spill_error(
                &self.path,
                std::io::Error::new(ErrorKind::InvalidInput, "a name longer than 4 GiB"),
            )
        })?;
        self.u32(len)?;
        self.bytes(bytes)
    }

    /// Pads with zeros to a multiple of `align` bytes, so the next record's offset divided by
    /// `align` fits a smaller integer.
    pub(super) fn align(&mut self, align: u64) -> Result<()> {
        let pad = (align - self.written % align) % align;
        self.bytes(&[0u8; 8][..pad as usize])
    }

    /// Writes what is buffered, so a reader sees every record so far.
    pub(super) fn flush(&mut self) -> Result<()> {
        self.out.flush().map_err(|e| spill_error(&self.path, e))
    }
}

/// Reads the records of one spill file back in order.
pub(super) struct SpillReader {
    input: BufReader<File>,
    path: PathBuf,
    /// The offset in the file of the next byte to read.
    position: u64,
}

impl SpillReader {
    /// Fills `buf`, or returns false at the end of the file when nothing of it was read; a
    /// record cut short is an error.
    fn fill(&mut self, buf: &mut [u8], at_record_start: bool) -> Result<bool> {
        let mut read = 0;
        while read < buf.len() {
            match self.input.read(&mut buf[read..]) {
                Ok(0) if read == 0 && at_record_start => return Ok(false),
                Ok(0) => {
                    let cause = std::io::Error::new(ErrorKind::UnexpectedEof, "a record cut short");
                    return Err(spill_error(&self.path, cause));
                }
                Ok(n) => {
                    read += n;
                    self.position += n as u64;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(spill_error(&self.path, e)),
            }
        }
        Ok(true)
    }

    /// Skips the zeros [`SpillWriter::align`] wrote.
    pub(super) fn align(&mut self, align: u64) -> Result<()> {
        let pad = (align - self.position % align) % align;
        let mut buf = [0u8; 8];
        self.fill(&mut buf[..pad as usize], false)?;
        Ok(())
    }

    /// The first field of a record, or None at the end of the file.
    pub(super) fn first_u32(&mut self) -> Result<Option<u32>> {
        let mut buf = [0u8; 4];
        Ok(self.fill(&mut buf, true)?.then(|| u32::from_le_bytes(buf)))
    }

    /// A whole fixed-size record, or None at the end of the file.
    pub(super) fn record<const N: usize>(&mut self) -> Result<Option<[u8; N]>> {
        let mut buf = [0u8; N];
        Ok(self.fill(&mut buf, true)?.then_some(buf))
    }

    pub(super) fn u32(&mut self) -> Result<u32> {
        let mut buf = [0u8; 4];
        self.fill(&mut buf, false)?;
        Ok(u32::from_le_bytes(buf))
    }

    pub(super) fn u64(&mut self) -> Result<u64> {
        let mut buf = [0u8; 8];
        self.fill(&mut buf, false)?;
        Ok(u64::from_le_bytes(buf))
    }

    /// A length-prefixed byte string.
    pub(super) fn text(&mut self) -> Result<Vec<u8>> {
        let len = self.u32()? as usize;
        let mut buf = vec![0u8; len];
        self.fill(&mut buf, false)?;
        Ok(buf)
    }

    /// A length-prefixed UTF-8 string (host names and run ids come from parsed JSON).
    pub(super) fn string(&mut self) -> Result<String> {
        String::from_utf8(self.text()?).map_err(|_| {
            let cause = std::io::Error::new(ErrorKind::InvalidData, "a name is not UTF-8");
            spill_error(&self.path, cause)
        })
    }
}

/// Little-endian fields of a fixed-size record, read in order.
pub(super) struct Fields<'a> {
    bytes: &'a [u8],
}

impl<'a> Fields<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        Fields { bytes }
    }

    fn take<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        let (head, rest) = self.bytes.split_at(N.min(self.bytes.len()));
        out[..head.len()].copy_from_slice(head);
        self.bytes = rest;
        out
    }

    pub(super) fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.take())
    }

    pub(super) fn f64(&mut self) -> f64 {
        f64::from_bits(u64::from_le_bytes(self.take()))
    }

    pub(super) fn u8(&mut self) -> u8 {
        self.take::<1>()[0]
    }
}

/// A path as bytes for the spill, and back: exact on Unix (any bytes), through UTF-8 elsewhere.
pub(super) fn path_bytes(path: &Path) -> Vec<u8> {
    #[cfg(unix)]
    {
        std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str()).to_vec()
    }
    #[cfg(not(unix))]
    {
        path.to_string_lossy().into_owned().into_bytes()
    }
}

/// The inverse of [`path_bytes`].
pub(super) fn path_from(bytes: Vec<u8>) -> PathBuf {
    #[cfg(unix)]
    {
        PathBuf::from(<std::ffi::OsString as std::os::unix::ffi::OsStringExt>::from_vec(bytes))
    }
    #[cfg(not(unix))]
    {
        PathBuf::from(String::from_utf8_lossy(&bytes).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_come_back_as_written_and_the_directory_goes_with_its_owner() {
        let spill = SpillDir::new().unwrap();
        let dir = spill.dir.path().to_path_buf();
        let mut out = spill.create(SpillFile::Units).unwrap();
        out.u32(7).unwrap();
        out.text(b"node\x01").unwrap();
        out.f64(-0.5).unwrap();
        out.u64(u64::MAX).unwrap();
        out.flush().unwrap();
        assert_eq!(out.offset(), 4 + 4 + 5 + 8 + 8);
        let mut input = spill.open(SpillFile::Units, 0).unwrap();
        assert_eq!(input.first_u32().unwrap(), Some(7));
        assert_eq!(input.string().unwrap(), "node\x01");
        let rest = input.record::<16>().unwrap().unwrap();
        let mut fields = Fields::new(&rest);
        assert_eq!(fields.f64(), -0.5);
        assert_eq!(fields.u32(), u32::MAX);
        assert_eq!(input.first_u32().unwrap(), None);
        drop(input);
        drop(out);
        drop(spill);
        assert!(!dir.exists(), "{} left behind", dir.display());
    }

    #[test]
    fn a_new_merge_removes_the_directories_of_dead_merges_only() {
        let root = tempfile::tempdir().unwrap();
        let live = SpillDir::new_in(root.path()).unwrap();
        let make = |name: &str, owner: bool| {
            let dir = root.path().join(name);
            std::fs::create_dir(&dir).unwrap();
            std::fs::write(dir.join("stats.bin"), [0u8; 64]).unwrap();
            if owner {
                std::fs::write(dir.join(OWNER), b"").unwrap();
            }
            dir
        };
        let dead = make(".fleetbench-merge-dead", true);
        let died_starting = make(".fleetbench-merge-died-starting", false);
        let long_ago = std::time::SystemTime::now() - 2 * STARTING_AT_MOST;
        let file = File::create(died_starting.join(STARTING)).unwrap();
        file.set_modified(long_ago).unwrap();
        let just_starting = make(".fleetbench-merge-starting", false);
        File::create(just_starting.join(STARTING)).unwrap();
        let older = make(".fleetbench-merge-older", false);
        let other = make("not-a-merge", true);
        let new = SpillDir::new_in(root.path()).unwrap();
        assert!(!dead.exists(), "a dead merge's directory is left");
        assert!(
            !died_starting.exists(),
            "a merge that died starting left its directory"
        );
        for kept in [
            live.dir.path(),
            new.dir.path(),
            &older,
            &other,
            &just_starting,
        ] {
            assert!(kept.exists(), "{} removed", kept.display());
        }
    }

    #[test]
    fn a_full_temporary_directory_says_what_to_do() {
        let full = std::io::Error::from(ErrorKind::StorageFull);
        let e = spill_error(Path::new("t/units.bin"), full).to_string();
        assert!(
            e.starts_with("t/units.bin: merge's temporary file: "),
            "{e}"
        );
        assert!(
            e.ends_with("(set TMPDIR to a writable directory with room)"),
            "{e}"
        );
        assert!(!e.contains('\n'), "{e}");
    }

    #[test]
    fn a_record_cut_short_is_an_error_naming_the_file() {
        let spill = SpillDir::new().unwrap();
        let mut out = spill.create(SpillFile::Stats).unwrap();
        out.bytes(&[1, 2, 3]).unwrap();
        out.flush().unwrap();
        let mut input = spill.open(SpillFile::Stats, 0).unwrap();
        let err = input.record::<32>().unwrap_err().to_string();
        assert!(err.contains("stats.bin: merge's temporary file"), "{err}");
    }
}
