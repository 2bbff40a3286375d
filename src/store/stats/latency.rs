//! Lifecycle delays over a sliding window of the last N samples: p50/p95 and a
//! log-scale histogram, kept up to date as each sample comes in. Adding a sample is
//! O(1) (it runs in `Store::apply`); a quantile walks a fixed table of fine buckets
//! (32 per power of two), so it is within 3 % of the exact one, never above it.
//!
//! The window counts samples rather than minutes: memory and cost stay fixed whatever
//! the rate, a quiet number still shows what its latency was instead of nothing, and
//! the figures depend only on the records (not on when they are read), so a replay
//! shows the same numbers.

use std::collections::VecDeque;
use std::time::Duration;

/// Samples kept for the overall figures of each leg.
pub const LATENCY_SAMPLES: usize = 1_000;
/// Samples kept per number and leg (smaller: up to [`super::MAX_NUMBERS`] of them).
pub const NUMBER_LATENCY_SAMPLES: usize = 250;

/// Upper bounds (exclusive, ms) of the histogram's buckets; one more holds the rest.
pub const BUCKET_BOUNDS_MS: [u32; 9] = [
    250, 500, 1_000, 2_000, 5_000, 10_000, 30_000, 60_000, 300_000,
];
/// One bucket more than bounds: the last is "5 min or more".
pub const BUCKETS: usize = BUCKET_BOUNDS_MS.len() + 1;
/// Labels of the buckets, for a stats view.
pub const BUCKET_LABELS: [&str; BUCKETS] = [
    "<250ms", "<500ms", "<1s", "<2s", "<5s", "<10s", "<30s", "<1m", "<5m", "5m+",
];

/// Which delay between two lifecycle steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Leg {
    SentDelivered,
    DeliveredRead,
}

impl Leg {
    pub const ALL: [Leg; 2] = [Self::SentDelivered, Self::DeliveredRead];

    pub fn label(self) -> &'static str {
        match self {
            Self::SentDelivered => "sent→delivered",
            Self::DeliveredRead => "delivered→read",
        }
    }
}

/// Fine buckets per power of two: a quantile reads as its bucket's lower bound, at
/// most 1/32 (3 %) below the exact value; below 32 ms buckets are exact.
const SUB_BITS: u32 = 5;
const SUB: u32 = 1 << SUB_BITS;
/// Exact buckets below [`SUB`], then [`SUB`] per power of two up to 2^32 ms.
const FINE: usize = (SUB + (32 - SUB_BITS) * SUB) as usize;

fn fine(ms: u32) -> usize {
    if ms < SUB {
        return ms as usize;
    }
    let shift = 31 - ms.leading_zeros() - SUB_BITS;
    (SUB + shift * SUB + ((ms >> shift) & (SUB - 1))) as usize
}

/// The smallest delay of fine bucket `i`.
fn lower(i: usize) -> u32 {
    let i = i as u32;
    if i < SUB {
        return i;
    }
    let (shift, m) = ((i - SUB) / SUB, (i - SUB) % SUB);
    (SUB + m) << shift
}

/// The last `cap` delays of one leg: the window in arrival order, and its counts per
/// fine bucket (quantiles) and per display bucket (the histogram).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Latency {
    cap: usize,
    /// Milliseconds, oldest first: what leaves the window next.
    order: VecDeque<u32>,
    /// Samples in the window per [`fine`] bucket; allocated with the first sample (a
    /// number that sends nothing costs nothing).
    fine: Box<[u16]>,
    histogram: [u64; BUCKETS],
    /// Samples ever taken (also those that left the window).
    total: u64,
    /// Every sample ever taken, per bucket with inclusive bounds (`le`), and their sum in
    /// ms: a Prometheus histogram, which must only grow (the window's does not).
    cumulative: [u64; BUCKETS],
    sum_ms: u64,
}

impl Latency {
    pub fn new(cap: usize) -> Self {
        Self {
            // Fine counts are u16.
            cap: cap.clamp(1, u16::MAX.into()),
            order: VecDeque::new(),
            fine: Box::default(),
            histogram: [0; BUCKETS],
            total: 0,
            cumulative: [0; BUCKETS],
            sum_ms: 0,
        }
    }

