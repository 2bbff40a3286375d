use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row, Table};

use super::columns::{self, Col, width};
use super::{ago, row_tone, visible};
use crate::store::{Direction, Status};
use crate::tui::app::App;
use crate::tui::theme::Tone;
use crate::tui::view::age;
use crate::tui::view::{MessageLine, Pane, ReplyBadge};

const HEADER: [&str; 7] = [
    "time", "dir", "number", "contact", "type", "message", "status",
];
const NUMBER: usize = 2;
const CONTACT: usize = 3;
const TYPE: usize = 4;
const MESSAGE: usize = 5;
const STATUS: usize = 6;

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let height = area.height.saturating_sub(1) as usize;
    let lines: Vec<(usize, &MessageLine)> = visible(app, Pane::Messages, height)
        .filter_map(|(i, ord)| Some((i, app.views.message_line(ord)?)))
        .collect();
    let statuses: Vec<Vec<Span>> = lines.iter().map(|(_, l)| status_spans(app, l)).collect();
    let mut cols = [
        Col::fixed(8),
        Col::fixed(3),
        Col::new(HEADER[NUMBER], 6, 24),
        Col::new(HEADER[CONTACT], 14, 36),
        Col::new(HEADER[TYPE], 4, 8).whole(),
        // The free text: 20 wanted before others give way, 12 at the least.
        Col::new(HEADER[MESSAGE], 12, 20),
        Col::new(HEADER[STATUS], 8, 40),
    ];
    cols[MESSAGE].fit(20);
    let mut text_width = 0;
    for ((_, l), status) in lines.iter().zip(&statuses) {
        let context = l.context.as_deref().map_or(0, |c| width(c) + 1);
        text_width = text_width.max(context + width(&l.text));
        cols[NUMBER].fit(width(number_of(app, l)));
        cols[CONTACT].fit(width(&l.contact));
        cols[TYPE].fit(width(l.msg_type));
        cols[STATUS].fit(status.iter().map(|s| s.width() as u16).sum());
    }
    // Below 120 columns the type is left out (the text shows `[file]` for media).
    if area.width < 120 {
        cols[TYPE] = Col::fixed(0);
    }
    // Narrow: the type goes first, then the contact shrinks to the name alone (and
    // its column to the widest of what it then shows).
    let give = [TYPE, CONTACT, MESSAGE, NUMBER, STATUS];
    let mut widths = columns::fit(&cols, &give, Some(MESSAGE), area.width);
    if widths[CONTACT] < cols[CONTACT].want {
        let shown = lines
            .iter()
            .map(|(_, l)| width(contact(l, widths[CONTACT])));
        cols[CONTACT].want = shown.fold(cols[CONTACT].min, u16::max);
        widths = columns::fit(&cols, &give, Some(MESSAGE), area.width);
    }
    // Room past the longest text stays blank at the right, not between text and status.
    widths[MESSAGE] = widths[MESSAGE].min(text_width.max(cols[MESSAGE].want));
    let rows = lines
        .into_iter()
        .zip(statuses)
        .map(|((i, l), status)| {
            let dir = match l.direction {
                Direction::In => Span::styled("in ", t.style(Tone::Info)),
                Direction::Out => Span::styled("out", t.style(Tone::Accent)),
            };
            let mut text = Vec::new();
            if let Some(ctx) = &l.context {
                text.push(Span::styled(format!("{ctx} "), t.style(Tone::Dim)));
            }
            text.push(Span::raw(l.text.as_str()));
            let cells = [
                Cell::from(l.time.as_str()),
                Cell::from(dir),
                Cell::from(number_of(app, l)),
                Cell::from(contact(l, widths[CONTACT])),
                Cell::from(l.msg_type),
                Cell::from(Line::from(text)),
                Cell::from(Line::from(status)),
            ];
            Row::new(columns::shown(&widths, cells)).style(t.style(row_tone(app, i)))
        })
        .collect::<Vec<_>>();
    let table = Table::new(rows, columns::constraints(&widths))
        .header(Row::new(columns::shown(&widths, HEADER)).style(t.style(Tone::Dim)))
        .column_spacing(columns::SPACING);
    frame.render_widget(table, area);
}

/// Phone and name when both fit in `room`; else the name, which says more to a person.
fn contact(l: &MessageLine, room: u16) -> &str {
    match &l.participant {
        Some(name) if width(&l.contact) > room => name,
        _ => &l.contact,
    }
}

/// The number's name, looked up now (it may have become known since the line was built).
pub(super) fn number_of<'a>(app: &'a App, l: &'a MessageLine) -> &'a str {
    app.views
        .number_names
        .get(&l.number_id)
        .map_or(l.number_shown.as_str(), |s| s.as_str())
}

/// What became of the message, and for one still at `queued` or `sent` since when:
/// dim while young, flagged past [`age::STUCK_MESSAGE`].
pub(super) fn status_spans(app: &App, l: &MessageLine) -> Vec<Span<'static>> {
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
    // A step only the provider's API knows: its webhook never came.
    if l.webhook_missing.is_some() && l.reply.is_none() {
        return vec![Span::styled(format!("{text} (api) ⚠"), t.style(Tone::Warn))];
    }
    let waiting = l.waiting_since.filter(|_| l.reply.is_none());
    match waiting {
        Some(since) => {
            let age = ago((app.now - since).num_seconds());
            if age::is_stuck(since, app.now) {
                vec![Span::styled(format!("{text} {age} ⚠"), t.style(Tone::Warn))]
            } else {
                vec![
                    Span::styled(text, t.style(tone)),
                    Span::styled(format!(" {age}"), t.style(Tone::Dim)),
                ]
            }
        }
        None => vec![Span::styled(text, t.style(tone))],
    }
}
