//! `--forward-to URL`: every accepted delivery also goes to the user's own app, byte for
//! byte with its original `content-type` and signature, so the app can verify it. It
//! runs after the ack, from the records the ingest publishes: a slow or dead app can
//! never delay an answer to the provider. What cannot keep up is dropped and counted.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::Semaphore;
use tokio::sync::broadcast::error::RecvError;

use crate::ingest::Ingest;
use crate::model::Verdict;
use crate::receiver::signature::HEADER;
use crate::record::{Record, RecordKind};
use crate::sanitize::line as clean;
use crate::store::ForwardResult;

/// Requests to the app in flight at once.
const IN_FLIGHT: usize = 8;

#[derive(Debug)]
pub struct Forwarder {
    url: String,
    http: reqwest::Client,
    ingest: Arc<Ingest>,
    slots: Arc<Semaphore>,
}

/// Forwarded: deliveries the receiver accepted (retries included, as the provider would
/// send them); never refused ones or replies sent from here.
pub fn forwardable(r: &Record) -> bool {
    r.kind == RecordKind::Delivery && r.verdict != Verdict::Rejected
}

impl Forwarder {
    pub fn start(
        url: String,
        timeout: Duration,
        ingest: Arc<Ingest>,
    ) -> reqwest::Result<Arc<Self>> {
        let http = reqwest::Client::builder()
            .user_agent(concat!(
                "pilotwatch/",
                env!("CARGO_PKG_VERSION"),
                " (forward)"
            ))
            .timeout(timeout)
            .build()?;
        let this = Arc::new(Self {
            url,
            http,
            ingest,
            slots: Arc::new(Semaphore::new(IN_FLIGHT)),
        });
        let dispatcher = this.clone();
        tokio::spawn(async move { dispatcher.dispatch().await });
        Ok(this)
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    async fn dispatch(self: Arc<Self>) {
        let mut rx = self.ingest.subscribe();
        loop {
            match rx.recv().await {
                Ok(r) if forwardable(&r) => {
                    // Waits while the app is slow; the channel behind it is the bounded
                    // queue, and what overflows it is counted below.
                    let Ok(slot) = self.slots.clone().acquire_owned().await else {
                        return;
                    };
                    let this = self.clone();
                    tokio::spawn(async move {
                        this.forward(&r, false).await;
                        drop(slot);
                    });
                }
                Ok(_) => {}
                Err(RecvError::Lagged(n)) => {
                    self.ingest.store().write().note_forward_dropped(n);
                    self.ingest.notify();
                }
                Err(RecvError::Closed) => return,
            }
        }
    }

    /// Send one delivery again, by hand (`x` in the dashboard); marked as a replay.
    pub fn replay(self: &Arc<Self>, record: Arc<Record>) {
        let this = self.clone();
        tokio::spawn(async move { this.forward(&record, true).await });
    }

    async fn forward(&self, r: &Record, replay: bool) {
        let mut req = self
            .http
            .post(&self.url)
            .header(
                "content-type",
                r.content_type.as_deref().unwrap_or("application/json"),
            )
            .header("x-pilotwatch-seq", r.seq.to_string());
        if let Some(sig) = &r.signature_header {
            req = req.header(HEADER, sig.as_ref());
        }
        if replay {
            req = req.header("x-pilotwatch-replay", "true");
        }
        let started = Instant::now();
        let result = match req.body(r.body.clone()).send().await {
            Ok(res) => {
                let status = res.status().as_u16();
                let body = res.bytes().await.unwrap_or_default();
                ForwardResult {
                    at: Utc::now(),
                    status: Some(status),
                    latency_ms: started.elapsed().as_millis() as u64,
                    body_head: clean(&String::from_utf8_lossy(&body[..body.len().min(200)]), 200),
                    error: None,
                    replay,
                }
            }
            Err(e) => ForwardResult {
                at: Utc::now(),
                status: None,
                latency_ms: started.elapsed().as_millis() as u64,
                body_head: String::new(),
                error: Some(if e.is_timeout() {
                    "timed out".into()
                } else if e.is_connect() {
                    "connection refused".into()
                } else {
                    clean(&e.to_string(), 200)
                }),
                replay,
            },
        };
        self.ingest.store().write().note_forward(r.seq, result);
        self.ingest.notify();
    }
}
