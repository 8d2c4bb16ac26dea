//! Loading the files a comparison or an equivalence table is built from. Both `compare` and
//! `calibrate` read result files the same way — each checked by `validate`, identified against
//! the catalog, refused when given twice, pooled per group — so the loading lives here, below
//! both commands, instead of one command reaching into the other.

use super::{pool, Group, LoadedFile};
use crate::catalog::{identify, Catalog, MatchRules};
use crate::error::{Error, Result};
use crate::results::ResultFile;
use crate::store::StoredRun;
use crate::validate::{policy::apply_policy, CatalogPeaks, LoadPolicy};
use std::path::PathBuf;

/// Groups of result files, loaded and pooled, with what the checks dropped.
#[derive(Debug, Clone)]
pub struct LoadedGroups {
    /// One pooled group per input group, in order.
    pub groups: Vec<Group>,
    /// Cases dropped under [`LoadPolicy::SkipInconsistent`], one line each naming the file; the
    /// caller shows them (the library never prints).
    pub warnings: Vec<String>,
}

/// Where a file to compare comes from: disk, or a results store.
#[derive(Debug, Clone)]
pub enum Source {
    /// A result file on disk, as given.
    File(PathBuf),
    /// A stored run, rebuilt as the file `store export` writes, and the name it is shown under.
    Stored {
        /// How messages and models name it.
        label: String,
        /// The file.
        file: Box<ResultFile>,
    },
}

impl From<StoredRun> for Source {
    fn from(run: StoredRun) -> Source {
        Source::Stored {
            label: run.label,
            file: Box::new(run.file),
        }
    }
}

/// [`load_sources`] of files on disk.
pub fn load_groups(groups: &[Vec<PathBuf>], policy: LoadPolicy) -> Result<LoadedGroups> {
    let sources = groups
        .iter()
        .map(|g| g.iter().cloned().map(Source::File).collect())
        .collect();
    load_sources(sources, policy)
}

/// Loads every file, refusing one given twice (the same path, or a copy with identical
/// contents), and pools each group (refusing one that mixes devices). Every file goes through
/// `validate`'s checks first, whether it was read from disk or from a store: an inconsistent
/// file is refused, or under [`LoadPolicy::SkipInconsistent`] its bad cases are dropped with a
/// warning, so a hand-edited number never reaches a ratio.
pub fn load_sources(groups: Vec<Vec<Source>>, policy: LoadPolicy) -> Result<LoadedGroups> {
    let catalog = Catalog::builtin()?;
    let rules = MatchRules::builtin()?;
    let peaks = CatalogPeaks::builtin()?;
    let mut seen: Vec<(PathBuf, LoadedFile)> = Vec::new();
    let mut out = LoadedGroups {
        groups: Vec::new(),
        warnings: Vec::new(),
    };
    for group in groups {
        let mut loaded = Vec::new();
        for source in group {
            let (path, file, stored) = match source {
                Source::File(path) => {
                    let file = crate::results::load(&path)?;
                    (path, file, false)
                }
                Source::Stored { label, file } => (PathBuf::from(label), *file, true),
            };
            let checked = apply_policy(&path, file, policy, &peaks)?;
            out.warnings.extend(checked.warnings);
            let device = identify(&checked.file.machine.adapter, &rules, &catalog);
            let this = LoadedFile {
                path,
                file: checked.file,
                device,
            };
            // A stored run's label is its identity: it is never a path on disk.
            let identity = if stored {
                this.path.clone()
            } else {
                this.path
                    .canonicalize()
                    .map_err(|e| Error::io(&this.path, e))?
            };
            check_not_seen(&this, identity, &mut seen)?;
            loaded.push(this);
        }
        out.groups.push(pool(loaded)?);
    }
    Ok(out)
}

/// Refuses `this` when its path, or its exact contents, came earlier: a file counted twice
/// would narrow every interval it enters.
fn check_not_seen(
    this: &LoadedFile,
    canonical: PathBuf,
    seen: &mut Vec<(PathBuf, LoadedFile)>,
) -> Result<()> {
    let path = &this.path;
    for (other_canonical, other) in seen.iter() {
        if *other_canonical == canonical {
            return Err(Error::invalid(path, "the same file is given twice"));
        }
        if other.file == this.file {
            return Err(Error::invalid(
                path,
                format!(
                    "identical to {} (run_id {}); the same file is given twice",
                    other.path.display(),
                    this.file.run.run_id
                ),
            ));
        }
    }
    seen.push((canonical, this.clone()));
    Ok(())
}
