//! A line fitted to a panel: wrapped at word boundaries onto the rows it may take
//! (continuations indented), and cut with an ellipsis on the last of them, so a long
//! line never just stops mid-word with nothing to say there is more.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthChar;

/// `line` in at most `rows` rows of `width` columns.
pub fn fit(line: &Line<'_>, width: u16, rows: usize, indent: u16) -> Vec<Line<'static>> {
    let width = usize::from(width);
    if width == 0 {
        return Vec::new();
    }
    let indent = usize::from(indent).min(width.saturating_sub(1));
    let cells: Vec<(char, Style)> = (line.spans.iter())
        .flat_map(|s| s.content.chars().map(move |c| (c, s.style)))
        .collect();
    // Trailing spaces (a separator after the last item) take no room.
    let shown = cells.len() - cells.iter().rev().take_while(|(c, _)| *c == ' ').count();
    let cells = &cells[..shown];
    let mut out = Vec::new();
    let mut rest = cells;
    while out.len() < rows.max(1) {
        let first = out.is_empty();
        let room = if first { width } else { width - indent };
        let (fits, _) = prefix(rest, room);
        let last = out.len() + 1 >= rows.max(1);
        let mut row: Vec<(char, Style)> = Vec::new();
        if !first {
            row.extend(std::iter::repeat_n((' ', Style::default()), indent));
        }
        if fits == rest.len() {
            row.extend_from_slice(rest);
            rest = &[];
        } else if last {
            // The ellipsis takes the last column.
            let (keep, _) = prefix(rest, room.saturating_sub(1));
            let style = (rest[..keep].last().or(rest.first())).map_or(Style::default(), |c| c.1);
            row.extend_from_slice(&rest[..keep]);
            while row.last().is_some_and(|(c, _)| *c == ' ') {
                row.pop();
            }
            row.push(('…', style));
            rest = &[];
        } else {
            // Break after the last space that fits (one with something before it); a
            // word longer than the row is split, by at least one character (a wide
            // one in a single column) so every row moves on.
            let words = |at: &usize| rest[..*at].iter().any(|(c, _)| *c != ' ');
            let cut = (rest[..fits].iter().rposition(|(c, _)| *c == ' '))
                .filter(words)
                .map_or(fits.max(1), |at| at + 1);
            row.extend(rest[..cut].iter().copied());
            while row.last().is_some_and(|(c, _)| *c == ' ') {
                row.pop();
            }
            rest = &rest[cut..];
            let spaces = rest.iter().take_while(|(c, _)| *c == ' ').count();
            rest = &rest[spaces..];
        }
        out.push(spans(&row).style(line.style));
        if rest.is_empty() {
            break;
        }
    }
    out
}

/// How many cells fit in `room` columns, and the columns they take.
fn prefix(cells: &[(char, Style)], room: usize) -> (usize, usize) {
    let mut used = 0;
    for (i, (c, _)) in cells.iter().enumerate() {
        let w = c.width().unwrap_or(0);
        if used + w > room {
            return (i, used);
        }
        used += w;
    }
    (cells.len(), used)
}

/// Cells back into spans, one per run of a style.
fn spans(cells: &[(char, Style)]) -> Line<'static> {
    let mut out: Vec<Span<'static>> = Vec::new();
    let mut text = String::new();
    let mut style = None;
    for &(c, s) in cells {
        if style.is_some_and(|st| st != s) {
            out.push(Span::styled(
                std::mem::take(&mut text),
                style.unwrap_or_default(),
            ));
        }
        style = Some(s);
        text.push(c);
    }
    if let Some(s) = style {
        out.push(Span::styled(text, s));
    }
    Line::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::style::Color;

    fn text(lines: &[Line<'_>]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn a_line_that_fits_is_left_as_it_is() {
        let l = Line::from("short line");
        assert_eq!(text(&fit(&l, 20, 3, 2)), ["short line"]);
    }

    #[test]
    fn wraps_at_words_and_indents_the_continuation() {
        let l = Line::from("Main store is disconnected since noon");
        assert_eq!(
            text(&fit(&l, 16, 3, 2)),
            ["Main store is", "  disconnected", "  since noon"]
        );
    }

    #[test]
    fn the_last_row_is_cut_with_an_ellipsis() {
        let l = Line::from("Main store is disconnected since noon");
        assert_eq!(text(&fit(&l, 16, 1, 2)), ["Main store is d…"]);
        assert_eq!(
            text(&fit(&l, 16, 2, 2)),
            ["Main store is", "  disconnected…"]
        );
    }

    #[test]
    fn every_row_moves_on() {
        // A wide character in a one-column row, leading spaces before a long word.
        assert_eq!(text(&fit(&Line::from("🚚🚚"), 1, 3, 0)), ["🚚", "🚚"]);
        assert_eq!(
            text(&fit(&Line::from("  Supercalifragilistic"), 10, 3, 2)),
            ["  Supercal", "  ifragili", "  stic"]
        );
    }

    #[test]
    fn trailing_spaces_take_no_room() {
        let l = Line::from("1 failed  0 broken  ");
        assert_eq!(text(&fit(&l, 18, 1, 0)), ["1 failed  0 broken"]);
    }

    #[test]
    fn a_word_longer_than_the_row_is_split() {
        let l = Line::from("+5511940002000000000");
        assert_eq!(text(&fit(&l, 8, 3, 0)), ["+5511940", "00200000", "0000"]);
    }

    #[test]
    fn wide_characters_count_two_columns_and_styles_survive() {
        let red = Style::default().fg(Color::Red);
        let l = Line::from(vec![Span::styled("⚠ 🚚🚚🚚", red), Span::raw(" ok")]);
        let rows = fit(&l, 6, 1, 0);
        assert_eq!(text(&rows), ["⚠ 🚚…"]);
        assert!(rows[0].spans.iter().all(|s| s.style == red));
        let rows = fit(&l, 12, 1, 0);
        assert_eq!(text(&rows), ["⚠ 🚚🚚🚚 ok"]);
        assert_eq!(rows[0].spans.len(), 2);
    }
}
