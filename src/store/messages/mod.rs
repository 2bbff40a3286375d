//! Messages by id: one row per message, its lifecycle merged from however many status
//! webhooks arrive, in whatever order; replies linked to what they quote.
//!
//! The table and its indexes are here; `row` is one message's row and how an event
//! folds into it, `strings` packs a row's ids and texts into one allocation, and
//! `apply` is what a record does to the table.

mod api;
mod apply;
pub mod by_status;
mod row;
mod seed;
mod strings;

use std::collections::VecDeque;
use std::hash::BuildHasher;

use crate::store::HashMap;

use smallvec::SmallVec;

use crate::model::event::MessageKind;

pub use row::{ApiMark, Direction, Lifecycle, MessageRow, STEPS, Status, Step};

/// Where a row sits in the table. Ordinals only grow, so eviction never reuses one.
pub type Ordinal = u64;

/// What applying an event changed, for the per-number counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageChange {
    /// The row.
    pub ord: Ordinal,
    /// A new row, in this direction.
    pub new: Option<Direction>,
    /// The message has failed for the first time.
    pub first_failure: bool,
    /// Which of sent, delivered, read the row had before: the stats take a latency
    /// sample only for a pair of steps this event completed.
    pub had: [bool; 3],
}

/// The message table. Its indexes map 64-bit hashes of ids to ordinals rather than
/// holding copies of the ids (a copy per index per row cost more than the rows' own
/// strings); every lookup checks the row it lands on, so a collision can only make a
/// lookup miss, never return the wrong message.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Messages {
    rows: VecDeque<MessageRow>,
    /// Ordinal of `rows[0]`.
    front: Ordinal,
    hasher: seed::Seed,
    /// Outbound rows by Pilot Status id; inbound ones by kind and id (the provider's
    /// examples reuse one id across kinds).
    by_key: HashMap<u64, Ordinal>,
    /// Rows by WhatsApp `messageId`, to find what a reply quotes.
    by_message_id: HashMap<u64, Ordinal>,
    /// Outbound rows by `correlationId` (a reply may carry the original's).
    by_correlation: HashMap<u64, Ordinal>,
    /// Replies by the `messageId` they quote.
    replies: HashMap<u64, SmallVec<[Ordinal; 1]>>,
    /// Outbound rows still `queued` or `sent`, oldest first: what the alerts look at
    /// for stuck messages, without walking the whole table.
    unsettled: std::collections::BTreeSet<Ordinal>,
    /// Rows whose API lookup found a step no webhook brought.
    missing: u64,
    /// Rows per number and status, for `/metrics`.
    by_status: by_status::ByStatus,
}

/// Two tables are equal when their rows and what they index are: the id hashes are
/// compared as such only when both tables hash with the same seed (a snapshot keeps
/// it), otherwise as the ordinals each index holds.
impl PartialEq for Messages {
    fn eq(&self, other: &Self) -> bool {
        fn ords<V: Clone + Ord>(m: &HashMap<u64, V>) -> Vec<V> {
            let mut v: Vec<V> = m.values().cloned().collect();
            v.sort_unstable();
            v
        }
        let indexes = if self.hasher == other.hasher {
            self.by_key == other.by_key
                && self.by_message_id == other.by_message_id
                && self.by_correlation == other.by_correlation
                && self.replies == other.replies
        } else {
            // Hashes of another seed cannot be compared; that each table finds its own
            // rows through them shows they were built (or read back) with its seed.
            self.resolves()
                && other.resolves()
                && ords(&self.by_key) == ords(&other.by_key)
                && ords(&self.by_message_id) == ords(&other.by_message_id)
                && ords(&self.by_correlation) == ords(&other.by_correlation)
                && ords(&self.replies) == ords(&other.replies)
        };
        indexes
            && self.rows == other.rows
            && self.front == other.front
            && self.unsettled == other.unsettled
            && self.missing == other.missing
            && self.by_status == other.by_status
    }
}

/// The kind part of a row's key: inbound rows are keyed by kind, outbound ones not.
fn key_kind(kind: MessageKind) -> Option<MessageKind> {
    (!kind.is_outbound()).then_some(kind)
}

impl Messages {
    fn key_hash(&self, kind: Option<MessageKind>, id: &str) -> u64 {
        self.hasher.hash_one((kind, id))
    }

    fn id_hash(&self, id: &str) -> u64 {
        self.hasher.hash_one(id)
    }

    /// Every row is found by its key through the index (ids that repeat aside).
    fn resolves(&self) -> bool {
        self.range().all(|ord| {
            let row = &self.rows[(ord - self.front) as usize];
            self.find_key(row.key_kind(), row.id()).is_some()
        })
    }

