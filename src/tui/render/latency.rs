//! The latency stats view (issue 16): per leg of a message's lifecycle, p50 and p95 of
//! the last samples and a bar per log-scale bucket. Drawn from `app.figures` (copied
//! at sync), like every pane. Not on a key yet: `5` needs the keymap and the pane list.
//!
//! ```text
//! ┌ Latency · last 1000 samples per leg ────────────────────────────┐
//! │ sent→delivered   p50 1.2s  p95 4.8s  (812)                      │
//! │  ▇▇   ▇▇   ▇▇ …  bars per bucket, count above, bound below      │
//! │ delivered→read   …                                              │
//! └─────────────────────────────────────────────────────────────────┘
//! ```

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Bar, BarChart, BarGroup, Block, Borders, Paragraph};

use crate::store::stats::{BUCKET_LABELS, LATENCY_SAMPLES, Leg};
use crate::tui::app::App;
use crate::tui::theme::Tone;

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let block = Block::default()
        .borders(Borders::ALL)
        .title(format!(
            " Latency · last {LATENCY_SAMPLES} samples per leg "
        ))
        .style(t.style(Tone::Plain));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let halves = Layout::vertical([Constraint::Ratio(1, 2), Constraint::Ratio(1, 2)]).split(inner);
    for (leg, half) in Leg::ALL.into_iter().zip(halves.iter()) {
        let [title, chart] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(*half);
        let (p50, p95) = app.figures.latency[leg as usize];
        let counts = &app.figures.histograms[leg as usize];
        let n: u64 = counts.iter().sum();
        let line = Line::from(vec![
            Span::styled(format!(" {:<15}", leg.label()), t.style(Tone::Title)),
            Span::styled(
                format!("p50 {}  p95 {}  ({n})", short(p50), short(p95)),
                t.style(if n == 0 { Tone::Dim } else { Tone::Plain }),
            ),
        ]);
        frame.render_widget(Paragraph::new(line), title);
        // Bars share the width: one per bucket, a column between them.
        let width = (chart.width / BUCKET_LABELS.len() as u16)
            .saturating_sub(1)
            .max(1);
        let bars: Vec<Bar> = BUCKET_LABELS
            .iter()
            .zip(counts)
            .map(|(label, c)| {
                Bar::default()
                    .value(*c)
                    .label(Line::from(*label))
                    .style(t.style(Tone::Accent))
            })
            .collect();
        frame.render_widget(
            BarChart::default()
                .data(BarGroup::default().bars(&bars))
                .bar_width(width)
                .bar_gap(1),
            chart,
        );
    }
}

/// `850ms`, `1.2s`, `-` before any sample.
fn short(d: Option<std::time::Duration>) -> String {
    match d {
        Some(d) if d.as_millis() < 1000 => format!("{}ms", d.as_millis()),
        Some(d) => format!("{:.1}s", d.as_secs_f64()),
        None => "-".into(),
    }
}
