//! The inbox's lines (issue 19): conversations whose last message is inbound and
//! unanswered, oldest wait first, built again only when the store's conversations (or
//! the provider's numbers list, which says which numbers have a window) changed. Ages
//! and windows are worked out when drawn, so they tick with the clock.

use chrono::{DateTime, Utc};

use super::thread::is_meta;
use crate::sanitize::line as clean;
use crate::store::Store;
use crate::store::conversations::ConversationKey;

/// Rows kept: an operator works from the top; the count says how many in all.
const MAX_ROWS: usize = 500;

#[derive(Debug, Clone, PartialEq)]
pub struct InboxLine {
    pub key: ConversationKey,
    /// Name and phone (or the phone alone)…
    pub contact: String,
    /// …and the name alone, when there is one.
    pub name: Option<String>,
    pub number: String,
    /// The newest message's text.
    pub snippet: String,
    pub waiting_since: DateTime<Utc>,
    pub opened: Option<DateTime<Utc>>,
    pub meta: bool,
}

#[derive(Debug, Default)]
pub struct InboxLines {
    pub lines: Vec<InboxLine>,
    /// Waiting in all, and the oldest wait (since, who), kept at every sync.
    pub waiting: usize,
    pub oldest: Option<(DateTime<Utc>, String)>,
    built: Option<(u64, u64)>,
}

impl InboxLines {
    /// The count and the oldest wait (cheap: at every sync, for the overview).
    pub fn note(&mut self, store: &Store) {
        let convs = store.conversations();
        self.waiting = convs.waiting();
        self.oldest = convs.inbox().next().and_then(|c| {
            let who = c.name.as_deref().unwrap_or(&c.contact);
            Some((c.waiting_since?, clean(who, 30)))
        });
    }

    /// The rows, built again if the conversations changed.
    pub fn refresh(&mut self, store: &Store) {
        let stamp = (store.conversations().version, store.provider().version);
        if self.built == Some(stamp) {
            return;
        }
        self.built = Some(stamp);
        let convs = store.conversations();
        self.lines = convs
            .inbox()
            .take(MAX_ROWS)
            .filter_map(|c| {
                let name = c.name.as_deref().map(|n| clean(n, 30));
                let phone = clean(&c.contact, 24);
                let snippet = c
                    .messages
                    .iter()
                    .rev()
                    .find_map(|o| store.messages().get(*o))
                    .map(|m| match (m.content(), &m.media) {
                        (Some(t), _) if !t.is_empty() => clean(t, 120),
                        (_, Some(_)) => format!("[{}]", m.msg_type.map_or("media", |t| t.as_str())),
                        _ => String::new(),
                    })
                    .unwrap_or_default();
                let number = store
                    .numbers()
                    .get(&c.key.number)
                    .and_then(|n| n.display_name.as_deref())
                    .map_or_else(|| clean(&c.key.number, 24), |n| clean(n, 24));
                Some(InboxLine {
                    key: c.key.clone(),
                    contact: match &name {
                        Some(n) => format!("{n} {phone}"),
                        None => phone,
                    },
                    name,
                    number,
                    snippet,
                    waiting_since: c.waiting_since?,
                    opened: convs.opened(c),
                    meta: is_meta(store, &c.key.number),
                })
            })
            .collect();
    }
}
