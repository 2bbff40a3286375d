//! Attention: what needs a human now — failed messages, numbers not connected,
//! rejected and broken deliveries, missed calls: the counts, then the newest rows.
//! Counts come from the store's counters (copied at sync) and the few number lines;
//! rows only from the lines Flow and Calls already hold.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::store::{CallPhase, Status};
use crate::tui::app::App;
use crate::tui::theme::Tone;
use crate::tui::view::Pane;

/// Its height when stacked: the counts, a few rows, the border.
pub fn height(app: &App, body: u16) -> u16 {
    let down = !app.views.numbers_down.is_empty();
    let rows = 1 + u16::from(down) + 1;
    (rows + 2).min(body / 6).max(3)
}

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let tot = &app.totals;
    // The names of the first few down; the count says how many in all.
    let down = &app.views.numbers_down;
    let names: Vec<&str> = (down.iter().take(8))
        .filter_map(|i| app.views.numbers.get(*i))
        .map(|n| n.name.split(" (").next().unwrap_or(&n.name))
        .collect();
    let count = |n: u64, what: &str| {
        let tone = if n > 0 { Tone::Bad } else { Tone::Dim };
        vec![
            Span::styled(n.to_string(), t.style(tone)),
            Span::styled(format!(" {what}  "), t.style(Tone::Dim)),
        ]
    };
    let mut counts = Vec::new();
    counts.extend(count(tot.failed_messages, "failed"));
    counts.extend(count(down.len() as u64, "numbers down"));
    counts.extend(count(tot.rejected, "rejected"));
    counts.extend(count(tot.broken, "broken"));
    let mut lines = vec![Line::from(counts)];
    if !names.is_empty() {
        let more = down.len() - names.len();
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        lines.push(Line::from(vec![
            Span::styled("⚠ not connected: ", t.style(Tone::Warn)),
            Span::raw(names.join(", ") + &more),
        ]));
    }
    // The newest failures and missed calls among the rows Flow and Calls hold.
    let page = app.page;
    let failed = (0..page)
        .map_while(|i| app.views.key_at(Pane::Messages, i))
        .filter_map(|o| app.views.message_line(o))
        .filter(|l| l.status == Status::Failed);
    for l in failed {
        lines.push(Line::from(vec![
            Span::styled(
                format!("✗ {} ", l.error_code.as_deref().unwrap_or("failed")),
                t.style(Tone::Bad),
            ),
            Span::styled(format!("{} ", l.time), t.style(Tone::Dim)),
            Span::raw(format!("{}: {}", l.contact, l.text)),
        ]));
    }
    let missed = (0..page)
        .map_while(|i| app.views.key_at(Pane::Calls, i))
        .filter_map(|o| app.views.call_line(o))
        .filter(|c| c.phase == CallPhase::Missed);
    for c in missed {
        lines.push(Line::from(vec![
            Span::styled("✆ missed ", t.style(Tone::Bad)),
            Span::raw(format!(
                "{} → {}",
                app.views.party(&c.from),
                app.views.party(&c.to)
            )),
        ]));
    }
    lines.truncate(area.height as usize);
    frame.render_widget(Paragraph::new(lines), area);
}
