use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};

use super::*;
use crate::store::Store;

/// 2026-02-24T15:00:00Z, the arrival clock of these tests.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 2, 24, 15, 0, 0).unwrap()
}

fn at(secs: i64) -> DateTime<Utc> {
    t0() + chrono::Duration::seconds(secs)
}

/// A delivery that arrived `secs` after t0.
fn record(seq: u64, secs: i64, body: &str) -> Record {
    let mut r = Record::delivery(seq, body.as_bytes());
    r.received_at = at(secs);
    r
}

/// A status webhook of outbound message `id` on number `num`, event time `ms` after t0.
fn status(event: &str, id: &str, num: &str, ms: i64) -> String {
    let when = (t0() + chrono::Duration::milliseconds(ms)).to_rfc3339();
    let extra = if event == "failed" {
        r#","error":"nope","errorCode":"X""#
    } else {
        ""
    };
    format!(
        r#"{{"event":"message.{event}","data":{{"to":"+5511999999999","numberId":"{num}","messageId":"wa{id}","id":"{id}","type":"text","fromMe":true,"content":"hi","createdAt":"{when}"{extra}}}}}"#
    )
}

fn inbound(id: &str, num: &str) -> String {
    format!(
        r#"{{"event":"message.received","data":{{"from":"+5511999999999","to":"+5511888888888","numberId":"{num}","messageId":"wi{id}","id":"{id}","type":"text","fromMe":false,"content":"Oi","createdAt":"2026-02-24T15:00:00Z"}}}}"#
    )
}

const NUMBER: &str = r#"{"event":"number.connected","data":{"numberId":"n2","phone":"+5511777777777","displayName":"Loja","createdAt":"2026-02-24T15:00:00Z"}}"#;

/// Applies `(arrival second, body)` in order; seqs from 1.
fn store(records: &[(i64, String)]) -> Store {
    let mut s = Store::new(1_000);
    for (i, (secs, body)) in records.iter().enumerate() {
        s.apply(record(i as u64 + 1, *secs, body));
    }
    s
}

