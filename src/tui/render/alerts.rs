//! The Alerts pane (`7`): the active alerts, firing first, then the recent ended ones,
//! dimmed; under them the selected alert in full (its summary, what notifying it came
//! to, where `Enter` goes). Drawn from the lines built when the alert table changed;
//! only the ages are counted here, from `app.now`.
//!
//! ```text
//! state            severity  rule                 number       notified  summary
//! firing for 3m    critical  number_disconnected  Loja Centro  exec ok   Loja Centro …
//! pending 20s      warning   stuck_message        Suporte      -         1 message …
//! ended
//! resolved 5m ago after 12m  …                                                (dim)
//!
//! › the selected alert's summary, whole
//!   notified: exec ok · webhook HTTP 500 ✗ · Enter: …
//! ```

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState, Wrap};

use super::ago;
use super::columns::{self, Col, width};
use crate::model::alert::{AlertState, Cause, Severity};
use crate::tui::app::App;
use crate::tui::theme::Tone;
use crate::tui::view::alerts::AlertLine;

const HEADER: [&str; 6] = ["state", "severity", "rule", "number", "notified", "summary"];
const STATE: usize = 0;
const SEVERITY: usize = 1;
const RULE: usize = 2;
const NUMBER: usize = 3;
const NOTIFIED: usize = 4;
const SUMMARY: usize = 5;

/// What the pane says when there is nothing to list.
pub const EMPTY: &str = "no alerts (rules are evaluated by the service: `pilotwatch serve`/the dashboard's own receiver)";

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let lines = &app.views.alerts;
    if lines.is_empty() {
        frame.render_widget(
            Paragraph::new(vec![
                Line::default(),
                Line::styled(EMPTY, t.style(Tone::Dim)),
            ])
            .centered()
            .wrap(Wrap { trim: true }),
            area,
        );
        return;
    }
    // The selected alert in full below the list (wrapped), where there is room for it.
    let story: Vec<Line> = match lines.get(app.alerts.selected) {
        Some(l) if area.height >= 8 => (about_lines(app, l).iter())
            .flat_map(|line| super::wrap::fit(line, area.width, 3, 2))
            .collect(),
        _ => Vec::new(),
    };
    let about = (story.len() as u16).min(area.height / 3);
    let [list, foot] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(about)]).areas(area);
    // Only the rows that can show: the selection's screenful.
    let height = usize::from(list.height.saturating_sub(1)).max(1);
    let selected = app.alerts.selected;
    let first = selected.saturating_sub(height.saturating_sub(2));
    let shown: Vec<(usize, &AlertLine)> = (first..first + height)
        .map_while(|i| Some((i, lines.get(i)?)))
        .collect();
    let cells: Vec<[(String, Tone); 6]> = shown.iter().map(|(_, l)| cells(app, l)).collect();
    let mut cols = [
        Col::new(HEADER[STATE], 11, 28),
        Col::new(HEADER[SEVERITY], 8, 8).whole(),
        Col::new(HEADER[RULE], 12, 28),
        Col::new(HEADER[NUMBER], 6, 24),
        Col::new(HEADER[NOTIFIED], 8, 40).whole(),
        Col::new(HEADER[SUMMARY], 12, 20),
    ];
    for row in &cells {
        for (c, (text, _)) in cols.iter_mut().zip(row) {
            c.fit(width(text));
        }
    }
    // Narrow: what notifying came to goes first and the summary shrinks (the selected
    // alert's are said whole below), then the number, the rule, the severity.
    let give = [NOTIFIED, SUMMARY, NUMBER, RULE, SEVERITY];
    let widths = columns::fit(&cols, &give, Some(SUMMARY), list.width);
    let active = lines.active.len();
    let mut rows = Vec::new();
    for ((i, l), row) in shown.iter().zip(cells) {
        if *i == active && active > 0 {
            rows.push(Row::new(["ended"]).style(t.style(Tone::Dim)));
        }
        let ended = l.state == AlertState::Resolved;
        let tone = match (*i == selected, ended) {
            (true, _) => Tone::Selected,
            (false, true) => Tone::Dim,
            (false, false) => Tone::Plain,
        };
        let row = row.map(|(text, tone)| Cell::from(Span::styled(text, t.style(tone))));
        rows.push(Row::new(columns::shown(&widths, row)).style(t.style(tone)));
    }
    let header = Row::new(columns::shown(&widths, HEADER)).style(t.style(Tone::Dim));
    // The separator row above the ended ones counts in the table's own rows.
    let mut state = TableState::default().with_selected(
        shown
            .iter()
            .position(|(i, _)| *i == selected)
            .map(|p| p + usize::from(selected >= active && first <= active && active > 0)),
    );
    frame.render_stateful_widget(
        Table::new(rows, columns::constraints(&widths))
            .header(header)
            .column_spacing(columns::SPACING),
        list,
        &mut state,
    );
    if about > 0 {
        frame.render_widget(Paragraph::new(story), foot);
    }
}

/// An alert's cells, in [`HEADER`] order.
fn cells(app: &App, l: &AlertLine) -> [(String, Tone); 6] {
    let ended = l.state == AlertState::Resolved;
    let severity = if ended {
        Tone::Dim
    } else {
        severity_tone(l.severity)
    };
    let (notified, notified_tone) = match outcome(l) {
        Some((text, ok)) => (text, if ok { Tone::Dim } else { Tone::Bad }),
        None => ("-".into(), Tone::Dim),
    };
    [
        (short_age(app, l), state_tone(l)),
        (l.severity.as_str().into(), severity),
        (l.name.clone(), Tone::Plain),
        (number(app, l).into(), Tone::Plain),
        (notified, notified_tone),
        (l.summary.clone(), Tone::Plain),
    ]
}

