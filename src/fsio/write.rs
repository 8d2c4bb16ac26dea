//! Complete-before-visible writes of regular files.

use super::read::file_type_name;
use crate::error::{Error, Result};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

/// What to do when the target already exists: the meaning of `--force`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overwrite {
    /// Take the name exclusively; an existing file is an [`Error::Exists`].
    Refuse,
    /// Replace an existing regular file, once the new one is complete and synced.
    Replace,
}

impl Overwrite {
    /// `--force` replaces, its absence refuses.
    pub fn from_force(force: bool) -> Overwrite {
        if force {
            Overwrite::Replace
        } else {
            Overwrite::Refuse
        }
    }
}

/// Whether `path` may be written under `overwrite`: it must be missing or a regular file, and
/// missing unless replacing. Commands call this before long work so a bad `-o` fails at once;
/// [`write_file`] checks again, because only the write itself can be exclusive.
pub fn check_target(path: &Path, overwrite: Overwrite) -> Result<()> {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        // Nothing there to protect; creating the directory or the file reports any problem.
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {
            return Ok(())
        }
        Err(e) => return Err(Error::io(path, e)),
    };
    if meta.is_dir() {
        return Err(Error::invalid(
            path,
            "is a directory; give a file name to write",
        ));
    }
    if !meta.is_file() {
        return Err(Error::invalid(
            path,
            format!(
                "is {}, not a regular file; fleetbench writes only regular files",
                file_type_name(&meta)
            ),
        ));
    }
    match overwrite {
        Overwrite::Refuse => Err(Error::Exists {
            path: path.to_path_buf(),
        }),
        Overwrite::Replace => Ok(()),
    }
}

/// Refuses an output that is one of the command's own inputs (the same file, by device and
/// inode, whatever the spelling of the path): `--force` replaces old outputs, never the data a
/// command reads.
pub fn check_not_input(output: &Path, inputs: &[PathBuf]) -> Result<()> {
    let Some(out) = file_identity(output) else {
        return Ok(());
    };
    match inputs.iter().find(|i| file_identity(i) == Some(out)) {
        Some(input) => Err(Error::invalid(
            output,
            format!(
                "is also an input ({}); write the output to another file",
                input.display()
            ),
        )),
        None => Ok(()),
    }
}

