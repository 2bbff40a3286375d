//! Messages by id: one row per message, its lifecycle merged from however many status
//! webhooks arrive, in whatever order; replies linked to what they quote.

use std::collections::VecDeque;
use std::hash::BuildHasher;

use crate::store::HashMap;

use chrono::{DateTime, Utc};
use smallvec::SmallVec;

use crate::model::event::{Media, Message, MessageExtra, MessageKind, MessageType, Text};

/// Where a row sits in the table. Ordinals only grow, so eviction never reuses one.
pub type Ordinal = u64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    In,
    Out,
}

/// The state a message is in. Ranked so the outcome does not depend on arrival order:
/// a late `delivered` proves a `DELIVER_NOT_CONFIRMED` failure wrong, so it wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    Received,
    /// Accepted by the API (202), no webhook about it yet.
    Queued,
    Sent,
    Failed,
    Delivered,
    Read,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::Queued => "queued",
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::Delivered => "delivered",
            Self::Read => "read",
        }
    }
}

/// One step of a lifecycle: when it happened (the event's `createdAt`) and which
/// delivery said so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub at: Option<DateTime<Utc>>,
    pub seq: u64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lifecycle {
    pub sent: Option<Step>,
    pub delivered: Option<Step>,
    pub read: Option<Step>,
    pub failed: Option<Step>,
}

/// A row's string fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Id,
    NumberId,
    To,
    From,
    MessageId,
    CorrelationId,
    Content,
    ParticipantName,
    ApiStatus,
}

const FIELDS: usize = 9;

/// A row's strings in one allocation: nine ids and texts of their own would be nine
/// allocations per row, which at a million rows is most of the store. Field `i` is
/// `buf[ends[i - 1]..ends[i]]` when its bit is set in `present`.
#[derive(Clone, Default, PartialEq)]
struct Strings {
    buf: Box<str>,
    ends: [u32; FIELDS],
    present: u16,
}

impl Strings {
    fn new(values: [Option<&str>; FIELDS]) -> Self {
        let mut buf = String::with_capacity(values.iter().flatten().map(|v| v.len()).sum());
        let mut ends = [0; FIELDS];
        let mut present = 0;
        for (i, v) in values.iter().enumerate() {
            if let Some(v) = v {
                buf.push_str(v);
                present |= 1 << i;
            }
            // Bodies are capped far below 4 GiB, so an offset fits in a u32.
            ends[i] = u32::try_from(buf.len()).unwrap_or(u32::MAX);
        }
        Self {
            buf: buf.into_boxed_str(),
            ends,
            present,
        }
    }

    fn get(&self, f: Field) -> Option<&str> {
        self.at(f as usize)
    }

    fn at(&self, i: usize) -> Option<&str> {
        if self.present & (1 << i) == 0 {
            return None;
        }
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        self.buf.get(start..self.ends[i] as usize)
    }

    fn all(&self) -> [Option<&str>; FIELDS] {
        std::array::from_fn(|i| self.at(i))
    }

    /// Fill the fields still absent; the allocation is rebuilt only when one is.
    fn fill(&mut self, values: [Option<&str>; FIELDS]) {
        let missing = (0..FIELDS).any(|i| self.present & (1 << i) == 0 && values[i].is_some());
        if missing {
            let mut merged = self.all();
            for (slot, v) in merged.iter_mut().zip(values) {
                if slot.is_none() {
                    *slot = v;
                }
            }
            *self = Self::new(merged);
        }
    }

    fn set(&mut self, f: Field, v: Option<&str>) {
        if self.get(f) != v {
            let mut all = self.all();
            all[f as usize] = v;
            *self = Self::new(all);
        }
    }
}

impl std::fmt::Debug for Strings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.all()).finish()
    }
}

/// The strings an event brings, in [`Field`] order.
fn strings_of(m: &Message) -> [Option<&str>; FIELDS] {
    [
        Some(&m.id),
        Some(&m.number_id),
        Some(&m.to),
        m.from.as_deref(),
        m.message_id.as_deref(),
        m.correlation_id.as_deref(),
        m.content.as_deref(),
        m.participant_name.as_deref(),
        None,
    ]
}

