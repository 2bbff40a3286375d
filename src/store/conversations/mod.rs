//! Conversations: the messages with one contact on one number, kept as an index into the
//! message table (ordinals, in arrival order) as records are applied, so a thread opens
//! without scanning the store. Beside it, who is waiting for an answer (the inbox,
//! oldest wait first) and when each contact last opened WhatsApp's 24-hour window
//! ([`window`]): an inbound message, or a call the contact started.

pub mod window;

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use smallvec::SmallVec;

use crate::model::event::MessageExtra;
use crate::model::provider::HistoryMessage;
use crate::store::HashMap;
use crate::store::calls::CallRow;
use crate::store::messages::{Direction, MessageRow, Messages, Ordinal};

/// Messages remembered per conversation (older ones are still in the table and journal).
const PER_CONVERSATION: usize = 1_000;

/// A contact as a key: the digits of a phone number (`+55 11 9…` and `5511 9…` alike), or
/// a group or newsletter id as it is.
pub fn contact_key(s: &str) -> Arc<str> {
    if s.contains('@') || !s.chars().any(|c| c.is_ascii_digit()) {
        return s.trim().into();
    }
    // Gathered on the stack: the key is the one allocation (this runs for every message).
    let digits: SmallVec<[u8; 32]> = s.bytes().filter(u8::is_ascii_digit).collect();
    String::from_utf8_lossy(&digits).into()
}

#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct ConversationKey {
    // Shared, not owned: a key is held by its conversation, the activity order and the
    // inbox, and cloning it for each must not allocate on every message.
    pub number: Arc<str>,
    pub contact: Arc<str>,
}

