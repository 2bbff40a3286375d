//! Reconciling with the provider's API, against the fake provider on loopback: a number
//! known only from the API, a stuck message the API says was delivered, an attempt in the
//! provider's log the journal never got, and 401, 403, 429, 5xx and a timeout each
//! handled without a request storm (the requests are counted), within the budget.

mod common;

use std::time::{Duration, Instant};

use common::{Running, client, wait_for};
use pilotwatch::demo::fake_api::{Answer, FakeApi, Seen};
use pilotwatch::demo::fake_reads::{Scope, WEBHOOK_ID};
use pilotwatch::model::provider::{AccessState, Feature};
use pilotwatch::reconcile::ReconcileSettings;
use pilotwatch::secret::Secret;
use pilotwatch::store::messages::Status;
use serde_json::json;

async fn start(dir: &std::path::Path, fake: &FakeApi, budget: u32) -> Running {
    start_with(dir, fake, budget, true).await
}

async fn start_with(dir: &std::path::Path, fake: &FakeApi, budget: u32, on: bool) -> Running {
    let mut s = common::settings(dir);
    s.api_key = Some(Secret::new("ps_test_reconcile_key"));
    s.base_url = fake.base_url();
    s.api_timeout = Duration::from_millis(500);
    s.reconcile = ReconcileSettings {
        enabled: on,
        api_poll: Duration::from_secs(1),
        reconcile_after: Duration::from_secs(1),
        budget,
    };
    Running::start(&s).await
}

