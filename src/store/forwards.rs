//! What the user's app answered to forwarded deliveries (`--forward-to`), by seq.

use std::collections::VecDeque;

use crate::store::HashMap;

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardResult {
    pub at: DateTime<Utc>,
    /// The app's HTTP status, if it answered.
    pub status: Option<u16>,
    pub latency_ms: u64,
    /// The first bytes of its answer, sanitised.
    pub body_head: String,
    /// Why there was no answer (timeout, refused), sanitised.
    pub error: Option<String>,
    /// Sent again by hand (`x`), not by the live stream.
    pub replay: bool,
}

impl ForwardResult {
    pub fn ok(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

#[derive(Debug, Default)]
pub struct Forwards {
    by_seq: HashMap<u64, Vec<ForwardResult>>,
    order: VecDeque<u64>,
    pub ok: u64,
    pub failed: u64,
    /// Deliveries not forwarded because the app fell too far behind.
    pub dropped: u64,
    /// Bumped on every change, so views know to redraw what they show.
    pub version: u64,
}

impl Forwards {
    /// Every attempt for this delivery, oldest first.
    pub fn of(&self, seq: u64) -> &[ForwardResult] {
        self.by_seq.get(&seq).map_or(&[], Vec::as_slice)
    }

    pub(crate) fn note(&mut self, seq: u64, result: ForwardResult, capacity: usize) {
        if result.ok() {
            self.ok += 1;
        } else {
            self.failed += 1;
        }
        let list = self.by_seq.entry(seq).or_default();
        if list.is_empty() {
            self.order.push_back(seq);
        }
        list.push(result);
        while self.order.len() > capacity {
            if let Some(old) = self.order.pop_front() {
                self.by_seq.remove(&old);
            }
        }
        self.version += 1;
    }

    pub(crate) fn note_dropped(&mut self, n: u64) {
        self.dropped += n;
        self.version += 1;
    }
}
