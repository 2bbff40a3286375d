//! A reply sent from pilotwatch, as journaled: one record when it goes out (`sending`)
//! and one with its outcome (`accepted` with the 202, or `failed` with the error).
//! The API key is never part of it.

use serde::{Deserialize, Serialize};

use crate::model::send::{Accepted, ApiError, SendRequest};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReplyPhase {
    Sending,
    Accepted,
    Failed,
}

impl ReplyPhase {
    pub fn event(self) -> &'static str {
        match self {
            Self::Sending => "outbound.sending",
            Self::Accepted => "outbound.accepted",
            Self::Failed => "outbound.failed",
        }
    }
}

/// The inbound message a reply answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InReplyTo {
    /// Its Pilot Status `id`.
    pub id: String,
    /// Its event name (`message.received`, `message.reply`, `message.group`).
    pub event: String,
}

impl Outbound {
    /// One sanitised line: `→ +5511… "text" · 202 QUEUED msg_…` or `✗ <why>`.
    pub fn summary(&self) -> String {
        use crate::sanitize::line as clean;
        let b = &self.request.body;
        let to = b
            .destination_number
            .as_deref()
            .or(b.group_id.as_deref())
            .unwrap_or("?");
        let outcome = match (self.phase, &self.accepted, &self.error) {
            (ReplyPhase::Accepted, Some(a), _) => format!(
                "202 {} {}{}",
                clean(a.status.as_deref().unwrap_or(""), 12),
                clean(&a.id, 40),
                if a.replayed { " (replayed)" } else { "" }
            ),
            (ReplyPhase::Failed, _, Some(e)) => format!("✗ {e}"),
            _ => "sending…".into(),
        };
        let attempt = if self.attempt > 1 {
            format!(" · attempt {}", self.attempt)
        } else {
            String::new()
        };
        format!(
            "→ {} \"{}\" · {outcome}{attempt}",
            clean(to, 30),
            clean(&b.text, 40)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Outbound {
    pub phase: ReplyPhase,
    pub request: SendRequest,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<InReplyTo>,
    /// 1 for the first try; retries reuse the idempotency key and body.
    pub attempt: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted: Option<Accepted>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ApiError>,
}
