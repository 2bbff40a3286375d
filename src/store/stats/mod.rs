//! What the overview and the header chart, kept up to date as [`super::Store::apply`]
//! folds each record in: deliveries per second by family, each number's recent traffic,
//! lifecycle latencies, the last delivery and the failure rate. Nothing here scans the
//! store, and everything comes from records (arrival times are the journaled
//! `received_at`, delays the events' `createdAt`), so a replay rebuilds the same stats.
//!
//! Queries take `now`, so a frame asks about its own instant and a test about a fixed one.

mod latency;
mod ring;

use chrono::{DateTime, Utc};

use crate::model::Verdict;
use crate::model::event::{Message, Text};
use crate::record::{Record, RecordKind};
use crate::store::HashMap;
use crate::store::messages::{Direction, MessageChange, MessageRow, Step};

pub use latency::{
    BUCKET_BOUNDS_MS, BUCKET_LABELS, BUCKETS, LATENCY_SAMPLES, Latency, Leg, NUMBER_LATENCY_SAMPLES,
};
use ring::Ring;

/// Seconds of per-second activity kept (the chart's widest span).
pub const ACTIVITY_SECONDS: usize = 600;
/// Length of a traffic slot, seconds: the sparkline's resolution, and that of the
/// 5-minute counts (a slot is in or out as a whole).
pub const TRAFFIC_SLOT_SECONDS: i64 = 10;
/// Traffic slots kept per number: ten minutes of sparkline.
pub const TRAFFIC_SLOTS: usize = 60;
/// The span of the "last 5 minutes" counts and failure rate.
pub const RECENT_SECONDS: i64 = 300;
/// Numbers followed. Accounts have a handful; a sender inventing numberIds must not grow
/// memory without end. Each costs ~1.5 KB of traffic slots, and ~2.8 KB per latency
/// leg once it has sent messages (about 7 KB in all: 70 MB at the cap, in the worst
/// case). Events of numbers past it count in [`Stats::untracked`] only.
pub const MAX_NUMBERS: usize = 10_000;

/// What kind of delivery, for the activity chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Family {
    /// `message.received`, `reply`, `group`, `newsletter` (and unknown `message.*`).
    MessagesIn,
    /// `message.sent`, `delivered`, `read`.
    Statuses,
    /// `message.failed`.
    Failures,
    /// `number.*`, `call.*`, `calls`.
    NumbersCalls,
    /// Rejected or broken, whatever the event.
    Refused,
    /// Leads, phone lines, events of no family above.
    Other,
}

impl Family {
    pub const ALL: [Family; 6] = [
        Self::MessagesIn,
        Self::Statuses,
        Self::Failures,
        Self::NumbersCalls,
        Self::Refused,
        Self::Other,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::MessagesIn => "messages in",
            Self::Statuses => "statuses",
            Self::Failures => "failures",
            Self::NumbersCalls => "numbers/calls",
            Self::Refused => "refused",
            Self::Other => "other",
        }
    }

    /// The family of a delivery, by its verdict and event name.
    pub fn of(verdict: Verdict, event: Option<&str>) -> Self {
        if matches!(verdict, Verdict::Rejected | Verdict::Broken) {
            return Self::Refused;
        }
        let name = event.unwrap_or_default();
        match name {
            "message.failed" => Self::Failures,
            "message.sent" | "message.delivered" | "message.read" => Self::Statuses,
            "calls" => Self::NumbersCalls,
            _ if name.starts_with("message.") => Self::MessagesIn,
            _ if name.starts_with("number.") || name.starts_with("call.") => Self::NumbersCalls,
            _ => Self::Other,
        }
    }
}

/// Message counts over the last five minutes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Recent {
    /// New inbound messages.
    pub messages_in: u64,
    /// New outbound messages (a webhook's or a reply sent from here).
    pub messages_out: u64,
    /// Messages that failed (once per message).
    pub failed: u64,
}

impl Recent {
    /// failed / out; `None` when nothing went out. Above 1 when the failures are of
    /// messages sent before the window.
    pub fn failure_rate(&self) -> Option<f64> {
        (self.messages_out > 0).then(|| self.failed as f64 / self.messages_out as f64)
    }
}

/// Per traffic slot: in, out, failed.
type Traffic = Ring<[u32; 3], TRAFFIC_SLOTS>;

fn traffic_slot(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(TRAFFIC_SLOT_SECONDS)
}

fn recent(traffic: &Traffic, now: DateTime<Utc>) -> Recent {
    recent_over(traffic, now, RECENT_SECONDS)
}

/// In / out / failed over the `seconds` before `now` (at most the slots kept: ten
/// minutes), whole slots.
fn recent_over(traffic: &Traffic, now: DateTime<Utc>, seconds: i64) -> Recent {
    let slots = (seconds / TRAFFIC_SLOT_SECONDS).max(1) as usize;
    let mut r = Recent::default();
    for [i, o, f] in traffic.series(traffic_slot(now), slots) {
        r.messages_in += u64::from(i);
        r.messages_out += u64::from(o);
        r.failed += u64::from(f);
    }
    r
}

