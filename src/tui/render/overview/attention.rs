//! Attention: what needs a human now — alerts firing, then pending (a line each;
//! `Enter` goes to the selected one's cause), then failed messages, numbers not
//! connected, rejected and broken deliveries, missed calls: the counts, then the newest
//! rows. Alerts come from their lines (built when the alert table changes), counts from
//! the store's counters (copied at sync) and the few number lines; rows only from the
//! lines Flow and Calls already hold.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::super::alerts::{number, state_tone};
use super::super::wrap;
use crate::model::alert::AlertState;
use crate::sanitize::line as clean;
use crate::store::{CallPhase, Status};
use crate::tui::app::{App, Panel};
use crate::tui::render::ago;
use crate::tui::theme::Tone;
use crate::tui::view::Pane;
use crate::tui::view::provider::GRACE_SECS;

/// Its height when stacked: the alerts (a couple more lines for them), the counts, a
/// few rows, the border.
pub fn height(app: &App, body: u16) -> u16 {
    let down = !app.views.numbers_down.is_empty();
    let alerts = app.views.alerts.active.len().min(3) as u16;
    let provider = provider_lines(app).len().min(3) as u16;
    let waiting = u16::from(app.inbox.view.waiting > 0);
    let rows = alerts + 1 + u16::from(down) + waiting + provider + 1;
    (rows + 2)
        .min(body / 6 + alerts.min(2) + provider.min(2))
        .max(3)
}

/// The rows it would take, `width` columns wide, to show its alerts (up to four, each
/// wrapped onto up to three rows) and the lines under them in full.
pub fn wanted(app: &App, width: u16) -> usize {
    let (alerts, _) = alert_lines(app, 5);
    let rows: usize = (alerts.iter())
        .map(|l| wrap::fit(l, width, MAX_ROWS, 2).len())
        .sum();
    rows + essentials(app, 0).len()
}

/// Most rows one alert wraps onto.
const MAX_ROWS: usize = 3;

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let height = usize::from(area.height);
    let (alerts, hidden) = alert_lines(app, height);
    let essential = essentials(app, hidden);
    // Rows left over let a long alert wrap rather than be cut, shared out a row at a
    // time: each alert gets its second row before any gets its third.
    let mut spare = height.saturating_sub(alerts.len() + essential.len());
    let needed: Vec<usize> = (alerts.iter())
        .map(|a| wrap::fit(a, area.width, MAX_ROWS, 2).len())
        .collect();
    let mut rows = vec![1; alerts.len()];
    while spare > 0 {
        let Some(i) = (0..alerts.len())
            .filter(|i| rows[*i] < needed[*i])
            .min_by_key(|i| rows[*i])
        else {
            break;
        };
        rows[i] += 1;
        spare -= 1;
    }
    let mut lines = Vec::with_capacity(height);
    for (alert, rows) in alerts.iter().zip(rows) {
        lines.extend(wrap::fit(alert, area.width, rows, 2));
    }
    let rest = essential.into_iter().chain(newest_failures(app));
    for line in rest.take(height.saturating_sub(lines.len())) {
        lines.extend(wrap::fit(&line, area.width, 1, 0));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

/// The lines always shown under the alerts: the counts, the numbers down, what the
/// provider's API turned up, who waits for an answer.
fn essentials(app: &App, hidden: usize) -> Vec<Line<'static>> {
    let mut out = vec![counts(app, hidden)];
    out.extend(down_line(app));
    out.extend(provider_lines(app));
    out.extend(waiting_line(app));
    out
}

/// Failed messages, numbers down, rejected and broken deliveries, and how many alerts
/// did not fit.
fn counts(app: &App, hidden: usize) -> Line<'static> {
    let t = &app.theme;
    let tot = &app.totals;
    let count = |n: u64, what: &str| {
        let tone = if n > 0 { Tone::Bad } else { Tone::Dim };
        vec![
            Span::styled(n.to_string(), t.style(tone)),
            Span::styled(format!(" {what}  "), t.style(Tone::Dim)),
        ]
    };
    let mut counts = Vec::new();
    if hidden > 0 {
        counts.push(Span::styled(
            format!(
                "+{hidden} more alert{} (7)  ",
                if hidden == 1 { "" } else { "s" }
            ),
            t.style(Tone::Accent),
        ));
    }
    counts.extend(count(tot.failed_messages, "failed"));
    let down = app.views.numbers_down.len();
    counts.extend(count(
        down as u64,
        if down == 1 {
            "number down"
        } else {
            "numbers down"
        },
    ));
    counts.extend(count(tot.rejected, "rejected"));
    counts.extend(count(tot.broken, "broken"));
    Line::from(counts)
}

/// The names of the first few numbers down; the count says how many in all.
fn down_line(app: &App) -> Option<Line<'static>> {
    let down = &app.views.numbers_down;
    let names: Vec<&str> = (down.iter().take(8))
        .filter_map(|i| app.views.numbers.get(*i))
        .map(|n| n.label())
        .collect();
    if names.is_empty() {
        return None;
    }
    let more = match down.len() - names.len() {
        0 => String::new(),
        more => format!(" and {more} more"),
    };
    Some(Line::from(vec![
        Span::styled("⚠ not connected: ", app.theme.style(Tone::Warn)),
        Span::raw(names.join(", ") + &more),
    ]))
}

