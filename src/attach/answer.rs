//! The service's side of the bus besides publishing: it answers dashboards' requests
//! and says every few seconds that it is there (and how far behind its outbox is).
//!
//! - `<prefix>.send`: a reply or a history page. Only services holding an API key
//!   subscribe, as one queue group, so exactly one of them does it.
//! - `<prefix>.replay.<receiver>`: forward one of that receiver's deliveries again.
//! - `<prefix>.hb.<receiver>`: the heartbeat, never stored.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use super::protocol::Request;
use super::requests::Doers;
use crate::bus::nats::NatsBus;
use crate::bus::{Asked, Bus, BusTarget};
use crate::forward::Forwarder;
use crate::ingest::Ingest;
use crate::outbox::OutboxStats;
use crate::reply::Replier;
use crate::sanitize::line as clean;

pub const SEND: &str = "send";
const SENDERS: &str = "senders";
pub const HEARTBEATS: &str = "hb.*";
const EVERY: Duration = Duration::from_secs(2);

pub fn replay_topic(receiver: &str) -> String {
    format!("replay.{receiver}")
}

/// A receiver saying it is there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Heartbeat {
    pub receiver: String,
    pub version: String,
    pub at: DateTime<Utc>,
    /// Records journaled there and not yet in the stream.
    pub backlog: u64,
    /// The journal's failure, if it stopped taking deliveries.
    pub failure: Option<String>,
    /// Whether it sends replies (it holds an API key).
    pub sends: bool,
    /// Whether it evaluates the alerts (it holds the lease).
    #[serde(default)]
    pub alerts: bool,
}

/// What a request is answered with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    /// Why it cannot be done (`None`: under way; its outcome comes as records).
    pub error: Option<String>,
    pub receiver: String,
}

/// Everything the service answers with.
#[derive(Debug, Clone)]
pub struct Parts {
    pub receiver: String,
    pub replier: Arc<Replier>,
    pub forwarder: Option<Arc<Forwarder>>,
    pub history: Option<crate::reconcile::HistoryRequests>,
    pub ingest: Arc<Ingest>,
    pub outbox: Arc<OutboxStats>,
    /// Set while this service holds the alerts lease.
    pub alerts: Arc<std::sync::atomic::AtomicBool>,
}

/// Connect (retrying) and answer until aborted.
pub async fn run(target: BusTarget, parts: Parts) {
    let name = format!("pilotwatch serve {} (requests)", parts.receiver);
    let mut wait = Duration::from_millis(500);
    let bus = loop {
        match NatsBus::connect(&target, &name).await {
            Ok(b) => break b,
            Err(e) => {
                tracing::debug!(error = %e, "nats: requests not answered yet");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(5));
            }
        }
    };
    let sends = parts.replier.key_masked().is_some();
    let mut asked = futures_util::stream::SelectAll::new();
    if sends {
        match bus.answer(SEND, Some(SENDERS)).await {
            Ok(s) => asked.push(s),
            Err(e) => tracing::warn!(error = %e, "nats: replies cannot be asked for"),
        }
    }
    match bus.answer(&replay_topic(&parts.receiver), None).await {
        Ok(s) => asked.push(s),
        Err(e) => tracing::warn!(error = %e, "nats: forwards cannot be replayed"),
    }
    let mut beat = tokio::time::interval(EVERY);
    loop {
        tokio::select! {
            Some(a) = asked.next() => handle(&parts, a).await,
            _ = beat.tick() => {
                let hb = Heartbeat {
                    receiver: parts.receiver.clone(),
                    version: env!("CARGO_PKG_VERSION").into(),
                    at: Utc::now(),
                    backlog: parts.outbox.backlog(*parts.ingest.watch().borrow()),
                    failure: parts.ingest.failure().map(|f| clean(&f, 200)),
                    sends,
                    alerts: parts.alerts.load(std::sync::atomic::Ordering::Relaxed),
                };
                let payload = Bytes::from(serde_json::to_vec(&hb).expect("serialisable"));
                let _ = bus.announce(&format!("hb.{}", parts.receiver), payload).await;
            }
        }
    }
}

async fn handle(parts: &Parts, asked: Asked) {
    let error = match serde_json::from_slice::<Request>(&asked.payload) {
        Ok(request) => {
            let doers = Doers {
                replier: &parts.replier,
                forwarder: parts.forwarder.as_ref(),
                history: parts.history.as_ref(),
                ingest: &parts.ingest,
            };
            doers.handle(request, |seq| {
                parts
                    .ingest
                    .store()
                    .read()
                    .record(seq)
                    .cloned()
                    .map(Arc::new)
            })
        }
        Err(e) => Some(format!(
            "the service did not understand a request: {}",
            clean(&e.to_string(), 120)
        )),
    };
    if let Some(respond) = asked.respond {
        let answer = Answer {
            error,
            receiver: parts.receiver.clone(),
        };
        respond(Bytes::from(
            serde_json::to_vec(&answer).expect("serialisable"),
        ))
        .await;
    }
}
