//! Writing a command's model to the file named by `-o`. Every analysis command shares one rule:
//! stdout gets the model in `--format`, and `-o FILE` also writes it to FILE in the format the
//! extension names. The file is checked when the flags are read, before any input is loaded,
//! so an existing file without `--force`, a FIFO or an input given as the output fails at once
//! instead of after minutes of work.

use super::{render, Format, Tabular};
use crate::error::{Error, Result};
use crate::fsio::{self, Overwrite};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// A checked `-o` target: where the model goes and in which format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    path: PathBuf,
    format: Format,
    overwrite: Overwrite,
}

impl Export {
    /// Checks `path` before any work: its extension names a file format, it may be written
    /// (missing, or a regular file with `force`), and it is none of `inputs`.
    pub fn check(path: &Path, force: bool, inputs: &[PathBuf]) -> Result<Export> {
        let format = file_format(path)?;
        let overwrite = Overwrite::from_force(force);
        fsio::check_target(path, overwrite)?;
        fsio::check_not_input(path, inputs)?;
        Ok(Export {
            path: path.to_path_buf(),
            format,
            overwrite,
        })
    }

    /// Where the model is written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The format the extension names.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Renders `model` (tables at full width) and writes it through the one safe writer. JSON
    /// is serialised straight into the file, so a large model (a fleet's merge report, whose
    /// rows are read back from temporary files) is never held as one string.
    pub fn write<M: Serialize + Tabular + ?Sized>(&self, model: &M) -> Result<()> {
        if self.format == Format::Json {
            return fsio::write_file_with(&self.path, self.overwrite, |out| {
                serde_json::to_writer_pretty(&mut *out, model)?;
                out.write_all(b"\n")
            });
        }
        let text = render(model, self.format, None)?;
        fsio::write_file(&self.path, text.as_bytes(), self.overwrite)
    }
}

/// The file format an output name asks for: `.json`, `.csv`, `.md` or `.markdown`.
pub fn file_format(path: &Path) -> Result<Format> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    match ext.to_ascii_lowercase().as_str() {
        "json" => Ok(Format::Json),
        "csv" => Ok(Format::Csv),
        "md" | "markdown" => Ok(Format::Markdown),
        _ => Err(Error::Config(format!(
            "-o {}: expected a .json, .csv or .md file name",
            path.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::{Section, Table};

    #[derive(Serialize)]
    struct Model {
        value: u32,
    }

    impl Tabular for Model {
        fn sections(&self) -> Vec<Section> {
            let mut t = Table::new(&["value"]);
            t.push(vec![self.value.to_string()]);
            vec![Section::titled("Model", t)]
        }
    }

    #[test]
    fn the_extension_names_the_format() {
        assert_eq!(file_format(Path::new("a.json")).unwrap(), Format::Json);
        assert_eq!(file_format(Path::new("a.CSV")).unwrap(), Format::Csv);
        assert_eq!(file_format(Path::new("a.md")).unwrap(), Format::Markdown);
        let e = file_format(Path::new("a.txt")).unwrap_err().to_string();
        assert!(
            e.contains("a.txt") && e.contains(".json, .csv or .md"),
            "{e}"
        );
        assert!(file_format(Path::new("noext")).is_err());
    }

    #[test]
    fn an_existing_file_or_an_input_is_refused_before_any_work() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.json");
        std::fs::write(&out, "{}").unwrap();
        let e = Export::check(&out, false, &[]).unwrap_err().to_string();
        assert!(e.contains("already exists"), "{e}");
        let e = Export::check(&out, true, std::slice::from_ref(&out)).unwrap_err();
        assert!(e.to_string().contains("out.json"), "{e}");
        let export = Export::check(&out, true, &[]).unwrap();
        export.write(&Model { value: 7 }).unwrap();
        let written: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
        assert_eq!(written["value"], 7);
    }
}
