//! The shared, bounded, in-memory view of what arrived, correlated: messages
//! ([`messages`]), numbers ([`numbers`]), calls ([`calls`]), what the user's app answered
//! ([`forwards`]), alerts the service raised ([`alerts`]), the raw feed and counters.
//!
//! It is written only by applying records in seq order (the ingest's applier after the
//! journal is durable, a replay, an attached client) and read by the views. Everything
//! here is derived from records, so a replayed journal rebuilds the same store.

pub mod alerts;
pub mod calls;
pub mod conversations;
mod feed;
pub mod forwards;
pub mod messages;
pub mod numbers;
pub mod provider;
pub mod replies;
pub mod stats;
pub mod tally;

use std::sync::Arc;

use parking_lot::RwLock;

use crate::model::event::Event;
use crate::model::outbound::{self, Outbound};
use crate::model::{EventName, Verdict};
use crate::record::{Record, RecordKind, SignatureCheck, Subject};

pub use alerts::{AlertRow, Alerts};
pub use calls::{CallPhase, CallRow, Calls};
pub use forwards::{ForwardResult, Forwards};
pub use messages::{Direction, MessageRow, Messages, Status};
pub use numbers::{NumberRow, NumberState, Numbers};
pub use provider::{ApiNumberRow, AttemptRow, Provider};
pub use replies::{Replies, ReplyState};
pub use stats::Stats;
pub use tally::Tally;

/// The store's maps: keys come from webhook bodies, hashed fast but with a per-process
/// random seed (SipHash showed in the ingest profile; foldhash is what hashbrown uses).
pub type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

pub type SharedStore = Arc<RwLock<Store>>;

/// Default number of deliveries (and of message/call rows) kept in memory.
pub const DEFAULT_CAPACITY: usize = 100_000;

#[derive(Debug, Default, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Counters {
    pub total: u64,
    pub by_verdict: [u64; 4],
    pub by_signature: [u64; 4],
    pub duplicates: u64,
    /// Reply attempts sent from here (outbound records; not deliveries).
    pub sends: u64,
    /// Messages that failed (counted once per message, not per webhook).
    pub failed_messages: u64,
    pub by_event: HashMap<EventName, u64>,
}

impl Counters {
    /// Distinct event names counted; more (a sender inventing names) go to `other`.
    const MAX_NAMES: usize = 1_000;

    pub fn verdict(&self, v: Verdict) -> u64 {
        self.by_verdict[v.index()]
    }

    pub fn signature(&self, s: SignatureCheck) -> u64 {
        self.by_signature[s.index()]
    }

    fn count(&mut self, r: &Record) {
        match r.kind {
            RecordKind::Delivery => {}
            RecordKind::Outbound => {
                self.sends += 1;
                return;
            }
            // Counted in [`Forwards`] and [`Alerts`]: neither is a delivery.
            RecordKind::Forward | RecordKind::Alert | RecordKind::Api => return,
        }
        self.total += 1;
        self.by_verdict[r.verdict.index()] += 1;
        self.by_signature[r.signature.index()] += 1;
        if r.duplicate_of.is_some() {
            self.duplicates += 1;
        }
        if let Some(name) = &r.event {
            let key = if self.by_event.len() < Self::MAX_NAMES || self.by_event.contains_key(name) {
                name.clone()
            } else {
                EventName::new("other")
            };
            *self.by_event.entry(key).or_default() += 1;
        }
    }
}

#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Store {
    capacity: usize,
    feed: feed::Feed,
    /// Retries received for a delivery, by the seq of its first delivery.
    redeliveries: HashMap<u64, u32>,
    messages: Messages,
    numbers: Numbers,
    calls: Calls,
    replies: Replies,
    forwards: Forwards,
    alerts: Alerts,
    provider: Provider,
    conversations: conversations::Conversations,
    counters: Counters,
    stats: Stats,
    tally: Tally,
    last_seq: u64,
    /// The highest seq pushed out of memory: every record after it is still here.
    evicted: u64,
}

