//! Calls: live calls first with running durations, then the latest ended or missed —
//! the Calls pane's order and staleness (its cells), compact.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row, Table};

use super::super::calls::cells;
use super::super::columns::{self, Col, width};
use super::{first_row, row_tone};
use crate::tui::app::App;
use crate::tui::theme::Tone;
use crate::tui::view::Pane;

pub fn render(frame: &mut Frame, area: Rect, app: &App, focused: bool) {
    let t = &app.theme;
    let height = area.height as usize;
    let start = first_row(app, Pane::Calls, height, focused);
    let rows: Vec<([(String, Tone); 5], usize)> = (start..start + height)
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
            (row, i)
        })
        .collect();
    // Each column as wide as its widest cell shown; narrow, the start time goes first,
    // then the parties shrink (a row's detail has them whole).
    let mut cols = [
        Col::new("", 8, 18),
        Col::new("", 8, 24),
        Col::new("", 8, 14),
        Col::new("", 4, 16),
        Col::new("", 6, 9).whole(),
    ];
    for (row, _) in &rows {
        for (c, (text, _)) in cols.iter_mut().zip(row) {
            c.fit(width(text));
        }
    }
    let widths = columns::fit(&cols, &[4, 1, 0, 3, 2], None, area.width);
    let rows = rows.into_iter().map(|(row, i)| {
        let row = row.map(|(text, tone)| Cell::from(Span::styled(text, t.style(tone))));
        Row::new(columns::shown(&widths, row)).style(t.style(row_tone(
            app,
            Pane::Calls,
            i,
            focused,
        )))
    });
    frame.render_widget(
        Table::new(rows, columns::constraints(&widths)).column_spacing(columns::SPACING),
        area,
    );
}
