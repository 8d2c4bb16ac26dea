//! The one loader for fleetbench's versioned JSON files (result files, ratios files). Each
//! format describes itself once — its name, size limit, `kind` tag, current version and the
//! migrations from older versions — and every file of every format is then read the same way:
//!
//! 1. bounded bytes ([`super::read_bounded`]), refused when empty or not UTF-8;
//! 2. strict JSON ([`super::json::parse_strict`]: a repeated key is refused);
//!    a file already at the current version is scanned for repeated keys without building a
//!    tree and deserialized straight from its text (`parse_current`), with the same outcome;
//! 3. the header: an object, the `kind` tag when the format has one, and a numeric version
//!    (`"2"` is told it must be a number, not that it is missing);
//! 4. the registered migrations, oldest first, each moving the document one version on;
//! 5. serde, which rejects unknown fields.
//!
//! Before this, each format wrote these steps out itself, and their messages had drifted.

use super::FileKind;
use crate::error::{Error, Result};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::path::Path;

/// Rewrites a document of version `from` into version `from + 1` in memory. An `Err` is a
/// message about the file's contents (the loader names the file).
pub type Upgrade = fn(&mut Value) -> std::result::Result<(), String>;

/// One step of a format's history.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// The version this step reads; it writes `from + 1`.
    pub from: u32,
    /// The rewrite.
    pub upgrade: Upgrade,
}

/// Everything the loader needs to know about one file format.
#[derive(Debug, Clone, Copy)]
pub struct VersionedFormat {
    /// Name and size limit, as for any bounded read.
    pub file: FileKind,
    /// The value of the top-level `kind` field every file of the format carries, if any.
    pub kind_tag: Option<&'static str>,
    /// The name of the version field (`schema_version`).
    pub version_field: &'static str,
    /// The version this build writes.
    pub current: u32,
    /// Steps from older versions, one per version, in any order; a version with no path to
    /// `current` is not supported.
    pub migrations: &'static [Migration],
}

impl VersionedFormat {
    /// Reads, checks, migrates and deserializes the file at `path`.
    pub fn load<T: DeserializeOwned>(&self, path: &Path) -> Result<T> {
        let bytes = super::read_bounded(path, self.file)?;
        self.parse(path, &bytes)
    }

    /// Does the same for bytes already read; `path` only names the source in errors.
    pub fn parse<T: DeserializeOwned>(&self, path: &Path, bytes: &[u8]) -> Result<T> {
        if let Some(parsed) = self.parse_current(bytes) {
            return Ok(parsed);
        }
        let mut value = self.parse_json(path, bytes)?;
        let version = self.check_header(path, &value)?;
        self.migrate(path, &mut value, version)?;
        serde_json::from_value(value)
            .map_err(|e| Error::parse(path, format!("not a valid {}: {e}", self.file.noun)))
    }

    /// The fast path, for a file of the current version: a scan for repeated keys
    /// ([`super::json::scan_keys`]) instead of building a [`Value`] tree, then serde straight
    /// from the text (which checks the syntax), several times cheaper. Anything else (an error of any kind, an
    /// older version, a missing kind) is `None` and goes through the general path, which also
    /// words every message, so both paths accept and refuse exactly the same files.
    fn parse_current<T: DeserializeOwned>(&self, bytes: &[u8]) -> Option<T> {
        let text = std::str::from_utf8(bytes).ok()?;
        let top = super::json::scan_keys(text, &["kind", self.version_field])?;
        let field = |name: &str| top.kept.iter().find(|(k, _)| k == name).map(|(_, v)| v);
        let version = field(self.version_field)?.as_u64()?;
        let kind_matches = self
            .kind_tag
            .is_none_or(|tag| field("kind").and_then(Value::as_str) == Some(tag));
        if !top.is_object || version != u64::from(self.current) || !kind_matches {
            return None;
        }
        serde_json::from_str(text).ok()
    }

