//! Alerts from the real `pilotwatch serve`: a disconnected number fires through
//! `--alert-exec` after `for`, resolves when it connects, and is not notified again by a
//! restarted service; `--alert-webhook` gets Alertmanager's webhook format, retried
//! past a failing answer.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::{client, spawn, wait_for};
use parking_lot::Mutex;
use serde_json::Value;

fn number_event(event: &str) -> String {
    format!(
        r#"{{"event":"number.{event}","data":{{"numberId":"num_main","phone":"+5511900000001","displayName":"Main store","createdAt":"{}"}}}}"#,
        chrono::Utc::now().to_rfc3339()
    )
}

async fn post(addr: &str, body: &str) -> reqwest::StatusCode {
    client()
        .post(format!("http://{addr}/"))
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
        .status()
}

/// The lines the exec script appended, as JSON.
fn notified(out: &Path) -> Vec<Value> {
    std::fs::read_to_string(out)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The journal's `alert` records: (event, body).
fn alert_records(journal: &Path) -> Vec<(String, Value)> {
    std::fs::read_to_string(journal)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["kind"] == "alert")
        .map(|v| {
            let body = serde_json::from_str(v["raw"].as_str().unwrap()).unwrap();
            (v["event"].as_str().unwrap().to_owned(), body)
        })
        .collect()
}

/// When the journal received each `alert` record of this event.
fn alert_times(journal: &Path, event: &str) -> Vec<chrono::DateTime<chrono::FixedOffset>> {
    std::fs::read_to_string(journal)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["event"] == event)
        .map(|v| chrono::DateTime::parse_from_rfc3339(v["receivedAt"].as_str().unwrap()).unwrap())
        .collect()
}

