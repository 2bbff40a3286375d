//! Fleet: one line per number — name, state in colour, health, time since it changed.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row, Table};

use super::super::numbers::cells;
use crate::tui::app::App;
use crate::tui::theme::Tone;
use crate::tui::view::Pane;

pub fn render(frame: &mut Frame, area: Rect, app: &App, focused: bool) {
    let t = &app.theme;
    let selected = app.lists[Pane::Numbers.index()].selected;
    let start = if focused {
        selected.saturating_sub((area.height as usize).saturating_sub(1))
    } else {
        0
    };
    let rows: Vec<Row> = app
        .views
        .numbers
        .iter()
        .enumerate()
        .skip(start)
        .take(area.height as usize)
        .map(|(i, n)| {
            let [mut name, _, state, health, since, ..] = cells(app, n);
            // The profile part of a name is the first to go in a panel.
            if let Some(at) = name.0.find(" (") {
                name.0.truncate(at);
            }
            let tone = if focused && i == selected {
                Tone::Selected
            } else {
                Tone::Plain
            };
            let row = [name, state, health, (format!("{} ago", since.0), Tone::Dim)];
            Row::new(row.map(|(text, tone)| Cell::from(Span::styled(text, t.style(tone)))))
                .style(t.style(tone))
        })
        .collect();
    // The name as wide as the widest (few numbers: no scan worth the name); the state
    // whole where it fits (`restored · disconnected`), the health takes the rest.
    let name = app
        .views
        .numbers
        .iter()
        .map(|n| {
            n.name
                .split(" (")
                .next()
                .unwrap_or_default()
                .chars()
                .count()
        })
        .max()
        .unwrap_or(0)
        .clamp(6, 24) as u16;
    let state = if area.width >= 76 { 23 } else { 14 };
    let health = if area.width >= 60 {
        Constraint::Fill(1)
    } else {
        Constraint::Length(0)
    };
    let widths = [
        Constraint::Length(name),
        Constraint::Length(state),
        health,
        Constraint::Length(8),
    ];
    frame.render_widget(Table::new(rows, widths).column_spacing(1), area);
}