/// Who waits for an answer (the Inbox, 6): how many, and the oldest wait.
fn waiting_line(app: &App) -> Option<Line<'static>> {
    let t = &app.theme;
    let (since, who) = app.inbox.view.oldest.as_ref()?;
    Some(Line::from(vec![
        Span::styled(
            format!("{} waiting", app.inbox.view.waiting),
            t.style(Tone::Warn),
        ),
        Span::styled(
            format!(
                " · oldest {} ({who})",
                ago((app.now - *since).num_seconds())
            ),
            t.style(Tone::Plain),
        ),
        Span::styled("  6 inbox", t.style(Tone::Dim)),
    ]))
}

/// The newest failures and missed calls among the rows Flow and Calls hold.
fn newest_failures(app: &App) -> impl Iterator<Item = Line<'static>> + '_ {
    let t = &app.theme;
    let page = app.page;
    let failed = (0..page)
        .map_while(|i| app.views.key_at(Pane::Messages, i))
        .filter_map(|o| app.views.message_line(o))
        .filter(|l| l.status == Status::Failed)
        .map(|l| {
            Line::from(vec![
                Span::styled(
                    format!("✗ {} ", l.error_code.as_deref().unwrap_or("failed")),
                    t.style(Tone::Bad),
                ),
                Span::styled(format!("{} ", l.time), t.style(Tone::Dim)),
                Span::raw(format!("{}: {}", l.contact, l.text)),
            ])
        });
    let missed = (0..page)
        .map_while(|i| app.views.key_at(Pane::Calls, i))
        .filter_map(|o| app.views.call_line(o))
        .filter(|c| c.phase == CallPhase::Missed)
        .map(|c| {
            Line::from(vec![
                Span::styled("✆ missed ", t.style(Tone::Bad)),
                Span::raw(format!(
                    "{} → {}",
                    app.views.party(&c.from),
                    app.views.party(&c.to)
                )),
            ])
        });
    failed.chain(missed)
}

/// The active alerts, firing first, one line each (what is wrong first, the rule's
/// name after it), leaving the counts a line: those around the selection when
/// focused, and how many are not shown.
fn alert_lines(app: &App, height: usize) -> (Vec<Line<'static>>, usize) {
    let t = &app.theme;
    let active = &app.views.alerts.active;
    let room = height.saturating_sub(1).max(1).min(active.len());
    let focused = app.overview.focus == Panel::Attention;
    let selected = app.alerts.selected;
    let first = if focused {
        selected.saturating_sub(room.saturating_sub(1))
    } else {
        0
    };
    let hidden = active.len() - room;
    let mut out = Vec::new();
    for (i, l) in active.iter().enumerate().skip(first).take(room) {
        let since = ago((app.now - l.starts_at).num_seconds());
        let state = if l.state == AlertState::Firing {
            format!("⚠ firing {since} ")
        } else {
            format!("○ pending {since} ")
        };
        // Its severity is in the colour here (a panel is narrow), in words on `7`.
        let mut spans = vec![Span::styled(state, t.style(state_tone(l)))];
        let number = number(app, l);
        // Summaries about a number begin with its name already.
        if !number.is_empty() && !l.summary.starts_with(number) {
            spans.push(Span::raw(format!("{number} · ")));
        }
        spans.push(Span::raw(l.summary.clone()));
        spans.push(Span::styled(format!(" · {}", l.name), t.style(Tone::Dim)));
        let line = Line::from(spans);
        out.push(if focused && i == selected {
            line.style(t.style(Tone::Selected))
        } else {
            line
        });
    }
    (out, hidden)
}

/// What comparing with the provider's API turned up: numbers the API and the webhooks
/// disagree about past the grace period, messages whose webhook never came (how many,
/// the newest), deliveries the provider made that never reached the journal.
fn provider_lines(app: &App) -> Vec<Line<'static>> {
    let t = &app.theme;
    let p = &app.views.provider;
    let mut out = Vec::new();
    // What the key leaves off (the header says it too, where the width lets it).
    if let Some(off) = &p.access {
        out.push(Line::styled(off.clone(), t.style(Tone::Warn)));
    }
    for (id, state, connected, since) in &p.disagreements {
        if (app.now - *since).num_seconds() < GRACE_SECS {
            continue;
        }
        let name = app
            .views
            .number_names
            .get(id)
            .cloned()
            .unwrap_or_else(|| clean(id, 24));
        let event = if *connected {
            "number.connected"
        } else {
            "number.disconnected"
        };
        out.push(Line::from(vec![
            Span::styled("≠ ", t.style(Tone::Warn)),
            Span::raw(format!(
                "{name}: the API says {state} for {}, no {event} arrived",
                ago((app.now - *since).num_seconds())
            )),
        ]));
    }
    if p.missing > 0 {
        let mut spans = vec![Span::styled(
            format!("⚠ {} webhook missing", p.missing),
            t.style(Tone::Warn),
        )];
        if let Some(m) = p.missing_rows.first() {
            spans.push(Span::raw(format!(
                " · newest: → {} {} (api) {}",
                m.to, m.step, m.time
            )));
        }
        spans.push(Span::styled("  /status:missing", t.style(Tone::Dim)));
        out.push(Line::from(spans));
    }
    if p.lost > 0 {
        let (what, them) = if p.lost == 1 {
            ("delivery", "it")
        } else {
            ("deliveries", "them")
        };
        out.push(Line::from(vec![
            Span::styled(format!("✗ {} {what} lost", p.lost), t.style(Tone::Bad)),
            Span::styled(
                format!(
                    " (the provider sent {them}, the journal never got {them}; 8 lists {them})"
                ),
                t.style(Tone::Dim),
            ),
        ]));
    }
    out
}