/// Below the list: the selected alert whole, and where `Enter` takes it.
fn about_lines<'a>(app: &App, l: &'a AlertLine) -> Vec<Line<'a>> {
    let t = &app.theme;
    let mut title = vec![
        Span::styled("› ", t.style(Tone::Accent)),
        Span::styled(l.name.as_str(), t.style(Tone::Title)),
    ];
    let number = number(app, l);
    if !number.is_empty() {
        title.push(Span::styled(format!(" · {number}"), t.style(Tone::Title)));
    }
    title.push(Span::raw(format!(": {}", l.summary)));
    let mut notified = vec![Span::styled(
        format!("  {} · notified: ", age(app, l)),
        t.style(Tone::Dim),
    )];
    if l.outcomes.is_empty() {
        let why = if l.state == AlertState::Pending || !l.fired {
            "no (not firing)"
        } else if app.info.alert_targets == Some(0) {
            "no (no --alert-exec or --alert-webhook: dashboards only)"
        } else {
            "no outcome yet"
        };
        notified.push(Span::styled(why, t.style(Tone::Dim)));
    }
    for (i, (text, ok)) in l.outcomes.iter().enumerate() {
        if i > 0 {
            notified.push(Span::styled(" · ", t.style(Tone::Dim)));
        }
        let tone = if *ok { Tone::Good } else { Tone::Bad };
        notified.push(Span::styled(text.as_str(), t.style(tone)));
    }
    if l.repeats > 0 {
        notified.push(Span::styled(
            format!(" (repeated {}×)", l.repeats),
            t.style(Tone::Dim),
        ));
    }
    let to = match &l.cause {
        Some(Cause::Number { .. }) => "Enter: the number in Numbers",
        Some(Cause::Message { .. }) => "Enter: the message",
        Some(Cause::Delivery { .. }) => "Enter: the delivery",
        None => "",
    };
    if !to.is_empty() {
        notified.push(Span::styled(format!(" · {to}"), t.style(Tone::Accent)));
    }
    vec![Line::default(), Line::from(title), Line::from(notified)]
}

/// The list's state column: `firing 3m`, `pending 20s`, `resolved 5m ago`, `ended 5m
/// ago` (how long it fired, or that it never did, is said below for the selected one).
fn short_age(app: &App, l: &AlertLine) -> String {
    let since = |at: chrono::DateTime<chrono::Utc>| ago((app.now - at).num_seconds());
    match (l.state, l.ended_at) {
        (AlertState::Firing, _) => format!("firing {}", since(l.starts_at)),
        (AlertState::Pending, _) => format!("pending {}", since(l.starts_at)),
        (AlertState::Resolved, Some(end)) if l.fired => format!("resolved {} ago", since(end)),
        (AlertState::Resolved, Some(end)) => format!("ended {} ago", since(end)),
        (AlertState::Resolved, None) => "resolved".into(),
    }
}

/// `firing for 3m`, `pending 20s`, `resolved 5m ago after 12m`.
pub(super) fn age(app: &App, l: &AlertLine) -> String {
    let since = |at: chrono::DateTime<chrono::Utc>| ago((app.now - at).num_seconds());
    match (l.state, l.ended_at) {
        (AlertState::Firing, _) => format!("firing for {}", since(l.starts_at)),
        (AlertState::Pending, _) => format!("pending {}", since(l.starts_at)),
        (AlertState::Resolved, Some(end)) if l.fired => format!(
            "resolved {} ago after {}",
            since(end),
            ago((end - l.starts_at).num_seconds())
        ),
        (AlertState::Resolved, Some(end)) => format!("ended {} ago, never fired", since(end)),
        (AlertState::Resolved, None) => "resolved".into(),
    }
}

/// Firing critical red, warning yellow; pending dim; resolved green, dimmed.
pub(super) fn state_tone(l: &AlertLine) -> Tone {
    match l.state {
        AlertState::Firing => severity_tone(l.severity),
        AlertState::Pending => Tone::Dim,
        AlertState::Resolved => Tone::Good,
    }
}

fn severity_tone(s: Severity) -> Tone {
    match s {
        Severity::Critical => Tone::Bad,
        Severity::Warning => Tone::Warn,
        Severity::Info => Tone::Info,
    }
}

/// The number's name, looked up now (it may have become known since the line was built).
pub(super) fn number<'a>(app: &'a App, l: &'a AlertLine) -> &'a str {
    l.number_id
        .as_ref()
        .and_then(|id| app.views.number_names.get(id))
        .map_or(l.number_shown.as_str(), String::as_str)
}

/// What notifying it came to, each channel's newest outcome: `(text, all ok)`.
fn outcome(l: &AlertLine) -> Option<(String, bool)> {
    if l.outcomes.is_empty() {
        return None;
    }
    let text = (l.outcomes.iter().map(|(t, _)| t.as_str()))
        .collect::<Vec<_>>()
        .join(" · ");
    Some((text, l.outcomes.iter().all(|(_, ok)| *ok)))
}
