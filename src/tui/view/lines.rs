//! The display lines of rows: sanitised and cut once, when a row first shows or after
//! it changed — never per frame. Messages, calls and Feed rows are built for the rows
//! about to be drawn and cached by key ([`Lines`]); numbers and call permissions are few
//! and built whole whenever they change.

use std::collections::HashMap;

use chrono::{DateTime, Local, Utc};

use super::provider::{NumberApi, api_only};
use super::{Pane, age, feed_line};
use crate::model::Verdict;
use crate::model::event::{MessageExtra, Text};
use crate::model::outbound::ReplyPhase;
use crate::sanitize::line as clean;
use crate::store::{
    CallRow, Direction, MessageRow, NumberRow, NumberState, Provider, Status, Store,
};

/// Most display lines kept; past it the cache starts over (visible rows rebuild).
const LINE_CACHE: usize = 8192;

#[derive(Debug, Clone, PartialEq)]
pub struct MessageLine {
    pub time: String,
    pub direction: Direction,
    /// The raw id, to look the number's sanitised name up at draw time…
    pub number_id: Text,
    /// …and what to show when it has none.
    pub number_shown: String,
    /// The contact's phone and, when it has one, name…
    pub contact: String,
    /// …and the name alone, for a column too narrow for both.
    pub participant: Option<String>,
    pub msg_type: &'static str,
    /// `↩ quoted text`, `# group`, `» channel`.
    pub context: Option<String>,
    pub text: String,
    pub status: Status,
    pub error_code: Option<String>,
    /// For an inbound message: what became of the reply sent to it from here.
    pub reply: Option<ReplyBadge>,
    /// Sent from here: the status the API's 202 gave (`queued`, or what it said).
    pub api_status: Option<String>,
    /// At `queued` or `sent`: since when (its age is shown, flagged when stuck).
    pub waiting_since: Option<DateTime<Utc>>,
    /// The first step only the provider's API knows, its webhook never having come.
    pub webhook_missing: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyBadge {
    Sending,
    Answered,
    /// The send failed: the short reason, and whether `R` is worth pressing.
    Failed(String, bool),
}

/// What became of a reply: the API's answer, and after a 202 the fate of the message
/// itself (a `message.failed` for it turns "answered" into a failure).
fn reply_badge(r: &crate::store::ReplyState, store: &Store) -> ReplyBadge {
    match r.phase {
        ReplyPhase::Sending => ReplyBadge::Sending,
        ReplyPhase::Failed => {
            let e = r.error.as_ref();
            ReplyBadge::Failed(
                e.map_or_else(|| "error".into(), |e| e.short()),
                e.is_none_or(|e| e.is_retryable()),
            )
        }
        ReplyPhase::Accepted => {
            let row = r
                .accepted
                .as_ref()
                .and_then(|a| store.messages().outbound(&a.id));
            match row.filter(|m| m.status() == Status::Failed) {
                Some(m) => {
                    let code = m.error().map(|(e, c)| clean(c.unwrap_or(e), 24));
                    ReplyBadge::Failed(code.unwrap_or_else(|| "failed".into()), false)
                }
                None => ReplyBadge::Answered,
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CallLine {
    pub direction: String,
    pub from: String,
    pub to: String,
    pub phase: crate::store::CallPhase,
    pub status: String,
    pub started: Option<DateTime<Utc>>,
    pub connected: Option<DateTime<Utc>>,
    pub duration: Option<i64>,
    /// When it was last heard of: past a bound, a call not ended has no end received.
    pub last_heard: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FeedLine {
    pub time: String,
    pub seq: u64,
    pub event: String,
    pub verdict: Verdict,
    pub duplicate_of: Option<u64>,
    pub signature: &'static str,
    /// A message event's number: the raw id, to show the number's name at draw time
    /// (it may become known after the line was built)…
    pub number_id: Option<Text>,
    /// …and what to show while it has none.
    pub number_shown: String,
    /// The rest of the summary (after the number, when there is one).
    pub summary: String,
    /// What the app said to the latest forward of it: `(text, ok)`.
    pub forward: Option<(String, bool)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NumberLine {
    /// As received: what `Enter` filters the Messages pane by.
    pub raw_id: Text,
    pub number_id: String,
    pub name: String,
    pub phone: String,
    pub state: NumberState,
    pub health: Option<(String, Option<String>)>,
    pub error: Option<String>,
    pub changed_at: DateTime<Utc>,
    pub messages_in: u64,
    pub messages_out: u64,
    pub failures: u64,
    /// What the provider's API says of it, once it was asked.
    pub api: Option<NumberApi>,
    /// Known from the API alone (no webhook has named it yet).
    pub api_only: bool,
}

impl NumberLine {
    /// Whether its last health word is a good one (no word yet: it is not unhealthy).
    pub fn healthy(&self) -> bool {
        self.health.as_ref().is_none_or(|(name, _)| {
            matches!(name.as_str(), "ok" | "healthy" | "restored" | "recovered")
        })
    }

    /// What a panel short of room calls it: its name without the profile part, or,
    /// before any name is known, its phone, or its id.
    pub fn label(&self) -> &str {
        match self.name.split(" (").next().unwrap_or_default() {
            "-" if self.phone != "-" && !self.phone.is_empty() => &self.phone,
            "-" => &self.number_id,
            name => name,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PermissionLine {
    pub status: String,
    pub from: String,
    pub to: String,
    pub at: Option<DateTime<Utc>>,
}

/// The display lines of the Messages, Calls and Feed rows drawn lately, by key: built
/// when a row is about to be drawn, dropped when it changes or leaves.
#[derive(Debug, Default)]
pub(super) struct Lines {
    messages: HashMap<u64, MessageLine>,
    calls: HashMap<u64, CallLine>,
    feed: HashMap<u64, FeedLine>,
    /// The store's forward-results version the feed lines were built at.
    forward_version: u64,
}

impl Lines {
    /// Answers from the app change what some feed rows say: those lines start over.
    pub(super) fn note_forwards(&mut self, store: &Store) {
        if store.forwards().version != self.forward_version {
            self.forward_version = store.forwards().version;
            self.feed.clear();
        }
    }

    /// A row changed or left: its line is built again if it shows.
    pub(super) fn forget(&mut self, pane: Pane, key: u64) {
        match pane {
            Pane::Messages => {
                self.messages.remove(&key);
            }
            Pane::Calls => {
                self.calls.remove(&key);
            }
            Pane::Feed => {
                self.feed.remove(&key);
            }
            Pane::Numbers => {}
        }
    }

    pub(super) fn clear(&mut self) {
        self.messages.clear();
        self.calls.clear();
        self.feed.clear();
    }

    /// Build the display lines of the rows about to be drawn, if not built yet.
    pub(super) fn prepare(&mut self, store: &Store, pane: Pane, rows: impl Iterator<Item = u64>) {
        let full = |n: usize| n > LINE_CACHE;
        match pane {
            Pane::Messages => {
                if full(self.messages.len()) {
                    self.messages.clear();
                }
                for o in rows {
                    if let (std::collections::hash_map::Entry::Vacant(e), Some(m)) =
                        (self.messages.entry(o), store.messages().get(o))
                    {
                        e.insert(message_line(m, store));
                    }
                }
            }
            Pane::Calls => {
                if full(self.calls.len()) {
                    self.calls.clear();
                }
                for o in rows {
                    if let (std::collections::hash_map::Entry::Vacant(e), Some(c)) =
                        (self.calls.entry(o), store.calls().row(o))
                    {
                        e.insert(call_line(c, store));
                    }
                }
            }
            Pane::Feed => {
                if full(self.feed.len()) {
                    self.feed.clear();
                }
                for s in rows {
                    if let (std::collections::hash_map::Entry::Vacant(e), Some(r)) =
                        (self.feed.entry(s), store.record(s))
                    {
                        e.insert(feed_line::feed_line(r, store));
                    }
                }
            }
            Pane::Numbers => {}
        }
    }

    pub(super) fn message(&self, ord: u64) -> Option<&MessageLine> {
        self.messages.get(&ord)
    }

    pub(super) fn call(&self, ord: u64) -> Option<&CallLine> {
        self.calls.get(&ord)
    }

    pub(super) fn feed(&self, seq: u64) -> Option<&FeedLine> {
        self.feed.get(&seq)
    }
}

pub fn clock(t: DateTime<Utc>) -> String {
    t.with_timezone(&Local).format("%H:%M:%S").to_string()
}

fn message_line(m: &MessageRow, store: &Store) -> MessageLine {
    let contact_raw = match m.direction {
        Direction::In => m.from().unwrap_or("?"),
        Direction::Out => m.to(),
    };
    let mut contact = clean(contact_raw, 20);
    let participant = m.participant_name().map(|n| clean(n, 20));
    if let Some(name) = &participant {
        contact = format!("{contact} {name}");
    }
    let context = match &m.extra() {
        MessageExtra::Reply {
            content_replied,
            quoted_message_id,
        } => Some(format!(
            "↩ {}",
            clean(
                content_replied
                    .as_deref()
                    .or(quoted_message_id.as_deref())
                    .unwrap_or("?"),
                30
            )
        )),
        MessageExtra::Group {
            group_name,
            group_id,
        } => Some(format!(
            "# {}",
            clean(
                group_name
                    .as_deref()
                    .or(group_id.as_deref())
                    .unwrap_or("group"),
                24
            )
        )),
        MessageExtra::Newsletter {
            newsletter_name,
            newsletter_id,
        } => Some(format!(
            "» {}",
            clean(
                newsletter_name
                    .as_deref()
                    .or(newsletter_id.as_deref())
                    .unwrap_or("channel"),
                24
            )
        )),
        _ => None,
    };
    let text = match (&m.content(), &m.media) {
        (Some(c), _) if !c.is_empty() => clean(c, 160),
        (_, Some(media)) => format!(
            "[{}]",
            clean(
                media
                    .filename
                    .as_deref()
                    .or(media.media_type.as_deref())
                    .unwrap_or("media"),
                40
            )
        ),
        _ => String::new(),
    };
    MessageLine {
        time: m.created_at.map(clock).unwrap_or_else(|| "--:--:--".into()),
        direction: m.direction,
        number_id: m.number_id().into(),
        number_shown: clean(m.number_id(), 24),
        contact,
        participant,
        msg_type: m.msg_type.map_or("", |t| t.as_str()),
        context,
        text,
        status: m.status(),
        error_code: m.error().map(|(e, code)| clean(code.unwrap_or(e), 28)),
        reply: store
            .replies()
            .latest_to(m.kind.name(), m.id())
            .map(|r| reply_badge(r, store)),
        api_status: m.api_status().map(|s| clean(&s.to_lowercase(), 16)),
        waiting_since: age::waiting_since(m, store),
        webhook_missing: m.webhook_missing(),
    }
}

fn call_line(c: &CallRow, store: &Store) -> CallLine {
    let dir = match c.direction.as_deref() {
        Some("INBOUND") => "in".to_owned(),
        Some("OUTBOUND") => "out".to_owned(),
        Some(other) => clean(other, 8),
        None => "?".into(),
    };
    CallLine {
        direction: dir,
        from: clean(c.from.as_deref().unwrap_or("?"), 18),
        to: clean(c.to.as_deref().unwrap_or("?"), 18),
        phase: c.phase,
        // Lowercased once here, not at every frame.
        status: clean(&c.status.to_lowercase(), 16),
        started: c.ringing_at.or(c.connected_at),
        connected: c.connected_at,
        duration: c.duration,
        last_heard: age::last_heard(c, store),
    }
}

/// The newest call-permission updates (they carry no call id): the three shown.
pub(super) fn permission_lines(store: &Store) -> Vec<PermissionLine> {
    store
        .calls()
        .permissions()
        .take(3)
        .map(|p| PermissionLine {
            status: clean(&p.status, 20),
            from: clean(p.from.as_deref().unwrap_or("?"), 16),
            to: clean(p.to.as_deref().unwrap_or("?"), 16),
            at: p.at,
        })
        .collect()
}

/// A number's sanitised name for the Messages and Feed panes: its display name, else
/// its profile name, its phone, its id.
pub(super) fn number_name(n: &NumberRow) -> String {
    let name = n
        .display_name
        .as_deref()
        .or(n.profile_name.as_deref())
        .or(n.phone.as_deref())
        .unwrap_or(&n.number_id);
    clean(name, 24)
}

pub(super) fn number_line(n: &NumberRow, provider: &Provider) -> NumberLine {
    NumberLine {
        raw_id: n.number_id.clone(),
        // Whole: a cut id cannot be copied (the provider's are 25 characters).
        number_id: clean(&n.number_id, 40),
        name: clean(
            n.display_name
                .as_deref()
                .or(n.profile_name.as_deref())
                .unwrap_or("-"),
            24,
        ) + &n
            .profile_name
            .as_deref()
            .filter(|p| Some(*p) != n.display_name.as_deref())
            .map(|p| format!(" ({})", clean(p, 20)))
            .unwrap_or_default(),
        phone: clean(n.phone.as_deref().unwrap_or("-"), 20),
        state: n.state,
        health: n.health.as_ref().map(|h| {
            (
                clean(&h.name, 16),
                h.error_code
                    .as_deref()
                    .or(h.error.as_deref())
                    .map(|e| clean(e, 40)),
            )
        }),
        error: n
            .error
            .as_ref()
            .map(|(e, c)| clean(c.as_deref().unwrap_or(e), 40)),
        changed_at: n.changed_at,
        messages_in: n.messages_in,
        messages_out: n.messages_out,
        failures: n.failures,
        api: provider.number(&n.number_id).and_then(NumberApi::of),
        api_only: api_only(n, provider),
    }
}
