//! Alerts as the service's evaluator journaled them, folded from `alert` records: the
//! ones active now (pending or firing), the ones that ended, and what each notification
//! came to. The evaluator itself reads this table to know what it already notified, so
//! a restarted service (which replays the same records) neither forgets an alert nor
//! notifies it twice.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::model::alert::{Alert, AlertKey, AlertRecord, AlertState, Notified};
use crate::record::Record;

/// Ended alerts remembered for the dashboard's history.
pub const HISTORY: usize = 500;
/// `alert` records kept for attach clients and exports (at most the store's capacity).
const MAX_RECORDS: usize = 10_000;

/// One alert: its latest transition and what came of notifying it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AlertRow {
    #[serde(with = "crate::serial::as_json")]
    pub alert: Alert,
    /// When it entered its current state (the record's time).
    pub since: DateTime<Utc>,
    /// The seq of that transition's record.
    pub seq: u64,
    /// When it was last notified (fired, or repeated), if ever.
    pub last_notified: Option<DateTime<Utc>>,
    /// Times it was notified again while still firing.
    pub repeats: u32,
    /// When its summary was last written: a transition, a repeat or an update.
    pub summarized: DateTime<Utc>,
    /// The newest outcome per channel.
    #[serde(with = "crate::serial::as_json")]
    pub outcomes: Vec<Notified>,
}

impl AlertRow {
    /// What a repeat or an update says now; its state and times stay.
    fn summarize(&mut self, alert: Alert, at: DateTime<Utc>) {
        self.alert.summary = alert.summary;
        self.alert.cause = alert.cause;
        self.summarized = at;
    }
}

#[derive(Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Alerts {
    active: BTreeMap<AlertKey, AlertRow>,
    /// Ended alerts, oldest first.
    ended: VecDeque<AlertRow>,
    /// The `alert` records themselves, oldest first.
    records: VecDeque<Arc<Record>>,
    /// The seq of the newest transition to firing: a dashboard rings the bell when it
    /// grows.
    pub fired_seq: u64,
    /// Notifications that worked, and those that did not.
    pub notified_ok: u64,
    pub notified_failed: u64,
    /// Bumped on every change, so views know to redraw what they show.
    pub version: u64,
}

impl Alerts {
    /// Pending and firing alerts: firing first, then the most severe, then the oldest.
    /// What the alert machine reads back: each active alert by its key.
    pub fn active_by_key(&self) -> BTreeMap<AlertKey, &AlertRow> {
        self.active
            .iter()
            .map(|(k, row)| (k.clone(), row))
            .collect()
    }

    /// The newest row of `key`, active or ended.
    fn latest(&self, key: &AlertKey) -> Option<&AlertRow> {
        self.active
            .get(key)
            .or_else(|| self.ended.iter().rev().find(|r| &r.alert.key() == key))
    }

    pub fn active(&self) -> Vec<&AlertRow> {
        let mut rows: Vec<&AlertRow> = self.active.values().collect();
        rows.sort_by(|a, b| {
            (a.alert.state, a.alert.severity, a.alert.starts_at).cmp(&(
                b.alert.state,
                b.alert.severity,
                b.alert.starts_at,
            ))
        });
        rows
    }

    /// Alerts firing now.
    pub fn firing(&self) -> usize {
        self.active
            .values()
            .filter(|r| r.alert.state == AlertState::Firing)
            .count()
    }

    /// An active alert by its key.
    pub fn get(&self, key: &AlertKey) -> Option<&AlertRow> {
        self.active.get(key)
    }

    /// Ended alerts, newest first.
    pub fn ended(&self) -> impl Iterator<Item = &AlertRow> {
        self.ended.iter().rev()
    }

    /// An `alert` record by its own seq, if still in memory.
    pub fn record(&self, seq: u64) -> Option<&Arc<Record>> {
        let i = self.records.binary_search_by_key(&seq, |r| r.seq).ok()?;
        self.records.get(i)
    }

    /// The `alert` records after `seq`, oldest first.
    pub fn since(&self, seq: u64) -> impl DoubleEndedIterator<Item = &Arc<Record>> {
        self.records
            .range(self.records.partition_point(|r| r.seq <= seq)..)
    }

    /// Fold an `alert` record in. Returns it as stored, and the highest seq this pushed
    /// out of memory (0: none). A body that does not parse is kept as a record (it is
    /// in the journal) and changes nothing.
    pub(crate) fn apply(&mut self, record: Record, capacity: usize) -> (Arc<Record>, u64) {
        let at = record.received_at;
        match serde_json::from_slice::<AlertRecord>(&record.body.get()) {
            Ok(AlertRecord::Transition(alert)) => {
                self.transition(alert.sanitised(), at, record.seq)
            }
            Ok(AlertRecord::Repeat(alert)) => {
                if let Some(row) = self.active.get_mut(&alert.key()) {
                    row.last_notified = Some(at);
                    row.repeats += 1;
                    row.summarize(alert.sanitised(), at);
                }
            }
            Ok(AlertRecord::Updated(alert)) => {
                if let Some(row) = self.active.get_mut(&alert.key()) {
                    row.summarize(alert.sanitised(), at);
                }
            }
            Ok(AlertRecord::Notified(n)) => {
                if n.ok {
                    self.notified_ok += 1;
                } else {
                    self.notified_failed += 1;
                }
                let n = Notified {
                    status: crate::sanitize::line(&n.status, 80),
                    detail: crate::sanitize::line(&n.detail, 300),
                    ..n
                };
                let row = match self.active.get_mut(&n.key) {
                    Some(row) => Some(row),
                    // A resolution's outcome arrives after the alert ended.
                    None => self.ended.iter_mut().rev().find(|r| r.alert.key() == n.key),
                };
                if let Some(row) = row {
                    row.outcomes.retain(|o| o.channel != n.channel);
                    row.outcomes.push(n);
                }
            }
            Err(e) => {
                tracing::debug!(seq = record.seq, error = %e, "alert record not understood");
            }
        }
        self.version += 1;
        let record = Arc::new(record);
        self.records.push_back(record.clone());
        let mut evicted = 0;
        while self.records.len() > capacity.clamp(1, MAX_RECORDS) {
            if let Some(old) = self.records.pop_front() {
                evicted = old.seq;
            }
        }
        (record, evicted)
    }