/// One number's figures.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NumberStats {
    traffic: Traffic,
    first_seen: DateTime<Utc>,
    /// Arrival of the delivery that made its newest message row (in or out).
    last_message: Option<DateTime<Utc>>,
    /// Message rows it made (in + out), for its usual rate.
    messages: u64,
    last_event: DateTime<Utc>,
    latency: [Latency; 2],
}

impl NumberStats {
    fn new(at: DateTime<Utc>) -> Self {
        Self {
            traffic: Traffic::default(),
            first_seen: at,
            last_message: None,
            messages: 0,
            last_event: at,
            latency: [(); 2].map(|_| Latency::new(NUMBER_LATENCY_SAMPLES)),
        }
    }

    /// In / out / failed over the last five minutes before `now`.
    pub fn recent(&self, now: DateTime<Utc>) -> Recent {
        recent(&self.traffic, now)
    }

    /// In / out / failed over the `seconds` before `now` (ten minutes at most).
    pub fn recent_over(&self, now: DateTime<Utc>, seconds: i64) -> Recent {
        recent_over(&self.traffic, now, seconds)
    }

    /// Its first delivery's arrival.
    pub fn first_seen(&self) -> DateTime<Utc> {
        self.first_seen
    }

    /// Arrival of its newest message (in or out), if any.
    pub fn last_message(&self) -> Option<DateTime<Utc>> {
        self.last_message
    }

    /// New messages (in + out) it has had since first seen.
    pub fn messages(&self) -> u64 {
        self.messages
    }

    /// Messages (in + out) per [`TRAFFIC_SLOT_SECONDS`], the `slots` (at most
    /// [`TRAFFIC_SLOTS`]) up to `now`, oldest first: a sparkline.
    pub fn series(&self, now: DateTime<Utc>, slots: usize) -> Vec<u64> {
        self.traffic
            .series(traffic_slot(now), slots)
            .map(|[i, o, _]| u64::from(i) + u64::from(o))
            .collect()
    }

    /// Arrival of its latest delivery (a message or `number.*` event).
    pub fn last_event(&self) -> DateTime<Utc> {
        self.last_event
    }

