//! Every receiver's records into one store (a dashboard on NATS, the alerts' view).
//!
//! A record's seq belongs to its receiver's journal; in the merged store it takes its
//! position in the stream instead (one rising order for all). What pilotwatch's own
//! records point at by seq (a forward's delivery, an alert's refused delivery, a
//! provider log entry's match) is translated the same way. Deliveries are deduplicated
//! again by identity, as the sequencer does, which catches what fell outside
//! JetStream's duplicate window.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::bus::Incoming;
use crate::ingest::Dedupe;
use crate::record::{Record, RecordKind};

/// A receiver as the merged view knows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seen {
    /// When its newest record was journaled there.
    pub last_record: Option<DateTime<Utc>>,
    pub records: u64,
    /// Its last heartbeat: when, its outbox backlog, whether it sends replies.
    pub heartbeat: Option<DateTime<Utc>>,
    pub backlog: u64,
    /// Since when its heartbeats say it has a backlog (one record in flight is none).
    pub behind_since: Option<DateTime<Utc>>,
    pub sends: bool,
    pub alerts: bool,
    pub failure: Option<String>,
}

#[derive(Debug)]
pub struct Merger {
    dedupe: Dedupe,
    /// (receiver, its seq) → position, and back; bounded like the store.
    to_position: HashMap<(Arc<str>, u64), u64>,
    to_origin: HashMap<u64, (Arc<str>, u64)>,
    order: VecDeque<u64>,
    window: usize,
    names: Vec<Arc<str>>,
    pub receivers: BTreeMap<String, Seen>,
}

impl Merger {
    pub fn new(window: usize) -> Self {
        Self {
            dedupe: Dedupe::new(window),
            to_position: HashMap::new(),
            to_origin: HashMap::new(),
            order: VecDeque::new(),
            window: window.max(1),
            names: Vec::new(),
            receivers: BTreeMap::new(),
        }
    }

    /// Where a record of the merged store came from: its receiver and seq there.
    pub fn origin(&self, position: u64) -> Option<(&str, u64)> {
        self.to_origin.get(&position).map(|(r, s)| (&**r, *s))
    }

    fn name(&mut self, receiver: &str) -> Arc<str> {
        if let Some(n) = self.names.iter().find(|n| &***n == receiver) {
            return n.clone();
        }
        let n: Arc<str> = receiver.into();
        // A bounded list: thousands of receiver names would be a misconfiguration.
        if self.names.len() < 1024 {
            self.names.push(n.clone());
        }
        n
    }

    /// The record as the merged store takes it, or why it cannot be read.
    pub fn merge(&mut self, incoming: Incoming) -> Result<Record, String> {
        let Incoming {
            position,
            receiver,
            seq,
            line,
        } = incoming;
        let mut record = crate::journal::line::decode(&line).map_err(|e| {
            format!("stream record {position} (from {receiver}, #{seq}) does not read: {e}")
        })?;
        let identity = crate::ingest::rederive(&mut record);
        record.seq = position;
        record.duplicate_of = match record.kind {
            RecordKind::Delivery => identity.and_then(|id| self.dedupe.check(id, position)),
            _ => None,
        };
        let name = self.name(&receiver);
        if matches!(
            record.kind,
            RecordKind::Forward | RecordKind::Alert | RecordKind::Api
        ) {
            self.translate(&mut record, &name);
        }
        if let Some(seen) = self.seen(receiver) {
            seen.records += 1;
            seen.last_record = Some(
                seen.last_record
                    .map_or(record.received_at, |t| t.max(record.received_at)),
            );
        }
        self.remember(name, seq, position);
        Ok(record)
    }

    /// The receiver's row (made if new), for the first [`Self::MAX_RECEIVERS`] names:
    /// anyone who can publish on the subjects could invent names without end.
    pub fn seen(&mut self, receiver: String) -> Option<&mut Seen> {
        if self.receivers.len() >= Self::MAX_RECEIVERS && !self.receivers.contains_key(&receiver) {
            return None;
        }
        Some(self.receivers.entry(receiver).or_default())
    }

    pub const MAX_RECEIVERS: usize = 256;

    fn remember(&mut self, receiver: Arc<str>, seq: u64, position: u64) {
        self.to_position.insert((receiver.clone(), seq), position);
        self.to_origin.insert(position, (receiver, seq));
        self.order.push_back(position);
        while self.order.len() > self.window {
            if let Some(old) = self.order.pop_front()
                && let Some(key) = self.to_origin.remove(&old)
                // A record published again has a newer position: that one stays.
                && self.to_position.get(&key) == Some(&old)
            {
                self.to_position.remove(&key);
            }
        }
    }

