//! JSON Schemas of the files fleetbench reads, generated from the Rust types themselves so the
//! documented format cannot drift from the code: the committed copies under `docs/schemas/`
//! are checked against these in the tests. Regenerate them after changing a type with
//! `FLEETBENCH_UPDATE_SCHEMAS=1 cargo test --test schemas`.

use crate::equiv::RatiosFile;
use crate::fleet::FleetFile;
use crate::results::ResultFile;

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

/// The schema of `fleetbench run --format json`: the run summary.
pub fn run_summary() -> SchemaDoc {
    SchemaDoc {
        name: "run-summary",
        path: "docs/schemas/run-summary.schema.json",
        schema: schemars::schema_for!(crate::render::RunSummary).to_value(),
    }
}

/// Every schema fleetbench documents.
pub fn all() -> Vec<SchemaDoc> {
    vec![result_file(), ratios_file(), fleet_file(), run_summary()]
}
