//! Drawing: a pure function of the app state and the store, one file per pane.
//!
//! ```text
//! ┌──────────────────────────────────────────────────────────────────────────┐
//! │ header: where it listens · signatures · journal · uptime                 │ 2 lines
//! │         totals · rate sparkline · failed / rejected / broken / unknown   │
//! │ tabs:   1 Messages  2 Numbers  3 Calls  4 Feed  (0, 5, 7, 8 when shown)  │ 1 line
//! ├──────────────────────────────────────────────────────────────────────────┤
//! │ the active pane's table, or a row's detail, or the empty state           │ rest
//! ├──────────────────────────────────────────────────────────────────────────┤
//! │ status: FOLLOW/PAUSED · filter · key hints (or the filter being typed)   │ 1 line
//! └──────────────────────────────────────────────────────────────────────────┘
//!                 help overlay (`?`) drawn on top, centred
//! ```

mod alerts;
mod calls;
mod columns;
mod composer;
mod conversation;
mod deliveries;
mod detail;
mod feed;
mod header;
mod help;
mod inbox;
pub mod latency;
mod messages;
mod numbers;
mod overview;
mod status;
mod wrap;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::app::{App, Mode};
use super::theme::Tone;
use super::view::Pane;

/// Header, tabs and status line around the pane; the table spends one row on its header.
const CHROME: u16 = 2 + 1 + 1;

/// Rows of a list that fit in a terminal of this height.
pub fn page_height(height: u16) -> usize {
    height.saturating_sub(CHROME + 1).max(1) as usize
}

/// Everything drawn comes from `app`: the store is read only while syncing, so a slow
/// terminal (an SSH link) never holds up the receiver.
pub fn draw(frame: &mut Frame, app: &App) {
    let [head, tabs, body, foot] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    header::render(frame, head, app);
    render_tabs(frame, tabs, app);
    match &app.mode {
        Mode::Detail(d) => detail::render(frame, body, app, d),
        // A conversation over whatever it was opened from (its composer docked in it).
        _ if let Some(v) = &app.thread => conversation::render(frame, body, app, v),
        _ if app.inbox.shown => inbox::render(frame, body, app),
        // Before any delivery too: `no_deliveries` fires exactly then.
        _ if app.alerts.shown => alerts::render(frame, body, app),
        // Lost deliveries are news before any delivery arrived too.
        _ if app.deliveries.shown => deliveries::render(frame, body, app),
        _ if app.totals.total == 0 => render_waiting(frame, body, app),
        _ if app.latency => latency::render(frame, body, app),
        _ if app.overview.shown => overview::render(frame, body, app),
        _ if app.views.len(app.pane) == 0 && !app.filter.is_empty() && !app.scanning => {
            render_no_match(frame, body, app)
        }
        _ => match app.pane {
            Pane::Messages => messages::render(frame, body, app),
            Pane::Numbers => numbers::render(frame, body, app),
            Pane::Calls => calls::render(frame, body, app),
            Pane::Feed => feed::render(frame, body, app),
        },
    }
    status::render(frame, foot, app);
    if let Mode::Compose(c) = &app.mode
        && app.thread.is_none()
    {
        composer::render(frame, body, app, c);
    }
    if let Mode::Help { scroll, back } = &app.mode {
        if let Some(d) = back {
            detail::render(frame, body, app, d);
        }
        help::render(frame, frame.area(), app, *scroll);
    }
}

/// One tab: its key and name, a count (empty: none), whether its view is shown, and
/// how readily it gives way on a narrow screen (higher first; 0 never).
struct Tab {
    name: String,
    count: String,
    shown: bool,
    give: u8,
}

impl Tab {
    fn new(name: &str, count: Option<usize>, shown: bool, give: u8) -> Self {
        let count = count.map(|n| n.to_string()).unwrap_or_default();
        Self {
            name: name.to_owned(),
            count,
            shown,
            give,
        }
    }

    fn text(&self) -> String {
        match self.count.is_empty() {
            true => self.name.clone(),
            false => format!("{} {}", self.name, self.count),
        }
    }
}