    /// Bytes → strict JSON value, with messages for empty, non-text and malformed files.
    fn parse_json(&self, path: &Path, bytes: &[u8]) -> Result<Value> {
        let noun = self.file.noun;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(Error::parse(
                path,
                format!("empty file, not a fleetbench {noun}"),
            ));
        }
        let text = std::str::from_utf8(bytes)
            .map_err(|e| Error::parse(path, format!("not UTF-8 text ({e})")))?;
        super::json::parse_strict(text).map_err(|e| {
            if super::json::is_duplicate_key(&e) {
                Error::parse(path, format!("not a valid {noun}: {e}"))
            } else {
                Error::parse(path, format!("invalid JSON: {e}"))
            }
        })
    }

    /// The document's version, once it is known to be an object of this format's kind with a
    /// version this build can read.
    fn check_header(&self, path: &Path, value: &Value) -> Result<u32> {
        let noun = self.file.noun;
        let not_this = |why: String| Error::parse(path, format!("not a fleetbench {noun} ({why})"));
        let Some(object) = value.as_object() else {
            return Err(not_this("top level is not an object".into()));
        };
        if let Some(tag) = self.kind_tag {
            if object.get("kind").and_then(Value::as_str) != Some(tag) {
                return Err(not_this(format!("no \"kind\": \"{tag}\"")));
            }
        }
        let field = self.version_field;
        let version = match object.get(field) {
            None => return Err(not_this(format!("no {field} field"))),
            Some(v) if v.is_number() => v,
            Some(v) => {
                return Err(Error::parse(
                    path,
                    format!(
                        "{field} {v} must be a number, as in \"{field}\": {}",
                        self.current
                    ),
                ))
            }
        };
        version
            .as_u64()
            .and_then(|v| u32::try_from(v).ok())
            .filter(|v| *v == self.current || self.step_from(*v).is_some())
            .ok_or_else(|| {
                Error::parse(
                    path,
                    format!(
                        "{field} {version} is not supported (this build reads {})",
                        self.readable()
                    ),
                )
            })
    }

    /// Applies every step from `version` up to the current one.
    fn migrate(&self, path: &Path, value: &mut Value, mut version: u32) -> Result<()> {
        while version != self.current {
            let step = self.step_from(version).ok_or_else(|| {
                Error::parse(
                    path,
                    format!("no migration from {} {version}", self.version_field),
                )
            })?;
            (step.upgrade)(value).map_err(|m| Error::invalid(path, m))?;
            version += 1;
            if let Some(object) = value.as_object_mut() {
                object.insert(self.version_field.into(), Value::from(version));
            }
        }
        Ok(())
    }

    /// The step that reads `version`, when a chain of steps leads from it to the current one.
    fn step_from(&self, version: u32) -> Option<&Migration> {
        let step = self.migrations.iter().find(|m| m.from == version)?;
        let mut next = version + 1;
        while next < self.current {
            self.migrations.iter().find(|m| m.from == next)?;
            next += 1;
        }
        (next == self.current).then_some(step)
    }

    /// "1 to 2", or "2" for a format without migrations.
    fn readable(&self) -> String {
        let oldest = (0..self.current)
            .rev()
            .take_while(|v| self.migrations.iter().any(|m| m.from == *v))
            .last();
        match oldest {
            Some(oldest) => format!("{oldest} to {}", self.current),
            None => self.current.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Doc {
        kind: String,
        schema_version: u32,
        total: u64,
    }

    fn rename_count(v: &mut Value) -> std::result::Result<(), String> {
        let object = v.as_object_mut().ok_or("not an object")?;
        let count = object.remove("count").ok_or("version 1 needs a count")?;
        object.insert("sum".into(), count);
        Ok(())
    }

    fn rename_sum(v: &mut Value) -> std::result::Result<(), String> {
        let object = v.as_object_mut().ok_or("not an object")?;
        let sum = object.remove("sum").ok_or("version 2 needs a sum")?;
        object.insert("total".into(), sum);
        Ok(())
    }

    /// Listed out of order on purpose: the loader orders the steps by version.
    const FORMAT: VersionedFormat = VersionedFormat {
        file: FileKind {
            noun: "test file",
            max_bytes: 1024,
        },
        kind_tag: Some("fleetbench-test"),
        version_field: "schema_version",
        current: 3,
        migrations: &[
            Migration {
                from: 2,
                upgrade: rename_sum,
            },
            Migration {
                from: 1,
                upgrade: rename_count,
            },
        ],
    };

    fn parse(text: &str) -> Result<Doc> {
        FORMAT.parse(Path::new("t.json"), text.as_bytes())
    }

    fn message(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn every_older_version_is_migrated_in_order() {
        let want = Doc {
            kind: "fleetbench-test".into(),
            schema_version: 3,
            total: 7,
        };
        for text in [
            r#"{"kind":"fleetbench-test","schema_version":1,"count":7}"#,
            r#"{"kind":"fleetbench-test","schema_version":2,"sum":7}"#,
            r#"{"kind":"fleetbench-test","schema_version":3,"total":7}"#,
        ] {
            assert_eq!(parse(text).unwrap(), want, "{text}");
        }
    }

    #[test]
    fn the_header_is_checked_before_the_shape() {
        let cases = [
            ("", "t.json: empty file, not a fleetbench test file"),
            (
                "[1]",
                "not a fleetbench test file (top level is not an object)",
            ),
            (
                r#"{"schema_version":3}"#,
                "no \"kind\": \"fleetbench-test\"",
            ),
            (r#"{"kind":"fleetbench-test"}"#, "(no schema_version field)"),
            (
                r#"{"kind":"fleetbench-test","schema_version":"3"}"#,
                "schema_version \"3\" must be a number",
            ),
            (
                r#"{"kind":"fleetbench-test","schema_version":9}"#,
                "schema_version 9 is not supported (this build reads 1 to 3)",
            ),
            (
                r#"{"kind":"fleetbench-test","schema_version":1.5}"#,
                "schema_version 1.5 is not supported",
            ),
            (
                r#"{"kind":"fleetbench-test","schema_version":0}"#,
                "schema_version 0 is not supported",
            ),
            ("{\"kind\":1", "invalid JSON"),
            (
                r#"{"kind":"fleetbench-test","kind":"x"}"#,
                "not a valid test file: duplicate key",
            ),
        ];
        for (text, phrase) in cases {
            let m = message(text);
            assert!(
                m.starts_with("t.json: ") && m.contains(phrase),
                "{text}: {m}"
            );
        }
        let not_text = FORMAT.parse::<Doc>(Path::new("t.json"), &[0xff, 0xfe]);
        assert!(not_text.unwrap_err().to_string().contains("not UTF-8"));
    }

    #[test]
    fn a_failed_migration_and_a_wrong_shape_name_the_file() {
        let m = message(r#"{"kind":"fleetbench-test","schema_version":1,"sum":7}"#);
        assert_eq!(m, "t.json: version 1 needs a count");
        let m = message(r#"{"kind":"fleetbench-test","schema_version":3,"total":7,"x":1}"#);
        assert!(
            m.starts_with("t.json: not a valid test file: unknown field"),
            "{m}"
        );
    }

    #[test]
    fn a_gap_in_the_history_is_not_supported() {
        let gappy = VersionedFormat {
            migrations: &[Migration {
                from: 1,
                upgrade: rename_count,
            }],
            ..FORMAT
        };
        let m = gappy
            .parse::<Doc>(
                Path::new("t.json"),
                br#"{"kind":"fleetbench-test","schema_version":1,"count":7}"#,
            )
            .unwrap_err()
            .to_string();
        assert!(
            m.contains("schema_version 1 is not supported (this build reads 3)"),
            "{m}"
        );
    }
}
