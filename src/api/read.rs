//! The provider's read endpoints (`GET`, same `x-api-key`): numbers and their status, a
//! message's delivery status, webhooks and their delivery logs. Answers are read
//! leniently into the journaled shapes of [`crate::model::provider`]; errors keep what
//! the reconciler needs to be polite (the status, the `code`, `Retry-After`).

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{ApiClient, ApiError, ErrorBody, as_text};
use crate::model::provider::{ApiMessage, ApiNumber, ApiNumberStatus, Attempt};

/// A webhook the key can see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: String,
    pub name: Option<String>,
}

fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A time, if it is one a provider could mean: far-off years would overflow the
/// arithmetic done with them (a window's end, a matching slack).
fn time(v: &Value, key: &str) -> Option<DateTime<Utc>> {
    use chrono::Datelike;
    let t: DateTime<Utc> = chrono::DateTime::parse_from_rfc3339(&text(v, key)?)
        .ok()?
        .with_timezone(&Utc);
    (2000..=2200).contains(&t.year()).then_some(t)
}

/// A list answer: the array itself, or the first array under a usual key.
fn list(v: &Value) -> Vec<Value> {
    if let Some(a) = v.as_array() {
        return a.clone();
    }
    [
        "data", "numbers", "webhooks", "logs", "messages", "items", "results",
    ]
    .iter()
    .find_map(|k| v.get(*k).and_then(Value::as_array).cloned())
    .unwrap_or_default()
}

impl ApiClient {
    /// `GET path`: the JSON of a 2xx, or the error.
    pub async fn get(&self, path: &str) -> Result<Value, ApiError> {
        let mut key = reqwest::header::HeaderValue::from_str(self.key.expose()).map_err(|_| {
            ApiError::Other {
                detail: "the API key is not a valid header value".into(),
            }
        })?;
        key.set_sensitive(true);
        let res = self
            .http
            .get(format!("{}{path}", self.base))
            .header("x-api-key", key)
            .send()
            .await
            .map_err(|e| self.transport_error(e))?;
        let status = res.status().as_u16();
        let retry_after = res
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = res.bytes().await.map_err(|e| self.transport_error(e))?;
        if (200..300).contains(&status) {
            return serde_json::from_slice(&bytes).map_err(|e| ApiError::BadAnswer {
                status,
                detail: e.to_string(),
            });
        }
        let redact = |s: String| s.replace(self.key.expose(), &self.key.masked());
        let (error, code) = match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(b) => (as_text(b.error), as_text(b.code)),
            Err(_) => (None, None),
        };
        Err(ApiError::Status {
            status,
            error: error.map(redact),
            code: code.map(redact),
            retry_after,
        })
    }

    /// `GET /v1/numbers`.
    pub async fn numbers(&self) -> Result<Vec<ApiNumber>, ApiError> {
        let v = self.get("/v1/numbers").await?;
        Ok(list(&v)
            .iter()
            .filter_map(|n| {
                Some(ApiNumber {
                    id: text(n, "id")?,
                    number: text(n, "number"),
                    name: text(n, "name").or_else(|| text(n, "instanceName")),
                    is_fully_connected: n.get("isFullyConnected").and_then(Value::as_bool),
                    // Present (whatever its value) on Meta Cloud API numbers only.
                    meta: n.get("coexistence").is_some(),
                    extra_charge_unpaid_since: text(n, "extraChargeUnpaidSince"),
                })
            })
            .collect())
    }

    /// `GET /v1/numbers/{id}/status`.
    pub async fn number_status(&self, id: &str) -> Result<ApiNumberStatus, ApiError> {
        let v = self
            .get(&format!("/v1/numbers/{}/status", segment(id)))
            .await?;
        Ok(ApiNumberStatus {
            id: id.to_owned(),
            state: text(&v, "state").unwrap_or_else(|| "unknown".into()),
            stale: v.get("stale").and_then(Value::as_bool).unwrap_or(false),
            checked_at: time(&v, "checkedAt"),
            last_known_at: time(&v, "lastKnownAt"),
        })
    }

    /// `GET /v1/messages/{id}`.
    pub async fn message(&self, id: &str) -> Result<ApiMessage, ApiError> {
        let v = self.get(&format!("/v1/messages/{}", segment(id))).await?;
        Ok(ApiMessage {
            id: id.to_owned(),
            status: text(&v, "status").unwrap_or_else(|| "UNKNOWN".into()),
            sent_at: time(&v, "sentAt"),
            delivered_at: time(&v, "deliveredAt"),
            read_at: time(&v, "readAt"),
            error_code: text(&v, "errorCode"),
            error_message: text(&v, "errorMessage"),
        })
    }

    /// `GET /v1/webhooks`.
    pub async fn webhooks(&self) -> Result<Vec<Webhook>, ApiError> {
        let v = self.get("/v1/webhooks").await?;
        Ok(list(&v)
            .iter()
            .filter_map(|w| {
                Some(Webhook {
                    id: text(w, "id")?,
                    name: text(w, "name"),
                })
            })
            .collect())
    }

    /// `GET /v1/webhooks/{id}/logs?limit=N`: the attempts with their payloads (the
    /// identity and the match are the reconciler's to fill in).
    pub async fn webhook_logs(
        &self,
        id: &str,
        limit: u32,
    ) -> Result<Vec<(Attempt, Option<Value>)>, ApiError> {
        let path = format!(
            "/v1/webhooks/{}/logs?limit={}",
            segment(id),
            limit.clamp(1, 50)
        );
        let v = self.get(&path).await?;
        Ok(list(&v)
            .iter()
            .filter_map(|a| {
                let created_at = time(a, "createdAt")?;
                let event = text(a, "event").unwrap_or_default();
                let id = text(a, "id")
                    .unwrap_or_else(|| format!("{}-{event}", created_at.timestamp_millis()));
                let response = match a.get("response") {
                    Some(Value::String(s)) => s.chars().take(200).collect(),
                    Some(Value::Null) | None => String::new(),
                    Some(other) => other.to_string().chars().take(200).collect(),
                };
                let attempt = Attempt {
                    id,
                    event,
                    status: text(a, "status").unwrap_or_default(),
                    status_code: a
                        .get("statusCode")
                        .and_then(Value::as_u64)
                        .and_then(|c| u16::try_from(c).ok()),
                    response,
                    duration_ms: a.get("durationMs").and_then(Value::as_u64),
                    created_at,
                    identity: None,
                    matched: None,
                };
                Some((attempt, a.get("payload").cloned()))
            })
            .collect())
    }
}

