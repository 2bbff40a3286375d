//! A conversation's lines (issue 19): the messages with one contact on one number,
//! replies sent from here that have no row yet (sending, refused), and the calls with
//! that contact, in time order. Built from the conversation's own ordinals (never a
//! scan of the store), and again only when something in it changed: the store's
//! conversation version, or a newer delivery about one of its rows.

use std::hash::{Hash, Hasher};

use chrono::{DateTime, Utc};

use super::clock;
use crate::model::event::MessageExtra;
use crate::model::outbound::ReplyPhase;
use crate::sanitize::line as clean;
use crate::store::conversations::ConversationKey;
use crate::store::conversations::window::{Window, outside_window};
use crate::store::{CallRow, Direction, MessageRow, ReplyState, Status, Store};
use crate::tui::theme::Tone;

/// Entries a thread shows at most (the newest; older ones are in the Messages pane).
const MAX_ITEMS: usize = 1_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    In,
    Out,
    Call,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ThreadItem {
    pub at: Option<DateTime<Utc>>,
    pub time: String,
    pub side: Side,
    /// `↩ what it quotes`.
    pub quote: Option<String>,
    pub text: String,
    pub status: String,
    pub tone: Tone,
}

#[derive(Debug, Clone)]
pub struct Thread {
    pub key: ConversationKey,
    /// The contact: name and phone as its messages give them.
    pub contact: String,
    /// Our number: its name and id.
    pub number: String,
    /// When the contact last opened the 24-hour window, and whether one applies.
    pub opened: Option<DateTime<Utc>>,
    pub meta: bool,
    pub items: Vec<ThreadItem>,
    /// The newest inbound message (ordinal): what `r` answers from here.
    pub answer: Option<u64>,
    /// The conversation is no longer in the store (evicted).
    pub gone: bool,
    /// What it was built from: the store's newest seq, the conversation version, and
    /// a digest of its rows.
    seen: (u64, u64),
    digest: u64,
}

/// Whether the API lists this number as a Meta Cloud API number (else no window).
pub fn is_meta(store: &Store, number: &str) -> bool {
    store
        .provider()
        .number(number)
        .and_then(|n| n.listed.as_ref())
        .is_some_and(|l| l.meta)
}

/// The window of the conversation `row` belongs to: when it was opened, and whether
/// one applies.
pub fn window_of(store: &Store, row: &MessageRow) -> (Option<DateTime<Utc>>, bool) {
    let convs = store.conversations();
    let opened = convs
        .get(&ConversationKey::of(row))
        .and_then(|c| convs.opened(c));
    (opened, is_meta(store, row.number_id()))
}

/// A failed send in words; a closed window said as such.
pub fn failure_words(error: &str, code: Option<&str>) -> String {
    match code {
        Some(c) if outside_window(c) || outside_window(error) => {
            format!("✗ 24-hour window closed ({})", clean(c, 30))
        }
        _ if outside_window(error) => {
            format!("✗ 24-hour window closed ({})", clean(error, 30))
        }
        Some(c) => format!("✗ {} ({})", clean(error, 60), clean(c, 30)),
        None => format!("✗ {}", clean(error, 60)),
    }
}

/// A reply the API refused, in words.
pub fn reply_failure(r: &ReplyState) -> String {
    use crate::api::ApiError;
    match &r.error {
        Some(ApiError::Status {
            code: Some(c),
            error,
            ..
        }) if outside_window(c) => failure_words(error.as_deref().unwrap_or("refused"), Some(c)),
        Some(e) => format!("✗ {}", clean(&e.short(), 60)),
        None => "✗ no answer".into(),
    }
}

impl Thread {
    pub fn build(store: &Store, key: ConversationKey) -> Self {
        let mut t = Self {
            key,
            contact: String::new(),
            number: String::new(),
            opened: None,
            meta: false,
            items: Vec::new(),
            answer: None,
            gone: true,
            seen: (u64::MAX, u64::MAX),
            digest: 0,
        };
        t.refresh(store);
        t
    }

    /// The window now.
    pub fn window(&self, now: DateTime<Utc>) -> Window {
        Window::at(now, self.opened, self.meta)
    }

    /// Build again if anything in it changed since the last build.
    pub fn refresh(&mut self, store: &Store) {
        let convs = store.conversations();
        let seen = (store.last_seq(), convs.version);
        if seen == self.seen {
            return;
        }
        self.seen = seen;
        let digest = digest(store, &self.key);
        if digest == self.digest && !self.items.is_empty() {
            return;
        }
        self.digest = digest;
        self.rebuild(store);
    }