    /// The row of `(kind, id)`, checked against the row the hash lands on.
    fn find_key(&self, kind: Option<MessageKind>, id: &str) -> Option<Ordinal> {
        let ord = *self.by_key.get(&self.key_hash(kind, id))?;
        self.get(ord)
            .filter(|r| r.key_kind() == kind && r.id() == id)
            .map(|_| ord)
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// An empty table hashing ids with a fixed seed (a layout fingerprint, tests).
    pub(crate) fn with_seed(seed: u64) -> Self {
        Self {
            hasher: seed::Seed::fixed(seed),
            ..Self::default()
        }
    }

    /// Rows in memory per number and status.
    pub fn by_status(&self) -> &by_status::ByStatus {
        &self.by_status
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Ordinals in memory: `range().start` is the oldest, `end` the next to be given.
    pub fn range(&self) -> std::ops::Range<Ordinal> {
        self.front..self.front + self.rows.len() as u64
    }

    pub fn get(&self, ord: Ordinal) -> Option<&MessageRow> {
        self.rows
            .get(usize::try_from(ord.checked_sub(self.front)?).ok()?)
    }

    fn get_mut(&mut self, ord: Ordinal) -> Option<&mut MessageRow> {
        self.rows
            .get_mut(usize::try_from(ord.checked_sub(self.front)?).ok()?)
    }

    /// The outbound message with this Pilot Status id (the 202 `id` of a send).
    pub fn outbound(&self, id: &str) -> Option<&MessageRow> {
        self.find_key(None, id).and_then(|o| self.get(o))
    }

    /// The ordinal of the outbound message with this Pilot Status id (an alert's cause).
    pub fn outbound_ord(&self, id: &str) -> Option<Ordinal> {
        self.find_key(None, id)
    }

    /// The row holding this WhatsApp message id.
    pub fn by_message_id(&self, message_id: &str) -> Option<&MessageRow> {
        let ord = self.by_message_id.get(&self.id_hash(message_id))?;
        self.get(*ord)
            .filter(|r| r.message_id() == Some(message_id))
    }

    /// Newest first, with their ordinals.
    pub fn newest(&self) -> impl Iterator<Item = (Ordinal, &MessageRow)> {
        let front = self.front;
        self.rows
            .iter()
            .enumerate()
            .rev()
            .map(move |(i, r)| (front + i as u64, r))
    }

    /// The message a reply quotes: by `quotedMessageId`, else by `correlationId`.
    pub fn quoted(&self, reply: &MessageRow) -> Option<&MessageRow> {
        reply
            .quoted_message_id()
            .and_then(|q| self.by_message_id(q))
            .or_else(|| {
                let corr = reply
                    .correlation_id()
                    .filter(|_| reply.kind == MessageKind::Reply)?;
                let ord = self.by_correlation.get(&self.id_hash(corr))?;
                self.get(*ord).filter(|r| r.correlation_id() == Some(corr))
            })
            .filter(|orig| !std::ptr::eq(*orig, reply))
    }

    /// The replies that quote this message.
    pub fn replies_to(&self, original: &MessageRow) -> impl Iterator<Item = &MessageRow> {
        let mid = original.message_id();
        let ords = mid.and_then(|m| self.replies.get(&self.id_hash(m)));
        ords.into_iter()
            .flatten()
            .filter_map(|o| self.get(*o))
            .filter(move |r| r.quoted_message_id() == mid)
    }

    /// Outbound messages still `queued` or `sent` (no delivery, read or failure yet),
    /// oldest row first.
    pub fn unsettled(&self) -> impl Iterator<Item = (Ordinal, &MessageRow)> {
        self.unsettled
            .iter()
            .filter_map(|o| self.get(*o).map(|r| (*o, r)))
    }

    /// Keep [`Messages::unsettled`] in step with a row that changed.
    pub(crate) fn track(&mut self, ord: Ordinal) {
        let Some(row) = self.get(ord) else {
            return;
        };
        if row.direction == Direction::Out && matches!(row.status(), Status::Queued | Status::Sent)
        {
            self.unsettled.insert(ord);
        } else {
            self.unsettled.remove(&ord);
        }
    }

    /// The row of an inbound message, by its event name and Pilot Status id.
    pub fn inbound(&self, event: &str, id: &str) -> Option<Ordinal> {
        let kind = MessageKind::ALL.into_iter().find(|k| k.name() == event)?;
        self.find_key(Some(kind), id)
    }

    fn evict_front(&mut self) {
        let Some(row) = self.rows.pop_front() else {
            return;
        };
        let ord = self.front;
        self.front += 1;
        self.unsettled.remove(&ord);
        if row.webhook_missing().is_some() {
            self.missing -= 1;
        }
        self.by_status.remove(row.number_id(), row.status());
        let key = self.key_hash(row.key_kind(), row.id());
        remove_if(&mut self.by_key, key, ord);
        if let Some(m) = row.message_id() {
            let h = self.id_hash(m);
            remove_if(&mut self.by_message_id, h, ord);
        }
        if let Some(c) = row.correlation_id() {
            let h = self.id_hash(c);
            remove_if(&mut self.by_correlation, h, ord);
        }
        if let Some(q) = row.quoted_message_id() {
            let h = self.id_hash(q);
            if let Some(list) = self.replies.get_mut(&h) {
                list.retain(|o| *o != ord);
                if list.is_empty() {
                    self.replies.remove(&h);
                }
            }
        }
    }
}

fn remove_if(map: &mut HashMap<u64, Ordinal>, key: u64, ord: Ordinal) {
    if map.get(&key) == Some(&ord) {
        map.remove(&key);
    }
}
