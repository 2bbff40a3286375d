//! Composing a reply: who it goes to, from which number, what it answers, and the text
//! (a `tui-textarea`, multi-line). The composer only builds the request; sending is the
//! replier's job.

use tui_textarea::TextArea;

use crate::api::{SendBody, SendRequest, new_idempotency_key};
use crate::model::event::{MessageExtra, MessageKind};
use crate::model::outbound::InReplyTo;
use crate::sanitize::line as clean;
use crate::store::conversations::window::Window;
use crate::store::{MessageRow, Store};

#[derive(Debug)]
pub struct Composer {
    pub textarea: TextArea<'static>,
    /// Sanitised lines above the text: to whom, from which number, what it answers.
    pub context: Vec<(String, String)>,
    pub to: Target,
    pub number_id: String,
    pub in_reply_to: InReplyTo,
    /// Where the draft is kept when the composer closes: one per conversation.
    pub conversation: String,
    /// The key of an earlier send of this draft that may have reached the service:
    /// sending again with it can never send twice.
    pub key: Option<String>,
    /// When the contact last opened WhatsApp's 24-hour window, and whether one applies
    /// (a Meta Cloud API number): worked out against the clock when drawn and sent.
    pub opened: Option<chrono::DateTime<chrono::Utc>>,
    pub meta: bool,
    /// Enter was pressed once into a closed window: the next one sends anyway.
    pub warned: bool,
}

/// What the first Enter into a closed window says (the second sends anyway).
pub fn window_warning(w: Window) -> Option<String> {
    let hm = |d: chrono::Duration| {
        let m = d.num_minutes().max(0);
        match (m / 60, m % 60) {
            (0, m) => format!("{} m", m.max(1)),
            (h, 0) => format!("{h} h"),
            (h, m) => format!("{h} h {m} m"),
        }
    };
    let what = match w {
        Window::Closed { ago } => format!("the 24-hour window closed {} ago", hm(ago)),
        Window::Never => "the contact never wrote to this number (no 24-hour window)".into(),
        Window::NotMeta | Window::Open { .. } => return None,
    };
    Some(format!(
        "{what}: WhatsApp will refuse free-form text (META_OUTSIDE_24H_WINDOW). Enter again to send anyway"
    ))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Contact(String),
    Group(String),
}

/// Why a row cannot be answered.
pub fn refuse(m: &MessageRow) -> Option<&'static str> {
    if m.kind == MessageKind::Group
        && !matches!(
            m.extra(),
            MessageExtra::Group {
                group_id: Some(_),
                ..
            }
        )
    {
        // Answering the participant privately instead would surprise everyone.
        return Some("this group message carries no groupId to answer to");
    }
    match m.kind {
        MessageKind::Newsletter => Some("channel (newsletter) messages cannot be answered"),
        MessageKind::Received | MessageKind::Reply | MessageKind::Group => None,
        _ => Some("pick an inbound message (received, reply or group) to answer"),
    }
}

impl Composer {
    pub fn new(m: &MessageRow, store: &Store, draft: Option<&str>) -> Option<Self> {
        let to = match &m.extra() {
            MessageExtra::Group {
                group_id: Some(g), ..
            } => Target::Group(g.to_string()),
            _ => Target::Contact(m.from()?.to_owned()),
        };
        let number = store.numbers().get(m.number_id());
        let number_name = number.and_then(|n| n.display_name.as_deref()).unwrap_or("");
        let mut context = Vec::new();
        match (&to, &m.extra()) {
            (Target::Group(g), MessageExtra::Group { group_name, .. }) => {
                context.push((
                    "To group".into(),
                    format!(
                        "{} {}",
                        clean(group_name.as_deref().unwrap_or(""), 40),
                        clean(g, 60)
                    ),
                ));
            }
            (Target::Contact(c), _) => {
                let name = m
                    .participant_name()
                    .map(|n| format!(" ({})", clean(n, 40)))
                    .unwrap_or_default();
                context.push(("To".into(), format!("{}{name}", clean(c, 30))));
            }
            _ => {}
        }
        context.push((
            "From".into(),
            format!("{} {}", clean(number_name, 40), clean(m.number_id(), 40)),
        ));
        context.push((
            "Answering".into(),
            clean(m.content().unwrap_or("(no text)"), 120),
        ));
        let conversation = match &to {
            Target::Contact(c) | Target::Group(c) => format!("{}|{c}", m.number_id()),
        };
        let mut textarea = TextArea::from(draft.unwrap_or("").lines());
        textarea.move_cursor(tui_textarea::CursorMove::Bottom);
        textarea.move_cursor(tui_textarea::CursorMove::End);
        textarea.set_cursor_line_style(ratatui::style::Style::default());
        Some(Self {
            textarea,
            context,
            to,
            number_id: m.number_id().to_string(),
            in_reply_to: InReplyTo {
                id: m.id().to_string(),
                event: m.kind.name().to_owned(),
            },
            conversation,
            key: None,
            opened: None,
            meta: false,
            warned: false,
        })
    }

    /// The window at `now` (`NotMeta` when none applies).
    pub fn window(&self, now: chrono::DateTime<chrono::Utc>) -> Window {
        Window::at(now, self.opened, self.meta)
    }

    pub fn text(&self) -> String {
        self.textarea.lines().join("\n")
    }

    /// The request to send, with an idempotency key of its own.
    pub fn request(&self) -> SendRequest {
        let (destination_number, group_id) = match &self.to {
            Target::Contact(c) => (Some(c.clone()), None),
            Target::Group(g) => (None, Some(g.clone())),
        };
        SendRequest {
            body: SendBody {
                text: self.text(),
                destination_number,
                group_id,
            },
            number_id: Some(self.number_id.clone()),
            idempotency_key: self.key.clone().unwrap_or_else(new_idempotency_key),
        }
    }
}
