//! Calls: live calls first with running durations, then the latest ended or missed —
//! the Calls pane's order and staleness (its cells), compact.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row, Table};

use super::super::calls::cells;
use super::{first_row, row_tone};
use crate::tui::app::App;
use crate::tui::view::Pane;

pub fn render(frame: &mut Frame, area: Rect, app: &App, focused: bool) {
    let t = &app.theme;
    let height = area.height as usize;
    let start = first_row(app, Pane::Calls, height, focused);
    let rows: Vec<Row> = (start..start + height)
        .map_while(|i| Some((i, app.views.key_at(Pane::Calls, i)?)))
        .filter_map(|(i, ord)| Some((i, app.views.call_line(ord)?)))
        .map(|(i, c)| {
            let [_, from, to, status, duration, started] = cells(app, c);
            let row = [
                from,
                (format!("→ {}", to.0), to.1),
                status,
                duration,
                started,
            ];
            Row::new(row.map(|(text, tone)| Cell::from(Span::styled(text, t.style(tone)))))
                .style(t.style(row_tone(app, Pane::Calls, i, focused)))
        })
        .collect();
    // Narrow: the start time goes first.
    let started = if area.width >= 76 { 8 } else { 0 };
    let widths = [
        Constraint::Max(18),
        Constraint::Max(20),
        Constraint::Length(14),
        Constraint::Length(9),
        Constraint::Length(started),
    ];
    frame.render_widget(Table::new(rows, widths).column_spacing(1), area);
}
