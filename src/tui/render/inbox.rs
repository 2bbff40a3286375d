//! The Inbox (`6`): who waits for an answer, oldest wait first, the wait live, and per
//! row WhatsApp's 24-hour window (on Meta numbers). Enter opens the thread.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::ago;
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
    let rows: Vec<Row> = pane
        .view
        .lines
        .iter()
        .enumerate()
        .skip(pane.offset)
        .take(height)
        .map(|(i, l)| {
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
            let row = Row::new([
                Cell::from(Span::styled(
                    format!("waiting {}", ago(waited)),
                    t.style(wait_tone),
                )),
                Cell::from(l.contact.as_str()),
                Cell::from(Span::styled(l.number.as_str(), t.style(Tone::Dim))),
                Cell::from(l.snippet.as_str()),
                Cell::from(Span::styled(window.describe(), t.style(tone))),
            ]);
            if i == pane.selected {
                row.style(t.style(Tone::Selected))
            } else {
                row
            }
        })
        .collect();
    // Contact, number and window as wide as what they show; the message the rest.
    let shown = pane.view.lines.iter().skip(pane.offset).take(height);
    let (mut contact, mut number, mut window) = (7u16, 6u16, 6u16);
    for l in shown {
        contact = contact.max(Span::raw(l.contact.as_str()).width() as u16);
        number = number.max(Span::raw(l.number.as_str()).width() as u16);
        let w = Window::at(app.now, l.opened, l.meta).describe();
        window = window.max(Span::raw(w).width() as u16);
    }
    let widths = [
        Constraint::Length(12),
        Constraint::Length(contact.min(area.width / 4)),
        Constraint::Length(number.min(area.width / 6)),
        Constraint::Fill(1),
        Constraint::Length(window.min(area.width / 3)),
    ];
    let table = Table::new(rows, widths)
        .header(Row::new(HEADER).style(t.style(Tone::Dim)))
        .column_spacing(1);
    frame.render_widget(table, area);
}
