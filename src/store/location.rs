//! Where the store is: a SQLite file or a PostgreSQL URL, and how to name it without leaking
//! a password. A URL may carry a password (`postgres://user:secret@host/db` or
//! `?password=secret`); every message, progress line and error shows [`Location::redacted`]
//! and passes through [`Location::hide`] instead.

use crate::error::{Error, Result};
use std::path::PathBuf;

/// The environment variable that names the store when `--db` is not given.
pub const DB_ENV: &str = "FLEETBENCH_DB";

/// The file name of the default SQLite store under the user's data directory.
pub const DEFAULT_FILE: &str = "results.sqlite";

/// A store's location.
#[derive(Clone, PartialEq, Eq)]
pub enum Location {
    /// An embedded SQLite database file.
    Sqlite(PathBuf),
    /// A PostgreSQL server, as a `postgres://` or `postgresql://` URL.
    Postgres(String),
}

/// Never print a URL with its password, even in a debug dump.
impl std::fmt::Debug for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Whether opening may create the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Create the SQLite file when missing (ingest).
    Create,
    /// The store must exist (queries): a mistyped path must not look like an empty fleet.
    Existing,
}

impl Location {
    /// A `postgres://` or `postgresql://` URL, else a SQLite file path.
    pub fn parse(text: &str) -> Location {
        let lower = text.to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            Location::Postgres(text.to_string())
        } else {
            Location::Sqlite(PathBuf::from(text))
        }
    }

    /// `--db` when given, else `FLEETBENCH_DB` when set, else the default SQLite file.
    pub fn resolve(flag: Option<&str>) -> Result<Location> {
        if let Some(text) = flag {
            return Ok(Location::parse(text));
        }
        match std::env::var(DB_ENV) {
            Ok(text) if !text.trim().is_empty() => Ok(Location::parse(&text)),
            _ => Ok(Location::Sqlite(default_sqlite_path()?)),
        }
    }

    /// The location as it may be printed: a URL's password replaced by `***`.
    pub fn redacted(&self) -> String {
        match self {
            Location::Sqlite(path) => path.display().to_string(),
            Location::Postgres(url) => redact_url(url),
        }
    }

    /// `message` with any occurrence of this location's password replaced by `***`: for text
    /// that came from a driver and might quote the connection string.
    pub fn hide(&self, message: &str) -> String {
        let Location::Postgres(url) = self else {
            return message.to_string();
        };
        let mut out = message.replace(url.as_str(), &redact_url(url));
        for secret in passwords(url) {
            if secret.len() >= 2 {
                out = out.replace(&secret, "***");
            }
        }
        out
    }
}

/// A command line with the password of every PostgreSQL URL in it hidden (`postgres://…` as
/// an argument or as `--flag=postgres://…`): what a result file may record.
pub fn redact_args(args: &[String]) -> Vec<String> {
    args.iter()
        .map(|arg| match arg.to_ascii_lowercase().find("postgres") {
            Some(at) if arg[at..].contains("://") => {
                format!("{}{}", &arg[..at], redact_url(&arg[at..]))
            }
            _ => arg.clone(),
        })
        .collect()
}

/// `$XDG_DATA_HOME/fleetbench/results.sqlite`, else `~/.local/share/fleetbench/results.sqlite`.
pub fn default_sqlite_path() -> Result<PathBuf> {
    let base = std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|home| PathBuf::from(home).join(".local").join("share"))
        })
        .ok_or_else(|| {
            Error::Config(
                "no data directory (neither XDG_DATA_HOME nor HOME is set): give --db PATH"
                    .to_string(),
            )
        })?;
    Ok(base.join("fleetbench").join(DEFAULT_FILE))
}

/// The authority part's user-info end (`@`) and the start of the query, within `rest` (the URL
/// after `://`).
fn split_url(rest: &str) -> (Option<usize>, usize) {
    let query = rest.find('?').unwrap_or(rest.len());
    (rest[..query].rfind('@'), query)
}

/// The URL with its user-info password and any `password=` query value replaced by `***`.
fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let (scheme, rest) = url.split_at(scheme_end + 3);
    let (at, query) = split_url(rest);
    let mut out = scheme.to_string();
    match at {
        Some(at) => {
            let user = rest[..at].split(':').next().unwrap_or("");
            let hidden = if rest[..at].contains(':') { ":***" } else { "" };
            out += &format!("{user}{hidden}@{}", &rest[at + 1..query]);
        }
        None => out += &rest[..query],
    }
    if query < rest.len() {
        out.push('?');
        out += &redact_query(&rest[query + 1..]);
    }
    out
}

fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
            _ => pair.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Every password the URL carries, as written and percent-decoded.
fn passwords(url: &str) -> Vec<String> {
    let Some(scheme_end) = url.find("://") else {
        return Vec::new();
    };
    let rest = &url[scheme_end + 3..];
    let (at, query) = split_url(rest);
    let mut found = Vec::new();
    if let Some((_, secret)) = at.and_then(|at| rest[..at].split_once(':')) {
        found.push(secret.to_string());
    }
    if query < rest.len() {
        for pair in rest[query + 1..].split('&') {
            if let Some((key, value)) = pair.split_once('=') {
                if key.eq_ignore_ascii_case("password") {
                    found.push(value.to_string());
                }
            }
        }
    }
    let decoded: Vec<String> = found.iter().map(|s| percent_decode(s)).collect();
    found.extend(decoded);
    found
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| {
            std::str::from_utf8(h)
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        });
        match (bytes[i], hex) {
            (b'%', Some(value)) => {
                out.push(value);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_postgres_and_the_rest_are_files() {
        assert!(matches!(
            Location::parse("postgresql://h/db"),
            Location::Postgres(_)
        ));
        assert!(matches!(
            Location::parse("POSTGRES://h/db"),
            Location::Postgres(_)
        ));
        assert_eq!(
            Location::parse("fleet.sqlite"),
            Location::Sqlite(PathBuf::from("fleet.sqlite"))
        );
    }

    #[test]
    fn command_lines_lose_their_passwords() {
        let args: Vec<String> = [
            "fleetbench",
            "run",
            "--store=postgres://a:pw1@h/d",
            "--store",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain(["postgresql://b:pw2@h/d".to_string()])
        .collect();
        let shown = redact_args(&args).join(" ");
        assert!(!shown.contains("pw1") && !shown.contains("pw2"), "{shown}");
        assert!(shown.contains("--store=postgres://a:***@h/d"), "{shown}");
    }

    #[test]
    fn passwords_never_show() {
        let url = "postgres://ops:s3cr%40t@db.example:5432/fleet?password=other&sslmode=disable";
        let location = Location::parse(url);
        let shown = location.redacted();
        assert_eq!(
            shown,
            "postgres://ops:***@db.example:5432/fleet?password=***&sslmode=disable"
        );
        let message = format!("cannot connect to {url}: wrong password s3cr@t or other");
        let hidden = location.hide(&message);
        for secret in ["s3cr%40t", "s3cr@t", "other"] {
            assert!(!hidden.contains(secret), "{hidden}");
        }
        assert_eq!(format!("{location:?}"), shown);
        assert_eq!(
            Location::parse("postgres://ops@h/db").redacted(),
            "postgres://ops@h/db"
        );
    }
}
