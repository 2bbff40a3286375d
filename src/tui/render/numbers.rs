use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row, Table};

use super::columns::{self, Col, width};
use super::{ago, row_tone};
use crate::store::NumberState;
use crate::tui::app::App;
use crate::tui::theme::Tone;
use crate::tui::view::NumberLine;

const HEADER: [&str; 10] = [
    "number", "phone", "state", "api", "health", "since", "in", "out", "fail", "id",
];
// Columns by index (in, out and fail are fitted like the others, never given up).
const NAME: usize = 0;
const PHONE: usize = 1;
const STATE: usize = 2;
const API: usize = 3;
const HEALTH: usize = 4;
const ID: usize = 9;

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let start = app.list().offset;
    let lines: Vec<(usize, &NumberLine)> = app
        .views
        .numbers
        .iter()
        .enumerate()
        .skip(start)
        .take(area.height.saturating_sub(1) as usize)
        .collect();
    let cells: Vec<[(String, Tone); 10]> = lines.iter().map(|(_, n)| cells(app, n)).collect();
    let mut cols = [
        Col::new(HEADER[NAME], 10, 40),
        Col::new(HEADER[PHONE], 8, 20).whole(),
        Col::new(HEADER[STATE], 7, 26),
        Col::new(HEADER[API], 6, 40),
        Col::new(HEADER[HEALTH], 10, 50),
        Col::new(HEADER[5], 4, 6),
        Col::new(HEADER[6], 2, 8),
        Col::new(HEADER[7], 3, 8),
        Col::new(HEADER[8], 4, 8),
        Col::new(HEADER[ID], 0, 30).whole(),
    ];
    for row in &cells {
        for (c, (text, _)) in cols.iter_mut().zip(row) {
            c.fit(width(text));
        }
    }
    // The API's column only once the provider's API has said something of a number.
    if !app.views.numbers.iter().any(|n| n.api.is_some()) {
        cols[API] = Col::fixed(0);
    }
    // Narrow: the name shrinks first (its profile part), then the id goes, then the
    // phone; the state and the health reason (`degraded QUALITY_LOW`) are what the
    // pane is for, and what the API says beside the state.
    let give = [NAME, ID, PHONE, HEALTH, API, STATE];
    let mut widths = columns::fit(&cols, &give, None, area.width);
    // Cut, the names lose their `(profile name)` part whole (cut inside, it reads as a
    // typo); what is left of them gives way only after the health.
    let short = |name: &str| -> u16 { width(name.split(" (").next().unwrap_or(name)) };
    if widths[NAME] < cols[NAME].want {
        let shown = cells.iter().map(|row| short(&row[NAME].0));
        cols[NAME].want = shown.fold(cols[NAME].min, u16::max).min(cols[NAME].max);
        widths = columns::fit(
            &cols,
            &[ID, PHONE, HEALTH, API, NAME, STATE],
            None,
            area.width,
        );
    }
    let rows = lines.iter().zip(cells).map(|((i, _), mut row)| {
        let name = &mut row[NAME].0;
        if width(name) > widths[NAME]
            && let Some(at) = name.find(" (")
        {
            name.truncate(at);
        }
        let row = row.map(|(text, tone)| Cell::from(Span::styled(text, t.style(tone))));
        Row::new(columns::shown(&widths, row)).style(t.style(row_tone(app, *i)))
    });
    let header = Row::new(columns::shown(&widths, HEADER)).style(t.style(Tone::Dim));
    frame.render_widget(
        Table::new(rows, columns::constraints(&widths))
            .header(header)
            .column_spacing(columns::SPACING),
        area,
    );
}

/// A number's cells, in [`HEADER`] order.
pub(super) fn cells(app: &App, n: &NumberLine) -> [(String, Tone); 10] {
    let connected = n.state.is_connected();
    let state = match n.state {
        NumberState::Connected => Tone::Good,
        NumberState::Disconnected | NumberState::Removed | NumberState::Restored => Tone::Bad,
        NumberState::Created => Tone::Warn,
        NumberState::Unknown => Tone::Dim,
    };
    // A restored number comes back disconnected (the provider says so): say both.
    let state_text = match n.state {
        _ if n.api_only => "api only".to_owned(),
        NumberState::Restored if !connected => "restored · disconnected".to_owned(),
        s => s.as_str().to_owned(),
    };
    let health = match &n.health {
        Some((name, err)) => {
            let healthy = n.healthy();
            let text = format!(
                "{name}{}",
                err.as_deref().map(|e| format!(" {e}")).unwrap_or_default()
            );
            // Healthy means little while the number cannot send: not in green then.
            let tone = match (healthy, connected) {
                (true, true) => Tone::Good,
                (true, false) => Tone::Dim,
                (false, _) => Tone::Warn,
            };
            (text, tone)
        }
        None => (n.error.clone().unwrap_or_else(|| "-".into()), Tone::Dim),
    };
    let fail = if n.failures > 0 { Tone::Bad } else { Tone::Dim };
    [
        (n.name.clone(), Tone::Plain),
        (n.phone.clone(), Tone::Plain),
        (state_text, state),
        api(app, n, true),
        health,
        (ago((app.now - n.changed_at).num_seconds()), Tone::Plain),
        (n.messages_in.to_string(), Tone::Plain),
        (n.messages_out.to_string(), Tone::Plain),
        (n.failures.to_string(), fail),
        (n.number_id.clone(), Tone::Dim),
    ]
}

/// What the API says of it: `api: connected (stale) 2m ago`, how old the reading is;
/// once it has disagreed with the webhooks past the grace period, flagged:
/// `≠ api: disconnected 3m` (for how long). Without the `api:` where its column's
/// header says it on every row (the overview's Fleet).
pub(super) fn api(app: &App, n: &NumberLine, labelled: bool) -> (String, Tone) {
    let label = if labelled { "api: " } else { "" };
    let Some(api) = &n.api else {
        return ("-".into(), Tone::Dim);
    };
    if let Some(since) = api.flagged(app.now) {
        let age = ago((app.now - since).num_seconds());
        return (format!("≠ {label}{} {age}", api.word()), Tone::Warn);
    }
    let age = api
        .checked_at
        .map(|at| format!(" {} ago", ago((app.now - at).num_seconds())))
        .unwrap_or_default();
    let tone = if api.connected { Tone::Dim } else { Tone::Warn };
    (format!("{label}{}{age}", api.word()), tone)
}
