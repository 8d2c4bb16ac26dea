//! `fleetbench catalog`: print the embedded datasheet table, or an Epoch import in its schema.

use crate::cli::{CatalogAction, CatalogArgs};
use fleetbench::catalog::{import_epoch, Catalog, CatalogEntry, Precision};
use fleetbench::output::{Format, Table};
use std::process::ExitCode;

pub fn execute(args: CatalogArgs) -> anyhow::Result<ExitCode> {
    let entries = match &args.action {
        None => Catalog::builtin()?.entries().to_vec(),
        Some(CatalogAction::ImportEpoch { file }) => import_epoch(file)?,
    };
    let out = match args.format {
        Format::Json => serde_json::to_string_pretty(&entries)? + "\n",
        format => table(&entries).render(format, fleetbench::output::terminal_width()),
    };
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

fn table(entries: &[CatalogEntry]) -> Table {
    let mut headers = vec!["id", "name", "vendor", "year"];
    let labels: Vec<String> = Precision::ALL
        .iter()
        .map(|p| match p {
            Precision::Int8 => "int8 TOPS".to_string(),
            p => format!("{p} TFLOP/s"),
        })
        .collect();
    headers.extend(labels.iter().map(String::as_str));
    headers.extend([
        "memory GB",
        "bandwidth TB/s",
        "TDP W",
        "unverified",
        "sources",
    ]);
    let mut t = Table::new(&headers);
    let num = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v}"));
    for e in entries {
        let mut row = vec![
            e.id.clone(),
            e.name.clone(),
            e.vendor.clone(),
            e.year.map_or("-".to_string(), |y| y.to_string()),
        ];
        row.extend(Precision::ALL.iter().map(|p| num(e.dense(*p))));
        row.extend([num(e.memory_gb), num(e.bandwidth_tbs), num(e.tdp_w)]);
        let unverified: Vec<&str> = e.unverified.iter().map(|p| p.label()).collect();
        row.push(unverified.join(";"));
        row.push(e.sources.clone());
        t.push(row);
    }
    t
}
