//! The directory walk of `merge`: every `*.json` regular file under a directory, in name order,
//! and every other entry listed with the reason it was not taken.

use super::read::file_type_name;
use super::sorted_dir::SortedEntries;
use crate::error::{Error, Result};
use std::collections::HashSet;
use std::fs::Metadata;
use std::path::{Path, PathBuf};

/// Deeper than this is not a results tree; the walk stops there and says so.
pub const MAX_DEPTH: usize = 32;

/// What a walk found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Walked {
    /// Regular `*.json` files, in name order.
    pub files: Vec<PathBuf>,
    /// Everything else, with the reason it was not taken.
    pub skipped: Vec<(PathBuf, String)>,
}

/// One thing a walk found, handed out in walk order by [`walk_json_each`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// A regular `*.json` file (or a link to one inside the tree).
    File(PathBuf),
    /// Anything else, with the reason it was not taken.
    Skipped(PathBuf, String),
}

/// Walks `root`. Symbolic links are followed only to regular files inside `root`; a link to a
/// directory is never followed (so `up -> ..` and link loops cannot make the walk leave the tree
/// or go round it), and FIFOs, sockets and devices are listed, never opened.
pub fn walk_json(root: &Path) -> Result<Walked> {
    let mut out = Walked::default();
    walk_json_each(root, &mut |found| {
        match found {
            Found::File(path) => out.files.push(path),
            Found::Skipped(path, reason) => out.skipped.push((path, reason)),
        }
        Ok(())
    })?;
    Ok(out)
}

/// [`walk_json`] handing out each file and skipped entry as it is found, so a walk of a
/// fleet's directory holds no list of its files (a directory's names are sorted in bounded
/// memory, see `sorted_dir`). An error of `visit` ends the walk.
pub fn walk_json_each(root: &Path, visit: &mut dyn FnMut(Found) -> Result<()>) -> Result<()> {
    let canonical_root = std::fs::canonicalize(root).map_err(|e| Error::io(root, e))?;
    let mut walk = Walk {
        root: canonical_root,
        seen: HashSet::new(),
        visit,
    };
    walk.dir(root, 0)
}

struct Walk<'a> {
    root: PathBuf,
    seen: HashSet<PathBuf>,
    visit: &'a mut dyn FnMut(Found) -> Result<()>,
}

