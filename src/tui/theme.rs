//! Styles in one place. With `NO_COLOR` set, only bold/reverse/dim are used.

use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Plain,
    Dim,
    Title,
    Good,
    Warn,
    Bad,
    Accent,
    Info,
    Selected,
    JsonKey,
    JsonString,
    JsonNumber,
    JsonLiteral,
}

#[derive(Debug, Clone, Copy)]
pub struct Theme {
    color: bool,
}

impl Theme {
    pub fn from_env() -> Self {
        Self {
            color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }

    pub fn new(color: bool) -> Self {
        Self { color }
    }

    pub fn style(&self, tone: Tone) -> Style {
        let s = Style::default();
        if !self.color {
            return match tone {
                Tone::Title | Tone::Bad | Tone::Warn => s.add_modifier(Modifier::BOLD),
                Tone::Dim => s.add_modifier(Modifier::DIM),
                Tone::Selected => s.add_modifier(Modifier::REVERSED),
                _ => s,
            };
        }
        match tone {
            Tone::Plain => s,
            Tone::Dim => s.fg(Color::DarkGray),
            Tone::Title => s.fg(Color::Cyan).add_modifier(Modifier::BOLD),
            Tone::Good => s.fg(Color::Green),
            Tone::Warn => s.fg(Color::Yellow),
            Tone::Bad => s.fg(Color::Red).add_modifier(Modifier::BOLD),
            Tone::Accent => s.fg(Color::Magenta),
            Tone::Info => s.fg(Color::Blue),
            Tone::Selected => s.bg(Color::Rgb(40, 60, 90)).add_modifier(Modifier::BOLD),
            Tone::JsonKey => s.fg(Color::Cyan),
            Tone::JsonString => s.fg(Color::Green),
            Tone::JsonNumber => s.fg(Color::Yellow),
            Tone::JsonLiteral => s.fg(Color::Magenta),
        }
    }
}
