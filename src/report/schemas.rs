//! JSON Schemas of the files fleetbench reads and of every command's `--format json` output,
//! generated from the Rust types themselves so the documented format cannot drift from the
//! code: the committed copies under `docs/schemas/` are checked against these in the tests,
//! and the tests validate each command's JSON against its schema. Regenerate them after
//! changing a type with `FLEETBENCH_UPDATE_SCHEMAS=1 cargo test --release --test integration schemas`.

use crate::catalog::CatalogListing;
use crate::compare::Comparison;
use crate::devices::DeviceList;
use crate::equiv::RatiosFile;
use crate::fleet::FleetFile;
use crate::merge::MergeReport;
use crate::projection::Projection;
use crate::report::document::Listing;
use crate::results::ResultFile;
use crate::validate::verdicts::ValidationReport;

/// One schema and where its committed copy lives.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaDoc {
    /// Short name, e.g. `result-file`.
    pub name: &'static str,
    /// Path of the committed copy, relative to the repository root.
    pub path: &'static str,
    /// The schema.
    pub schema: serde_json::Value,
}

impl SchemaDoc {
    /// The schema as committed: pretty JSON with a trailing newline.
    pub fn to_pretty_json(&self) -> String {
        serde_json::to_string_pretty(&self.schema).unwrap_or_default() + "\n"
    }
}

/// The schema of a result file (`fleetbench run`).
pub fn result_file() -> SchemaDoc {
    SchemaDoc {
        name: "result-file",
        path: "docs/schemas/result-file.schema.json",
        schema: schemars::schema_for!(ResultFile).to_value(),
    }
}

/// The schema of a ratios file (`fleetbench calibrate`).
pub fn ratios_file() -> SchemaDoc {
    SchemaDoc {
        name: "ratios-file",
        path: "docs/schemas/ratios-file.schema.json",
        schema: schemars::schema_for!(RatiosFile).to_value(),
    }
}

/// The schema of a fleet file (`fleetbench project`). Fleet files are TOML; the schema
/// describes the same data in JSON terms, which is how TOML-aware editors use it.
pub fn fleet_file() -> SchemaDoc {
    SchemaDoc {
        name: "fleet-file",
        path: "docs/schemas/fleet-file.schema.json",
        schema: schemars::schema_for!(FleetFile).to_value(),
    }
}

/// The schema of `fleetbench compare --format json` (and of the file `compare -o` writes).
pub fn comparison() -> SchemaDoc {
    SchemaDoc {
        name: "comparison",
        path: "docs/schemas/comparison.schema.json",
        schema: schemars::schema_for!(Comparison).to_value(),
    }
}

/// What `fleetbench project --format json` prints.
pub fn projection() -> SchemaDoc {
    SchemaDoc {
        name: "projection",
        path: "docs/schemas/projection.schema.json",
        schema: schemars::schema_for!(Projection).to_value(),
    }
}

/// What `fleetbench merge --format json` prints and `merge -o` writes.
pub fn merge_report() -> SchemaDoc {
    SchemaDoc {
        name: "merge-report",
        path: "docs/schemas/merge-report.schema.json",
        schema: schemars::schema_for!(MergeReport).to_value(),
    }
}

/// What `fleetbench catalog --format json` prints (also after `import-epoch`).
pub fn catalog() -> SchemaDoc {
    SchemaDoc {
        name: "catalog",
        path: "docs/schemas/catalog.schema.json",
        schema: schemars::schema_for!(CatalogListing).to_value(),
    }
}

/// What `fleetbench devices --format json` prints.
pub fn devices() -> SchemaDoc {
    SchemaDoc {
        name: "devices",
        path: "docs/schemas/devices.schema.json",
        schema: schemars::schema_for!(DeviceList).to_value(),
    }
}

/// What `fleetbench validate --format json` prints.
pub fn validation() -> SchemaDoc {
    SchemaDoc {
        name: "validation",
        path: "docs/schemas/validation.schema.json",
        schema: schemars::schema_for!(ValidationReport).to_value(),
    }
}

/// What `fleetbench report --format json` prints: the files it wrote.
pub fn report_listing() -> SchemaDoc {
    SchemaDoc {
        name: "report-listing",
        path: "docs/schemas/report-listing.schema.json",
        schema: schemars::schema_for!(Listing).to_value(),
    }
}

/// The schema of `fleetbench run --format json`: the run summary.
pub fn run_summary() -> SchemaDoc {
    SchemaDoc {
        name: "run-summary",
        path: "docs/schemas/run-summary.schema.json",
        schema: schemars::schema_for!(crate::measure::summary::RunSummary).to_value(),
    }
}

/// The schema of `fleetbench store list --format json`.
pub fn store_runs() -> SchemaDoc {
    SchemaDoc {
        name: "store-runs",
        path: "docs/schemas/store-runs.schema.json",
        schema: schemars::schema_for!(crate::store::RunList).to_value(),
    }
}

/// The schema of `fleetbench store ingest --format json`.
pub fn store_ingest() -> SchemaDoc {
    SchemaDoc {
        name: "store-ingest",
        path: "docs/schemas/store-ingest.schema.json",
        schema: schemars::schema_for!(crate::store::IngestReport).to_value(),
    }
}

/// The schema of `fleetbench store history --format json`.
pub fn store_history() -> SchemaDoc {
    SchemaDoc {
        name: "store-history",
        path: "docs/schemas/store-history.schema.json",
        schema: schemars::schema_for!(crate::store::analysis::History).to_value(),
    }
}

/// The schema of `fleetbench store regressions --format json`.
pub fn store_regressions() -> SchemaDoc {
    SchemaDoc {
        name: "store-regressions",
        path: "docs/schemas/store-regressions.schema.json",
        schema: schemars::schema_for!(crate::store::regressions::RegressionReport).to_value(),
    }
}

/// Every schema fleetbench documents.
pub fn all() -> Vec<SchemaDoc> {
    vec![
        result_file(),
        ratios_file(),
        fleet_file(),
        comparison(),
        run_summary(),
        projection(),
        merge_report(),
        catalog(),
        devices(),
        validation(),
        report_listing(),
        store_runs(),
        store_ingest(),
        store_history(),
        store_regressions(),
    ]
}