async fn wait_lines(out: &Path, n: usize) -> Vec<Value> {
    let start = std::time::Instant::now();
    loop {
        let got = notified(out);
        if got.len() >= n {
            return got;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "waited for {n} notification(s), got {got:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn stop(mut child: tokio::process::Child) {
    let pid = child.id().unwrap() as i32;
    // SIGTERM: the service drains and syncs.
    kill_term(pid);
    tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("stops on SIGTERM")
        .unwrap();
}

fn kill_term(pid: i32) {
    std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disconnected_number_fires_through_alert_exec_resolves_and_a_restart_does_not_renotify() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.jsonl");
    let out = dir.path().join("alerts.ndjson");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "[alerts.number_disconnected]\nfor = \"2s\"\nkeep_firing_for = \"0s\"\n",
    )
    .unwrap();
    // Appends what it gets on stdin as one line, and says something on stderr.
    let script = format!("cat >> '{}'; echo >> '{0}'; echo told >&2", out.display());
    let args = [
        "serve",
        "--config",
        config.to_str().unwrap(),
        "--alert-exec",
        &script,
    ];
    let (child, addr, _stderr) = spawn(&journal, &args).await;

    assert!(post(&addr, &number_event("connected")).await.is_success());
    assert!(
        post(&addr, &number_event("disconnected"))
            .await
            .is_success()
    );
    let got = wait_lines(&out, 1).await;
    let fired = &got[0];
    assert_eq!(fired["name"], "number_disconnected");
    assert_eq!(fired["state"], "firing");
    assert_eq!(fired["severity"], "critical");
    assert_eq!(fired["number"], "num_main");
    assert_eq!(fired["labels"]["alertname"], "number_disconnected");
    assert_eq!(fired["labels"]["number"], "num_main");
    assert_eq!(fired["repeat"], false);
    assert!(fired["startsAt"].is_string() && fired["endsAt"].is_null());
    let summary = fired["summary"].as_str().unwrap();
    assert!(
        summary.contains("Main store (+5511900000001) is disconnected"),
        "{summary}"
    );
    // Held for `for` first: pending, then firing, then the command's outcome.
    wait_for("the outcome journaled", || {
        alert_records(&journal)
            .iter()
            .any(|(e, _)| e == "alert.notified")
    })
    .await;
    let records = alert_records(&journal);
    let events: Vec<&str> = records.iter().map(|(e, _)| e.as_str()).collect();
    // Pending first, unless the first evaluation after the event came later than `for`
    // (a loaded machine): then straight to firing, which is right too.
    assert!(
        events == ["alert.pending", "alert.firing", "alert.notified"]
            || events == ["alert.firing", "alert.notified"],
        "{events:?}"
    );
    let down_at =
        chrono::DateTime::parse_from_rfc3339(fired["startsAt"].as_str().unwrap()).unwrap();
    let fired_at = alert_times(&journal, "alert.firing")[0];
    assert!(
        fired_at - down_at >= chrono::Duration::seconds(2),
        "fired {} after the disconnect, before `for`",
        fired_at - down_at
    );
    let outcome = &records.last().unwrap().1;
    assert_eq!(outcome["channel"], "exec");
    assert_eq!(outcome["status"], "exit 0");
    assert_eq!(outcome["detail"], "told");
    assert_eq!(outcome["ok"], true);

    assert!(post(&addr, &number_event("connected")).await.is_success());
    let got = wait_lines(&out, 2).await;
    assert_eq!(got[1]["state"], "resolved");
    assert!(got[1]["endsAt"].is_string());

    // Down again, notified; then the service restarts while it is still down.
    assert!(
        post(&addr, &number_event("disconnected"))
            .await
            .is_success()
    );
    wait_lines(&out, 3).await;
    wait_for("the third outcome journaled", || {
        alert_records(&journal)
            .iter()
            .filter(|(e, _)| e == "alert.notified")
            .count()
            == 3
    })
    .await;
    stop(child).await;
    let before = alert_records(&journal).len();
    let (child, addr, _stderr) = spawn(&journal, &args).await;
    common::wait_ready(&addr).await;
    // Several evaluations (one a second) later: still firing, not told again.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(notified(&out).len(), 3, "a restart must not notify again");
    assert_eq!(
        alert_records(&journal).len(),
        before,
        "nor journal a new transition"
    );
    // And it still knows the alert: the connect resolves it, and that is told.
    assert!(post(&addr, &number_event("connected")).await.is_success());
    let got = wait_lines(&out, 4).await;
    assert_eq!(got[3]["state"], "resolved");
    stop(child).await;
}

/// A loopback stand-in for Alertmanager: answers 503 to the first POST, then 200.
async fn alertmanager() -> (String, Arc<Mutex<Vec<Value>>>) {
    use axum::routing::post;
    let got: Arc<Mutex<Vec<Value>>> = Arc::default();
    let seen = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(move |axum::Json(v): axum::Json<Value>| {
            let seen = seen.clone();
            async move {
                let mut seen = seen.lock();
                seen.push(v);
                if seen.len() == 1 {
                    axum::http::StatusCode::SERVICE_UNAVAILABLE
                } else {
                    axum::http::StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, got)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alert_webhook_gets_alertmanager_json_retried_past_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.jsonl");
    let (url, got) = alertmanager().await;
    let (child, addr, _stderr) = spawn(&journal, &["serve", "--alert-webhook", &url]).await;
    // One refused delivery: `rejected_deliveries` fires at once (threshold 1, no hold).
    assert_eq!(
        post(&addr, "{not json").await,
        reqwest::StatusCode::BAD_REQUEST
    );
    wait_for("two POSTs (the first answered 503)", || {
        got.lock().len() >= 2
    })
    .await;
    let body = got.lock()[1].clone();
    assert_eq!(body, got.lock()[0], "the retry sends the same body");
    assert_eq!(body["version"], "4");
    assert_eq!(body["status"], "firing");
    assert_eq!(body["receiver"], "pilotwatch");
    assert_eq!(body["groupLabels"]["alertname"], "rejected_deliveries");
    assert_eq!(body["commonLabels"]["severity"], "warning");
    let alert = &body["alerts"][0];
    assert_eq!(alert["status"], "firing");
    assert_eq!(alert["labels"]["alertname"], "rejected_deliveries");
    assert_eq!(alert["endsAt"], "0001-01-01T00:00:00Z");
    assert_eq!(alert["fingerprint"].as_str().unwrap().len(), 16);
    assert!(
        alert["annotations"]["summary"]
            .as_str()
            .unwrap()
            .starts_with("1 deliveries refused in the last 5m"),
        "{alert}"
    );
    chrono::DateTime::parse_from_rfc3339(alert["startsAt"].as_str().unwrap()).unwrap();
    wait_for("the outcome journaled", || {
        alert_records(&journal)
            .iter()
            .any(|(e, _)| e == "alert.notified")
    })
    .await;
    let records = alert_records(&journal);
    let (_, outcome) = records.iter().find(|(e, _)| e == "alert.notified").unwrap();
    assert_eq!(outcome["channel"], "webhook");
    assert_eq!(outcome["status"], "HTTP 200");
    assert_eq!(outcome["attempts"], 2);
    let metrics = client()
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "pilotwatch_alerts_firing{alertname=\"rejected_deliveries\"} 1",
        "pilotwatch_alerts_firing{alertname=\"number_disconnected\"} 0",
        "pilotwatch_alert_notifications_total{outcome=\"ok\"} 1",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "{line} not in:\n{metrics}"
        );
    }
    // The URL is nowhere in the journal.
    let text = std::fs::read_to_string(&journal).unwrap();
    assert!(!text.contains("/hook"), "the webhook URL was journaled");
    stop(child).await;
}

/// A command that hangs is killed at its timeout and one that fails is recorded as
/// failed, with its stderr; meanwhile deliveries are acknowledged as fast as ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_or_failing_command_is_recorded_and_never_holds_up_the_receiver() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.jsonl");
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "alert_exec_timeout = 2\n").unwrap();
    let args = [
        "serve",
        "--config",
        config.to_str().unwrap(),
        "--alert-exec",
        "sleep 60",
        "--alert-exec",
        "echo boom >&2; exit 3",
    ];
    let (child, addr, _stderr) = spawn(&journal, &args).await;
    assert_eq!(
        post(&addr, "{not json").await,
        reqwest::StatusCode::BAD_REQUEST
    );
    wait_for("the firing", || {
        alert_records(&journal)
            .iter()
            .any(|(e, _)| e == "alert.firing")
    })
    .await;
    // The first command is hanging now: acks go on regardless.
    let mut slowest = Duration::ZERO;
    for _ in 0..20 {
        let t = std::time::Instant::now();
        assert!(post(&addr, &number_event("connected")).await.is_success());
        slowest = slowest.max(t.elapsed());
    }
    println!("slowest of 20 acks while an alert command hangs: {slowest:?}");
    assert!(slowest < Duration::from_millis(500), "{slowest:?}");
    wait_for("both outcomes", || {
        alert_records(&journal)
            .iter()
            .filter(|(e, _)| e == "alert.notified")
            .count()
            == 2
    })
    .await;
    let records = alert_records(&journal);
    let outcomes: Vec<&Value> = records
        .iter()
        .filter(|(e, _)| e == "alert.notified")
        .map(|(_, b)| b)
        .collect();
    let failed = outcomes.iter().find(|o| o["status"] == "exit 3").unwrap();
    assert_eq!(failed["ok"], false);
    assert_eq!(failed["detail"], "boom");
    let hung = outcomes
        .iter()
        .find(|o| o["status"] == "timed out")
        .unwrap();
    assert_eq!(hung["ok"], false);
    assert!(
        hung["detail"].as_str().unwrap().contains("killed"),
        "{hung}"
    );
    stop(child).await;
}
