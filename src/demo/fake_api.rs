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
    /// When it arrived.
    pub at: std::time::Instant,
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
    /// The read endpoints' side of things.
    provider: super::fake_reads::Provider,
    /// Sends whose delivered/read webhooks are never posted (the provider still says
    /// they were delivered, and logs the attempts): how many more to lose.
    lose: u32,
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

    /// The sends among them (`POST /v1/messages/send`): a service with a key also reads.
    pub fn sends(&self) -> Vec<Seen> {
        let s = self.state.lock();
        s.seen
            .iter()
            .filter(|r| r.method == "POST" && r.path == "/v1/messages/send")
            .cloned()
            .collect()
    }

    pub fn send_webhooks(&self, webhooks: Webhooks) {
        self.state.lock().webhooks = Some(webhooks);
    }

    /// Read or script the provider's side (numbers, statuses, messages, logs, scope).
    pub fn provider<R>(&self, f: impl FnOnce(&mut super::fake_reads::Provider) -> R) -> R {
        f(&mut self.state.lock().provider)
    }

    /// The next `n` sends lose their delivered and read webhooks on the way: the
    /// provider's API and log still say they were delivered.
    pub fn lose_webhooks(&self, n: u32) {
        self.state.lock().lose += n;
    }
}

async fn handle(State(state): State<Arc<Mutex<FakeState>>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let query = parts.uri.query().map(str::to_owned);
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let seen = Seen {
        at: std::time::Instant::now(),
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        headers: parts.headers,
        body,
    };
    let answer = {
        let mut s = state.lock();
        s.seen.push(seen.clone());
        if seen.method == "GET" {
            // Reads have their own script ([`super::fake_reads::Provider::reads`]).
            Answer::Accept
        } else {
            s.script.pop_front().unwrap_or(Answer::Accept)
        }
    };
    if seen.method == "GET" {
        return reads(&state, &seen, query.as_deref()).await;
    }
    if seen.method != "POST" || seen.path != "/v1/messages/send" {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"error": "Not found", "code": "NOT_FOUND"})),
        )
            .into_response();
    }
    respond(&state, &seen, answer).await
}

/// A read: the scripted answer if one is queued, else the provider's state.
async fn reads(state: &Arc<Mutex<FakeState>>, seen: &Seen, query: Option<&str>) -> Response {
    if seen.header("x-api-key").is_none_or(str::is_empty) {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"error": "Missing API key", "code": "UNAUTHORIZED"})),
        )
            .into_response();
    }
    let mut scripted = match super::fake_reads::read(&mut state.lock().provider, seen, query) {
        Ok(res) => return res,
        Err(answer) => answer,
    };
    loop {
        match scripted {
            Answer::Slow(wait, next) => {
                tokio::time::sleep(wait).await;
                scripted = *next;
            }
            Answer::Status(code, body, retry_after) => {
                let mut res = (
                    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                    axum::Json(body),
                )
                    .into_response();
                if let Some(r) = retry_after.and_then(|r| r.parse().ok()) {
                    res.headers_mut().insert("retry-after", r);
                }
                return res;
            }
            Answer::Accept => {
                let mut s = state.lock();
                let mut provider = std::mem::take(&mut s.provider);
                let res = super::fake_reads::read(&mut provider, seen, query);
                s.provider = provider;
                return res.unwrap_or_else(|_| StatusCode::SERVICE_UNAVAILABLE.into_response());
            }
        }
    }
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
            let (accepted, webhooks, lose) = {
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
                let id = accepted["id"].as_str().unwrap_or_default().to_owned();
                s.provider.message_status(&id, "QUEUED");
                let lose = s.lose > 0;
                s.lose = s.lose.saturating_sub(1);
                (accepted, s.webhooks.clone(), lose)
            };
            if let Some(w) = webhooks {
                tokio::spawn(play_provider(
                    state.clone(),
                    w,
                    accepted.clone(),
                    seen.json(),
                    seen.header("x-whatsapp-number-id").map(str::to_owned),
                    lose,
                ));
            }
            (StatusCode::ACCEPTED, axum::Json(accepted)).into_response()
        }
    }
}

/// After a 202, the provider's webhooks for that message: sent, delivered, read, each
/// logged as the provider would; `lose`: delivered and read never reach the receiver.
async fn play_provider(
    state: Arc<Mutex<FakeState>>,
    w: Webhooks,
    accepted: Value,
    body: Value,
    number_id: Option<String>,
    lose: bool,
) {
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
        let value = json!({"event": event, "data": data});
        let payload = serde_json::to_vec(&value).expect("serialisable");
        let status = ["SENT", "DELIVERED", "READ"][i];
        if lose && i > 0 {
            // Lost on the way (a proxy answered for us): the provider logs a success.
            let mut s = state.lock();
            s.provider.message_status(&id, status);
            s.provider.log(event, value, Some(200), "ok");
            continue;
        }
        let mut req = http.post(&w.url).header("content-type", "application/json");
        if let Some(secret) = &w.secret {
            req = req.header("x-pilot-status-signature", sign(secret, &payload));
        }
        let answer = req.body(payload).send().await;
        let mut s = state.lock();
        s.provider.message_status(&id, status);
        match answer {
            Ok(res) => s
                .provider
                .log(event, value, Some(res.status().as_u16()), ""),
            Err(_) => {
                s.provider.log(event, value, None, "connection refused");
                return;
            }
        }
    }
}
