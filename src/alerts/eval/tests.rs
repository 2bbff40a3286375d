//! Each rule's edges, on a store built from deliveries, with an injected clock.

use super::*;
use crate::record::Record;

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
            store: Store::new(10_000),
            seq: 0,
        }
    }

    /// A delivery of `body` arriving at `secs`.
    fn post(&mut self, secs: i64, body: &str) -> u64 {
        self.seq += 1;
        let mut r = Record::delivery(self.seq, body.as_bytes());
        r.received_at = t(secs);
        self.store.apply(r);
        self.seq
    }

    fn number(&mut self, secs: i64, event: &str) {
        let body = format!(
            r#"{{"event":"number.{event}","data":{{"numberId":"n1","phone":"+5511900000001","displayName":"Main store","createdAt":"{}"}}}}"#,
            t(secs).to_rfc3339()
        );
        self.post(secs, &body);
    }

    fn message(&mut self, secs: i64, event: &str, id: &str) {
        let failed = if event == "failed" {
            r#","error":"nope","errorCode":"DELIVER_NOT_CONFIRMED""#
        } else {
            ""
        };
        let body = format!(
            r#"{{"event":"message.{event}","data":{{"to":"+5511999999999","numberId":"n1","messageId":"wa-{id}","id":"{id}","type":"text","fromMe":true,"content":"hi","createdAt":"{}"{failed}}}}}"#,
            t(secs).to_rfc3339()
        );
        self.post(secs, &body);
    }

    fn eval(&self, rules: &Rules, secs: i64) -> Vec<Condition> {
        let facts = Facts {
            now: t(secs),
            journal_failure: None,
            started: t(0),
        };
        evaluate(rules, &self.store, facts)
    }

    /// The conditions of one rule only.
    fn only(&self, rule: Rule, secs: i64) -> Vec<Condition> {
        let mut rules = Rules::default();
        for r in Rule::ALL {
            rules.get_mut(r).enabled = r == rule;
        }
        self.eval(&rules, secs)
    }
}

#[test]
fn a_disconnected_number_holds_from_its_event_time_until_it_connects() {
    let mut w = World::new();
    w.number(0, "connected");
    assert!(w.only(Rule::NumberDisconnected, 10).is_empty());
    w.number(100, "disconnected");
    let c = w.only(Rule::NumberDisconnected, 250);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].since, t(100));
    assert_eq!(c[0].number.as_deref(), Some("n1"));
    assert!(
        c[0].summary
            .contains("Main store (+5511900000001) is disconnected (since 10:01:40 UTC)"),
        "{}",
        c[0].summary
    );
    assert_eq!(c[0].cause, Some(Cause::Number { id: "n1".into() }));
    w.number(300, "connected");
    assert!(w.only(Rule::NumberDisconnected, 301).is_empty());
    // Removed on purpose: no alert.
    w.number(400, "removed");
    assert!(w.only(Rule::NumberDisconnected, 9999).is_empty());
}

#[test]
fn a_bad_health_transition_holds_until_a_good_one() {
    let mut w = World::new();
    w.number(0, "health_degraded");
    let c = w.only(Rule::NumberDegraded, 5);
    assert_eq!(c.len(), 1);
    assert!(
        c[0].summary.contains("health is degraded"),
        "{}",
        c[0].summary
    );
    w.number(10, "health_ok");
    assert!(w.only(Rule::NumberDegraded, 11).is_empty());
}

#[test]
fn a_message_is_stuck_from_exactly_its_threshold_and_delivered_is_never_stuck() {
    let mut w = World::new();
    w.message(0, "sent", "m1");
    w.message(30, "sent", "m2");
    w.message(40, "sent", "m3");
    w.message(50, "delivered", "m3");
    assert!(w.only(Rule::StuckMessage, 599).is_empty());
    let c = w.only(Rule::StuckMessage, 600);
    assert_eq!(c.len(), 1);
    assert!(c[0].summary.starts_with("1 message(s)"), "{}", c[0].summary);
    let c = w.only(Rule::StuckMessage, 700);
    assert!(c[0].summary.starts_with("2 message(s)"), "{}", c[0].summary);
    assert_eq!(
        c[0].cause,
        Some(Cause::Message { id: "m1".into() }),
        "the oldest"
    );
    w.message(710, "delivered", "m1");
    w.message(710, "failed", "m2");
    assert!(
        w.only(Rule::StuckMessage, 720).is_empty(),
        "delivered or failed: settled"
    );
}