#[derive(Debug, Clone, PartialEq)]
pub struct MessageRow {
    /// Ids and texts, read through the accessors below.
    strings: Strings,
    pub direction: Direction,
    /// The inbound kind (received, reply, group, newsletter), or the first status seen.
    pub kind: MessageKind,
    pub msg_type: Option<MessageType>,
    pub media: Option<Box<Media>>,
    /// Reply / group / newsletter fields (most rows have none: boxed, not inline).
    extra: Option<Box<MessageExtra>>,
    /// `createdAt` of the inbound message, or of the earliest status.
    pub created_at: Option<DateTime<Utc>>,
    pub lifecycle: Lifecycle,
    /// `error` and `errorCode` of `message.failed`.
    error: Option<Box<(Text, Option<Text>)>>,
    /// Every delivery (seq) that built this row, in arrival order (an outbound
    /// message's sent, delivered and read fit inline).
    pub seqs: SmallVec<[u64; 3]>,
}

impl MessageRow {
    /// The Pilot Status id.
    pub fn id(&self) -> &str {
        self.strings.get(Field::Id).unwrap_or_default()
    }

    pub fn number_id(&self) -> &str {
        self.strings.get(Field::NumberId).unwrap_or_default()
    }

    pub fn to(&self) -> &str {
        self.strings.get(Field::To).unwrap_or_default()
    }

    pub fn from(&self) -> Option<&str> {
        self.strings.get(Field::From)
    }

    /// The WhatsApp message id (`wamid…`).
    pub fn message_id(&self) -> Option<&str> {
        self.strings.get(Field::MessageId)
    }

    pub fn correlation_id(&self) -> Option<&str> {
        self.strings.get(Field::CorrelationId)
    }

    pub fn content(&self) -> Option<&str> {
        self.strings.get(Field::Content)
    }

    pub fn participant_name(&self) -> Option<&str> {
        self.strings.get(Field::ParticipantName)
    }

    /// Sent from this pilotwatch: the API's status in its 202 (`QUEUED`…).
    pub fn api_status(&self) -> Option<&str> {
        self.strings.get(Field::ApiStatus)
    }

    /// `error` and `errorCode` of `message.failed`.
    pub fn error(&self) -> Option<(&str, Option<&str>)> {
        self.error.as_deref().map(|(e, c)| (&**e, c.as_deref()))
    }

    pub fn extra(&self) -> &MessageExtra {
        self.extra.as_deref().unwrap_or(&MessageExtra::None)
    }

    pub fn status(&self) -> Status {
        let l = &self.lifecycle;
        if l.read.is_some() {
            Status::Read
        } else if l.delivered.is_some() {
            Status::Delivered
        } else if l.failed.is_some() {
            Status::Failed
        } else if self.direction == Direction::Out
            && l.sent.is_none()
            && self.api_status().is_some()
        {
            Status::Queued
        } else if self.direction == Direction::Out {
            Status::Sent
        } else {
            Status::Received
        }
    }

    /// The WhatsApp id this message is quoting, when it is a reply.
    pub fn quoted_message_id(&self) -> Option<&str> {
        match self.extra() {
            MessageExtra::Reply {
                quoted_message_id, ..
            } => quoted_message_id.as_deref(),
            _ => None,
        }
    }

    fn new(m: &Message, seq: u64) -> Self {
        Self {
            strings: Strings::new(strings_of(m)),
            direction: if m.kind.is_outbound() {
                Direction::Out
            } else {
                Direction::In
            },
            kind: m.kind,
            msg_type: None,
            media: None,
            extra: None,
            created_at: None,
            lifecycle: Lifecycle::default(),
            error: None,
            seqs: SmallVec::new(),
        }
        .merged(m, seq)
    }

    fn merged(mut self, m: &Message, seq: u64) -> Self {
        self.merge(m, seq);
        self
    }

    /// Fold one event in. Fields fill in where still missing, so whichever event comes
    /// first, the row ends up the same.
    fn merge(&mut self, m: &Message, seq: u64) {
        self.strings.fill(strings_of(m));
        self.seqs.push(seq);
        if self.msg_type.is_none() {
            self.msg_type.clone_from(&m.msg_type);
        }
        if self.media.is_none() {
            self.media.clone_from(&m.media);
        }
        if let Some(at) = m.created_at
            && self.created_at.is_none_or(|c| at < c)
        {
            self.created_at = Some(at);
        }
        let step = Some(Step {
            at: m.created_at,
            seq,
        });
        let l = &mut self.lifecycle;
        match (&m.extra, m.kind) {
            (MessageExtra::Failed { error, error_code }, _) => {
                l.failed = l.failed.or(step);
                self.error
                    .get_or_insert_with(|| Box::new((error.clone(), error_code.clone())));
            }
            (_, MessageKind::Sent) => l.sent = l.sent.or(step),
            (_, MessageKind::Delivered) => l.delivered = l.delivered.or(step),
            (_, MessageKind::Read) => l.read = l.read.or(step),
            (MessageExtra::None, _) => {}
            (extra, _) => {
                if self.extra.is_none() {
                    self.extra = Some(Box::new(extra.clone()));
                }
            }
        }
    }
}

