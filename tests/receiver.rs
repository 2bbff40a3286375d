//! The real receiver on a loopback port, a real HTTP client, and the journal and store
//! read back afterwards.

mod common;

use std::collections::HashSet;

use common::{Running, client, corpus, settings, with_secrets};
use pilotwatch::journal::replay::read_all;
use pilotwatch::model::Verdict;
use pilotwatch::record::SignatureCheck;
use pilotwatch::signature::sign;
use reqwest::StatusCode;

const SECRET: &str = "whsec_test_0123456789";

fn message(id: &str, event: &str) -> String {
    format!(
        r#"{{"event":"{event}","data":{{"to":"+5511999999999","numberId":"n1","messageId":"wa-{id}","id":"{id}","type":"text","fromMe":true,"content":"hello {id}","createdAt":"2026-02-24T15:00:05.000Z"}}}}"#
    )
}

#[tokio::test]
async fn every_corpus_file_is_accepted_journaled_and_stored() {
    let dir = tempfile::tempdir().unwrap();
    let s = settings(dir.path());
    let server = Running::start(&s).await;
    let http = client();
    let files = corpus();
    for (file, _, body) in &files {
        let res = http
            .post(server.url("/hooks/pilot"))
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{file}");
    }
    let (counters, feed_len) = {
        server.ingest.settled().await;
        let store = server.ingest.store().read();
        (store.counters().clone(), store.feed().len())
    };
    server.stop().await;

    let (records, report) = read_all(s.journal.as_ref().unwrap()).unwrap();
    assert!(report.corrupt.is_empty() && report.torn_tail.is_none());
    assert_eq!(records.len(), files.len());
    assert_eq!(feed_len, files.len());
    for ((file, sdk, body), r) in files.iter().zip(&records) {
        assert_eq!(
            &r.body.bytes()[..],
            &body[..],
            "{file}: raw body kept byte for byte"
        );
        assert_eq!(&*r.path, "/hooks/pilot");
        assert_eq!(r.signature, SignatureCheck::Unchecked);
        assert!(r.remote.unwrap().ip().is_loopback());
        let expected = match sdk.as_str() {
            "broken" => Verdict::Broken,
            "known" => Verdict::Known,
            _ => r.verdict, // documented families may be typed
        };
        assert_eq!(r.verdict, expected, "{file}");
        assert_ne!(r.verdict, Verdict::Rejected, "{file}");
    }
    assert_eq!(counters.verdict(Verdict::Broken), 5);
    assert_eq!(counters.verdict(Verdict::Rejected), 0);
    assert_eq!(
        counters.signature(SignatureCheck::Unchecked),
        files.len() as u64
    );
}

