use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::tui::app::App;
use crate::tui::composer::Composer;
use crate::tui::theme::Tone;

/// The reply composer, over the lower part of the pane.
pub fn render(frame: &mut Frame, area: Rect, app: &App, c: &Composer) {
    let t = &app.theme;
    let height = (c.context.len() as u16 + 8).min(area.height);
    let [_, popup] = Layout::vertical([Constraint::Min(0), Constraint::Length(height)]).areas(area);
    frame.render_widget(Clear, popup);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" reply · Enter send · Alt-Enter or Ctrl-J newline · Esc close (draft kept) ")
        .title_style(t.style(Tone::Title));
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let [context, text] = Layout::vertical([
        Constraint::Length(c.context.len() as u16),
        Constraint::Min(1),
    ])
    .areas(inner);
    let lines: Vec<Line> = c
        .context
        .iter()
        .map(|(label, value)| {
            Line::from(vec![
                Span::styled(format!("{label:<10} "), t.style(Tone::Dim)),
                Span::raw(value.as_str()),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), context);
    frame.render_widget(&c.textarea, text);
}
