//! The webhook endpoint: `POST` on any path (or only `--path`), signature check, body
//! limit, parse, then the durable hand-off to [`Ingest`]. Every request that reaches a
//! handler is recorded, accepted or not; the 2xx goes out only once the delivery is in
//! the journal.

pub mod server;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Utc;
use http_body_util::BodyExt;
use serde_json::json;

use crate::ingest::{Incoming, Ingest, IngestError};
use crate::model::{self, Verdict};
use crate::record::{Record, SignatureCheck};
use crate::secret::Secret;
use crate::signature;

/// How much of a refused body (bad signature, too large) is kept: enough to see what it
/// was, not enough to let a stranger fill the disk.
pub const REJECTED_KEEP: usize = 4 * 1024;
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;

#[derive(Debug, Clone)]
pub struct ReceiverConfig {
    /// Only this path takes deliveries (`None`: any path).
    pub path: Option<String>,
    pub max_body: usize,
    /// A body must be complete this long after its headers (a body dribbled a byte a
    /// second is cut off, answered 408 and recorded as rejected).
    pub body_timeout: std::time::Duration,
    /// The current secret and, during a rotation, the previous one.
    pub secrets: Vec<Secret>,
    /// `--respond`: answer accepted deliveries with this status, after this delay (once
    /// they are durable), to watch how the provider retries.
    pub respond: Option<(StatusCode, std::time::Duration)>,
}

/// What the receiver's handlers share: the sequencer they hand deliveries to, their
/// limits and secrets, and the counters `/healthz` reports.
#[derive(Debug)]
pub struct ReceiverState {
    pub ingest: Arc<Ingest>,
    pub config: ReceiverConfig,
    pub started: Instant,
    /// Open and refused connections, handler panics: kept by the server loop.
    pub server: Arc<server::ServerStats>,
    /// Attached dashboards: kept by the attach endpoint.
    pub attach: Arc<crate::attach::server::AttachStats>,
    /// Bytes of bodies being read right now, all connections together.
    pub bodies: BodyBudget,
    /// `--nats`: what the outbox has published (`None`: no NATS).
    pub outbox: Option<(Arc<crate::outbox::OutboxStats>, String)>,
}

/// Bytes of request bodies held right now, across every connection and HTTP/2 stream:
/// many slow bodies from strangers cannot take more memory than `max`. A body that
/// would go past it is answered 503 + `Retry-After` (the provider retries).
#[derive(Debug)]
pub struct BodyBudget {
    used: std::sync::atomic::AtomicUsize,
    max: usize,
    /// Bodies refused for it.
    pub refused: std::sync::atomic::AtomicU64,
}

impl BodyBudget {
    /// The default: room for a good many full bodies at once, bounded.
    pub const DEFAULT: usize = 32 << 20;

    pub fn new(max: usize) -> Self {
        Self {
            used: Default::default(),
            max,
            refused: Default::default(),
        }
    }

    /// Take `n` bytes more for `held`, if the budget has them.
    fn take(&self, held: &mut Held<'_>, n: usize) -> bool {
        let taken = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
                (u + n <= self.max).then_some(u + n)
            })
            .is_ok();
        if taken {
            held.bytes += n;
        } else {
            self.refused.fetch_add(1, Ordering::Relaxed);
        }
        taken
    }
}

impl Default for BodyBudget {
    fn default() -> Self {
        Self::new(Self::DEFAULT)
    }
}

/// A body's share of the budget, given back when the delivery has been handed over.
struct Held<'a> {
    budget: &'a BodyBudget,
    bytes: usize,
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.budget.used.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

pub fn router(state: Arc<ReceiverState>) -> Router {
    router_with(state, true)
}

/// The receiver's routes, `/metrics` among them unless `metrics` is false (it is served
/// on `--metrics-listen` instead). Like `/healthz`, it answers whatever `--path` says,
/// and only to GET: it is never taken for a delivery.
pub fn router_with(state: Arc<ReceiverState>, metrics: bool) -> Router {
    let routes = Router::new().route("/healthz", get(healthz));
    let routes = if metrics {
        routes.route(crate::metrics::PATH, get(crate::metrics::scrape))
    } else {
        routes
    };
    routes.fallback(deliver).with_state(state)
}

