use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::app::{App, Mode};
use crate::tui::keymap::{BINDINGS, Command, describe};
use crate::tui::theme::Tone;

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let mut spans = Vec::new();
    if matches!(app.mode, Mode::Filter) {
        spans.push(Span::styled(" / ", t.style(Tone::Title)));
        spans.push(Span::raw(format!(
            "{}█",
            crate::sanitize::line(&app.input, 200)
        )));
        spans.extend(progress(app));
        spans.push(Span::styled(
            "   Enter keep · Esc clear · event: status: number: type: verdict:",
            t.style(Tone::Dim),
        ));
        frame.render_widget(Paragraph::new(Line::from(spans)), area);
        return;
    }
    if app.info.read_only {
        // Following means jumping to what arrives; nothing arrives in a file.
        spans.push(Span::styled(" FILE ", t.style(Tone::Dim)));
    } else if app.follow {
        spans.push(Span::styled(" FOLLOW ", t.style(Tone::Good)));
    } else {
        spans.push(Span::styled(" PAUSED ", t.style(Tone::Warn)));
    }
    if !app.filter.is_empty() {
        spans.push(Span::styled(" filter: ", t.style(Tone::Dim)));
        spans.push(Span::styled(
            crate::sanitize::line(app.filter.query(), 40),
            t.style(Tone::Accent),
        ));
        // The full-screen views list what they list: the filter narrows the panes.
        let unfiltered = match () {
            _ if app.deliveries.shown => Some("Deliveries"),
            _ if app.alerts.shown => Some("Alerts"),
            _ if app.inbox.shown => Some("the Inbox"),
            _ if app.latency => Some("Latency"),
            _ => None,
        };
        let ignored = app.filter.ignored(app.pane);
        if let Some(view) = unfiltered {
            spans.push(Span::styled(
                format!(" (not for {view}: it narrows 1–4)"),
                t.style(Tone::Dim),
            ));
        } else if !ignored.is_empty() {
            let terms = crate::sanitize::line(&ignored.join(" "), 30);
            spans.push(Span::styled(
                format!(" ({terms}: not for {})", app.pane.title()),
                t.style(Tone::Dim),
            ));
        }
    }
    spans.extend(progress(app));
    if let Some(n) = &app.notice {
        spans.push(Span::styled(format!("  {n}"), t.style(Tone::Info)));
    }
    // A file takes no replies and nothing arrives to follow: offer only what works.
    let works = |c: Command| {
        !(app.info.read_only
            && matches!(
                c,
                Command::Reply | Command::Retry | Command::Replay | Command::Follow
            ))
    };
    // As many hints as fit after what the line says, `? help` and `q quit` always among
    // them: the hints are the same on every screen, a notice is news.
    let hints: Vec<(String, &str, Command)> = (BINDINGS.iter())
        .filter(|b| works(b.command))
        .filter_map(|b| Some((describe(&b.keys[0]), b.hint?, b.command)))
        .collect();
    let width = |key: &str, hint: &str| Span::raw(key).width() + Span::raw(hint).width() + 3;
    let always = |c: &Command| matches!(c, Command::Help | Command::Quit);
    let kept: usize = (hints.iter().filter(|h| always(&h.2)))
        .map(|(k, h, _)| width(k, h))
        .sum();
    // What the line says is cut (with `…`) before those two are.
    let said = Line::from(std::mem::take(&mut spans));
    let padded = said.spans.last().is_some_and(|s| s.content.ends_with(' '));
    let room_for_said = usize::from(area.width).saturating_sub(kept).max(1) as u16;
    spans = (super::wrap::fit(&said, room_for_said, 1, 0).into_iter())
        .flat_map(|l| l.spans)
        .collect();
    // The space a mode's badge ends with is its own (fitting trimmed it).
    spans.push(Span::raw(if padded { "   " } else { "  " }));
    let mut room = usize::from(area.width)
        .saturating_sub(spans.iter().map(Span::width).sum::<usize>())
        .saturating_sub(kept);
    for (key, hint, command) in &hints {
        if !always(command) {
            let w = width(key, hint);
            if w > room {
                continue;
            }
            room -= w;
        }
        spans.push(Span::styled(key.clone(), t.style(Tone::Accent)));
        spans.push(Span::styled(format!(" {hint}  "), t.style(Tone::Dim)));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// A filter pass still running over a large store (it fills the pane newest first).
fn progress(app: &App) -> Option<Span<'static>> {
    let (judged, total) = app.scan_progress?;
    let pct = (judged * 100).checked_div(total).unwrap_or(100);
    Some(Span::styled(
        format!("  filtering… {pct}%"),
        app.theme.style(Tone::Warn),
    ))
}
