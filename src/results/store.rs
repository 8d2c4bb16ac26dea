//! The one place result files are read and written. Writes are atomic (temporary file in the
//! same directory, then rename) so a crash never leaves half a file; loads check the version
//! before the shape so another tool's JSON gets a message that says so.

use super::schema::{ResultFile, SCHEMA_VERSION};
use crate::error::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Files larger than this are refused before parsing: no real result file comes close.
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// Writes `file` to `path` atomically: readers see the old file or the new one, never a mix.
pub fn save_atomic(path: &Path, file: &ResultFile) -> Result<()> {
    let json = serde_json::to_vec_pretty(file)
        .map_err(|e| Error::invalid(path, format!("cannot serialize: {e}")))?;
    write_atomic(path, &json)
}

/// Writes raw bytes atomically; shared by every writer of files the tool produces.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".fleetbench-").suffix(".tmp");
    // Temporary files are private (0600) by default; a result file is meant to be shared, e.g.
    // read by `merge` from a cluster's common directory under another user.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    let mut tmp = builder.tempfile_in(&dir).map_err(|e| Error::io(path, e))?;
    tmp.write_all(bytes).map_err(|e| Error::io(path, e))?;
    tmp.as_file().sync_all().map_err(|e| Error::io(path, e))?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

/// Reads bytes of a file that must be a regular file under [`MAX_FILE_BYTES`].
pub fn read_limited(path: &Path) -> Result<Vec<u8>> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.is_dir() {
        return Err(Error::parse(path, "is a directory, not a file"));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(Error::parse(
            path,
            format!(
                "{} bytes is larger than the {MAX_FILE_BYTES}-byte limit",
                meta.len()
            ),
        ));
    }
    std::fs::read(path).map_err(|e| Error::io(path, e))
}

/// Loads and parses a result file, checking its schema version first — and nothing about its
/// meaning. Internal: commands that use a file's numbers load it through
/// [`crate::validate::load_checked`], which re-derives every statistic and refuses a file that
/// contradicts itself; only the checker itself (and tests that build files) read unchecked.
pub fn load(path: &Path) -> Result<ResultFile> {
    let bytes = read_limited(path)?;
    parse(path, &bytes)
}

/// Parses result-file bytes; `path` only names the source in errors.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<ResultFile> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::parse(
            path,
            "empty file, not a fleetbench result file",
        ));
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|e| Error::parse(path, format!("not UTF-8 text ({e})")))?;
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| Error::parse(path, format!("invalid JSON: {e}")))?;
    let value = match check_version(path, &value)? {
        SCHEMA_VERSION => value,
        _ => super::migrate::from_v1(value),
    };
    serde_json::from_value(value)
        .map_err(|e| Error::parse(path, format!("not a valid result file: {e}")))
}

/// The file's schema version when this build reads it (the current one, or version 1, which
/// is migrated on load).
fn check_version(path: &Path, value: &serde_json::Value) -> Result<u32> {
    let Some(object) = value.as_object() else {
        return Err(Error::parse(
            path,
            "not a fleetbench result file (top level is not an object)",
        ));
    };
    match object.get("schema_version") {
        None => Err(Error::parse(
            path,
            "not a fleetbench result file (no schema_version field)",
        )),
        Some(v) if v.as_u64() == Some(u64::from(SCHEMA_VERSION)) => Ok(SCHEMA_VERSION),
        Some(v) if v.as_u64() == Some(1) => Ok(1),
        Some(v) => Err(Error::parse(
            path,
            format!("schema_version {v} is not supported (this build reads 1 to {SCHEMA_VERSION})"),
        )),
    }
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

    #[cfg(unix)]
    #[test]
    fn written_files_are_readable_by_others() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        write_atomic(&path, b"{}").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o044, 0o044, "mode {mode:o}");
    }

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
        assert!(msg(b"{\"schema_version\":1").contains("invalid JSON"));
        assert!(msg(&[0xff, 0xfe]).contains("not UTF-8"));
        assert!(msg(b"{\"schema_version\":1}").starts_with("x.json: not a valid result file"));
    }
}
