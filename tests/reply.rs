//! Replies end to end without a terminal: the real receiver, the replier, and the fake
//! API playing the provider (202, then the message.sent/delivered/read webhooks back).

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Running, client, settings, wait_for, with_secrets};
use pilotwatch::api::{ApiClient, SendBody, SendRequest};
use pilotwatch::demo::fake_api::{Answer, FakeApi, Webhooks};
use pilotwatch::journal::replay::read_all;
use pilotwatch::model::outbound::{InReplyTo, ReplyPhase};
use pilotwatch::record::RecordKind;
use pilotwatch::reply::Replier;
use pilotwatch::secret::Secret;
use pilotwatch::store::Status;
use serde_json::json;

const KEY: &str = "ps_live_canary_fedcba9876543210";
const SECRET: &str = "whsec_reply_test_secret";

const INBOUND: &str = r#"{"event":"message.received","data":{"from":"+5511987650001","to":"+5511940001000","numberId":"num_centro","messageId":"wamid.IN1","id":"in_1","type":"text","fromMe":false,"content":"Vocês abrem no sábado?","participantName":"Ana Souza","createdAt":"2026-11-21T12:00:00.000Z"}}"#;

fn request(key: &str) -> SendRequest {
    SendRequest {
        body: SendBody {
            text: "Abrimos sim, das 9h às 13h".into(),
            destination_number: Some("+5511987650001".into()),
            group_id: None,
        },
        number_id: Some("num_centro".into()),
        idempotency_key: key.into(),
    }
}

fn in_reply_to() -> InReplyTo {
    InReplyTo {
        id: "in_1".into(),
        event: "message.received".into(),
    }
}

