//! Activity: deliveries per second over the last five minutes, one line per family
//! (messages in, statuses, failures, numbers/calls, refused, other), time axis
//! labelled; above it a key to the lines (colour alone says nothing under `NO_COLOR`).
//! The series were copied from the store's stats at sync.

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
    // Seconds before now on x; quiet families stay out of the chart and its legend.
    let points: Vec<(Family, Vec<(f64, f64)>)> = app
        .figures
        .activity
        .iter()
        .filter(|(_, s)| s.iter().any(|n| *n > 0))
        .map(|(f, s)| {
            let n = s.len() as f64;
            let pts = s
                .iter()
                .enumerate()
                .map(|(i, v)| (i as f64 - n + 1.0, *v as f64))
                .collect();
            (*f, pts)
        })
        .collect();
    let top = points
        .iter()
        .flat_map(|(_, p)| p.iter().map(|(_, y)| *y))
        .fold(1.0, f64::max);
    let datasets = points
        .iter()
        .map(|(f, p)| {
            Dataset::default()
                .name(f.label())
                // Blocks, not braille: the Linux console's fonts (and many others)
                // have no braille glyphs, and this runs on server consoles.
                .marker(Marker::Block)
                .graph_type(GraphType::Line)
                .style(t.style(tone(*f)))
                .data(p)
        })
        .collect();
    let dim = t.style(Tone::Dim);
    let x = Axis::default()
        .style(dim)
        .bounds([-span + 1.0, 0.0])
        .labels(["-5m", "-4m", "-3m", "-2m", "-1m", "now"].map(|l| Span::styled(l, dim)));
    let y = Axis::default()
        .style(dim)
        .bounds([0.0, top])
        .labels(["0".to_owned(), format!("{top}/s")].map(|l| Span::styled(l, dim)));
    let mut key = Vec::new();
    for (f, _) in &points {
        key.push(Span::styled("━ ", t.style(tone(*f))));
        key.push(Span::styled(format!("{}  ", f.label()), dim));
    }
    frame.render_widget(Paragraph::new(Line::from(key)), key_area);
    // The key line stands for the legend (a box over the lines would hide them).
    let chart = Chart::new(datasets)
        .x_axis(x)
        .y_axis(y)
        .legend_position(None);
    frame.render_widget(chart, area);
}
