//! The model `fleetbench validate` prints: one verdict per file — clean, inconsistent with its
//! findings, or unreadable with the reason — and the exit status they add up to (0 clean, 1
//! inconsistent, 2 unreadable). Schema: `docs/schemas/validation.schema.json`.

use super::{check_file, Finding, PeakLookup};
use crate::output::{Section, Table, Tabular};
use crate::results;
use schemars::JsonSchema;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Every file's verdict, in the order the files were given.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ValidationReport {
    /// One entry per file.
    pub files: Vec<FileVerdict>,
}

/// How one file fared.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct FileVerdict {
    /// The file as given.
    pub path: PathBuf,
    /// What the checks found.
    pub verdict: Verdict,
}

/// The outcome of checking one file.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Verdict {
    /// Every check passed.
    Clean {
        /// How many cases the file holds.
        cases: usize,
    },
    /// The file parsed, but contradicts itself.
    Inconsistent {
        /// Every finding, file-level first.
        findings: Vec<FindingRecord>,
    },
    /// The file could not be read or parsed.
    Unreadable {
        /// Why, in one line.
        message: String,
    },
}

/// One finding as printed: its check by name.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct FindingRecord {
    /// The case it concerns; `None` for the file as a whole.
    pub case: Option<String>,
    /// The check's name (`statistics`, `samples`, …).
    pub check: String,
    /// What is wrong, in one line.
    pub message: String,
}

impl From<&Finding> for FindingRecord {
    fn from(f: &Finding) -> Self {
        FindingRecord {
            case: f.case.as_deref().map(one_line),
            check: f.check.label().to_string(),
            message: one_line(&f.message),
        }
    }
}

impl Verdict {
    /// The exit status this verdict calls for.
    pub fn exit_code(&self) -> u8 {
        match self {
            Verdict::Clean { .. } => 0,
            Verdict::Inconsistent { .. } => 1,
            Verdict::Unreadable { .. } => 2,
        }
    }
}

impl ValidationReport {
    /// The worst exit status of any file.
    pub fn exit_code(&self) -> u8 {
        self.files
            .iter()
            .map(|f| f.verdict.exit_code())
            .max()
            .unwrap_or(0)
    }
}

/// Loads `path` without the checks refusing it, and runs every check.
pub fn judge(path: &Path, peaks: &dyn PeakLookup) -> FileVerdict {
    let verdict = match results::load(path) {
        Err(e) => Verdict::Unreadable {
            message: one_line(&e.to_string()),
        },
        Ok(file) => {
            let findings = check_file(&file, peaks);
            if findings.is_empty() {
                Verdict::Clean {
                    cases: file.cases.len(),
                }
            } else {
                Verdict::Inconsistent {
                    findings: findings.iter().map(FindingRecord::from).collect(),
                }
            }
        }
    };
    FileVerdict {
        path: path.to_path_buf(),
        verdict,
    }
}

/// Hostile files can put newlines in ids and messages; a finding stays on one line.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Tabular for ValidationReport {
    fn sections(&self) -> Vec<Section> {
        let mut table = Table::new(&["file", "case", "check", "problem"]);
        for f in &self.files {
            let name = f.path.display().to_string();
            let mut row = |case: &str, check: &str, problem: String| {
                table.push(vec![name.clone(), case.into(), check.into(), problem]);
            };
            match &f.verdict {
                Verdict::Clean { cases } => row("-", "ok", format!("{cases} case(s) consistent")),
                Verdict::Unreadable { message } => row("-", "unreadable", message.clone()),
                Verdict::Inconsistent { findings } => {
                    for finding in findings {
                        let case = finding.case.as_deref().unwrap_or("-");
                        row(case, &finding.check, finding.message.clone());
                    }
                }
            }
        }
        vec![Section::untitled(table)]
    }
}
