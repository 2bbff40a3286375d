//! Activity: deliveries per second over the last five minutes, a bar per second with
//! the families stacked (messages in, statuses, failures, numbers/calls, refused,
//! other), time axis labelled; above it a key to the colours, bottom of the stack
//! first (under `NO_COLOR` the bars read as each second's total). The stacks were
//! worked out from the store's stats at sync ([`crate::tui::view::figures::Activity`]).
//! Where a column holds several seconds (300 of them in fewer columns), it shows the
//! busiest, each family's part as drawn for its own tallest second: an approximation
//! kept for a frame that only draws.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Chart, Dataset, GraphType, Paragraph};

use crate::store::stats::Family;
use crate::tui::app::App;
use crate::tui::theme::Tone;
use crate::tui::view::figures::ACTIVITY_SPAN;

fn tone(f: Family) -> Tone {
    match f {
        Family::MessagesIn => Tone::Info,
        Family::Statuses => Tone::Good,
        Family::Failures => Tone::Bad,
        Family::NumbersCalls => Tone::Accent,
        Family::Refused => Tone::Warn,
        Family::Other => Tone::Dim,
    }
}

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let [key_area, area] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
    let span = ACTIVITY_SPAN as f64;
    let activity = &app.figures.activity;
    // Each family's bars rise from zero to the top of its stack: drawn top of the stack
    // first, each lower family paints over the bottom of the ones above it.
    let datasets = activity
        .stacks
        .iter()
        .rev()
        .map(|(f, points)| {
            Dataset::default()
                .name(f.label())
                // Blocks, not braille: the Linux console's fonts (and many others)
                // have no braille glyphs, and this runs on server consoles.
                .marker(Marker::Block)
                .graph_type(GraphType::Bar)
                .style(t.style(tone(*f)))
                .data(points)
        })
        .collect();
    let dim = t.style(Tone::Dim);
    let x = Axis::default()
        .style(dim)
        .bounds([-span + 1.0, 0.0])
        .labels(["-5m", "-4m", "-3m", "-2m", "-1m", "now"].map(|l| Span::styled(l, dim)));
    let top = activity.top as f64;
    let y = Axis::default()
        .style(dim)
        .bounds([0.0, top])
        .labels(["0".to_owned(), format!("{top}/s")].map(|l| Span::styled(l, dim)));
    let mut key = Vec::new();
    for (f, _) in &activity.stacks {
        key.push(Span::styled("█ ", t.style(tone(*f))));
        key.push(Span::styled(format!("{}  ", f.label()), dim));
    }
    frame.render_widget(Paragraph::new(Line::from(key)), key_area);
    // The key line stands for the legend (a box over the bars would hide them).
    let chart = Chart::new(datasets)
        .x_axis(x)
        .y_axis(y)
        .legend_position(None);
    frame.render_widget(chart, area);
}
