//! What may reach a terminal. Adapter names, host names and fleet names come from other
//! machines' files; one with ESC, BEL, CR or a bidi override could clear or retitle an
//! operator's screen, so every text output escapes them visibly.

/// `text` with control characters (C0, DEL, C1), line and paragraph separators and bidi
/// controls replaced by visible `\u{…}` escapes (`\n` and `\t` as `\n`, `\t`).
pub fn escape_control(text: &str) -> String {
    if !text.chars().any(needs_escape) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{061c}'
        )
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// The width text tables should fit: the terminal's when stdout is one, else `COLUMNS` when
/// set, else none (a file or a pipe gets full cells).
pub fn terminal_width() -> Option<usize> {
    use std::io::IsTerminal;
    let from_env = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|w| *w >= 20);
    if std::io::stdout().is_terminal() {
        let tty = comfy_table::Table::new().width().map(usize::from);
        return from_env.or(tty).or(Some(80));
    }
    from_env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_drives_a_terminal_and_keeps_the_rest() {
        assert_eq!(escape_control("llvmpipe (LLVM 15)"), "llvmpipe (LLVM 15)");
        assert_eq!(escape_control("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(escape_control("x\r\ny"), "x\\u{d}\\ny");
        assert_eq!(escape_control("\u{202e}gpu"), "\\u{202e}gpu");
        assert_eq!(escape_control("bel\u{7}"), "bel\\u{7}");
        assert_eq!(escape_control("H200 µs ü"), "H200 µs ü");
    }
}
