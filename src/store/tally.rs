//! Counts `/metrics` reports beside [`super::Counters`], kept as records are applied so
//! a scrape reads them instead of walking the feed: deliveries by event family and
//! verdict, and the provider's answers to the replies sent from here.

use std::collections::BTreeMap;

use crate::model::Verdict;
use crate::model::outbound::{Outbound, ReplyPhase};
use crate::model::send::ApiError;
use crate::record::{Record, RecordKind};

/// An event name's family: the part before the dot. A bounded label, whatever names a
/// sender invents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum EventFamily {
    Message,
    Number,
    Call,
    Calls,
    Lead,
    PhoneLine,
    /// A name of no family above.
    Other,
    /// No event name (refused before parsing, not JSON).
    None,
}

impl EventFamily {
    pub const ALL: [EventFamily; 8] = [
        Self::Message,
        Self::Number,
        Self::Call,
        Self::Calls,
        Self::Lead,
        Self::PhoneLine,
        Self::Other,
        Self::None,
    ];

    pub fn of(event: Option<&str>) -> Self {
        let Some(name) = event else {
            return Self::None;
        };
        match name.split_once('.').map_or(name, |(family, _)| family) {
            "message" => Self::Message,
            "number" => Self::Number,
            "call" => Self::Call,
            "calls" => Self::Calls,
            "lead" => Self::Lead,
            "phone_line" => Self::PhoneLine,
            _ => Self::Other,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Message => "message",
            Self::Number => "number",
            Self::Call => "call",
            Self::Calls => "calls",
            Self::Lead => "lead",
            Self::PhoneLine => "phone_line",
            Self::Other => "other",
            Self::None => "none",
        }
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Tally {
    /// Deliveries (retries included) by [`EventFamily`] and then [`Verdict`] index.
    pub deliveries: [[u64; Verdict::ALL.len()]; EventFamily::ALL.len()],
    /// Send attempts that got an outcome, by what the provider answered: `2xx`, an HTTP
    /// status, or `timeout`, `unreachable`, `error`.
    pub api_calls: BTreeMap<String, u64>,
}

impl Tally {
    pub(super) fn record(&mut self, r: &Record) {
        if r.kind != RecordKind::Delivery {
            return;
        }
        let family = EventFamily::of(r.event.as_ref().map(|e| e.as_str()));
        self.deliveries[family as usize][r.verdict.index()] += 1;
    }

    /// A reply's `accepted` or `failed` record (a `sending` one has no answer yet).
    pub(super) fn outbound(&mut self, o: &Outbound) {
        let status = match (o.phase, &o.error) {
            (ReplyPhase::Sending, _) => return,
            (ReplyPhase::Accepted, _) => "2xx".to_owned(),
            (ReplyPhase::Failed, Some(e)) => api_status(e),
            (ReplyPhase::Failed, None) => "error".to_owned(),
        };
        *self.api_calls.entry(status).or_default() += 1;
    }

    pub fn deliveries(&self, family: EventFamily, verdict: Verdict) -> u64 {
        self.deliveries[family as usize][verdict.index()]
    }
}

/// A bounded label for an API error: an HTTP status is three digits, or `other`.
fn api_status(e: &ApiError) -> String {
    match e {
        ApiError::Status { status, .. } | ApiError::BadAnswer { status, .. } => {
            if (100..600).contains(status) {
                status.to_string()
            } else {
                "other".into()
            }
        }
        ApiError::Timeout { .. } => "timeout".into(),
        ApiError::Connect { .. } => "unreachable".into(),
        ApiError::Other { .. } => "error".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_are_bounded_whatever_the_name() {
        let of = |n: Option<&str>| EventFamily::of(n).as_str();
        assert_eq!(of(Some("message.read")), "message");
        assert_eq!(of(Some("calls")), "calls");
        assert_eq!(of(Some("phone_line.suspended")), "phone_line");
        assert_eq!(of(Some("number.health_whatever")), "number");
        assert_eq!(of(Some("evil\n\"family.x")), "other");
        assert_eq!(of(Some("")), "other");
        assert_eq!(of(None), "none");
    }
}
