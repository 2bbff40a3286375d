use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row, Table};

use super::{ago, row_tone};
use crate::store::NumberState;
use crate::tui::app::App;
use crate::tui::theme::Tone;

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let start = app.list().offset;
    let rows = app
        .views
        .numbers
        .iter()
        .enumerate()
        .skip(start)
        .take(area.height as usize)
        .map(|(i, n)| {
            let tone = match n.state {
                NumberState::Connected => Tone::Good,
                NumberState::Disconnected | NumberState::Removed => Tone::Bad,
                NumberState::Restored | NumberState::Created => Tone::Warn,
                NumberState::Unknown => Tone::Dim,
            };
            let health = match &n.health {
                Some((name, err)) => {
                    let healthy =
                        matches!(name.as_str(), "ok" | "healthy" | "restored" | "recovered");
                    let text = format!(
                        "{name}{}",
                        err.as_deref().map(|e| format!(" {e}")).unwrap_or_default()
                    );
                    Span::styled(text, t.style(if healthy { Tone::Good } else { Tone::Warn }))
                }
                None => Span::styled(
                    n.error.clone().unwrap_or_else(|| "-".into()),
                    t.style(Tone::Dim),
                ),
            };
            let failures = Span::styled(
                n.failures.to_string(),
                t.style(if n.failures > 0 { Tone::Bad } else { Tone::Dim }),
            );
            Row::new(vec![
                Cell::from(n.name.as_str()),
                Cell::from(n.phone.as_str()),
                Cell::from(Span::styled(n.state.as_str(), t.style(tone))),
                Cell::from(health),
                Cell::from(ago((app.now - n.changed_at).num_seconds())),
                Cell::from(n.messages_in.to_string()),
                Cell::from(n.messages_out.to_string()),
                Cell::from(failures),
                Cell::from(Span::styled(n.number_id.as_str(), t.style(Tone::Dim))),
            ])
            .style(t.style(row_tone(app, i)))
        });
    let widths = [
        Constraint::Fill(2),
        Constraint::Length(15),
        Constraint::Length(12),
        Constraint::Fill(2),
        Constraint::Length(5),
        Constraint::Length(5),
        Constraint::Length(5),
        Constraint::Length(5),
        Constraint::Fill(1),
    ];
    let header = Row::new([
        "number", "phone", "state", "health", "since", "in", "out", "fail", "id",
    ])
    .style(t.style(Tone::Dim));
    frame.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
        area,
    );
}
