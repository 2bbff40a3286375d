//! Reconciling with the provider's REST API: what did *not* arrive. With a key, the
//! service polls the numbers and their status (every `--api-poll`), looks up outbound
//! messages still `queued`/`sent` past `--reconcile-after`, and reads the provider's log
//! of webhook attempts; every answer is journaled as an `api` record ([`ApiRecord`]),
//! and the store compares the two sides.
//!
//! A polite client: at most [`IN_FLIGHT`] requests at once, `--api-budget` a minute
//! ([`budget`]), `Retry-After` honoured, backoff on 5xx and timeouts; a refused key
//! (401) pauses everything and says so once; a key whose scope does not cover a feature
//! (403) turns that feature off and says which and why.

pub mod budget;
mod call;
mod history;
mod matching;

pub use history::{HistoryQueue, HistoryRequests, history_channel};

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use parking_lot::Mutex;
use tokio::sync::Semaphore;

use crate::api::ApiClient;
use crate::ingest::Ingest;
use crate::model::Identity;
use crate::model::provider::{AccessState, ApiNumberStatus, ApiRecord, Attempt, Feature};
use crate::store::messages::Status;
use budget::Budget;
use call::Failed;

/// Requests to the provider in flight at once.
pub const IN_FLIGHT: usize = 4;
/// Attempts asked for per webhook log read.
const LOG_LIMIT: u32 = 50;
/// Attempt ids remembered as journaled.
const LOGGED: usize = 10_000;
/// Attempts waiting for their grace to end, per webhook, at most.
const PENDING: usize = 5_000;
/// A message is looked up at most this many times.
const LOOKUPS: u32 = 3;
/// A number's status is journaled again, unchanged, this often.
const STATUS_REFRESH: Duration = Duration::from_secs(600);

#[derive(Debug, Clone)]
pub struct ReconcileSettings {
    /// `--no-reconcile`: never read the provider's side, key or not.
    pub enabled: bool,
    pub api_poll: Duration,
    pub reconcile_after: Duration,
    /// Requests a minute, at most.
    pub budget: u32,
}

impl Default for ReconcileSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            api_poll: Duration::from_secs(60),
            reconcile_after: Duration::from_secs(120),
            budget: 60,
        }
    }
}

/// Days of history asked for.
const HISTORY_DAYS: i64 = 30;
/// Messages per history page (the most the API gives).
const HISTORY_PAGE: u32 = 100;

/// Poll until the task is aborted; the newest page of history is read at start, later
/// ones when asked through `requests`.
pub fn start(
    settings: ReconcileSettings,
    api: ApiClient,
    ingest: Arc<Ingest>,
    requests: &HistoryRequests,
    queue: HistoryQueue,
) -> tokio::task::JoinHandle<()> {
    requests.page(1);
    let rx = queue.0;
    let r = Arc::new(Reconciler {
        budget: Mutex::new(Budget::new(settings.budget)),
        slots: Semaphore::new(IN_FLIGHT),
        settings,
        api,
        ingest,
        // What a run before said of the key is not carried over: a key fixed (or of
        // another scope) after a restart is tried afresh, and its answer journaled.
        state: Mutex::new(State::default()),
    });
    let history = r.clone();
    tokio::spawn(async move {
        tokio::join!(r.run(), history.serve_history(rx));
    })
}

#[derive(Debug, Default)]
struct State {
    access: BTreeMap<Feature, AccessState>,
    /// A 401: nothing more until a restart with another key.
    paused: bool,
    /// Messages looked up: when, how often.
    looked: HashMap<String, (Instant, u32)>,
    /// Attempts already journaled (the newest [`LOGGED`]), and in what order.
    logged: HashSet<String>,
    logged_order: std::collections::VecDeque<String>,
    /// Per webhook: attempts not matched yet, still within their grace.
    pending: HashMap<String, Vec<(Attempt, Option<Identity>)>>,
    /// Numbers whose status the provider cannot tell (503 PROVIDER_NOT_CONFIGURED).
    no_status: HashSet<String>,
    /// The last status journaled per number, and when.
    statuses: HashMap<String, (ApiNumberStatus, Instant)>,
    numbers: Vec<crate::model::provider::ApiNumber>,
}

#[derive(Debug)]
struct Reconciler {
    settings: ReconcileSettings,
    api: ApiClient,
    ingest: Arc<Ingest>,
    budget: Mutex<Budget>,
    slots: Semaphore,
    state: Mutex<State>,
}

