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

/// [`line`], borrowed when the text is shown as it is (most names and phone numbers):
/// no allocation for text that needs nothing done.
pub fn line_cow(s: &str, max: usize) -> std::borrow::Cow<'_, str> {
    // One pass: the first character past `max` or not shown as it is decides.
    match s
        .chars()
        .enumerate()
        .find(|(i, c)| *i >= max || !shown_as_is(*c))
    {
        None => s.into(),
        Some(_) => line(s, max).into(),
    }
}

/// A character a terminal shows as itself (not a control, bidi override or invisible).
fn shown_as_is(c: char) -> bool {
    !matches!(c,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{200b}'..='\u{200f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}'
        | '\u{061c}'
        | '\u{feff}')
}

fn push_visible(out: &mut String, c: char) {
    match c {
        c if shown_as_is(c) => out.push(c),
        '\n' => out.push('⏎'),
        '\t' => out.push(' '),
        '\u{0}'..='\u{1f}' => {
            out.push('^');
            out.push((b'@' + c as u8) as char);
        }
        '\u{7f}' => out.push_str("^?"),
        c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
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
    fn borrows_only_what_is_shown_as_it_is() {
        use std::borrow::Cow;
        assert!(matches!(
            line_cow("Maria Silva", 60),
            Cow::Borrowed("Maria Silva")
        ));
        assert!(matches!(line_cow("héllo", 5), Cow::Borrowed(_)));
        for (text, max) in [
            ("héllo wörld", 5),
            ("a\u{1b}[2J", 60),
            ("x\u{9b}", 60),
            ("del\u{7f}", 60),
            ("rtl\u{202e}", 60),
            ("tab\t", 60),
        ] {
            let cow = line_cow(text, max);
            assert!(matches!(cow, Cow::Owned(_)), "{text:?}");
            assert_eq!(cow, line(text, max));
        }
    }

    #[test]
    fn cuts_long_text() {
        assert_eq!(line("héllo wörld", 5), "héllo…");
        assert_eq!(line("short", 5), "short");
    }
}