    pub fn latency(&self, leg: Leg) -> &Latency {
        &self.latency[leg as usize]
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Stats {
    activity: Ring<[u32; 6], ACTIVITY_SECONDS>,
    /// Deliveries refused (not acknowledged: bad signature, not JSON, too large) per
    /// second; the chart's `refused` also counts broken ones, which were acknowledged.
    rejected: Ring<u32, ACTIVITY_SECONDS>,
    traffic: Traffic,
    last_delivery: Option<DateTime<Utc>>,
    numbers: HashMap<Text, NumberStats>,
    untracked: u64,
    latency: [Latency; 2],
    /// Tests measure what stats cost `Store::apply` by turning them off.
    #[cfg(test)]
    disabled: bool,
}

impl Default for Stats {
    fn default() -> Self {
        Self {
            activity: Ring::default(),
            rejected: Ring::default(),
            traffic: Traffic::default(),
            last_delivery: None,
            numbers: HashMap::default(),
            untracked: 0,
            latency: [(); 2].map(|_| Latency::new(LATENCY_SAMPLES)),
            #[cfg(test)]
            disabled: false,
        }
    }
}

impl Stats {
    /// Deliveries of `family` per second, the `seconds` (at most [`ACTIVITY_SECONDS`])
    /// up to and including `now`'s, oldest first; quiet seconds are 0. Retries count:
    /// each is a delivery.
    pub fn activity(&self, family: Family, now: DateTime<Utc>, seconds: usize) -> Vec<u64> {
        let f = family as usize;
        self.activity
            .series(now.timestamp(), seconds)
            .map(|c| u64::from(c[f]))
            .collect()
    }

    /// Arrival of the newest delivery that was not refused (rejected or broken).
    pub fn last_delivery(&self) -> Option<DateTime<Utc>> {
        self.last_delivery
    }

    /// All numbers' in / out / failed over the last five minutes before `now`.
    pub fn recent(&self, now: DateTime<Utc>) -> Recent {
        recent(&self.traffic, now)
    }

    /// The 5-minute failure rate (0.021 for 2.1 %): failed / outbound messages; `None`
    /// when none went out.
    pub fn failure_rate(&self, now: DateTime<Utc>) -> Option<f64> {
        self.recent(now).failure_rate()
    }

    /// All numbers' in / out / failed over the `seconds` before `now` (ten minutes at
    /// most).
    pub fn recent_over(&self, now: DateTime<Utc>, seconds: i64) -> Recent {
        recent_over(&self.traffic, now, seconds)
    }

    /// Deliveries refused (verdict `rejected`: never acknowledged) over the `seconds` up
    /// to `now`'s (ten minutes at most).
    pub fn rejected(&self, now: DateTime<Utc>, seconds: usize) -> u64 {
        self.rejected
            .series(now.timestamp(), seconds)
            .map(u64::from)
            .sum()
    }

    /// Overall latency of one leg.
    pub fn latency(&self, leg: Leg) -> &Latency {
        &self.latency[leg as usize]
    }

    pub fn number(&self, number_id: &str) -> Option<&NumberStats> {
        self.numbers.get(number_id)
    }

    /// Every number followed, in no order.
    pub fn numbers(&self) -> impl Iterator<Item = (&str, &NumberStats)> {
        self.numbers.iter().map(|(k, v)| (&**k, v))
    }

    /// Events of numbers past [`MAX_NUMBERS`], not followed.
    pub fn untracked(&self) -> u64 {
        self.untracked
    }

    /// Any record: deliveries count in the activity chart (replies sent and the app's
    /// answers are no deliveries).
    pub(super) fn record(&mut self, r: &Record) {
        if r.kind != RecordKind::Delivery || self.off() {
            return;
        }
        let family = Family::of(r.verdict, r.event.as_ref().map(|e| e.as_str()));
        self.activity
            .add(r.received_at.timestamp(), |c| c[family as usize] += 1);
        if r.verdict == Verdict::Rejected {
            self.rejected.add(r.received_at.timestamp(), |c| *c += 1);
        }
        if family != Family::Refused && self.last_delivery.is_none_or(|l| l < r.received_at) {
            self.last_delivery = Some(r.received_at);
        }
    }

    fn off(&self) -> bool {
        #[cfg(test)]
        return self.disabled;
        #[cfg(not(test))]
        false
    }

    /// Applies `f` to a number's figures, made on first sight (one map lookup when
    /// known: this runs for every message).
    fn with_number(
        &mut self,
        number_id: &str,
        at: DateTime<Utc>,
        f: impl FnOnce(&mut NumberStats),
    ) {
        if self.off() {
            return;
        }
        if let Some(n) = self.numbers.get_mut(number_id) {
            n.last_event = n.last_event.max(at);
            f(n);
        } else if self.numbers.len() < MAX_NUMBERS {
            let mut n = NumberStats::new(at);
            f(&mut n);
            self.numbers.insert(number_id.into(), n);
        } else {
            self.untracked += 1;
        }
    }

    /// A `number.*` event: only its time.
    pub(super) fn number_event(&mut self, number_id: &str, at: DateTime<Utc>) {
        self.with_number(number_id, at, |_| {});
    }

    /// A new outbound row made by a reply sent from here (accepted by the API).
    pub(super) fn accepted(&mut self, number_id: &str, at: DateTime<Utc>) {
        if self.off() {
            return;
        }
        let slot = traffic_slot(at);
        self.traffic.add(slot, |c| c[1] += 1);
        self.with_number(number_id, at, |n| {
            n.traffic.add(slot, |c| c[1] += 1);
            n.messages += 1;
            n.last_message = n.last_message.max(Some(at));
        });
    }

    /// A message event folded into `row` (`change` says what it changed): the traffic it
    /// adds, and a latency sample for each pair of steps it completed. A step already
    /// known (a retry, a status sent twice) completes nothing, so adds no sample.
    pub(super) fn message(
        &mut self,
        m: &Message,
        change: &MessageChange,
        row: &MessageRow,
        at: DateTime<Utc>,
    ) {
        if self.off() {
            return;
        }
        let counts = [
            u32::from(change.new == Some(Direction::In)),
            u32::from(change.new == Some(Direction::Out)),
            u32::from(change.first_failure),
        ];
        let slot = traffic_slot(at);
        let add = |c: &mut [u32; 3]| {
            for (c, n) in c.iter_mut().zip(counts) {
                *c += n;
            }
        };
        let counted = counts != [0; 3];
        if counted {
            self.traffic.add(slot, add);
        }
        let l = &row.lifecycle;
        let [sent, delivered, read] = change.had;
        // A step without a valid `createdAt` has no delay to tell.
        let sample = |had_both: bool, from: Option<Step>, to: Option<Step>| {
            let (false, Some(from), Some(to)) = (had_both, from?.at, to?.at) else {
                return None;
            };
            Some(latency::delay_ms(from, to))
        };
        let samples = [
            sample(sent && delivered, l.sent, l.delivered),
            sample(delivered && read, l.delivered, l.read),
        ];
        for (window, ms) in self.latency.iter_mut().zip(samples) {
            if let Some(ms) = ms {
                window.push(ms);
            }
        }
        let new = change.new.is_some();
        self.with_number(&m.number_id, at, |n| {
            if counted {
                n.traffic.add(slot, add);
            }
            if new {
                n.messages += 1;
                n.last_message = n.last_message.max(Some(at));
            }
            for (window, ms) in n.latency.iter_mut().zip(samples) {
                if let Some(ms) = ms {
                    window.push(ms);
                }
            }
        });
    }
}

#[cfg(test)]
mod tests;