/// An id as one path segment: anything but unreserved characters percent-encoded. `.`
/// and `..` would be resolved as dot-segments however encoded: sent as `_`.
fn segment(id: &str) -> String {
    if id.is_empty() || id.bytes().all(|b| b == b'.') {
        return "_".into();
    }
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_id_cannot_leave_its_path_segment() {
        assert_eq!(super::segment("cm1_a-b.c~"), "cm1_a-b.c~");
        assert_eq!(super::segment("../x?y=1#z"), "..%2Fx%3Fy%3D1%23z");
        assert_eq!(super::segment(".."), "_");
        assert_eq!(super::segment("."), "_");
    }
}

/// One page of `GET /v1/messages/history` (number-scoped key): the messages, newest
/// first, and how many pages there are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryPage {
    pub messages: Vec<crate::model::provider::HistoryMessage>,
    pub page: u32,
    pub total_pages: u32,
}

impl ApiClient {
    /// `GET /v1/messages/history?startDate&endDate&page&pageSize`.
    pub async fn history(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        page: u32,
        page_size: u32,
    ) -> Result<HistoryPage, ApiError> {
        let fmt = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let path = format!(
            "/v1/messages/history?startDate={}&endDate={}&page={}&pageSize={}",
            fmt(start),
            fmt(end),
            page.max(1),
            page_size.clamp(1, 100)
        );
        let v = self.get(&path).await?;
        let messages = list(&v)
            .iter()
            .filter_map(|m| {
                Some(crate::model::provider::HistoryMessage {
                    id: text(m, "id")?,
                    direction: text(m, "direction").unwrap_or_default(),
                    external_message_id: text(m, "externalMessageId"),
                    status: text(m, "status"),
                    message_type: text(m, "messageType"),
                    text: text(m, "text"),
                    participant_name: text(m, "participantName"),
                    participant_phone: text(m, "participantPhone"),
                    replied_to_external_id: text(m, "repliedToExternalId"),
                    sent_at: time(m, "sentAt"),
                    delivered_at: time(m, "deliveredAt"),
                    read_at: time(m, "readAt"),
                    redacted: m.get("redacted").and_then(Value::as_bool).unwrap_or(false),
                })
            })
            .collect();
        let num = |k: &str| v.get(k).and_then(Value::as_u64).map(|n| n as u32);
        Ok(HistoryPage {
            messages,
            page: num("page").unwrap_or(page),
            total_pages: num("totalPages").unwrap_or(1),
        })
    }
}
