//! A directory's entries in name order, in memory bounded whatever the directory's size: a
//! fleet's results are often one directory of hundreds of thousands of files, and a list of
//! their paths alone would grow by about 100 bytes a file. Up to [`CHUNK`] names are sorted in
//! memory; a larger directory's names are sorted in chunks of that many, each written to a
//! temporary file, and the chunks are merged as the entries are handed out. The order is the
//! one sorting the entries' paths gives (names compared byte by byte).

use crate::error::{Error, Result};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{BufReader, BufWriter, ErrorKind, Read, Write};
use std::path::{Path, PathBuf};

/// Names a directory may hold before they are sorted through temporary files.
const CHUNK: usize = 8192;

/// The entries of one directory, handed out in name order.
pub(super) struct SortedEntries {
    dir: PathBuf,
    source: Source,
}

enum Source {
    Memory(std::vec::IntoIter<OsString>),
    Chunks(Chunks),
}

impl SortedEntries {
    /// Lists `dir`. The outer error is the temporary files' (a full `TMPDIR`); the inner one is
    /// the directory's own (it cannot be listed), which a walk reports as such.
    pub(super) fn list(dir: &Path) -> Result<std::io::Result<SortedEntries>> {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => return Ok(Err(e)),
        };
        let mut names = Vec::new();
        let mut chunks: Option<Chunks> = None;
        for entry in entries {
            match entry {
                Ok(entry) => names.push(entry.file_name()),
                Err(e) => return Ok(Err(e)),
            }
            if names.len() == CHUNK && cfg!(unix) {
                let chunks = match &mut chunks {
                    Some(chunks) => chunks,
                    None => chunks.insert(Chunks::new()?),
                };
                chunks.write(&mut names)?;
            }
        }
        let source = match chunks {
            None => {
                names.sort();
                Source::Memory(names.into_iter())
            }
            Some(mut chunks) => {
                if !names.is_empty() {
                    chunks.write(&mut names)?;
                }
                chunks.start()?;
                Source::Chunks(chunks)
            }
        };
        Ok(Ok(SortedEntries {
            dir: dir.to_path_buf(),
            source,
        }))
    }

    /// The next entry's path, or None after the last.
    pub(super) fn next_path(&mut self) -> Result<Option<PathBuf>> {
        let name = match &mut self.source {
            Source::Memory(names) => names.next(),
            Source::Chunks(chunks) => chunks.next()?,
        };
        Ok(name.map(|n| self.dir.join(n)))
    }
}

/// Sorted chunks of names in temporary files, and their merge.
struct Chunks {
    tmp: tempfile::TempDir,
    files: Vec<PathBuf>,
    readers: Vec<BufReader<File>>,
    heap: BinaryHeap<Reverse<(Vec<u8>, usize)>>,
}

impl Chunks {
    fn new() -> Result<Self> {
        let tmp = tempfile::Builder::new()
            .prefix(".fleetbench-walk-")
            .tempdir()
            .map_err(|e| temp_error(&std::env::temp_dir(), e))?;
        Ok(Chunks {
            tmp,
            files: Vec::new(),
            readers: Vec::new(),
            heap: BinaryHeap::new(),
        })
    }

    /// Sorts `names` and writes them as one more chunk; empties `names`.
    fn write(&mut self, names: &mut Vec<OsString>) -> Result<()> {
        names.sort();
        let path = self.tmp.path().join(format!("{}.names", self.files.len()));
        let file = File::create(&path).map_err(|e| temp_error(&path, e))?;
        let mut out = BufWriter::with_capacity(64 * 1024, file);
        for name in names.drain(..) {
            let bytes = name_bytes(&name);
            let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX).to_le_bytes();
            out.write_all(&len)
                .and_then(|()| out.write_all(&bytes))
                .map_err(|e| temp_error(&path, e))?;
        }
        out.flush().map_err(|e| temp_error(&path, e))?;
        self.files.push(path);
        Ok(())
    }

    /// Opens every chunk and takes its first name.
    fn start(&mut self) -> Result<()> {
        for (i, path) in self.files.iter().enumerate() {
            let file = File::open(path).map_err(|e| temp_error(path, e))?;
            let mut reader = BufReader::with_capacity(8 * 1024, file);
            if let Some(name) = read_name(&mut reader).map_err(|e| temp_error(path, e))? {
                self.heap.push(Reverse((name, i)));
            }
            self.readers.push(reader);
        }
        Ok(())
    }

    /// The smallest name left, refilled from its chunk.
    fn next(&mut self) -> Result<Option<OsString>> {
        let Some(Reverse((name, i))) = self.heap.pop() else {
            return Ok(None);
        };
        let path = &self.files[i];
        if let Some(next) = read_name(&mut self.readers[i]).map_err(|e| temp_error(path, e))? {
            self.heap.push(Reverse((next, i)));
        }
        Ok(Some(name_from(name)))
    }
}

/// The next length-prefixed name of a chunk, or None at its end.
fn read_name(reader: &mut BufReader<File>) -> std::io::Result<Option<Vec<u8>>> {
    let mut len = [0u8; 4];
    match reader.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let mut name = vec![0u8; u32::from_le_bytes(len) as usize];
    reader.read_exact(&mut name)?;
    Ok(Some(name))
}

/// A name's bytes, which sort as the name does (chunks are only written on Unix).
fn name_bytes(name: &OsStr) -> Vec<u8> {
    #[cfg(unix)]
    {
        std::os::unix::ffi::OsStrExt::as_bytes(name).to_vec()
    }
    #[cfg(not(unix))]
    {
        name.to_string_lossy().into_owned().into_bytes()
    }
}

/// The inverse of [`name_bytes`].
fn name_from(bytes: Vec<u8>) -> OsString {
    #[cfg(unix)]
    {
        std::os::unix::ffi::OsStringExt::from_vec(bytes)
    }
    #[cfg(not(unix))]
    {
        OsString::from(String::from_utf8_lossy(&bytes).into_owned())
    }
}

/// An error of the temporary files, in one line that says what they are and what to do.
fn temp_error(path: &Path, cause: std::io::Error) -> Error {
    let text = cause.to_string();
    let os = text
        .split_once(" at path \"")
        .map_or(text.as_str(), |(os, _)| os);
    Error::Io {
        path: path.to_path_buf(),
        cause: std::io::Error::new(
            cause.kind(),
            format!(
                "sorting a large directory's names in a temporary file: {os} (set TMPDIR to a \
                 writable directory with room)"
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(dir: &Path) -> Vec<PathBuf> {
        let mut entries = SortedEntries::list(dir).unwrap().unwrap();
        let mut out = Vec::new();
        while let Some(path) = entries.next_path().unwrap() {
            out.push(path);
        }
        out
    }

    #[test]
    fn a_directory_larger_than_a_chunk_comes_out_in_path_order() {
        let dir = tempfile::tempdir().unwrap();
        let n = 2 * CHUNK + 5;
        for i in (0..n).rev() {
            // Names of unequal length and case, so byte order is what is tested.
            let name = format!("{}{}.json", if i % 3 == 0 { "N" } else { "n" }, i * 7 % n);
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        let mut expected: Vec<PathBuf> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        expected.sort();
        assert_eq!(all(dir.path()), expected);
    }

    #[test]
    fn a_small_directory_is_sorted_in_memory_and_a_missing_one_is_its_own_error() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.json", "a.json", "c"] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        let names: Vec<String> = all(dir.path())
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.json", "b.json", "c"]);
        assert!(SortedEntries::list(&dir.path().join("gone"))
            .unwrap()
            .is_err());
    }
}
