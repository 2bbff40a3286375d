//! What a scrape copies out of the store, under its read lock and nothing more: counts
//! kept as records were applied, never a walk over the rows.

use std::collections::BTreeMap;

use crate::alerts::Rule;
use crate::model::alert::AlertState;
use crate::receiver::ReceiverState;
use crate::store::messages::by_status::STATUSES;
use crate::store::stats::{BUCKETS, Leg};
use crate::store::{Counters, Tally};

/// What is copied out of the store, so the lock is not held while writing.
pub struct FromStore {
    pub counters: Counters,
    pub tally: Tally,
    /// Per number label (sanitised, sorted), rows per status of [`STATUSES`].
    pub by_status: BTreeMap<String, [u64; STATUSES.len()]>,
    pub lifecycle: [([u64; BUCKETS], u64); 2],
    pub forwards: [u64; 3],
    pub rows: [(&'static str, usize); 5],
    /// Rows pushed out of memory since start, per table.
    pub evicted: [(&'static str, u64); 3],
    pub last_delivery: Option<chrono::DateTime<chrono::Utc>>,
    /// Per rule (in [`Rule::ALL`]'s order): alerts firing, pending.
    pub alerts: [[u64; 2]; Rule::ALL.len()],
    /// Notifications that worked, that did not.
    pub notified: [u64; 2],
}

impl FromStore {
    pub fn take(state: &ReceiverState) -> Self {
        let store = state.ingest.store().read();
        let counters = store.counters().clone();
        let messages = store.messages();
        // Copied as they are; their labels are made once the lock is released.
        let numbers: Vec<(String, [u64; STATUSES.len()])> = messages
            .by_status()
            .iter()
            .filter(|(_, c)| c.iter().any(|n| *n > 0))
            .map(|(n, c)| (n.to_owned(), *c))
            .collect();
        let f = store.forwards();
        let lifecycle = Leg::ALL.map(|leg| {
            let (buckets, sum) = store.stats().latency(leg).cumulative();
            (*buckets, sum)
        });
        let mut alerts = [[0; 2]; Rule::ALL.len()];
        for row in store.alerts().active() {
            // A journal from elsewhere may name other rules: not a label of ours.
            let Some(i) = Rule::ALL.iter().position(|r| r.name() == row.alert.name) else {
                continue;
            };
            alerts[i][usize::from(row.alert.state != AlertState::Firing)] += 1;
        }
        let notified = [store.alerts().notified_ok, store.alerts().notified_failed];
        // Every delivery and reply record goes into the feed once.
        let fed = counters.total + counters.sends;
        let mut taken = Self {
            tally: store.tally().clone(),
            by_status: BTreeMap::new(),
            lifecycle,
            forwards: [f.ok, f.failed, f.dropped],
            rows: [
                ("deliveries", store.feed().len()),
                ("messages", messages.len()),
                ("calls", store.calls().len()),
                ("replies", store.replies().len()),
                ("numbers", store.numbers().len()),
            ],
            evicted: [
                ("deliveries", fed.saturating_sub(store.feed().len() as u64)),
                ("messages", messages.range().start),
                ("calls", store.calls().range().start),
            ],
            last_delivery: store.stats().last_delivery(),
            alerts,
            notified,
            counters,
        };
        drop(store);
        // Two ids that sanitise alike share one label.
        for (number, counts) in numbers {
            let label = crate::sanitize::line(&number, 64);
            let sums = taken.by_status.entry(label).or_default();
            for (sum, n) in sums.iter_mut().zip(counts) {
                *sum += n;
            }
        }
        taken
    }
}
