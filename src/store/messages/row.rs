//! One message's row: its lifecycle, and how each event folds into it.

use chrono::{DateTime, Utc};
use smallvec::SmallVec;

use super::strings::{Field, Strings, strings_of};
use crate::model::event::{Media, Message, MessageExtra, MessageKind, MessageType, Text};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Direction {
    In,
    Out,
}

/// The state a message is in. Ranked so the outcome does not depend on arrival order:
/// a late `delivered` proves a `DELIVER_NOT_CONFIRMED` failure wrong, so it wins.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Status {
    Received,
    /// Accepted by the API (202), no webhook about it yet.
    Queued,
    Sent,
    Failed,
    Delivered,
    Read,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::Queued => "queued",
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::Delivered => "delivered",
            Self::Read => "read",
        }
    }
}

/// One step of a lifecycle: when it happened (the event's `createdAt`) and which
/// delivery said so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Step {
    #[serde(with = "crate::serial::time_opt")]
    pub at: Option<DateTime<Utc>>,
    pub seq: u64,
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Lifecycle {
    pub sent: Option<Step>,
    pub delivered: Option<Step>,
    pub read: Option<Step>,
    pub failed: Option<Step>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MessageRow {
    /// Ids and texts, read through the accessors below.
    pub(super) strings: Strings,
    pub direction: Direction,
    /// The inbound kind (received, reply, group, newsletter), or the first status seen.
    pub kind: MessageKind,
    pub msg_type: Option<MessageType>,
    pub media: Option<Box<Media>>,
    /// Reply / group / newsletter fields (most rows have none: boxed, not inline).
    pub(super) extra: Option<Box<MessageExtra>>,
    /// `createdAt` of the inbound message, or of the earliest status.
    #[serde(with = "crate::serial::time_opt")]
    pub created_at: Option<DateTime<Utc>>,
    pub lifecycle: Lifecycle,
    /// `error` and `errorCode` of `message.failed`.
    pub(super) error: Option<Box<(Text, Option<Text>)>>,
    /// Every delivery (seq) that built this row, in arrival order (an outbound
    /// message's sent, delivered and read fit inline).
    pub seqs: SmallVec<[u64; 3]>,
    /// What the provider's API said of it, once it was looked up (stuck).
    pub(super) api: Option<Box<ApiMark>>,
}

/// What the provider's API said of an outbound message that looked stuck.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ApiMark {
    /// The provider's status word (`DELIVERED`…).
    pub status: Text,
    /// The seq of the `api` record.
    pub seq: u64,
    /// Steps known from the API only, no webhook having brought them (yet): sent,
    /// delivered, read, failed.
    pub from_api: [bool; 4],
}

/// The names of the steps, in [`ApiMark::from_api`]'s order.
pub const STEPS: [&str; 4] = ["sent", "delivered", "read", "failed"];

impl MessageRow {
    /// The Pilot Status id.
    pub fn id(&self) -> &str {
        self.strings.get(Field::Id).unwrap_or_default()
    }

    pub fn number_id(&self) -> &str {
        self.strings.get(Field::NumberId).unwrap_or_default()
    }

    pub fn to(&self) -> &str {
        self.strings.get(Field::To).unwrap_or_default()
    }

    pub fn from(&self) -> Option<&str> {
        self.strings.get(Field::From)
    }

    /// The WhatsApp message id (`wamid…`).
    pub fn message_id(&self) -> Option<&str> {
        self.strings.get(Field::MessageId)
    }

    pub fn correlation_id(&self) -> Option<&str> {
        self.strings.get(Field::CorrelationId)
    }

    pub fn content(&self) -> Option<&str> {
        self.strings.get(Field::Content)
    }

    pub fn participant_name(&self) -> Option<&str> {
        self.strings.get(Field::ParticipantName)
    }

    /// Sent from this pilotwatch: the API's status in its 202 (`QUEUED`…).
    pub fn api_status(&self) -> Option<&str> {
        self.strings.get(Field::ApiStatus)
    }

