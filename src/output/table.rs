//! Tables of display strings, and titled sections of them, rendered as text, CSV or Markdown.
//! JSON never passes through here: it is serde of the model.

use super::terminal::escape_control;
use super::Format;
use comfy_table::{ContentArrangement, Table as Grid};

/// Headers and rows of display strings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    /// Column names.
    pub headers: Vec<String>,
    /// Rows, each as long as `headers`.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// An empty table with these column names.
    pub fn new(headers: &[&str]) -> Self {
        Table {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row.
    pub fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Renders in a tabular `format`. JSON is never a table's business: [`super::render`]
    /// serialises the model itself, so a table asked for JSON gives its CSV form.
    pub fn render(&self, format: Format, width: Option<usize>) -> String {
        match format {
            Format::Text => self.text(width),
            Format::Markdown => self.markdown(),
            Format::Csv | Format::Json => self.csv(),
        }
    }

    fn text(&self, width: Option<usize>) -> String {
        let mut grid = Grid::new();
        grid.load_preset(comfy_table::presets::UTF8_BORDERS_ONLY);
        if let Some(width) = width {
            grid.set_content_arrangement(ContentArrangement::Dynamic);
            grid.set_width(u16::try_from(width).unwrap_or(u16::MAX));
        }
        grid.set_header(self.headers.iter().map(|h| escape_control(h)));
        for row in &self.rows {
            grid.add_row(row.iter().map(|c| escape_control(c)));
        }
        format!("{grid}\n")
    }

    fn csv(&self) -> String {
        let line = |cells: &[String]| {
            cells
                .iter()
                .map(|c| csv_cell(c))
                .collect::<Vec<_>>()
                .join(",")
        };
        let mut out = line(&self.headers) + "\n";
        for row in &self.rows {
            out += &(line(row) + "\n");
        }
        out
    }

    fn markdown(&self) -> String {
        let line = |cells: &[String]| {
            let escaped: Vec<String> = cells
                .iter()
                .map(|c| escape_control(c).replace('|', "\\|"))
                .collect();
            format!("| {} |\n", escaped.join(" | "))
        };
        let mut out = line(&self.headers);
        out += &format!("|{}\n", "---|".repeat(self.headers.len()));
        for row in &self.rows {
            out += &line(row);
        }
        out
    }
}

/// A CSV cell: control characters escaped (a terminal may show the file), then quoted when the
/// cell holds a separator, a quote or a line break.
fn csv_cell(cell: &str) -> String {
    let cell = escape_control(cell);
    if cell.contains([',', '"']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell
    }
}

/// One titled table with notes under it (what was left out and why, labels' meanings).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Section {
    /// Heading; `None` prints the table alone.
    pub title: Option<String>,
    /// The rows.
    pub table: Table,
    /// Lines printed after the table (as `# ` comments in CSV).
    pub notes: Vec<String>,
}

impl Section {
    /// A section without a heading.
    pub fn untitled(table: Table) -> Self {
        Section {
            title: None,
            table,
            notes: Vec::new(),
        }
    }

    /// A section with a heading.
    pub fn titled(title: &str, table: Table) -> Self {
        Section {
            title: Some(title.to_string()),
            table,
            notes: Vec::new(),
        }
    }

    /// Adds a note line under the table.
    pub fn with_note(mut self, note: &str) -> Self {
        self.notes.push(note.to_string());
        self
    }

    /// Renders heading, table and notes in a tabular `format`.
    pub fn render(&self, format: Format, width: Option<usize>) -> String {
        let title = self.title.as_deref().map(escape_control);
        let notes = self.notes.iter().map(|n| escape_control(n));
        let mut out = match (format, title) {
            (_, None) => String::new(),
            (Format::Markdown, Some(t)) => format!("### {t}\n\n"),
            (Format::Csv | Format::Json, Some(t)) => format!("# {t}\n"),
            (Format::Text, Some(t)) => format!("{t}\n"),
        };
        out += &self.table.render(format, width);
        for note in notes {
            out += &match format {
                Format::Csv | Format::Json => format!("# {note}\n"),
                Format::Markdown => format!("\n{note}\n"),
                Format::Text => format!("{note}\n"),
            };
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table {
        let mut t = Table::new(&["case", "value"]);
        t.push(vec!["a,b".to_string(), "1.5".to_string()]);
        t.push(vec!["x|y".to_string(), "say \"hi\"".to_string()]);
        t
    }

    #[test]
    fn csv_quotes_what_needs_quoting() {
        assert_eq!(
            sample().render(Format::Csv, None),
            "case,value\n\"a,b\",1.5\nx|y,\"say \"\"hi\"\"\"\n"
        );
    }

    #[test]
    fn markdown_escapes_pipes() {
        let md = sample().render(Format::Markdown, None);
        assert!(md.starts_with("| case | value |\n|---|---|\n"));
        assert!(md.contains("x\\|y"));
    }

    #[test]
    fn text_fits_the_width_it_is_given() {
        let mut t = Table::new(&["case", "note"]);
        t.push(vec![
            "matmul_tuned/f32/2048x2048x2048".into(),
            "word ".repeat(40),
        ]);
        let text = t.render(Format::Text, Some(80));
        for line in text.lines() {
            assert!(line.chars().count() <= 80, "{} columns: {line}", line.len());
        }
        assert!(text.contains("word"));
    }

    #[test]
    fn control_characters_never_reach_the_terminal() {
        let mut t = Table::new(&["host"]);
        t.push(vec!["evil\u{1b}]0;title\u{7}\r\nname\u{202e}".into()]);
        for format in [Format::Text, Format::Csv, Format::Markdown] {
            let out = t.render(format, None);
            assert!(
                !out.chars()
                    .any(|c| c == '\u{1b}' || c == '\u{7}' || c == '\r' || c == '\u{202e}'),
                "{format}: {out:?}"
            );
        }
    }
}