#[tokio::test]
async fn signatures_valid_wrong_missing_and_rotated() {
    let dir = tempfile::tempdir().unwrap();
    let s = with_secrets(settings(dir.path()), &[SECRET, "whsec_previous_secret"]);
    let server = Running::start(&s).await;
    let http = client();
    let body = message("m1", "message.sent");
    let post = |sig: Option<String>, body: String| {
        let mut req = http.post(server.url("/")).body(body);
        if let Some(sig) = sig {
            req = req.header("x-pilot-status-signature", sig);
        }
        req.send()
    };
    assert_eq!(
        post(Some(sign(SECRET, body.as_bytes())), body.clone())
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    // The previous secret still verifies during a rotation.
    let other = message("m2", "message.sent");
    assert_eq!(
        post(Some(sign("whsec_previous_secret", other.as_bytes())), other)
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    // Wrong secret, wrong body, missing: 401.
    let res = post(Some(sign("whsec_wrong", body.as_bytes())), body.clone())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(res.text().await.unwrap(), "signature invalid\n");
    let big = format!("{}{}", message("m3", "message.sent"), " ".repeat(20_000));
    assert_eq!(
        post(Some(sign(SECRET, b"something else")), big)
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        post(None, body.clone()).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    server.stop().await;

    let (records, _) = read_all(s.journal.as_ref().unwrap()).unwrap();
    let sigs: Vec<_> = records.iter().map(|r| (r.signature, r.verdict)).collect();
    assert_eq!(
        sigs,
        vec![
            (SignatureCheck::Valid, Verdict::Known),
            (SignatureCheck::Valid, Verdict::Known),
            (SignatureCheck::Invalid, Verdict::Rejected),
            (SignatureCheck::Invalid, Verdict::Rejected),
            (SignatureCheck::Missing, Verdict::Rejected),
        ]
    );
    // A refused body is kept only in part.
    assert_eq!(records[3].body.len(), 4096);
    assert!(records[3].body_len > 20_000);
    let journal = std::fs::read_to_string(s.journal.as_ref().unwrap()).unwrap();
    assert!(
        !journal.contains(SECRET) && !journal.contains("whsec_previous_secret"),
        "no secret in the journal"
    );
}

#[tokio::test]
async fn over_the_limit_is_413_and_not_json_is_400_both_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = with_secrets(settings(dir.path()), &[SECRET]);
    s.max_body = 1000;
    let server = Running::start(&s).await;
    let http = client();
    let big = format!(r#"{{"event":"message.sent","pad":"{}"}}"#, "x".repeat(5000));
    let res = http
        .post(server.url("/"))
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Without a declared length (chunked), the limit holds too.
    let stream = futures_stream(big.clone().into_bytes());
    let res = http
        .post(server.url("/"))
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let res = http
        .post(server.url("/"))
        .header(
            "x-pilot-status-signature",
            sign(SECRET, b"{\"event\": nope"),
        )
        .body("{\"event\": nope")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let reason = res.text().await.unwrap();
    assert!(
        reason.starts_with("invalid JSON") && reason.trim_end().lines().count() == 1,
        "{reason:?}"
    );
    server.stop().await;

    let (records, _) = read_all(s.journal.as_ref().unwrap()).unwrap();
    assert_eq!(records.len(), 3);
    assert!(records.iter().all(|r| r.verdict == Verdict::Rejected));
    // A body not read whole is not verified, so not called "invalid".
    assert_eq!(records[0].signature, SignatureCheck::Unchecked);
    assert!(
        records[0].problems[0].contains("over the 1000-byte limit"),
        "{:?}",
        records[0].problems
    );
    assert!(records[1].body.len() <= 4096 && records[1].body_len > 1000);
    assert_eq!(&records[2].body.bytes()[..], b"{\"event\": nope");
}

fn futures_stream(
    bytes: Vec<u8>,
) -> impl futures_core::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + 'static {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        bytes.chunks(700).map(|c| Ok(c.to_vec())).collect();
    tokio_stream::iter(chunks)
}

#[tokio::test]
async fn a_retry_is_a_duplicate_but_a_status_change_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let s = settings(dir.path());
    let server = Running::start(&s).await;
    let http = client();
    let post = |body: String| http.post(server.url("/")).body(body).send();
    let sent = message("m1", "message.sent");
    let first: serde_json::Value = post(sent.clone()).await.unwrap().json().await.unwrap();
    // Same data.id, different event: a lifecycle step, not a duplicate.
    let delivered: serde_json::Value = post(message("m1", "message.delivered"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(delivered["duplicateOf"], serde_json::Value::Null);
    let res = post(sent.clone()).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let retry: serde_json::Value = res.json().await.unwrap();
    assert_eq!(retry["duplicateOf"], first["seq"]);
    {
        server.ingest.settled().await;
        let store = server.ingest.store().read();
        assert_eq!(store.messages().len(), 1);
        assert_eq!(store.deliveries(first["seq"].as_u64().unwrap()), 2);
        assert_eq!(store.counters().duplicates, 1);
        assert_eq!(
            store.messages().outbound("m1").unwrap().status(),
            pilotwatch::store::Status::Delivered
        );
    }
    server.stop().await;
    let (records, _) = read_all(s.journal.as_ref().unwrap()).unwrap();
    assert_eq!(records[2].duplicate_of, first["seq"].as_u64());

    // After a restart the journal still knows: a late retry is a duplicate too.
    let server = Running::start(&s).await;
    let again: serde_json::Value = client()
        .post(server.url("/"))
        .body(sent)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["duplicateOf"], first["seq"]);
    assert_eq!(again["seq"], 4);
    server.ingest.settled().await;
    assert_eq!(server.ingest.store().read().deliveries(1), 3);
    server.stop().await;
}

#[tokio::test]
async fn two_hundred_concurrent_deliveries_all_land_once() {
    let dir = tempfile::tempdir().unwrap();
    let s = with_secrets(settings(dir.path()), &[SECRET]);
    let server = Running::start(&s).await;
    let http = client();
    let mut tasks = Vec::new();
    for i in 0..200 {
        let (http, url) = (http.clone(), server.url("/hooks"));
        tasks.push(tokio::spawn(async move {
            let body = message(&format!("c{i}"), "message.sent");
            let res = http
                .post(url)
                .header("x-pilot-status-signature", sign(SECRET, body.as_bytes()))
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            res.json::<serde_json::Value>().await.unwrap()["seq"]
                .as_u64()
                .unwrap()
        }));
    }
    let mut seqs = HashSet::new();
    for t in tasks {
        assert!(seqs.insert(t.await.unwrap()), "seqs are unique");
    }
    assert_eq!(seqs, (1..=200).collect());
    server.ingest.settled().await;
    assert_eq!(server.ingest.store().read().messages().len(), 200);
    server.stop().await;
    let (records, _) = read_all(s.journal.as_ref().unwrap()).unwrap();
    assert_eq!(records.len(), 200);
    assert!(
        records.windows(2).all(|w| w[0].seq + 1 == w[1].seq),
        "journal is in seq order"
    );
    assert!(
        records
            .iter()
            .all(|r| r.signature == SignatureCheck::Valid && r.verdict == Verdict::Known)
    );
}

#[tokio::test]
async fn path_narrowing_healthz_and_methods() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = settings(dir.path());
    s.path = Some("/hooks/whatsapp".into());
    let server = Running::start(&s).await;
    let http = client();
    let body = message("p1", "message.sent");
    assert_eq!(
        http.post(server.url("/hooks/whatsapp"))
            .body(body.clone())
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let res = http
        .post(server.url("/elsewhere?token=abc"))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let answer = res.text().await.unwrap();
    assert!(
        !answer.contains("/hooks/whatsapp"),
        "the 404 does not reveal the path: {answer}"
    );
    assert_eq!(
        http.get(server.url("/hooks/whatsapp"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::METHOD_NOT_ALLOWED
    );
    let health = server.health().await;
    assert_eq!(health["status"], "ok");
    assert_eq!(health["signatures"], "unchecked");
    assert_eq!(health["deliveries"], 2);
    server.stop().await;
    let (records, _) = read_all(s.journal.as_ref().unwrap()).unwrap();
    assert_eq!(
        &*records[1].path, "/elsewhere",
        "query strings are not recorded"
    );
    assert_eq!(records[1].verdict, Verdict::Rejected);
    assert_eq!(records[1].signature, SignatureCheck::Unchecked);
}

/// The receiver's own health stays `ok` while a number is down; what the deliveries say
/// about the fleet is reported beside it.
#[tokio::test]
async fn healthz_reports_numbers_not_connected_and_the_last_delivery_age_beside_its_own_status() {
    let dir = tempfile::tempdir().unwrap();
    let server = Running::start(&settings(dir.path())).await;
    let health = server.health().await;
    assert_eq!(health["lastDeliveryAgeSeconds"], serde_json::Value::Null);
    let http = client();
    let connected = r#"{"event":"number.connected","data":{"numberId":"n-ok","phone":"+1","displayName":"Up","createdAt":"2026-02-24T15:00:00.000Z"}}"#;
    let down = r#"{"event":"number.disconnected","data":{"numberId":"n-down","phone":"+2","displayName":"Down","createdAt":"2026-02-24T15:00:00.000Z"}}"#;
    let restored = r#"{"event":"number.restored","data":{"numberId":"n-back","phone":"+3","displayName":"Back","createdAt":"2026-02-24T15:00:00.000Z"}}"#;
    for body in [connected, down, restored] {
        let r = http.post(server.url("/")).body(body).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    let health = server.health().await;
    assert_eq!(health["status"], "ok", "{health}");
    assert_eq!(health["numbers"]["seen"], 3, "{health}");
    let mut down: Vec<(String, String)> = health["numbers"]["notConnected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["name"].as_str().unwrap().to_owned(),
                n["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    down.sort();
    assert_eq!(
        down,
        [
            ("Back".to_owned(), "restored".to_owned()),
            ("Down".to_owned(), "disconnected".to_owned())
        ],
        "a restored number comes back disconnected"
    );
    assert!(
        health["lastDeliveryAgeSeconds"].as_i64().unwrap() <= 1,
        "{health}"
    );
    server.stop().await;
}

/// Well-formed JSON nested far deeper than serde_json's default 128 levels is read as
/// the SDK reads it (an unknown event stays `unknown`, not refused as "not JSON"), on
/// the receiver's own worker threads, and replays; far past any sane depth it is
/// refused with a reason. Integers beyond 64 bits in an integer field are integers.
#[tokio::test]
async fn deep_nesting_and_huge_integers_get_the_sdks_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let s = settings(dir.path());
    let server = Running::start(&s).await;
    let http = client();
    let deep = |levels: usize| {
        format!(
            r#"{{"event":"some.thing","data":{{"x":{}1{}}}}}"#,
            "[".repeat(levels),
            "]".repeat(levels)
        )
    };
    let big = r#"{"event":"call.ended","callId":"c1","direction":"INBOUND","status":"COMPLETED","from":"1","to":"2","timestamp":"t","duration":1000000000000000000000000000000}"#;
    for body in [deep(900), deep(5_000), big.to_owned()] {
        let r = http.post(server.url("/")).body(body).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    let r = http
        .post(server.url("/"))
        .body(deep(200_000))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let why = r.text().await.unwrap();
    assert!(why.contains("levels deep"), "{why}");
    server.ingest.settled().await;
    let verdicts: Vec<Verdict> = server
        .ingest
        .store()
        .read()
        .feed()
        .map(|r| r.verdict)
        .collect();
    assert_eq!(
        verdicts,
        [
            Verdict::Unknown,
            Verdict::Unknown,
            Verdict::Known,
            Verdict::Rejected
        ]
    );
    server.stop().await;
    // And the journal replays them the same.
    let (records, _) = read_all(&dir.path().join("journal.jsonl")).unwrap();
    assert_eq!(records.len(), 4);
}
