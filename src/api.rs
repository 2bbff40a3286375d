//! The provider's REST API, as far as pilotwatch uses it: `POST /v1/messages/send`, and
//! the read endpoints the reconciler compares the journal with ([`read`]).
//!
//! The key goes in `x-api-key` and nowhere else (never logged, never in an error). A send
//! carries an `Idempotency-Key` chosen once per composed message: retrying with the same
//! key and body cannot send twice (the provider replays its first answer).

mod read;

use std::time::Duration;

use serde::Deserialize;

use crate::secret::Secret;

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    base: String,
    key: Secret,
    timeout: Duration,
}

pub use crate::model::send::{Accepted, ApiError, SendBody, SendRequest};
pub use read::{HistoryPage, Webhook};

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
