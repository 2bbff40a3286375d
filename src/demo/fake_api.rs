//! A stand-in for the provider's REST API on a loopback port: it records every request,
//! answers what it is told to (202 by default, any error status, a slow answer), keeps
//! the provider's idempotency rules, and can play the provider's part afterwards by
//! POSTing the `message.sent/delivered/read` webhooks of what it accepted to a receiver.
//! The tests drive replies against it; demo mode answers replies with it.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;
use serde_json::{Value, json};

use crate::signature::sign;

/// What the fake answers to the next send.
#[derive(Debug, Clone)]
pub enum Answer {
    /// 202 with a fresh id.
    Accept,
    /// Any status with this JSON body (and optionally `Retry-After`).
    Status(u16, Value, Option<String>),
    /// Wait, then answer.
    Slow(Duration, Box<Answer>),
}

/// A request as the fake saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// Where to send the webhooks of accepted messages, and how to sign them.
#[derive(Debug, Clone)]
pub struct Webhooks {
    pub url: String,
    pub secret: Option<String>,
    /// Delays before `message.sent`, `.delivered` and `.read`.
    pub delays: [Duration; 3],
}

#[derive(Debug, Default)]
struct FakeState {
    seen: Vec<Seen>,
    script: VecDeque<Answer>,
    /// Idempotency-Key → (body, first answer).
    keys: HashMap<String, (Bytes, Response202)>,
    next_id: u64,
    webhooks: Option<Webhooks>,
}

#[derive(Debug, Clone)]
struct Response202(Value);

#[derive(Debug, Clone)]
pub struct FakeApi {
    pub addr: SocketAddr,
    state: Arc<Mutex<FakeState>>,
}

impl FakeApi {
    /// Listen on `127.0.0.1:0` and serve until the runtime ends.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_on("127.0.0.1:0".parse().expect("valid")).await
    }

    pub async fn start_on(addr: SocketAddr) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(FakeState::default()));
        let app = Router::new().fallback(handle).with_state(state.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, state })
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Queue an answer for the next request (without one: 202).
    pub fn answer(&self, answer: Answer) {
        self.state.lock().script.push_back(answer);
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().seen.clone()
    }

    pub fn send_webhooks(&self, webhooks: Webhooks) {
        self.state.lock().webhooks = Some(webhooks);
    }
}

async fn handle(State(state): State<Arc<Mutex<FakeState>>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let seen = Seen {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        headers: parts.headers,
        body,
    };
    let answer = {
        let mut s = state.lock();
        s.seen.push(seen.clone());
        s.script.pop_front().unwrap_or(Answer::Accept)
    };
    if seen.method != "POST" || seen.path != "/v1/messages/send" {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"error": "Not found", "code": "NOT_FOUND"})),
        )
            .into_response();
    }
    respond(&state, &seen, answer).await
}

async fn respond(state: &Arc<Mutex<FakeState>>, seen: &Seen, mut answer: Answer) -> Response {
    while let Answer::Slow(wait, next) = answer {
        tokio::time::sleep(wait).await;
        answer = *next;
    }
    if seen.header("x-api-key").is_none_or(str::is_empty) {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"error": "Missing API key", "code": "UNAUTHORIZED"})),
        )
            .into_response();
    }
    let key = seen.header("idempotency-key").map(str::to_owned);
    if let Some(k) = &key
        && let Some((body, first)) = state.lock().keys.get(k).cloned()
    {
        if body == seen.body {
            let mut res = (StatusCode::ACCEPTED, axum::Json(first.0)).into_response();
            res.headers_mut()
                .insert("idempotent-replayed", "true".parse().expect("valid"));
            return res;
        }
        let err = json!({"error": "Idempotency-Key reused with a different body", "code": "IDEMPOTENCY_KEY_REUSED"});
        return (StatusCode::CONFLICT, axum::Json(err)).into_response();
    }
    match answer {
        Answer::Status(code, body, retry_after) => {
            let mut res = (
                StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                axum::Json(body),
            )
                .into_response();
            if let Some(r) = retry_after.and_then(|r| r.parse().ok()) {
                res.headers_mut().insert("retry-after", r);
            }
            res
        }
        Answer::Accept | Answer::Slow(..) => {
            let (accepted, webhooks) = {
                let mut s = state.lock();
                s.next_id += 1;
                let id = format!("msg_fake_{:04}", s.next_id);
                let accepted = json!({
                    "id": id,
                    "correlationId": format!("corr_fake_{:04}", s.next_id),
                    "status": "QUEUED",
                    "createdAt": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    "origin": "api",
                    "sourceNumber": seen.header("x-whatsapp-number-id"),
                });
                if let Some(k) = key {
                    s.keys
                        .insert(k, (seen.body.clone(), Response202(accepted.clone())));
                }
                (accepted, s.webhooks.clone())
            };
            if let Some(w) = webhooks {
                tokio::spawn(play_provider(
                    w,
                    accepted.clone(),
                    seen.json(),
                    seen.header("x-whatsapp-number-id").map(str::to_owned),
                ));
            }
            (StatusCode::ACCEPTED, axum::Json(accepted)).into_response()
        }
    }
}

/// After a 202, the provider's webhooks for that message: sent, delivered, read.
async fn play_provider(w: Webhooks, accepted: Value, body: Value, number_id: Option<String>) {
    let http = reqwest::Client::new();
    let id = accepted["id"].as_str().unwrap_or_default().to_owned();
    for (i, event) in ["message.sent", "message.delivered", "message.read"]
        .into_iter()
        .enumerate()
    {
        tokio::time::sleep(w.delays[i]).await;
        let mut data = json!({
            "numberId": number_id.clone().unwrap_or_else(|| "fake_number".into()),
            "messageId": format!("wamid.{id}"),
            "id": id,
            "type": "text",
            "fromMe": true,
            "content": body["text"],
            "correlationId": accepted["correlationId"],
            "createdAt": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        });
        match (body["destinationNumber"].as_str(), body["groupId"].as_str()) {
            (Some(to), _) => data["to"] = json!(to),
            (None, Some(group)) => data["to"] = json!(group),
            _ => data["to"] = json!("unknown"),
        }
        let payload =
            serde_json::to_vec(&json!({"event": event, "data": data})).expect("serialisable");
        let mut req = http.post(&w.url).header("content-type", "application/json");
        if let Some(secret) = &w.secret {
            req = req.header("x-pilot-status-signature", sign(secret, &payload));
        }
        if req.body(payload).send().await.is_err() {
            return;
        }
    }
}
