use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use crate::tui::app::App;
use crate::tui::detail::Detail;
use crate::tui::theme::Tone;

pub fn render(frame: &mut Frame, area: Rect, app: &App, d: &Detail) {
    let t = &app.theme;
    // Which delivery `y` copies from here (the same choice the key makes).
    let copy = match d.body_at(d.scroll, app.page) {
        Some(s) if d.bodies.len() > 1 => format!("y copies #{} {}", s.seq, s.event),
        Some(_) => "y copy".to_owned(),
        None => "nothing to copy".to_owned(),
    };
    let title = format!(
        " {} · line {}/{} · Esc back · {copy} ",
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
