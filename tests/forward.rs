//! `--forward-to`: identical bytes and headers reach a loopback app; a down or slow app
//! never delays the answer to the provider. `--respond`: a chosen status after the write.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::HeaderMap;
use common::{Running, client, settings, wait_for, with_secrets};
use parking_lot::Mutex;
use pilotwatch::signature::sign;

type Seen = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

/// The user's app: records what it gets, answers 201 after `delay`.
async fn app(delay: Duration) -> (String, Seen) {
    let seen: Seen = Default::default();
    let s = seen.clone();
    let router = axum::Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
        let s = s.clone();
        async move {
            tokio::time::sleep(delay).await;
            s.lock().push((headers, body));
            (axum::http::StatusCode::CREATED, "thanks from the app")
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks/pilot", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, seen)
}

const SECRET: &str = "whsec_forward_test";

async fn post(server: &Running, body: &str) -> Duration {
    let started = Instant::now();
    let res = client()
        .post(server.url("/hooks"))
        .header("content-type", "application/json; charset=utf-8")
        .header("x-pilot-status-signature", sign(SECRET, body.as_bytes()))
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    started.elapsed()
}

fn body(i: usize) -> String {
    format!(
        r#"{{"event":"message.received","data":{{"from":"+1","to":"+2","numberId":"n","messageId":"w{i}","id":"f{i}","fromMe":false,"content":"forward me {i} ✓","createdAt":"2026-11-21T12:00:00Z"}}}}"#
    )
}

#[tokio::test]
async fn the_app_gets_identical_bytes_and_headers() {
    let (url, seen) = app(Duration::ZERO).await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = with_secrets(settings(dir.path()), &[SECRET]);
    s.forward_to = Some(url);
    let server = Running::start(&s).await;
    post(&server, &body(1)).await;
    // A refused delivery is not forwarded.
    client()
        .post(server.url("/hooks"))
        .body(body(2))
        .send()
        .await
        .unwrap();
    wait_for("the forward", || !seen.lock().is_empty()).await;
    server.ingest.settled().await;
    let store = server.ingest.store().clone();
    wait_for("the app's answer on record", || {
        store.read().forwards().ok == 1
    })
    .await;
    let (headers, bytes) = seen.lock()[0].clone();
    assert_eq!(&bytes[..], body(1).as_bytes());
    assert_eq!(headers["content-type"], "application/json; charset=utf-8");
    assert_eq!(
        headers["x-pilot-status-signature"].to_str().unwrap(),
        sign(SECRET, body(1).as_bytes())
    );
    assert_eq!(headers["x-pilotwatch-seq"], "1");
    let r = store.read().forwards().of(1)[0].clone();
    assert_eq!(
        (r.status, r.body_head.as_str(), r.replay),
        (Some(201), "thanks from the app", false)
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        seen.lock().len(),
        1,
        "the rejected delivery was not forwarded"
    );

    // A replay by hand is marked as one.
    let record = store.read().record(1).cloned().unwrap();
    server
        .forwarder()
        .unwrap()
        .replay(std::sync::Arc::new(record));
    wait_for("the replay", || seen.lock().len() == 2).await;
    assert_eq!(seen.lock()[1].0["x-pilotwatch-replay"], "true");
    assert_eq!(&seen.lock()[1].1[..], body(1).as_bytes());
    server.stop().await;
}

#[tokio::test]
async fn a_down_or_slow_app_never_delays_the_acks() {
    // Down: nothing listens there.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut s = with_secrets(settings(dir.path()), &[SECRET]);
    s.forward_to = Some(format!("http://{closed}/"));
    let server = Running::start(&s).await;
    for i in 0..20 {
        assert!(post(&server, &body(i)).await < Duration::from_millis(1000));
    }
    server.ingest.settled().await;
    let store = server.ingest.store().clone();
    wait_for("the failures on record", || {
        store.read().forwards().failed == 20
    })
    .await;
    assert_eq!(
        store.read().forwards().of(1)[0].error.as_deref(),
        Some("connection refused")
    );
    server.stop().await;

    // Slow: the app takes 3 s per request, 8 at a time; 40 deliveries still ack at once.
    let (url, seen) = app(Duration::from_secs(3)).await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = with_secrets(settings(dir.path()), &[SECRET]);
    s.forward_to = Some(url);
    let server = Running::start(&s).await;
    let started = Instant::now();
    let mut slowest = Duration::ZERO;
    for i in 0..40 {
        slowest = slowest.max(post(&server, &body(i)).await);
    }
    let all = started.elapsed();
    eprintln!("40 acks with a 3 s app: {all:?} in all, slowest {slowest:?}");
    assert!(
        all < Duration::from_secs(3),
        "acks waited for the app: {all:?}"
    );
    assert!(
        seen.lock().len() < 40,
        "the app cannot have answered everything yet"
    );
    server.stop().await;
}

#[tokio::test]
async fn respond_answers_with_the_chosen_status_after_the_write() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = settings(dir.path());
    s.respond = Some(503);
    s.respond_delay = Duration::from_millis(300);
    let server = Running::start(&s).await;
    let started = Instant::now();
    let res = client()
        .post(server.url("/"))
        .body(body(1))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    assert!(started.elapsed() >= Duration::from_millis(300));
    // Journaled and stored all the same: the provider's retry will be a duplicate.
    server.ingest.settled().await;
    assert_eq!(server.ingest.store().read().counters().total, 1);
    let again: serde_json::Value = client()
        .post(server.url("/"))
        .body(body(1))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["duplicateOf"], 1);
    server.stop().await;
}

#[tokio::test]
async fn a_failed_forward_does_not_quote_the_urls_credentials() {
    // An app that answers something that is not HTTP: reqwest's error for it names the
    // URL unless told not to.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut s, _)) = listener.accept().await {
            let _ = s.read(&mut [0u8; 4096]).await;
            let _ = s.write_all(b"not http at all\r\n\r\n").await;
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let mut s = with_secrets(settings(dir.path()), &[SECRET]);
    s.forward_to = Some(format!(
        "http://app-user:pw-CANARY-1@{addr}/hook?token=qs-CANARY-2"
    ));
    let server = Running::start(&s).await;
    post(&server, &body(1)).await;
    let store = server.ingest.store().clone();
    wait_for("the failure on record", || {
        store.read().forwards().failed == 1
    })
    .await;
    let error = store.read().forwards().of(1)[0].error.clone().unwrap();
    assert!(!error.is_empty());
    assert!(!error.contains("CANARY"), "{error}");
    println!("a failed forward, as recorded: {error}");
    server.stop().await;
}
