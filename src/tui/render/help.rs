use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::tui::app::App;
use crate::tui::keymap::{BINDINGS, FILTER_HELP, describe};
use crate::tui::theme::Tone;

/// The keys' column: two spaces, then 18.
const KEYS: u16 = 20;

pub fn render(frame: &mut Frame, area: Rect, app: &App, scroll: usize) {
    let t = &app.theme;
    let mut lines = vec![Line::styled("Keys", t.style(Tone::Title))];
    for b in BINDINGS {
        let keys = b.keys.iter().map(describe).collect::<Vec<_>>().join(" ");
        lines.push(Line::from(vec![
            Span::styled(format!("  {keys:<18}"), t.style(Tone::Accent)),
            Span::raw(b.help),
        ]));
    }
    // No blank line between the two: a 34-row terminal shows the filter's first terms.
    lines.push(Line::styled(
        "Filter (/): terms are combined; Enter keeps it, Esc clears it",
        t.style(Tone::Title),
    ));
    for (term, what) in FILTER_HELP {
        lines.push(Line::from(vec![
            Span::styled(format!("  {term:<18}"), t.style(Tone::Accent)),
            Span::raw(*what),
        ]));
    }
    lines.push(Line::default());
    lines.push(Line::styled(
        "j/k scroll · any other key closes this help",
        t.style(Tone::Dim),
    ));
    let width = 90.min(area.width);
    // Narrow, a description wraps under itself (after the keys' column) rather than
    // stopping mid-word.
    let inner = width.saturating_sub(2);
    let lines: Vec<Line> = (lines.iter())
        .flat_map(|l| super::wrap::fit(l, inner, 4, KEYS))
        .collect();
    let height = (lines.len() as u16 + 2).min(area.height);
    // On a short terminal the help scrolls rather than losing its end.
    let scroll = scroll.min(
        lines
            .len()
            .saturating_sub(height.saturating_sub(2) as usize),
    );
    let lines: Vec<Line> = lines.into_iter().skip(scroll).collect();
    let [popup] = Layout::vertical([Constraint::Length(height)])
        .flex(Flex::Center)
        .areas(area);
    let [popup] = Layout::horizontal([Constraint::Length(width)])
        .flex(Flex::Center)
        .areas(popup);
    frame.render_widget(Clear, popup);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" help ")
        .title_style(t.style(Tone::Title));
    frame.render_widget(Paragraph::new(lines).block(block), popup);
}