    /// `error` and `errorCode` of `message.failed`.
    pub fn error(&self) -> Option<(&str, Option<&str>)> {
        self.error.as_deref().map(|(e, c)| (&**e, c.as_deref()))
    }

    pub fn extra(&self) -> &MessageExtra {
        self.extra.as_deref().unwrap_or(&MessageExtra::None)
    }

    pub fn status(&self) -> Status {
        let l = &self.lifecycle;
        if l.read.is_some() {
            Status::Read
        } else if l.delivered.is_some() {
            Status::Delivered
        } else if l.failed.is_some() {
            Status::Failed
        } else if self.direction == Direction::Out
            && l.sent.is_none()
            && self.api_status().is_some()
        {
            Status::Queued
        } else if self.direction == Direction::Out {
            Status::Sent
        } else {
            Status::Received
        }
    }

    /// What the provider's API said of it, if it was looked up.
    pub fn api(&self) -> Option<&ApiMark> {
        self.api.as_deref()
    }

    /// The first step the API knows and no webhook brought: `delivered`, `read`…
    pub fn webhook_missing(&self) -> Option<&'static str> {
        let a = self.api.as_deref()?;
        (0..4).find(|i| a.from_api[*i]).map(|i| STEPS[i])
    }

    /// The WhatsApp id this message is quoting, when it is a reply.
    pub fn quoted_message_id(&self) -> Option<&str> {
        match self.extra() {
            MessageExtra::Reply {
                quoted_message_id, ..
            } => quoted_message_id.as_deref(),
            _ => None,
        }
    }

    /// The kind part of its key in the table: inbound rows are keyed by kind, outbound
    /// ones not.
    pub(super) fn key_kind(&self) -> Option<MessageKind> {
        (self.direction == Direction::In).then_some(self.kind)
    }

    pub(super) fn new(m: &Message, seq: u64) -> Self {
        Self {
            strings: Strings::new(strings_of(m)),
            direction: if m.kind.is_outbound() {
                Direction::Out
            } else {
                Direction::In
            },
            kind: m.kind,
            msg_type: None,
            media: None,
            extra: None,
            created_at: None,
            lifecycle: Lifecycle::default(),
            error: None,
            seqs: SmallVec::new(),
            api: None,
        }
        .merged(m, seq)
    }

    fn merged(mut self, m: &Message, seq: u64) -> Self {
        self.merge(m, seq);
        self
    }

    /// Fold one event in. Fields fill in where still missing, so whichever event comes
    /// first, the row ends up the same.
    pub(super) fn merge(&mut self, m: &Message, seq: u64) {
        self.strings.fill(strings_of(m));
        self.seqs.push(seq);
        if self.msg_type.is_none() {
            self.msg_type.clone_from(&m.msg_type);
        }
        if self.media.is_none() {
            self.media.clone_from(&m.media);
        }
        if let Some(at) = m.created_at
            && self.created_at.is_none_or(|c| at < c)
        {
            self.created_at = Some(at);
        }
        let step = Some(Step {
            at: m.created_at,
            seq,
        });
        let l = &mut self.lifecycle;
        let mut from_api = self.api.as_deref_mut().map(|a| &mut a.from_api);
        // A step the API told first gives way to the webhook's own: it was late, not lost.
        let mut fill = |slot: &mut Option<Step>, i: usize| match from_api.as_deref_mut() {
            Some(bits) if bits[i] => {
                *slot = step;
                bits[i] = false;
            }
            _ => *slot = slot.or(step),
        };
        match (&m.extra, m.kind) {
            (MessageExtra::Failed { error, error_code }, _) => {
                fill(&mut l.failed, 3);
                self.error
                    .get_or_insert_with(|| Box::new((error.clone(), error_code.clone())));
            }
            (_, MessageKind::Sent) => fill(&mut l.sent, 0),
            (_, MessageKind::Delivered) => fill(&mut l.delivered, 1),
            (_, MessageKind::Read) => fill(&mut l.read, 2),
            (MessageExtra::None, _) => {}
            (extra, _) => {
                if self.extra.is_none() {
                    self.extra = Some(Box::new(extra.clone()));
                }
            }
        }
    }
}
