//! The provider's side as the dashboard shows it (issue 18): what the API says of each
//! number (for the Numbers pane and the Fleet), the provider's log of delivery attempts
//! beside what became of each here (the Deliveries view, `8`), our own refusals, the
//! messages whose webhook never came, and which features the key leaves off. Built when
//! the provider's version, the count of webhook-missing messages or the count of
//! refusals moves — never per frame. Ages are counted at draw time from `app.now`.

use chrono::{DateTime, Utc};

use super::lines::clock;
use crate::model::Verdict;
use crate::model::event::Text;
use crate::model::provider::{AccessState, ApiNumberStatus, Feature};
use crate::sanitize::line as clean;
use crate::store::{ApiNumberRow, NumberRow, Provider, Store};

/// How long the API and the webhooks may disagree about a number before it is flagged
/// (a poll and a webhook cross each other all the time).
pub const GRACE_SECS: i64 = 60;
/// Our own refusals listed under the provider's attempts.
pub const REJECTED_SHOWN: usize = 5;
/// Webhook-missing messages Attention names (the count says how many in all).
pub const MISSING_SHOWN: usize = 3;
/// Rows looked through, newest first, for the webhook-missing ones Attention names.
const MISSING_SCAN: usize = 200_000;
/// Feed records looked through, newest first, for our refusals.
const REJECTED_SCAN: usize = 200_000;

/// What the API says of one number, beside what the webhooks gave.
#[derive(Debug, Clone, PartialEq)]
pub struct NumberApi {
    /// The provider's word, sanitised: `connected`, `disconnected`…
    pub state: String,
    pub connected: bool,
    pub stale: bool,
    /// When the reading was taken: `checkedAt`, else when it was read.
    pub checked_at: Option<DateTime<Utc>>,
    /// Since when the API and the webhooks disagree (flagged past [`GRACE_SECS`]).
    pub disagree_since: Option<DateTime<Utc>>,
}

impl NumberApi {
    pub fn of(row: &ApiNumberRow) -> Option<Self> {
        let s: &ApiNumberStatus = row.status.as_ref()?;
        Some(Self {
            state: clean(&s.state.to_lowercase(), 20),
            connected: s.is_connected(),
            stale: s.stale,
            checked_at: s.checked_at.or(row.status_at),
            disagree_since: row.disagree_since,
        })
    }

    /// `disconnected`, `connected (stale)`.
    pub fn word(&self) -> String {
        let stale = if self.stale { " (stale)" } else { "" };
        format!("{}{stale}", self.state)
    }

    /// The disagreement, once it has lasted past the grace period: since when.
    pub fn flagged(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.disagree_since
            .filter(|since| (now - *since).num_seconds() >= GRACE_SECS)
    }
}

/// Known from the API alone: listed by it, and no webhook has said anything of it.
pub fn api_only(n: &NumberRow, provider: &Provider) -> bool {
    n.state == crate::store::NumberState::Unknown
        && n.seqs.total() == 0
        && n.messages_in + n.messages_out == 0
        && provider
            .number(&n.number_id)
            .is_some_and(|r| r.listed.is_some())
}

/// One attempt of the provider's log, and ours beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptLine {
    /// The log entry's id (raw: the selection's anchor).
    pub id: String,
    pub at: DateTime<Utc>,
    pub time: String,
    pub event: String,
    pub webhook: String,
    /// `SUCCESS`/`FAILED`, with its status code: `FAILED 500`.
    pub verdict: String,
    /// The provider reached us with a 2xx.
    pub ok: bool,
    pub duration_ms: Option<u64>,
    /// What our receiver answered, as the provider logged it.
    pub response: String,
    /// The journaled delivery it matched (`None`: lost, never journaled).
    pub matched: Option<u64>,
    /// Our verdict on it, when the delivery is still in memory: (`known`, good).
    pub ours: Option<(String, bool)>,
}

/// One of our own non-2xx answers.
#[derive(Debug, Clone, PartialEq)]
pub struct RejectedLine {
    pub seq: u64,
    pub time: String,
    pub event: String,
    pub why: String,
    pub remote: String,
}

/// A message whose webhook never came.
#[derive(Debug, Clone, PartialEq)]
pub struct MissingLine {
    pub ord: u64,
    pub step: &'static str,
    pub to: String,
    pub time: String,
}

#[derive(Debug, Default)]
pub struct ProviderView {
    /// The store's values the lines were built at (`None`: never): the provider's
    /// version, the webhook-missing count, the refusals counted.
    seen: Option<(u64, u64, u64)>,
    /// Newest first.
    pub attempts: Vec<AttemptLine>,
    pub lost: u64,
    pub failed: u64,
    /// Our refusals, newest first (at most [`REJECTED_SHOWN`]).
    pub rejected: Vec<RejectedLine>,
    /// Webhook-missing messages in memory, and the newest few.
    pub missing: u64,
    pub missing_rows: Vec<MissingLine>,
    /// The features the key leaves off, in words (`None`: all work, or not tried).
    pub access: Option<String>,
    /// Why the webhook log is not read, when it is not.
    pub webhooks_off: Option<String>,
    /// Numbers whose API state disagrees with the webhooks', whatever for how long:
    /// (raw id, the API's word, whether the API says connected, since).
    pub disagreements: Vec<(Text, String, bool, DateTime<Utc>)>,
}

