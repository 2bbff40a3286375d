//! Untrusted text (message content, names, error strings) made safe to show on a
//! terminal: control characters in caret notation (`^[`), C1 controls, bidi overrides
//! and zero-width characters as visible `\u{..}`, newlines as `⏎`. Done once, where text
//! enters a view, never at draw time.

/// One line of display text, at most `max` characters (an ellipsis marks a cut).
pub fn line(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max * 4));
    for (shown, c) in s.chars().enumerate() {
        if shown >= max {
            out.push('…');
            break;
        }
        push_visible(&mut out, c);
    }
    out
}

fn push_visible(out: &mut String, c: char) {
    match c {
        '\n' => out.push('⏎'),
        '\t' => out.push(' '),
        '\u{0}'..='\u{1f}' => {
            out.push('^');
            out.push((b'@' + c as u8) as char);
        }
        '\u{7f}' => out.push_str("^?"),
        '\u{80}'..='\u{9f}'
        | '\u{200b}'..='\u{200f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}'
        | '\u{061c}'
        | '\u{feff}' => {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        }
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_a_terminal_would_obey() {
        assert_eq!(line("a\u{1b}]0;pwned\u{7}b", 100), "a^[]0;pwned^Gb");
        assert_eq!(line("x\u{9b}31my", 100), "x\\u{9b}31my");
        assert_eq!(line("evil\u{202e}txt.exe", 100), "evil\\u{202e}txt.exe");
        assert_eq!(line("zero\u{200b}width", 100), "zero\\u{200b}width");
        assert_eq!(line("two\nlines\r", 100), "two⏎lines^M");
        assert_eq!(line("del\u{7f}", 100), "del^?");
        assert!(!line("\u{1b}[2J", 100).contains('\u{1b}'));
    }

    #[test]
    fn cuts_long_text() {
        assert_eq!(line("héllo wörld", 5), "héllo…");
        assert_eq!(line("short", 5), "short");
    }
}
