//! Pending → firing → resolved: from the conditions holding now and the alerts already
//! active (as the store folded them from the journal), the records to write. `for`
//! holds a condition before it fires, `keep_firing_for` holds a firing alert after its
//! condition clears (no flapping), and `repeat` notifies a still-firing one again. A
//! firing `number_disconnected` inhibits its number's other alerts: they neither start
//! nor change until it resolves.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use crate::alerts::eval::Condition;
use crate::alerts::rules::{Rule, Rules};
use crate::model::alert::{Alert, AlertKey, AlertRecord, AlertState, SUMMARY_EVERY};
use crate::store::{AlertRow, HashMap};

/// An alert as the machine sees it: its latest transition and when it was last
/// notified.
#[derive(Debug, Clone, PartialEq)]
pub struct Active {
    pub alert: Alert,
    pub last_notified: Option<DateTime<Utc>>,
    /// When its summary was last written (a transition, a repeat or an update).
    pub summarized: DateTime<Utc>,
}

impl From<&AlertRow> for Active {
    fn from(row: &AlertRow) -> Self {
        Self {
            alert: row.alert.clone(),
            last_notified: row.last_notified,
            summarized: row.summarized,
        }
    }
}

#[derive(Debug, Default)]
pub struct Machine {
    /// Firing alerts whose condition has cleared, since when.
    cleared: HashMap<AlertKey, DateTime<Utc>>,
}

impl Machine {
    /// The records that move each alert along at `now`. `active` holds every pending
    /// or firing alert.
    pub fn step(
        &mut self,
        rules: &Rules,
        conditions: Vec<Condition>,
        active: &BTreeMap<AlertKey, Active>,
        now: DateTime<Utc>,
    ) -> Vec<AlertRecord> {
        let inhibited: BTreeSet<&str> = active
            .values()
            .filter(|a| {
                a.alert.state == AlertState::Firing
                    && a.alert.name == Rule::NumberDisconnected.name()
            })
            .filter_map(|a| a.alert.number.as_deref())
            .collect();
        let is_inhibited = |name: &str, number: Option<&str>| {
            name != Rule::NumberDisconnected.name() && number.is_some_and(|n| inhibited.contains(n))
        };
        let mut out = Vec::new();
        let mut holding = BTreeSet::new();
        for c in conditions {
            let key = AlertKey::new(c.rule.name(), c.number.as_deref());
            if !holding.insert(key.clone()) || is_inhibited(c.rule.name(), c.number.as_deref()) {
                continue;
            }
            let s = rules.get(c.rule);
            let hold = chrono::Duration::from_std(s.hold).unwrap_or_default();
            match active.get(&key) {
                None => {
                    let state = if now - c.since >= hold {
                        AlertState::Firing
                    } else {
                        AlertState::Pending
                    };
                    out.push(AlertRecord::Transition(alert(&c, state, c.since, rules)));
                }
                Some(a) if a.alert.state == AlertState::Pending => {
                    if now - a.alert.starts_at >= hold {
                        let fired = alert(&c, AlertState::Firing, a.alert.starts_at, rules);
                        out.push(AlertRecord::Transition(fired));
                    } else {
                        out.extend(updated(&c, a, now, rules));
                    }
                }
                Some(a) => {
                    self.cleared.remove(&key);
                    let repeat = chrono::Duration::from_std(s.repeat).unwrap_or_default();
                    if a.last_notified.is_none_or(|t| now - t >= repeat) {
                        let again = alert(&c, AlertState::Firing, a.alert.starts_at, rules);
                        out.push(AlertRecord::Repeat(again));
                    } else {
                        out.extend(updated(&c, a, now, rules));
                    }
                }
            }
        }
        for (key, a) in active {
            if holding.contains(key) || is_inhibited(&a.alert.name, a.alert.number.as_deref()) {
                continue;
            }
            let keep = Rule::by_name(&a.alert.name)
                .map(|r| rules.get(r).keep_firing_for)
                .unwrap_or_default();
            let keep = chrono::Duration::from_std(keep).unwrap_or_default();
            let ended = match a.alert.state {
                AlertState::Pending => true,
                _ => {
                    let since = *self.cleared.entry(key.clone()).or_insert(now);
                    now - since >= keep
                }
            };
            if ended {
                self.cleared.remove(key);
                let mut done = a.alert.clone();
                done.fired = a.alert.state == AlertState::Firing;
                done.state = AlertState::Resolved;
                done.ends_at = Some(now);
                out.push(AlertRecord::Transition(done));
            }
        }
        out
    }
}

/// An active alert whose condition now says something else (`3 of 20 sends failed`
/// where it said `2 of 20`, another newest case): its new summary, no more often than
/// [`SUMMARY_EVERY`], so dashboards and `/metrics` do not show the moment it fired.
fn updated(c: &Condition, a: &Active, now: DateTime<Utc>, rules: &Rules) -> Option<AlertRecord> {
    let every = chrono::Duration::from_std(SUMMARY_EVERY).unwrap_or_default();
    if now - a.summarized < every {
        return None;
    }
    // Compared as the store keeps it (sanitised, cut): raw text it changed in folding
    // would otherwise read as news every minute.
    let next = alert(c, a.alert.state, a.alert.starts_at, rules);
    let kept = next.clone().sanitised();
    (kept.summary != a.alert.summary || kept.cause != a.alert.cause)
        .then_some(AlertRecord::Updated(next))
}

fn alert(c: &Condition, state: AlertState, starts_at: DateTime<Utc>, rules: &Rules) -> Alert {
    let severity = rules.get(c.rule).severity;
    let mut labels = BTreeMap::from([
        ("alertname".to_owned(), c.rule.name().to_owned()),
        ("severity".to_owned(), severity.as_str().to_owned()),
    ]);
    if let Some(n) = &c.number {
        labels.insert("number".into(), n.clone());
    }
    Alert {
        name: c.rule.name().into(),
        state,
        severity,
        number: c.number.clone(),
        summary: c.summary.clone(),
        starts_at,
        ends_at: None,
        labels,
        cause: c.cause.clone(),
        fired: false,
    }
}

/// Whether a record is one the notifiers send: a firing, a repeat, or the end of an
/// alert that had fired (a pending one that cleared was never told, so neither is its
/// end).
pub fn notifiable(r: &AlertRecord) -> Option<(&Alert, bool)> {
    match r {
        AlertRecord::Transition(a) if a.state == AlertState::Firing => Some((a, false)),
        AlertRecord::Transition(a) if a.state == AlertState::Resolved && a.fired => {
            Some((a, false))
        }
        AlertRecord::Repeat(a) => Some((a, true)),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
