//! The provider's REST API, as far as pilotwatch uses it: `POST /v1/messages/send`.
//!
//! The key goes in `x-api-key` and nowhere else (never logged, never in an error). A send
//! carries an `Idempotency-Key` chosen once per composed message: retrying with the same
//! key and body cannot send twice (the provider replays its first answer).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::sanitize::line as clean;
use crate::secret::Secret;

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    base: String,
    key: Secret,
    timeout: Duration,
}

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

#[derive(Deserialize)]
struct ErrorBody {
    error: Option<serde_json::Value>,
    code: Option<serde_json::Value>,
}

fn as_text(v: Option<serde_json::Value>) -> Option<String> {
    match v? {
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Null => None,
        other => Some(other.to_string()),
    }
}

impl ApiClient {
    pub fn new(base: &str, key: Secret, timeout: Duration) -> reqwest::Result<Self> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("pilotwatch/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .timeout(timeout)
            .build()?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            key,
            timeout,
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// The key, masked, for the header.
    pub fn key_masked(&self) -> String {
        self.key.masked()
    }

    pub async fn send(&self, req: &SendRequest) -> Result<Accepted, ApiError> {
        // Marked sensitive, so no debug output of the request can show it.
        let mut key = reqwest::header::HeaderValue::from_str(self.key.expose()).map_err(|_| {
            ApiError::Other {
                detail: "the API key is not a valid header value".into(),
            }
        })?;
        key.set_sensitive(true);
        let mut builder = self
            .http
            .post(format!("{}/v1/messages/send", self.base))
            .header("x-api-key", key)
            .header("idempotency-key", &req.idempotency_key)
            .json(&req.body);
        if let Some(n) = &req.number_id {
            builder = builder.header("x-whatsapp-number-id", n);
        }
        let res = builder.send().await.map_err(|e| self.transport_error(e))?;
        let status = res.status().as_u16();
        let replayed = res
            .headers()
            .get("idempotent-replayed")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"));
        let retry_after = res
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = res.bytes().await.map_err(|e| self.transport_error(e))?;
        if (200..300).contains(&status) {
            // Any 2xx means the provider took it: read the answer leniently, so an odd body
            // never turns a sent message into a "failure" someone would retry.
            let v: serde_json::Value =
                serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
            let mut accepted = Accepted::lenient(&v);
            accepted.replayed = replayed;
            return Ok(accepted);
        }
        // A provider that quotes the key back in an error must not make us print it.
        let redact = |s: String| s.replace(self.key.expose(), &self.key.masked());
        let (error, code) = match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(b) => (as_text(b.error), as_text(b.code)),
            Err(_) => (
                Some(String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned())
                    .filter(|s| !s.is_empty()),
                None,
            ),
        };
        Err(ApiError::Status {
            status,
            error: error.map(redact),
            code: code.map(redact),
            retry_after,
        })
    }

    fn transport_error(&self, e: reqwest::Error) -> ApiError {
        // reqwest's messages name the URL, never the headers: no key leaks here.
        if e.is_timeout() {
            ApiError::Timeout {
                seconds: self.timeout.as_secs().max(1),
            }
        } else if e.is_connect() {
            ApiError::Connect {
                detail: error_chain(&e),
            }
        } else {
            ApiError::Other {
                detail: error_chain(&e),
            }
        }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

/// A fresh idempotency key: unique per composed message, reused for its retries.
pub fn new_idempotency_key() -> String {
    format!("pw-{}", uuid::Uuid::new_v4().simple())
}