impl Walk<'_> {
    fn dir(&mut self, dir: &Path, depth: usize) -> Result<()> {
        if depth > MAX_DEPTH {
            return self.skip(
                dir,
                format!("more than {MAX_DEPTH} directories deep; not searched"),
            );
        }
        // A bind mount can make a directory its own descendant without any symbolic link.
        let canonical = match std::fs::canonicalize(dir) {
            Ok(c) => c,
            Err(e) => return self.unlistable(dir, depth, e),
        };
        if !self.seen.insert(canonical) {
            return self.skip(
                dir,
                "a directory already searched (a loop); not searched again",
            );
        }
        let mut entries = match SortedEntries::list(dir)? {
            Ok(entries) => entries,
            Err(e) => return self.unlistable(dir, depth, e),
        };
        while let Some(path) = entries.next_path()? {
            match std::fs::symlink_metadata(&path) {
                Ok(meta) => self.entry(path, &meta, depth)?,
                Err(e) => self.skip(&path, format!("cannot be examined: {e}"))?,
            }
        }
        Ok(())
    }

    /// The directory given is the user's input: failing to list it is an error. One below it
    /// is one entry among many, skipped with the reason like an unreadable file.
    fn unlistable(&mut self, dir: &Path, depth: usize, e: std::io::Error) -> Result<()> {
        if depth == 0 {
            return Err(Error::io(dir, e));
        }
        self.skip(
            dir,
            format!("a directory that cannot be listed ({e}); not searched"),
        )
    }

    fn entry(&mut self, path: PathBuf, meta: &Metadata, depth: usize) -> Result<()> {
        if meta.is_dir() {
            self.dir(&path, depth + 1)
        } else if meta.file_type().is_symlink() {
            self.link(path)
        } else if meta.is_file() {
            self.file(path)
        } else {
            let reason = format!("{}, not a regular file", file_type_name(meta));
            self.skip(&path, reason)
        }
    }

    fn link(&mut self, path: PathBuf) -> Result<()> {
        let target = match std::fs::canonicalize(&path) {
            Ok(t) => t,
            Err(e) => {
                return self.skip(
                    &path,
                    format!("a symbolic link that does not resolve ({e})"),
                )
            }
        };
        if !target.starts_with(&self.root) {
            return self.skip(&path, "a symbolic link out of the directory; not followed");
        }
        match std::fs::metadata(&target) {
            Ok(m) if m.is_file() => self.file(path),
            Ok(m) if m.is_dir() => self.skip(&path, "a symbolic link to a directory; not followed"),
            Ok(m) => {
                let reason = format!(
                    "a symbolic link to {}, not a regular file",
                    file_type_name(&m)
                );
                self.skip(&path, reason)
            }
            Err(e) => self.skip(
                &path,
                format!("a symbolic link that does not resolve ({e})"),
            ),
        }
    }

    fn file(&mut self, path: PathBuf) -> Result<()> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with(".fleetbench-") && name.ends_with(".tmp") {
            self.skip(
                &path,
                "temporary file of a run that is still writing or crashed",
            )
        } else if !name.ends_with(".json") {
            self.skip(&path, "not a .json file")
        } else {
            (self.visit)(Found::File(path))
        }
    }

    fn skip(&mut self, path: &Path, reason: impl Into<String>) -> Result<()> {
        (self.visit)(Found::Skipped(path.to_path_buf(), reason.into()))
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn reasons(w: &Walked) -> Vec<String> {
        w.skipped
            .iter()
            .map(|(p, r)| format!("{}: {r}", p.file_name().unwrap().to_string_lossy()))
            .collect()
    }

    #[test]
    fn takes_json_files_in_order_and_lists_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("b");
        std::fs::create_dir(&sub).unwrap();
        std::fs::write(sub.join("2.json"), "{}").unwrap();
        std::fs::write(dir.path().join("a.json"), "{}").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "").unwrap();
        std::fs::write(dir.path().join(".fleetbench-x.tmp"), "").unwrap();
        let w = walk_json(dir.path()).unwrap();
        assert_eq!(w.files, vec![dir.path().join("a.json"), sub.join("2.json")]);
        assert_eq!(w.skipped.len(), 2, "{:?}", reasons(&w));
    }

    #[test]
    fn never_follows_links_out_of_or_around_the_tree() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.json"), "{}").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let tree = dir.path().join("tree");
        std::fs::create_dir(&tree).unwrap();
        std::fs::write(tree.join("a.json"), "{}").unwrap();
        symlink("..", tree.join("up")).unwrap();
        symlink(&tree, tree.join("self")).unwrap();
        symlink(outside.path().join("secret.json"), tree.join("out.json")).unwrap();
        symlink(tree.join("a.json"), tree.join("alias.json")).unwrap();
        symlink(tree.join("loop1"), tree.join("loop2")).unwrap();
        symlink(tree.join("loop2"), tree.join("loop1")).unwrap();
        let w = walk_json(&tree).unwrap();
        assert_eq!(w.files, vec![tree.join("a.json"), tree.join("alias.json")]);
        let r = reasons(&w).join("\n");
        assert!(
            r.contains("up: a symbolic link out of the directory"),
            "{r}"
        );
        assert!(r.contains("self: a symbolic link to a directory"), "{r}");
        assert!(
            r.contains("out.json: a symbolic link out of the directory"),
            "{r}"
        );
        assert!(
            r.contains("loop1: a symbolic link that does not resolve"),
            "{r}"
        );
    }

    #[test]
    fn an_unlistable_subdirectory_is_skipped_but_an_unlistable_input_is_an_error() {
        // A subdirectory that vanished (or lost its permissions) between being seen and being
        // listed: the walk goes on without it and says why.
        let dir = tempfile::tempdir().unwrap();
        let mut out = Walked::default();
        let mut visit = |found| {
            if let Found::Skipped(path, reason) = found {
                out.skipped.push((path, reason));
            }
            Ok(())
        };
        let mut walk = Walk {
            root: dir.path().to_path_buf(),
            seen: HashSet::new(),
            visit: &mut visit,
        };
        walk.dir(&dir.path().join("gone"), 1).unwrap();
        assert!(walk.dir(&dir.path().join("gone"), 0).is_err());
        let r = reasons(&out);
        assert_eq!(r.len(), 1, "{r:?}");
        assert!(
            r[0].starts_with("gone: a directory that cannot be listed (No such file"),
            "{r:?}"
        );
    }

    #[test]
    fn lists_a_fifo_without_opening_it() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe.json");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let w = walk_json(dir.path()).unwrap();
        assert!(w.files.is_empty());
        assert_eq!(
            reasons(&w),
            vec!["pipe.json: a named pipe (FIFO), not a regular file"]
        );
    }
}
