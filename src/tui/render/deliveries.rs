//! The Deliveries view (`8`): the provider's log of webhook attempts, newest first, its
//! side beside ours — what the provider says happened (its verdict, the status code,
//! how long, what our receiver answered) and what the journal has (the delivery it
//! matched and our verdict, or that it was lost on the way). Under it our own refusals,
//! so both sides of a failed delivery are on one screen; at the bottom the selected
//! attempt whole. Drawn from the lines built when the provider's side changed.
//!
//! ```text
//! 12 attempts in the provider's log · 1 lost · 2 failed                (summary)
//! time      event              provider     ms  response         pilotwatch
//! 10:02:11  message.received   SUCCESS 200  45  ok               #42 known
//! 10:02:09  message.sent       FAILED 500  120  oops             #41 rejected
//! 10:01:58  message.delivered  SUCCESS 200  12  ok               LOST: never journaled
//! our refusals (non-2xx answers), newest first
//! 10:01:40  #39  message.sent  signature invalid (from 10.0.0.7)
//!
//! › the selected attempt whole · Enter: delivery #42
//! ```

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState, Wrap};

use super::columns::{self, Col, width};
use crate::tui::app::App;
use crate::tui::theme::Tone;
use crate::tui::view::provider::AttemptLine;

const HEADER: [&str; 6] = ["time", "event", "provider", "ms", "response", "pilotwatch"];
const EVENT: usize = 1;
const MS: usize = 3;
const RESPONSE: usize = 4;

/// What the view says before the provider's log has anything.
pub const EMPTY: [&str; 2] = [
    "no attempts from the provider's delivery log yet",
    "needs an API key with access to webhook logs (PILOT_STATUS_API_KEY); the reconciler polls every --api-poll",
];

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let p = &app.views.provider;
    let mut top = Vec::new();
    if let Some(off) = &p.webhooks_off {
        top.push(Line::styled(
            format!("⚠ the provider's delivery log is not read: webhooks off ({off})"),
            t.style(Tone::Warn),
        ));
    }
    if !p.attempts.is_empty() {
        let mut spans = vec![Span::styled(
            format!(
                "{} attempt{} in the provider's log, newest first",
                p.attempts.len(),
                if p.attempts.len() == 1 { "" } else { "s" }
            ),
            t.style(Tone::Title),
        )];
        let count = |n: u64, what: &str, tone: Tone| {
            let tone = if n > 0 { tone } else { Tone::Dim };
            Span::styled(format!(" · {n} {what}"), t.style(tone))
        };
        spans.push(count(p.lost, "lost", Tone::Bad));
        spans.push(count(p.failed, "failed", Tone::Bad));
        top.push(Line::from(spans));
    }
    let rejected = if p.rejected.is_empty() {
        0
    } else {
        p.rejected.len() as u16 + 1
    };
    let about = if area.height >= 14 && !p.attempts.is_empty() {
        3
    } else {
        0
    };
    let [top_area, list, refusals, foot] = Layout::vertical([
        Constraint::Length(top.len() as u16),
        Constraint::Min(3),
        Constraint::Length(rejected.min(area.height / 3)),
        Constraint::Length(about),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(top), top_area);
    if p.attempts.is_empty() {
        let mut lines = vec![Line::default()];
        lines.extend(EMPTY.map(|l| Line::styled(l, t.style(Tone::Dim))));
        frame.render_widget(
            Paragraph::new(lines).centered().wrap(Wrap { trim: true }),
            list,
        );
    } else {
        attempts(frame, list, app);
    }
    if rejected > 0 {
        frame.render_widget(Paragraph::new(refusal_lines(app)), refusals);
    }
    if about > 0
        && let Some(l) = p.attempts.get(app.deliveries.selected)
    {
        frame.render_widget(Paragraph::new(about_lines(app, l)), foot);
    }
}

