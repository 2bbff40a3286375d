//! A typed event boiled down to which number, who and what: the part of a delivery both
//! the headless line and the dashboard's Feed show. The text stays raw, moved out of the
//! event: each output sanitises and cuts it to its own widths, and lays it out its way.

use crate::model::event::{Event, MessageExtra, NumberKind, Text};

#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// The number it came through, by id, when the event names one that way (messages,
    /// leads): outputs show the number's name, which may become known later.
    pub number_id: Option<Text>,
    pub who: Who,
    pub what: What,
}

/// Who the event is about.
#[derive(Debug, Clone, PartialEq)]
pub enum Who {
    /// A message's other side: the recipient of one this account sent, else the sender;
    /// with the group participant's name and the group or newsletter it came in.
    Contact {
        contact: Option<Text>,
        participant: Option<Text>,
        within: Option<Text>,
    },
    /// A number event: the number itself.
    Number { name: Text, phone: Text },
    /// A `call.*` event: caller and callee.
    Call {
        from: Option<Text>,
        to: Option<Text>,
    },
    /// A native `calls` envelope: its first call.
    NativeCall {
        id: Option<Text>,
        from: Option<Text>,
    },
    Lead {
        name: Option<Text>,
        phone: Option<Text>,
    },
    /// A `phone_line.*` event: the line's number.
    Line { number: Option<Text> },
}

/// What happened.
#[derive(Debug, Clone, PartialEq)]
pub enum What {
    Message {
        text: Option<Text>,
        /// `message.failed`: the error code (when sent) and the error.
        failure: Option<(Option<Text>, Text)>,
        /// An attachment, by its file name, else its type, else `media`.
        media: Option<Text>,
    },
    /// A number's state: its error (the code when sent), its WhatsApp profile name, and
    /// whether this is a health event (whose news is the error, not the profile).
    Number {
        error: Option<Text>,
        profile: Option<Text>,
        health: bool,
    },
    Call {
        status: Text,
        duration: Option<i64>,
    },
    /// The first call's event (`connect`, `terminate`…).
    NativeCall {
        event: Option<Text>,
    },
    /// The lead form, and how to reach the lead (phone, else email).
    Lead {
        form: Text,
        reach: Option<Text>,
    },
    /// The line's name.
    Line {
        name: Option<Text>,
    },
}

impl Summary {
    /// The summary of a known delivery's body (`None` when it holds no typed event).
    pub fn parse(body: &[u8]) -> Option<Self> {
        crate::model::parse(body).ok()?.event.map(Self::from)
    }
}

impl From<Event> for Summary {
    fn from(event: Event) -> Self {
        let (number_id, who, what) = match event {
            Event::Message(m) => {
                let m = *m;
                let contact = if m.kind.is_outbound() {
                    Some(m.to)
                } else {
                    m.from
                };
                let (within, failure) = match m.extra {
                    MessageExtra::Failed { error, error_code } => (None, Some((error_code, error))),
                    MessageExtra::Group { group_name, .. } => (group_name, None),
                    MessageExtra::Newsletter {
                        newsletter_name, ..
                    } => (newsletter_name, None),
                    MessageExtra::None | MessageExtra::Reply { .. } => (None, None),
                };
                let media = m.media.map(|media| {
                    let media = *media;
                    media
                        .filename
                        .or(media.media_type)
                        .unwrap_or_else(|| "media".into())
                });
                (
                    Some(m.number_id),
                    Who::Contact {
                        contact,
                        participant: m.participant_name,
                        within,
                    },
                    What::Message {
                        text: m.content,
                        failure,
                        media,
                    },
                )
            }
            Event::Number(n) => {
                let n = *n;
                (
                    None,
                    Who::Number {
                        name: n.display_name,
                        phone: n.phone,
                    },
                    What::Number {
                        error: n.error_code.or(n.error),
                        profile: n.profile_name,
                        health: matches!(n.kind, NumberKind::Health(_)),
                    },
                )
            }
            Event::Call(c) => {
                let c = *c;
                (
                    None,
                    Who::Call {
                        from: c.from,
                        to: c.to,
                    },
                    What::Call {
                        status: c.status,
                        duration: c.duration,
                    },
                )
            }
            Event::Calls(n) => {
                let first = n.calls.into_iter().next().unwrap_or_default();
                (
                    None,
                    Who::NativeCall {
                        id: first.id,
                        from: first.from,
                    },
                    What::NativeCall { event: first.event },
                )
            }
            Event::Lead(l) => {
                let l = *l;
                (
                    Some(l.whatsapp_number_id),
                    Who::Lead {
                        name: l.full_name,
                        phone: l.phone.clone(),
                    },
                    What::Lead {
                        form: l.form_id,
                        reach: l.phone.or(l.email),
                    },
                )
            }
            Event::PhoneLine(p) => {
                let p = *p;
                (
                    None,
                    Who::Line { number: p.number },
                    What::Line { name: p.name },
                )
            }
        };
        Summary {
            number_id,
            who,
            what,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(body: &str) -> Summary {
        Summary::parse(body.as_bytes()).expect("a typed event")
    }

    #[test]
    fn a_message_is_about_its_other_side() {
        let failed = summary(include_str!("../../tests/corpus/message.failed.json"));
        assert_eq!(failed.number_id.as_deref(), Some("cmm0abc123"));
        assert!(matches!(
            &failed.who,
            Who::Contact { contact: Some(c), .. } if &**c == "+5511999999999"
        ));
        assert!(matches!(
            &failed.what,
            What::Message { failure: Some((Some(code), _)), .. } if &**code == "DELIVER_NOT_CONFIRMED"
        ));
        let group = summary(include_str!("../../tests/corpus/message.group.json"));
        assert!(matches!(
            &group.who,
            Who::Contact {
                within: Some(_),
                participant: Some(_),
                ..
            }
        ));
    }

    #[test]
    fn a_number_event_is_about_the_number_itself() {
        let health = summary(include_str!(
            "../../tests/corpus/number.health_degraded.json"
        ));
        assert_eq!(health.number_id, None);
        assert!(matches!(health.who, Who::Number { .. }));
        assert!(matches!(health.what, What::Number { health: true, .. }));
    }
}