    /// Add one delay; the oldest leaves a full window.
    pub(super) fn push(&mut self, ms: u32) {
        if self.fine.is_empty() {
            self.fine = vec![0; FINE].into_boxed_slice();
        }
        self.total += 1;
        self.cumulative[BUCKET_BOUNDS_MS.partition_point(|b| *b < ms)] += 1;
        self.sum_ms += u64::from(ms);
        if self.order.len() == self.cap
            && let Some(old) = self.order.pop_front()
        {
            self.fine[fine(old)] -= 1;
            self.histogram[bucket(old)] -= 1;
        }
        self.order.push_back(ms);
        self.fine[fine(ms)] += 1;
        self.histogram[bucket(ms)] += 1;
    }

    /// Samples in the window.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Samples ever taken.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The `q` quantile (0.0–1.0, nearest rank) of the window, to 3 % below; `None`
    /// when empty.
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        let n = self.order.len();
        if n == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * n as f64).ceil() as usize).clamp(1, n);
        let mut seen = 0;
        let i = self.fine.iter().position(|c| {
            seen += usize::from(*c);
            seen >= rank
        })?;
        Some(Duration::from_millis(lower(i).into()))
    }

    pub fn p50(&self) -> Option<Duration> {
        self.quantile(0.50)
    }

    pub fn p95(&self) -> Option<Duration> {
        self.quantile(0.95)
    }

    /// Samples in the window per bucket of [`BUCKET_LABELS`].
    pub fn histogram(&self) -> &[u64; BUCKETS] {
        &self.histogram
    }

    /// Every sample ever taken (not cumulated across buckets), per bucket of
    /// [`BUCKET_BOUNDS_MS`] taken as inclusive upper bounds, and their sum in ms.
    pub fn cumulative(&self) -> (&[u64; BUCKETS], u64) {
        (&self.cumulative, self.sum_ms)
    }
}

fn bucket(ms: u32) -> usize {
    BUCKET_BOUNDS_MS.partition_point(|b| *b <= ms)
}

/// The delay between two event times in ms: a negative one (the provider's clocks
/// disagree) counts as 0, so every message that made the step is one sample; a delay
/// past u32 (49 days) is clamped.
pub(super) fn delay_ms(
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
) -> u32 {
    let ms = (to - from).num_milliseconds().max(0);
    u32::try_from(ms).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_histogram_follow_the_window() {
        let mut l = Latency::new(4);
        assert_eq!(l.p50(), None);
        for ms in [100, 300, 700, 20_000] {
            l.push(ms);
        }
        // 300 and 20 000 read as their buckets' lower bounds.
        assert_eq!(l.p50(), Some(Duration::from_millis(296)));
        assert_eq!(l.p95(), Some(Duration::from_millis(19_968)));
        assert_eq!(l.histogram()[..7], [1, 1, 1, 0, 0, 0, 1]);
        // The oldest (100) leaves: the window is 300, 700, 20 000, 400 000.
        l.push(400_000);
        assert_eq!(l.len(), 4);
        assert_eq!(l.total(), 5);
        assert_eq!(l.p50(), Some(Duration::from_millis(688)));
        assert_eq!(l.histogram()[0], 0);
        assert_eq!(l.histogram()[BUCKETS - 1], 1);
        assert_eq!(l.histogram().iter().sum::<u64>(), 4);
        // Every sample stays in the cumulative counts; 250 is "le 0.25 s" there.
        l.push(250);
        let (all, sum) = l.cumulative();
        assert_eq!(all[..2], [2, 1]);
        assert_eq!(all.iter().sum::<u64>(), 6);
        assert_eq!(sum, 100 + 300 + 700 + 20_000 + 400_000 + 250);
    }

    #[test]
    fn fine_buckets_cover_u32_within_three_percent() {
        assert_eq!(fine(u32::MAX), FINE - 1);
        for ms in [
            0,
            1,
            31,
            32,
            33,
            63,
            64,
            100,
            999,
            1_500,
            65_537,
            3_600_000,
            u32::MAX,
        ] {
            let low = lower(fine(ms));
            assert!(low <= ms && ms - low <= ms / 32, "{ms} reads as {low}");
            assert_eq!(fine(low), fine(ms));
        }
    }

    #[test]
    fn bucket_edges_are_exclusive_upper_bounds() {
        assert_eq!(bucket(0), 0);
        assert_eq!(bucket(249), 0);
        assert_eq!(bucket(250), 1);
        assert_eq!(bucket(299_999), 8);
        assert_eq!(bucket(300_000), 9);
    }
}