#[test]
fn the_failure_rate_needs_its_minimum_count_and_must_exceed_the_threshold() {
    let mut w = World::new();
    for i in 0..19 {
        w.message(i, "sent", &format!("m{i}"));
    }
    for i in 0..5 {
        w.message(30 + i, "failed", &format!("m{i}"));
    }
    assert!(
        w.only(Rule::FailureRate, 60).is_empty(),
        "19 sends: under min_count 20"
    );
    w.message(40, "sent", "m19");
    let c = w.only(Rule::FailureRate, 60);
    assert_eq!(c.len(), 1);
    assert!(
        c[0].summary.contains("5 of 20 sends failed in 5m (25.0 %"),
        "{}",
        c[0].summary
    );
    // Out of the 5-minute window: gone.
    assert!(w.only(Rule::FailureRate, 400).is_empty());
}

#[test]
fn exactly_the_threshold_rate_does_not_fire() {
    let mut w = World::new();
    for i in 0..20 {
        w.message(i, "sent", &format!("m{i}"));
    }
    w.message(25, "failed", "m0");
    assert!(
        w.only(Rule::FailureRate, 30).is_empty(),
        "1 of 20 is 5 %, not above"
    );
}

#[test]
fn a_connected_number_that_usually_talks_and_goes_quiet_is_silent() {
    let mut w = World::new();
    w.number(0, "connected");
    // One message a minute for an hour.
    for i in 0..60 {
        w.message(i * 60, "sent", &format!("m{i}"));
        w.message(i * 60 + 5, "delivered", &format!("m{i}"));
    }
    let last = 59 * 60;
    assert!(w.only(Rule::SilentNumber, last + 1799).is_empty());
    let c = w.only(Rule::SilentNumber, last + 1800);
    assert_eq!(c.len(), 1);
    assert!(
        c[0].summary
            .contains("nothing was sent or received for 30m"),
        "{}",
        c[0].summary
    );
    // A number that rarely talks is not "silent".
    let mut quiet = World::new();
    quiet.number(0, "connected");
    quiet.message(0, "sent", "a");
    quiet.message(3600, "sent", "b");
    assert!(quiet.only(Rule::SilentNumber, 3600 + 4000).is_empty());
    // Nor is a disconnected one (that is number_disconnected's).
    w.number(last + 100, "disconnected");
    assert!(w.only(Rule::SilentNumber, last + 1800).is_empty());
}

#[test]
fn nothing_received_counts_from_the_later_of_start_and_the_last_delivery() {
    let mut w = World::new();
    assert!(w.only(Rule::NoDeliveries, 899).is_empty());
    assert_eq!(w.only(Rule::NoDeliveries, 900).len(), 1);
    w.number(1000, "connected");
    assert!(w.only(Rule::NoDeliveries, 1899).is_empty());
    let c = w.only(Rule::NoDeliveries, 1900);
    assert_eq!(c[0].summary, "no deliveries received for 15m");
}

#[test]
fn refused_deliveries_in_the_window_point_at_the_newest() {
    let mut w = World::new();
    w.number(0, "connected");
    assert!(w.only(Rule::RejectedDeliveries, 10).is_empty());
    let seq = w.post(20, "{not json");
    let c = w.only(Rule::RejectedDeliveries, 30);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].cause, Some(Cause::Delivery { seq }));
    assert!(
        c[0].summary
            .starts_with("1 deliveries refused in the last 5m"),
        "{}",
        c[0].summary
    );
    assert!(
        w.only(Rule::RejectedDeliveries, 20 + 301).is_empty(),
        "out of the window"
    );
}

