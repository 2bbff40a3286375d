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
            let mut cells = vec![
                Cell::from(l.time.as_str()),
                Cell::from(Span::styled(format!("#{}", l.seq), t.style(Tone::Dim))),
                Cell::from(l.event.as_str()),
                Cell::from(Span::styled(verdict, t.style(tone))),
                Cell::from(Span::styled(l.signature, t.style(sig_tone))),
            ];
            if app.info.forward_to.is_some() {
                // What the user's app answered when this delivery was forwarded to it.
                cells.push(Cell::from(match &l.forward {
                    Some((text, ok)) => Span::styled(
                        text.as_str(),
                        t.style(if *ok { Tone::Good } else { Tone::Bad }),
                    ),
                    None => Span::styled("…", t.style(Tone::Dim)),
                }));
            }
            cells.push(Cell::from(l.summary.as_str()));
            Some(Row::new(cells).style(t.style(row_tone(app, i))))
        });
    let widths = [
        Constraint::Length(12),
        Constraint::Length(7),
        Constraint::Length(24),
        Constraint::Length(10),
        Constraint::Length(9),
        Constraint::Length(if app.info.forward_to.is_some() { 14 } else { 0 }),
        Constraint::Fill(1),
    ];
    let forwarding = app.info.forward_to.is_some();
    let mut header = vec!["received", "seq", "event", "verdict", "signature"];
    if forwarding {
        header.push("app");
    }
    header.push("summary");
    let header = Row::new(header).style(t.style(Tone::Dim));
    let widths: Vec<Constraint> = widths
        .into_iter()
        .enumerate()
        .filter(|(i, _)| forwarding || *i != 5)
        .map(|(_, w)| w)
        .collect();
    frame.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
        area,
    );
}
