//! How long the hot path takes, as histograms that cost a handful of relaxed atomic adds
//! to observe: no lock, so timing an ack never makes one ack wait for another (the
//! `prometheus-client` histogram takes a mutex per observation). `/metrics` reads them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds (inclusive, seconds) of the buckets: 100 µs to 10 s, 1-2.5-5 a decade.
/// An ack on a fast disk is well under a millisecond; a stalled one, seconds.
pub const BOUNDS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// A fixed-bucket histogram of durations.
#[derive(Debug)]
pub struct Histogram {
    /// Observations per bucket of [`BOUNDS`] (not cumulative); the last is past them all.
    buckets: [AtomicU64; BOUNDS.len() + 1],
    sum_ns: AtomicU64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self {
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            sum_ns: AtomicU64::new(0),
        }
    }
}

/// What a histogram held at one instant.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// `(upper bound, observations in that bucket)`, the last bound `+Inf`.
    pub buckets: Vec<(f64, u64)>,
    pub count: u64,
    pub sum_seconds: f64,
}

impl Histogram {
    pub fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        let i = BOUNDS.partition_point(|b| *b < secs);
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.sum_ns.fetch_add(ns, Ordering::Relaxed);
    }

    /// The count is the buckets' sum, so a scrape racing an observation still sees a
    /// consistent histogram (the `+Inf` bucket equals `_count`); the sum may lag by it.
    pub fn snapshot(&self) -> Snapshot {
        let bounds = BOUNDS.iter().copied().chain([f64::INFINITY]);
        let buckets: Vec<(f64, u64)> = bounds
            .zip(&self.buckets)
            .map(|(b, n)| (b, n.load(Ordering::Relaxed)))
            .collect();
        Snapshot {
            count: buckets.iter().map(|(_, n)| n).sum(),
            buckets,
            sum_seconds: self.sum_ns.load(Ordering::Relaxed) as f64 / 1e9,
        }
    }
}

/// The ingest hand-off's timings.
#[derive(Debug, Default)]
pub struct Timings {
    /// From a delivery's request reaching the handler to its 2xx (kept by the receiver).
    pub ack: Histogram,
    /// Each journal `fdatasync` (kept by the journal writer; one per batch).
    pub sync: Histogram,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_inclusive_and_the_count_is_the_buckets_sum() {
        let h = Histogram::default();
        h.observe(Duration::from_micros(100));
        h.observe(Duration::from_micros(101));
        h.observe(Duration::from_secs(60));
        let s = h.snapshot();
        assert_eq!(s.count, 3);
        assert_eq!(s.buckets[0], (0.0001, 1));
        assert_eq!(s.buckets[1], (0.00025, 1));
        assert_eq!(*s.buckets.last().unwrap(), (f64::INFINITY, 1));
        assert!((s.sum_seconds - 60.000201).abs() < 1e-9);
    }
}