impl ProviderView {
    /// Build again what changed since the last sync. Returns whether anything did.
    pub fn sync(&mut self, store: &Store) -> bool {
        let p = store.provider();
        let missing = store.messages().missing();
        let rejected = store.counters().verdict(Verdict::Rejected);
        let now = (p.version, missing, rejected);
        let Some(was) = self.seen.replace(now) else {
            self.attempts(store);
            self.numbers(store);
            self.missing(store);
            self.rejected(store);
            return true;
        };
        if was == now {
            return false;
        }
        // A number event that changes a disagreement bumps the version too.
        if was.0 != p.version {
            self.attempts(store);
            self.numbers(store);
        }
        if was.1 != missing {
            self.missing(store);
        }
        if was.2 != rejected {
            self.rejected(store);
        }
        true
    }

    /// The store was replaced: everything is built again at the next sync.
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    fn attempts(&mut self, store: &Store) {
        let p = store.provider();
        (self.lost, self.failed) = (p.lost, p.failed);
        self.attempts = p
            .attempts()
            .map(|row| {
                let a = &row.attempt;
                let code = a.status_code.map(|c| format!(" {c}")).unwrap_or_default();
                let ours = a.matched.and_then(|seq| store.record(seq)).map(|r| {
                    let verdict = if r.duplicate_of.is_some() {
                        "duplicate"
                    } else {
                        r.verdict.as_str()
                    };
                    (verdict.to_owned(), r.verdict != Verdict::Rejected)
                });
                AttemptLine {
                    id: a.id.clone(),
                    at: a.created_at,
                    time: clock(a.created_at),
                    event: clean(&a.event, 40),
                    webhook: clean(&row.webhook, 30),
                    verdict: format!("{}{code}", clean(&a.status.to_uppercase(), 10)),
                    ok: a.succeeded(),
                    duration_ms: a.duration_ms,
                    response: clean(&a.response, 120),
                    matched: a.matched,
                    ours,
                }
            })
            .collect();
        self.access = access_line(p);
        self.webhooks_off = p
            .access(Feature::Webhooks)
            .filter(|(s, _)| *s != AccessState::Ok)
            .map(|(s, detail)| off(s, detail));
    }

    fn numbers(&mut self, store: &Store) {
        let p = store.provider();
        self.disagreements = p
            .numbers()
            .filter_map(|(id, row)| {
                let since = row.disagree_since?;
                let api = NumberApi::of(row)?;
                Some((id.into(), api.state, api.connected, since))
            })
            .collect();
    }

    fn missing(&mut self, store: &Store) {
        let rows = store.messages();
        self.missing = rows.missing();
        self.missing_rows.clear();
        if self.missing == 0 {
            return;
        }
        let want = (self.missing as usize).min(MISSING_SHOWN);
        for (ord, m) in rows.newest().take(MISSING_SCAN) {
            if let Some(step) = m.webhook_missing() {
                self.missing_rows.push(MissingLine {
                    ord,
                    step,
                    to: clean(m.to(), 20),
                    time: m.created_at.map(clock).unwrap_or_else(|| "--:--:--".into()),
                });
                if self.missing_rows.len() >= want {
                    break;
                }
            }
        }
    }

    fn rejected(&mut self, store: &Store) {
        self.rejected = store
            .feed()
            .rev()
            .take(REJECTED_SCAN)
            .filter(|r| r.verdict == Verdict::Rejected)
            .take(REJECTED_SHOWN)
            .map(|r| RejectedLine {
                seq: r.seq,
                time: clock(r.received_at),
                event: r
                    .event
                    .as_ref()
                    .map_or_else(|| "-".into(), |e| clean(e.as_str(), 40)),
                why: r
                    .problems
                    .first()
                    .map_or_else(|| "refused".into(), |p| clean(p, 120)),
                remote: r.remote.map(|a| a.ip().to_string()).unwrap_or_default(),
            })
            .collect();
    }
}

/// `webhooks off: out of the key's scope (a number-scoped key cannot …)`.
fn off(state: AccessState, detail: &str) -> String {
    let why = match state {
        AccessState::Ok => "on",
        AccessState::NoKey => "no API key",
        AccessState::Unauthorized => "the key was refused (401), polling paused",
        AccessState::OutOfScope => "outside the key's scope",
        AccessState::Unavailable => "unavailable at the provider",
    };
    if detail.is_empty() {
        why.to_owned()
    } else {
        format!("{why}: {}", clean(detail, 120))
    }
}

/// One line for the header: every feature that is off, those off for the same reason
/// together (`⚠ API numbers, messages off: no API key`).
fn access_line(p: &Provider) -> Option<String> {
    let mut groups: Vec<(String, Vec<&str>)> = Vec::new();
    for f in Feature::ALL {
        let Some((state, detail)) = p.access(f) else {
            continue;
        };
        if state == AccessState::Ok {
            continue;
        }
        let why = off(state, detail);
        match groups.iter_mut().find(|(w, _)| *w == why) {
            Some((_, features)) => features.push(f.as_str()),
            None => groups.push((why, vec![f.as_str()])),
        }
    }
    if groups.is_empty() {
        return None;
    }
    let parts: Vec<String> = groups
        .into_iter()
        .map(|(why, features)| format!("{} off ({why})", features.join(", ")))
        .collect();
    Some(format!("⚠ API {}", parts.join("; ")))
}