async fn post_signed(server: &Running, body: &str) {
    let sig = pilotwatch::signature::sign(SECRET, body.as_bytes());
    let res = client()
        .post(server.url("/hooks"))
        .header("x-pilot-status-signature", sig)
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_reply_goes_out_and_its_lifecycle_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let s = with_secrets(settings(dir.path()), &[SECRET]);
    let server = Running::start(&s).await;
    post_signed(&server, INBOUND).await;

    let fake = FakeApi::start().await.unwrap();
    fake.send_webhooks(Webhooks {
        url: server.url("/hooks"),
        secret: Some(SECRET.into()),
        delays: [
            Duration::from_millis(50),
            Duration::from_millis(50),
            Duration::from_millis(50),
        ],
    });
    let api = ApiClient::new(&fake.base_url(), Secret::new(KEY), Duration::from_secs(5)).unwrap();
    let replier = Arc::new(Replier::new(Some(api), server.ingest.clone()));
    replier.send(request("pw-lifecycle"), Some(in_reply_to()), 1);

    server.ingest.settled().await;
    let store = server.ingest.store().clone();
    wait_for("the reply to be read", || {
        store
            .read()
            .messages()
            .outbound("msg_fake_0001")
            .is_some_and(|m| m.status() == Status::Read)
    })
    .await;
    {
        let store = store.read();
        let row = store.messages().outbound("msg_fake_0001").unwrap();
        assert_eq!(row.content(), Some("Abrimos sim, das 9h às 13h"));
        assert_eq!(row.to(), "+5511987650001");
        assert_eq!(row.api_status(), Some("QUEUED"));
        assert!(row.lifecycle.sent.is_some() && row.lifecycle.delivered.is_some());
        let reply = store
            .replies()
            .latest_to("message.received", "in_1")
            .unwrap();
        assert_eq!(
            reply.phase,
            ReplyPhase::Accepted,
            "the answered message shows it was answered"
        );
        assert_eq!(store.counters().sends, 2);
        assert_eq!(
            store.counters().total,
            4,
            "the inbound + three webhooks; sends are not deliveries"
        );
    }
    server.stop().await;

    // The history survives a restart: what was sent is in the journal, without the key.
    let journal = std::fs::read_to_string(s.journal.as_ref().unwrap()).unwrap();
    assert!(!journal.contains(KEY), "the API key is in the journal");
    let (records, _) = read_all(s.journal.as_ref().unwrap()).unwrap();
    let outbound: Vec<_> = records
        .iter()
        .filter(|r| r.kind == RecordKind::Outbound)
        .map(|r| r.event.as_ref().unwrap().to_string())
        .collect();
    assert_eq!(outbound, vec!["outbound.sending", "outbound.accepted"]);
    // Headless output says what went out, and how it went.
    let accepted = records
        .iter()
        .find(|r| {
            r.event
                .as_ref()
                .is_some_and(|e| e.as_str() == "outbound.accepted")
        })
        .unwrap();
    let line = pilotwatch::headless::format_line(accepted, &pilotwatch::store::Store::new(10));
    assert!(
        line.contains("→ +5511987650001 \"Abrimos sim, das 9h às 13h\" · 202 QUEUED msg_fake_0001"),
        "{line}"
    );
    let server = Running::start(&s).await;
    {
        server.ingest.settled().await;
        let store = server.ingest.store().read();
        assert_eq!(
            store.messages().outbound("msg_fake_0001").unwrap().status(),
            Status::Read
        );
        assert_eq!(
            store
                .replies()
                .latest_to("message.received", "in_1")
                .unwrap()
                .phase,
            ReplyPhase::Accepted
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn a_failed_reply_is_retried_with_the_same_key_and_body() {
    let dir = tempfile::tempdir().unwrap();
    let s = settings(dir.path());
    let server = Running::start(&s).await;
    client()
        .post(server.url("/"))
        .body(INBOUND)
        .send()
        .await
        .unwrap();
    let fake = FakeApi::start().await.unwrap();
    fake.answer(Answer::Status(503, json!({"error": "try later"}), None));
    let api = ApiClient::new(&fake.base_url(), Secret::new(KEY), Duration::from_secs(5)).unwrap();
    let replier = Arc::new(Replier::new(Some(api), server.ingest.clone()));
    replier.send(request("pw-retry"), Some(in_reply_to()), 1);
    server.ingest.settled().await;
    let store = server.ingest.store().clone();
    wait_for("the failure", || {
        store
            .read()
            .replies()
            .latest_to("message.received", "in_1")
            .is_some_and(|r| r.phase == ReplyPhase::Failed)
    })
    .await;
    let (req, attempts) = {
        let store = store.read();
        let r = store
            .replies()
            .latest_to("message.received", "in_1")
            .unwrap();
        assert!(r.error.as_ref().unwrap().to_string().contains("HTTP 503"));
        (r.request.clone(), r.attempts)
    };
    replier.send(req, Some(in_reply_to()), attempts + 1);
    wait_for("the retry", || {
        store
            .read()
            .replies()
            .latest_to("message.received", "in_1")
            .is_some_and(|r| r.phase == ReplyPhase::Accepted)
    })
    .await;
    let seen = fake.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        seen[0].header("idempotency-key"),
        seen[1].header("idempotency-key")
    );
    assert_eq!(seen[0].body, seen[1].body);
    assert_eq!(
        store
            .read()
            .replies()
            .latest_to("message.received", "in_1")
            .unwrap()
            .attempts,
        2
    );
    server.stop().await;
}

#[tokio::test]
async fn without_a_key_nothing_is_sent_and_the_reason_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let server = Running::start(&settings(dir.path())).await;
    let replier = Arc::new(Replier::new(None, server.ingest.clone()));
    assert!(!replier.can_send());
    replier.send(request("pw-nokey"), Some(in_reply_to()), 1);
    server.ingest.settled().await;
    let store = server.ingest.store().clone();
    wait_for("the refusal", || {
        store
            .read()
            .replies()
            .get("pw-nokey")
            .is_some_and(|r| r.phase == ReplyPhase::Failed)
    })
    .await;
    assert!(
        store
            .read()
            .replies()
            .get("pw-nokey")
            .unwrap()
            .error
            .as_ref()
            .unwrap()
            .to_string()
            .contains("PILOT_STATUS_API_KEY")
    );
    server.stop().await;
}