impl Store {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            feed: feed::Feed::default(),
            redeliveries: HashMap::default(),
            messages: Messages::default(),
            numbers: Numbers::default(),
            calls: Calls::default(),
            replies: Replies::default(),
            forwards: Forwards::default(),
            alerts: Alerts::default(),
            provider: Provider::default(),
            conversations: Default::default(),
            counters: Counters::default(),
            stats: Stats::default(),
            tally: Tally::default(),
            last_seq: 0,
            evicted: 0,
        }
    }

    /// A store whose id hashes use a fixed seed: the same bytes from one run to the
    /// next (the snapshot's layout fingerprint). Not for ids from the network.
    pub fn with_fixed_seed(capacity: usize) -> Self {
        Self {
            messages: Messages::with_seed(0x5eed),
            ..Self::new(capacity)
        }
    }

    pub fn shared(capacity: usize) -> SharedStore {
        Arc::new(RwLock::new(Self::new(capacity)))
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The highest seq applied (0: none yet).
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Activity, traffic and latency figures, kept as records are applied.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// What `/metrics` counts beside the counters.
    pub fn tally(&self) -> &Tally {
        &self.tally
    }

    pub fn messages(&self) -> &Messages {
        &self.messages
    }

    pub fn numbers(&self) -> &Numbers {
        &self.numbers
    }

    pub fn calls(&self) -> &Calls {
        &self.calls
    }

    pub fn replies(&self) -> &Replies {
        &self.replies
    }

    pub fn forwards(&self) -> &Forwards {
        &self.forwards
    }

    pub fn alerts(&self) -> &Alerts {
        &self.alerts
    }

    /// Threads by number and contact, who is waiting, the 24-hour window.
    pub fn conversations(&self) -> &conversations::Conversations {
        &self.conversations
    }

    /// After reading a store back (a snapshot): what it shares in memory, shared again.
    pub(crate) fn share_after_load(&mut self) {
        self.conversations.share_keys();
    }

    /// Which parts of two stores differ (none: they are equal), to say what a snapshot
    /// read back got wrong.
    pub fn differences(&self, other: &Store) -> Vec<&'static str> {
        let parts = [
            ("capacity", self.capacity == other.capacity),
            ("feed", self.feed == other.feed),
            ("redeliveries", self.redeliveries == other.redeliveries),
            ("messages", self.messages == other.messages),
            ("numbers", self.numbers == other.numbers),
            ("calls", self.calls == other.calls),
            ("replies", self.replies == other.replies),
            ("forwards", self.forwards == other.forwards),
            ("alerts", self.alerts == other.alerts),
            ("provider", self.provider == other.provider),
            ("conversations", self.conversations == other.conversations),
            ("counters", self.counters == other.counters),
            ("stats", self.stats == other.stats),
            ("tally", self.tally == other.tally),
            ("last_seq", self.last_seq == other.last_seq),
            ("evicted", self.evicted == other.evicted),
        ];
        parts
            .into_iter()
            .filter(|(_, same)| !same)
            .map(|(name, _)| name)
            .collect()
    }

    /// The provider's side, as its API told the reconciler.
    pub fn provider(&self) -> &Provider {
        &self.provider
    }

    /// Every Feed record (deliveries, replies sent) still in memory, oldest first.
    pub fn feed(&self) -> impl DoubleEndedIterator<Item = &Record> + ExactSizeIterator {
        self.feed.iter()
    }

    /// When the newest record it holds was journaled (a delivery, an alert, what the
    /// API said): the time a journal read from a file is "as of".
    pub fn newest_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        let feed = self.feed.back().map(|r| r.received_at);
        let alerts = self.alerts.since(0).next_back().map(|r| r.received_at);
        let api = self.provider.since(0).next_back().map(|r| r.received_at);
        [feed, alerts, api].into_iter().flatten().max()
    }

    /// A delivery by seq, if it is still in memory. Seqs in the feed are increasing, so
    /// this is a binary search.
    pub fn record(&self, seq: u64) -> Option<&Record> {
        let i = self.feed.binary_search_by_key(&seq, |r| r.seq).ok()?;
        self.feed.get(i)
    }

    /// The Feed records after `seq`, oldest first.
    pub fn since(&self, seq: u64) -> impl Iterator<Item = &Record> {
        self.feed
            .range(self.feed.partition_point(|r| r.seq <= seq)..)
    }

    /// Every record after `seq`, `forward` and `alert` ones included, oldest first and
    /// without a hole: what a client that has seen up to `seq` is missing. It starts
    /// after the newest record evicted (if that is past `seq`, the journal has the rest).
    pub fn records_since(&self, seq: u64) -> impl Iterator<Item = &Record> {
        type Source<'a> = std::iter::Peekable<Box<dyn Iterator<Item = &'a Record> + 'a>>;
        let seq = seq.max(self.evicted);
        let mut sources: [Source<'_>; 4] = [
            (Box::new(self.since(seq)) as Box<dyn Iterator<Item = _>>).peekable(),
            (Box::new(self.forwards.since(seq).map(|r| &**r)) as Box<dyn Iterator<Item = _>>)
                .peekable(),
            (Box::new(self.alerts.since(seq).map(|r| &**r)) as Box<dyn Iterator<Item = _>>)
                .peekable(),
            (Box::new(self.provider.since(seq).map(|r| &**r)) as Box<dyn Iterator<Item = _>>)
                .peekable(),
        ];
        // A merge by seq: each source is in seq order.
        std::iter::from_fn(move || {
            let (_, i) = sources
                .iter_mut()
                .enumerate()
                .filter_map(|(i, s)| s.peek().map(|r| (r.seq, i)))
                .min()?;
            sources[i].next()
        })
    }

    /// These deliveries and the app's answers to them, in seq order: what an export
    /// holds, so the file opens showing the same `app` column.
    pub fn with_forwards(&self, seqs: &[u64]) -> Vec<&Record> {
        let mut out: Vec<&Record> = Vec::with_capacity(seqs.len());
        for seq in seqs {
            out.extend(self.record(*seq));
            let answers = self.forwards.of(*seq).iter();
            out.extend(answers.filter_map(|f| self.forwards.record(f.record).map(|r| &**r)));
        }
        out.sort_unstable_by_key(|r| r.seq);
        out.dedup_by_key(|r| r.seq);
        out
    }

    /// The deliveries before `seq`, oldest first.
    pub fn before(&self, seq: u64) -> impl DoubleEndedIterator<Item = &Record> {
        self.feed
            .range(..self.feed.partition_point(|r| r.seq < seq))
    }

    /// How many times this delivery arrived (1 + its retries).
    pub fn deliveries(&self, seq: u64) -> u32 {
        1 + self.redeliveries.get(&seq).copied().unwrap_or(0)
    }

    /// Fold one delivery in (records arrive in seq order from the sequencer). Its typed
    /// event is merged into the rows and dropped: keeping it per record would hold every
    /// field twice. Returns the record as stored, for subscribers.
    pub fn apply(&mut self, record: Record) -> Arc<Record> {
        self.fold(record, true)
            .expect("a record to share was asked for")
    }

    /// [`Store::apply`] where nobody subscribes (a replay, a store read by `open` or an
    /// attached client): no copy of the record is made for them.
    pub fn apply_quietly(&mut self, record: Record) {
        self.fold(record, false);
    }

    fn fold(&mut self, mut record: Record, share: bool) -> Option<Arc<Record>> {
        self.counters.count(&record);
        self.stats.record(&record);
        self.tally.record(&record);
        self.last_seq = self.last_seq.max(record.seq);
        if record.kind == RecordKind::Forward {
            // No Feed row of its own: it fills in the `app` column of its delivery.
            let (record, evicted) = self.forwards.apply(record, self.capacity);
            self.evicted = self.evicted.max(evicted);
            return Some(record);
        }
        if record.kind == RecordKind::Alert {
            // No Feed row either: the Alerts pane and the overview show them.
            let (record, evicted) = self.alerts.apply(record, self.capacity);
            self.evicted = self.evicted.max(evicted);
            return Some(record);
        }
        if record.kind == RecordKind::Api {
            // The provider's side: it fills in numbers, messages and the Deliveries view.
            self.apply_api(&record);
            let record = Arc::new(record);
            let evicted = self.provider.keep(record.clone(), self.capacity);
            self.evicted = self.evicted.max(evicted);
            return Some(record);
        }
        let typed = record.typed.take();
        if record.kind == RecordKind::Outbound {
            record.subject = self.apply_outbound(&record);
        } else if let Some(first) = record.duplicate_of {
            // A retry of something already evicted is counted, but not remembered.
            if let Some(original) = self.record(first) {
                record.subject = original.subject.clone();
                *self.redeliveries.entry(first).or_default() += 1;
            }
        } else if let Some(event) = &typed {
            record.subject = self.correlate(event, record.seq, &record);
        }
        // Subscribers get their own copy: the Feed's is packed later.
        let shared = share.then(|| Arc::new(record.clone()));
        self.feed.push(record);
        while self.feed.len() > self.capacity {
            if let Some(old) = self.feed.pop_front() {
                self.redeliveries.remove(&old.seq);
                self.evicted = self.evicted.max(old.seq);
            }
        }
        shared
    }

    /// A reply sent from here: its state, and once accepted its own message row.
    fn apply_outbound(&mut self, record: &Record) -> Subject {
        let Ok(o) = serde_json::from_slice::<Outbound>(&record.body.get()) else {
            return Subject::None;
        };
        self.tally.outbound(&o);
        self.replies
            .apply(&o, record.seq, record.received_at, self.capacity);
        let answered = o
            .in_reply_to
            .as_ref()
            .and_then(|r| self.messages.inbound(&r.event, &r.id));
        let sent = match (&o.phase, &o.accepted) {
            (outbound::ReplyPhase::Accepted, Some(accepted)) if !accepted.id.is_empty() => {
                let (ord, new) = self.messages.apply_accepted(
                    accepted,
                    &o.request,
                    record.seq,
                    record.received_at,
                    self.capacity,
                );
                self.messages.track(ord);
                if new && let Some(row) = self.messages.get(ord) {
                    let at = record.received_at;
                    self.conversations.message(ord, row, at, self.capacity);
                }
                if let Some(n) = o.request.number_id.as_deref() {
                    let number = self.numbers.entry(&n.into(), record.received_at);
                    if new {
                        number.messages_out += 1;
                        self.stats.accepted(n, record.received_at);
                    }
                }
                Some(ord)
            }
            _ => None,
        };
        Subject::reply(answered, sent)
    }

    fn correlate(&mut self, event: &Event, seq: u64, record: &Record) -> Subject {
        match event {
            Event::Message(m) => {
                let change = self.messages.apply(m, seq, self.capacity);
                self.messages.track(change.ord);
                let number = self.numbers.entry(&m.number_id, record.received_at);
                match change.new {
                    Some(Direction::In) => number.messages_in += 1,
                    Some(Direction::Out) => number.messages_out += 1,
                    None => {}
                }
                if change.first_failure {
                    number.failures += 1;
                    self.counters.failed_messages += 1;
                }
                if let Some(row) = self.messages.get(change.ord) {
                    self.stats.message(m, &change, row, record.received_at);
                    if change.new.is_some() {
                        let at = row.created_at.unwrap_or(record.received_at);
                        self.conversations
                            .message(change.ord, row, at, self.capacity);
                    }
                }
                // A webhook about a reply sent from here also changes how the message it
                // answered looks ("answered", or that the answer failed).
                let answered = if m.kind.is_outbound() {
                    let r = self
                        .replies
                        .by_accepted_id(&m.id)
                        .and_then(|r| r.in_reply_to.as_ref());
                    r.and_then(|r| self.messages.inbound(&r.event, &r.id))
                } else {
                    None
                };
                match answered {
                    Some(a) => Subject::reply(Some(a), Some(change.ord)),
                    None => Subject::Message(change.ord),
                }
            }
            Event::Number(n) => {
                self.numbers.apply(n, seq, record.received_at);
                let connected = self.numbers.get(&n.number_id).and_then(webhook_connected);
                self.provider
                    .recheck(&n.number_id, connected, record.received_at);
                self.stats.number_event(&n.number_id, record.received_at);
                Subject::Number
            }
            Event::Call(c) => {
                let subject = self.calls.apply(c, seq, self.capacity);
                if let Subject::Call(ord) = subject
                    && let Some(row) = self.calls.row(ord)
                {
                    self.conversations.call(ord, row);
                }
                subject
            }
            Event::Calls(native) => self.calls.apply_native(native, seq),
            Event::Lead(_) | Event::PhoneLine(_) => Subject::None,
        }
    }
}

