use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row, Table};

use super::{row_tone, visible};
use crate::store::{Direction, Status};
use crate::tui::app::App;
use crate::tui::theme::Tone;
use crate::tui::view::{MessageLine, Pane, ReplyBadge};

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let wide = area.width >= 120;
    let rows = visible(app, Pane::Messages, area.height.saturating_sub(1) as usize).filter_map(
        |(i, ord)| {
            let l = app.views.message_line(ord)?;
            let number = app
                .views
                .number_names
                .get(&l.number_id)
                .map_or(l.number_shown.as_str(), |s| s.as_str());
            let dir = match l.direction {
                Direction::In => Span::styled("in ", t.style(Tone::Info)),
                Direction::Out => Span::styled("out", t.style(Tone::Accent)),
            };
            let mut text = Vec::new();
            if let Some(ctx) = &l.context {
                text.push(Span::styled(format!("{ctx} "), t.style(Tone::Dim)));
            }
            text.push(Span::raw(l.text.as_str()));
            let mut cells = vec![
                Cell::from(l.time.as_str()),
                Cell::from(dir),
                Cell::from(number.to_owned()),
                Cell::from(l.contact.as_str()),
            ];
            if wide {
                cells.push(Cell::from(l.msg_type));
            }
            cells.push(Cell::from(Line::from(text)));
            cells.push(status_cell(app, l));
            Some(Row::new(cells).style(t.style(row_tone(app, i))))
        },
    );
    let mut widths = vec![Constraint::Length(8), Constraint::Length(3)];
    let mut header = vec!["time", "dir", "number", "contact"];
    let roomy = area.width >= 160;
    if wide {
        widths.extend([
            Constraint::Length(if roomy { 20 } else { 14 }),
            Constraint::Length(if roomy { 32 } else { 26 }),
            Constraint::Length(8),
        ]);
        header.push("type");
    } else {
        widths.extend([Constraint::Length(12), Constraint::Length(16)]);
    }
    widths.extend([
        Constraint::Fill(1),
        Constraint::Length(if wide { 26 } else { 14 }),
    ]);
    header.extend(["message", "status"]);
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(t.style(Tone::Dim)))
        .column_spacing(1);
    frame.render_widget(table, area);
}

fn status_cell<'a>(app: &App, l: &MessageLine) -> Cell<'a> {
    let t = &app.theme;
    let (text, tone) = match (&l.reply, l.status) {
        (Some(ReplyBadge::Sending), _) => ("↪ sending…".to_owned(), Tone::Warn),
        (Some(ReplyBadge::Answered), _) => ("↪ answered".to_owned(), Tone::Good),
        (Some(ReplyBadge::Failed(why, retry)), _) => (
            format!("↪ ✗ {why}{}", if *retry { " (R retries)" } else { "" }),
            Tone::Bad,
        ),
        (None, Status::Received) => ("• received".to_owned(), Tone::Dim),
        (None, Status::Queued) => (
            format!("… {}", l.api_status.as_deref().unwrap_or("queued")),
            Tone::Warn,
        ),
        (None, Status::Sent) => ("✓ sent".to_owned(), Tone::Plain),
        (None, Status::Delivered) => ("✓✓ delivered".to_owned(), Tone::Plain),
        (None, Status::Read) => ("✓✓ read".to_owned(), Tone::Info),
        // The code says more than the word: `✗ DELIVER_NOT_CONFIRMED`.
        (None, Status::Failed) => (
            format!("✗ {}", l.error_code.as_deref().unwrap_or("failed")),
            Tone::Bad,
        ),
    };
    Cell::from(Span::styled(text, t.style(tone)))
}
