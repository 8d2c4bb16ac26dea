//! The one place result files are read and written. Writes are atomic (temporary file in the
//! same directory, then rename) so a crash never leaves half a file; loads go through the one
//! versioned loader ([`crate::fsio::versioned`]), which checks the version before the shape so
//! another tool's JSON gets a message that says so.

use super::schema::{ResultFile, SCHEMA_VERSION};
use crate::error::{Error, Result};
use crate::fsio::versioned::{Migration, VersionedFormat};
use crate::fsio::{self, Overwrite};
use std::path::{Path, PathBuf};

/// Files larger than this are refused before parsing: no real result file comes close.
pub const MAX_FILE_BYTES: u64 = fsio::RESULT_FILE.max_bytes;

/// Writes `file` to `path`, replacing the file this run already wrote there (see
/// [`fsio::write_file`]: complete before visible, regular files only).
pub fn save_atomic(path: &Path, file: &ResultFile) -> Result<()> {
    save(path, file, Overwrite::Replace)
}

/// Writes `file` to `path` under `overwrite`: the first save of a run uses
/// [`Overwrite::Refuse`] unless `--force` was given, so two runs cannot share one output.
pub fn save(path: &Path, file: &ResultFile, overwrite: Overwrite) -> Result<()> {
    let json = serde_json::to_vec_pretty(file)
        .map_err(|e| Error::invalid(path, format!("cannot serialize: {e}")))?;
    fsio::write_file(path, &json, overwrite)
}

/// Writes raw bytes, replacing an existing regular file once the new bytes are complete; kept
/// for writers whose `--force` check happened earlier. Prefer [`fsio::write_file`].
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    fsio::write_file(path, bytes, Overwrite::Replace)
}

/// Reads bytes of a file that must be a regular file under [`MAX_FILE_BYTES`].
pub fn read_limited(path: &Path) -> Result<Vec<u8>> {
    fsio::read_bounded(path, fsio::RESULT_FILE)
}

/// The result file as a versioned format: version 1 (flat interval numbers) is migrated on
/// load by [`super::migrate::v1_to_v2`].
pub const RESULT_FORMAT: VersionedFormat = VersionedFormat {
    file: fsio::RESULT_FILE,
    kind_tag: None,
    version_field: "schema_version",
    current: SCHEMA_VERSION,
    migrations: &[Migration {
        from: 1,
        upgrade: super::migrate::v1_to_v2,
    }],
};

/// Loads and parses a result file, checking its schema version first — and nothing about its
/// meaning. Internal: commands that use a file's numbers load it through
/// [`crate::validate::load_checked`], which re-derives every statistic and refuses a file that
/// contradicts itself; only the checker itself (and tests that build files) read unchecked.
pub fn load(path: &Path) -> Result<ResultFile> {
    RESULT_FORMAT.load(path)
}

/// Parses result-file bytes; `path` only names the source in errors.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<ResultFile> {
    RESULT_FORMAT.parse(path, bytes)
}

/// A file-name-safe lower-case slug: runs of other characters become one dash.
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_matches('-');
    if trimmed.is_empty() {
        "unknown".to_string()
    } else {
        trimmed.to_string()
    }
}

/// `results/<yyyy-mm-dd>_<device-slug>_<backend>.json`.
pub fn default_path(date: &str, device_name: &str, backend: &str) -> PathBuf {
    PathBuf::from("results").join(format!(
        "{date}_{}_{}.json",
        slug(device_name),
        slug(backend)
    ))
}

/// `<host>_gpu<index>_<run id>.json`: unique per unit and run, so hundreds of cluster tasks can
/// share one directory.
pub fn unit_file_name(host: &str, device_index: usize, run_id: &str) -> String {
    format!("{}_gpu{device_index}_{}.json", slug(host), slug(run_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_file_name_safe() {
        assert_eq!(
            slug("llvmpipe (LLVM 15.0.6, 256 bits)"),
            "llvmpipe-llvm-15-0-6-256-bits"
        );
        assert_eq!(slug("NVIDIA H200"), "nvidia-h200");
        assert_eq!(slug("///"), "unknown");
    }

    #[test]
    fn default_path_names_date_device_and_backend() {
        assert_eq!(
            default_path("2026-11-28", "NVIDIA H200", "Vulkan"),
            PathBuf::from("results/2026-11-28_nvidia-h200_vulkan.json")
        );
    }

    #[test]
    fn unit_file_names_carry_host_device_and_run() {
        assert_eq!(
            unit_file_name("node-17.cluster", 3, "20261128T101500Z-0000abcd"),
            "node-17-cluster_gpu3_20261128t101500z-0000abcd.json"
        );
    }

    #[test]
    fn parse_explains_what_is_wrong() {
        let p = Path::new("x.json");
        let msg = |b: &[u8]| parse(p, b).unwrap_err().to_string();
        assert!(msg(b"").contains("empty file"));
        assert!(msg(b"[1,2]").contains("not an object"));
        assert!(msg(b"{\"a\":1}").contains("no schema_version"));
        assert!(msg(b"{\"schema_version\":99}").contains("schema_version 99 is not supported"));
        assert!(msg(b"{\"schema_version\":\"2\"}").contains("\"2\" must be a number"));
        assert!(msg(b"{\"schema_version\":1").contains("invalid JSON"));
        assert!(msg(&[0xff, 0xfe]).contains("not UTF-8"));
        assert!(msg(b"{\"schema_version\":1}").starts_with("x.json: not a valid result file"));
    }
}
