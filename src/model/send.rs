//! What a send through the provider's REST API carries, answers and fails with: data,
//! journaled in `outbound` records and folded into the store, so it lives with the other
//! event types rather than with the HTTP client (`crate::api`) that produces it.

use serde::{Deserialize, Serialize};

use crate::sanitize::line as clean;

/// The JSON body of a send: a text to a contact (E.164) or to a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendBody {
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub destination_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub group_id: Option<String>,
}

/// One send: the body, the number it goes out from, and its idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendRequest {
    pub body: SendBody,
    /// `x-whatsapp-number-id`: the number the answered message arrived on.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub number_id: Option<String>,
    pub idempotency_key: String,
}

/// The 202 answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Accepted {
    pub id: String,
    #[serde(default)]
    pub correlation_id: Option<String>,
    /// `QUEUED SENT DELIVERED FAILED READ CANCELED`.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub origin: Option<String>,
    #[serde(default)]
    pub source_number: Option<String>,
    /// `Idempotent-Replayed: true`: the provider had this send already.
    #[serde(default)]
    pub replayed: bool,
}

impl Accepted {
    /// From whatever JSON a 2xx carried: strings or numbers taken as text, anything
    /// missing left empty (`id` empty: accepted, but no id to follow).
    pub fn lenient(v: &serde_json::Value) -> Self {
        let text = |k: &str| match &v[k] {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        Self {
            id: text("id").unwrap_or_default(),
            correlation_id: text("correlationId"),
            status: text("status"),
            created_at: text("createdAt"),
            origin: text("origin"),
            source_number: text("sourceNumber"),
            replayed: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum ApiError {
    /// The provider answered, and not with a 2xx.
    Status {
        status: u16,
        error: Option<String>,
        code: Option<String>,
        retry_after: Option<String>,
    },
    Timeout {
        seconds: u64,
    },
    Connect {
        detail: String,
    },
    /// A 2xx we could not read.
    BadAnswer {
        status: u16,
        detail: String,
    },
    Other {
        detail: String,
    },
}

impl ApiError {
    /// A few words for a table row: `HTTP 409 NUMBER_BLOCKED`, `timeout`…
    pub fn short(&self) -> String {
        match self {
            Self::Status {
                status,
                code: Some(c),
                ..
            } => format!("HTTP {status} {}", clean(c, 24)),
            Self::Status { status, .. } => format!("HTTP {status}"),
            Self::Timeout { .. } => "timeout".into(),
            Self::Connect { .. } => "unreachable".into(),
            Self::BadAnswer { status, .. } => format!("HTTP {status} unreadable"),
            Self::Other { .. } => "error".into(),
        }
    }

    /// Worth another try with the same key (the provider never sent it twice).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Status { status, code, .. } => {
                *status == 429
                    || *status >= 500
                    || code.as_deref() == Some("IDEMPOTENCY_KEY_IN_USE")
            }
            Self::Timeout { .. } | Self::Connect { .. } | Self::Other { .. } => true,
            Self::BadAnswer { .. } => false,
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Status {
                status,
                error,
                code,
                retry_after,
            } => {
                let what = match (*status, code.as_deref()) {
                    (400, _) => "the provider refused the message as invalid",
                    (401, _) => "the API key was refused (check PILOT_STATUS_API_KEY)",
                    (403, _) => "this key may not send from that number",
                    (404, _) => "not found (the number or the endpoint)",
                    (409, Some("IDEMPOTENCY_KEY_REUSED")) => {
                        "this idempotency key was used for a different message"
                    }
                    (409, Some("IDEMPOTENCY_KEY_IN_USE")) => {
                        "the first attempt is still running; retry shortly"
                    }
                    (409, Some("NUMBER_BLOCKED")) => "the number is blocked",
                    (409, _) => "conflict",
                    (429, _) => "rate limited",
                    (500..=599, _) => "the provider failed",
                    _ => "unexpected answer",
                };
                write!(f, "{what} (HTTP {status}")?;
                if let Some(c) = code {
                    write!(f, " {}", clean(c, 40))?;
                }
                f.write_str(")")?;
                if let Some(e) = error {
                    write!(f, ": {}", clean(e, 200))?;
                }
                if let Some(r) = retry_after {
                    match r.trim().parse::<u64>() {
                        Ok(secs) => write!(f, "; retry after {secs}s")?,
                        Err(_) => write!(f, "; retry after {}", clean(r, 40))?,
                    }
                }
                Ok(())
            }
            Self::Timeout { seconds } => write!(
                f,
                "no answer within {seconds} s (timed out); R retries safely"
            ),
            Self::Connect { detail } => write!(f, "cannot reach the API: {}", clean(detail, 200)),
            Self::BadAnswer { status, detail } => write!(
                f,
                "unreadable answer (HTTP {status}): {}",
                clean(detail, 200)
            ),
            Self::Other { detail } => write!(f, "{}", clean(detail, 200)),
        }
    }
}
