//! Telling someone: `--alert-exec CMD` runs CMD with the alert as JSON on stdin,
//! `--alert-webhook URL` POSTs Alertmanager's webhook format (retried with backoff).
//! Each target has its own worker and a bounded queue, so a slow or failing one never
//! holds up the evaluator, the others, or the receiver, and a firing is told before its
//! resolution. Every outcome comes back as a [`Notified`] for the journal; neither the
//! command line nor the URL (either may hold a credential) is ever part of it.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;

use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::model::alert::{Alert, AlertState, Channel, Notified};
use crate::sanitize::line as clean;

/// Notifications waiting per target; past it they are recorded as dropped.
const QUEUE: usize = 256;
/// Webhook attempts, and the first wait between them (doubling).
const ATTEMPTS: u32 = 5;
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// The stderr or answer bytes kept.
const DETAIL: usize = 2048;

/// One alert to tell about.
#[derive(Debug, Clone)]
pub struct Notice {
    pub alert: Alert,
    /// Still firing, told again after `repeat`.
    pub repeat: bool,
}

/// What the command gets on stdin.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecPayload<'a> {
    #[serde(flatten)]
    pub alert: &'a Alert,
    pub repeat: bool,
    pub fingerprint: String,
}

/// A stable 16-hex-digit id of an alert's identity, as Alertmanager gives one.
pub fn fingerprint(alert: &Alert) -> String {
    format!(
        "{:016x}",
        xxhash_rust::xxh3::xxh3_64(alert.key().as_str().as_bytes())
    )
}

fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Alertmanager's webhook body (version 4) for one alert: what its receivers and chat
/// integrations expect.
pub fn alertmanager(notice: &Notice, external_url: &str) -> serde_json::Value {
    let a = &notice.alert;
    let status = if a.state == AlertState::Resolved {
        "resolved"
    } else {
        "firing"
    };
    let mut annotations = BTreeMap::from([("summary".to_owned(), a.summary.clone())]);
    if let Some(n) = &a.number {
        annotations.insert("number".into(), n.clone());
    }
    let group = BTreeMap::from([("alertname".to_owned(), a.name.clone())]);
    serde_json::json!({
        "version": "4",
        "groupKey": format!("{{}}:{{alertname=\"{}\"}}", a.name),
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "pilotwatch",
        "groupLabels": group,
        "commonLabels": a.labels,
        "commonAnnotations": annotations,
        "externalURL": external_url,
        "alerts": [{
            "status": status,
            "labels": a.labels,
            "annotations": annotations,
            "startsAt": rfc3339(a.starts_at),
            // Alertmanager's "not ended" is the zero time.
            "endsAt": a.ends_at.map_or_else(|| "0001-01-01T00:00:00Z".to_owned(), rfc3339),
            "generatorURL": external_url,
            "fingerprint": fingerprint(a),
        }],
    })
}

/// The workers, one per target.
#[derive(Debug)]
pub struct Notifiers {
    targets: Vec<(Channel, mpsc::Sender<Notice>)>,
    outcomes: mpsc::UnboundedSender<Notified>,
}

/// Where notifications go, and how long a command may run.
#[derive(Debug, Clone, Default)]
pub struct Targets {
    pub exec: Vec<String>,
    pub webhooks: Vec<String>,
    pub exec_timeout: Duration,
    pub webhook_timeout: Duration,
    /// Where the alerts come from, for Alertmanager's `externalURL`.
    pub external_url: String,
}

impl Notifiers {
    /// Start a worker per target; outcomes come out of `outcomes`.
    pub fn start(targets: Targets, outcomes: mpsc::UnboundedSender<Notified>) -> Self {
        let mut senders = Vec::new();
        for cmd in targets.exec {
            let (tx, mut rx) = mpsc::channel::<Notice>(QUEUE);
            let out = outcomes.clone();
            let timeout = targets.exec_timeout;
            tokio::spawn(async move {
                while let Some(n) = rx.recv().await {
                    let _ = out.send(run_exec(&cmd, &n, timeout).await);
                }
            });
            senders.push((Channel::Exec, tx));
        }
        if !targets.webhooks.is_empty() {
            let http = reqwest::Client::builder()
                .user_agent(concat!(
                    "pilotwatch/",
                    env!("CARGO_PKG_VERSION"),
                    " (alerts)"
                ))
                .timeout(targets.webhook_timeout)
                .build();
            match http {
                Ok(http) => {
                    for url in targets.webhooks {
                        let (tx, mut rx) = mpsc::channel::<Notice>(QUEUE);
                        let out = outcomes.clone();
                        let http = http.clone();
                        let external = targets.external_url.clone();
                        tokio::spawn(async move {
                            while let Some(n) = rx.recv().await {
                                let _ = out.send(post(&http, &url, &n, &external).await);
                            }
                        });
                        senders.push((Channel::Webhook, tx));
                    }
                }
                Err(e) => tracing::error!(error = %e, "alert webhooks off: no HTTP client"),
            }
        }
        Self {
            targets: senders,
            outcomes,
        }
    }