impl ConversationKey {
    /// The conversation a message belongs to: its number and the other side, which for
    /// a message in a group or a channel is the group or the channel, not the member
    /// who wrote it (their direct thread is another conversation).
    pub fn of(row: &MessageRow) -> Self {
        let other = match (row.extra(), row.direction) {
            (
                MessageExtra::Group {
                    group_id: Some(g), ..
                },
                _,
            ) => &**g,
            (
                MessageExtra::Newsletter {
                    newsletter_id: Some(n),
                    ..
                },
                _,
            ) => &**n,
            (_, Direction::In) => row.from().unwrap_or(row.to()),
            (_, Direction::Out) => row.to(),
        };
        Self {
            // Few numbers, many messages: shared rather than copied for each.
            number: crate::record::intern(row.number_id()),
            contact: contact_key(other),
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Conversation {
    pub key: ConversationKey,
    /// The contact as written in its newest message, and its name when known.
    pub contact: Box<str>,
    pub name: Option<Box<str>>,
    /// Message ordinals, oldest first.
    pub messages: VecDeque<Ordinal>,
    pub last_at: DateTime<Utc>,
    pub last_inbound: Option<DateTime<Utc>>,
    /// The oldest inbound message not answered yet.
    pub waiting_since: Option<DateTime<Utc>>,
    /// Earlier messages from the provider's history (`GET /v1/messages/history`) that no
    /// webhook here brought, oldest first.
    #[serde(with = "crate::serial::as_json")]
    pub history: Vec<HistoryMessage>,
}

#[derive(Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Conversations {
    by_key: HashMap<ConversationKey, Conversation>,
    /// Waiting conversations, oldest wait first.
    inbox: BTreeSet<(DateTime<Utc>, ConversationKey)>,
    /// Least recently active first: what goes when there are too many.
    order: BTreeSet<(DateTime<Utc>, ConversationKey)>,
    /// Call ordinals by contact, and the last call each contact started.
    calls: HashMap<Arc<str>, SmallVec<[u64; 2]>>,
    user_calls: HashMap<Arc<str>, DateTime<Utc>>,
    /// Per number: the history pages read so far, and how many there are.
    history_pages: HashMap<Box<str>, (u32, u32)>,
    pub version: u64,
}

impl Conversations {
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    pub fn get(&self, key: &ConversationKey) -> Option<&Conversation> {
        self.by_key.get(key)
    }

    /// Conversations whose last message is inbound and unanswered, oldest wait first.
    pub fn inbox(&self) -> impl Iterator<Item = &Conversation> {
        self.inbox.iter().filter_map(|(_, k)| self.by_key.get(k))
    }

    pub fn waiting(&self) -> usize {
        self.inbox.len()
    }

    /// Calls with this contact (ordinals in the call table), oldest first.
    pub fn calls_with(&self, contact: &str) -> &[u64] {
        self.calls.get(contact).map_or(&[], |c| c.as_slice())
    }

    /// When the contact last opened the 24-hour window: its last inbound message, or
    /// the last call it started.
    pub fn opened(&self, c: &Conversation) -> Option<DateTime<Utc>> {
        let call = self.user_calls.get(&*c.key.contact).copied();
        c.last_inbound.max(call)
    }

    /// A new message row (a webhook's, or a reply sent from here).
    pub(crate) fn message(
        &mut self,
        ord: Ordinal,
        row: &MessageRow,
        at: DateTime<Utc>,
        cap: usize,
    ) {
        let key = ConversationKey::of(row);
        if key.contact.is_empty() {
            return;
        }
        let contact = match row.direction {
            Direction::In => row.from().unwrap_or(row.to()),
            Direction::Out => row.to(),
        };
        let c = self
            .by_key
            .entry(key.clone())
            .or_insert_with(|| Conversation {
                key: key.clone(),
                contact: contact.into(),
                name: None,
                messages: VecDeque::new(),
                last_at: at,
                last_inbound: None,
                waiting_since: None,
                history: Vec::new(),
            });
        self.order.remove(&(c.last_at, key.clone()));
        c.last_at = c.last_at.max(at);
        self.order.insert((c.last_at, key.clone()));
        c.messages.push_back(ord);
        // The webhook's row wins over the same message from the history.
        let wamid = row.message_id();
        c.history.retain(|h| {
            h.id != row.id() && (wamid.is_none() || h.external_message_id.as_deref() != wamid)
        });
        if c.messages.len() > PER_CONVERSATION {
            c.messages.pop_front();
        }
        match row.direction {
            Direction::In => {
                c.last_inbound = c.last_inbound.max(Some(at));
                // A group goes by its name (not its last writer's); a channel is read,
                // not answered: it never waits in the inbox.
                let (name, answered) = match row.extra() {
                    MessageExtra::Group { group_name, .. } => (group_name.as_deref(), true),
                    MessageExtra::Newsletter {
                        newsletter_name, ..
                    } => (newsletter_name.as_deref(), false),
                    _ => (row.participant_name(), true),
                };
                if let Some(name) = name {
                    let name = crate::sanitize::line_cow(name, 60);
                    if c.name.as_deref() != Some(&*name) {
                        c.name = Some(name.into());
                    }
                }
                if answered && c.waiting_since.is_none() {
                    c.waiting_since = Some(at);
                    self.inbox.insert((at, key));
                }
            }
            Direction::Out => {
                // Answered: out of the inbox (our messages never reopen the window). A
                // late webhook of an older message of ours answers nothing newer.
                if let Some(since) = c.waiting_since
                    && at >= since
                {
                    c.waiting_since = None;
                    self.inbox.remove(&(since, key));
                }
            }
        }
        self.version += 1;
        self.evict(cap.max(1));
    }

    /// A call row (new or changed): indexed by contact; a call the contact started
    /// reopens the window.
    pub(crate) fn call(&mut self, ord: u64, row: &CallRow) {
        let user = row.direction.as_deref().is_some_and(|d| {
            d.eq_ignore_ascii_case("INBOUND") || d.eq_ignore_ascii_case("USER_INITIATED")
        });
        let other = if user { &row.from } else { &row.to };
        let Some(contact) = other.as_deref().map(contact_key) else {
            return;
        };
        let list = self.calls.entry(contact.clone()).or_default();
        if !list.contains(&ord) {
            list.push(ord);
            if list.len() > PER_CONVERSATION {
                list.remove(0);
            }
        }
        if user && let Some(at) = row.ringing_at.or(row.connected_at) {
            let e = self.user_calls.entry(contact).or_insert(at);
            *e = (*e).max(at);
        }
        self.version += 1;
    }

    /// The history pages of a number read so far (the newest page is 1), and the total.
    pub fn history_pages(&self, number: &str) -> Option<(u32, u32)> {
        self.history_pages.get(number).copied()
    }

    /// A page of the provider's history: each message not already here (by its id or
    /// WhatsApp id, from a webhook or an earlier page) joins its contact's thread.
    pub(crate) fn history(
        &mut self,
        number: &str,
        page: u32,
        total: u32,
        list: &[HistoryMessage],
        messages: &Messages,
        cap: usize,
    ) {
        let e = self
            .history_pages
            .entry(number.into())
            .or_insert((0, total));
        *e = (e.0.max(page), total);
        for m in list {
            let Some(phone) = m.participant_phone.as_deref().filter(|p| !p.is_empty()) else {
                continue;
            };
            let known = messages.outbound(&m.id).is_some()
                || m.external_message_id
                    .as_deref()
                    .is_some_and(|w| messages.by_message_id(w).is_some());
            if known {
                continue;
            }
            let key = ConversationKey {
                number: number.into(),
                contact: contact_key(phone),
            };
            let at = m.sent_at.unwrap_or_else(Utc::now);
            let c = self
                .by_key
                .entry(key.clone())
                .or_insert_with(|| Conversation {
                    key: key.clone(),
                    contact: crate::sanitize::line(phone, 40).into(),
                    name: None,
                    messages: VecDeque::new(),
                    last_at: at,
                    last_inbound: None,
                    waiting_since: None,
                    history: Vec::new(),
                });
            if c.history.iter().any(|h| h.id == m.id) {
                continue;
            }
            if c.name.is_none() {
                c.name = m
                    .participant_name
                    .as_deref()
                    .map(|n| crate::sanitize::line(n, 60).into());
            }
            if m.inbound() {
                c.last_inbound = c.last_inbound.max(m.sent_at);
            }
            let mut m = m.clone();
            m.text = m.text.map(|t| crate::sanitize::line(&t, 2000));
            let i = c.history.partition_point(|h| h.sent_at <= m.sent_at);
            c.history.insert(i, m);
            if c.history.len() > PER_CONVERSATION {
                c.history.remove(0);
            }
            if !self.order.contains(&(c.last_at, key.clone())) {
                self.order.insert((c.last_at, key));
            }
        }
        self.version += 1;
        self.evict(cap.max(1));
    }

    /// Share each key again between the map, the activity order and the inbox: read
    /// back from a snapshot, every copy is an allocation of its own.
    pub(crate) fn share_keys(&mut self) {
        for (key, c) in &mut self.by_key {
            c.key = key.clone();
        }
        let by_key = &self.by_key;
        let share = |(at, key): (DateTime<Utc>, ConversationKey)| {
            let shared = by_key.get_key_value(&key).map(|(k, _)| k.clone());
            (at, shared.unwrap_or(key))
        };
        self.order = std::mem::take(&mut self.order)
            .into_iter()
            .map(share)
            .collect();
        self.inbox = std::mem::take(&mut self.inbox)
            .into_iter()
            .map(share)
            .collect();
    }

    fn evict(&mut self, cap: usize) {
        while self.by_key.len() > cap {
            let Some((_, key)) = self.order.pop_first() else {
                return;
            };
            if let Some(c) = self.by_key.remove(&key)
                && let Some(since) = c.waiting_since
            {
                self.inbox.remove(&(since, key));
            }
        }
    }
}

#[cfg(test)]
mod tests;
