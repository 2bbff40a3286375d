use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::columns::{self, Col, width};
use super::{ago, row_tone, visible};
use crate::store::CallPhase;
use crate::tui::app::App;
use crate::tui::theme::Tone;
use crate::tui::view::age::{self, CallNow};
use crate::tui::view::{CallLine, Pane};

const HEADER: [&str; 6] = ["dir", "from", "to", "status", "duration", "started"];

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let permissions = &app.views.permissions;
    let [table_area, perm_area] = Layout::vertical([
        Constraint::Min(1),
        Constraint::Length(permissions.len() as u16),
    ])
    .areas(area);
    let height = table_area.height.saturating_sub(1) as usize;
    let cells: Vec<(usize, [(String, Tone); 6])> = visible(app, Pane::Calls, height)
        .filter_map(|(i, ord)| Some((i, cells(app, app.views.call_line(ord)?))))
        .collect();
    let mut cols = [
        Col::new(HEADER[0], 3, 8),
        Col::new(HEADER[1], 8, 18),
        Col::new(HEADER[2], 8, 18),
        Col::new(HEADER[3], 8, 18),
        Col::new(HEADER[4], 5, 16),
        Col::new(HEADER[5], 0, 12).whole(),
    ];
    for (_, row) in &cells {
        for (c, (text, _)) in cols.iter_mut().zip(row) {
            c.fit(width(text));
        }
    }
    let widths = columns::fit(&cols, &[5, 1, 2, 3], None, table_area.width);
    let rows = cells.into_iter().map(|(i, row)| {
        let row = row.map(|(text, tone)| Cell::from(Span::styled(text, t.style(tone))));
        Row::new(columns::shown(&widths, row)).style(t.style(row_tone(app, i)))
    });
    let header = Row::new(columns::shown(&widths, HEADER)).style(t.style(Tone::Dim));
    frame.render_widget(
        Table::new(rows, columns::constraints(&widths))
            .header(header)
            .column_spacing(columns::SPACING),
        table_area,
    );
    let lines: Vec<Line> = permissions
        .iter()
        .map(|p| {
            Line::from(vec![
                Span::styled(" permission ", t.style(Tone::Dim)),
                Span::styled(p.status.as_str(), t.style(Tone::Accent)),
                Span::raw(format!(" {} → {} ", p.from, p.to)),
                Span::styled(
                    p.at.map(|a| format!("{} ago", ago((app.now - a).num_seconds())))
                        .unwrap_or_default(),
                    t.style(Tone::Dim),
                ),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), perm_area);
}

/// A call's cells, in [`HEADER`] order. In progress: `●` and a counter from when it
/// connected (or began ringing). Silent past its bound, or in a file: "no end
/// received", and no counter (see [`age::call_now`]).
pub(super) fn cells(app: &App, c: &CallLine) -> [(String, Tone); 6] {
    let now = age::call_now(c.phase, c.last_heard, app.now, app.info.read_only);
    let (mark, duration) = match (now, c.duration, c.connected.or(c.started)) {
        (CallNow::Live, _, Some(since)) => (
            "●",
            format!("{}…", clock_secs((app.now - since).num_seconds())),
        ),
        (CallNow::Live, _, None) => ("●", "-".into()),
        (CallNow::NoEnd, _, _) => ("○", "no end received".into()),
        (CallNow::Over, Some(d), _) => (" ", clock_secs(d)),
        (CallNow::Over, None, _) => (" ", "-".into()),
    };
    let duration_tone = if now == CallNow::NoEnd {
        Tone::Warn
    } else {
        Tone::Plain
    };
    let tone = match (now, c.phase) {
        (CallNow::NoEnd, _) => Tone::Dim,
        (_, CallPhase::Ringing) => Tone::Warn,
        (_, CallPhase::Connected) => Tone::Good,
        (_, CallPhase::Missed) => Tone::Bad,
        (_, CallPhase::Ended) if c.status == "completed" => Tone::Plain,
        (_, CallPhase::Ended) => Tone::Bad,
    };
    let started = c
        .started
        .map(|s| format!("{} ago", ago((app.now - s).num_seconds())))
        .unwrap_or_default();
    [
        (c.direction.clone(), Tone::Plain),
        (app.views.party(&c.from), Tone::Plain),
        (app.views.party(&c.to), Tone::Plain),
        (format!("{mark} {}", c.status), tone),
        (duration, duration_tone),
        (started, Tone::Dim),
    ]
}

fn clock_secs(s: i64) -> String {
    let s = s.max(0);
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}
