//! Messages by id: one row per message, its lifecycle merged from however many status
//! webhooks arrive, in whatever order; replies linked to what they quote.

use std::collections::VecDeque;

use crate::store::HashMap;

use chrono::{DateTime, Utc};

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

#[derive(Debug, Clone, PartialEq)]
pub struct MessageRow {
    pub id: Text,
    pub direction: Direction,
    /// The inbound kind (received, reply, group, newsletter), or the first status seen.
    pub kind: MessageKind,
    pub number_id: Text,
    pub from: Option<Text>,
    pub to: Text,
    pub message_id: Option<Text>,
    pub correlation_id: Option<Text>,
    pub msg_type: Option<MessageType>,
    pub content: Option<Text>,
    pub participant_name: Option<Text>,
    pub media: Option<Box<Media>>,
    /// Reply / group / newsletter fields.
    pub extra: MessageExtra,
    /// `createdAt` of the inbound message, or of the earliest status.
    pub created_at: Option<DateTime<Utc>>,
    pub lifecycle: Lifecycle,
    /// `error` and `errorCode` of `message.failed`.
    pub error: Option<(Text, Option<Text>)>,
    /// Every delivery (seq) that built this row, in arrival order.
    pub seqs: Vec<u64>,
    /// Sent from this pilotwatch: the API's status in its 202 (`QUEUED`…).
    pub api_status: Option<Text>,
}

impl MessageRow {
    pub fn status(&self) -> Status {
        let l = &self.lifecycle;
        if l.read.is_some() {
            Status::Read
        } else if l.delivered.is_some() {
            Status::Delivered
        } else if l.failed.is_some() {
            Status::Failed
        } else if self.direction == Direction::Out && l.sent.is_none() && self.api_status.is_some()
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
        match &self.extra {
            MessageExtra::Reply {
                quoted_message_id, ..
            } => quoted_message_id.as_deref(),
            _ => None,
        }
    }

    fn new(m: &Message, seq: u64) -> Self {
        Self {
            id: m.id.clone(),
            direction: if m.kind.is_outbound() {
                Direction::Out
            } else {
                Direction::In
            },
            kind: m.kind,
            number_id: m.number_id.clone(),
            from: None,
            to: m.to.clone(),
            message_id: None,
            correlation_id: None,
            msg_type: None,
            content: None,
            participant_name: None,
            media: None,
            extra: MessageExtra::None,
            created_at: None,
            lifecycle: Lifecycle::default(),
            error: None,
            seqs: Vec::with_capacity(if m.kind.is_outbound() { 3 } else { 1 }),
            api_status: None,
        }
        .merged(m, seq)
    }

    /// Fold one event in. Fields fill in where still missing, so whichever event comes
    /// first, the row ends up the same.
    fn merged(mut self, m: &Message, seq: u64) -> Self {
        self.merge(m, seq);
        self
    }