    /// Queue `notice` for every target; a full queue is an outcome too.
    pub fn send(&self, notice: &Notice) {
        for (channel, tx) in &self.targets {
            if tx.try_send(notice.clone()).is_err() {
                let _ = self.outcomes.send(outcome(
                    notice,
                    *channel,
                    false,
                    "dropped".into(),
                    "the notification queue is full (the target is too slow)".into(),
                    0,
                ));
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }
}

fn outcome(
    n: &Notice,
    channel: Channel,
    ok: bool,
    status: String,
    detail: String,
    attempts: u32,
) -> Notified {
    Notified {
        key: n.alert.key(),
        state: n.alert.state,
        channel,
        ok,
        status,
        detail: clean(&detail, 300),
        attempts,
    }
}

/// Run `cmd` through `sh -c` with the alert on stdin; its exit status and stderr.
async fn run_exec(cmd: &str, n: &Notice, timeout: Duration) -> Notified {
    let payload = ExecPayload {
        alert: &n.alert,
        repeat: n.repeat,
        fingerprint: fingerprint(&n.alert),
    };
    let json = serde_json::to_vec(&payload).expect("serialisable");
    let a = &n.alert;
    let child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .env("PILOTWATCH_ALERT_NAME", &a.name)
        .env("PILOTWATCH_ALERT_STATE", a.state.as_str())
        .env("PILOTWATCH_ALERT_SEVERITY", a.severity.as_str())
        .env("PILOTWATCH_ALERT_NUMBER", a.number.as_deref().unwrap_or(""))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            return outcome(
                n,
                Channel::Exec,
                false,
                "not started".into(),
                e.to_string(),
                1,
            );
        }
    };
    let mut stdin = child.stdin.take();
    let mut stderr = child.stderr.take();
    let run = async {
        if let Some(mut s) = stdin.take() {
            // A command that does not read its stdin is fine: a broken pipe is no error.
            let _ = s.write_all(&json).await;
            drop(s);
        }
        let mut head = Vec::new();
        if let Some(err) = stderr.as_mut() {
            let mut buf = [0u8; 4096];
            // Read it all (a full pipe would stall the command), keep the head.
            while let Ok(k) = err.read(&mut buf).await {
                if k == 0 {
                    break;
                }
                let room = DETAIL.saturating_sub(head.len());
                head.extend_from_slice(&buf[..k.min(room)]);
            }
        }
        (child.wait().await, head)
    };
    match tokio::time::timeout(timeout, run).await {
        Ok((Ok(status), head)) => {
            let detail = String::from_utf8_lossy(&head).trim().to_owned();
            let text = match status.code() {
                Some(c) => format!("exit {c}"),
                None => "killed by a signal".into(),
            };
            outcome(n, Channel::Exec, status.success(), text, detail, 1)
        }
        Ok((Err(e), _)) => outcome(n, Channel::Exec, false, "failed".into(), e.to_string(), 1),
        // Dropping the future drops the child: kill_on_drop ends it.
        Err(_) => outcome(
            n,
            Channel::Exec,
            false,
            "timed out".into(),
            format!("still running after {} s: killed", timeout.as_secs()),
            1,
        ),
    }
}

/// POST the Alertmanager body; 5xx, 429 and transport errors are retried with backoff.
async fn post(http: &reqwest::Client, url: &str, n: &Notice, external: &str) -> Notified {
    let body = alertmanager(n, external);
    let mut wait = FIRST_BACKOFF;
    let mut last = (String::new(), String::new());
    for attempt in 1..=ATTEMPTS {
        match http.post(url).json(&body).send().await {
            Ok(res) => {
                let code = res.status();
                let text = res.text().await.unwrap_or_default();
                let head: String = text.chars().take(DETAIL).collect();
                if code.is_success() {
                    return outcome(
                        n,
                        Channel::Webhook,
                        true,
                        format!("HTTP {}", code.as_u16()),
                        String::new(),
                        attempt,
                    );
                }
                last = (format!("HTTP {}", code.as_u16()), head);
                if code.is_client_error() && code.as_u16() != 429 {
                    return outcome(n, Channel::Webhook, false, last.0, last.1, attempt);
                }
            }
            Err(e) => {
                let why = if e.is_timeout() {
                    "timed out"
                } else if e.is_connect() {
                    "connection refused"
                } else {
                    "request failed"
                };
                last = (why.into(), e.without_url().to_string());
            }
        }
        if attempt < ATTEMPTS {
            tokio::time::sleep(wait).await;
            wait *= 2;
        }
    }
    outcome(n, Channel::Webhook, false, last.0, last.1, ATTEMPTS)
}
