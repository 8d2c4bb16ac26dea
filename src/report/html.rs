//! One self-contained HTML page: charts are inlined as SVG, styles are inline, and the only
//! script is a few inline lines that confirm every chart rendered. Nothing is fetched, so the
//! page opens offline, from an e-mail attachment or a CI artifact alike.

use crate::output::Table;

/// A chart on the page.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// Element id, unique on the page.
    pub id: String,
    /// Chart kind (`roofline`, `comparison`, …), for styling and tests.
    pub kind: String,
    /// One line under the chart.
    pub caption: String,
    /// The SVG document.
    pub svg: String,
}

/// A titled part of the page: charts first, then their tables.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PageSection {
    /// Element id.
    pub id: String,
    /// Heading.
    pub heading: String,
    /// A paragraph that says what the section shows.
    pub intro: String,
    /// Charts.
    pub figures: Vec<Figure>,
    /// Tables, each with a caption.
    pub tables: Vec<(String, Table)>,
    /// Warnings shown boxed under the heading, before anything is read: e.g. that the
    /// section's ratios come from simulated runs.
    pub labels: Vec<String>,
}

const STYLE: &str = "body{font-family:sans-serif;margin:2em auto;max-width:1000px;color:#222}\
table{border-collapse:collapse;margin:1em 0;font-size:0.9em}\
th,td{border:1px solid #bbb;padding:0.25em 0.6em;text-align:left}\
th{background:#eee}caption{font-weight:bold;text-align:left;padding:0.3em 0}\
figure.chart{margin:1.5em 0}figure.chart svg{max-width:100%;height:auto}\
figcaption{font-size:0.9em;color:#555}\
p.label{background:#fdecc8;border-left:4px solid #c97a00;padding:0.4em 0.6em;font-weight:bold}";

const CHECK_SCRIPT: &str = "(function(){var f=document.querySelectorAll('figure.chart');\
var ok=0;f.forEach(function(e){var s=e.querySelector('svg');\
if(s&&s.getBoundingClientRect().width>0&&s.querySelectorAll('text').length>0){ok++;\
e.setAttribute('data-rendered','yes');}});\
document.getElementById('chart-check').textContent=ok+' of '+f.length+' charts rendered';})();";

/// The whole page.
pub fn page(title: &str, summary: &str, sections: &[PageSection]) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{t}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{t}</h1>\n<p>{s}</p>\n\
         <p id=\"chart-check\">charts not checked</p>\n",
        t = escape(title),
        s = escape(summary),
    );
    for section in sections {
        out += &section_html(section);
    }
    out += &format!("<script>{CHECK_SCRIPT}</script>\n</body>\n</html>\n");
    out
}

fn section_html(section: &PageSection) -> String {
    let mut out = format!(
        "<section id=\"{}\">\n<h2>{}</h2>\n<p>{}</p>\n",
        escape(&section.id),
        escape(&section.heading),
        escape(&section.intro)
    );
    for label in &section.labels {
        out += &format!("<p class=\"label\">{}</p>\n", escape(label));
    }
    for f in &section.figures {
        out += &format!(
            "<figure class=\"chart\" id=\"{}\" data-chart=\"{}\">\n{}\n<figcaption>{}</figcaption>\n</figure>\n",
            escape(&f.id),
            escape(&f.kind),
            inline_svg(&f.svg),
            escape(&f.caption)
        );
    }
    for (caption, table) in &section.tables {
        out += &table_html(caption, table);
    }
    out + "</section>\n"
}

/// A [`Table`] as an HTML table with a caption.
pub fn table_html(caption: &str, table: &Table) -> String {
    let cells = |tag: &str, row: &[String]| {
        row.iter()
            .map(|c| format!("<{tag}>{}</{tag}>", escape(c)))
            .collect::<String>()
    };
    let mut out = format!(
        "<table>\n<caption>{}</caption>\n<thead><tr>{}</tr></thead>\n<tbody>\n",
        escape(caption),
        cells("th", &table.headers)
    );
    for row in &table.rows {
        out += &format!("<tr>{}</tr>\n", cells("td", row));
    }
    out + "</tbody>\n</table>\n"
}

/// An SVG document ready to sit inside HTML: any XML declaration removed.
fn inline_svg(svg: &str) -> &str {
    let trimmed = svg.trim_start();
    match trimmed
        .strip_prefix("<?xml")
        .and_then(|rest| rest.find("?>").map(|i| &rest[i + 2..]))
    {
        Some(rest) => rest.trim_start(),
        None => trimmed,
    }
}

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_characters() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn xml_declarations_are_dropped() {
        assert_eq!(inline_svg("<?xml version=\"1.0\"?>\n<svg/>"), "<svg/>");
        assert_eq!(inline_svg("<svg/>"), "<svg/>");
    }

    #[test]
    fn tables_escape_their_cells() {
        let mut t = Table::new(&["a<b"]);
        t.push(vec!["x&y".into()]);
        let html = table_html("cap", &t);
        assert!(html.contains("<th>a&lt;b</th>"));
        assert!(html.contains("<td>x&amp;y</td>"));
    }
}