#[test]
fn activity_is_per_second_by_family_oldest_first() {
    let s = store(&[
        (0, inbound("i1", "n1")),
        (0, inbound("i2", "n1")),
        (1, status("sent", "m1", "n1", 0)),
        (2, status("failed", "m1", "n1", 500)),
        (2, NUMBER.to_owned()),
        (3, "{not json".to_owned()),
        (3, r#"{"event":"lead.received","data":{}}"#.to_owned()),
    ]);
    let st = s.stats();
    let now = at(4);
    assert_eq!(st.activity(Family::MessagesIn, now, 6), [0, 2, 0, 0, 0, 0]);
    assert_eq!(st.activity(Family::Statuses, now, 6), [0, 0, 1, 0, 0, 0]);
    assert_eq!(st.activity(Family::Failures, now, 6), [0, 0, 0, 1, 0, 0]);
    assert_eq!(
        st.activity(Family::NumbersCalls, now, 6),
        [0, 0, 0, 1, 0, 0]
    );
    // Not JSON is rejected; a lead with missing fields is broken: both refused.
    assert_eq!(st.activity(Family::Refused, now, 6), [0, 0, 0, 0, 2, 0]);
    assert_eq!(
        Family::of(Verdict::Known, Some("calls")),
        Family::NumbersCalls
    );
    assert_eq!(
        Family::of(Verdict::Unknown, Some("message.edited")),
        Family::MessagesIn
    );
    assert_eq!(
        Family::of(Verdict::Known, Some("lead.received")),
        Family::Other
    );
    // The last delivery is the newest one not refused.
    assert_eq!(st.last_delivery(), Some(at(2)));
}

#[test]
fn activity_expires_with_the_window() {
    let s = store(&[(0, inbound("i1", "n1")), (700, inbound("i2", "n1"))]);
    let st = s.stats();
    // The window is at most ACTIVITY_SECONDS wide, whatever is asked.
    assert_eq!(
        st.activity(Family::MessagesIn, at(700), 10_000).len(),
        ACTIVITY_SECONDS
    );
    let all: u64 = st.activity(Family::MessagesIn, at(700), 600).iter().sum();
    assert_eq!(all, 1, "the delivery at 0 s is past the window");
    // Later, even the 700 s one has gone: no stale bucket reads as current.
    assert_eq!(
        st.activity(Family::MessagesIn, at(1_400), 600)
            .iter()
            .sum::<u64>(),
        0
    );
    // A record already older than the window is not counted at all.
    let mut s = store(&[(700, inbound("i1", "n1"))]);
    s.apply(record(2, 0, &inbound("i2", "n1")));
    assert_eq!(s.stats().activity(Family::MessagesIn, at(0), 1), [0]);
}

#[test]
fn per_number_counts_the_last_five_minutes_and_a_sparkline() {
    let s = store(&[
        (0, inbound("i1", "n1")),
        (5, status("sent", "m1", "n1", 0)),
        (12, status("delivered", "m1", "n1", 900)),
        (100, status("failed", "m2", "n1", 0)),
        (100, inbound("i9", "n9")),
        (130, NUMBER.to_owned()),
    ]);
    let st = s.stats();
    let n1 = st.number("n1").unwrap();
    let r = n1.recent(at(120));
    assert_eq!((r.messages_in, r.messages_out, r.failed), (1, 2, 1));
    // 5 min later only the 100 s failure (a new outbound row) is in the window.
    let r = n1.recent(at(390));
    assert_eq!((r.messages_in, r.messages_out, r.failed), (0, 1, 1));
    assert_eq!(n1.recent(at(1_000)), Recent::default());
    assert_eq!(n1.last_event(), at(100));
    // Per 10 s: [0,10) has i1 and m1; the delivered status adds no message.
    assert_eq!(n1.series(at(25), 3), [2, 0, 0]);
    assert_eq!(n1.series(at(100), 1), [1]);
    // A number seen only in `number.*` events has a time, no traffic.
    let n2 = st.number("n2").unwrap();
    assert_eq!(n2.last_event(), at(130));
    assert_eq!(n2.recent(at(130)), Recent::default());
    assert_eq!(st.numbers().count(), 3);
    assert_eq!(st.recent(at(120)).messages_in, 2);
}

#[test]
fn failure_rate_is_failed_over_outbound_in_five_minutes() {
    let s = store(&[(0, inbound("i1", "n1"))]);
    assert_eq!(s.stats().failure_rate(at(0)), None, "nothing went out");
    let mut records = vec![];
    for i in 0..8 {
        records.push((10, status("sent", &format!("m{i}"), "n1", 0)));
    }
    records.push((20, status("failed", "m0", "n1", 100)));
    records.push((20, status("failed", "m0", "n1", 100)));
    let s = store(&records);
    assert_eq!(s.stats().failure_rate(at(30)), Some(1.0 / 8.0));
    assert_eq!(s.stats().failure_rate(at(400)), None);
}

#[test]
fn latency_is_sampled_once_per_completed_pair_in_any_order() {
    let s = store(&[
        // m1: sent, delivered 1.5 s later, read 4 s after that.
        (0, status("sent", "m1", "n1", 0)),
        (1, status("delivered", "m1", "n1", 1_500)),
        (1, status("delivered", "m1", "n1", 1_500)),
        (5, status("read", "m1", "n1", 5_500)),
        // m2 on n2, out of order: read, then delivered, then sent.
        (6, status("read", "m2", "n2", 3_000)),
        (6, status("delivered", "m2", "n2", 2_000)),
        (7, status("sent", "m2", "n2", 1_800)),
        // m3: delivered before sent by the provider's clock: counted as 0.
        (8, status("sent", "m3", "n1", 10_000)),
        (8, status("delivered", "m3", "n1", 9_000)),
    ]);
    let st = s.stats();
    let sd = st.latency(Leg::SentDelivered);
    assert_eq!(sd.len(), 3, "the repeated delivered added nothing");
    assert_eq!(sd.p50(), Some(Duration::from_millis(200)));
    // 1 500 ms reads as 1 472, its fine bucket's lower bound.
    assert_eq!(sd.p95(), Some(Duration::from_millis(1_472)));
    assert_eq!(sd.histogram()[0], 2);
    assert_eq!(sd.histogram()[3], 1);
    let dr = st.latency(Leg::DeliveredRead);
    assert_eq!(dr.len(), 2);
    assert_eq!(dr.p95(), Some(Duration::from_millis(3_968)));
    let n1 = st.number("n1").unwrap().latency(Leg::SentDelivered);
    assert_eq!((n1.len(), n1.p50()), (2, Some(Duration::ZERO)));
    let n2 = st.number("n2").unwrap().latency(Leg::DeliveredRead);
    assert_eq!(n2.p50(), Some(Duration::from_millis(992)));
}

#[test]
fn a_retry_adds_activity_but_no_traffic_or_latency() {
    let mut s = store(&[(0, status("sent", "m1", "n1", 0))]);
    let mut d = record(2, 1, &status("delivered", "m1", "n1", 800));
    s.apply(d.clone());
    d.seq = 3;
    d.duplicate_of = Some(2);
    s.apply(d);
    let st = s.stats();
    assert_eq!(st.activity(Family::Statuses, at(1), 2), [1, 2]);
    assert_eq!(st.latency(Leg::SentDelivered).len(), 1);
    assert_eq!(st.recent(at(1)).messages_out, 1);
}

#[test]
fn a_replay_rebuilds_the_same_stats() {
    let mut records = vec![];
    for i in 0..300i64 {
        let id = format!("m{}", i / 3);
        let num = ["n1", "n2", "n3"][(i % 3) as usize];
        let body = match i % 5 {
            0 => inbound(&format!("i{i}"), num),
            1 => status("sent", &id, "n1", i * 100),
            2 => status("delivered", &id, "n1", i * 130),
            3 => status("read", &id, "n1", i * 170),
            _ => status("failed", &id, "n1", i * 90),
        };
        records.push((i * 3, body));
    }
    records.push((901, "{broken".to_owned()));
    let live = store(&records);
    let replayed = store(&records);
    assert_eq!(live.stats(), replayed.stats());
    assert!(!live.stats().latency(Leg::SentDelivered).is_empty());
}

#[test]
fn numbers_past_the_cap_are_counted_not_followed() {
    let mut s = Stats::default();
    for i in 0..MAX_NUMBERS + 3 {
        s.number_event(&format!("n{i}"), t0());
    }
    assert_eq!(s.numbers().count(), MAX_NUMBERS);
    assert_eq!(s.untracked(), 3);
}

/// The cost of stats in `Store::apply`: the same 40,000 lifecycle deliveries applied
/// with and without them (`--nocapture` prints the figure; debug build).
#[test]
fn apply_cost_with_stats() {
    let bodies: Vec<String> = (0..40_000u64)
        .map(|i| match i % 4 {
            0 => inbound(&format!("i{i}"), "n1"),
            1 => status("sent", &format!("m{i}"), "n1", 0),
            2 => status("delivered", &format!("m{}", i - 1), "n1", 900),
            _ => status("read", &format!("m{}", i - 2), "n1", 4_000),
        })
        .collect();
    let records: Vec<Record> = bodies
        .iter()
        .enumerate()
        .map(|(i, b)| record(i as u64 + 1, i as i64 / 100, b))
        .collect();
    let timed = |with: bool| {
        let mut store = Store::new(records.len());
        store.stats.disabled = !with;
        let start = std::time::Instant::now();
        for r in records.iter().cloned() {
            store.apply(r);
        }
        start.elapsed()
    };
    // Warm up, then the best of five each, interleaved (a busy machine slows both).
    timed(true);
    let (mut with, mut without) = (Duration::MAX, Duration::MAX);
    for _ in 0..5 {
        with = with.min(timed(true));
        without = without.min(timed(false));
    }
    let per = |d: Duration| d.as_nanos() as f64 / records.len() as f64;
    println!(
        "Store::apply (debug): {:.0} ns/record with stats, {:.0} without ({:+.1} %)",
        per(with),
        per(without),
        (per(with) / per(without) - 1.0) * 100.0
    );
}

#[test]
fn a_reply_sent_from_here_counts_out_once_and_is_no_delivery() {
    let body = r#"{"phase":"accepted","request":{"body":{"text":"ok","destinationNumber":"+5511999999999"},"numberId":"n1","idempotencyKey":"k1"},"attempt":1,"accepted":{"id":"m9","status":"QUEUED"}}"#;
    let mut r = record(1, 0, body);
    r.kind = RecordKind::Outbound;
    r.verdict = Verdict::Known;
    let mut s = Store::new(100);
    s.apply(r);
    assert!(s.messages().outbound("m9").is_some());
    // Its webhooks move the same row on: no second outbound message.
    s.apply(record(2, 1, &status("sent", "m9", "n1", 0)));
    s.apply(record(3, 2, &status("delivered", "m9", "n1", 700)));
    let st = s.stats();
    assert_eq!(st.number("n1").unwrap().recent(at(2)).messages_out, 1);
    assert_eq!(st.recent(at(2)).messages_out, 1);
    // The reply itself is no delivery: nothing at second 0.
    assert_eq!(st.activity(Family::Statuses, at(2), 3), [0, 1, 1]);
    assert_eq!(
        st.latency(Leg::SentDelivered).p50(),
        Some(Duration::from_millis(688))
    );
}

/// Through the journal: each record encoded as a line, decoded and its typed event
/// re-derived from the body (what a replay does), gives the same stats as live.
#[test]
fn a_journal_round_trip_rebuilds_the_same_stats() {
    let bodies = [
        (0, inbound("i1", "n1")),
        (1, status("sent", "m1", "n1", 0)),
        (2, status("delivered", "m1", "n1", 1_200)),
        (2, status("failed", "m2", "n2", 0)),
        (3, NUMBER.to_owned()),
        (4, "{not json".to_owned()),
        (9, status("read", "m1", "n1", 8_000)),
    ];
    let live = store(&bodies);
    let mut replayed = Store::new(1_000);
    for (i, (secs, body)) in bodies.iter().enumerate() {
        let mut line = Vec::new();
        crate::journal::line::encode(&record(i as u64 + 1, *secs, body), &mut line);
        let mut r = crate::journal::line::decode(line.trim_ascii_end()).unwrap();
        r.typed = crate::model::parse(&r.body.get())
            .ok()
            .and_then(|p| p.event);
        replayed.apply(r);
    }
    assert_eq!(live.stats(), replayed.stats());
    assert_eq!(replayed.stats().latency(Leg::DeliveredRead).len(), 1);
    assert_eq!(replayed.stats().last_delivery(), Some(at(9)));
}
