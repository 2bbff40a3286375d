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
    // The ends only: ratatui spaces the labels between at a sixth of the width each,
    // not where their minutes are drawn; those are put in below.
    let x = Axis::default()
        .style(dim)
        .bounds([-span + 1.0, 0.0])
        .labels(["-5m", "now"].map(|l| Span::styled(l, dim)));
    let top = activity.top as f64;
    let y_labels = ["0".to_owned(), format!("{top}/s")];
    let y_width = y_labels
        .iter()
        .map(|l| Span::raw(l).width())
        .max()
        .unwrap_or(0);
    let y = Axis::default()
        .style(dim)
        .bounds([0.0, top])
        .labels(y_labels.map(|l| Span::styled(l, dim)));
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
    minutes(frame, area, y_width as u16, dim);
}

/// `-4m` … `-1m` under the column their second is drawn in, as the chart lays it out:
/// the y labels (or the first x label but one column) left of the axis, at most a third
/// of the width; the axis; then the graph, a second of `ACTIVITY_SPAN` per
/// `(width - 1) / (span - 1)` columns. A label that would crowd another is left out.
fn minutes(frame: &mut Frame, area: Rect, y_width: u16, style: ratatui::style::Style) {
    if area.height < 3 {
        return;
    }
    let left = y_width.max(2).min(area.width / 3);
    let graph = area.left() + left + 1;
    let width = area.right().saturating_sub(graph);
    let row = area.bottom() - 1;
    let span = ACTIVITY_SPAN as f64;
    // After `-5m` (and a space), before `now`.
    let (mut free, end) = (area.left() + 4, area.right().saturating_sub(4));
    for k in (1..=4).rev() {
        let at =
            (span - 1.0 - 60.0 * f64::from(k)) * f64::from(width.saturating_sub(1)) / (span - 1.0);
        let label = format!("-{k}m");
        let x = (graph + at as u16).saturating_sub(1);
        if x < free || x + 3 > end {
            continue;
        }
        frame.render_widget(
            Paragraph::new(Span::styled(label, style)),
            Rect::new(x, row, 3, 1),
        );
        free = x + 4;
    }
}