/// Device and inode of an existing file; `None` when it does not exist.
fn file_identity(path: &Path) -> Option<(u64, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some((meta.dev(), meta.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        std::fs::canonicalize(path).ok().map(|p| {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            p.hash(&mut h);
            (0, h.finish())
        })
    }
}

/// Writes `bytes` to `path`: into a temporary file in the same directory, synced, then given
/// the name — exclusively under [`Overwrite::Refuse`] (so of two writers racing for one name
/// exactly one wins), by atomic rename under [`Overwrite::Replace`]. A failed write (a full
/// disk, a quota) is an error naming `path` and leaves any existing file untouched.
pub fn write_file(path: &Path, bytes: &[u8], overwrite: Overwrite) -> Result<()> {
    write_file_with(path, overwrite, |out| out.write_all(bytes))
}

/// [`write_file`] for output made as it is written (a fleet's report, serialised row by row):
/// `write` gets the temporary file behind a buffer, and the file takes its name only once
/// `write` has succeeded and the bytes are synced.
pub fn write_file_with(
    path: &Path,
    overwrite: Overwrite,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    check_target(path, overwrite)?;
    let tmp = stage(path, write)?;
    persist(tmp, path, overwrite)?;
    sync_dir(&parent_dir(path));
    Ok(())
}

/// Writes several files as one (a report's charts and its page): each is first written
/// complete and synced under a temporary name beside its target, and only when every one is
/// written do they take their names, in order (so the page, given last, appears last). A
/// failed write (a full disk, a file-size limit) leaves no file of the set and no temporary
/// file behind.
pub fn write_set(files: &[(PathBuf, &[u8])], overwrite: Overwrite) -> Result<()> {
    for (path, _) in files {
        check_target(path, overwrite)?;
    }
    let staged = files
        .iter()
        .map(|(path, bytes)| stage(path, |out| out.write_all(bytes)))
        .collect::<Result<Vec<_>>>()?;
    for ((path, _), tmp) in files.iter().zip(staged) {
        persist(tmp, path, overwrite)?;
    }
    if let Some((path, _)) = files.last() {
        sync_dir(&parent_dir(path));
    }
    Ok(())
}

/// `bytes` in a synced temporary file beside `path`, deleted if dropped before [`persist`].
fn stage(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<tempfile::NamedTempFile> {
    let dir = parent_dir(path);
    let mut builder = tempfile::Builder::new();
    builder.prefix(".fleetbench-").suffix(".tmp");
    // Temporary files are private (0600) by default; a result file is meant to be shared, e.g.
    // read by `merge` from a cluster's common directory under another user.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    let mut tmp = builder.tempfile_in(&dir).map_err(|e| unwritten(path, e))?;
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, tmp.as_file_mut());
    write(&mut out).map_err(|e| unwritten(path, e))?;
    out.flush().map_err(|e| unwritten(path, e))?;
    drop(out);
    tmp.as_file().sync_all().map_err(|e| unwritten(path, e))?;
    Ok(tmp)
}

/// Gives a staged file its name: exclusively under [`Overwrite::Refuse`] (so of two writers
/// racing for one name exactly one wins), by atomic rename under [`Overwrite::Replace`].
fn persist(tmp: tempfile::NamedTempFile, path: &Path, overwrite: Overwrite) -> Result<()> {
    // The target may have changed while the bytes were written (another run, or a device node
    // put there); the rename must not land on anything but a regular file.
    check_target(path, overwrite)?;
    match overwrite {
        Overwrite::Refuse => tmp.persist_noclobber(path).map_err(|e| {
            if e.error.kind() == ErrorKind::AlreadyExists {
                Error::Exists {
                    path: path.to_path_buf(),
                }
            } else {
                unwritten(path, e.error)
            }
        })?,
        Overwrite::Replace => tmp.persist(path).map_err(|e| unwritten(path, e.error))?,
    };
    Ok(())
}

/// The error of a failed write of `path`. The temporary file's own errors name the temporary
/// (`at path ".fleetbench-….tmp"`), which is removed by then: only the operating system's
/// error is kept, so the message names the file the user asked for and nothing that is gone.
fn unwritten(path: &Path, cause: std::io::Error) -> Error {
    // tempfile keeps its path type private, so its suffix is cut from the text.
    let text = cause.to_string();
    let cause = match text.split_once(" at path \"") {
        Some((os, _)) if cause.raw_os_error().is_none() => std::io::Error::new(cause.kind(), os),
        _ => cause,
    };
    Error::Unwritten {
        path: path.to_path_buf(),
        cause,
    }
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Makes the new name durable. Best effort: some file systems cannot sync a directory, and the
/// file's own contents are already synced.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(handle) = std::fs::File::open(dir) {
        let _ = handle.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_that_fails_part_way_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let p = |name: &str| dir.path().join(name);
        // The second file's directory does not exist: its write fails after the first one
        // was already written (staged), as a full disk would.
        let files: Vec<(PathBuf, &[u8])> = vec![
            (p("a.svg"), b"<svg/>"),
            (p("missing/b.svg"), b"<svg/>"),
            (p("index.html"), b"<html/>"),
        ];
        let e = write_set(&files, Overwrite::Refuse).unwrap_err();
        assert!(e.to_string().contains("b.svg: not written"), "{e}");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert!(left.is_empty(), "{left:?}");
        let good: Vec<(PathBuf, &[u8])> = vec![(p("a.svg"), b"<svg/>"), (p("index.html"), b"x")];
        write_set(&good, Overwrite::Refuse).unwrap();
        assert_eq!(std::fs::read(p("index.html")).unwrap(), b"x");
        assert!(write_set(&good, Overwrite::Refuse).is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn refuse_creates_once_and_then_names_the_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        write_file(&path, b"first", Overwrite::Refuse).unwrap();
        let e = write_file(&path, b"second", Overwrite::Refuse).unwrap_err();
        assert!(matches!(e, Error::Exists { .. }), "{e}");
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        write_file(&path, b"third", Overwrite::Replace).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"third");
    }

    #[test]
    fn of_many_racing_exclusive_writers_exactly_one_wins() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        let wins: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|i| {
                    let path = &path;
                    s.spawn(move || {
                        write_file(path, format!("{i}").as_bytes(), Overwrite::Refuse).is_ok()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| usize::from(h.join().unwrap()))
                .sum()
        });
        assert_eq!(wins, 1);
    }

    #[test]
    fn an_output_that_is_an_input_is_refused_however_it_is_spelled() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("a.json");
        std::fs::write(&input, "{}").unwrap();
        let spelled = dir.path().join(".").join("a.json");
        let e = check_not_input(&spelled, std::slice::from_ref(&input)).unwrap_err();
        assert!(e.to_string().contains("is also an input"), "{e}");
        let other = dir.path().join("b.json");
        check_not_input(&other, &[input]).unwrap();
    }

    #[test]
    fn a_directory_is_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let e = write_file(dir.path(), b"x", Overwrite::Replace).unwrap_err();
        assert!(e.to_string().contains("is a directory"), "{e}");
        assert!(dir.path().is_dir());
    }

    #[cfg(unix)]
    #[test]
    fn a_device_node_is_never_replaced() {
        for overwrite in [Overwrite::Refuse, Overwrite::Replace] {
            let e = check_target(Path::new("/dev/null"), overwrite).unwrap_err();
            assert!(
                e.to_string()
                    .contains("is a character device, not a regular file"),
                "{e}"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn written_files_are_readable_by_others() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        write_file(&path, b"{}", Overwrite::Refuse).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o044, 0o044, "mode {mode:o}");
    }

    #[test]
    fn a_failed_write_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no-such-dir").join("r.json");
        let e = write_file(&missing, b"x", Overwrite::Replace).unwrap_err();
        assert!(e.to_string().contains("r.json: not written"), "{e}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
