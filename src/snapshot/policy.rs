//! When the journal writer takes a snapshot: often enough that a crash replays a
//! bounded tail, rarely enough that writing it (the whole store, a few seconds of CPU
//! at a million rows) stays a small share of the box.

use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Policy {
    /// A snapshot after this many new records…
    pub records: u64,
    /// …but never sooner than this after the last one;
    pub min_interval: Duration,
    /// and after this long, for any number of new records.
    pub max_interval: Duration,
    since: u64,
    last: Instant,
}

impl Default for Policy {
    fn default() -> Self {
        Self::new(100_000, Duration::from_secs(60), Duration::from_secs(300))
    }
}

impl Policy {
    pub fn new(records: u64, min_interval: Duration, max_interval: Duration) -> Self {
        Self {
            records,
            min_interval,
            max_interval,
            since: 0,
            last: Instant::now(),
        }
    }

    /// `n` more records are durable: is a snapshot due?
    pub fn wrote(&mut self, n: u64) -> bool {
        self.since += n;
        let age = self.last.elapsed();
        self.since > 0
            && ((self.since >= self.records && age >= self.min_interval)
                || age >= self.max_interval)
    }

    /// The start replayed `n` records no snapshot holds: owed at the next one.
    pub fn replayed(&mut self, n: u64) {
        self.since += n;
    }

    /// Anything not yet in a snapshot (a last one is worth taking at shutdown).
    pub fn pending(&self) -> bool {
        self.since > 0
    }

    pub fn taken(&mut self) {
        self.since = 0;
        self.last = Instant::now();
    }
}
