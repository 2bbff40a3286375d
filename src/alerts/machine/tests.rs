//! The state machine driven as the service drives it: each tick's records are applied
//! to a store, and the next tick reads the active alerts back from it. The clock is
//! injected.

use std::time::Duration;

use super::*;
use crate::alerts::eval::Condition;
use crate::model::alert::Cause;
use crate::record::Record;
use crate::store::Store;

struct Harness {
    store: Store,
    machine: Machine,
    rules: Rules,
    seq: u64,
    t0: DateTime<Utc>,
}

impl Harness {
    fn new() -> Self {
        let mut rules = Rules::default();
        let d = rules.get_mut(Rule::NumberDisconnected);
        d.hold = Duration::from_secs(120);
        d.keep_firing_for = Duration::from_secs(60);
        d.repeat = Duration::from_secs(4 * 3600);
        Self {
            store: Store::new(1000),
            machine: Machine::default(),
            rules,
            seq: 0,
            t0: "2026-11-29T10:00:00Z".parse().unwrap(),
        }
    }

    fn at(&self, secs: i64) -> DateTime<Utc> {
        self.t0 + chrono::Duration::seconds(secs)
    }

    /// One evaluation at `secs` with these conditions holding; the records it wrote.
    fn tick(&mut self, secs: i64, conditions: Vec<Condition>) -> Vec<AlertRecord> {
        let now = self.at(secs);
        let active = self
            .store
            .alerts()
            .active()
            .into_iter()
            .map(|r| (r.alert.key(), Active::from(r)))
            .collect();
        let out = self.machine.step(&self.rules, conditions, &active, now);
        for r in &out {
            self.seq += 1;
            let mut rec = Record::alert(r);
            rec.seq = self.seq;
            rec.received_at = now;
            self.store.apply(rec);
        }
        out
    }

    fn down(&self, number: &str, since_secs: i64) -> Condition {
        Condition {
            rule: Rule::NumberDisconnected,
            number: Some(number.into()),
            since: self.at(since_secs),
            summary: format!("{number} is disconnected"),
            cause: Some(Cause::Number { id: number.into() }),
        }
    }

    fn stuck(&self, number: &str) -> Condition {
        Condition {
            rule: Rule::StuckMessage,
            number: Some(number.into()),
            since: self.at(0),
            summary: "3 stuck".into(),
            cause: Some(Cause::Message { id: "m1".into() }),
        }
    }
}

fn states(records: &[AlertRecord]) -> Vec<String> {
    records
        .iter()
        .map(|r| match r {
            AlertRecord::Transition(a) => format!("{} {}", a.key().as_str(), a.state.as_str()),
            AlertRecord::Repeat(a) => format!("{} repeat", a.key().as_str()),
            AlertRecord::Updated(a) => format!("{} updated: {}", a.key().as_str(), a.summary),
            AlertRecord::Notified(n) => format!("{} notified", n.key.as_str()),
        })
        .collect()
}

#[test]
fn a_condition_is_pending_for_its_hold_then_fires_then_resolves() {
    let mut h = Harness::new();
    assert_eq!(
        states(&h.tick(0, vec![h.down("n1", 0)])),
        ["number_disconnected/n1 pending"]
    );
    assert!(
        h.tick(60, vec![h.down("n1", 0)]).is_empty(),
        "still within `for`"
    );
    assert!(h.tick(119, vec![h.down("n1", 0)]).is_empty());
    let fired = h.tick(120, vec![h.down("n1", 0)]);
    assert_eq!(states(&fired), ["number_disconnected/n1 firing"]);
    let AlertRecord::Transition(a) = &fired[0] else {
        panic!()
    };
    assert_eq!(a.starts_at, h.at(0), "started when the condition began");
    assert_eq!(a.labels["alertname"], "number_disconnected");
    assert_eq!(a.labels["number"], "n1");
    assert!(notifiable(&fired[0]).is_some());
    assert_eq!(h.store.alerts().firing(), 1);
    // Cleared: held for keep_firing_for, then resolved.
    assert!(h.tick(130, vec![]).is_empty());
    assert!(h.tick(189, vec![]).is_empty());
    let resolved = h.tick(190, vec![]);
    assert_eq!(states(&resolved), ["number_disconnected/n1 resolved"]);
    let AlertRecord::Transition(a) = &resolved[0] else {
        panic!()
    };
    assert!(a.fired && a.ends_at == Some(h.at(190)));
    assert!(notifiable(&resolved[0]).is_some());
    assert_eq!(h.store.alerts().firing(), 0);
    assert!(h.tick(200, vec![]).is_empty());
}

#[test]
fn a_condition_already_old_enough_fires_at_once_and_a_short_blip_never_fires() {
    let mut h = Harness::new();
    // Disconnected ten minutes before the first look (a restart, a replay).
    let first = h.tick(600, vec![h.down("n1", 0)]);
    assert_eq!(states(&first), ["number_disconnected/n1 firing"]);
    // A blip on n2: pending, then gone before `for`: resolved, never notified.
    h.tick(600, vec![h.down("n1", 0), h.down("n2", 600)]);
    let gone = h.tick(630, vec![h.down("n1", 0)]);
    assert_eq!(states(&gone), ["number_disconnected/n2 resolved"]);
    assert!(
        notifiable(&gone[0]).is_none(),
        "a pending alert's end is not told"
    );
}

#[test]
fn keep_firing_for_rides_out_a_flap() {
    let mut h = Harness::new();
    h.tick(300, vec![h.down("n1", 0)]);
    assert!(h.tick(310, vec![]).is_empty());
    // Back within keep_firing_for: still the same firing alert, nothing written.
    assert!(h.tick(340, vec![h.down("n1", 330)]).is_empty());
    assert!(h.tick(350, vec![]).is_empty());
    // The clock restarts from the new clearing.
    assert!(h.tick(405, vec![]).is_empty());
    assert_eq!(
        states(&h.tick(410, vec![])),
        ["number_disconnected/n1 resolved"]
    );
}