/// What applying an event changed, for the per-number counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageChange {
    /// The row.
    pub ord: Ordinal,
    /// A new row, in this direction.
    pub new: Option<Direction>,
    /// The message has failed for the first time.
    pub first_failure: bool,
}

/// The message table. Its indexes map 64-bit hashes of ids to ordinals rather than
/// holding copies of the ids (a copy per index per row cost more than the rows' own
/// strings); every lookup checks the row it lands on, so a collision can only make a
/// lookup miss, never return the wrong message.
#[derive(Debug, Default)]
pub struct Messages {
    rows: VecDeque<MessageRow>,
    /// Ordinal of `rows[0]`.
    front: Ordinal,
    hasher: foldhash::fast::RandomState,
    /// Outbound rows by Pilot Status id; inbound ones by kind and id (the provider's
    /// examples reuse one id across kinds).
    by_key: HashMap<u64, Ordinal>,
    /// Rows by WhatsApp `messageId`, to find what a reply quotes.
    by_message_id: HashMap<u64, Ordinal>,
    /// Outbound rows by `correlationId` (a reply may carry the original's).
    by_correlation: HashMap<u64, Ordinal>,
    /// Replies by the `messageId` they quote.
    replies: HashMap<u64, SmallVec<[Ordinal; 1]>>,
}

/// The kind part of a row's key: inbound rows are keyed by kind, outbound ones not.
fn key_kind(kind: MessageKind) -> Option<MessageKind> {
    (!kind.is_outbound()).then_some(kind)
}

impl MessageRow {
    fn key_kind(&self) -> Option<MessageKind> {
        (self.direction == Direction::In).then_some(self.kind)
    }
}

impl Messages {
    fn key_hash(&self, kind: Option<MessageKind>, id: &str) -> u64 {
        self.hasher.hash_one((kind, id))
    }

