use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row, Table};

use super::columns::{self, Col};
use super::{row_tone, visible};
use crate::model::Verdict;
use crate::tui::app::App;
use crate::tui::theme::Tone;
use crate::tui::view::{FeedLine, Pane};

const HEADER: [&str; 7] = [
    "received",
    "seq",
    "event",
    "verdict",
    "signature",
    "app",
    "summary",
];
const EVENT: usize = 2;
const SIGNATURE: usize = 4;
const APP: usize = 5;
const SUMMARY: usize = 6;

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let forwarding = app.info.forward_to.is_some();
    let height = area.height.saturating_sub(1) as usize;
    let lines: Vec<(usize, &FeedLine)> = visible(app, Pane::Feed, height)
        .filter_map(|(i, seq)| Some((i, app.views.feed_line(seq)?)))
        .collect();
    let cells: Vec<(usize, [Span; 6], Line)> = lines
        .iter()
        .map(|(i, l)| {
            let (cells, summary) = cells(app, l);
            (*i, cells, summary)
        })
        .collect();
    let mut cols = [
        Col::fixed(12),
        Col::new(HEADER[1], 3, 9),
        Col::new(HEADER[EVENT], 5, 32),
        Col::new(HEADER[3], 5, 16),
        // The signature goes whole when narrow (the detail says it): the event first.
        Col::new(HEADER[SIGNATURE], 5, 10).whole(),
        Col::new(HEADER[APP], 3, 20),
        // The free text: 20 wanted before others give way, 12 at the least.
        Col::new(HEADER[SUMMARY], 12, 20),
    ];
    cols[SUMMARY].fit(20);
    for (_, row, _) in &cells {
        for (c, s) in cols.iter_mut().zip(row) {
            c.fit(s.width() as u16);
        }
    }
    if !forwarding {
        cols[APP] = Col::fixed(0);
    }
    let widths = columns::fit(
        &cols,
        &[SIGNATURE, SUMMARY, EVENT],
        Some(SUMMARY),
        area.width,
    );
    let rows = cells.into_iter().map(|(i, row, summary)| {
        let mut row: Vec<Cell> = row.into_iter().map(Cell::from).collect();
        row.push(Cell::from(summary));
        Row::new(columns::shown(&widths, row)).style(t.style(row_tone(app, i)))
    });
    let header = Row::new(columns::shown(&widths, HEADER)).style(t.style(Tone::Dim));
    frame.render_widget(
        Table::new(rows, columns::constraints(&widths))
            .header(header)
            .column_spacing(columns::SPACING),
        area,
    );
}

/// A delivery's cells before the summary, in [`HEADER`] order, and the summary.
fn cells<'a>(app: &'a App, l: &'a FeedLine) -> ([Span<'a>; 6], Line<'a>) {
    let t = &app.theme;
    let (verdict, tone) = match (l.duplicate_of, l.verdict) {
        (Some(first), _) => (format!("retry #{first}"), Tone::Dim),
        (None, Verdict::Known) => ("known".into(), Tone::Good),
        (None, Verdict::Unknown) => ("UNKNOWN".into(), Tone::Info),
        (None, Verdict::Broken) => ("BROKEN".into(), Tone::Bad),
        (None, Verdict::Rejected) => ("REJECTED".into(), Tone::Bad),
    };
    let sig_tone = match l.signature {
        "valid" => Tone::Good,
        "unchecked" => Tone::Dim,
        _ => Tone::Bad,
    };
    // What the user's app answered when this delivery was forwarded to it.
    let forward = match &l.forward {
        Some((text, ok)) => Span::styled(
            text.as_str(),
            t.style(if *ok { Tone::Good } else { Tone::Bad }),
        ),
        None => Span::styled("…", t.style(Tone::Dim)),
    };
    // A message's number by name, looked up now: it may have become known since.
    let mut summary = Vec::new();
    if let Some(id) = &l.number_id {
        let name = app
            .views
            .number_names
            .get(id)
            .map_or(l.number_shown.as_str(), |s| s.as_str());
        summary.push(Span::raw(name));
        summary.push(Span::raw(" · "));
    }
    summary.push(Span::raw(l.summary.as_str()));
    (
        [
            Span::raw(l.time.as_str()),
            Span::styled(format!("#{}", l.seq), t.style(Tone::Dim)),
            Span::raw(l.event.as_str()),
            Span::styled(verdict, t.style(tone)),
            Span::styled(l.signature, t.style(sig_tone)),
            forward,
        ],
        Line::from(summary),
    )
}
