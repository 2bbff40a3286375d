//! Fleet: one line per number — name, state in colour, health, time since it changed,
//! its last event; from the stats copied at sync, messages in / out / failed over five
//! minutes, their sparkline and the sent→delivered p50/p95.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row, Table};

use super::super::ago;
use super::super::columns::{self, Col, width};
use super::super::numbers::{api, cells};
use crate::tui::app::App;
use crate::tui::theme::Tone;
use crate::tui::view::Pane;
use crate::tui::view::figures::{NumberFigures, Quantiles};

/// The numbers the panel has room for, in the Numbers pane's order. Focused, it scrolls
/// with the selection; otherwise, when the fleet does not fit, the numbers down come
/// first, then those an alert is active for, then the unhealthy, so the panel still
/// shows the ones in trouble (its title says how many it leaves out).
fn listed(app: &App, room: usize, focused: bool) -> Vec<usize> {
    let numbers = &app.views.numbers;
    if focused {
        let selected = app.lists[Pane::Numbers.index()].selected;
        let start = selected.saturating_sub(room.saturating_sub(1));
        return (start..numbers.len()).take(room).collect();
    }
    if numbers.len() <= room {
        return (0..numbers.len()).collect();
    }
    // As many as fit, the most in trouble first, put back in order.
    let alerted: std::collections::HashSet<&str> = (app.views.alerts.active.iter())
        .filter_map(|l| l.number_id.as_deref())
        .collect();
    let quiet = |i: &usize| {
        numbers
            .get(*i)
            .is_none_or(|n| !alerted.contains(&*n.raw_id))
    };
    let by_trouble = &app.views.numbers_by_trouble;
    let (down, rest) = by_trouble.split_at(app.views.numbers_down.len().min(by_trouble.len()));
    let mut rest = rest.to_vec();
    // Stable: among those alerted for (and the others), the trouble order stays.
    rest.sort_by_key(quiet);
    let mut listed: Vec<usize> = down.iter().copied().chain(rest).take(room).collect();
    listed.sort_unstable();
    listed
}

/// Its title: how many it leaves out when the fleet does not fit in `height` rows.
pub fn title(app: &App, height: u16) -> String {
    let total = app.views.numbers.len();
    let room = usize::from(height.saturating_sub(3));
    if total > room {
        format!("Fleet · {room} of {total} (2 lists all)")
    } else {
        "Fleet".to_owned()
    }
}

pub fn render(frame: &mut Frame, area: Rect, app: &App, focused: bool) {
    let t = &app.theme;
    let selected = app.lists[Pane::Numbers.index()].selected;
    let room = area.height.saturating_sub(1) as usize;
    let listed = listed(app, room, focused);
    let has_api = app.views.numbers.iter().any(|n| n.api.is_some());
    let rows: Vec<([(String, Tone); 10], Tone)> = (listed.iter())
        .filter_map(|i| Some((*i, app.views.numbers.get(*i)?)))
        .map(|(i, n)| {
            let [mut name, _, state, _, health, since, ..] = cells(app, n);
            let api = api(app, n, false);
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
            (row, tone)
        })
        .collect();
    // Each column as wide as its widest cell shown. Narrow: the sparkline, the last
    // event and the latency go first (whole), then the health and what the API says
    // shrink; the name and the state (`restored · disconnected`) are what the panel is
    // for. What the API says only once it has said something.
    let mut cols = [
        Col::new(HEADER[NAME], 6, 25),
        Col::new(HEADER[STATE], 9, 26),
        if has_api {
            Col::new(HEADER[API], 10, 32)
        } else {
            Col::fixed(0)
        },
        Col::new(HEADER[HEALTH], 8, 40),
        Col::new(HEADER[4], 8, 9),
        Col::new(HEADER[5], 5, 11),
        Col::new(HEADER[6], 1, 5),
        Col::fixed(SPARK as u16).whole(),
        Col::new(HEADER[8], 9, 13).whole(),
        Col::new(HEADER[9], 8, 9).whole(),
    ];
    for (row, _) in &rows {
        for (c, (text, _)) in cols.iter_mut().zip(row) {
            if c.max > 0 {
                c.fit(width(text));
            }
        }
    }
    let widths = columns::fit(
        &cols,
        &[SPARK_COL, LAST, LATENCY, HEALTH, API, NAME, STATE],
        None,
        area.width,
    );
    let rows: Vec<Row> = (rows.into_iter())
        .map(|(row, tone)| {
            let row = row.map(|(text, tone)| Cell::from(Span::styled(text, t.style(tone))));
            Row::new(columns::shown(&widths, row)).style(t.style(tone))
        })
        .collect();
    // Figures need their names; the header is the only place they are said.
    let header = Row::new(columns::shown(&widths, HEADER)).style(t.style(Tone::Dim));
    frame.render_widget(
        Table::new(rows, columns::constraints(&widths))
            .header(header)
            .column_spacing(columns::SPACING),
        area,
    );
}

const HEADER: [&str; 10] = [
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
];
const NAME: usize = 0;
const STATE: usize = 1;
const API: usize = 2;
const HEALTH: usize = 3;
const SPARK_COL: usize = 7;
const LATENCY: usize = 8;
const LAST: usize = 9;

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
