//! Flow: the newest messages, compact (the Messages pane's lines, fewer columns).

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row, Table};

use super::super::messages::{number_of, status_spans};
use super::{first_row, row_tone};
use crate::store::Direction;
use crate::tui::app::App;
use crate::tui::theme::Tone;
use crate::tui::view::Pane;

pub fn render(frame: &mut Frame, area: Rect, app: &App, focused: bool) {
    let t = &app.theme;
    let height = area.height as usize;
    let start = first_row(app, Pane::Messages, height, focused);
    let rows: Vec<Row> = (start..start + height)
        .map_while(|i| Some((i, app.views.key_at(Pane::Messages, i)?)))
        .filter_map(|(i, ord)| Some((i, app.views.message_line(ord)?)))
        .map(|(i, l)| {
            let dir = match l.direction {
                Direction::In => Span::styled("in ", t.style(Tone::Info)),
                Direction::Out => Span::styled("out", t.style(Tone::Accent)),
            };
            let contact = l.participant.as_deref().unwrap_or(&l.contact);
            Row::new([
                Cell::from(l.time.as_str()),
                Cell::from(dir),
                Cell::from(number_of(app, l)),
                Cell::from(contact),
                Cell::from(l.text.as_str()),
                Cell::from(Line::from(status_spans(app, l))),
            ])
            .style(t.style(row_tone(app, Pane::Messages, i, focused)))
        })
        .collect();
    // Narrow: the number goes first, then the contact shrinks; the text keeps the rest.
    let number = if area.width >= 90 { 14 } else { 0 };
    let contact = if area.width >= 70 { 16 } else { 10 };
    let widths = [
        Constraint::Length(8),
        Constraint::Length(3),
        Constraint::Length(number),
        Constraint::Length(contact),
        Constraint::Fill(1),
        // Room for `✓✓ delivered (api) ⚠` once a message's webhook went missing.
        Constraint::Length(if app.views.provider.missing > 0 {
            20
        } else {
            16
        }),
    ];
    frame.render_widget(Table::new(rows, widths).column_spacing(1), area);
}
