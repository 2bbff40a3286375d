use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::store::conversations::window::Window;
use crate::tui::app::App;
use crate::tui::composer::{Composer, window_warning};
use crate::tui::theme::Tone;

/// The reply composer, over the lower part of the pane.
pub fn render(frame: &mut Frame, area: Rect, app: &App, c: &Composer) {
    let t = &app.theme;
    let mut lines: Vec<Line> = c
        .context
        .iter()
        .map(|(label, value)| {
            Line::from(vec![
                Span::styled(format!("{label:<10} "), t.style(Tone::Dim)),
                Span::raw(value.as_str()),
            ])
        })
        .collect();
    // WhatsApp's 24-hour window on a Meta number: red when closed, amber under 1 h.
    let window = c.window(app.now);
    if window != Window::NotMeta {
        let tone = if window.is_closed() {
            Tone::Bad
        } else if window.is_closing() {
            Tone::Warn
        } else {
            Tone::Good
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{:<10} ", "Window"), t.style(Tone::Dim)),
            Span::styled(window.short(), t.style(tone)),
        ]));
    }
    let mut rows = lines.len() as u16;
    if c.warned
        && let Some(w) = window_warning(window)
    {
        lines.push(Line::styled(w, t.style(Tone::Bad)));
        // It wraps on a narrow terminal.
        rows += 2;
    }
    let height = (rows + 8).min(area.height);
    let [_, popup] = Layout::vertical([Constraint::Min(0), Constraint::Length(height)]).areas(area);
    frame.render_widget(Clear, popup);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" reply · Enter send · Alt-Enter or Ctrl-J newline · Esc close (draft kept) ")
        .title_style(t.style(Tone::Title));
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let [context, text] =
        Layout::vertical([Constraint::Length(rows), Constraint::Min(1)]).areas(inner);
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), context);
    frame.render_widget(&c.textarea, text);
}
