//! The overview (`0`, the default screen): every live pane at once, one file per panel.
//! Each panel draws only the rows it shows, from display lines built at sync.
//!
//! ```text
//! wide (≥ 120 columns)                         narrow (80×24): stacked
//! ┌ Fleet ──────────────────┬ Attention ───┐   ┌ Fleet ───────────────────┐
//! │ one line per number     │ counts, rows │   │ one line per number      │
//! ├ Flow ───────────────────┼ Calls ───────┤   ├ Attention ───────────────┤
//! │ newest messages         │ live, then   │   │ counts                   │
//! │                         │ latest ended │   ├ Flow ────────────────────┤
//! │                         │              │   │ newest messages          │
//! ├ Activity ──────────────────────────────┤   ├ Calls ───────────────────┤
//! │ deliveries/s by family, last 5 min     │   │ live, then latest ended  │
//! └────────────────────────────────────────┘   ├ Activity (≥ 30 rows, or  ┤
//!                                              │ in Calls' place focused) │
//!  `z`: the focused panel alone, full body     └──────────────────────────┘
//! ```

mod activity;
mod attention;
mod calls;
mod fleet;
mod flow;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Block, Borders};

use crate::tui::app::{App, Panel};
use crate::tui::theme::Tone;

/// Below this width the panels stack.
const WIDE: u16 = 120;

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    if app.overview.zoomed {
        panel(frame, area, app, app.overview.focus);
        return;
    }
    // The fleet is a handful of lines: as tall as its numbers, at most a third (a
    // quarter when stacked, so the flow keeps the most room).
    let fleet = app.views.numbers.len() as u16 + 3;
    if area.width >= WIDE {
        let fleet = fleet.clamp(3, (area.height / 3).max(3));
        let chart = if area.height >= 20 {
            (area.height / 4).max(7)
        } else {
            0
        };
        let columns = Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)]);
        // Attention beside it gets room for its alerts in full (a few, wrapped), and
        // what is under them, up to a third of the screen.
        let [_, beside] = columns.areas(Rect { height: 1, ..area });
        let wanted = attention::wanted(app, beside.width.saturating_sub(2)) as u16;
        let top = fleet.max(5).max((wanted + 2).min(area.height / 3));
        let [top, bottom, chart_area] = Layout::vertical([
            Constraint::Length(top),
            Constraint::Min(3),
            Constraint::Length(chart),
        ])
        .areas(area);
        let [fleet_area, attention] = columns.areas(top);
        let [flow, calls] = columns.areas(bottom);
        panel(frame, fleet_area, app, Panel::Fleet);
        panel(frame, attention, app, Panel::Attention);
        panel(frame, flow, app, Panel::Flow);
        panel(frame, calls, app, Panel::Calls);
        if chart > 0 {
            panel(frame, chart_area, app, Panel::Activity);
        }
    } else {
        // The chart only where it leaves the flow room; else it shows in the calls'
        // place while it has the focus.
        let chart = if area.height >= 30 {
            area.height / 4
        } else {
            0
        };
        let [fleet_area, attention, flow, calls, chart_area] = Layout::vertical([
            Constraint::Length(fleet.clamp(3, (area.height / 4).max(3))),
            Constraint::Length(attention::height(app, area.height)),
            Constraint::Min(3),
            Constraint::Length((area.height / 4).max(3)),
            Constraint::Length(chart),
        ])
        .areas(area);
        panel(frame, fleet_area, app, Panel::Fleet);
        panel(frame, attention, app, Panel::Attention);
        panel(frame, flow, app, Panel::Flow);
        if chart > 0 {
            panel(frame, calls, app, Panel::Calls);
            panel(frame, chart_area, app, Panel::Activity);
        } else if app.overview.focus == Panel::Activity {
            panel(frame, calls, app, Panel::Activity);
        } else {
            panel(frame, calls, app, Panel::Calls);
        }
    }
}

/// A panel in its border: the focused one's border and title highlighted.
fn panel(frame: &mut Frame, area: Rect, app: &App, which: Panel) {
    let t = &app.theme;
    let focused = which == app.overview.focus;
    let (border, title) = if focused {
        (Tone::Accent, Tone::Selected)
    } else {
        (Tone::Dim, Tone::Title)
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.style(border))
        .title(Span::styled(
            match which {
                Panel::Fleet => format!(" {} ", fleet::title(app, area.height)),
                _ => format!(" {} ", which.title()),
            },
            t.style(title),
        ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    match which {
        Panel::Flow => flow::render(frame, inner, app, focused),
        Panel::Calls => calls::render(frame, inner, app, focused),
        Panel::Fleet => fleet::render(frame, inner, app, focused),
        Panel::Attention => attention::render(frame, inner, app),
        Panel::Activity => activity::render(frame, inner, app),
    }
}

/// The first row to draw so the selection (when focused) stays in view.
fn first_row(app: &App, pane: crate::tui::view::Pane, height: usize, focused: bool) -> usize {
    let selected = app.lists[pane.index()].selected;
    if focused {
        selected.saturating_sub(height.saturating_sub(1))
    } else {
        0
    }
}

/// The selected row's style in a focused panel.
fn row_tone(app: &App, pane: crate::tui::view::Pane, index: usize, focused: bool) -> Tone {
    if focused && index == app.lists[pane.index()].selected {
        Tone::Selected
    } else {
        Tone::Plain
    }
}
