//! `GET /metrics` on the real service: a known mix of deliveries posted over loopback,
//! then the scrape read back and checked sample by sample, and by `promtool` when it is
//! installed. `--metrics-listen` with the real binary.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{Running, client, corpus_dir, settings, with_secrets};
use pilotwatch::service::Service;
use pilotwatch::signature::sign;
use reqwest::StatusCode;

const SECRET: &str = "whsec_test_0123456789";

fn message(id: &str, event: &str, at: &str) -> String {
    format!(
        r#"{{"event":"{event}","data":{{"to":"+5511999999999","numberId":"n1","messageId":"wa-{id}","id":"{id}","type":"text","fromMe":true,"content":"hello {id}","createdAt":"{at}"}}}}"#
    )
}

/// Every sample of an exposition, by its name and labels as written.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (key, value) = l.rsplit_once(' ').expect("a sample is `name value`");
            (key.to_owned(), value.parse().expect("a number"))
        })
        .collect()
}

async fn scrape(url: String) -> (String, String) {
    let res = client().get(url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
    (content_type, res.text().await.unwrap())
}

/// `promtool check metrics` on the text, when promtool is installed.
fn promtool_accepts(text: &str) {
    use std::io::Write as _;
    let child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            println!("skipped: promtool not installed (apt-get install prometheus)");
            return;
        }
        Err(e) => panic!("promtool: {e}"),
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{}{}\n--- the text:\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn counters_match_exactly_what_was_posted() {
    let dir = tempfile::tempdir().unwrap();
    let s = with_secrets(settings(dir.path()), &[SECRET]);
    let server = Running::start(&s).await;
    let http = client();
    let post = |sig: Option<String>, body: Vec<u8>| {
        let mut req = http.post(server.url("/hooks")).body(body);
        if let Some(sig) = sig {
            req = req.header("x-pilot-status-signature", sig);
        }
        req.send()
    };
    let signed = |body: &[u8]| Some(sign(SECRET, body));
    let at = "2026-02-24T15:00:05.000Z";
    let broken = std::fs::read(corpus_dir().join("broken.fromMe_string.json")).unwrap();
    let number = std::fs::read(corpus_dir().join("number.connected.json")).unwrap();
    let m1 = message("m1", "message.sent", at).into_bytes();
    let accepted: Vec<Vec<u8>> = vec![
        m1.clone(),
        message("m2", "message.sent", at).into_bytes(),
        message("m3", "message.sent", at).into_bytes(),
        // A retry of m1: a duplicate.
        m1.clone(),
        message("m1", "message.delivered", "2026-02-24T15:00:06.000Z").into_bytes(),
        number,
        br#"{"event":"survey.answered","data":{"id":"s1"}}"#.to_vec(),
        broken,
    ];
    for body in &accepted {
        let res = post(signed(body), body.clone()).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    let refused = [
        (
            signed(b"not json"),
            b"not json".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (None, m1.clone(), StatusCode::UNAUTHORIZED),
        (None, m1.clone(), StatusCode::UNAUTHORIZED),
        (
            Some(sign("whsec_wrong", &m1)),
            m1.clone(),
            StatusCode::UNAUTHORIZED,
        ),
        (
            Some(sign(SECRET, b"other")),
            m1.clone(),
            StatusCode::UNAUTHORIZED,
        ),
    ];
    for (sig, body, code) in refused {
        assert_eq!(post(sig, body).await.unwrap().status(), code);
    }

    let (content_type, text) = scrape(server.url("/metrics")).await;
    assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
    let got = samples(&text);
    let want = [
        (
            r#"pilotwatch_deliveries_total{family="message",verdict="known"}"#,
            5.0,
        ),
        (
            r#"pilotwatch_deliveries_total{family="message",verdict="broken"}"#,
            1.0,
        ),
        (
            r#"pilotwatch_deliveries_total{family="number",verdict="known"}"#,
            1.0,
        ),
        (
            r#"pilotwatch_deliveries_total{family="other",verdict="unknown"}"#,
            1.0,
        ),
        (
            r#"pilotwatch_deliveries_total{family="none",verdict="rejected"}"#,
            5.0,
        ),
        (r#"pilotwatch_signatures_total{result="valid"}"#, 9.0),
        (r#"pilotwatch_signatures_total{result="invalid"}"#, 2.0),
        (r#"pilotwatch_signatures_total{result="missing"}"#, 2.0),
        (r#"pilotwatch_signatures_total{result="unchecked"}"#, 0.0),
        ("pilotwatch_duplicates_total", 1.0),
        (r#"pilotwatch_events_total{event="message.sent"}"#, 4.0),
        (r#"pilotwatch_events_total{event="message.delivered"}"#, 1.0),
        (r#"pilotwatch_events_total{event="number.connected"}"#, 1.0),
        (r#"pilotwatch_events_total{event="other"}"#, 1.0),
        // Every 2xx is one ack observed; nothing else is.
        ("pilotwatch_ack_latency_seconds_count", 8.0),
        (r#"pilotwatch_ack_latency_seconds_bucket{le="+Inf"}"#, 8.0),
        (r#"pilotwatch_store_rows{table="deliveries"}"#, 13.0),
        (r#"pilotwatch_messages{number="n1",status="sent"}"#, 2.0),
        (
            r#"pilotwatch_messages{number="n1",status="delivered"}"#,
            1.0,
        ),
        // m1 went from sent to delivered in 1 s by the provider's clock.
        (
            r#"pilotwatch_lifecycle_latency_seconds_count{leg="sent_delivered"}"#,
            1.0,
        ),
        (
            r#"pilotwatch_lifecycle_latency_seconds_bucket{leg="sent_delivered",le="0.5"}"#,
            0.0,
        ),
        (
            r#"pilotwatch_lifecycle_latency_seconds_bucket{leg="sent_delivered",le="1"}"#,
            1.0,
        ),
        (
            r#"pilotwatch_lifecycle_latency_seconds_sum{leg="sent_delivered"}"#,
            1.0,
        ),
        (r#"pilotwatch_forwards_total{outcome="ok"}"#, 0.0),
        ("pilotwatch_journal_segments", 1.0),
        ("pilotwatch_journal_writable", 1.0),
        ("pilotwatch_attach_clients", 0.0),
        (r#"pilotwatch_build_info{version="0.1.0"}"#, 1.0),
    ];
    for (key, value) in want {
        assert_eq!(got.get(key), Some(&value), "{key} in:\n{text}");
    }
    // No delivery of any other family or verdict.
    let deliveries: f64 = got
        .iter()
        .filter(|(k, _)| k.starts_with("pilotwatch_deliveries_total"))
        .map(|(_, v)| v)
        .sum();
    assert_eq!(deliveries, 13.0);
    // At least one fdatasync per batch, never more than one per delivery.
    let syncs = got["pilotwatch_journal_sync_seconds_count"];
    assert!((1.0..=13.0).contains(&syncs), "{syncs} syncs");
    assert!(got["pilotwatch_journal_bytes"] > 0.0);
    // No contact and no message id in any label.
    for needle in ["+5511", "wa-m1", "\"m1\""] {
        assert!(!text.contains(needle), "{needle} in the metrics");
    }
    promtool_accepts(&text);

    // A scrape is no delivery.
    let (_, again) = scrape(server.url("/metrics")).await;
    let key = r#"pilotwatch_store_rows{table="deliveries"}"#;
    assert_eq!(samples(&again)[key], 13.0);
    server.stop().await;
}

/// With `--path`, deliveries go to that path only, but `/metrics` (like `/healthz`)
/// still answers; it takes GET only, and nothing sent to it is recorded. A number id
/// from a body cannot break the format.
#[tokio::test]
async fn metrics_answer_beside_a_restricted_path_and_only_to_get() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = settings(dir.path());
    s.path = Some("/hooks/pilot".into());
    let server = Running::start(&s).await;
    let http = client();
    let res = http
        .post(server.url("/metrics"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    // A number id made to break the format: a quote, a newline, a control character.
    let hostile = message("m1", "message.sent", "2026-02-24T15:00:05.000Z")
        .replace(r#""numberId":"n1""#, r#""numberId":"n\"1\n} 9\u0007""#);
    let res = http
        .post(server.url("/hooks/pilot"))
        .body(hostile)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let (_, text) = scrape(server.url("/metrics")).await;
    let got = samples(&text);
    assert_eq!(got[r#"pilotwatch_store_rows{table="deliveries"}"#], 1.0);
    assert_eq!(got["pilotwatch_ack_latency_seconds_count"], 1.0);
    let label = r#"pilotwatch_messages{number="n\"1⏎} 9^G",status="sent"}"#;
    assert_eq!(got.get(label), Some(&1.0), "{text}");
    promtool_accepts(&text);
    server.stop().await;
}

/// `Service` with `--metrics-listen`: the same figures on the second port, none on the
/// receiver's.
#[tokio::test]
async fn metrics_listen_moves_metrics_to_a_second_port() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = settings(dir.path());
    s.metrics_listen = Some("127.0.0.1:0".parse().unwrap());
    let service = Service::start(&s).await.unwrap();
    let addr = service.addr;
    let metrics = service.metrics.as_ref().expect("bound").1;
    assert_ne!(metrics.port(), addr.port());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(service.serve(async move {
        let _ = stopped.await;
    }));
    let http = client();
    for id in ["m1", "m2"] {
        let body = message(id, "message.sent", "2026-02-24T15:00:05.000Z");
        let res = http
            .post(format!("http://{addr}/"))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    let (content_type, text) = scrape(format!("http://{metrics}/metrics")).await;
    assert!(content_type.starts_with("text/plain; version=0.0.4"));
    let got = samples(&text);
    assert_eq!(
        got[r#"pilotwatch_deliveries_total{family="message",verdict="known"}"#],
        2.0
    );
    assert_eq!(got["pilotwatch_ack_latency_seconds_count"], 2.0);
    promtool_accepts(&text);
    // Not on the receiver's listener any more: a GET there is no delivery either.
    let res = http
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    // Only /metrics on the second port.
    let res = http
        .post(format!("http://{metrics}/"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("stops")
        .unwrap()
        .unwrap();
}

/// The real binary with `--metrics-listen`: its banner names the address, and a scrape
/// there counts what the receiver took.
#[tokio::test]
async fn the_binary_serves_metrics_on_metrics_listen() {
    let dir = tempfile::tempdir().unwrap();
    let metrics = common::free_addr().to_string();
    let journal = dir.path().join("journal.jsonl");
    let (mut child, addr, stderr) =
        common::spawn(&journal, &["--metrics-listen", &metrics, "--no-attach"]).await;
    common::wait_ready(&addr).await;
    let body = message("m1", "message.sent", "2026-02-24T15:00:05.000Z");
    let res = client()
        .post(format!("http://{addr}/"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let (_, text) = scrape(format!("http://{metrics}/metrics")).await;
    let got = samples(&text);
    assert_eq!(
        got[r#"pilotwatch_signatures_total{result="unchecked"}"#],
        1.0
    );
    assert_eq!(got["pilotwatch_ack_latency_seconds_count"], 1.0);
    let banner = format!("metrics: http://{metrics}/metrics");
    assert!(
        stderr.lock().iter().any(|l| l.starts_with(&banner)),
        "{:?}",
        stderr.lock()
    );
    child.kill().await.unwrap();
}

/// Forward outcomes and the API's answers to replies, counted from their journaled
/// records: an app answering 201, a send answered 503 and its retry accepted.
#[tokio::test]
async fn forwards_and_api_calls_are_counted() {
    use pilotwatch::api::{ApiClient, SendBody, SendRequest};
    use pilotwatch::demo::fake_api::{Answer, FakeApi};
    use pilotwatch::model::outbound::ReplyPhase;
    use pilotwatch::reply::Replier;
    use pilotwatch::secret::Secret;

    let app = axum::Router::new().fallback(|| async { (StatusCode::CREATED, "thanks") });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app_url = format!("http://{}/app", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let dir = tempfile::tempdir().unwrap();
    let mut s = settings(dir.path());
    s.forward_to = Some(app_url);
    let server = Running::start(&s).await;
    let inbound = r#"{"event":"message.received","data":{"from":"+5511987650001","to":"+5511940001000","numberId":"num_centro","messageId":"wamid.IN1","id":"in_1","type":"text","fromMe":false,"content":"oi","createdAt":"2026-11-21T12:00:00.000Z"}}"#;
    let res = client()
        .post(server.url("/"))
        .body(inbound)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    let fake = FakeApi::start().await.unwrap();
    fake.answer(Answer::Status(
        503,
        serde_json::json!({"error": "later"}),
        None,
    ));
    let key = Secret::new("ps_live_metrics_0123456789");
    let api = ApiClient::new(&fake.base_url(), key, Duration::from_secs(5)).unwrap();
    let replier = std::sync::Arc::new(Replier::new(Some(api), server.ingest.clone()));
    let request = SendRequest {
        body: SendBody {
            text: "Abrimos sim".into(),
            destination_number: Some("+5511987650001".into()),
            group_id: None,
        },
        number_id: Some("num_centro".into()),
        idempotency_key: "pw-metrics".into(),
    };
    let store = server.ingest.store().clone();
    let phase = || store.read().replies().get("pw-metrics").map(|r| r.phase);
    replier.send(request.clone(), None, 1);
    common::wait_for("the 503", || phase() == Some(ReplyPhase::Failed)).await;
    replier.send(request, None, 2);
    common::wait_for("the retry", || phase() == Some(ReplyPhase::Accepted)).await;
    common::wait_for("the app's answer", || store.read().forwards().ok == 1).await;

    let (_, text) = scrape(server.url("/metrics")).await;
    let got = samples(&text);
    assert_eq!(got[r#"pilotwatch_api_calls_total{status="503"}"#], 1.0);
    assert_eq!(got[r#"pilotwatch_api_calls_total{status="2xx"}"#], 1.0);
    assert_eq!(got[r#"pilotwatch_forwards_total{outcome="ok"}"#], 1.0);
    assert_eq!(got[r#"pilotwatch_forwards_total{outcome="failed"}"#], 0.0);
    // The accepted reply is an outbound row of its number, queued until a webhook.
    let queued = r#"pilotwatch_messages{number="num_centro",status="queued"}"#;
    assert_eq!(got.get(queued), Some(&1.0), "{text}");
    // Replies are no deliveries.
    let deliveries = r#"pilotwatch_deliveries_total{family="message",verdict="known"}"#;
    assert_eq!(got[deliveries], 1.0);
    promtool_accepts(&text);
    server.stop().await;
}
