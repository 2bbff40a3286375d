//! The provider's webhook events: typed families ([`event`]), the tolerant parser that
//! turns any body into a verdict ([`mod@parse`]), the dedupe identity ([`identity`]), and
//! an event boiled down to number, who and what, as the outputs show it ([`summary`]).
//! What pilotwatch itself journals besides deliveries: replies it sent ([`outbound`]) and
//! what the user's app answered to forwarded ones ([`forward`]), alerts ([`alert`]), and
//! what the provider's API told us ([`provider`]).

pub mod alert;
mod check;
pub mod event;
pub mod forward;
pub mod identity;
pub mod outbound;
pub mod parse;
pub mod provider;
pub mod send;
pub mod summary;

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

/// Every event name pilotwatch types, family by family: the one list. The parser keeps
/// these names `'static` (only unheard-of names allocate), `pilotwatch send --list`
/// prints it, and the demo's samples cover all of it (`demo::samples` checks that).
/// `number.health_*` and `phone_line.*` are open families: the names here are the
/// documented ones, and others with those prefixes are typed too.
pub const EVENT_NAMES: &[&str] = &[
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
    "number.health_degraded",
    "number.health_ok",
    "call.ringing",
    "call.connected",
    "call.ended",
    "call.missed",
    "call.permission_updated",
    "calls",
    "lead.received",
    "phone_line.purchased",
    "phone_line.code_received",
    "phone_line.suspended",
];

/// An event name as it arrived.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventName(Cow<'static, str>);

impl EventName {
    pub fn new(name: &str) -> Self {
        match EVENT_NAMES.iter().find(|k| **k == name) {
            Some(k) => Self(Cow::Borrowed(k)),
            None => Self(Cow::Owned(name.to_owned())),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// As its string; read back through [`EventName::new`], so known names borrow again.
impl serde::Serialize for EventName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for EventName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ok(EventName::new(&name))
    }
}

impl std::fmt::Display for EventName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::EVENT_NAMES;
    use super::event::{CallKind, MessageKind, NumberKind};

    /// The list and the typed families agree: every kind the parser matches by name is
    /// listed, and every listed name is one the parser types.
    #[test]
    fn the_one_list_names_every_typed_kind_and_only_those() {
        let exact = MessageKind::ALL
            .map(MessageKind::name)
            .into_iter()
            .chain(CallKind::ALL.map(CallKind::name));
        for name in exact {
            assert!(
                EVENT_NAMES.contains(&name),
                "{name} is typed but not listed"
            );
        }
        for (i, name) in EVENT_NAMES.iter().enumerate() {
            assert!(!EVENT_NAMES[..i].contains(name), "{name} is listed twice");
            let typed = MessageKind::ALL.iter().any(|k| k.name() == *name)
                || CallKind::ALL.iter().any(|k| k.name() == *name)
                || NumberKind::from_name(name).is_some()
                || matches!(*name, "calls" | "lead.received")
                || name.starts_with("phone_line.");
            assert!(typed, "{name} is listed but no parser types it");
        }
    }
}