async fn healthz(State(state): State<Arc<ReceiverState>>) -> Response {
    // Counts that include every delivery acknowledged before this request, but never a
    // health check held for long (the store pauses while it writes a large snapshot).
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), state.ingest.settled()).await;
    let (last_seq, total, fleet, alerts) = {
        let store = state.ingest.store().read();
        let alerts: Vec<serde_json::Value> = store
            .alerts()
            .active()
            .iter()
            .take(Fleet::LIST)
            .map(|r| {
                json!({
                    "name": r.alert.name,
                    "state": r.alert.state.as_str(),
                    "number": r.alert.number,
                    "summary": r.alert.summary,
                })
            })
            .collect();
        let firing = store.alerts().firing();
        let fleet = fleet(&store);
        (
            store.last_seq(),
            store.counters().total,
            fleet,
            (firing, alerts),
        )
    };
    let failure = state.ingest.failure();
    let body = json!({
        "status": if failure.is_some() { "failing" } else { "ok" },
        "reason": failure,
        "journal": state.ingest.journal_path().map(|p| p.display().to_string()),
        "signatures": if state.config.secrets.is_empty() { "unchecked" } else { "checked" },
        "lastSeq": last_seq,
        "deliveries": total,
        "uptimeSeconds": state.started.elapsed().as_secs(),
        "connections": state.server.open.load(Ordering::Relaxed),
        "refusedConnections": state.server.refused.load(Ordering::Relaxed),
        "panics": state.server.panics.load(Ordering::Relaxed),
        "idleClosed": state.server.idle_closed.load(Ordering::Relaxed),
        "malformedRequests": state.server.malformed.load(Ordering::Relaxed),
        "bodiesRefused": state.bodies.refused.load(Ordering::Relaxed),
        // What the deliveries say, beside the receiver's own health (`status`): a
        // disconnected number is the fleet's trouble, not the receiver's.
        "lastDeliveryAgeSeconds": fleet.last_delivery_age,
        "numbers": {
            "seen": fleet.seen,
            "notConnected": fleet.not_connected,
        },
        // The alerts the service raised: firing first (a firing alert is the fleet's
        // trouble too, so it does not fail `status`).
        "alerts": {
            "firing": alerts.0,
            "active": alerts.1,
        },
        "nats": state.outbox.as_ref().map(|(o, receiver)| json!({
            "receiver": receiver,
            "connected": o.connected.load(Ordering::Relaxed),
            "backlog": o.backlog(*state.ingest.watch().borrow()),
            "confirmedSeq": o.confirmed.load(Ordering::Relaxed),
            "published": o.published.load(Ordering::Relaxed),
            "duplicates": o.duplicates.load(Ordering::Relaxed),
            "problem": o.problem.lock().clone(),
        })),
        "attach": {
            "clients": state.attach.clients.load(Ordering::Relaxed),
            "dropped": state.attach.dropped.load(Ordering::Relaxed),
            "refused": state.attach.refused.load(Ordering::Relaxed),
        },
    });
    let code = if failure.is_some() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (code, axum::Json(body)).into_response()
}

/// The fleet as `/healthz` reports it.
struct Fleet {
    /// Seconds since the newest delivery that was not refused (`None`: none yet).
    last_delivery_age: Option<i64>,
    seen: usize,
    /// Numbers the provider said are not connected (created, disconnected, restored), at
    /// most [`Fleet::LIST`] of them.
    not_connected: Vec<serde_json::Value>,
}

impl Fleet {
    const LIST: usize = 50;
}

fn fleet(store: &crate::store::Store) -> Fleet {
    let now = Utc::now();
    let last_delivery_age = store
        .feed()
        .rev()
        .find(|r| r.kind == crate::record::RecordKind::Delivery && r.verdict != Verdict::Rejected)
        .map(|r| (now - r.received_at).num_seconds().max(0));
    let not_connected = store
        .numbers()
        .iter()
        .filter(|n| n.state.is_down())
        .take(Fleet::LIST)
        .map(|n| {
            json!({
                "numberId": &*n.number_id,
                "name": n.display_name.as_deref().or(n.phone.as_deref()),
                "state": n.state.as_str(),
                "sinceSeconds": n.state_at.map(|at| (now - at).num_seconds().max(0)),
            })
        })
        .collect();
    Fleet {
        last_delivery_age,
        seen: store.numbers().len(),
        not_connected,
    }
}

/// What the handler decided, before the hand-off.
struct Decision {
    status: StatusCode,
    verdict: Verdict,
    parsed: Option<model::Parsed>,
    problems: Vec<String>,
    keep: usize,
}

