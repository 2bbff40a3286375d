use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row, Table};

use super::{row_tone, visible};
use crate::model::Verdict;
use crate::tui::app::App;
use crate::tui::theme::Tone;
use crate::tui::view::Pane;

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let rows =
        visible(app, Pane::Feed, area.height.saturating_sub(1) as usize).filter_map(|(i, seq)| {
            let l = app.views.feed_line(seq)?;
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
            Some(
                Row::new(vec![
                    Cell::from(l.time.clone()),
                    Cell::from(Span::styled(format!("#{}", l.seq), t.style(Tone::Dim))),
                    Cell::from(l.event.clone()),
                    Cell::from(Span::styled(verdict, t.style(tone))),
                    Cell::from(Span::styled(l.signature, t.style(sig_tone))),
                    Cell::from(l.summary.clone()),
                ])
                .style(t.style(row_tone(app, i))),
            )
        });
    let widths = [
        Constraint::Length(12),
        Constraint::Length(7),
        Constraint::Length(24),
        Constraint::Length(10),
        Constraint::Length(9),
        Constraint::Fill(1),
    ];
    let header = Row::new([
        "received",
        "seq",
        "event",
        "verdict",
        "signature",
        "summary",
    ])
    .style(t.style(Tone::Dim));
    frame.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
        area,
    );
}
