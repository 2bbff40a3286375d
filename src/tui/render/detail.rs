use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use crate::tui::app::App;
use crate::tui::detail::Detail;
use crate::tui::theme::Tone;

pub fn render(frame: &mut Frame, area: Rect, app: &App, d: &Detail) {
    let t = &app.theme;
    let title = format!(
        " {} · line {}/{} · Esc back · y copy ",
        d.title,
        d.scroll + 1,
        d.lines.len()
    );
    let block = Block::default()
        .borders(Borders::TOP)
        .title(title)
        .title_style(t.style(Tone::Title));
    // Only the lines from the scroll position on are handed to the widget.
    let lines = d.lines[d.scroll.min(d.lines.len())..]
        .iter()
        .take(area.height as usize * 4)
        .cloned()
        .collect::<Vec<_>>();
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}
