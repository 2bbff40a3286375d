//! The store's figures the overview draws (issue 16): copied from [`Stats`] at sync,
//! while the store is read anyway, so a frame never touches the store. A copy is a few
//! hundred numbers (the activity window, a line per number): nothing is scanned.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::model::event::Text;
use crate::store::Store;
use crate::store::stats::{BUCKETS, Family, Leg, Recent, Stats};

/// Seconds of activity the chart shows.
pub const ACTIVITY_SPAN: usize = 300;
/// Traffic slots in a number's sparkline (10 s each: five minutes).
pub const SPARK_SLOTS: usize = 30;

/// p50 and p95 of one leg.
pub type Quantiles = (Option<Duration>, Option<Duration>);

#[derive(Debug, Clone, Default, PartialEq)]
pub struct NumberFigures {
    pub recent: Recent,
    /// Messages per 10 s, oldest first.
    pub series: Vec<u64>,
    /// sent→delivered.
    pub delivered: Quantiles,
    pub last_event: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    /// Deliveries per second by family, the last [`ACTIVITY_SPAN`] seconds, oldest first.
    pub activity: Vec<(Family, Vec<u64>)>,
    /// By raw numberId.
    pub numbers: HashMap<Text, NumberFigures>,
    pub last_delivery: Option<DateTime<Utc>>,
    pub failure_rate: Option<f64>,
    /// sent→delivered and delivered→read, overall.
    pub latency: [Quantiles; 2],
    /// The same windows per histogram bucket (`store::stats::BUCKET_LABELS`).
    pub histograms: [[u64; BUCKETS]; 2],
}

fn quantiles(stats: &crate::store::stats::Latency) -> Quantiles {
    (stats.p50(), stats.p95())
}

impl Figures {
    /// The figures of now, for the numbers `ids` (those the Fleet lists).
    pub fn of<'a>(store: &Store, now: DateTime<Utc>, ids: impl Iterator<Item = &'a Text>) -> Self {
        let s: &Stats = store.stats();
        let numbers = ids
            .filter_map(|id| {
                let f = s.number(id)?;
                Some((
                    id.clone(),
                    NumberFigures {
                        recent: f.recent(now),
                        series: f.series(now, SPARK_SLOTS),
                        delivered: quantiles(f.latency(Leg::SentDelivered)),
                        last_event: Some(f.last_event()),
                    },
                ))
            })
            .collect();
        Self {
            activity: Family::ALL
                .iter()
                .map(|f| (*f, s.activity(*f, now, ACTIVITY_SPAN)))
                .collect(),
            numbers,
            last_delivery: s.last_delivery(),
            failure_rate: s.failure_rate(now),
            latency: Leg::ALL.map(|l| quantiles(s.latency(l))),
            histograms: Leg::ALL.map(|l| *s.latency(l).histogram()),
        }
    }
}