/// What the webhooks say of a number's connection, when they say anything.
fn webhook_connected(n: &NumberRow) -> Option<bool> {
    match n.state {
        NumberState::Connected => Some(true),
        NumberState::Disconnected | NumberState::Restored | NumberState::Created => Some(false),
        NumberState::Unknown | NumberState::Removed => None,
    }
}

impl Store {
    /// An answer of the provider's API, folded in.
    fn apply_api(&mut self, record: &Record) {
        use crate::model::provider::ApiRecord;
        let Ok(a) = serde_json::from_slice::<ApiRecord>(&record.body.get()) else {
            tracing::debug!(seq = record.seq, "api record not understood");
            return;
        };
        let at = record.received_at;
        match a {
            ApiRecord::Numbers { numbers } => {
                self.provider.listed(&numbers);
                for n in &numbers {
                    // Known from the API alone: listed before any webhook names it.
                    let row = self.numbers.entry(&n.id.as_str().into(), at);
                    if row.display_name.is_none() {
                        row.display_name = n
                            .name
                            .as_deref()
                            .map(|s| crate::sanitize::line(s, 80).into());
                    }
                    if row.phone.is_none() {
                        row.phone = n
                            .number
                            .as_deref()
                            .map(|s| crate::sanitize::line(s, 32).into());
                    }
                }
            }
            ApiRecord::NumberStatus(s) => {
                self.provider.status(&s, at);
                let connected = self.numbers.get(&s.id).and_then(webhook_connected);
                self.provider.recheck(&s.id, connected, at);
            }
            ApiRecord::Message(m) => {
                self.messages.apply_api(&m, record.seq);
            }
            ApiRecord::Attempts { webhook, attempts } => {
                self.provider.add_attempts(&webhook, &attempts);
            }
            ApiRecord::History {
                number,
                page,
                total_pages,
                messages,
            } => self.conversations.history(
                &number,
                page,
                total_pages,
                &messages,
                &self.messages,
                self.capacity,
            ),
            ApiRecord::Access {
                feature,
                state,
                detail,
            } => self.provider.set_access(feature, state, &detail),
        }
    }
}

#[cfg(test)]
mod tests;