impl Reconciler {
    async fn run(self: Arc<Self>) {
        {
            let mut s = self.state.lock();
            let store = self.ingest.store().read();
            for a in store.provider().attempts().take(LOGGED) {
                s.logged.insert(a.attempt.id.clone());
                s.logged_order.push_front(a.attempt.id.clone());
            }
        }
        // Each job runs on its own; a slow one (a budget-bound batch of lookups) never
        // holds up the other, and neither starts again before it is done.
        let mut next_poll = Instant::now();
        let mut poll: Option<tokio::task::JoinHandle<()>> = None;
        let mut lookups: Option<tokio::task::JoinHandle<()>> = None;
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if self.state.lock().paused {
                continue;
            }
            if Instant::now() >= next_poll && poll.as_ref().is_none_or(|p| p.is_finished()) {
                next_poll = Instant::now() + self.settings.api_poll;
                let this = self.clone();
                poll = Some(tokio::spawn(async move {
                    tokio::join!(this.clone().poll_numbers(), this.poll_logs());
                }));
            }
            if lookups.as_ref().is_none_or(|l| l.is_finished()) {
                lookups = Some(tokio::spawn(self.clone().lookup_stuck()));
            }
        }
    }

    async fn poll_numbers(self: Arc<Self>) {
        if !self.allowed(Feature::Numbers) {
            return;
        }
        let Ok(numbers) = self.call(Feature::Numbers, self.api.numbers()).await else {
            return;
        };
        let changed = self.state.lock().numbers != numbers;
        if changed
            && self
                .journal(ApiRecord::Numbers {
                    numbers: numbers.clone(),
                })
                .await
        {
            self.state.lock().numbers = numbers.clone();
        }
        let mut tasks = tokio::task::JoinSet::new();
        for n in numbers {
            if self.state.lock().no_status.contains(&n.id) {
                continue;
            }
            let this = self.clone();
            tasks.spawn(async move { this.poll_status(n.id).await });
        }
        while tasks.join_next().await.is_some() {}
    }

    async fn poll_status(&self, id: String) {
        let status = match self
            .call(Feature::Numbers, self.api.number_status(&id))
            .await
        {
            Ok(s) => s,
            Err(Failed::Final) => {
                self.state.lock().no_status.insert(id);
                return;
            }
            Err(_) => return,
        };
        let due = {
            let s = self.state.lock();
            s.statuses.get(&id).is_none_or(|(last, at)| {
                last.state != status.state
                    || last.stale != status.stale
                    || at.elapsed() >= STATUS_REFRESH
            })
        };
        if due && self.journal(ApiRecord::NumberStatus(status.clone())).await {
            self.state
                .lock()
                .statuses
                .insert(id, (status, Instant::now()));
        }
    }

    async fn poll_logs(self: Arc<Self>) {
        if !self.allowed(Feature::Webhooks) {
            return;
        }
        let Ok(webhooks) = self.call(Feature::Webhooks, self.api.webhooks()).await else {
            return;
        };
        for w in webhooks {
            let Ok(entries) = self
                .call(Feature::Webhooks, self.api.webhook_logs(&w.id, LOG_LIMIT))
                .await
            else {
                continue;
            };
            // New entries, and those still waiting to be matched: at a few deliveries a
            // second an unmatched attempt scrolls out of the newest 50 long before its
            // grace is over, so it is kept here until it is matched or known lost.
            let candidates: Vec<(Attempt, Option<Identity>)> = {
                let mut s = self.state.lock();
                let mut list = s.pending.remove(&w.id).unwrap_or_default();
                let known: HashSet<String> = list.iter().map(|(a, _)| a.id.clone()).collect();
                for (mut a, payload) in entries {
                    if s.logged.contains(&a.id) || known.contains(&a.id) {
                        continue;
                    }
                    let id = payload.as_ref().and_then(matching::identity_of);
                    a.identity = id.map(matching::hex);
                    list.push((a, id));
                }
                list
            };
            if candidates.is_empty() {
                continue;
            }
            let times = candidates.iter().map(|(a, _)| a.created_at);
            let (from, to) = (
                times.clone().min().unwrap_or_else(Utc::now),
                times.max().unwrap_or_else(Utc::now),
            );
            let journaled = matching::journaled(self.ingest.store(), from, to);
            let now = Utc::now();
            // An unmatched attempt younger than `--reconcile-after` may still be on its way.
            let grace =
                chrono::Duration::from_std(self.settings.reconcile_after).unwrap_or_default();
            let (mut attempts, mut waiting) = (Vec::new(), Vec::new());
            for (mut a, id) in candidates {
                a.matched = id.and_then(|i| journaled.get(&i).copied());
                if a.matched.is_none() && now - a.created_at < grace {
                    waiting.push((a, id));
                } else {
                    attempts.push(a);
                }
            }
            waiting.truncate(PENDING);
            self.state.lock().pending.insert(w.id.clone(), waiting);
            if attempts.is_empty() {
                continue;
            }
            let ids: Vec<String> = attempts.iter().map(|a| a.id.clone()).collect();
            if self
                .journal(ApiRecord::Attempts {
                    webhook: w.id.clone(),
                    attempts,
                })
                .await
            {
                let mut s = self.state.lock();
                for id in ids {
                    if s.logged.insert(id.clone()) {
                        s.logged_order.push_back(id);
                    }
                }
                // The log read returns the newest 50: older ids are never asked about.
                while s.logged_order.len() > LOGGED {
                    if let Some(old) = s.logged_order.pop_front() {
                        s.logged.remove(&old);
                    }
                }
            }
        }
    }

    /// History pages as asked for, each once.
    async fn serve_history(self: Arc<Self>, mut rx: tokio::sync::mpsc::UnboundedReceiver<u32>) {
        let mut read = HashSet::new();
        while let Some(page) = rx.recv().await {
            if !read.insert(page) || !self.allowed(Feature::Messages) {
                continue;
            }
            let end = Utc::now();
            let start = end - chrono::Duration::days(HISTORY_DAYS);
            let request = self.api.history(start, end, page, HISTORY_PAGE);
            let Ok(p) = self.call(Feature::Messages, request).await else {
                read.remove(&page);
                continue;
            };
            // Whose it is may not be known yet (no webhook named a number): wait for it
            // rather than file the page under the wrong one.
            let mut number = self.history_number(&p.messages);
            for _ in 0..60 {
                if number.is_some() {
                    break;
                }
                tokio::time::sleep(Duration::from_secs(10)).await;
                number = self.history_number(&p.messages);
            }
            let Some(number) = number else {
                read.remove(&page);
                continue;
            };
            self.journal(ApiRecord::History {
                number,
                page: p.page,
                total_pages: p.total_pages,
                messages: p.messages,
            })
            .await;
        }
    }

    /// Whose history it is: a number-scoped key's own number, which the answer does not
    /// name. The only number known, else the one whose threads hold most of its contacts.
    fn history_number(&self, list: &[crate::model::provider::HistoryMessage]) -> Option<String> {
        use crate::store::conversations::{ConversationKey, contact_key};
        let store = self.ingest.store().read();
        let numbers: Vec<String> = store
            .numbers()
            .iter()
            .map(|n| n.number_id.to_string())
            .collect();
        if numbers.len() == 1 {
            return numbers.into_iter().next();
        }
        let mut scored: Vec<(usize, String)> = numbers
            .into_iter()
            .map(|n| {
                let score = list
                    .iter()
                    .filter_map(|m| m.participant_phone.as_deref())
                    .filter(|p| {
                        let key = ConversationKey {
                            number: n.as_str().into(),
                            contact: contact_key(p),
                        };
                        store.conversations().get(&key).is_some()
                    })
                    .count();
                (score, n)
            })
            .collect();
        scored.sort_by_key(|s| std::cmp::Reverse(s.0));
        // No number, no contact anywhere, or a tie: not known.
        match scored.as_slice() {
            [(best, n), rest @ ..] if *best > 0 && rest.first().is_none_or(|r| r.0 < *best) => {
                Some(n.clone())
            }
            _ => None,
        }
    }

    /// Outbound messages still queued/sent past `reconcile_after`, each looked up.
    async fn lookup_stuck(self: Arc<Self>) {
        if !self.allowed(Feature::Messages) {
            return;
        }
        let after = chrono::Duration::from_std(self.settings.reconcile_after).unwrap_or_default();
        let now = Utc::now();
        let due: Vec<String> = {
            let store = self.ingest.store().read();
            let s = self.state.lock();
            store
                .messages()
                .unsettled()
                .filter(|(_, r)| matches!(r.status(), Status::Queued | Status::Sent))
                .filter(|(_, r)| {
                    r.lifecycle
                        .sent
                        .and_then(|s| s.at)
                        .or(r.created_at)
                        .is_some_and(|at| now - at >= after)
                })
                .map(|(_, r)| r.id())
                .filter(|id| {
                    s.looked.get(*id).is_none_or(|(at, n)| {
                        *n < LOOKUPS && at.elapsed() >= self.settings.reconcile_after
                    })
                })
                // No more than the budget could take this minute, its reserve left.
                .take((self.settings.budget as usize * 3 / 4).max(1))
                .map(str::to_owned)
                .collect()
        };
        // Forget lookups of messages no longer stuck (settled, or gone from memory).
        {
            let store = self.ingest.store().read();
            let unsettled: HashSet<&str> =
                store.messages().unsettled().map(|(_, r)| r.id()).collect();
            self.state
                .lock()
                .looked
                .retain(|id, _| unsettled.contains(id.as_str()));
        }
        let mut tasks = tokio::task::JoinSet::new();
        for id in due {
            {
                let mut s = self.state.lock();
                let e = s.looked.entry(id.clone()).or_insert((Instant::now(), 0));
                *e = (Instant::now(), e.1 + 1);
            }
            let this = self.clone();
            tasks.spawn(async move {
                let lookup = this.api.message(&id);
                if let Ok(m) = this.call_as(Feature::Messages, lookup, true).await {
                    this.journal(ApiRecord::Message(m)).await;
                }
            });
        }
        while tasks.join_next().await.is_some() {}
    }
}
