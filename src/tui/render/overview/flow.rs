//! Flow: the newest messages, compact (the Messages pane's lines, fewer columns).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row, Table};

use super::super::columns::{self, Col, width};
use super::super::messages::{number_of, status_spans};
use super::{first_row, row_tone};
use crate::store::Direction;
use crate::tui::app::App;
use crate::tui::theme::Tone;
use crate::tui::view::{MessageLine, Pane};

pub fn render(frame: &mut Frame, area: Rect, app: &App, focused: bool) {
    let t = &app.theme;
    let height = area.height as usize;
    let start = first_row(app, Pane::Messages, height, focused);
    let lines: Vec<_> = (start..start + height)
        .map_while(|i| Some((i, app.views.key_at(Pane::Messages, i)?)))
        .filter_map(|(i, ord)| Some((i, app.views.message_line(ord)?)))
        .map(|(i, l)| (i, l, status_spans(app, l)))
        .collect();
    // A filter that leaves no message says so (as the Messages pane does).
    if lines.is_empty() && !app.filter.is_empty() && !app.scanning {
        let query = crate::sanitize::line(app.filter.query(), 60);
        frame.render_widget(
            ratatui::widgets::Paragraph::new(Span::styled(
                format!("no message matches {query} (Esc clears it)"),
                t.style(Tone::Dim),
            )),
            area,
        );
        return;
    }
    // Each column as wide as its widest cell shown. Narrow: the number goes first,
    // then the contact and the text shrink; the status (`✗ DELIVER_NOT_CONFIRMED`)
    // is what the panel is for. Room past the longest text stays blank at the right.
    let mut cols = [
        Col::fixed(8),
        Col::fixed(3),
        Col::new("", 8, 16).whole(),
        Col::new("", 8, 20),
        Col::new("", 12, 24),
        Col::new("", 8, 30),
    ];
    // The text wants 24 before the others give way.
    cols[TEXT].fit(24);
    let mut text_width = 0;
    for (_, l, status) in &lines {
        cols[NUMBER].fit(width(number_of(app, l)));
        cols[CONTACT].fit(width(contact(l)));
        text_width = text_width.max(width(&l.text));
        cols[STATUS].fit(status.iter().map(|s| s.width() as u16).sum());
    }
    let mut widths = columns::fit(
        &cols,
        &[NUMBER, CONTACT, TEXT, STATUS],
        Some(TEXT),
        area.width,
    );
    widths[TEXT] = widths[TEXT].min(text_width.max(cols[TEXT].min));
    let rows = lines.into_iter().map(|(i, l, status)| {
        let dir = match l.direction {
            Direction::In => Span::styled("in ", t.style(Tone::Info)),
            Direction::Out => Span::styled("out", t.style(Tone::Accent)),
        };
        let cells = [
            Cell::from(l.time.as_str()),
            Cell::from(dir),
            Cell::from(number_of(app, l)),
            Cell::from(contact(l)),
            Cell::from(l.text.as_str()),
            Cell::from(Line::from(status)),
        ];
        Row::new(columns::shown(&widths, cells)).style(t.style(row_tone(
            app,
            Pane::Messages,
            i,
            focused,
        )))
    });
    frame.render_widget(
        Table::new(rows, columns::constraints(&widths)).column_spacing(columns::SPACING),
        area,
    );
}

const NUMBER: usize = 2;
const CONTACT: usize = 3;
const TEXT: usize = 4;
const STATUS: usize = 5;

/// Who wrote it: the participant's name where the provider gave one.
fn contact(l: &MessageLine) -> &str {
    l.participant.as_deref().unwrap_or(&l.contact)
}