#[test]
fn a_still_firing_alert_is_told_again_every_repeat() {
    let mut h = Harness::new();
    h.tick(300, vec![h.down("n1", 0)]);
    let hour = 3600;
    assert!(h.tick(300 + 4 * hour - 1, vec![h.down("n1", 0)]).is_empty());
    let again = h.tick(300 + 4 * hour, vec![h.down("n1", 0)]);
    assert_eq!(states(&again), ["number_disconnected/n1 repeat"]);
    assert_eq!(notifiable(&again[0]).map(|(_, repeat)| repeat), Some(true));
    assert!(h.tick(300 + 5 * hour, vec![h.down("n1", 0)]).is_empty());
    let row = h
        .store
        .alerts()
        .get(&AlertKey::new("number_disconnected", Some("n1")))
        .unwrap();
    assert_eq!(row.repeats, 1);
    assert_eq!(row.last_notified, Some(h.at(300 + 4 * hour)));
}

#[test]
fn a_disconnected_number_inhibits_its_other_alerts() {
    let mut h = Harness::new();
    // n1 has a stuck-message alert firing already (hold 0).
    assert_eq!(
        states(&h.tick(0, vec![h.stuck("n1")])),
        ["stuck_message/n1 firing"]
    );
    h.tick(10, vec![h.stuck("n1"), h.down("n1", 10)]);
    let fired = h.tick(130, vec![h.stuck("n1"), h.down("n1", 10), h.stuck("n2")]);
    // n2 is not inhibited; n1's disconnect fires.
    assert_eq!(
        states(&fired),
        ["number_disconnected/n1 firing", "stuck_message/n2 firing"]
    );
    // While n1 is down its stuck alert neither resolves nor repeats, whatever happens.
    assert!(
        h.tick(200, vec![h.down("n1", 10), h.stuck("n2")])
            .is_empty()
    );
    assert!(h.tick(20_000, vec![h.down("n1", 10)]).iter().all(|r| {
        !matches!(r, AlertRecord::Transition(a) | AlertRecord::Repeat(a) if a.key().as_str() == "stuck_message/n1")
    }));
}

#[test]
fn an_alert_of_a_rule_switched_off_resolves() {
    let mut h = Harness::new();
    h.tick(0, vec![h.stuck("n1")]);
    h.rules.get_mut(Rule::StuckMessage).enabled = false;
    h.rules.get_mut(Rule::StuckMessage).keep_firing_for = Duration::ZERO;
    assert_eq!(states(&h.tick(1, vec![])), ["stuck_message/n1 resolved"]);
}

/// What a firing alert says follows its condition (`3 stuck` → `5 stuck`), written
/// at most once a minute, never notified; the store shows the newest and the alert
/// keeps its state and start. Unchanged, nothing is written.
#[test]
fn a_changed_summary_is_written_again_at_most_once_a_minute() {
    let mut h = Harness::new();
    let stuck = |h: &Harness, n: u32| Condition {
        summary: format!("{n} stuck"),
        ..h.stuck("n1")
    };
    h.rules.get_mut(Rule::StuckMessage).hold = Duration::ZERO;
    assert_eq!(
        states(&h.tick(0, vec![stuck(&h, 3)])),
        ["stuck_message/n1 firing"]
    );
    assert!(h.tick(30, vec![stuck(&h, 3)]).is_empty(), "unchanged");
    assert!(
        h.tick(40, vec![stuck(&h, 4)]).is_empty(),
        "within the minute"
    );
    let updated = h.tick(60, vec![stuck(&h, 5)]);
    assert_eq!(states(&updated), ["stuck_message/n1 updated: 5 stuck"]);
    assert!(
        notifiable(&updated[0]).is_none(),
        "an update is not notified"
    );
    let row = h.store.alerts().active()[0].clone();
    assert_eq!(row.alert.summary, "5 stuck");
    assert_eq!(row.alert.state, AlertState::Firing);
    assert_eq!(row.alert.starts_at, h.at(0));
    assert_eq!(row.since, h.at(0), "an update is not a transition");
    assert!(h.tick(100, vec![stuck(&h, 6)]).is_empty());
    assert_eq!(
        states(&h.tick(120, vec![stuck(&h, 6)])),
        ["stuck_message/n1 updated: 6 stuck"]
    );
    // Resolved, it ends with what it said last.
    h.rules.get_mut(Rule::StuckMessage).keep_firing_for = Duration::ZERO;
    let AlertRecord::Transition(done) = &h.tick(130, vec![])[0] else {
        panic!()
    };
    assert_eq!(
        (done.state, done.summary.as_str()),
        (AlertState::Resolved, "6 stuck")
    );
}

/// A summary the store keeps sanitised (a bidi mark in a number's name) is the same
/// summary: no update a minute later when nothing changed.
#[test]
fn a_summary_sanitised_in_the_store_is_not_news() {
    let mut h = Harness::new();
    h.rules.get_mut(Rule::StuckMessage).hold = Duration::ZERO;
    let odd = |h: &Harness| Condition {
        summary: "Loja\u{200f} 3 stuck".into(),
        ..h.stuck("n1")
    };
    assert_eq!(
        states(&h.tick(0, vec![odd(&h)])),
        ["stuck_message/n1 firing"]
    );
    assert!(h.tick(60, vec![odd(&h)]).is_empty());
    assert!(h.tick(180, vec![odd(&h)]).is_empty());
}
