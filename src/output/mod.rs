//! The output layer: every command's analysis returns a typed model, and this module turns a
//! model into bytes at the edge.
//!
//! - JSON is serde of the model itself, so `--format json` has the same shape as the files the
//!   command writes with `-o`, numbers stay JSON numbers, and a JSON Schema describes it.
//! - Text, CSV and Markdown go through one trait, [`Tabular`]: the model lays itself out as
//!   titled tables of display strings, and [`render`] prints them in the chosen format. Text
//!   tables are fitted to the terminal's width; every text cell is escaped so a host or adapter
//!   name cannot drive the terminal.
//! - [`emit`] writes to stdout and tells a closed pipe apart from a real write error, so
//!   `fleetbench … | head -1` ends quietly while a full disk is still an error.

mod export;
mod format;
mod stdout;
mod table;
mod terminal;

pub use export::{file_format, Export};
pub use format::{number, Format};
pub use stdout::{emit, Emitted};
pub use table::{Section, Table};
pub use terminal::{escape_control, terminal_width};

use crate::error::{Error, Result};
use serde::Serialize;

/// A model that can lay itself out as tables for people (text, CSV, Markdown).
pub trait Tabular {
    /// The model as titled tables, in reading order.
    fn sections(&self) -> Vec<Section>;
}

/// Renders `model` in `format`; `width` bounds text tables (None: as wide as they need).
pub fn render<M: Serialize + Tabular + ?Sized>(
    model: &M,
    format: Format,
    width: Option<usize>,
) -> Result<String> {
    match format {
        Format::Json => json(model),
        format => Ok(render_sections(&model.sections(), format, width)),
    }
}

/// Prints `model` to stdout in `format`, like [`emit`] of [`render`], but JSON is serialised
/// straight to stdout through a buffer: a large model (a fleet's merge report, whose rows are
/// read back from temporary files) is never held as one string. A reader that goes away is
/// [`Emitted::PipeClosed`], as for [`emit`].
pub fn print<M: Serialize + Tabular + ?Sized>(
    model: &M,
    format: Format,
    width: Option<usize>,
) -> Result<Emitted> {
    if format != Format::Json {
        return emit(&render(model, format, width)?);
    }
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    let written = serde_json::to_writer_pretty(&mut out, model)
        .map_err(std::io::Error::from)
        .and_then(|()| std::io::Write::write_all(&mut out, b"\n"))
        .and_then(|()| std::io::Write::flush(&mut out));
    match written {
        Ok(()) => Ok(Emitted::Written),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(Emitted::PipeClosed),
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            Err(Error::Render(format!("JSON output: {e}")))
        }
        Err(e) => Err(Error::Output(e.to_string())),
    }
}

/// The model as pretty JSON followed by a newline.
pub fn json<M: Serialize + ?Sized>(model: &M) -> Result<String> {
    serde_json::to_string_pretty(model)
        .map(|s| s + "\n")
        .map_err(|e| Error::Render(format!("JSON output: {e}")))
}

/// Sections one after another; a single untitled section prints as a bare table.
pub fn render_sections(sections: &[Section], format: Format, width: Option<usize>) -> String {
    let mut out = String::new();
    for (i, section) in sections.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out += &section.render(format, width);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Model {
        ratio: f64,
        name: String,
    }

    impl Tabular for Model {
        fn sections(&self) -> Vec<Section> {
            let mut t = Table::new(&["name", "ratio"]);
            t.push(vec![self.name.clone(), format!("{:.2}", self.ratio)]);
            vec![Section::titled("ratios", t).with_note("one note")]
        }
    }

    #[test]
    fn json_is_the_model_and_text_is_its_tables() {
        let m = Model {
            ratio: 1.5,
            name: "a\u{1b}[2J".into(),
        };
        let v: serde_json::Value =
            serde_json::from_str(&render(&m, Format::Json, None).unwrap()).unwrap();
        assert_eq!(v["ratio"], 1.5);
        let text = render(&m, Format::Text, Some(80)).unwrap();
        assert!(text.starts_with("ratios\n"), "{text}");
        assert!(text.contains("1.50") && text.contains("one note"));
        assert!(
            !text.contains('\u{1b}'),
            "control character printed raw: {text:?}"
        );
        let md = render(&m, Format::Markdown, None).unwrap();
        assert!(md.starts_with("### ratios\n"), "{md}");
        let csv = render(&m, Format::Csv, None).unwrap();
        assert!(csv.starts_with("# ratios\nname,ratio\n"), "{csv}");
    }
}
