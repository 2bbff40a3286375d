//! The provider's webhook events: typed families ([`event`]), the tolerant parser that
//! turns any body into a verdict ([`mod@parse`]), and the dedupe identity ([`identity`]).
//! What pilotwatch itself journals besides deliveries: replies it sent ([`outbound`]) and
//! what the user's app answered to forwarded ones ([`forward`]).

mod check;
pub mod event;
pub mod forward;
pub mod identity;
pub mod outbound;
pub mod send;
pub mod parse;

use std::borrow::Cow;

pub use event::Event;
pub use identity::Identity;
pub use parse::{NotJson, Parsed, parse};

/// What became of a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// A typed event that matches its contract.
    Known,
    /// Well-formed, but an event name (or a shape) we do not know: kept raw.
    Unknown,
    /// JSON that breaks the contract: kept, with the paths at fault.
    Broken,
    /// Refused by the receiver (bad signature, too large, not JSON): recorded, not acked.
    Rejected,
}

impl Verdict {
    pub const ALL: [Verdict; 4] = [Self::Known, Self::Unknown, Self::Broken, Self::Rejected];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Known => "known",
            Self::Unknown => "unknown",
            Self::Broken => "broken",
            Self::Rejected => "rejected",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// Names we know are `'static`; only unheard-of names allocate.
const KNOWN_NAMES: &[&str] = &[
    "message.sent",
    "message.delivered",
    "message.read",
    "message.failed",
    "message.received",
    "message.reply",
    "message.group",
    "message.newsletter",
    "number.created",
    "number.connected",
    "number.disconnected",
    "number.removed",
    "number.restored",
    "call.ringing",
    "call.connected",
    "call.ended",
    "call.missed",
    "call.permission_updated",
    "calls",
    "lead.received",
];

/// An event name as it arrived.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventName(Cow<'static, str>);

impl EventName {
    pub fn new(name: &str) -> Self {
        match KNOWN_NAMES.iter().find(|k| **k == name) {
            Some(k) => Self(Cow::Borrowed(k)),
            None => Self(Cow::Owned(name.to_owned())),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for EventName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
