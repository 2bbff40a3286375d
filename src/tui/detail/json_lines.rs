//! A delivery's body as the detail view shows it: pretty-printed with colours, keys in
//! their original order, and at most a given number of lines. Past that, lines are only
//! counted: a 1 MB body of 500k array elements once opened as 500k lines (+145 MB).

use ratatui::text::{Line, Span};

use crate::sanitize::line as clean;
use crate::tui::theme::{Theme, Tone};

/// Append at most `max` lines of `body` to `out`; returns how many more the whole body
/// takes (counted without building them). Not JSON (a rejected body): its text,
/// sanitised, line by line.
pub fn json_lines(body: &[u8], theme: Theme, max: usize, out: &mut Vec<Line<'static>>) -> usize {
    let text = match std::str::from_utf8(body) {
        Ok(t) if serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok() => t,
        _ => {
            let text = String::from_utf8_lossy(body);
            let mut lines = text.lines();
            for l in lines.by_ref().take(max) {
                out.push(Line::styled(clean(l, 400), theme.style(Tone::Plain)));
            }
            return lines.count();
        }
    };
    let mut p = Printer {
        out,
        line: vec![Span::raw("")],
        content: false,
        left: max,
        hidden: 0,
    };
    let bytes = text.as_bytes();
    let next_solid = |from: usize| bytes[from..].iter().find(|c| !c.is_ascii_whitespace());
    let mut indent = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'{' | b'[' => {
                let close = if c == b'{' { b'}' } else { b']' };
                if next_solid(i + 1) == Some(&close) {
                    p.push(|| Span::raw(format!("{}{}", c as char, close as char)));
                    i += 1 + bytes[i + 1..].iter().position(|x| *x == close).unwrap_or(0) + 1;
                    continue;
                }
                p.push(|| Span::raw((c as char).to_string()));
                indent += 1;
                p.flush(indent);
            }
            b'}' | b']' => {
                indent = indent.saturating_sub(1);
                p.flush(indent);
                p.push(|| Span::raw((c as char).to_string()));
            }
            b',' => {
                p.push(|| Span::raw(","));
                p.flush(indent);
            }
            b':' => p.push(|| Span::raw(": ")),
            b'"' => {
                // Quotes and backslashes are ASCII, never inside a multi-byte character:
                // the slice below is on character boundaries.
                let start = i;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                let end = i.min(bytes.len() - 1);
                p.push(|| {
                    let tone = if next_solid(end + 1) == Some(&b':') {
                        Tone::JsonKey
                    } else {
                        Tone::JsonString
                    };
                    Span::styled(clean(&text[start..=end], 4000), theme.style(tone))
                });
            }
            c if c.is_ascii_whitespace() => {}
            _ => {
                let start = i;
                while i + 1 < bytes.len()
                    && !matches!(bytes[i + 1], b',' | b'}' | b']' | b':')
                    && !bytes[i + 1].is_ascii_whitespace()
                {
                    i += 1;
                }
                let tone = if c == b'-' || c.is_ascii_digit() {
                    Tone::JsonNumber
                } else {
                    Tone::JsonLiteral
                };
                p.push(|| Span::styled(clean(&text[start..=i], 200), theme.style(tone)));
            }
        }
        i += 1;
    }
    if p.content {
        p.flush(0);
    }
    p.hidden
}

/// Builds lines while `left` lasts, then only counts them.
struct Printer<'a> {
    out: &'a mut Vec<Line<'static>>,
    line: Vec<Span<'static>>,
    /// Something but indentation since the last line ended.
    content: bool,
    left: usize,
    hidden: usize,
}

impl Printer<'_> {
    /// `span` is only made while lines are still being built: past the cap, nothing is
    /// formatted or allocated per element.
    fn push(&mut self, span: impl FnOnce() -> Span<'static>) {
        self.content = true;
        if self.left > 0 {
            self.line.push(span());
        }
    }

    /// End the line; the next starts indented.
    fn flush(&mut self, indent: usize) {
        self.content = false;
        if self.left == 0 {
            self.hidden += 1;
            return;
        }
        self.out.push(Line::from(std::mem::take(&mut self.line)));
        self.left -= 1;
        if self.left > 0 {
            self.line.push(Span::raw("  ".repeat(indent)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(body: &str, max: usize) -> (Vec<String>, usize) {
        let mut out = Vec::new();
        let hidden = json_lines(body.as_bytes(), Theme::new(false), max, &mut out);
        let lines = out
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect();
        (lines, hidden)
    }

    #[test]
    fn pretty_prints_in_original_order() {
        assert_eq!(
            text(r#"{"z":1,"a":{"b":[true,null,"x\"y"],"e":{}},"c":[]}"#, 100),
            (
                vec![
                    "{",
                    "  \"z\": 1,",
                    "  \"a\": {",
                    "    \"b\": [",
                    "      true,",
                    "      null,",
                    "      \"x\\\"y\"",
                    "    ],",
                    "    \"e\": {}",
                    "  },",
                    "  \"c\": []",
                    "}"
                ]
                .into_iter()
                .map(String::from)
                .collect(),
                0
            )
        );
    }

    #[test]
    fn hostile_strings_are_escaped_and_non_json_shown_as_text() {
        let (lines, _) = text("{\"t\":\"a\u{9b}b\u{202e}c\"}", 100);
        assert!(
            lines
                .iter()
                .all(|l| !l.contains('\u{9b}') && !l.contains('\u{202e}')),
            "{lines:?}"
        );
        assert_eq!(text("not\u{1b}[2J json", 100).0, vec!["not^[[2J json"]);
    }

    /// Cut anywhere, the lines shown are the first of the whole print, and shown plus
    /// hidden is the whole print's length; serde_json's own pretty printer (same line
    /// structure) is the yardstick.
    #[test]
    fn a_cut_shows_the_first_lines_and_counts_the_rest() {
        let body = r#"{"event":"x","data":{"list":[1,-2.5e3,"a,b",{"k":[]},[true,{"n":null}]],"s":"é:\"}"}}"#;
        let value: serde_json::Value = serde_json::from_str(body).unwrap();
        let (whole, hidden) = text(body, usize::MAX);
        assert_eq!(hidden, 0);
        assert_eq!(
            whole.len(),
            serde_json::to_string_pretty(&value)
                .unwrap()
                .lines()
                .count()
        );
        for max in 0..=whole.len() {
            let (lines, hidden) = text(body, max);
            assert_eq!(lines, whole[..max], "cut at {max}");
            assert_eq!(lines.len() + hidden, whole.len(), "cut at {max}");
        }
        let many: String = (0..5000).map(|i| format!("line {i}\n")).collect();
        let (lines, hidden) = text(&format!("not json\n{many}"), 10);
        assert_eq!((lines.len(), hidden), (10, 5001 - 10));
    }
}
