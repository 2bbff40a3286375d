use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::{ago, row_tone, visible};
use crate::store::Phase;
use crate::tui::app::App;
use crate::tui::theme::Tone;
use crate::tui::view::Pane;

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let permissions = &app.views.permissions;
    let [table_area, perm_area] = Layout::vertical([
        Constraint::Min(1),
        Constraint::Length(permissions.len() as u16),
    ])
    .areas(area);
    let rows = visible(
        app,
        Pane::Calls,
        table_area.height.saturating_sub(1) as usize,
    )
    .filter_map(|(i, ord)| {
        let c = app.views.call_line(ord)?;
        let live = !c.phase.is_over();
        // In progress: a counter from when it connected (or started ringing).
        let duration = match (live, c.duration, c.connected.or(c.started)) {
            (true, _, Some(since)) => format!("{}…", clock_secs((app.now - since).num_seconds())),
            (false, Some(d), _) => clock_secs(d),
            _ => "-".into(),
        };
        let tone = match c.phase {
            Phase::Ringing => Tone::Warn,
            Phase::Connected => Tone::Good,
            Phase::Missed => Tone::Bad,
            Phase::Ended if c.status == "completed" => Tone::Plain,
            Phase::Ended => Tone::Bad,
        };
        let started = c
            .started
            .map(|s| format!("{} ago", ago((app.now - s).num_seconds())))
            .unwrap_or_default();
        Some(
            Row::new(vec![
                Cell::from(c.direction.as_str()),
                Cell::from(c.from.as_str()),
                Cell::from(c.to.as_str()),
                Cell::from(Span::styled(
                    format!("{} {}", if live { "●" } else { " " }, c.status),
                    t.style(tone),
                )),
                Cell::from(duration),
                Cell::from(Span::styled(started, t.style(Tone::Dim))),
            ])
            .style(t.style(row_tone(app, i))),
        )
    });
    let widths = [
        Constraint::Length(4),
        Constraint::Length(16),
        Constraint::Length(16),
        Constraint::Length(14),
        Constraint::Length(10),
        Constraint::Fill(1),
    ];
    let header =
        Row::new(["dir", "from", "to", "status", "duration", "started"]).style(t.style(Tone::Dim));
    frame.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
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

fn clock_secs(s: i64) -> String {
    let s = s.max(0);
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}
