//! Every key the dashboard knows, as data: one table drives key handling, the help
//! overlay and the status-line hints, and a test checks it for clashes.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    Overview,
    Latency,
    Zoom,
    NextPane,
    PrevPane,
    Messages,
    Numbers,
    Calls,
    Feed,
    Alerts,
    Deliveries,
    Inbox,
    Conversation,
    Down,
    Up,
    PageDown,
    PageUp,
    Top,
    Bottom,
    Open,
    Back,
    Filter,
    Follow,
    Copy,
    Reply,
    Retry,
    Replay,
    Export,
    Help,
    Quit,
}

#[derive(Debug, Clone, Copy)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
}

const fn key(code: KeyCode) -> Key {
    Key { code, ctrl: false }
}

const fn ch(c: char) -> Key {
    key(KeyCode::Char(c))
}

const fn ctrl(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        ctrl: true,
    }
}

#[derive(Debug)]
pub struct Binding {
    pub command: Command,
    pub keys: &'static [Key],
    /// Shown in the help overlay.
    pub help: &'static str,
    /// Shown in the status line, when it earns the space.
    pub hint: Option<&'static str>,
}

pub const BINDINGS: &[Binding] = &[
    Binding {
        command: Command::Overview,
        keys: &[ch('0')],
        help: "Overview: every pane at once (Tab moves between its panels)",
        hint: None,
    },
    Binding {
        command: Command::Messages,
        keys: &[ch('1')],
        help: "Messages pane",
        hint: None,
    },
    Binding {
        command: Command::Numbers,
        keys: &[ch('2')],
        help: "Numbers pane",
        hint: None,
    },
    Binding {
        command: Command::Calls,
        keys: &[ch('3')],
        help: "Calls pane",
        hint: None,
    },
    Binding {
        command: Command::Feed,
        keys: &[ch('4')],
        help: "Feed pane (every delivery)",
        hint: None,
    },
    Binding {
        command: Command::Latency,
        keys: &[ch('5')],
        help: "Latency: sent→delivered, delivered→read p50/p95 and histogram",
        hint: None,
    },
    Binding {
        command: Command::Inbox,
        keys: &[ch('6')],
        help: "Inbox: who waits for an answer, oldest first (Enter: the thread)",
        hint: None,
    },
    Binding {
        command: Command::Alerts,
        keys: &[ch('7')],
        help: "Alerts: firing, pending, then ended (Enter: the alert's cause)",
        hint: None,
    },
    Binding {
        command: Command::Deliveries,
        keys: &[ch('8')],
        help: "Deliveries: the provider's log beside ours (Enter: the delivery)",
        hint: None,
    },
    Binding {
        command: Command::NextPane,
        keys: &[key(KeyCode::Tab)],
        help: "next pane (overview: next panel)",
        hint: Some("pane"),
    },
    Binding {
        command: Command::PrevPane,
        keys: &[key(KeyCode::BackTab)],
        help: "previous pane (overview: previous panel)",
        hint: None,
    },
    Binding {
        command: Command::Zoom,
        keys: &[ch('z')],
        help: "overview: the focused panel full screen, and back",
        hint: None,
    },
    Binding {
        command: Command::Down,
        keys: &[ch('j'), key(KeyCode::Down)],
        help: "move down / scroll",
        hint: None,
    },
    Binding {
        command: Command::Up,
        keys: &[ch('k'), key(KeyCode::Up)],
        help: "move up / scroll",
        hint: None,
    },
    Binding {
        command: Command::PageDown,
        keys: &[key(KeyCode::PageDown), ctrl('d')],
        help: "page down",
        hint: None,
    },
    Binding {
        command: Command::PageUp,
        keys: &[key(KeyCode::PageUp), ctrl('u')],
        help: "page up",
        hint: None,
    },
    Binding {
        command: Command::Top,
        keys: &[ch('g'), key(KeyCode::Home)],
        help: "newest row, following again / top",
        hint: None,
    },
    Binding {
        command: Command::Bottom,
        keys: &[ch('G'), key(KeyCode::End)],
        help: "oldest / bottom",
        hint: None,
    },
    Binding {
        command: Command::Open,
        keys: &[key(KeyCode::Enter)],
        help: "details (Numbers: that number's messages)",
        hint: Some("details"),
    },
    Binding {
        command: Command::Back,
        keys: &[key(KeyCode::Esc)],
        help: "back / clear the filter",
        hint: None,
    },
    Binding {
        command: Command::Filter,
        keys: &[ch('/')],
        help: "filter (see below)",
        hint: Some("filter"),
    },
    Binding {
        command: Command::Follow,
        keys: &[ch('f')],
        help: "follow the live stream / freeze",
        hint: Some("follow"),
    },
    Binding {
        command: Command::Copy,
        keys: &[ch('y')],
        help: "copy the payload (OSC 52, works over SSH)",
        hint: None,
    },
    Binding {
        command: Command::Replay,
        keys: &[ch('x')],
        help: "send the delivery to --forward-to again (marked as a replay)",
        hint: None,
    },
    Binding {
        command: Command::Export,
        keys: &[ch('e')],
        help: "export the rows of this filtered view as NDJSON (journal lines)",
        hint: None,
    },
    Binding {
        command: Command::Reply,
        keys: &[ch('r')],
        help: "reply to the selected inbound message",
        hint: Some("reply"),
    },
    Binding {
        command: Command::Conversation,
        keys: &[ch('c')],
        help: "the message's conversation: the thread with that contact (r answers)",
        hint: None,
    },
    Binding {
        command: Command::Retry,
        keys: &[ch('R')],
        help: "retry a failed reply (same idempotency key: never sent twice)",
        hint: None,
    },
    Binding {
        command: Command::Help,
        keys: &[ch('?')],
        help: "this help",
        hint: Some("help"),
    },
    Binding {
        command: Command::Quit,
        keys: &[ch('q'), ctrl('c')],
        help: "quit",
        hint: Some("quit"),
    },
];