async fn deliver(State(state): State<Arc<ReceiverState>>, req: Request) -> Response {
    let received_at = Utc::now();
    let started = Instant::now();
    if req.method() != Method::POST {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "POST")],
            "POST webhook deliveries here\n",
        )
            .into_response();
    }
    if let Some(why) = state.ingest.failure() {
        return unavailable(&why);
    }
    let remote = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let (parts, body) = req.into_parts();
    let cfg = &state.config;
    let full_path = parts.uri.path();
    let wrong_path = cfg.path.as_deref().is_some_and(|p| p != full_path);
    // The query string is not recorded: people put tokens in webhook URLs.
    let path = crate::record::intern(&kept_path(full_path));
    let mut held = Held {
        budget: &state.bodies,
        bytes: 0,
    };
    let (body, body_len, refused) = read_limited(body, &parts.headers, cfg, &mut held).await;
    // A body not read whole (too large) or not meant for us is not verified.
    let signature = if wrong_path || refused.is_some() {
        SignatureCheck::Unchecked
    } else {
        let headers = parts.headers.get_all(signature::HEADER).iter();
        signature::verify(&cfg.secrets, headers.map(|v| v.as_bytes()), &body)
    };
    let d = if wrong_path {
        // The journal says why; the answer does not reveal the configured path.
        reject(
            StatusCode::NOT_FOUND,
            "path not served (--path is set)".into(),
        )
    } else if let Some((code, why)) = refused {
        reject(code, why)
    } else if matches!(signature, SignatureCheck::Invalid | SignatureCheck::Missing) {
        reject(
            StatusCode::UNAUTHORIZED,
            format!("signature {}", signature.as_str()),
        )
    } else {
        match model::parse(&body) {
            // A real delivery that is not JSON: kept whole, it may be the provider's.
            Err(e) => Decision {
                keep: usize::MAX,
                ..reject(StatusCode::BAD_REQUEST, e.0)
            },
            Ok(mut p) => Decision {
                status: StatusCode::OK,
                verdict: p.verdict,
                problems: std::mem::take(&mut p.problems),
                parsed: Some(p),
                keep: usize::MAX,
            },
        }
    };

    let (event, typed, identity) = match d.parsed {
        Some(p) => (p.name, p.event, Some(p.identity)),
        None => (None, None, None),
    };
    let kept = if body.len() > d.keep {
        body.slice(..d.keep)
    } else {
        body
    };
    // What a refused sender is told: the reason, except where it would reveal --path.
    let refusal = match d.status {
        StatusCode::OK => String::new(),
        StatusCode::NOT_FOUND => "not found\n".into(),
        _ => format!("{}\n", d.problems.join("; ")),
    };
    let record = Record {
        seq: 0,
        kind: Default::default(),
        received_at,
        path,
        remote,
        signature,
        verdict: d.verdict,
        event,
        duplicate_of: None,
        problems: d.problems.into(),
        body: kept.into(),
        body_len,
        content_type: header_text(&parts.headers, header::CONTENT_TYPE.as_str())
            .map(crate::record::intern),
        signature_header: header_text(&parts.headers, signature::HEADER).map(Into::into),
        typed,
        subject: Default::default(),
    };
    match state.ingest.submit(Incoming { record, identity }).await {
        Ok(receipt) if d.status == StatusCode::OK => {
            let body = ack_body(receipt.seq, d.verdict, receipt.duplicate_of);
            let status = match state.config.respond {
                Some((status, delay)) => {
                    tokio::time::sleep(delay).await;
                    status
                }
                None => StatusCode::OK,
            };
            if status.is_success() {
                state.ingest.timings().ack.observe(started.elapsed());
            }
            // Static: a `&str` would be copied into a new header value on every ack.
            let json = [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )];
            (status, json, body).into_response()
        }
        Ok(_) if d.status == StatusCode::SERVICE_UNAVAILABLE => {
            (d.status, [(header::RETRY_AFTER, "5")], refusal).into_response()
        }
        Ok(_) => (d.status, refusal).into_response(),
        Err(IngestError::Unavailable(why)) => unavailable(&why),
        Err(IngestError::Closed) => unavailable("shutting down"),
    }
}

/// The most of a URL path recorded: a request head may carry 64 KiB of it, and a
/// refused request must cost little (its body is cut to [`REJECTED_KEEP`]).
pub const PATH_KEEP: usize = 256;

/// The path as recorded: cut at [`PATH_KEEP`] bytes, saying how long it was.
fn kept_path(path: &str) -> std::borrow::Cow<'_, str> {
    if path.len() <= PATH_KEEP {
        return path.into();
    }
    let mut end = PATH_KEEP;
    while !path.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…({} bytes)", &path[..end], path.len()).into()
}

/// A header's value, kept for forwarding (bounded: it is a stranger's input).
fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let v = headers.get(name)?.to_str().ok()?;
    (v.len() <= 512).then_some(v)
}

