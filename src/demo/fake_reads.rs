//! The fake provider's read endpoints: `GET /v1/numbers`, `/v1/numbers/{id}/status`,
//! `/v1/messages/{id}`, `/v1/webhooks` and `/v1/webhooks/{id}/logs`, answering from a
//! scripted state ([`Provider`]) that tests set and the fake itself keeps up to date
//! (what it accepted, what it delivered, each webhook attempt it made). The key's scope
//! is emulated; scripted answers (429, 5xx, slow, 401) apply to reads only.

use std::collections::{HashMap, VecDeque};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::fake_api::{Answer, Seen};

/// The webhook the fake logs its own attempts under.
pub const WEBHOOK_ID: &str = "wh_fake";
/// Attempts the fake remembers (the provider keeps a recent window too).
const LOG_KEEP: usize = 500;

/// What a key may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    /// Number-scoped: messages, not the numbers list.
    #[default]
    Number,
    /// Tenant-scoped: numbers, not messages.
    Tenant,
    /// Both (as two keys would).
    Both,
}

/// The provider's side, as the fake tells it.
#[derive(Debug, Default)]
pub struct Provider {
    pub scope: Scope,
    /// `GET /v1/numbers` items.
    pub numbers: Vec<Value>,
    /// Number id → its status answer.
    pub statuses: HashMap<String, Value>,
    /// Message id → its answer.
    pub messages: HashMap<String, Value>,
    /// Webhook id → attempts, oldest first.
    pub logs: HashMap<String, Vec<Value>>,
    /// Attempts logged so far: each one's id is unique, also once old ones are
    /// dropped.
    logged: u64,
    /// `GET /v1/messages/history` items, newest first.
    pub history: Vec<Value>,
    /// Scripted answers for the next reads.
    pub reads: VecDeque<Answer>,
}

impl Provider {
    /// An attempt the fake made (or says it made) to deliver `payload`.
    pub fn log(&mut self, event: &str, payload: Value, status_code: Option<u16>, response: &str) {
        self.logged += 1;
        let logs = self.logs.entry(WEBHOOK_ID.into()).or_default();
        let ok = status_code.is_some_and(|c| (200..300).contains(&c));
        logs.push(json!({
            "id": format!("log_{:05}", self.logged),
            "event": event,
            "status": if ok { "SUCCESS" } else { "FAILED" },
            "statusCode": status_code,
            "payload": payload,
            "response": response,
            "durationMs": 12,
            "createdAt": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        }));
        if logs.len() > LOG_KEEP {
            logs.drain(..logs.len() - LOG_KEEP);
        }
    }

    /// Move a message's status (and its step's time) along.
    pub fn message_status(&mut self, id: &str, status: &str) {
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let m = self
            .messages
            .entry(id.to_owned())
            .or_insert_with(|| json!({"id": id, "status": "QUEUED", "createdAt": now}));
        m["status"] = json!(status);
        let field = match status {
            "SENT" => "sentAt",
            "DELIVERED" => "deliveredAt",
            "READ" => "readAt",
            _ => return,
        };
        m[field] = json!(now);
    }
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({"error": "Not found", "code": "NOT_FOUND"})),
    )
        .into_response()
}

fn forbidden(what: &str) -> Response {
    (
        StatusCode::FORBIDDEN,
        axum::Json(json!({"error": format!("This key cannot {what}"), "code": "FORBIDDEN"})),
    )
        .into_response()
}

/// Answer a `GET`; `None` when the path is not one of the read endpoints.
pub fn read(p: &mut Provider, seen: &Seen, query: Option<&str>) -> Result<Response, Answer> {
    if let Some(a) = p.reads.pop_front() {
        return Err(a);
    }
    let parts: Vec<&str> = seen.path.trim_matches('/').split('/').collect();
    let answer = match parts.as_slice() {
        ["v1", "numbers"] if p.scope == Scope::Number => forbidden("list numbers"),
        ["v1", "numbers"] => axum::Json(json!(p.numbers)).into_response(),
        ["v1", "numbers", _, "status"] if p.scope == Scope::Number => {
            forbidden("read number status")
        }
        ["v1", "numbers", id, "status"] => match p.statuses.get(*id) {
            Some(s) => axum::Json(s.clone()).into_response(),
            None => not_found(),
        },
        ["v1", "messages", "history"] if p.scope == Scope::Tenant => (
            StatusCode::BAD_REQUEST,
            axum::Json(
                json!({"error": "history needs a number-scoped key", "code": "BAD_REQUEST"}),
            ),
        )
            .into_response(),
        ["v1", "messages", "history"] => {
            let arg = |k: &str| {
                query
                    .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix(k)))
                    .and_then(|n| n.parse::<usize>().ok())
            };
            let size = arg("pageSize=").unwrap_or(30).clamp(1, 100);
            let page = arg("page=").unwrap_or(1).max(1);
            let total = p.history.len();
            let items: Vec<&Value> = p
                .history
                .iter()
                .skip((page - 1) * size)
                .take(size)
                .collect();
            axum::Json(json!({
                "messages": items, "total": total, "page": page, "pageSize": size,
                "totalPages": total.div_ceil(size).max(1),
            }))
            .into_response()
        }
        ["v1", "messages", _] if p.scope == Scope::Tenant => forbidden("read messages"),
        ["v1", "messages", id] => match p.messages.get(*id) {
            Some(m) => axum::Json(m.clone()).into_response(),
            None => not_found(),
        },
        ["v1", "webhooks"] => {
            let hooks: Vec<Value> = p
                .logs
                .keys()
                .map(|id| json!({"id": id, "name": "pilotwatch", "active": true}))
                .collect();
            axum::Json(json!(hooks)).into_response()
        }
        ["v1", "webhooks", id, "logs"] => {
            let limit = query
                .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("limit=")))
                .and_then(|n| n.parse::<usize>().ok())
                .unwrap_or(50)
                .clamp(1, 50);
            match p.logs.get(*id) {
                // Newest first, as the provider lists them.
                Some(l) => axum::Json(json!(l.iter().rev().take(limit).collect::<Vec<_>>()))
                    .into_response(),
                None => not_found(),
            }
        }
        _ => not_found(),
    };
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The log keeps its newest attempts; their ids stay unique past that (a repeated
    /// id reads as one already journaled, and the reconciler would skip it).
    #[test]
    fn attempt_ids_stay_unique_once_old_ones_are_dropped() {
        let mut p = Provider::default();
        for _ in 0..LOG_KEEP + 10 {
            p.log("message.sent", json!({}), Some(200), "");
        }
        let logs = &p.logs[WEBHOOK_ID];
        assert_eq!(logs.len(), LOG_KEEP);
        let ids: std::collections::HashSet<&str> =
            logs.iter().filter_map(|l| l["id"].as_str()).collect();
        assert_eq!(ids.len(), LOG_KEEP);
        assert_eq!(
            logs[LOG_KEEP - 1]["id"],
            format!("log_{:05}", LOG_KEEP + 10)
        );
    }
}