    fn rebuild(&mut self, store: &Store) {
        let convs = store.conversations();
        let Some(c) = convs.get(&self.key) else {
            self.gone = true;
            return;
        };
        self.gone = false;
        self.contact = match &c.name {
            Some(n) => format!("{} {}", clean(n, 40), clean(&c.contact, 30)),
            None => clean(&c.contact, 30),
        };
        // Its name when known (the id is long, and the window must fit at 80 columns).
        self.number = store
            .numbers()
            .get(&self.key.number)
            .and_then(|n| n.display_name.as_deref())
            .map_or_else(|| clean(&self.key.number, 40), |n| clean(n, 30));
        self.opened = convs.opened(c);
        self.meta = is_meta(store, &self.key.number);
        self.answer = None;
        let mut items = Vec::new();
        let first = c.messages.len().saturating_sub(MAX_ITEMS);
        for &ord in c.messages.iter().skip(first) {
            let Some(m) = store.messages().get(ord) else {
                continue;
            };
            items.push(message_item(store, m));
            if m.direction == Direction::In {
                self.answer = Some(ord);
                // Replies sent from here the table has no row of (yet).
                for r in store.replies().to_message(m.kind.name(), m.id()) {
                    let has_row = r
                        .accepted
                        .as_ref()
                        .is_some_and(|a| store.messages().outbound(&a.id).is_some());
                    if !has_row {
                        items.push(reply_item(r, m));
                    }
                }
            }
        }
        let ours = our_phone(store, &self.key.number);
        for &ord in convs.calls_with(&self.key.contact) {
            if let Some(call) = store.calls().row(ord)
                && ours.as_deref().is_none_or(|p| involves(call, p))
            {
                items.push(call_item(call));
            }
        }
        // Earlier messages only the provider's history has.
        items.extend(c.history.iter().map(history_item));
        // Time order; a row without a time keeps its place after the one before it.
        let mut last = None;
        for i in &mut items {
            i.at = i.at.or(last);
            last = i.at;
        }
        items.sort_by_key(|i| i.at);
        let cut = items.len().saturating_sub(MAX_ITEMS);
        items.drain(..cut);
        self.items = items;
    }
}

/// What changes a thread: its rows' newest deliveries, replies' attempts, calls.
fn digest(store: &Store, key: &ConversationKey) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    let convs = store.conversations();
    let Some(c) = convs.get(key) else {
        return 1;
    };
    for &ord in &c.messages {
        ord.hash(&mut h);
        if let Some(m) = store.messages().get(ord) {
            m.seqs.last().hash(&mut h);
            if m.direction == Direction::In {
                for r in store.replies().to_message(m.kind.name(), m.id()) {
                    (r.attempts, r.seqs.len(), r.phase as u8).hash(&mut h);
                }
            }
        }
    }
    (c.history.len(), c.history.last().map(|m| &m.id)).hash(&mut h);
    for &ord in convs.calls_with(&key.contact) {
        ord.hash(&mut h);
        if let Some(call) = store.calls().row(ord) {
            call.seqs.total().hash(&mut h);
        }
    }
    store.provider().version.hash(&mut h);
    h.finish()
}

/// Our number's phone digits, when known (a call names phones, not number ids).
fn our_phone(store: &Store, number: &str) -> Option<String> {
    let phone = store.numbers().get(number)?.phone.as_deref()?;
    Some(phone.chars().filter(char::is_ascii_digit).collect())
}

fn involves(call: &CallRow, ours: &str) -> bool {
    let digits = |p: &Option<crate::model::event::Text>| -> String {
        p.as_deref()
            .unwrap_or("")
            .chars()
            .filter(char::is_ascii_digit)
            .collect()
    };
    digits(&call.from) == ours || digits(&call.to) == ours
}

fn stamp(at: Option<DateTime<Utc>>) -> String {
    at.map(clock).unwrap_or_else(|| "--:--:--".into())
}

/// `[image] caption`, the text, or what the media is.
fn body(m: &MessageRow) -> String {
    let text = m.content().filter(|c| !c.is_empty());
    match (&m.media, m.msg_type) {
        (Some(media), t) => {
            let what = t.map_or_else(
                || clean(media.media_type.as_deref().unwrap_or("media"), 20),
                |t| t.as_str().to_owned(),
            );
            let caption = media
                .caption
                .as_deref()
                .or(text)
                .or(media.filename.as_deref())
                .map(|c| format!(" {}", clean(c, 160)))
                .unwrap_or_default();
            format!("[{what}]{caption}")
        }
        _ => text.map(|c| clean(c, 200)).unwrap_or_default(),
    }
}

