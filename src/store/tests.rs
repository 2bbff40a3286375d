use super::*;

fn record(seq: u64, body: &str) -> Record {
    Record::delivery(seq, body.as_bytes())
}

fn status(event: &str, at: &str, extra: &str) -> String {
    format!(
        r#"{{"event":"message.{event}","data":{{"to":"+5511999999999","numberId":"n1","messageId":"wa1","id":"m1","type":"text","fromMe":true,"content":"hi","createdAt":"{at}"{extra}}}}}"#
    )
}

const FAILED: &str = r#","error":"nope","errorCode":"DELIVER_NOT_CONFIRMED""#;

/// Every order of the four status webhooks yields the same row.
#[test]
fn lifecycle_is_the_same_in_any_arrival_order() {
    let events = [
        ("sent", "2026-02-24T15:00:05Z", ""),
        ("delivered", "2026-02-24T15:00:06Z", ""),
        ("read", "2026-02-24T15:00:10Z", ""),
        ("failed", "2026-02-24T15:00:07Z", FAILED),
    ];
    let mut orders = vec![];
    permutations(&mut [0, 1, 2, 3], 0, &mut orders);
    assert_eq!(orders.len(), 24);
    let mut seen = None;
    for order in orders {
        let mut store = Store::new(100);
        for (i, idx) in order.iter().enumerate() {
            let (e, at, extra) = events[*idx];
            store.apply(record(i as u64 + 1, &status(e, at, extra)));
        }
        assert_eq!(store.messages().len(), 1, "{order:?}");
        let row = store.messages().outbound("m1").unwrap();
        assert_eq!(row.status(), Status::Read, "{order:?}");
        let l = &row.lifecycle;
        let times =
            [l.sent, l.delivered, l.read, l.failed].map(|s| s.unwrap().at.unwrap().to_rfc3339());
        assert_eq!(row.error().unwrap().1, Some("DELIVER_NOT_CONFIRMED"));
        assert_eq!(store.counters().failed_messages, 1);
        match &seen {
            None => seen = Some(times),
            Some(t) => assert_eq!(t, &times, "{order:?}"),
        }
    }
}

fn permutations(items: &mut [usize; 4], k: usize, out: &mut Vec<[usize; 4]>) {
    if k == items.len() {
        out.push(*items);
        return;
    }
    for i in k..items.len() {
        items.swap(k, i);
        permutations(items, k + 1, out);
        items.swap(k, i);
    }
}

#[test]
fn a_failure_shows_until_a_delivery_proves_it_wrong() {
    let mut store = Store::new(100);
    store.apply(record(1, &status("failed", "2026-02-24T15:00:07Z", FAILED)));
    assert_eq!(
        store.messages().outbound("m1").unwrap().status(),
        Status::Failed
    );
    store.apply(record(2, &status("sent", "2026-02-24T15:00:05Z", "")));
    assert_eq!(
        store.messages().outbound("m1").unwrap().status(),
        Status::Failed
    );
    assert_eq!(store.numbers().get("n1").unwrap().failures, 1);
    assert_eq!(store.numbers().get("n1").unwrap().messages_out, 1);
}

#[test]
fn reply_is_linked_to_the_message_it_quotes_in_either_order() {
    let sent = status("sent", "2026-02-24T15:00:05Z", "").replace("wa1", "msg_original_123");
    let reply = r#"{"event":"message.reply","data":{"from":"+5511999999999","to":"+5511888888888","numberId":"n1","messageId":"msg_12345","id":"r1","type":"text","fromMe":false,"content":"Yes","quotedMessageId":"msg_original_123","createdAt":"2026-02-24T15:01:00Z"}}"#;
    for order in [[&sent[..], reply], [reply, &sent[..]]] {
        let mut store = Store::new(100);
        for (i, body) in order.iter().enumerate() {
            store.apply(record(i as u64 + 1, body));
        }
        let msgs = store.messages();
        let (_, r) = msgs
            .newest()
            .find(|(_, m)| m.kind == crate::model::event::MessageKind::Reply)
            .unwrap();
        assert_eq!(msgs.quoted(r).unwrap().id(), "m1");
        let orig = msgs.outbound("m1").unwrap();
        assert_eq!(
            msgs.replies_to(orig).map(|m| m.id()).collect::<Vec<_>>(),
            vec!["r1"]
        );
    }
}

