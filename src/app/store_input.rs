//! Runs from a results store as inputs of `compare`, `calibrate` and `report`: `--store` with
//! the filter flags of `store list` (and `--latest`), plus compare's `store:KEY=VALUE,…` sides.
//! The library hands the runs back as the files `store export` writes; the commands then load
//! them through the same checks as files.

use crate::cli::StoreSelectArgs;
use anyhow::bail;
use fleetbench::store::{self, Database, Location, OpenMode, Selection};

/// A store named by `--store`, and the selection its filter flags make.
pub struct StoreInput {
    location: Location,
    /// The filter flags and `--latest`: every selection starts from it.
    pub base: Selection,
}

impl StoreInput {
    /// The store input the flags ask for; `None` without `--store`. Filter flags without
    /// `--store` are refused rather than ignored.
    pub fn from_args(args: &StoreSelectArgs) -> anyhow::Result<Option<StoreInput>> {
        let base = Selection {
            filter: super::store::filter(&args.filter)?,
            latest: args.latest,
        };
        match &args.store {
            Some(db) => Ok(Some(StoreInput {
                location: Location::parse(db),
                base,
            })),
            None if base != Selection::default() => bail!(
                "--device, --host, --gpu, --driver, --backend, --since, --until and --latest \
                 select runs of a results store: name it with --store PATH|URL"
            ),
            None => Ok(None),
        }
    }

    /// Opens the store, which must exist (a mistyped path is not an empty fleet).
    pub fn open(&self) -> anyhow::Result<Box<dyn Database>> {
        Ok(store::open(&self.location, OpenMode::Existing)?)
    }

    /// The base selection narrowed by `keys` (a compare side's text after `store:`).
    pub fn selection(&self, keys: &str) -> anyhow::Result<Selection> {
        Ok(self.base.clone().narrow(keys)?)
    }
}