    fn merge(&mut self, m: &Message, seq: u64) {
        fn fill<T: Clone>(slot: &mut Option<T>, v: &Option<T>) {
            if slot.is_none() {
                slot.clone_from(v);
            }
        }
        self.seqs.push(seq);
        fill(&mut self.from, &m.from);
        fill(&mut self.message_id, &m.message_id);
        fill(&mut self.correlation_id, &m.correlation_id);
        fill(&mut self.msg_type, &m.msg_type);
        fill(&mut self.content, &m.content);
        fill(&mut self.participant_name, &m.participant_name);
        fill(&mut self.media, &m.media);
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
                    .get_or_insert_with(|| (error.clone(), error_code.clone()));
            }
            (_, MessageKind::Sent) => l.sent = l.sent.or(step),
            (_, MessageKind::Delivered) => l.delivered = l.delivered.or(step),
            (_, MessageKind::Read) => l.read = l.read.or(step),
            (extra, _) => {
                if self.extra == MessageExtra::None {
                    self.extra = extra.clone();
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

#[derive(Debug, Default)]
pub struct Messages {
    rows: VecDeque<MessageRow>,
    /// Ordinal of `rows[0]`.
    front: Ordinal,
    /// Outbound rows by Pilot Status id; inbound ones by kind and id (the provider's
    /// examples reuse one id across kinds).
    by_key: HashMap<(Option<MessageKind>, Text), Ordinal>,
    /// Rows by WhatsApp `messageId`, to find what a reply quotes.
    by_message_id: HashMap<Text, Ordinal>,
    /// Outbound rows by `correlationId` (a reply may carry the original's).
    by_correlation: HashMap<Text, Ordinal>,
    /// Replies by the `messageId` they quote.
    replies: HashMap<Text, Vec<Ordinal>>,
}

impl Messages {
    fn key(m: &Message) -> (Option<MessageKind>, Text) {
        ((!m.kind.is_outbound()).then_some(m.kind), m.id.clone())
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

    /// The outbound message with this Pilot Status id (the 202 `id` of a send).
    pub fn outbound(&self, id: &str) -> Option<&MessageRow> {
        self.by_key
            .get(&(None, id.into()))
            .and_then(|o| self.get(*o))
    }

    /// The row holding this WhatsApp message id.
    pub fn by_message_id(&self, message_id: &str) -> Option<&MessageRow> {
        self.by_message_id
            .get(message_id)
            .and_then(|o| self.get(*o))
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
                    .correlation_id
                    .as_deref()
                    .filter(|_| reply.kind == MessageKind::Reply)?;
                self.by_correlation.get(corr).and_then(|o| self.get(*o))
            })
            .filter(|orig| !std::ptr::eq(*orig, reply))
    }

    /// The replies that quote this message.
    pub fn replies_to(&self, original: &MessageRow) -> impl Iterator<Item = &MessageRow> {
        let ords = original
            .message_id
            .as_deref()
            .and_then(|m| self.replies.get(m));
        ords.into_iter().flatten().filter_map(|o| self.get(*o))
    }

    /// The row of an inbound message, by its event name and Pilot Status id.
    pub fn inbound(&self, event: &str, id: &str) -> Option<Ordinal> {
        let kind = MessageKind::ALL.into_iter().find(|k| k.name() == event)?;
        self.by_key.get(&(Some(kind), id.into())).copied()
    }

    /// A reply this pilotwatch sent was accepted (202): its row, keyed by the returned id,
    /// so the provider's later webhooks for that id move it along. Created here, or
    /// merged into a row a fast webhook already made.
    pub(crate) fn apply_accepted(
        &mut self,
        accepted: &crate::api::Accepted,
        request: &crate::api::SendRequest,
        seq: u64,
        at: chrono::DateTime<chrono::Utc>,
        capacity: usize,
    ) -> (Ordinal, bool) {
        let key = (None, Text::from(accepted.id.as_str()));
        let text: Text = request.body.text.as_str().into();
        let status = accepted.status.as_deref().map(Text::from);
        if let Some(ord) = self.by_key.get(&key).copied()
            && let Some(row) = ord
                .checked_sub(self.front)
                .and_then(|i| self.rows.get_mut(i as usize))
        {
            row.api_status = status;
            row.content.get_or_insert(text);
            row.seqs.push(seq);
            return (ord, false);
        }
        let to = request
            .body
            .destination_number
            .as_deref()
            .or(request.body.group_id.as_deref())
            .unwrap_or("?");
        let row = MessageRow {
            id: key.1.clone(),
            direction: Direction::Out,
            kind: MessageKind::Sent,
            number_id: request.number_id.as_deref().unwrap_or("?").into(),
            from: None,
            to: to.into(),
            message_id: None,
            correlation_id: accepted.correlation_id.as_deref().map(Text::from),
            msg_type: Some(crate::model::event::MessageType::Text),
            content: Some(text),
            participant_name: None,
            media: None,
            extra: MessageExtra::None,
            created_at: Some(at),
            lifecycle: Lifecycle::default(),
            error: None,
            seqs: vec![seq],
            api_status: status,
        };
        let ord = self.front + self.rows.len() as u64;
        if let Some(c) = &row.correlation_id {
            self.by_correlation.insert(c.clone(), ord);
        }
        self.by_key.insert(key, ord);
        self.rows.push_back(row);
        while self.rows.len() > capacity {
            self.evict_front();
        }
        (ord, true)
    }

    pub(crate) fn apply(&mut self, m: &Message, seq: u64, capacity: usize) -> MessageChange {
        let key = Self::key(m);
        if let Some(ord) = self.by_key.get(&key).copied()
            && let Some(idx) = ord.checked_sub(self.front).map(|i| i as usize)
            && let Some(row) = self.rows.get_mut(idx)
        {
            let had = (
                row.lifecycle.failed.is_some(),
                row.message_id.is_some(),
                row.correlation_id.is_some(),
            );
            row.merge(m, seq);
            let first_failure = !had.0 && row.lifecycle.failed.is_some();
            // Ids first learned from a later event (whatever the arrival order) are
            // indexed now, so replies still find this message.
            let learned_message_id = (!had.1).then(|| row.message_id.clone()).flatten();
            let learned_correlation = (!had.2 && row.direction == Direction::Out)
                .then(|| row.correlation_id.clone())
                .flatten();
            if let Some(mid) = learned_message_id {
                self.by_message_id.insert(mid, ord);
            }
            if let Some(c) = learned_correlation {
                self.by_correlation.insert(c, ord);
            }
            return MessageChange {
                ord,
                new: None,
                first_failure,
            };
        }
        let row = MessageRow::new(m, seq);
        let ord = self.front + self.rows.len() as u64;
        if let Some(mid) = &row.message_id {
            self.by_message_id.insert(mid.clone(), ord);
        }
        if row.direction == Direction::Out
            && let Some(c) = &row.correlation_id
        {
            self.by_correlation.insert(c.clone(), ord);
        }
        if let Some(q) = row.quoted_message_id() {
            self.replies.entry(q.into()).or_default().push(ord);
        }
        let change = MessageChange {
            ord,
            new: Some(row.direction),
            first_failure: row.lifecycle.failed.is_some(),
        };
        self.by_key.insert(key, ord);
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
        let kind = (row.direction == Direction::In).then_some(row.kind);
        remove_if(&mut self.by_key, &(kind, row.id.clone()), ord);
        if let Some(m) = &row.message_id {
            remove_if(&mut self.by_message_id, m, ord);
        }
        if let Some(c) = &row.correlation_id {
            remove_if(&mut self.by_correlation, c, ord);
        }
        if let Some(q) = row.quoted_message_id()
            && let Some(list) = self.replies.get_mut(q)
        {
            list.retain(|o| *o != ord);
            if list.is_empty() {
                self.replies.remove(q);
            }
        }
    }
}

fn remove_if<K: std::hash::Hash + Eq>(map: &mut HashMap<K, Ordinal>, key: &K, ord: Ordinal) {
    if map.get(key) == Some(&ord) {
        map.remove(key);
    }
}