    /// Rewrite the receiver's seqs a record of ours points at into positions (0 when
    /// the record pointed at is not in view).
    fn translate(&self, record: &mut Record, receiver: &Arc<str>) {
        let Ok(mut body) = serde_json::from_slice::<Value>(&record.body.get()) else {
            return;
        };
        let map = |seq: u64| {
            self.to_position
                .get(&(receiver.clone(), seq))
                .copied()
                .unwrap_or(0)
        };
        let changed = match record.kind {
            RecordKind::Forward => patch(body.get_mut("seq"), map),
            RecordKind::Alert => patch_all(
                &mut body,
                &map,
                &|o| o.get("kind").and_then(Value::as_str) == Some("delivery"),
                "seq",
            ),
            RecordKind::Api => {
                patch_all(&mut body, &map, &|o| o.contains_key("matched"), "matched")
            }
            _ => false,
        };
        if changed {
            record.body = serde_json::to_vec(&body).expect("serialisable").into();
            record.body_len = record.body.len() as u64;
        }
    }
}

fn patch(v: Option<&mut Value>, map: impl Fn(u64) -> u64) -> bool {
    match v {
        Some(v) => match v.as_u64() {
            Some(seq) => {
                *v = Value::from(map(seq));
                true
            }
            None => false,
        },
        None => false,
    }
}

/// Every object (at any depth) that `is` picks: its `key` translated.
fn patch_all(
    v: &mut Value,
    map: &dyn Fn(u64) -> u64,
    is: &dyn Fn(&serde_json::Map<String, Value>) -> bool,
    key: &str,
) -> bool {
    match v {
        Value::Object(o) => {
            let mut changed = false;
            if is(o) {
                changed |= patch(o.get_mut(key), map);
            }
            for child in o.values_mut() {
                changed |= patch_all(child, map, is, key);
            }
            changed
        }
        Value::Array(a) => a
            .iter_mut()
            .fold(false, |c, child| patch_all(child, map, is, key) | c),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::line;

    fn incoming(position: u64, receiver: &str, record: &Record) -> Incoming {
        let mut l = Vec::new();
        line::encode(record, &mut l);
        l.pop();
        Incoming {
            position,
            receiver: receiver.into(),
            seq: record.seq,
            line: l.into(),
        }
    }

    const SENT: &[u8] =
        br#"{"event":"message.sent","data":{"id":"m1","numberId":"n1","to":"+1","status":"sent"}}"#;

    #[test]
    fn positions_replace_seqs_and_the_same_delivery_from_two_receivers_is_a_duplicate() {
        let mut m = Merger::new(100);
        let a = m
            .merge(incoming(10, "a", &Record::delivery(1, SENT)))
            .unwrap();
        let b = m
            .merge(incoming(11, "b", &Record::delivery(7, SENT)))
            .unwrap();
        assert_eq!((a.seq, a.duplicate_of), (10, None));
        assert_eq!((b.seq, b.duplicate_of), (11, Some(10)));
        assert_eq!(m.origin(11), Some(("b", 7)));
        assert_eq!(m.receivers["a"].records, 1);
        // A forward outcome of b's #7 points at position 11.
        let f: crate::model::forward::Forward =
            serde_json::from_str(r#"{"outcome":"sent","seq":7,"status":200,"latencyMs":3}"#)
                .unwrap();
        let seq_of = |r: &Record| {
            let v: Value = serde_json::from_slice(&r.body.get()).unwrap();
            v["seq"].as_u64().unwrap()
        };
        let mut r = Record::forward(&f);
        r.seq = 8;
        let merged = m.merge(incoming(12, "b", &r)).unwrap();
        assert_eq!(seq_of(&merged), 11);
        // Of a receiver whose #7 is not in view: 0, never another delivery.
        let mut r = Record::forward(&f);
        r.seq = 9;
        let merged = m.merge(incoming(13, "c", &r)).unwrap();
        assert_eq!(seq_of(&merged), 0);
    }

    #[test]
    fn a_record_published_again_keeps_its_newer_position_when_the_old_one_ages_out() {
        let mut m = Merger::new(2);
        m.merge(incoming(10, "a", &Record::delivery(1, SENT)))
            .unwrap();
        // #1 taken out and published again at 11; 12 pushes position 10 out.
        m.merge(incoming(11, "a", &Record::delivery(1, SENT)))
            .unwrap();
        m.merge(incoming(12, "a", &Record::delivery(2, b"{}")))
            .unwrap();
        assert_eq!(m.to_position.get(&("a".into(), 1)), Some(&11));
        assert_eq!(m.origin(10), None);
    }

    #[test]
    fn invented_receiver_names_are_bounded() {
        let mut m = Merger::new(10_000);
        for i in 0..300u64 {
            m.merge(incoming(
                i + 1,
                &format!("r{i}"),
                &Record::delivery(i + 1, b"{}"),
            ))
            .unwrap();
        }
        assert_eq!(m.receivers.len(), Merger::MAX_RECEIVERS);
    }

    #[test]
    fn a_damaged_line_is_an_error_that_says_where() {
        let mut m = Merger::new(10);
        let e = m
            .merge(Incoming {
                position: 5,
                receiver: "a".into(),
                seq: 3,
                line: bytes::Bytes::from_static(b"{\"seq\":3,oops"),
            })
            .unwrap_err();
        assert!(e.contains("stream record 5 (from a, #3)"), "{e}");
    }
}