/// Every view by its key, the one shown highlighted: `0` the overview, `1`–`4` the
/// panes, `5`–`8` the full-screen views, and an open conversation. Where the width is
/// short, the views not shown give way one at a time (deliveries, latency, alerts,
/// inbox, the overview), then the counts of the tabs not shown, then their names; the
/// one shown stays whole.
fn render_tabs(frame: &mut Frame, area: Rect, app: &App) {
    let full_screen_pane = !(app.overview.shown
        || app.latency
        || app.alerts.shown
        || app.deliveries.shown
        || app.inbox.shown
        || app.thread.is_some());
    let v = &app.views;
    let mut tabs = vec![Tab::new("0 Overview", None, app.overview.shown, 1)];
    for (i, pane) in Pane::ALL.iter().enumerate() {
        let shown = *pane == app.pane && full_screen_pane;
        let name = format!("{} {}", i + 1, pane.title());
        tabs.push(Tab::new(&name, Some(v.len(*pane)), shown, 0));
    }
    let thread = app.thread.is_some();
    tabs.extend([
        Tab::new("5 Latency", None, app.latency, 4),
        // Kept beside an open conversation, where it came from (and `6` goes back).
        Tab::new(
            "6 Inbox",
            Some(app.inbox.view.waiting),
            app.inbox.shown && !thread,
            if thread { 0 } else { 2 },
        ),
        Tab::new("7 Alerts", Some(v.alerts.active.len()), app.alerts.shown, 3),
        Tab::new(
            "8 Deliveries",
            Some(v.provider.attempts.len()),
            app.deliveries.shown,
            5,
        ),
    ]);
    if thread {
        tabs.push(Tab::new("Conversation", None, true, 0));
    }
    let fits = |tabs: &[Tab]| {
        let width: usize = tabs.iter().map(|t| Span::raw(t.text()).width() + 3).sum();
        width <= usize::from(area.width)
    };
    while !fits(&tabs) {
        let most = (tabs.iter().enumerate())
            .filter(|(_, t)| !t.shown && t.give > 0)
            .max_by_key(|(_, t)| t.give);
        let Some((i, _)) = most else { break };
        tabs.remove(i);
    }
    if !fits(&tabs) {
        tabs.iter_mut()
            .filter(|t| !t.shown)
            .for_each(|t| t.count.clear());
    }
    if !fits(&tabs) {
        tabs.iter_mut()
            .filter(|t| !t.shown)
            .for_each(|t| t.name.truncate(1));
    }
    let mut spans = Vec::new();
    for tab in &tabs {
        let tone = if tab.shown { Tone::Selected } else { Tone::Dim };
        spans.push(Span::styled(
            format!(" {} ", tab.text()),
            app.theme.style(tone),
        ));
        spans.push(Span::raw(" "));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// A filter that leaves a pane empty says so, rather than showing a blank table.
fn render_no_match(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let query = crate::sanitize::line(app.filter.query(), 60);
    frame.render_widget(
        Paragraph::new(vec![
            Line::default(),
            Line::styled(
                format!("nothing in {} matches {query}", app.pane.title()),
                t.style(Tone::Title),
            ),
            Line::styled("Esc clears the filter · / changes it", t.style(Tone::Dim)),
        ])
        .centered(),
        area,
    );
}

fn render_waiting(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    if app.info.read_only {
        let what = if app.loading.is_some() {
            "loading the journal…"
        } else {
            "no deliveries in this journal"
        };
        frame.render_widget(
            Paragraph::new(vec![
                Line::default(),
                Line::styled(what, t.style(Tone::Title)),
            ])
            .centered(),
            area,
        );
        return;
    }
    let waiting = match (&app.attach, app.loading) {
        (Some(_), Some(_)) => "attached: loading the service's history…".to_owned(),
        (Some(a), None) => format!(
            "attached to {}: the service on http://{} is waiting for the first delivery",
            a.endpoint, app.info.listen
        ),
        (None, _) => format!(
            "listening on http://{}, waiting for the first delivery",
            app.info.listen
        ),
    };
    // `send` signs with the secret a checking receiver wants (a bare curl gets 401).
    let url = if app.info.listen == crate::config::DEFAULT_LISTEN {
        String::new()
    } else {
        format!(" --url http://{}/", app.info.listen)
    };
    let mut lines = vec![
        Line::default(),
        Line::styled(waiting, t.style(Tone::Title)),
        Line::default(),
        Line::styled(
            "point your Pilot Status webhook here, or try:",
            t.style(Tone::Dim),
        ),
        Line::styled(
            format!("pilotwatch send message.received --set data.content=Hi{url}"),
            t.style(Tone::Dim),
        ),
    ];
    if app.info.signatures_checked {
        lines.push(Line::styled(
            "(signed with $PILOT_STATUS_WEBHOOK_SECRET, or --secret S)",
            t.style(Tone::Dim),
        ));
    }
    frame.render_widget(Paragraph::new(lines).centered(), area);
}

/// `3s`, `4m`, `2h`, `5d` ago.
pub fn ago(secs: i64) -> String {
    match secs.max(0) {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

/// A table row's style: the selected row highlighted.
fn row_tone(app: &App, index: usize) -> Tone {
    if index == app.list().selected {
        Tone::Selected
    } else {
        Tone::Plain
    }
}

/// The (index, key) of the rows to draw, newest first.
fn visible(app: &App, pane: Pane, height: usize) -> impl Iterator<Item = (usize, u64)> + '_ {
    let start = app.list().offset;
    (start..start + height).map_while(move |i| app.views.key_at(pane, i).map(|k| (i, k)))
}
