//! The provider's side folded into the store, beside what the webhooks said.

use chrono::{DateTime, Utc};

use crate::model::provider::*;
use crate::record::Record;
use crate::store::messages::Status;
use crate::store::{NumberState, Store};

fn t(secs: i64) -> DateTime<Utc> {
    "2026-11-29T10:00:00Z".parse::<DateTime<Utc>>().unwrap() + chrono::Duration::seconds(secs)
}

struct World {
    store: Store,
    seq: u64,
}

impl World {
    fn new() -> Self {
        Self {
            store: Store::new(1000),
            seq: 0,
        }
    }

    fn api(&mut self, secs: i64, a: ApiRecord) -> u64 {
        self.seq += 1;
        let mut r = Record::api(&a);
        r.seq = self.seq;
        r.received_at = t(secs);
        self.store.apply(r);
        self.seq
    }

    fn post(&mut self, secs: i64, body: &str) {
        self.seq += 1;
        let mut r = Record::delivery(self.seq, body.as_bytes());
        r.received_at = t(secs);
        self.store.apply(r);
    }

    fn number(&mut self, secs: i64, event: &str) {
        self.post(
            secs,
            &format!(
                r#"{{"event":"number.{event}","data":{{"numberId":"n1","phone":"+5511900000001","displayName":"Main store","createdAt":"{}"}}}}"#,
                t(secs).to_rfc3339()
            ),
        );
    }

    fn message(&mut self, secs: i64, event: &str, id: &str) {
        self.post(
            secs,
            &format!(
                r#"{{"event":"message.{event}","data":{{"to":"+5511999999999","numberId":"n1","messageId":"wa-{id}","id":"{id}","type":"text","fromMe":true,"content":"hi","createdAt":"{}"}}}}"#,
                t(secs).to_rfc3339()
            ),
        );
    }
}

fn status(state: &str) -> ApiRecord {
    ApiRecord::NumberStatus(ApiNumberStatus {
        id: "n1".into(),
        state: state.into(),
        stale: false,
        checked_at: Some(t(0)),
        last_known_at: None,
    })
}

#[test]
fn a_number_known_only_from_the_api_is_listed_with_its_name() {
    let mut w = World::new();
    w.api(
        0,
        ApiRecord::Numbers {
            numbers: vec![ApiNumber {
                id: "n9".into(),
                number: Some("+5521900000009".into()),
                name: Some("Filial \u{1b}[31mRJ".into()),
                is_fully_connected: Some(false),
                meta: true,
                extra_charge_unpaid_since: None,
            }],
        },
    );
    let row = w.store.numbers().get("n9").expect("listed");
    assert_eq!(
        row.state,
        NumberState::Unknown,
        "no webhook said anything yet"
    );
    assert_eq!(row.phone.as_deref(), Some("+5521900000009"));
    assert!(!row.display_name.as_deref().unwrap().contains('\u{1b}'));
    assert!(
        w.store
            .provider()
            .number("n9")
            .unwrap()
            .listed
            .as_ref()
            .unwrap()
            .meta
    );
}

#[test]
fn a_disagreement_between_the_api_and_the_webhooks_is_dated_and_cleared() {
    let mut w = World::new();
    w.number(0, "connected");
    w.api(10, status("disconnected"));
    let row = w.store.provider().number("n1").unwrap();
    assert_eq!(row.disagree_since, Some(t(10)));
    // The webhook catches up: they agree again.
    w.number(40, "disconnected");
    assert_eq!(
        w.store.provider().number("n1").unwrap().disagree_since,
        None
    );
    // And the reverse: the API says connected, the webhooks disconnected.
    w.api(50, status("connected"));
    assert_eq!(
        w.store.provider().number("n1").unwrap().disagree_since,
        Some(t(50))
    );
}

