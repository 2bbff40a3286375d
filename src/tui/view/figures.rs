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

/// The activity chart, ready to draw: per second, each family stacked on the ones
/// before it, so a second's height is its total, and a quiet second is no point at all
/// (a line would draw zero as a row of blocks, which reads as a trickle of traffic).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Activity {
    /// The families with traffic in the window, bottom of the stack first; each with,
    /// for the seconds it had any, (seconds before now (≤ 0), the stack's height up to
    /// and including it).
    pub stacks: Vec<(Family, Vec<(f64, f64)>)>,
    /// The busiest second's total (at least 1).
    pub top: u64,
}

impl Activity {
    /// From deliveries per second by family, oldest first, each series as long.
    pub fn stacked(series: &[(Family, Vec<u64>)]) -> Self {
        let len = series.iter().map(|(_, s)| s.len()).max().unwrap_or(0);
        let mut height = vec![0u64; len];
        let mut stacks = Vec::new();
        for (family, s) in series.iter().filter(|(_, s)| s.iter().any(|n| *n > 0)) {
            let mut points = Vec::new();
            for (i, n) in s.iter().enumerate().filter(|(_, n)| **n > 0) {
                height[i] += n;
                points.push(((i + 1) as f64 - len as f64, height[i] as f64));
            }
            stacks.push((*family, points));
        }
        let top = height.iter().copied().max().unwrap_or(0).max(1);
        Self { stacks, top }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    /// Deliveries per second by family, the last [`ACTIVITY_SPAN`] seconds.
    pub activity: Activity,
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
            activity: Activity::stacked(
                &Family::ALL
                    .iter()
                    .map(|f| (*f, s.activity(*f, now, ACTIVITY_SPAN)))
                    .collect::<Vec<_>>(),
            ),
            numbers,
            last_delivery: s.last_delivery(),
            failure_rate: s.failure_rate(now),
            latency: Leg::ALL.map(|l| quantiles(s.latency(l))),
            histograms: Leg::ALL.map(|l| *s.latency(l).histogram()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_stack_and_quiet_seconds_are_no_points() {
        let series = vec![
            (Family::MessagesIn, vec![0, 2, 0, 1]),
            (Family::Statuses, vec![0, 3, 0, 0]),
            (Family::Failures, vec![0, 0, 0, 0]),
            (Family::Refused, vec![0, 0, 0, 4]),
        ];
        let a = Activity::stacked(&series);
        assert_eq!(
            a.stacks,
            vec![
                (Family::MessagesIn, vec![(-2.0, 2.0), (0.0, 1.0)]),
                (Family::Statuses, vec![(-2.0, 5.0)]),
                (Family::Refused, vec![(0.0, 5.0)]),
            ]
        );
        assert_eq!(a.top, 5);
        assert_eq!(Activity::stacked(&[(Family::Other, vec![0; 3])]).top, 1);
    }
}