/// The command bound to a key press (releases and repeats of other kinds are ignored).
pub fn lookup(event: &KeyEvent) -> Option<Command> {
    if event.kind != KeyEventKind::Press {
        return None;
    }
    let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
    BINDINGS
        .iter()
        .find(|b| {
            b.keys
                .iter()
                .any(|k| k.code == event.code && k.ctrl == ctrl)
        })
        .map(|b| b.command)
}

pub fn binding(command: Command) -> &'static Binding {
    BINDINGS
        .iter()
        .find(|b| b.command == command)
        .expect("every command has a binding")
}

/// `j/↓`, `Ctrl-c`, …
pub fn describe(k: &Key) -> String {
    let base = match k.code {
        KeyCode::Char(' ') => "Space".to_owned(),
        KeyCode::Char(c) => c.to_string(),
        KeyCode::Tab => "Tab".into(),
        KeyCode::BackTab => "Shift-Tab".into(),
        KeyCode::Enter => "Enter".into(),
        KeyCode::Esc => "Esc".into(),
        KeyCode::Up => "↑".into(),
        KeyCode::Down => "↓".into(),
        KeyCode::PageUp => "PgUp".into(),
        KeyCode::PageDown => "PgDn".into(),
        KeyCode::Home => "Home".into(),
        KeyCode::End => "End".into(),
        other => format!("{other:?}"),
    };
    if k.ctrl { format!("Ctrl-{base}") } else { base }
}

pub fn keys_of(command: Command) -> String {
    binding(command)
        .keys
        .iter()
        .map(describe)
        .collect::<Vec<_>>()
        .join("/")
}

/// What `/` understands, for the help overlay. One meaning per term in every pane; a
/// pane whose rows a term says nothing about ignores it, and the status line says so.
pub const FILTER_HELP: &[(&str, &str)] = &[
    (
        "text",
        "anywhere in content, phones, names, ids (Feed: the raw body)",
    ),
    (
        "event:failed",
        "an event the row went through (event:reply, event:call.missed)",
    ),
    (
        "status:failed",
        "the row's status (message, number, call; Feed: its verdict too)",
    ),
    (
        "number:suporte",
        "rows of the numbers whose id, phone or name has it (all panes)",
    ),
    (
        "status:missing",
        "messages whose webhook never came (only the API had the step)",
    ),
    ("type:image", "a message's type (Messages and Feed)"),
    (
        "verdict:broken",
        "Feed: known, unknown, broken, rejected, duplicate",
    ),
    (
        "",
        "a pane with no such rows ignores the term (the status line says)",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_key_is_bound_twice() {
        let mut seen = std::collections::HashSet::new();
        for b in BINDINGS {
            for k in b.keys {
                assert!(
                    seen.insert((format!("{:?}", k.code), k.ctrl)),
                    "{} is bound twice",
                    describe(k)
                );
            }
        }
    }

    #[test]
    fn shifted_letters_and_releases() {
        let press = |code, modifiers| KeyEvent::new(code, modifiers);
        assert_eq!(
            lookup(&press(KeyCode::Char('G'), KeyModifiers::SHIFT)),
            Some(Command::Bottom)
        );
        assert_eq!(
            lookup(&press(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Command::Quit)
        );
        assert_eq!(
            lookup(&press(KeyCode::Char('c'), KeyModifiers::NONE)),
            Some(Command::Conversation)
        );
        let mut release = press(KeyCode::Char('q'), KeyModifiers::NONE);
        release.kind = KeyEventKind::Release;
        assert_eq!(lookup(&release), None);
    }
}