#[test]
fn a_stuck_message_the_api_says_delivered_is_delivered_from_the_api_and_webhook_missing() {
    let mut w = World::new();
    w.message(0, "sent", "m1");
    assert_eq!(w.store.messages().unsettled().count(), 1);
    let api_seq = w.api(
        200,
        ApiRecord::Message(ApiMessage {
            id: "m1".into(),
            status: "DELIVERED".into(),
            sent_at: Some(t(1)),
            delivered_at: Some(t(3)),
            read_at: None,
            error_code: None,
            error_message: None,
        }),
    );
    let row = w.store.messages().outbound("m1").unwrap();
    assert_eq!(row.status(), Status::Delivered);
    assert_eq!(row.webhook_missing(), Some("delivered"));
    assert_eq!(row.lifecycle.delivered.unwrap().seq, api_seq);
    assert_eq!(
        row.api().unwrap().from_api,
        [false, true, false, false],
        "sent came by webhook"
    );
    assert_eq!(w.store.messages().missing(), 1);
    assert_eq!(w.store.messages().unsettled().count(), 0, "no longer stuck");
    // The webhook arrives after all: late, not lost.
    w.message(300, "delivered", "m1");
    let row = w.store.messages().outbound("m1").unwrap();
    assert_eq!(row.webhook_missing(), None);
    assert_ne!(row.lifecycle.delivered.unwrap().seq, api_seq);
    assert_eq!(w.store.messages().missing(), 0);
}

#[test]
fn a_failure_only_the_api_knows_carries_its_error() {
    let mut w = World::new();
    w.message(0, "sent", "m2");
    w.api(
        200,
        ApiRecord::Message(ApiMessage {
            id: "m2".into(),
            status: "FAILED".into(),
            sent_at: None,
            delivered_at: None,
            read_at: None,
            error_code: Some("WHATSAPP_NOT_EXIST".into()),
            error_message: Some("not on WhatsApp".into()),
        }),
    );
    let row = w.store.messages().outbound("m2").unwrap();
    assert_eq!(row.status(), Status::Failed);
    assert_eq!(row.webhook_missing(), Some("failed"));
    assert_eq!(
        row.error(),
        Some(("not on WhatsApp", Some("WHATSAPP_NOT_EXIST")))
    );
}

#[test]
fn the_providers_attempts_are_kept_once_and_the_lost_ones_counted() {
    let mut w = World::new();
    let attempt = |id: &str, status: &str, matched: Option<u64>| Attempt {
        id: id.into(),
        event: "message.received".into(),
        status: status.into(),
        status_code: Some(if status == "SUCCESS" { 200 } else { 500 }),
        response: "ok".into(),
        duration_ms: Some(12),
        created_at: t(0),
        identity: Some(format!("id-{id}")),
        matched,
    };
    let batch = vec![
        attempt("a1", "SUCCESS", Some(1)),
        attempt("a2", "SUCCESS", None),
        attempt("a3", "FAILED", None),
    ];
    w.api(
        10,
        ApiRecord::Attempts {
            webhook: "wh1".into(),
            attempts: batch.clone(),
        },
    );
    // The next poll returns the same ones again: nothing doubles.
    w.api(
        70,
        ApiRecord::Attempts {
            webhook: "wh1".into(),
            attempts: batch,
        },
    );
    let p = w.store.provider();
    assert_eq!(p.attempts().count(), 3);
    assert_eq!((p.lost, p.failed), (2, 1));
    assert_eq!(
        p.attempts().next().unwrap().attempt.id,
        "a3",
        "newest first"
    );
    // Every api record reaches a client catching up.
    assert_eq!(w.store.records_since(0).count(), 2);
}

#[test]
fn a_stale_or_wordless_api_state_is_no_disagreement_and_an_unmatchable_attempt_no_loss() {
    let mut w = World::new();
    w.number(0, "connected");
    let mut stale = status("disconnected");
    if let ApiRecord::NumberStatus(s) = &mut stale {
        s.stale = true;
    }
    w.api(10, stale);
    assert_eq!(
        w.store.provider().number("n1").unwrap().disagree_since,
        None
    );
    w.api(20, status("connecting"));
    assert_eq!(
        w.store.provider().number("n1").unwrap().disagree_since,
        None
    );
    let unknown = Attempt {
        id: "u1".into(),
        event: "conversation.assigned".into(),
        status: "SUCCESS".into(),
        status_code: Some(200),
        response: String::new(),
        duration_ms: None,
        created_at: t(0),
        identity: None,
        matched: None,
    };
    w.api(
        30,
        ApiRecord::Attempts {
            webhook: "wh".into(),
            attempts: vec![unknown],
        },
    );
    assert_eq!(
        w.store.provider().lost,
        0,
        "nothing to match it by: not lost"
    );
}
