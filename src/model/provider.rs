//! What the provider's REST API told us, as journaled: the body of an `api` record. The
//! reconciler reads the provider's side (numbers and their status, messages that look
//! stuck, the provider's own log of webhook attempts) and journals each answer, so the
//! store, `attach`, `open` and a restart all compare the same two sides. Never the key.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::sanitize::line as clean;

/// A number as `GET /v1/numbers` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiNumber {
    pub id: String,
    /// E.164.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_fully_connected: Option<bool>,
    /// Present on Meta Cloud API numbers only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub meta: bool,
    /// Sending is blocked while set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_charge_unpaid_since: Option<String>,
}

/// `GET /v1/numbers/{id}/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiNumberStatus {
    pub id: String,
    /// The provider's word: `connected`, `disconnected`, `connecting`…
    pub state: String,
    #[serde(default)]
    pub stale: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_known_at: Option<DateTime<Utc>>,
}

impl ApiNumberStatus {
    pub fn is_connected(&self) -> bool {
        self.connected() == Some(true)
    }

    /// What a live reading says of the connection; `None` for a stale one or a state
    /// that says neither (connecting, unknown…): nothing to disagree with.
    pub fn connected(&self) -> Option<bool> {
        if self.stale {
            return None;
        }
        match self.state.to_ascii_lowercase().as_str() {
            "connected" | "open" => Some(true),
            "disconnected" | "close" | "closed" | "logout" | "logged_out" => Some(false),
            _ => None,
        }
    }
}

/// `GET /v1/messages/{id}`: a message's delivery status as the provider knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiMessage {
    /// Our (Pilot Status) id: the row it is about.
    pub id: String,
    /// `QUEUED SENT DELIVERED FAILED READ CANCELED`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

/// One delivery attempt in the provider's log (`GET /v1/webhooks/{id}/logs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    /// The log entry's id when it has one, else made from its time and event.
    pub id: String,
    pub event: String,
    /// `SUCCESS` or `FAILED`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
    /// What our receiver answered, its first bytes.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub response: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    pub created_at: DateTime<Utc>,
    /// The delivery's identity (the same event + family key the store dedupes on),
    /// computed from the logged payload: how an attempt is matched to the journal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// The seq of the journaled delivery it matched, if any: none means the provider
    /// sent (or tried to send) something the journal never got.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matched: Option<u64>,
}

impl Attempt {
    /// The provider says it reached us with a 2xx.
    pub fn succeeded(&self) -> bool {
        self.status.eq_ignore_ascii_case("SUCCESS")
            && self.status_code.is_none_or(|c| (200..300).contains(&c))
    }
}

/// A message of `GET /v1/messages/history` (newest first): what the provider kept,
/// for the earlier part of a conversation that no webhook here brought.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryMessage {
    pub id: String,
    /// `INBOUND` or `OUTBOUND`.
    pub direction: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_message_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_type: Option<String>,
    /// Nulled by the number's retention policy when `redacted`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participant_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participant_phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replied_to_external_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub redacted: bool,
}

impl HistoryMessage {
    pub fn inbound(&self) -> bool {
        self.direction.eq_ignore_ascii_case("INBOUND")
    }
}

/// Which part of reconciliation an answer is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Feature {
    /// Numbers and their status (a tenant-scoped key).
    Numbers,
    /// Messages looked up (a number-scoped key).
    Messages,
    /// The provider's webhook delivery log.
    Webhooks,
}

impl Feature {
    pub const ALL: [Feature; 3] = [Self::Numbers, Self::Messages, Self::Webhooks];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Numbers => "numbers",
            Self::Messages => "messages",
            Self::Webhooks => "webhooks",
        }
    }
}

/// Whether a feature works with the key configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessState {
    Ok,
    /// No key configured.
    NoKey,
    /// 401: the key is wrong; polling paused.
    Unauthorized,
    /// 403 (or 400 on a scope mismatch): this key's scope does not cover it.
    OutOfScope,
    /// The provider said it cannot (503 PROVIDER_NOT_CONFIGURED): stopped.
    Unavailable,
}

/// The body of an `api` record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ApiRecord {
    /// `GET /v1/numbers`.
    Numbers { numbers: Vec<ApiNumber> },
    /// `GET /v1/numbers/{id}/status`.
    NumberStatus(ApiNumberStatus),
    /// `GET /v1/messages/{id}`.
    Message(ApiMessage),
    /// A page of `GET /v1/messages/history` for a number (the key's own).
    History {
        number: String,
        page: u32,
        total_pages: u32,
        messages: Vec<HistoryMessage>,
    },
    /// New attempts in the provider's log of one webhook.
    Attempts {
        webhook: String,
        attempts: Vec<Attempt>,
    },
    /// A feature started or stopped working with this key (transitions only).
    Access {
        feature: Feature,
        state: AccessState,
        /// Why, in words, for the status line (never the key).
        #[serde(default, skip_serializing_if = "String::is_empty")]
        detail: String,
    },
}

impl ApiRecord {
    pub fn event(&self) -> &'static str {
        match self {
            Self::Numbers { .. } => "api.numbers",
            Self::NumberStatus(_) => "api.number_status",
            Self::Message(_) => "api.message",
            Self::Attempts { .. } => "api.webhook_log",
            Self::History { .. } => "api.history",
            Self::Access { .. } => "api.access",
        }
    }

    /// One line for the headless output.
    pub fn summary(&self) -> String {
        let text = match self {
            Self::Numbers { numbers } => format!("{} number(s) listed", numbers.len()),
            Self::NumberStatus(s) => format!(
                "{} is {}{}",
                s.id,
                s.state,
                if s.stale { " (stale)" } else { "" }
            ),
            Self::Message(m) => format!("{} is {}", m.id, m.status),
            Self::History {
                number,
                page,
                total_pages,
                messages,
            } => format!(
                "{} message(s) of {number}'s history, page {page} of {total_pages}",
                messages.len()
            ),
            Self::Attempts { webhook, attempts } => {
                let failed = attempts.iter().filter(|a| !a.succeeded()).count();
                format!(
                    "{} new attempt(s) in {webhook}'s log, {failed} failed",
                    attempts.len()
                )
            }
            Self::Access {
                feature,
                state,
                detail,
            } => format!("{}: {state:?} {detail}", feature.as_str()),
        };
        clean(&text, 300)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip() {
        let records = [
            ApiRecord::Numbers {
                numbers: vec![ApiNumber {
                    id: "n1".into(),
                    number: Some("+5511900000001".into()),
                    name: Some("Main".into()),
                    is_fully_connected: Some(true),
                    meta: true,
                    extra_charge_unpaid_since: None,
                }],
            },
            ApiRecord::NumberStatus(ApiNumberStatus {
                id: "n1".into(),
                state: "disconnected".into(),
                stale: false,
                checked_at: Some("2026-11-29T10:00:00Z".parse().unwrap()),
                last_known_at: None,
            }),
            ApiRecord::Message(ApiMessage {
                id: "m1".into(),
                status: "DELIVERED".into(),
                sent_at: None,
                delivered_at: Some("2026-11-29T10:00:05Z".parse().unwrap()),
                read_at: None,
                error_code: None,
                error_message: None,
            }),
            ApiRecord::Access {
                feature: Feature::Numbers,
                state: AccessState::OutOfScope,
                detail: "a number-scoped key cannot list numbers".into(),
            },
        ];
        for r in records {
            let json = serde_json::to_string(&r).unwrap();
            assert_eq!(
                serde_json::from_str::<ApiRecord>(&json).unwrap(),
                r,
                "{json}"
            );
        }
    }
}
