//! Typed events, one struct per family of PROTOCOL.md.
//!
//! Strings are `Box<str>` (16 bytes, no spare capacity) and rarely-present groups of
//! fields are boxed, so a parsed event stays a few hundred bytes instead of the ~2 KB a
//! `serde_json::Value` costs.

use chrono::{DateTime, Utc};

pub type Text = Box<str>;

/// A typed delivery whose shape matched its family's contract.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Event {
    Message(Box<Message>),
    Number(Box<NumberEvent>),
    Call(Box<CallEvent>),
    /// Meta's native `calls` envelope; only what correlates is kept, the SDP stays in `raw`.
    Calls(Box<NativeCalls>),
    Lead(Box<Lead>),
    PhoneLine(Box<PhoneLineEvent>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum MessageKind {
    Sent,
    Delivered,
    Read,
    Failed,
    Received,
    Reply,
    Group,
    Newsletter,
}

impl MessageKind {
    pub const ALL: [MessageKind; 8] = [
        Self::Sent,
        Self::Delivered,
        Self::Read,
        Self::Failed,
        Self::Received,
        Self::Reply,
        Self::Group,
        Self::Newsletter,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Sent => "message.sent",
            Self::Delivered => "message.delivered",
            Self::Read => "message.read",
            Self::Failed => "message.failed",
            Self::Received => "message.received",
            Self::Reply => "message.reply",
            Self::Group => "message.group",
            Self::Newsletter => "message.newsletter",
        }
    }

    /// Status events of a message this account sent (as opposed to inbound messages).
    pub fn is_outbound(self) -> bool {
        matches!(
            self,
            Self::Sent | Self::Delivered | Self::Read | Self::Failed
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum MessageType {
    Text,
    Image,
    Audio,
    Video,
    Document,
    Location,
    Contacts,
    Sticker,
    Reaction,
}

impl MessageType {
    pub const ALL: [MessageType; 9] = [
        Self::Text,
        Self::Image,
        Self::Audio,
        Self::Video,
        Self::Document,
        Self::Location,
        Self::Contacts,
        Self::Sticker,
        Self::Reaction,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Image => "image",
            Self::Audio => "audio",
            Self::Video => "video",
            Self::Document => "document",
            Self::Location => "location",
            Self::Contacts => "contacts",
            Self::Sticker => "sticker",
            Self::Reaction => "reaction",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// Any `message.*` event. `id` is Pilot Status' id (the 202 `id` of a send) and is the
/// same on every status event of one message; `message_id` is WhatsApp's.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Message {
    pub kind: MessageKind,
    pub id: Text,
    pub message_id: Option<Text>,
    pub number_id: Text,
    pub from: Option<Text>,
    pub to: Text,
    pub msg_type: Option<MessageType>,
    pub from_me: bool,
    /// `createdAt` when it is valid RFC 3339 (the SDK only requires a string).
    pub created_at: Option<DateTime<Utc>>,
    pub content: Option<Text>,
    pub correlation_id: Option<Text>,
    pub participant_name: Option<Text>,
    pub media: Option<Box<Media>>,
    pub extra: MessageExtra,
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Media {
    pub link: Option<Text>,
    pub media_type: Option<Text>,
    pub caption: Option<Text>,
    pub filename: Option<Text>,
}

/// The fields only one kind of message event carries.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum MessageExtra {
    #[default]
    None,
    Failed {
        error: Text,
        error_code: Option<Text>,
    },
    Reply {
        quoted_message_id: Option<Text>,
        content_replied: Option<Text>,
    },
    Group {
        group_id: Option<Text>,
        group_name: Option<Text>,
    },
    Newsletter {
        newsletter_id: Option<Text>,
        newsletter_name: Option<Text>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum NumberKind {
    Created,
    Connected,
    Disconnected,
    Removed,
    Restored,
    /// `number.health_*`: the suffix after `health_` (e.g. `degraded`).
    Health(Text),
}

impl NumberKind {
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "number.created" => Self::Created,
            "number.connected" => Self::Connected,
            "number.disconnected" => Self::Disconnected,
            "number.removed" => Self::Removed,
            "number.restored" => Self::Restored,
            other => Self::Health(other.strip_prefix("number.health_")?.into()),
        })
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NumberEvent {
    pub kind: NumberKind,
    pub number_id: Text,
    pub phone: Text,
    pub display_name: Text,
    pub created_at: Option<DateTime<Utc>>,
    pub profile_name: Option<Text>,
    pub error: Option<Text>,
    pub error_code: Option<Text>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum CallKind {
    Ringing,
    Connected,
    Ended,
    Missed,
    PermissionUpdated,
}

impl CallKind {
    pub const ALL: [CallKind; 5] = [
        Self::Ringing,
        Self::Connected,
        Self::Ended,
        Self::Missed,
        Self::PermissionUpdated,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Ringing => "call.ringing",
            Self::Connected => "call.connected",
            Self::Ended => "call.ended",
            Self::Missed => "call.missed",
            Self::PermissionUpdated => "call.permission_updated",
        }
    }
}

/// A flat `call.*` event (no `data` wrapper).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CallEvent {
    pub kind: CallKind,
    pub call_id: Option<Text>,
    pub external_call_id: Option<Text>,
    pub direction: Option<Text>,
    pub status: Text,
    pub from: Option<Text>,
    pub to: Option<Text>,
    pub timestamp: Option<DateTime<Utc>>,
    pub duration: Option<i64>,
}

/// The calls named inside a native `calls` envelope.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct NativeCalls {
    pub phone_number_id: Option<Text>,
    pub calls: Vec<NativeCall>,
}

#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct NativeCall {
    /// Meta's `wacid.…`, the `externalCallId` of the matching `call.*` events.
    pub id: Option<Text>,
    pub event: Option<Text>,
    pub from: Option<Text>,
    pub to: Option<Text>,
    pub direction: Option<Text>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Lead {
    pub lead_id: Text,
    pub leadgen_id: Text,
    pub whatsapp_number_id: Text,
    pub page_id: Text,
    pub form_id: Text,
    pub created_at: Option<DateTime<Utc>>,
    pub full_name: Option<Text>,
    pub phone: Option<Text>,
    pub email: Option<Text>,
    pub fields: Vec<LeadField>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LeadField {
    pub key: Text,
    pub label: Option<Text>,
    pub values: Vec<Text>,
}

/// `phone_line.*`, from the provider's separate phone-line registry.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PhoneLineEvent {
    pub id: Text,
    /// The part after `phone_line.` (e.g. `code_received`).
    pub kind: Text,
    pub created_at: Option<DateTime<Utc>>,
    pub line_id: Option<Text>,
    pub number: Option<Text>,
    pub name: Option<Text>,
}