/// The attempts around the selection, one a row.
fn attempts(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let lines = &app.views.provider.attempts;
    let height = usize::from(area.height.saturating_sub(1)).max(1);
    let selected = app.deliveries.selected;
    let first = selected.saturating_sub(height.saturating_sub(1));
    let shown: Vec<&AttemptLine> = lines.iter().skip(first).take(height).collect();
    let cells: Vec<[(String, Tone); 6]> = shown.iter().map(|l| cells(l)).collect();
    let mut cols = [
        Col::fixed(8),
        Col::new(HEADER[EVENT], 8, 28),
        Col::new(HEADER[2], 8, 12).whole(),
        Col::new(HEADER[MS], 2, 7).whole(),
        Col::new(HEADER[RESPONSE], 8, 40),
        Col::new(HEADER[5], 10, 24),
    ];
    for row in &cells {
        for (c, (text, _)) in cols.iter_mut().zip(row) {
            c.fit(width(text));
        }
    }
    // Narrow: what our receiver answered goes first (the selected attempt's is said
    // whole below), then the time it took, then the event shrinks; the two verdicts
    // side by side are what the view is for.
    let widths = columns::fit(&cols, &[RESPONSE, MS, EVENT], Some(RESPONSE), area.width);
    let rows = shown.iter().zip(cells).enumerate().map(|(i, (_, row))| {
        let tone = if first + i == selected {
            Tone::Selected
        } else {
            Tone::Plain
        };
        let row = row.map(|(text, tone)| Cell::from(Span::styled(text, t.style(tone))));
        Row::new(columns::shown(&widths, row)).style(t.style(tone))
    });
    let header = Row::new(columns::shown(&widths, HEADER)).style(t.style(Tone::Dim));
    let mut state = TableState::default().with_selected(Some(selected - first));
    frame.render_stateful_widget(
        Table::new(rows, columns::constraints(&widths))
            .header(header)
            .column_spacing(columns::SPACING),
        area,
        &mut state,
    );
}

/// An attempt's cells, in [`HEADER`] order.
fn cells(l: &AttemptLine) -> [(String, Tone); 6] {
    let verdict = if l.ok { Tone::Good } else { Tone::Bad };
    let ms = l.duration_ms.map_or_else(|| "-".into(), |d| d.to_string());
    let response = if l.response.is_empty() {
        "-".to_owned()
    } else {
        l.response.clone()
    };
    [
        (l.time.clone(), Tone::Dim),
        (l.event.clone(), Tone::Plain),
        (l.verdict.clone(), verdict),
        (ms, Tone::Dim),
        (response, Tone::Dim),
        ours(l),
    ]
}

/// Our side: the journaled delivery and our verdict, or that it never reached us.
fn ours(l: &AttemptLine) -> (String, Tone) {
    match (l.matched, &l.ours) {
        (None, _) => ("LOST: never journaled".into(), Tone::Bad),
        (Some(seq), Some((verdict, true))) => (format!("#{seq} {verdict}"), Tone::Good),
        (Some(seq), Some((verdict, false))) => (format!("#{seq} {verdict}"), Tone::Bad),
        (Some(seq), None) => (format!("#{seq} (not in memory)"), Tone::Dim),
    }
}

/// Our refusals, newest first: the other side of a delivery the provider logged as
/// failed.
fn refusal_lines(app: &App) -> Vec<Line<'static>> {
    let t = &app.theme;
    let mut out = vec![Line::styled(
        "our refusals (non-2xx answers), newest first",
        t.style(Tone::Title),
    )];
    for r in &app.views.provider.rejected {
        let from = if r.remote.is_empty() {
            String::new()
        } else {
            format!(" (from {})", r.remote)
        };
        out.push(Line::from(vec![
            Span::styled(format!("{}  ", r.time), t.style(Tone::Dim)),
            Span::styled(format!("#{}  ", r.seq), t.style(Tone::Dim)),
            Span::raw(format!("{}  ", r.event)),
            Span::styled(format!("rejected: {}", r.why), t.style(Tone::Bad)),
            Span::styled(from, t.style(Tone::Dim)),
        ]));
    }
    out
}

/// Below the list: the selected attempt whole, and where `Enter` takes it.
fn about_lines(app: &App, l: &AttemptLine) -> Vec<Line<'static>> {
    let t = &app.theme;
    let took = l
        .duration_ms
        .map(|d| format!(" in {d} ms"))
        .unwrap_or_default();
    let response = if l.response.is_empty() {
        String::new()
    } else {
        format!(", answered \"{}\"", l.response)
    };
    let (ours, tone) = ours(l);
    let to = match l.matched {
        Some(seq) => format!(" · Enter: delivery #{seq}"),
        None => " · sent by the provider, never reached the journal".into(),
    };
    vec![
        Line::default(),
        Line::from(vec![
            Span::styled("› ", t.style(Tone::Accent)),
            Span::styled(l.event.clone(), t.style(Tone::Title)),
            Span::raw(format!(" to {}: {}{took}{response}", l.webhook, l.verdict)),
        ]),
        Line::from(vec![
            Span::styled("  pilotwatch: ", t.style(Tone::Dim)),
            Span::styled(ours, t.style(tone)),
            Span::styled(to, t.style(Tone::Accent)),
        ]),
    ]
}