fn reject(status: StatusCode, why: String) -> Decision {
    Decision {
        status,
        verdict: Verdict::Rejected,
        parsed: None,
        problems: vec![why],
        keep: REJECTED_KEEP,
    }
}

fn unavailable(why: &str) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, "30")],
        format!("not accepting deliveries: {why}\n"),
    )
        .into_response()
}

/// Read the body: at most `max_body` bytes, within `body_timeout`. Refused (too large,
/// too slow, broken off): stop reading, keep the first [`REJECTED_KEEP`] bytes, and say
/// why (a declared length over the limit is refused without reading at all). Returns
/// the bytes, the body's (known or declared) length, and the refusal, if any.
async fn read_limited(
    body: Body,
    headers: &HeaderMap,
    cfg: &ReceiverConfig,
    held: &mut Held<'_>,
) -> (Bytes, u64, Option<(StatusCode, String)>) {
    let max = cfg.max_body;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if let Some(n) = declared.filter(|n| *n > max as u64) {
        let why = format!("body of {n} bytes is over the {max}-byte limit");
        return (Bytes::new(), n, Some((StatusCode::PAYLOAD_TOO_LARGE, why)));
    }
    let deadline = tokio::time::Instant::now() + cfg.body_timeout;
    let mut body = body;
    // A declared length is a stranger's word: room grows with the bytes that come.
    let mut buf = Vec::new();
    let first = declared.unwrap_or(1024).min(64 * 1024) as usize;
    if held.budget.take(held, first) {
        buf.reserve_exact(first);
    }
    // A copy of what is kept: the buffer's whole allocation must not live on in the store.
    let refused = |buf: Vec<u8>, seen: usize, code, why| {
        let kept = Bytes::copy_from_slice(&buf[..buf.len().min(REJECTED_KEEP)]);
        (kept, seen as u64, Some((code, why)))
    };
    loop {
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Ok(Some(Ok(frame))) => frame,
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                let why = format!("body could not be read: {e}");
                return refused(buf, 0, StatusCode::BAD_REQUEST, why);
            }
            Err(_) => {
                let (secs, seen) = (cfg.body_timeout.as_secs_f32(), buf.len());
                let why = format!("body not complete after {secs:.0} s ({seen} bytes came)");
                return refused(buf, seen, StatusCode::REQUEST_TIMEOUT, why);
            }
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if buf.len() + data.len() > max {
            let seen = buf.len() + data.len();
            buf.extend_from_slice(&data[..REJECTED_KEEP.saturating_sub(buf.len()).min(data.len())]);
            let why = format!("body is over the {max}-byte limit");
            return refused(buf, seen, StatusCode::PAYLOAD_TOO_LARGE, why);
        }
        // The budget is charged for what is allocated, growth included.
        let need = buf.len() + data.len();
        if need > buf.capacity() {
            let grown = (buf.capacity() * 2).clamp(need, max);
            if !held.budget.take(held, grown - buf.capacity()) {
                let why = "too many bodies in flight; retry later".to_owned();
                return refused(buf, need, StatusCode::SERVICE_UNAVAILABLE, why);
            }
            buf.reserve_exact(grown - buf.len());
        }
        buf.extend_from_slice(&data);
    }
    let n = buf.len() as u64;
    // Without a content-length the guess may be far too big, and the store keeps this.
    buf.shrink_to_fit();
    (buf.into(), n, None)
}

/// The answer to an accepted delivery, `{"duplicateOf":…,"received":true,"seq":…,
/// "verdict":…}`, written directly: every ack sends one, and a `serde_json::Value` map
/// would cost a handful of allocations each time.
fn ack_body(seq: u64, verdict: Verdict, duplicate_of: Option<u64>) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(80);
    match duplicate_of {
        Some(d) => write!(out, "{{\"duplicateOf\":{d},"),
        None => write!(out, "{{\"duplicateOf\":null,"),
    }
    .and_then(|()| {
        let verdict = verdict.as_str();
        write!(
            out,
            "\"received\":true,\"seq\":{seq},\"verdict\":\"{verdict}\"}}"
        )
    })
    .expect("writing to a String cannot fail");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ack_body_is_the_json_it_always_was() {
        for verdict in Verdict::ALL {
            for dup in [None, Some(7)] {
                let want =
                    json!({"received": true, "seq": 12, "verdict": verdict, "duplicateOf": dup});
                assert_eq!(ack_body(12, verdict, dup), want.to_string());
            }
        }
    }
}
