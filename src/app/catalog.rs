//! `fleetbench catalog`: print the embedded datasheet table, or an Epoch import in its schema.

use crate::cli::{CatalogAction, CatalogArgs};
use fleetbench::catalog::{import_epoch, Catalog, CatalogListing};
use fleetbench::output;
use std::process::ExitCode;

pub fn execute(args: CatalogArgs) -> anyhow::Result<ExitCode> {
    let entries = match &args.action {
        None => Catalog::builtin()?.entries().to_vec(),
        Some(CatalogAction::ImportEpoch { file }) => import_epoch(file)?,
    };
    let listing = CatalogListing { entries };
    output::emit(&output::render(
        &listing,
        args.format,
        output::terminal_width(),
    )?)?;
    Ok(ExitCode::SUCCESS)
}