#[test]
fn a_failed_journal_is_a_condition() {
    let w = World::new();
    let mut rules = Rules::default();
    rules.get_mut(Rule::NoDeliveries).enabled = false;
    let facts = Facts {
        now: t(0),
        journal_failure: Some("journal write/sync failed (disk full)"),
        started: t(0),
    };
    let c = evaluate(&rules, &w.store, facts);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].rule, Rule::JournalFailed);
    assert!(c[0].summary.contains("disk full"));
}

#[test]
fn a_broken_delivery_was_acknowledged_so_it_is_not_refused() {
    let mut w = World::new();
    w.post(10, r#"{"event":"message.received","data":{"id":"x"}}"#);
    assert!(w.only(Rule::RejectedDeliveries, 20).is_empty());
}

#[test]
fn an_api_disagreement_past_its_grace_is_a_condition() {
    use crate::model::provider::{ApiNumberStatus, ApiRecord};
    let mut w = World::new();
    w.number(0, "connected");
    w.seq += 1;
    let mut r = Record::api(&ApiRecord::NumberStatus(ApiNumberStatus {
        id: "n1".into(),
        state: "disconnected".into(),
        stale: false,
        checked_at: None,
        last_known_at: None,
    }));
    r.seq = w.seq;
    r.received_at = t(10);
    w.store.apply(r);
    assert!(
        w.only(Rule::ApiDisagrees, 129).is_empty(),
        "within the grace"
    );
    let c = w.only(Rule::ApiDisagrees, 130);
    assert_eq!(c.len(), 1);
    assert!(
        c[0].summary
            .contains("the API says disconnected, the webhooks connected"),
        "{}",
        c[0].summary
    );
    w.number(140, "disconnected");
    assert!(
        w.only(Rule::ApiDisagrees, 150).is_empty(),
        "they agree again"
    );
}

#[test]
fn attempts_the_journal_never_got_are_a_condition_for_an_hour() {
    use crate::model::provider::{ApiRecord, Attempt};
    let mut w = World::new();
    w.seq += 1;
    let attempt = Attempt {
        id: "a1".into(),
        event: "message.delivered".into(),
        status: "SUCCESS".into(),
        status_code: Some(200),
        response: String::new(),
        duration_ms: None,
        created_at: t(0),
        identity: Some("5f0c".into()),
        matched: None,
    };
    let mut r = Record::api(&ApiRecord::Attempts {
        webhook: "wh".into(),
        attempts: vec![attempt],
    });
    r.seq = w.seq;
    r.received_at = t(60);
    w.store.apply(r);
    let c = w.only(Rule::WebhooksLost, 70);
    assert_eq!(c.len(), 1);
    assert!(
        c[0].summary
            .starts_with("1 delivery attempt in the provider's log"),
        "{}",
        c[0].summary
    );
    assert!(
        w.only(Rule::WebhooksLost, 3601).is_empty(),
        "out of the window"
    );
}

/// Attempts are journaled as they settle, not as the provider made them: the summary
/// names the one made last.
#[test]
fn the_lost_attempt_named_is_the_one_made_last() {
    use crate::model::provider::{ApiRecord, Attempt};
    let mut w = World::new();
    let attempt = |id: &str, event: &str, made: i64| Attempt {
        id: id.into(),
        event: event.into(),
        status: "SUCCESS".into(),
        status_code: Some(200),
        response: String::new(),
        duration_ms: None,
        created_at: t(made),
        identity: Some(format!("{id}0c")),
        matched: None,
    };
    // Made at 30 s, settled first; made at 10 s, settled (past its grace) after it.
    for (a, journaled) in [
        (attempt("a2", "message.read", 30), 40),
        (attempt("a1", "message.sent", 10), 50),
    ] {
        w.seq += 1;
        let mut r = Record::api(&ApiRecord::Attempts {
            webhook: "wh".into(),
            attempts: vec![a],
        });
        r.seq = w.seq;
        r.received_at = t(journaled);
        w.store.apply(r);
    }
    let c = w.only(Rule::WebhooksLost, 70);
    assert!(
        c[0].summary.starts_with("2 delivery attempts"),
        "{}",
        c[0].summary
    );
    assert!(
        c[0].summary.contains("(newest: message.read at"),
        "{}",
        c[0].summary
    );
}
