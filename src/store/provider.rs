//! The provider's side, folded from `api` records: each number as the API lists it and
//! the status it reports, which features the key allows, and the provider's own log of
//! webhook attempts, each matched (or not) to a journaled delivery. Messages the API was
//! asked about are merged into their rows instead ([`super::messages`]).

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::model::provider::{AccessState, ApiNumber, ApiNumberStatus, Attempt, Feature};
use crate::record::Record;
use crate::sanitize::line as clean;

/// Attempts of the provider's log remembered.
pub const ATTEMPTS: usize = 2_000;
/// `api` records kept for attach clients (at most the store's capacity).
const MAX_RECORDS: usize = 10_000;
/// Numbers the API may list before more are ignored.
const MAX_NUMBERS: usize = 10_000;

/// One number as the API sees it.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ApiNumberRow {
    #[serde(with = "crate::serial::as_json")]
    pub listed: Option<ApiNumber>,
    #[serde(with = "crate::serial::as_json")]
    pub status: Option<ApiNumberStatus>,
    /// When the status was read (the record's time).
    pub status_at: Option<DateTime<Utc>>,
    /// Since when the API's state and the webhooks' disagree, if they do.
    pub disagree_since: Option<DateTime<Utc>>,
}

/// One attempt of the provider's log, and what became of it here.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AttemptRow {
    pub webhook: String,
    #[serde(with = "crate::serial::as_json")]
    pub attempt: Attempt,
}

impl AttemptRow {
    /// The provider sent it and we never journaled it. An attempt whose payload has no
    /// identity to match (not a known event) is never called lost.
    pub fn lost(&self) -> bool {
        self.attempt.matched.is_none() && self.attempt.identity.is_some()
    }
}

#[derive(Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Provider {
    numbers: BTreeMap<String, ApiNumberRow>,
    #[serde(with = "crate::serial::as_json")]
    access: BTreeMap<Feature, (AccessState, String)>,
    /// Oldest first.
    attempts: VecDeque<AttemptRow>,
    seen: HashSet<String>,
    records: VecDeque<Arc<Record>>,
    /// Attempts the provider logged that the journal never got, still remembered.
    pub lost: u64,
    /// Attempts the provider logged as failed (or not 2xx), still remembered.
    pub failed: u64,
    /// Bumped on every change, so views know to redraw.
    pub version: u64,
}

impl Provider {
    pub fn numbers(&self) -> impl Iterator<Item = (&str, &ApiNumberRow)> {
        self.numbers.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn number(&self, id: &str) -> Option<&ApiNumberRow> {
        self.numbers.get(id)
    }

    /// What the key allows, per feature (absent: not tried yet).
    pub fn access(&self, feature: Feature) -> Option<(AccessState, &str)> {
        self.access.get(&feature).map(|(s, d)| (*s, d.as_str()))
    }

    /// The provider's attempts, newest first.
    pub fn attempts(&self) -> impl Iterator<Item = &AttemptRow> {
        self.attempts.iter().rev()
    }

    pub fn since(&self, seq: u64) -> impl DoubleEndedIterator<Item = &Arc<Record>> {
        self.records
            .range(self.records.partition_point(|r| r.seq <= seq)..)
    }

    /// A number's state changed by webhook (or by the API): is there a disagreement now?
    pub(crate) fn recheck(&mut self, id: &str, webhook_connected: Option<bool>, at: DateTime<Utc>) {
        let Some(row) = self.numbers.get_mut(id) else {
            return;
        };
        let api = row.status.as_ref().and_then(ApiNumberStatus::connected);
        let disagree = matches!((api, webhook_connected), (Some(a), Some(w)) if a != w);
        match (disagree, row.disagree_since) {
            (true, None) => row.disagree_since = Some(at),
            (false, Some(_)) => row.disagree_since = None,
            _ => return,
        }
        self.version += 1;
    }

    pub(crate) fn listed(&mut self, numbers: &[ApiNumber]) {
        for n in numbers {
            if self.numbers.len() >= MAX_NUMBERS && !self.numbers.contains_key(&n.id) {
                break;
            }
            let mut n = n.clone();
            n.name = n.name.map(|s| clean(&s, 80));
            n.number = n.number.map(|s| clean(&s, 32));
            let id = n.id.clone();
            self.numbers.entry(id).or_default().listed = Some(n);
        }
        self.version += 1;
    }

    pub(crate) fn status(&mut self, s: &ApiNumberStatus, at: DateTime<Utc>) {
        if self.numbers.len() >= MAX_NUMBERS && !self.numbers.contains_key(&s.id) {
            return;
        }
        let mut s = s.clone();
        s.state = clean(&s.state, 32);
        let row = self.numbers.entry(s.id.clone()).or_default();
        row.status = Some(s);
        row.status_at = Some(at);
        self.version += 1;
    }

    pub(crate) fn set_access(&mut self, feature: Feature, state: AccessState, detail: &str) {
        self.access.insert(feature, (state, clean(detail, 200)));
        self.version += 1;
    }

    pub(crate) fn add_attempts(&mut self, webhook: &str, attempts: &[Attempt]) {
        // The provider lists newest first; kept oldest first.
        let mut attempts: Vec<&Attempt> = attempts.iter().collect();
        attempts.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        for a in attempts {
            if !self.seen.insert(a.id.clone()) {
                continue;
            }
            let mut a = a.clone();
            a.response = clean(&a.response, 200);
            a.event = clean(&a.event, 64);
            let row = AttemptRow {
                webhook: clean(webhook, 64),
                attempt: a,
            };
            self.count(&row, 1);
            // In the order they were made: one settled late (matched, or past its grace)
            // goes among those of its time, not on top.
            let new = (row.attempt.created_at, row.attempt.id.as_str());
            let at = (self.attempts)
                .partition_point(|r| (r.attempt.created_at, r.attempt.id.as_str()) <= new);
            self.attempts.insert(at, row);
            while self.attempts.len() > ATTEMPTS {
                if let Some(old) = self.attempts.pop_front() {
                    self.seen.remove(&old.attempt.id);
                    self.count(&old, -1);
                }
            }
        }
        self.version += 1;
    }

    fn count(&mut self, row: &AttemptRow, by: i64) {
        let add = |n: &mut u64| *n = n.saturating_add_signed(by);
        if row.lost() {
            add(&mut self.lost);
        }
        if !row.attempt.succeeded() {
            add(&mut self.failed);
        }
    }

    /// Keep the record for attach clients; the highest seq pushed out (0: none).
    pub(crate) fn keep(&mut self, record: Arc<Record>, capacity: usize) -> u64 {
        self.records.push_back(record);
        let mut evicted = 0;
        while self.records.len() > capacity.clamp(1, MAX_RECORDS) {
            if let Some(old) = self.records.pop_front() {
                evicted = old.seq;
            }
        }
        evicted
    }
}

#[cfg(test)]
mod tests;