    fn id_hash(&self, id: &str) -> u64 {
        self.hasher.hash_one(id)
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

    /// The row of an inbound message, by its event name and Pilot Status id.
    pub fn inbound(&self, event: &str, id: &str) -> Option<Ordinal> {
        let kind = MessageKind::ALL.into_iter().find(|k| k.name() == event)?;
        self.find_key(Some(kind), id)
    }

    /// A reply this pilotwatch sent was accepted (202): its row, keyed by the returned id,
    /// so the provider's later webhooks for that id move it along. Created here, or
    /// merged into a row a fast webhook already made.
    pub(crate) fn apply_accepted(
        &mut self,
        accepted: &crate::model::send::Accepted,
        request: &crate::model::send::SendRequest,
        seq: u64,
        at: chrono::DateTime<chrono::Utc>,
        capacity: usize,
    ) -> (Ordinal, bool) {
        let text = request.body.text.as_str();
        let status = accepted.status.as_deref();
        if let Some(ord) = self.find_key(None, &accepted.id)
            && let Some(row) = self.get_mut(ord)
        {
            row.strings.set(Field::ApiStatus, status);
            let mut content = [None; FIELDS];
            content[Field::Content as usize] = Some(text);
            row.strings.fill(content);
            row.seqs.push(seq);
            return (ord, false);
        }
        let to = request
            .body
            .destination_number
            .as_deref()
            .or(request.body.group_id.as_deref())
            .unwrap_or("?");
        let mut strings = [None; FIELDS];
        strings[Field::Id as usize] = Some(accepted.id.as_str());
        strings[Field::NumberId as usize] = Some(request.number_id.as_deref().unwrap_or("?"));
        strings[Field::To as usize] = Some(to);
        strings[Field::CorrelationId as usize] = accepted.correlation_id.as_deref();
        strings[Field::Content as usize] = Some(text);
        strings[Field::ApiStatus as usize] = status;
        let row = MessageRow {
            strings: Strings::new(strings),
            direction: Direction::Out,
            kind: MessageKind::Sent,
            msg_type: Some(crate::model::event::MessageType::Text),
            media: None,
            extra: None,
            created_at: Some(at),
            lifecycle: Lifecycle::default(),
            error: None,
            seqs: smallvec::smallvec![seq],
        };
        let ord = self.front + self.rows.len() as u64;
        if let Some(c) = row.correlation_id() {
            self.by_correlation.insert(self.id_hash(c), ord);
        }
        self.by_key.insert(self.key_hash(None, &accepted.id), ord);
        self.rows.push_back(row);
        while self.rows.len() > capacity {
            self.evict_front();
        }
        (ord, true)
    }

    pub(crate) fn apply(&mut self, m: &Message, seq: u64, capacity: usize) -> MessageChange {
        let kind = key_kind(m.kind);
        // The row is borrowed from `rows` alone, so the hasher stays readable.
        if let Some(ord) = self.find_key(kind, &m.id)
            && let Some(row) = self.rows.get_mut((ord - self.front) as usize)
        {
            let (mid_hash, corr_hash, first_failure) = {
                let had = (
                    row.lifecycle.failed.is_some(),
                    row.message_id().is_some(),
                    row.correlation_id().is_some(),
                );
                row.merge(m, seq);
                let first_failure = !had.0 && row.lifecycle.failed.is_some();
                // Ids first learned from a later event (whatever the arrival order) are
                // indexed now, so replies still find this message.
                let mid = (!had.1).then(|| row.message_id()).flatten();
                let corr = (!had.2 && row.direction == Direction::Out)
                    .then(|| row.correlation_id())
                    .flatten();
                (
                    mid.map(|m| self.hasher.hash_one(m)),
                    corr.map(|c| self.hasher.hash_one(c)),
                    first_failure,
                )
            };
            if let Some(h) = mid_hash {
                self.by_message_id.insert(h, ord);
            }
            if let Some(h) = corr_hash {
                self.by_correlation.insert(h, ord);
            }
            return MessageChange {
                ord,
                new: None,
                first_failure,
            };
        }
        let row = MessageRow::new(m, seq);
        let ord = self.front + self.rows.len() as u64;
        if let Some(mid) = row.message_id() {
            self.by_message_id.insert(self.id_hash(mid), ord);
        }
        if row.direction == Direction::Out
            && let Some(c) = row.correlation_id()
        {
            self.by_correlation.insert(self.id_hash(c), ord);
        }
        if let Some(q) = row.quoted_message_id() {
            self.replies.entry(self.id_hash(q)).or_default().push(ord);
        }
        let change = MessageChange {
            ord,
            new: Some(row.direction),
            first_failure: row.lifecycle.failed.is_some(),
        };
        self.by_key.insert(self.key_hash(kind, &m.id), ord);
        self.rows.push_back(row);
        while self.rows.len() > capacity {
            self.evict_front();
        }
        change
    }

    fn evict_front(&mut self) {
        let Some(row) = self.rows.pop_front() else {
            return;
        };
        let ord = self.front;
        self.front += 1;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_strings_keep_absent_empty_and_filled_apart() {
        let mut s = Strings::new([
            Some("m1"),
            Some(""),
            Some("+55"),
            None,
            None,
            None,
            None,
            None,
            None,
        ]);
        assert_eq!(s.get(Field::Id), Some("m1"));
        assert_eq!(s.get(Field::NumberId), Some(""), "empty is not absent");
        assert_eq!(s.get(Field::From), None);
        let mut later = [None; FIELDS];
        later[Field::Id as usize] = Some("other");
        later[Field::Content as usize] = Some("Olá 👋");
        s.fill(later);
        assert_eq!(
            s.get(Field::Id),
            Some("m1"),
            "a present field is not overwritten"
        );
        assert_eq!(s.get(Field::Content), Some("Olá 👋"));
        assert_eq!(s.get(Field::To), Some("+55"));
        s.set(Field::ApiStatus, Some("QUEUED"));
        s.set(Field::Content, None);
        assert_eq!(s.get(Field::ApiStatus), Some("QUEUED"));
        assert_eq!(s.get(Field::Content), None);
        assert_eq!(&*s.buf, "m1+55QUEUED", "one allocation holds them all");
    }
}
