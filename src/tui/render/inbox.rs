//! The Inbox (`6`): who waits for an answer, oldest wait first, the wait live, and per
//! row WhatsApp's 24-hour window (on Meta numbers). Enter opens the thread.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::ago;
use super::columns::{self, Col, width};
use crate::store::conversations::window::Window;
use crate::tui::app::App;
use crate::tui::theme::Tone;

const HEADER: [&str; 5] = ["waiting", "contact", "number", "last message", "window"];

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let pane = &app.inbox;
    if pane.view.lines.is_empty() {
        frame.render_widget(
            Paragraph::new(vec![
                Line::default(),
                Line::styled("nobody is waiting for an answer", t.style(Tone::Title)),
                Line::styled(
                    "a contact whose last message is unanswered shows here, oldest first",
                    t.style(Tone::Dim),
                ),
            ])
            .centered(),
            area,
        );
        return;
    }
    let height = area.height.saturating_sub(1) as usize;
    let lines: Vec<_> = (pane.view.lines.iter().enumerate())
        .skip(pane.offset)
        .take(height)
        .collect();
    // Contact, number and window as wide as what they show; the message the rest, at
    // least 16.
    let mut cols = [
        Col::fixed(12),
        Col::new(HEADER[1], 12, 30),
        Col::new(HEADER[2], 6, 24).whole(),
        Col::new(HEADER[3], 16, 16),
        Col::new(HEADER[4], 8, 32),
    ];
    let mut text = 16;
    for (_, l) in &lines {
        text = text.max(width(&l.snippet));
        cols[1].fit(width(&l.contact));
        cols[2].fit(width(&l.number));
        cols[4].fit(width(&Window::at(app.now, l.opened, l.meta).short()));
    }
    // Narrow: the contact loses its phone first (its name stays), then the window
    // shrinks, then the number goes (whole).
    let mut widths = columns::fit(&cols, &[1, 4, 2, 3], Some(3), area.width);
    // Room past the longest message stays blank at the right.
    widths[3] = widths[3].min(text);
    let rows = lines.into_iter().map(|(i, l)| {
        let waited = (app.now - l.waiting_since).num_seconds();
        let window = Window::at(app.now, l.opened, l.meta);
        let tone = if window.is_closed() {
            Tone::Bad
        } else if window.is_closing() {
            Tone::Warn
        } else {
            Tone::Dim
        };
        let wait_tone = if waited >= 15 * 60 {
            Tone::Warn
        } else {
            Tone::Plain
        };
        let cells = [
            Cell::from(Span::styled(
                format!("waiting {}", ago(waited)),
                t.style(wait_tone),
            )),
            Cell::from(l.contact.as_str()),
            Cell::from(Span::styled(l.number.as_str(), t.style(Tone::Dim))),
            Cell::from(l.snippet.as_str()),
            Cell::from(Span::styled(window.short(), t.style(tone))),
        ];
        let row = Row::new(columns::shown(&widths, cells));
        if i == pane.selected {
            row.style(t.style(Tone::Selected))
        } else {
            row
        }
    });
    let table = Table::new(rows, columns::constraints(&widths))
        .header(Row::new(columns::shown(&widths, HEADER)).style(t.style(Tone::Dim)))
        .column_spacing(columns::SPACING);
    frame.render_widget(table, area);
}
