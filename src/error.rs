//! Typed errors for the library. Every variant that touches a file carries its path, so the
//! binary's one-line message always says *which* file was wrong, not only *what* was wrong.

use std::path::PathBuf;

/// Everything the library can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{path}: {cause}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The operating system's error. Deliberately not a `#[source]`: the message already
        /// includes it, and `{:#}` would print it twice.
        cause: std::io::Error,
    },
    /// A file could not be written (a full disk, a quota, no permission); any file that was
    /// there before is unchanged, because writes only take the name once complete.
    #[error("{path}: not written: {cause}; any existing file is unchanged")]
    Unwritten {
        /// The file that was to be written.
        path: PathBuf,
        /// The operating system's error (not a `#[source]`, as for [`Error::Io`]).
        cause: std::io::Error,
    },
    /// A run that was to replace an existing result file failed before it was complete: the
    /// old file is untouched and the new samples so far are beside it.
    #[error("{cause}; {} is unchanged{}", kept.display(), partial_note(partial))]
    Kept {
        /// What went wrong, in one line.
        cause: String,
        /// The existing file, still as it was.
        kept: PathBuf,
        /// The new run's file so far, when one was written.
        partial: Option<PathBuf>,
    },
    /// A file was read but its contents could not be parsed.
    #[error("{path}: {message}")]
    Parse {
        /// The file involved.
        path: PathBuf,
        /// What was wrong, in one line.
        message: String,
    },
    /// A file parsed but its contents are inconsistent or out of range.
    #[error("{path}: {message}")]
    Invalid {
        /// The file involved.
        path: PathBuf,
        /// What was wrong, in one line.
        message: String,
    },
    /// A user-supplied option or value is not acceptable.
    #[error("{0}")]
    Config(String),
    /// Result files that cannot be compared as asked (no shared metric, a pooled group that
    /// mixes devices); the message names the files.
    #[error("{0}")]
    Incomparable(String),
    /// No adapter, a failed device request, or another GPU-side problem.
    #[error("{0}")]
    Gpu(String),
    /// The requested output file exists and `--force` was not given.
    #[error("{path}: already exists (use --force to overwrite)")]
    Exists {
        /// The file that would have been overwritten.
        path: PathBuf,
    },
    /// Too few usable values to compute a statistic.
    #[error("not enough samples: {0}")]
    Samples(String),
    /// Writing a command's output to stdout failed (a full disk behind a redirection).
    #[error("writing to stdout: {0}")]
    Output(String),
    /// The results database failed or refused an operation. `db` names the database with any
    /// password replaced, so no message can leak it.
    #[error("{db}: {message}")]
    Store {
        /// The database's location, password hidden.
        db: String,
        /// What went wrong, in one line.
        message: String,
    },
    /// A chart or page could not be drawn.
    #[error("cannot draw {0}")]
    Render(String),
}

/// Where the samples of a run that could not replace its old file are, for [`Error::Kept`].
fn partial_note(partial: &Option<PathBuf>) -> String {
    partial.as_ref().map_or(String::new(), |p| {
        format!("; the samples taken so far are in {}", p.display())
    })
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An I/O error for `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            cause: source,
        }
    }

    /// A parse error for `path`.
    pub fn parse(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Parse {
            path: path.into(),
            message: message.into(),
        }
    }

    /// A consistency error for `path`.
    pub fn invalid(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Invalid {
            path: path.into(),
            message: message.into(),
        }
    }
}
