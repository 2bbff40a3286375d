//! A conversation (`c`): the contact, our number and WhatsApp's 24-hour window on top,
//! the thread in time order (newest at the bottom), and the composer docked under it
//! while a reply is written.
//!
//! ```text
//! Ana Souza +5511987650001 · Centro num_centro · window open: 22 h 29 m left
//! ────────────────────────────────────────────────────────────────────────────
//! 12:00:00 ← Vocês abrem no sábado?
//! 12:01:10 → ↩ Vocês abrem… Abrimos sim                           ✓✓ read
//! 12:03:00 ← call missed
//! ```

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};

use crate::tui::app::{App, Mode, ThreadView};
use crate::tui::theme::Tone;
use crate::tui::view::thread::Side;

pub fn render(frame: &mut Frame, area: Rect, app: &App, v: &ThreadView) {
    let t = &app.theme;
    let composer = match &app.mode {
        Mode::Compose(c) => Some(c),
        _ => None,
    };
    let docked = composer.map_or(0, |c| {
        let extra = if c.warned { 3 } else { 1 };
        (c.context.len() as u16 + extra + 6).min(area.height * 2 / 3)
    });
    let [head, body, dock] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(1),
        Constraint::Length(docked),
    ])
    .areas(area);
    let th = &v.thread;
    let window = th.window(app.now);
    let tone = if window.is_closed() {
        Tone::Bad
    } else if window.is_closing() {
        Tone::Warn
    } else {
        Tone::Good
    };
    let mut spans = vec![
        Span::styled(th.contact.clone(), t.style(Tone::Title)),
        Span::styled(" · ", t.style(Tone::Dim)),
        Span::raw(th.number.clone()),
    ];
    let said = window.describe();
    if !said.is_empty() {
        spans.push(Span::styled(" · ", t.style(Tone::Dim)));
        spans.push(Span::styled(said, t.style(tone)));
    }
    if th.gone {
        spans.push(Span::styled(
            " · no longer in the store",
            t.style(Tone::Warn),
        ));
    }
    let help = if composer.is_some() {
        "".to_owned()
    } else {
        format!(
            " {} messages and calls · r reply · ↑↓ scroll · Esc back ",
            th.items.len()
        )
    };
    let block = Block::default()
        .borders(Borders::BOTTOM)
        .title_bottom(help)
        .title_style(t.style(Tone::Dim));
    frame.render_widget(Paragraph::new(Line::from(spans)).block(block), head);

    // The newest at the bottom, `scroll` entries up from there; a reply takes two
    // lines (what it quotes, then its text).
    let height = body.height as usize;
    let lines_of = |i: &crate::tui::view::thread::ThreadItem| 1 + usize::from(i.quote.is_some());
    let end = th.items.len().saturating_sub(v.scroll.min(th.items.len()));
    let mut start = end;
    let mut used = 0;
    while start > 0 && used + lines_of(&th.items[start - 1]) <= height {
        start -= 1;
        used += lines_of(&th.items[start]);
    }
    let shown = &th.items[start..end];
    let status_width = shown
        .iter()
        .map(|i| Span::raw(i.status.as_str()).width())
        .max()
        .unwrap_or(0)
        .min(body.width as usize * 2 / 5) as u16;
    let rows: Vec<Row> = shown
        .iter()
        .map(|i| {
            let (arrow, tone) = match i.side {
                Side::In => ("←", Tone::Info),
                Side::Out => ("→", Tone::Accent),
                Side::Call => ("✆", i.tone),
            };
            let text_tone = if i.side == Side::Call {
                i.tone
            } else {
                Tone::Plain
            };
            let mut text = Vec::new();
            if let Some(q) = &i.quote {
                text.push(Line::styled(q.as_str(), t.style(Tone::Dim)));
            }
            text.push(Line::styled(i.text.as_str(), t.style(text_tone)));
            // Time, arrow and status on the text's line, under the quote.
            let top = |s: Span<'static>| {
                let mut l = Vec::new();
                if i.quote.is_some() {
                    l.push(Line::default());
                }
                l.push(Line::from(s));
                Text::from(l)
            };
            Row::new([
                Cell::from(top(Span::styled(i.time.clone(), t.style(Tone::Dim)))),
                Cell::from(top(Span::styled(arrow, t.style(tone)))),
                Cell::from(Text::from(text)),
                Cell::from(top(Span::styled(i.status.clone(), t.style(i.tone)))),
            ])
            .height(lines_of(i) as u16)
        })
        .collect();
    if rows.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled(
                "no messages of this conversation are left in the store",
                t.style(Tone::Dim),
            )),
            body,
        );
    } else {
        // Fewer rows than lines: they sit at the bottom, by the composer.
        let [_, list] =
            Layout::vertical([Constraint::Min(0), Constraint::Length(used as u16)]).areas(body);
        let table = Table::new(
            rows,
            [
                Constraint::Length(8),
                Constraint::Length(1),
                Constraint::Min(10),
                Constraint::Length(status_width),
            ],
        )
        .column_spacing(1);
        frame.render_widget(table, list);
    }
    if let Some(c) = composer {
        super::composer::render(frame, dock, app, c);
    }
}
