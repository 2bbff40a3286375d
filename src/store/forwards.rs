//! What the user's app answered to forwarded deliveries (`--forward-to`), by seq, folded
//! from `forward` records. Those records are no Feed rows (each fills in the `app`
//! column of the delivery it is about), so they are kept here, for whoever needs every
//! record: an attached client catching up, an export.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::model::forward::Forward;
pub use crate::model::forward::ForwardResult;
use crate::record::Record;
use crate::sanitize::line as clean;
use crate::store::HashMap;

#[derive(Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Forwards {
    #[serde(with = "crate::serial::as_json")]
    by_seq: HashMap<u64, Vec<ForwardResult>>,
    order: VecDeque<u64>,
    /// The `forward` records themselves, oldest first.
    records: VecDeque<Arc<Record>>,
    pub ok: u64,
    pub failed: u64,
    /// Records not forwarded because the app fell too far behind.
    pub dropped: u64,
    /// Bumped on every change, so views know to redraw what they show.
    pub version: u64,
}

impl Forwards {
    /// Every attempt for this delivery, oldest first.
    pub fn of(&self, seq: u64) -> &[ForwardResult] {
        self.by_seq.get(&seq).map_or(&[], Vec::as_slice)
    }

    /// A `forward` record by its own seq, if still in memory.
    pub fn record(&self, seq: u64) -> Option<&Arc<Record>> {
        let i = self.records.binary_search_by_key(&seq, |r| r.seq).ok()?;
        self.records.get(i)
    }

    /// The `forward` records after `seq`, oldest first.
    pub fn since(&self, seq: u64) -> impl DoubleEndedIterator<Item = &Arc<Record>> {
        self.records
            .range(self.records.partition_point(|r| r.seq <= seq)..)
    }

    /// Fold a `forward` record in. Returns it as stored, and the highest seq this pushed
    /// out of memory (0: none).
    pub(crate) fn apply(&mut self, record: Record, capacity: usize) -> (Arc<Record>, u64) {
        match serde_json::from_slice::<Forward>(&record.body.get()) {
            Ok(Forward::Sent(mut result)) => {
                result.at = record.received_at;
                result.record = record.seq;
                // Written sanitised, but a journal opened with `open` may come from
                // anywhere, and the detail view shows these as they are.
                result.body_head = clean(&result.body_head, 256);
                result.error = result.error.map(|e| clean(&e, 256));
                self.note(result, capacity);
            }
            Ok(Forward::Dropped { count }) => {
                self.dropped += count;
                self.version += 1;
            }
            // Unreadable (a newer writer?): kept for catch-up and export, shown nowhere.
            Err(_) => {}
        }
        let record = Arc::new(record);
        self.records.push_back(record.clone());
        let mut evicted = 0;
        while self.records.len() > capacity {
            if let Some(old) = self.records.pop_front() {
                evicted = old.seq;
            }
        }
        (record, evicted)
    }

    fn note(&mut self, result: ForwardResult, capacity: usize) {
        if result.ok() {
            self.ok += 1;
        } else {
            self.failed += 1;
        }
        let list = self.by_seq.entry(result.seq).or_default();
        if list.is_empty() {
            self.order.push_back(result.seq);
        }
        list.push(result);
        while self.order.len() > capacity {
            if let Some(old) = self.order.pop_front() {
                self.by_seq.remove(&old);
            }
        }
        self.version += 1;
    }
}
