//! The `--format` vocabulary every command shares.

use std::fmt;
use std::str::FromStr;

/// How a command prints its model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Aligned text tables for people, fitted to the terminal.
    #[default]
    Text,
    /// The model itself, serialised (numbers as numbers).
    Json,
    /// RFC 4180 comma-separated values, one block per table.
    Csv,
    /// GitHub-flavoured Markdown tables.
    Markdown,
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "text" => Ok(Format::Text),
            "json" => Ok(Format::Json),
            "csv" => Ok(Format::Csv),
            "markdown" | "md" => Ok(Format::Markdown),
            other => Err(format!(
                "unknown format '{other}' (expected text, json, csv or markdown)"
            )),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Markdown => "markdown",
        })
    }
}

/// A number for a message or a label: as written where that is short, in scientific notation
/// where plain digits would run to hundreds (`1e-300`, `1e308`), so no line is a wall of zeros.
pub fn number(v: f64) -> String {
    let magnitude = v.abs();
    if v == 0.0 || !v.is_finite() || (1e-4..1e6).contains(&magnitude) {
        format!("{v}")
    } else {
        format!("{v:e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extreme_numbers_are_short() {
        assert_eq!(number(2.5), "2.5");
        assert_eq!(number(1e-300), "1e-300");
        assert_eq!(number(1e308), "1e308");
        assert_eq!(number(-3e7), "-3e7");
        assert_eq!(number(0.0), "0");
        assert_eq!(number(123456.0), "123456");
    }

    #[test]
    fn formats_parse() {
        assert_eq!("md".parse::<Format>(), Ok(Format::Markdown));
        assert_eq!("JSON".parse::<Format>(), Ok(Format::Json));
        assert!("xml".parse::<Format>().is_err());
    }
}