    fn transition(&mut self, alert: Alert, at: DateTime<Utc>, seq: u64) {
        let key = alert.key();
        let previous = self.active.remove(&key);
        let (last_notified, repeats, outcomes) = previous
            .map(|p| (p.last_notified, p.repeats, p.outcomes))
            .unwrap_or_default();
        let state = alert.state;
        let row = AlertRow {
            last_notified: if state == AlertState::Firing {
                Some(at)
            } else {
                last_notified
            },
            alert,
            since: at,
            seq,
            repeats,
            summarized: at,
            outcomes,
        };
        match state {
            AlertState::Pending => {
                self.active.insert(key, row);
            }
            AlertState::Firing => {
                self.fired_seq = self.fired_seq.max(seq);
                self.active.insert(key, row);
            }
            AlertState::Resolved => {
                self.ended.push_back(row);
                while self.ended.len() > HISTORY {
                    self.ended.pop_front();
                }
            }
        }
    }
}

/// The alerts active in `a` or `b` (two stores of the same alerts, one ahead of the
/// other on some): for each, the newer row decides, so an alert one store has seen
/// resolve is not raised again from the other.
pub fn newest_active<'a>(a: &'a Alerts, b: &'a Alerts) -> BTreeMap<AlertKey, &'a AlertRow> {
    let keys: std::collections::BTreeSet<&AlertKey> =
        a.active.keys().chain(b.active.keys()).collect();
    keys.into_iter()
        .filter_map(|k| {
            let newest = match (a.latest(k), b.latest(k)) {
                (Some(x), Some(y)) if y.since > x.since => y,
                (Some(x), _) => x,
                (None, y) => y?,
            };
            (newest.alert.state != AlertState::Resolved).then(|| (k.clone(), newest))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::model::alert::{Channel, Severity};

    fn alert(name: &str, number: Option<&str>, state: AlertState) -> AlertRecord {
        AlertRecord::Transition(Alert {
            name: name.into(),
            state,
            severity: Severity::Warning,
            number: number.map(Into::into),
            summary: format!("{name} is {}", state.as_str()),
            starts_at: "2026-11-29T10:00:00Z".parse().unwrap(),
            ends_at: None,
            labels: BTreeMap::new(),
            cause: None,
            fired: state == AlertState::Resolved,
        })
    }

    fn record(seq: u64, a: &AlertRecord) -> Record {
        let mut r = Record::alert(a);
        r.seq = seq;
        r
    }

    #[test]
    fn transitions_move_an_alert_from_pending_to_firing_to_the_history() {
        let mut alerts = Alerts::default();
        let n1 = Some("n1");
        alerts.apply(
            record(1, &alert("stuck_message", n1, AlertState::Pending)),
            100,
        );
        alerts.apply(
            record(2, &alert("failure_rate", n1, AlertState::Pending)),
            100,
        );
        assert_eq!(alerts.firing(), 0);
        assert!(
            alerts
                .get(&AlertKey::new("stuck_message", n1))
                .unwrap()
                .last_notified
                .is_none()
        );
        alerts.apply(
            record(3, &alert("failure_rate", n1, AlertState::Firing)),
            100,
        );
        assert_eq!(alerts.firing(), 1);
        assert_eq!(alerts.fired_seq, 3);
        // Firing first.
        let names: Vec<&str> = alerts
            .active()
            .iter()
            .map(|r| r.alert.name.as_str())
            .collect();
        assert_eq!(names, ["failure_rate", "stuck_message"]);
        let key = AlertKey::new("failure_rate", n1);
        let notified = Notified {
            key: key.clone(),
            state: AlertState::Firing,
            channel: Channel::Exec,
            ok: false,
            status: "exit 1".into(),
            detail: "\u{1b}[31mboom".into(),
            attempts: 1,
        };
        alerts.apply(record(4, &AlertRecord::Notified(notified)), 100);
        let row = alerts.get(&key).unwrap();
        assert_eq!(row.outcomes.len(), 1);
        assert!(!row.outcomes[0].detail.contains('\u{1b}'));
        assert_eq!(alerts.notified_failed, 1);
        alerts.apply(
            record(5, &alert("failure_rate", n1, AlertState::Resolved)),
            100,
        );
        assert_eq!(alerts.firing(), 0);
        assert_eq!(alerts.active().len(), 1);
        let ended: Vec<_> = alerts.ended().collect();
        assert_eq!(ended.len(), 1);
        assert_eq!(
            ended[0].outcomes.len(),
            1,
            "the outcome stays with the alert"
        );
        let seqs: Vec<u64> = alerts.since(2).map(|r| r.seq).collect();
        assert_eq!(seqs, [3, 4, 5]);
    }

    #[test]
    fn records_and_history_are_bounded() {
        let mut alerts = Alerts::default();
        let mut evicted = 0;
        for i in 0..(HISTORY as u64 + 10) {
            let (_, e) = alerts.apply(record(i + 1, &alert("x", None, AlertState::Resolved)), 100);
            evicted = evicted.max(e);
        }
        assert_eq!(alerts.ended().count(), HISTORY);
        assert_eq!(alerts.since(0).count(), 100);
        assert_eq!(evicted, HISTORY as u64 + 10 - 100);
    }
}