#[test]
fn correlation_learned_from_a_late_event_still_links_the_reply() {
    // `delivered` first (no correlationId), then `sent` with it, then a reply that
    // carries only the correlationId.
    let mut store = Store::new(100);
    store.apply(record(1, &status("delivered", "2026-02-24T15:00:06Z", "")));
    store.apply(record(
        2,
        &status("sent", "2026-02-24T15:00:05Z", r#","correlationId":"c1""#),
    ));
    let reply = r#"{"event":"message.reply","data":{"from":"+5511999999999","to":"+5511888888888","numberId":"n1","messageId":"msg_9","id":"r9","fromMe":false,"content":"ok","correlationId":"c1","createdAt":"2026-02-24T15:01:00Z"}}"#;
    store.apply(record(3, reply));
    let msgs = store.messages();
    let (_, r) = msgs.newest().next().unwrap();
    assert_eq!(msgs.quoted(r).map(|m| m.id()), Some("m1"));
}

#[test]
fn a_call_id_learned_late_is_indexed() {
    let ev = |name: &str, call_id: &str| {
        format!(
            r#"{{"event":"call.{name}","callId":{call_id},"externalCallId":"wacid.9","direction":"INBOUND","status":"RINGING","from":"1","to":"2","timestamp":"2026-07-03T15:00:00Z"}}"#
        )
    };
    let mut store = Store::new(100);
    store.apply(record(1, &ev("ringing", "null")));
    store.apply(record(2, &ev("connected", "\"c9\"")));
    assert_eq!(store.calls().get("c9").map(|c| c.seqs.len()), Some(2));
    assert_eq!(store.calls().len(), 1);
}

#[test]
fn number_state_follows_event_time_not_arrival() {
    let ev = |name: &str, at: &str| {
        format!(
            r#"{{"event":"number.{name}","data":{{"numberId":"n1","phone":"+551","displayName":"Main","createdAt":"{at}"}}}}"#
        )
    };
    let mut store = Store::new(100);
    store.apply(record(1, &ev("disconnected", "2026-02-24T15:10:00Z")));
    store.apply(record(2, &ev("connected", "2026-02-24T15:00:00Z")));
    store.apply(record(3, &ev("health_degraded", "2026-02-24T15:05:00Z")));
    let n = store.numbers().get("n1").unwrap();
    assert_eq!(n.state, NumberState::Disconnected);
    assert_eq!(n.health.as_ref().unwrap().name.as_ref(), "degraded");
    store.apply(record(4, &ev("restored", "2026-02-24T15:20:00Z")));
    assert_eq!(
        store.numbers().get("n1").unwrap().state,
        NumberState::Restored
    );
}

#[test]
fn call_goes_from_ringing_to_ended_whatever_the_order() {
    let ev = |name: &str, status: &str, extra: &str| {
        format!(
            r#"{{"event":"call.{name}","callId":"c1","externalCallId":"wacid.1","direction":"INBOUND","status":"{status}","from":"551","to":"552","timestamp":"2026-07-03T15:00:00Z"{extra}}}"#
        )
    };
    let mut store = Store::new(100);
    store.apply(record(1, &ev("ended", "COMPLETED", r#","duration":120"#)));
    store.apply(record(2, &ev("ringing", "RINGING", "")));
    store.apply(record(3, &ev("connected", "ACCEPTED", "")));
    let c = store.calls().get("c1").unwrap();
    assert_eq!(
        (c.phase, c.status.as_ref(), c.duration),
        (CallPhase::Ended, "COMPLETED", Some(120))
    );
    assert_eq!(c.seqs.iter().collect::<Vec<_>>(), vec![1, 2, 3]);
    assert_eq!(store.calls().len(), 1);
}

#[test]
fn duplicates_count_on_the_first_and_do_not_add_rows() {
    let mut store = Store::new(100);
    store.apply(record(1, &status("sent", "2026-02-24T15:00:05Z", "")));
    let mut dup = record(2, &status("sent", "2026-02-24T15:00:05Z", ""));
    dup.duplicate_of = Some(1);
    let stored = store.apply(dup);
    assert!(
        stored.typed.is_none(),
        "the store keeps rows, not typed events per record"
    );
    assert_eq!(
        stored.subject,
        crate::record::Subject::Message(0),
        "a retry points at its row"
    );
    assert_eq!(store.deliveries(1), 2);
    assert_eq!(store.messages().len(), 1);
    assert_eq!(store.feed().len(), 2);
    assert_eq!(store.counters().duplicates, 1);
}

#[test]
fn memory_is_bounded_by_capacity() {
    let mut store = Store::new(10);
    for i in 0..100u64 {
        let body = status("sent", "2026-02-24T15:00:05Z", "")
            .replace("\"m1\"", &format!("\"m{i}\""))
            .replace("wa1", &format!("wa{i}"));
        store.apply(record(i + 1, &body));
    }
    assert_eq!(store.feed().len(), 10);
    assert_eq!(store.messages().len(), 10);
    assert!(store.messages().outbound("m5").is_none());
    assert!(store.messages().outbound("m95").is_some());
    assert!(store.record(95).is_some() && store.record(50).is_none());
    let seqs = |after| store.since(after).map(|r| r.seq).collect::<Vec<_>>();
    assert_eq!(seqs(97), vec![98, 99, 100]);
    assert_eq!(seqs(0).len(), 10, "older than the feed: all it has");
    assert!(seqs(100).is_empty());
    assert_eq!(store.counters().total, 100);
}

/// 100k events about one number (or one call) keep the newest few seqs and a count of
/// all: the row's allocation stays the same size however many arrive.
#[test]
fn a_number_or_call_row_keeps_its_newest_seqs_and_counts_the_rest() {
    use crate::store::numbers::RecentSeqs;
    const N: u64 = 100_000;
    let number = |seq: u64| {
        let name = if seq.is_multiple_of(2) {
            "health_ok"
        } else {
            "health_degraded"
        };
        format!(
            r#"{{"event":"number.{name}","data":{{"numberId":"n1","phone":"+551","displayName":"Main","createdAt":"2026-02-24T15:00:00Z"}}}}"#
        )
    };
    let call = |seq: u64| {
        format!(
            r#"{{"event":"call.ringing","callId":"c1","externalCallId":"wacid.1","direction":"INBOUND","status":"RINGING","from":"551","to":"552","timestamp":"2026-07-03T15:00:00Z","n":{seq}}}"#
        )
    };
    let native = r#"{"event":"calls","data":{"calls":[{"id":"wacid.1","event":"connect"}]}}"#;
    let mut store = Store::new(1_000);
    let mut capacity_at = Vec::new();
    for seq in 1..=N * 3 {
        let body = match seq % 3 {
            0 => number(seq),
            1 => call(seq),
            _ => native.to_owned(),
        };
        store.apply(record(seq, &body));
        if seq.is_multiple_of(N * 3 / 4) {
            let n = store.numbers().get("n1").unwrap();
            let c = store.calls().get("c1").unwrap();
            capacity_at.push([
                n.seqs.capacity(),
                c.seqs.capacity(),
                c.native_seqs.capacity(),
            ]);
        }
    }
    let n = store.numbers().get("n1").unwrap();
    assert_eq!((n.seqs.len(), n.seqs.total()), (RecentSeqs::KEPT, N));
    assert_eq!(n.seqs.dropped(), N - RecentSeqs::KEPT as u64);
    let kept: Vec<u64> = n.seqs.iter().collect();
    let all: Vec<u64> = (1..=N * 3).filter(|s| s % 3 == 0).collect();
    let newest = &all[all.len() - RecentSeqs::KEPT..];
    assert_eq!(kept, newest, "the newest, oldest first");
    let c = store.calls().get("c1").unwrap();
    assert_eq!((c.seqs.len(), c.seqs.total()), (RecentSeqs::KEPT, N));
    assert_eq!(c.native_seqs.total(), N, "every native envelope counted");
    assert!(c.native_seqs.len() <= RecentSeqs::KEPT);
    // The allocation is the same at a quarter of the way as at the end: flat.
    assert!(
        capacity_at.iter().flatten().all(|c| *c <= RecentSeqs::KEPT),
        "{capacity_at:?}"
    );
    assert_eq!(capacity_at.first(), capacity_at.last(), "{capacity_at:?}");
}

/// What the app answered, journaled as `forward` records: no delivery, no Feed row, but
/// the `app` column's data; and in every list of records a client or an export takes.
#[test]
fn forward_records_fill_in_their_delivery_and_are_no_deliveries() {
    use crate::model::forward::{Forward, ForwardResult};
    let answer = |seq: u64, status: Option<u16>, head: &str| {
        Forward::Sent(ForwardResult {
            seq,
            at: Default::default(),
            record: 0,
            status,
            latency_ms: 7,
            body_head: head.into(),
            error: status.is_none().then(|| "connection refused".into()),
            replay: false,
        })
    };
    let forward = |seq: u64, f: &Forward| Record {
        seq,
        ..Record::forward(f)
    };
    let mut store = Store::new(4);
    store.apply(record(1, &status("sent", "2026-02-24T15:00:05Z", "")));
    store.apply(forward(2, &answer(1, Some(201), "ok\u{1b}[2J")));
    store.apply(record(3, r#"{"event":"mystery"}"#));
    store.apply(forward(4, &answer(3, None, "")));
    store.apply(forward(5, &Forward::Dropped { count: 9 }));

    assert_eq!(store.counters().total, 2, "only deliveries are counted");
    assert_eq!(store.feed().map(|r| r.seq).collect::<Vec<_>>(), vec![1, 3]);
    assert_eq!(store.last_seq(), 5);
    let f = store.forwards();
    assert_eq!((f.ok, f.failed, f.dropped), (1, 1, 9));
    let first = &f.of(1)[0];
    assert_eq!((first.status, first.record), (Some(201), 2));
    assert!(
        !first.body_head.contains('\u{1b}'),
        "sanitised on the way in"
    );
    assert_eq!(f.of(3)[0].error.as_deref(), Some("connection refused"));

    let seqs = |store: &Store, after| {
        let s = store.records_since(after).map(|r| r.seq);
        s.collect::<Vec<_>>()
    };
    assert_eq!(seqs(&store, 0), vec![1, 2, 3, 4, 5]);
    assert_eq!(seqs(&store, 2), vec![3, 4, 5]);
    let exported: Vec<u64> = store.with_forwards(&[1]).iter().map(|r| r.seq).collect();
    assert_eq!(
        exported,
        vec![1, 2],
        "a delivery and the app's answer to it"
    );

    // Evicted from either list: what a client gets still has no hole.
    for seq in 6..=12 {
        store.apply(forward(seq, &answer(1, Some(200), "")));
    }
    assert_eq!(
        store.feed().len(),
        2,
        "forward records never push deliveries out"
    );
    assert_eq!(seqs(&store, 0), vec![9, 10, 11, 12]);
}

/// The stuck-message alert reads only the outbound rows still queued or sent.
#[test]
fn unsettled_holds_outbound_rows_until_they_deliver_fail_or_leave_memory() {
    let mut store = Store::new(2);
    store.apply(record(1, &status("sent", "2026-02-24T15:00:05Z", "")));
    let ids = |s: &Store| -> Vec<String> {
        s.messages()
            .unsettled()
            .map(|(_, r)| r.id().to_owned())
            .collect()
    };
    assert_eq!(ids(&store), ["m1"]);
    store.apply(record(2, &status("delivered", "2026-02-24T15:00:06Z", "")));
    assert!(ids(&store).is_empty(), "delivered is settled");
    let other = status("sent", "2026-02-24T15:00:07Z", "").replace("\"m1\"", "\"m2\"");
    store.apply(record(3, &other));
    let third = status("sent", "2026-02-24T15:00:08Z", "").replace("\"m1\"", "\"m3\"");
    store.apply(record(4, &third));
    let failed = status("failed", "2026-02-24T15:00:09Z", FAILED).replace("\"m1\"", "\"m3\"");
    store.apply(record(5, &failed));
    assert_eq!(ids(&store), ["m2"], "failed is settled");
    // Capacity 2: m2 leaves memory with its row.
    let fourth = status("sent", "2026-02-24T15:00:10Z", "").replace("\"m1\"", "\"m4\"");
    store.apply(record(6, &fourth));
    assert_eq!(ids(&store), ["m4"]);
}
