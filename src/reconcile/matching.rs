//! Which journaled delivery an attempt of the provider's log was: the same event and
//! the same identity (the key the store dedupes on), among the deliveries received
//! within a few minutes of the attempt. The candidates are copied out under a brief
//! read lock and parsed outside it.

use chrono::{DateTime, Duration, Utc};

use crate::model::{self, Identity};
use crate::record::{Body, RecordKind};
use crate::store::{HashMap, SharedStore};

/// How far apart the provider's `createdAt` and our arrival time may be.
const SLACK_MINUTES: i64 = 5;
/// Candidates looked at, at most (the newest).
const MAX_CANDIDATES: usize = 20_000;

/// The identity of a logged payload, as the receiver would have computed it; `None`
/// when it cannot be matched (not a known event).
pub fn identity_of(payload: &serde_json::Value) -> Option<Identity> {
    let bytes = match payload {
        // Some logs keep the body as a string.
        serde_json::Value::String(s) => s.clone().into_bytes(),
        other => serde_json::to_vec(other).ok()?,
    };
    // Only a known event's identity is made of its fields; an unknown or broken one's is
    // of its exact bytes, which a log's re-serialised JSON never reproduces.
    model::parse(&bytes)
        .ok()
        .filter(|p| p.verdict == model::Verdict::Known)
        .map(|p| p.identity)
}

pub fn hex(id: Identity) -> String {
    format!("{:032x}", id.0)
}

/// Journaled deliveries received between `from` and `to` (give or take the slack), by
/// identity: the first seq of each.
pub fn journaled(
    store: &SharedStore,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> HashMap<Identity, u64> {
    let slack = Duration::minutes(SLACK_MINUTES);
    let (from, to) = (
        from.checked_sub_signed(slack).unwrap_or(from),
        to.checked_add_signed(slack).unwrap_or(to),
    );
    // Seqs and bodies only (a body clone shares its bytes), parsed outside the lock.
    let candidates: Vec<(u64, Body)> = {
        let store = store.read();
        store
            .feed()
            .rev()
            .take_while(|r| r.received_at >= from)
            .filter(|r| {
                r.kind == RecordKind::Delivery
                    && r.received_at <= to
                    && r.duplicate_of.is_none()
                    && r.verdict != model::Verdict::Rejected
            })
            .take(MAX_CANDIDATES)
            .map(|r| (r.seq, r.body.clone()))
            .collect()
    };
    let mut out = HashMap::default();
    for (seq, body) in candidates {
        if let Ok(p) = body.with(model::parse) {
            out.entry(p.identity)
                .and_modify(|first: &mut u64| *first = (*first).min(seq))
                .or_insert(seq);
        }
    }
    out
}
