//! `--forward-to URL`: every accepted delivery also goes to the user's own app, byte for
//! byte with its original `content-type` and signature, so the app can verify it. It
//! runs after the ack, from the records the ingest publishes: a slow or dead app can
//! never delay an answer to the provider. What cannot keep up is dropped and counted.
//! Every outcome is journaled as a `forward` record (never the URL), so the store, a
//! restart and every attached dashboard see the same answers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::Semaphore;
use tokio::sync::broadcast::error::RecvError;

use crate::ingest::{Incoming, Ingest};
use crate::model::Verdict;
use crate::model::forward::{Forward, ForwardResult};
use crate::record::{Record, RecordKind};
use crate::sanitize::line as clean;
use crate::signature::HEADER;

/// Requests to the app in flight at once.
const IN_FLIGHT: usize = 8;

#[derive(Debug)]
pub struct Forwarder {
    url: String,
    http: reqwest::Client,
    ingest: Arc<Ingest>,
    slots: Arc<Semaphore>,
}

/// `--forward-to` as it may be shown or sent to an attached client: where deliveries
/// go (scheme, host, port, path), with the userinfo and the query masked, since either
/// may carry the app's credentials: `https://***@app.example/hook?***`. Parsed as
/// reqwest parses it, so what is masked is exactly what would be sent as credentials.
/// Sanitised for a terminal.
pub fn display_url(url: &str) -> String {
    let Ok(u) = reqwest::Url::parse(url) else {
        // Forwarding fails with it anyway; where a secret would sit is unknown.
        return "(not a valid URL)".to_owned();
    };
    if u.cannot_be_a_base() {
        return format!("{}:***", u.scheme());
    }
    let mut shown = format!("{}://", u.scheme());
    if !u.username().is_empty() || u.password().is_some() {
        shown.push_str("***@");
    }
    shown.push_str(u.host_str().unwrap_or(""));
    if let Some(port) = u.port() {
        shown.push_str(&format!(":{port}"));
    }
    shown.push_str(u.path());
    if u.query().is_some() {
        shown.push_str("?***");
    }
    if u.fragment().is_some() {
        shown.push_str("#***");
    }
    clean(&shown, 200)
}

/// What went wrong, without the URL reqwest's message would quote (its query may be a
/// credential), with the causes that say more than "error sending request".
fn error_text(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
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
                Ok(a) if forwardable(&a.record) => {
                    let r = a.record;
                    // Waits while the app is slow; the channel behind it is the bounded
                    // queue, and what overflows it is counted below.
                    let Ok(slot) = self.slots.clone().acquire_owned().await else {
                        return;
                    };
                    let this = self.clone();
                    tokio::spawn(async move {
                        let result = this.forward(&r, false).await;
                        // The app is done with it: journaling must not hold its place.
                        drop(slot);
                        this.journal(Forward::Sent(result)).await;
                    });
                }
                Ok(_) => {}
                Err(RecvError::Lagged(n)) => {
                    let this = self.clone();
                    tokio::spawn(async move { this.journal(Forward::Dropped { count: n }).await });
                }
                Err(RecvError::Closed) => return,
            }
        }
    }

    /// Send one delivery again, by hand (`x` in the dashboard); marked as a replay.
    pub fn replay(self: &Arc<Self>, record: Arc<Record>) {
        let this = self.clone();
        tokio::spawn(async move {
            let result = this.forward(&record, true).await;
            this.journal(Forward::Sent(result)).await;
        });
    }

    /// An outcome becomes a record like any other; the store learns it from there.
    async fn journal(&self, f: Forward) {
        let incoming = Incoming {
            record: Record::forward(&f),
            identity: None,
        };
        if let Err(e) = self.ingest.submit(incoming).await {
            tracing::warn!(error = %e, event = f.event(), "could not journal a forward outcome");
        }
    }

    /// Send one delivery; what came of it, sanitised.
    async fn forward(&self, r: &Record, replay: bool) -> ForwardResult {
        let mut req = self
            .http
            .post(&self.url)
            .header(
                "content-type",
                r.content_type.as_deref().unwrap_or("application/json"),
            )
            .header("x-pilotwatch-seq", r.seq.to_string());
        if let Some(sig) = &r.signature_header {
            req = req.header(HEADER, sig.text().as_ref());
        }
        if replay {
            req = req.header("x-pilotwatch-replay", "true");
        }
        let started = Instant::now();
        match req.body(r.body.bytes()).send().await {
            Ok(res) => {
                let status = res.status().as_u16();
                let body = res.bytes().await.unwrap_or_default();
                ForwardResult {
                    seq: r.seq,
                    at: Utc::now(),
                    record: 0,
                    status: Some(status),
                    latency_ms: started.elapsed().as_millis() as u64,
                    body_head: clean(&String::from_utf8_lossy(&body[..body.len().min(200)]), 200),
                    error: None,
                    replay,
                }
            }
            Err(e) => ForwardResult {
                seq: r.seq,
                at: Utc::now(),
                record: 0,
                status: None,
                latency_ms: started.elapsed().as_millis() as u64,
                body_head: String::new(),
                error: Some(if e.is_timeout() {
                    "timed out".into()
                } else if e.is_connect() {
                    "connection refused".into()
                } else {
                    clean(&error_text(e), 200)
                }),
                replay,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::display_url;

    #[test]
    fn userinfo_and_query_are_masked_and_the_rest_kept() {
        assert_eq!(
            display_url("https://bob:s3cret@app.example:8443/hook/in?token=abc&x=1#frag"),
            "https://***@app.example:8443/hook/in?***#***"
        );
        // A user alone (a token as the user name), an empty password, an empty query.
        assert_eq!(
            display_url("http://tok_123@10.0.0.5/h"),
            "http://***@10.0.0.5/h"
        );
        assert_eq!(display_url("http://:pw@h/"), "http://***@h/");
        assert_eq!(display_url("http://h/p?"), "http://h/p?***");
        // Nothing secret: shown as it is (the default port as reqwest would use it).
        assert_eq!(
            display_url("http://127.0.0.1:9000/webhooks"),
            "http://127.0.0.1:9000/webhooks"
        );
        assert_eq!(display_url("https://[::1]:443/x"), "https://[::1]/x");
    }

    #[test]
    fn what_reqwest_would_read_as_credentials_is_what_is_masked() {
        // The last `@` ends the userinfo; `/`, `?` and `#` inside it are not a path.
        for url in [
            "https://u:p@ss@app.example/hook",
            "https://u:p%40ss@app.example/hook",
            "https://u:pa?ss@app.example/hook",
            "http://u:pa\\ss@app.example/hook",
        ] {
            let shown = display_url(url);
            assert!(!shown.contains("ss"), "{url} -> {shown}");
            assert!(!shown.contains("u:"), "{url} -> {shown}");
        }
        assert_eq!(display_url("not a url"), "(not a valid URL)");
        assert_eq!(display_url("mailto:bob@example.com"), "mailto:***");
    }

    #[test]
    fn masking_twice_changes_nothing_and_control_bytes_never_pass() {
        let once = display_url("https://u:p@app.example/h?k=v");
        assert_eq!(display_url(&once), once);
        let shown = display_url("https://app.example/a%1B]0;x%07/\u{1b}b");
        assert!(!shown.contains('\u{1b}'), "{shown}");
    }
}