async fn post(server: &Running, body: &serde_json::Value) -> u64 {
    let r = client()
        .post(server.url("/"))
        .json(body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    r.json::<serde_json::Value>().await.unwrap()["seq"]
        .as_u64()
        .unwrap()
}

fn sent(id: &str, ago_secs: i64) -> serde_json::Value {
    json!({"event": "message.sent", "data": {
        "to": "+5511999999999", "numberId": "num_1", "messageId": format!("wamid.{id}"),
        "id": id, "type": "text", "fromMe": true, "content": "hi",
        "createdAt": (chrono::Utc::now() - chrono::Duration::seconds(ago_secs)).to_rfc3339(),
    }})
}

fn gets(fake: &FakeApi, prefix: &str) -> Vec<Seen> {
    fake.seen()
        .into_iter()
        .filter(|s| s.method == "GET" && s.path.starts_with(prefix))
        .collect()
}

async fn until(what: &str, server: &Running, f: impl Fn(&pilotwatch::store::Store) -> bool) {
    wait_for(what, || f(&server.ingest.store().read())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_number_known_only_from_the_api_is_listed_and_a_disagreement_dated() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeApi::start().await.unwrap();
    fake.provider(|p| {
        p.scope = Scope::Both;
        p.numbers = vec![
            json!({"id": "num_api", "number": "+5521900000009", "name": "Filial RJ", "isFullyConnected": false, "coexistence": false}),
        ];
        p.statuses.insert(
            "num_api".into(),
            json!({"id": "num_api", "state": "disconnected", "stale": false, "checkedAt": chrono::Utc::now().to_rfc3339()}),
        );
    });
    let server = start(dir.path(), &fake, 600).await;
    until("the number listed from the API", &server, |s| {
        s.numbers().get("num_api").is_some()
            && s.provider()
                .number("num_api")
                .is_some_and(|n| n.status.is_some())
    })
    .await;
    {
        let store = server.ingest.store().read();
        let row = store.numbers().get("num_api").unwrap();
        assert_eq!(row.display_name.as_deref(), Some("Filial RJ"));
        assert_eq!(row.phone.as_deref(), Some("+5521900000009"));
        let api = store.provider().number("num_api").unwrap();
        assert!(
            api.listed.as_ref().unwrap().meta,
            "coexistence present: a Meta number"
        );
        assert_eq!(api.status.as_ref().unwrap().state, "disconnected");
        assert_eq!(api.disagree_since, None, "no webhook said anything yet");
    }
    // A webhook says connected; the API says disconnected: dated.
    post(
        &server,
        &json!({"event": "number.connected", "data": {"numberId": "num_api", "phone": "+5521900000009", "displayName": "Filial RJ", "createdAt": chrono::Utc::now().to_rfc3339()}}),
    )
    .await;
    until("the disagreement", &server, |s| {
        s.provider()
            .number("num_api")
            .unwrap()
            .disagree_since
            .is_some()
    })
    .await;
    server.stop().await;
    // Journaled: a restart shows the same.
    let server = start(dir.path(), &FakeApi::start().await.unwrap(), 600).await;
    assert!(
        server
            .ingest
            .store()
            .read()
            .numbers()
            .get("num_api")
            .is_some()
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_message_the_api_says_delivered_is_delivered_from_the_api_and_webhook_missing() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeApi::start().await.unwrap();
    fake.provider(|p| {
        p.messages.insert(
            "msg_stuck".into(),
            json!({"id": "msg_stuck", "status": "DELIVERED", "sentAt": chrono::Utc::now().to_rfc3339(), "deliveredAt": chrono::Utc::now().to_rfc3339()}),
        );
    });
    let server = start(dir.path(), &fake, 600).await;
    post(&server, &sent("msg_stuck", 30)).await;
    // A fresh one is not looked up yet.
    post(&server, &sent("msg_fresh", -3600)).await;
    until("the API's answer merged", &server, |s| {
        s.messages()
            .outbound("msg_stuck")
            .is_some_and(|r| r.status() == Status::Delivered)
    })
    .await;
    {
        let store = server.ingest.store().read();
        let row = store.messages().outbound("msg_stuck").unwrap();
        assert_eq!(row.webhook_missing(), Some("delivered"));
        assert_eq!(store.messages().missing(), 1);
    }
    assert!(gets(&fake, "/v1/messages/msg_fresh").is_empty());
    assert_eq!(
        gets(&fake, "/v1/messages/msg_stuck").len(),
        1,
        "looked up once"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attempt_in_the_providers_log_with_no_journal_match_is_listed_as_lost() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeApi::start().await.unwrap();
    let server = start(dir.path(), &fake, 600).await;
    let got = sent("msg_got", 120);
    let seq = post(&server, &got).await;
    let never = sent("msg_never", 120);
    let two_min_ago = (chrono::Utc::now() - chrono::Duration::seconds(120)).to_rfc3339();
    fake.provider(|p| {
        p.log("message.sent", got.clone(), Some(200), "{\"ok\":true}");
        p.log("message.sent", never.clone(), Some(200), "{\"ok\":true}");
        p.log("message.sent", never.clone(), Some(502), "bad gateway");
        for a in p.logs.get_mut(WEBHOOK_ID).unwrap() {
            a["createdAt"] = json!(two_min_ago);
        }
    });
    until("the provider's log read", &server, |s| {
        s.provider().attempts().count() == 3
    })
    .await;
    {
        let store = server.ingest.store().read();
        let p = store.provider();
        let matched: Vec<Option<u64>> = p.attempts().map(|a| a.attempt.matched).collect();
        assert_eq!(matched, [None, None, Some(seq)], "newest first");
        assert_eq!((p.lost, p.failed), (2, 1));
    }
    // Read again a poll later: nothing is journaled twice.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        server
            .ingest
            .store()
            .read()
            .provider()
            .since(0)
            .filter(|r| r
                .event
                .as_ref()
                .is_some_and(|e| e.as_str() == "api.webhook_log"))
            .count(),
        1
    );
    server.stop().await;
}

/// Requests to `prefix` in the first `secs` after `t0`.
fn count(fake: &FakeApi, prefix: &str, t0: Instant, secs: f64) -> usize {
    gets(fake, prefix)
        .iter()
        .filter(|s| s.at.duration_since(t0).as_secs_f64() < secs)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_key_is_said_once_and_polling_pauses() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeApi::start().await.unwrap();
    fake.provider(|p| {
        p.reads.push_back(Answer::Status(
            401,
            json!({"error": "Invalid API key"}),
            None,
        ));
    });
    let t0 = Instant::now();
    let server = start(dir.path(), &fake, 600).await;
    until("the 401 said", &server, |s| {
        s.provider()
            .access(Feature::Numbers)
            .is_some_and(|(st, _)| st == AccessState::Unauthorized)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let all = count(&fake, "/v1/", t0, 100.0);
    assert!(all <= 3, "{all} requests after a 401: polling must pause");
    {
        let store = server.ingest.store().read();
        let (_, why) = store.provider().access(Feature::Messages).unwrap();
        assert!(
            why.contains("401") && why.contains("PILOT_STATUS_API_KEY"),
            "{why}"
        );
        let refused = store
            .provider()
            .since(0)
            .filter(|r| {
                std::str::from_utf8(&r.body.get())
                    .unwrap()
                    .contains("\"unauthorized\"")
            })
            .count();
        assert_eq!(refused, 3, "said once per feature");
        for f in Feature::ALL {
            assert_eq!(
                store.provider().access(f).unwrap().0,
                AccessState::Unauthorized
            );
        }
        // The key is nowhere in the journal.
    }
    server.stop().await;
    let journal = std::fs::read_to_string(dir.path().join("journal.jsonl")).unwrap();
    assert!(!journal.contains("ps_test_reconcile_key"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_out_of_scope_turns_that_feature_off_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeApi::start().await.unwrap();
    // A number-scoped key: messages yes, the numbers list no.
    fake.provider(|p| p.scope = Scope::Number);
    let t0 = Instant::now();
    let server = start(dir.path(), &fake, 600).await;
    until("numbers off", &server, |s| {
        s.provider()
            .access(Feature::Numbers)
            .is_some_and(|(st, _)| st == AccessState::OutOfScope)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        count(&fake, "/v1/numbers", t0, 100.0),
        1,
        "asked once, then off"
    );
    assert!(
        count(&fake, "/v1/webhooks", t0, 100.0) >= 2,
        "the rest goes on"
    );
    {
        let store = server.ingest.store().read();
        let (_, why) = store.provider().access(Feature::Numbers).unwrap();
        assert!(why.contains("number-scoped"), "{why}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_5xx_and_timeouts_slow_the_client_down() {
    // 429 with Retry-After: 3 s of nothing.
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeApi::start().await.unwrap();
    fake.provider(|p| {
        p.reads.push_back(Answer::Status(
            429,
            json!({"error": "slow down"}),
            Some("3".into()),
        ));
    });
    let t0 = Instant::now();
    let server = start(dir.path(), &fake, 600).await;
    tokio::time::sleep(Duration::from_millis(4500)).await;
    let first: Vec<f64> = gets(&fake, "/v1/")
        .iter()
        .map(|s| s.at.duration_since(t0).as_secs_f64())
        .collect();
    // Those already in flight when the 429 came (started with it) aside, nothing
    // starts before Retry-After is over.
    let inside = first
        .iter()
        .filter(|t| **t > first[0] + 0.2 && **t < first[0] + 2.9)
        .count();
    assert_eq!(inside, 0, "requests inside Retry-After: {first:?}");
    assert!(
        first.iter().any(|t| *t >= first[0] + 2.9),
        "resumed after it: {first:?}"
    );
    server.stop().await;

    // Three 5xx in a row, then a timeout: backoff 2 s, 4 s, 8 s…: few requests.
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeApi::start().await.unwrap();
    fake.provider(|p| {
        for _ in 0..3 {
            p.reads
                .push_back(Answer::Status(503, json!({"error": "down"}), None));
        }
        p.reads.push_back(Answer::Slow(
            Duration::from_secs(2),
            Box::new(Answer::Status(200, json!([]), None)),
        ));
    });
    let t0 = Instant::now();
    let server = start(dir.path(), &fake, 600).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let n = count(&fake, "/v1/", t0, 5.0);
    println!("requests in 5 s while the API fails: {n}");
    assert!(n <= 6, "{n} requests in 5 s against a failing API");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_stuck_messages_stay_within_the_budget() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeApi::start().await.unwrap();
    let budget = 30;
    let server = start(dir.path(), &fake, budget).await;
    for i in 0..1000 {
        post(&server, &sent(&format!("msg_{i:04}"), 600)).await;
    }
    let t0 = Instant::now();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let all = fake.seen().iter().filter(|s| s.method == "GET").count();
    let lookups = gets(&fake, "/v1/messages/").len();
    println!(
        "{lookups} lookups, {all} requests in all, {:?} after 1000 stuck messages (budget {budget}/min)",
        t0.elapsed()
    );
    assert!(
        all <= budget as usize,
        "{all} requests: over the budget of {budget} a minute"
    );
    assert!(
        lookups >= 20,
        "only {lookups} lookups: the budget should be used"
    );
    server.stop().await;
}

/// An attempt not matched yet waits out its grace even after it has scrolled out of the
/// provider's newest 50: then it is listed as lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unmatched_attempt_that_scrolls_out_of_the_log_is_still_listed_lost() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeApi::start().await.unwrap();
    let server = start(dir.path(), &fake, 600).await;
    fake.provider(|p| p.log("message.sent", sent("msg_gone", 0), Some(200), "ok"));
    // Read once (too young to call lost), then 60 newer ones push it out of the 50.
    wait_for("the log read", || !gets(&fake, "/v1/webhooks/").is_empty()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    fake.provider(|p| {
        for i in 0..60 {
            p.log("message.received", json!({"i": i}), Some(200), "ok");
        }
    });
    until("the scrolled-out attempt listed lost", &server, |s| {
        s.provider()
            .attempts()
            .any(|a| a.attempt.id == "log_00001" && a.lost())
    })
    .await;
    server.stop().await;
}

/// The newest page of the number's history is read at start: earlier messages join
/// their contact's thread, those a webhook already brought are not doubled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_history_fills_a_threads_earlier_messages_without_doubles() {
    use pilotwatch::store::conversations::{ConversationKey, contact_key};
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeApi::start().await.unwrap();
    let at = |h: i64| (chrono::Utc::now() - chrono::Duration::hours(h)).to_rfc3339();
    fake.provider(|p| {
        p.history = vec![
            json!({"id": "msg_known", "direction": "OUTBOUND", "externalMessageId": "wamid.msg_known", "status": "DELIVERED", "text": "already here", "participantPhone": "+5511999999999", "sentAt": at(1)}),
            json!({"id": "h2", "direction": "INBOUND", "text": "Oi, tudo bem?", "participantName": "Ana", "participantPhone": "+5511999999999", "sentAt": at(30)}),
            json!({"id": "h3", "direction": "OUTBOUND", "text": null, "participantPhone": "+5511999999999", "sentAt": at(40), "redacted": true}),
        ];
    });
    // Before the reconciler starts: a webhook brought msg_known already.
    let server = start_with(dir.path(), &fake, 600, false).await;
    post(&server, &sent("msg_known", 5)).await;
    server.stop().await;
    let server = start(dir.path(), &fake, 600).await;
    until("the history read", &server, |s| {
        s.conversations().history_pages("num_1").is_some()
    })
    .await;
    {
        let store = server.ingest.store().read();
        let key = ConversationKey {
            number: "num_1".into(),
            contact: contact_key("+5511999999999"),
        };
        let c = store.conversations().get(&key).expect("the thread");
        let ids: Vec<&str> = c.history.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(
            ids,
            ["h3", "h2"],
            "oldest first, msg_known not doubled: {ids:?}"
        );
        assert!(c.history[0].redacted && c.history[0].text.is_none());
        assert_eq!(store.conversations().history_pages("num_1"), Some((1, 1)));
    }
    assert_eq!(gets(&fake, "/v1/messages/history").len(), 1, "read once");
    server.stop().await;
}

/// A key refused in one run is tried afresh after a restart (with a fixed key).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_tries_the_key_again() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeApi::start().await.unwrap();
    fake.provider(|p| {
        p.reads.push_back(Answer::Status(
            401,
            json!({"error": "Invalid API key"}),
            None,
        ));
    });
    let server = start(dir.path(), &fake, 600).await;
    until("the 401 said", &server, |s| {
        s.provider()
            .access(Feature::Webhooks)
            .is_some_and(|(st, _)| st == AccessState::Unauthorized)
    })
    .await;
    server.stop().await;
    let fake = FakeApi::start().await.unwrap();
    let server = start(dir.path(), &fake, 600).await;
    until("webhooks read again", &server, |s| {
        s.provider()
            .access(Feature::Webhooks)
            .is_some_and(|(st, _)| st == AccessState::Ok)
    })
    .await;
    server.stop().await;
}
