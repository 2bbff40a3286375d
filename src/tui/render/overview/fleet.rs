//! Fleet: one line per number — name, state in colour, health, time since it changed,
//! its last event; from the stats copied at sync, messages in / out / failed over five
//! minutes, their sparkline and the sent→delivered p50/p95.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row, Table};

use super::super::{ago, numbers::cells};
use crate::tui::app::App;
use crate::tui::theme::Tone;
use crate::tui::view::Pane;
use crate::tui::view::figures::{NumberFigures, Quantiles};

/// The numbers the panel has room for, in the Numbers pane's order. Focused, it scrolls
/// with the selection; otherwise, when the fleet does not fit, the numbers down come
/// first, then the unhealthy, so the panel still shows the ones in trouble.
fn listed(app: &App, room: usize, focused: bool) -> Vec<usize> {
    let numbers = &app.views.numbers;
    if focused {
        let selected = app.lists[Pane::Numbers.index()].selected;
        let start = selected.saturating_sub(room.saturating_sub(1));
        return (start..numbers.len()).take(room).collect();
    }
    // As many as fit, the most in trouble first, put back in order (all, when all fit).
    let mut listed: Vec<usize> = (app.views.numbers_by_trouble.iter().copied())
        .take(room)
        .collect();
    listed.sort_unstable();
    listed
}

pub fn render(frame: &mut Frame, area: Rect, app: &App, focused: bool) {
    let t = &app.theme;
    let selected = app.lists[Pane::Numbers.index()].selected;
    let room = area.height.saturating_sub(1) as usize;
    let listed = listed(app, room, focused);
    let has_api = app.views.numbers.iter().any(|n| n.api.is_some());
    let rows: Vec<([Cell; 10], Tone)> = (listed.iter())
        .filter_map(|i| Some((*i, app.views.numbers.get(*i)?)))
        .map(|(i, n)| {
            let [mut name, _, state, api, health, since, ..] = cells(app, n);
            // No profile part (the first to go in a panel), and a number with no name
            // yet goes by its phone or id, where a `-` would not tell it apart.
            name.0 = n.label().to_owned();
            let tone = if focused && i == selected {
                Tone::Selected
            } else {
                Tone::Plain
            };
            let f = app
                .figures
                .numbers
                .get(&n.raw_id)
                .cloned()
                .unwrap_or_default();
            let r = f.recent;
            let last = f
                .last_event
                .map(|at| format!("{} ago", ago((app.now - at).num_seconds())))
                .unwrap_or_else(|| "-".into());
            let fail = if r.failed > 0 { Tone::Bad } else { Tone::Dim };
            let row = [
                name,
                state,
                api,
                health,
                (format!("{} ago", since.0), Tone::Dim),
                (format!("{}/{}", r.messages_in, r.messages_out), Tone::Plain),
                (r.failed.to_string(), fail),
                (spark(&f), Tone::Info),
                (latency(f.delivered), Tone::Plain),
                (last, Tone::Dim),
            ];
            let row = row.map(|(text, tone)| Cell::from(Span::styled(text, t.style(tone))));
            (row, tone)
        })
        .collect();
    // The name as wide as the widest shown; the state whole where it fits (`restored ·
    // disconnected`), the health takes the rest.
    // (Up to 25: the provider's ids are that long, and a label may be one.)
    let name = (listed.iter().filter_map(|i| app.views.numbers.get(*i)))
        .map(|n| n.label().chars().count())
        .max()
        .unwrap_or(0)
        .clamp(6, 25) as u16;
    // Narrow: the sparkline and the last event go first, then the latency, then the
    // health; state and traffic are what the panel is for.
    let w = area.width;
    let state = if w >= 76 { 23 } else { 14 };
    let on = |min: u16, len: u16| Constraint::Length(if w >= min { len } else { 0 });
    // What the API says, once it has said something: before the health when narrow
    // (a disagreement is the news), its widest text when there is room.
    let api = if has_api {
        if w >= 100 { 30 } else { 26 }
    } else {
        0
    };
    let health = if w >= 100 + api {
        Constraint::Fill(1)
    } else if api > 0 {
        on(76 + api, 20)
    } else {
        on(76, 20)
    };
    let widths = [
        Constraint::Length(name),
        Constraint::Length(state),
        Constraint::Length(api),
        health,
        Constraint::Length(8),
        Constraint::Length(7),
        Constraint::Length(3),
        on(110 + api, SPARK as u16),
        on(90 + api, 11),
        on(130 + api, 8),
    ];
    let shown: [bool; 10] = std::array::from_fn(|i| {
        if has_api {
            widths[i] != Constraint::Length(0)
        } else {
            i != 2
        }
    });
    let rows: Vec<Row> = (rows.into_iter())
        .map(|(row, tone)| Row::new(with_api(row, shown)).style(t.style(tone)))
        .collect();
    // Figures need their names; the header is the only place they are said.
    let header = Row::new(with_api(
        [
            "number",
            "state",
            "api",
            "health",
            "since",
            "in/out",
            "✗",
            "5 min",
            "sent→dlv",
            "last",
        ],
        shown,
    ))
    .style(t.style(Tone::Dim));
    frame.render_widget(
        Table::new(rows, with_api(widths, shown))
            .header(header)
            .column_spacing(1),
        area,
    );
}

/// The columns shown: the API's (the third) only once the API has said something, and
/// then none left without room (each would still take a space between columns).
fn with_api<T>(row: [T; 10], shown: [bool; 10]) -> Vec<T> {
    (row.into_iter().zip(shown))
        .filter(|(_, keep)| *keep)
        .map(|(c, _)| c)
        .collect()
}

/// Sparkline width, in 10-second slots (the newest at the right).
const SPARK: usize = 15;

/// Messages per slot as block characters, scaled to the busiest slot shown.
fn spark(f: &NumberFigures) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let slots = &f.series[f.series.len().saturating_sub(SPARK)..];
    let top = slots.iter().copied().max().unwrap_or(0).max(1);
    slots
        .iter()
        .map(|v| match v {
            0 => ' ',
            v => BARS[((v * 8 - 1) / top).min(7) as usize],
        })
        .collect()
}

/// `p50/p95` of sent→delivered: `1.2s/3.4s`, `-` before any sample.
fn latency((p50, p95): Quantiles) -> String {
    let s = |d: Option<std::time::Duration>| match d {
        Some(d) if d.as_millis() < 1000 => format!("{}ms", d.as_millis()),
        Some(d) => format!("{:.1}s", d.as_secs_f64()),
        None => "-".into(),
    };
    match (p50, p95) {
        (None, None) => "-".into(),
        _ => format!("{}/{}", s(p50), s(p95)),
    }
}