fn quote(store: &Store, m: &MessageRow) -> Option<String> {
    if let Some(orig) = store.messages().quoted(m) {
        return Some(format!("↩ {}", clean(&body(orig), 40)));
    }
    if let MessageExtra::Reply {
        content_replied,
        quoted_message_id,
    } = m.extra()
    {
        let what = content_replied.as_deref().or(quoted_message_id.as_deref());
        return Some(format!("↩ {}", clean(what.unwrap_or("?"), 40)));
    }
    // A reply sent from here: the message it answered.
    let r = store.replies().by_accepted_id(m.id())?;
    let to = r.in_reply_to.as_ref()?;
    let ord = store.messages().inbound(&to.event, &to.id)?;
    let orig = store.messages().get(ord)?;
    Some(format!("↩ {}", clean(&body(orig), 40)))
}

fn message_item(store: &Store, m: &MessageRow) -> ThreadItem {
    let (status, tone) = match (m.direction, m.status()) {
        (_, Status::Failed) => {
            let (e, code) = m.error().unwrap_or(("failed", None));
            (failure_words(e, code), Tone::Bad)
        }
        (Direction::In, _) => (String::new(), Tone::Dim),
        (_, Status::Read) => ("✓✓ read".into(), Tone::Info),
        (_, Status::Delivered) => ("✓✓ delivered".into(), Tone::Plain),
        (_, Status::Sent) => ("✓ sent".into(), Tone::Plain),
        (_, Status::Queued) => (
            format!("… {}", clean(m.api_status().unwrap_or("queued"), 20)),
            Tone::Warn,
        ),
        (_, Status::Received) => (String::new(), Tone::Dim),
    };
    ThreadItem {
        at: m.created_at,
        time: stamp(m.created_at),
        side: if m.direction == Direction::In {
            Side::In
        } else {
            Side::Out
        },
        quote: quote(store, m),
        text: body(m),
        status,
        tone,
    }
}

/// A message from the provider's history (no webhook here brought it): marked as such,
/// a redacted one said so.
fn history_item(h: &crate::model::provider::HistoryMessage) -> ThreadItem {
    let text = if h.redacted {
        "[redacted by the number's retention policy]".to_owned()
    } else {
        let kind = h
            .message_type
            .as_deref()
            .filter(|t| !t.eq_ignore_ascii_case("text"))
            .map(|t| format!("[{}] ", clean(&t.to_ascii_lowercase(), 20)))
            .unwrap_or_default();
        format!("{kind}{}", clean(h.text.as_deref().unwrap_or(""), 200))
    };
    let status = match h.status.as_deref() {
        Some(s) if !h.inbound() => format!("history · {}", clean(&s.to_ascii_lowercase(), 20)),
        _ => "history".to_owned(),
    };
    ThreadItem {
        at: h.sent_at,
        time: stamp(h.sent_at),
        side: if h.inbound() { Side::In } else { Side::Out },
        quote: None,
        text,
        status,
        tone: Tone::Dim,
    }
}

/// A reply sent from here to `to` that has no row of its own.
fn reply_item(r: &ReplyState, to: &MessageRow) -> ThreadItem {
    let (status, tone) = match r.phase {
        ReplyPhase::Sending => ("sending…".to_owned(), Tone::Warn),
        ReplyPhase::Accepted => ("… accepted by the API".to_owned(), Tone::Warn),
        ReplyPhase::Failed => (reply_failure(r), Tone::Bad),
    };
    ThreadItem {
        at: Some(r.at),
        time: stamp(Some(r.at)),
        side: Side::Out,
        quote: Some(format!("↩ {}", clean(&body(to), 40))),
        text: clean(&r.request.body.text, 200),
        status,
        tone,
    }
}

/// `→ call completed 2:15`, `← call missed`.
fn call_item(c: &CallRow) -> ThreadItem {
    let user = c.direction.as_deref().is_some_and(|d| {
        d.eq_ignore_ascii_case("INBOUND") || d.eq_ignore_ascii_case("USER_INITIATED")
    });
    let status = clean(&c.status, 20).to_lowercase();
    let duration = c
        .duration
        .map(|s| format!(" {}:{:02}", s / 60, s % 60))
        .unwrap_or_default();
    let at = c.ringing_at.or(c.connected_at).or(c.ended_at);
    let missed = status.contains("miss") || status.contains("reject");
    ThreadItem {
        at,
        time: stamp(at),
        side: Side::Call,
        quote: None,
        text: format!("{} call {status}{duration}", if user { "←" } else { "→" }),
        status: String::new(),
        tone: if missed { Tone::Bad } else { Tone::Accent },
    }
}
