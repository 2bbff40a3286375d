//! What the panes show, derived from the store: the filtered row lists, kept up to date
//! incrementally from the records since the last sync (each record names the row it
//! changed), and the sanitised display lines of rows, built when a row first shows or
//! changes — never per frame.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use chrono::{DateTime, Local, Utc};

use super::filter::Filter;
use crate::model::Verdict;
use crate::model::event::{MessageExtra, Text};
use crate::model::outbound::Phase;
use crate::record::Subject;
use crate::sanitize::line as clean;
use crate::store::{CallRow, Direction, MessageRow, NumberRow, NumberState, Status, Store};

pub mod age;
mod feed_line;

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
        Phase::Sending => ReplyBadge::Sending,
        Phase::Failed => {
            let e = r.error.as_ref();
            ReplyBadge::Failed(
                e.map_or_else(|| "error".into(), |e| e.short()),
                e.is_none_or(|e| e.is_retryable()),
            )
        }
        Phase::Accepted => {
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
    pub phase: crate::store::Phase,
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
}

#[derive(Debug, Clone, PartialEq)]
pub struct PermissionLine {
    pub status: String,
    pub from: String,
    pub to: String,
    pub at: Option<DateTime<Utc>>,
}

#[derive(Debug, Default)]
pub struct Views {
    /// The newest call-permission updates (they carry no call id).
    pub permissions: Vec<PermissionLine>,
    /// The newest seq folded in (0: nothing yet).
    cursor: u64,
    /// Matching rows, oldest first (panes show them newest first).
    pub messages: VecDeque<u64>,
    pub calls: VecDeque<u64>,
    /// `calls` as shown: in progress first, then the rest, newest first in each.
    calls_order: Vec<u64>,
    pub feed: VecDeque<u64>,
    pub numbers: Vec<NumberLine>,
    /// Sanitised display names by numberId, for the Messages pane.
    pub number_names: HashMap<Text, String>,
    message_lines: HashMap<u64, MessageLine>,
    call_lines: HashMap<u64, CallLine>,
    feed_lines: HashMap<u64, FeedLine>,
    /// The store's forward-results version the feed lines were built at.
    forward_version: u64,
    /// Filter passes still walking older rows, by pane (see [`Scan`]).
    scans: [Option<Scan>; 4],
    /// The clock the calls were ordered by, whether a file is shown (nothing is live
    /// there), and when the next live call goes stale (it then leaves the live group).
    now: DateTime<Utc>,
    in_file: bool,
    calls_expire: Option<DateTime<Utc>>,
}

/// A filter pass not finished yet: rows keyed below `next` are still to be judged.
/// A new filter is applied newest first, a time-boxed slice per frame, so a keystroke
/// over a million rows shows its newest matches at once (the rows a pane shows first)
/// and the rest within a few frames, instead of freezing the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Scan {
    next: u64,
    /// One past the newest key when the pass began (for its progress).
    end: u64,
}

/// Rows judged between two looks at the clock.
const SCAN_BATCH: u64 = 2048;

/// Take `(key, matches)` pairs, newest first, until they run out (true) or `deadline`
/// passes (false). Matches are older than every key listed, so they go on the front and
/// `list` stays sorted; `next` ends at the oldest key judged.
fn judge(
    mut judged: impl Iterator<Item = (u64, bool)>,
    next: &mut u64,
    list: &mut VecDeque<u64>,
    deadline: Instant,
) -> bool {
    let mut count = 0u64;
    loop {
        // The clock before the next pair: a pair taken is a row judged.
        if count % SCAN_BATCH == SCAN_BATCH - 1 && Instant::now() >= deadline {
            return false;
        }
        let Some((key, keep)) = judged.next() else {
            return true;
        };
        *next = key;
        count += 1;
        if keep {
            list.push_front(key);
        }
    }
}

impl Views {
    /// Fold in what changed since the last sync: only the rows the new records touched.
    pub fn sync(&mut self, store: &Store, filter: &Filter) {
        if store.forwards().version != self.forward_version {
            // Answers from the app changed what some feed rows say.
            self.forward_version = store.forwards().version;
            self.feed_lines.clear();
        }
        if store.last_seq() == self.cursor {
            return;
        }
        let gap = store.feed().next().is_some_and(|r| r.seq > self.cursor + 1);
        if self.cursor == 0 || gap {
            self.rebuild(store, filter);
            return;
        }
        let (mut touched_messages, mut touched_calls, mut numbers, mut permissions) =
            (Vec::new(), Vec::new(), false, false);
        for r in store.since(self.cursor) {
            match r.subject {
                Subject::Message(o) => {
                    touched_messages.push(o);
                    numbers = true;
                }
                Subject::Call(o) => touched_calls.push(o),
                Subject::Number => numbers = true,
                Subject::Permission => permissions = true,
                Subject::Reply { answered, sent } => {
                    touched_messages.extend(answered.into_iter().chain(sent));
                    numbers = true;
                }
                Subject::None => {}
            }
            if filter.record(r, store) {
                self.feed.push_back(r.seq);
            }
        }
        self.cursor = store.last_seq();
        touched_messages.sort_unstable();
        touched_messages.dedup();
        let unscanned = |scan: Option<Scan>, o: u64| scan.is_some_and(|s| o < s.next);
        for o in touched_messages {
            self.message_lines.remove(&o);
            if unscanned(self.scans[Pane::Messages.index()], o) {
                continue; // the pass will judge it when it gets there
            }
            let keep = store
                .messages()
                .get(o)
                .is_some_and(|m| filter.message(m, store.numbers()));
            update_sorted(&mut self.messages, o, keep);
        }
        touched_calls.sort_unstable();
        touched_calls.dedup();
        let calls_changed = !touched_calls.is_empty();
        for o in touched_calls {
            self.call_lines.remove(&o);
            if unscanned(self.scans[Pane::Calls.index()], o) {
                continue;
            }
            let keep = store
                .calls()
                .row(o)
                .is_some_and(|c| filter.call(c, store.numbers()));
            update_sorted(&mut self.calls, o, keep);
        }
        if numbers {
            self.rebuild_numbers(store, filter);
        }
        self.drop_evicted(store);
        if calls_changed {
            self.order_calls(store);
        }
        if permissions {
            self.permission_lines(store);
        }
    }

    /// Start over: a new filter, or the store moved on past what we had. The lists
    /// start empty and fill newest first as [`Views::advance`] runs.
    pub fn rebuild(&mut self, store: &Store, filter: &Filter) {
        self.messages.clear();
        self.calls.clear();
        self.calls_order.clear();
        self.feed.clear();
        let scan = |end: u64| Some(Scan { next: end, end });
        self.scans = [
            scan(store.messages().range().end),
            None,
            scan(store.calls().range().end),
            scan(store.last_seq() + 1),
        ];
        self.permission_lines(store);
        self.rebuild_numbers(store, filter);
        self.cursor = store.last_seq();
        self.message_lines.clear();
        self.call_lines.clear();
        self.feed_lines.clear();
    }

    /// Carry unfinished filter passes on for about `budget`, `first`'s pane first.
    /// Returns whether any pass is still unfinished (the caller draws again soon).
    pub fn advance(
        &mut self,
        store: &Store,
        filter: &Filter,
        first: Pane,
        budget: Duration,
    ) -> bool {
        let deadline = Instant::now() + budget;
        for pane in std::iter::once(first).chain(Pane::ALL) {
            if !self.scan(store, filter, pane, deadline) {
                return true;
            }
        }
        false
    }

    /// How far the filter pass over `pane` is, while it runs: `(judged, total)` rows.
    pub fn scanning(&self, pane: Pane, store: &Store) -> Option<(u64, u64)> {
        let s = self.scans[pane.index()]?;
        let start = match pane {
            Pane::Messages => store.messages().range().start,
            Pane::Calls => store.calls().range().start,
            _ => store.feed().next().map_or(s.end, |r| r.seq),
        };
        Some((s.end - s.next, s.end.saturating_sub(start)))
    }

    /// One pane's pass until done (true) or `deadline` (false). Matches are older than
    /// every row listed, so they go on the front and the list stays sorted.
    fn scan(&mut self, store: &Store, filter: &Filter, pane: Pane, deadline: Instant) -> bool {
        let Some(Scan { mut next, end }) = self.scans[pane.index()] else {
            return true;
        };
        let finished = match pane {
            Pane::Messages => {
                let (rows, numbers) = (store.messages(), store.numbers());
                let keys = (rows.range().start..next).rev();
                let judged =
                    keys.map(|o| (o, rows.get(o).is_some_and(|m| filter.message(m, numbers))));
                judge(judged, &mut next, &mut self.messages, deadline)
            }
            Pane::Calls => {
                let rows = store.calls();
                let keys = (rows.range().start..next).rev();
                let numbers = store.numbers();
                let judged =
                    keys.map(|o| (o, rows.row(o).is_some_and(|c| filter.call(c, numbers))));
                let done = judge(judged, &mut next, &mut self.calls, deadline);
                self.order_calls(store);
                done
            }
            Pane::Feed => {
                let judged = store
                    .before(next)
                    .rev()
                    .map(|r| (r.seq, filter.record(r, store)));
                judge(judged, &mut next, &mut self.feed, deadline)
            }
            Pane::Numbers => true,
        };
        self.scans[pane.index()] = (!finished).then_some(Scan { next, end });
        finished
    }

    fn permission_lines(&mut self, store: &Store) {
        self.permissions = store
            .calls()
            .permissions()
            .take(3)
            .map(|p| PermissionLine {
                status: clean(&p.status, 20),
                from: clean(p.from.as_deref().unwrap_or("?"), 16),
                to: clean(p.to.as_deref().unwrap_or("?"), 16),
                at: p.at,
            })
            .collect();
    }

    /// The clock staleness is judged by (before each sync). Calls are ordered again only
    /// when a live one has gone stale since, or the dashboard turned out to show a file.
    pub fn set_clock(&mut self, store: &Store, now: DateTime<Utc>, in_file: bool) {
        let reorder = in_file != self.in_file || self.calls_expire.is_some_and(|e| now > e);
        (self.now, self.in_file) = (now, in_file);
        if reorder {
            self.order_calls(store);
        }
    }

    /// Calls in progress first, then the rest (see [`age::order_calls`]).
    fn order_calls(&mut self, store: &Store) {
        let newest_first = self.calls.iter().rev().copied();
        (self.calls_order, self.calls_expire) =
            age::order_calls(newest_first, store, self.now, self.in_file);
    }

    fn rebuild_numbers(&mut self, store: &Store, filter: &Filter) {
        self.number_names.clear();
        for n in store.numbers().iter() {
            let name = n
                .display_name
                .as_deref()
                .or(n.profile_name.as_deref())
                .or(n.phone.as_deref())
                .unwrap_or(&n.number_id);
            self.number_names
                .insert(n.number_id.clone(), clean(name, 24));
        }
        self.numbers = store
            .numbers()
            .iter()
            .filter(|n| filter.number(n))
            .map(number_line)
            .collect();
    }

    fn drop_evicted(&mut self, store: &Store) {
        let first = store.messages().range().start;
        while self.messages.front().is_some_and(|o| *o < first) {
            self.message_lines
                .remove(&self.messages.pop_front().unwrap_or_default());
        }
        let first = store.calls().range().start;
        while self.calls.front().is_some_and(|o| *o < first) {
            self.call_lines
                .remove(&self.calls.pop_front().unwrap_or_default());
            self.calls_order.retain(|o| *o >= first);
        }
        let first = store.feed().next().map_or(u64::MAX, |r| r.seq);
        while self.feed.front().is_some_and(|s| *s < first) {
            self.feed_lines
                .remove(&self.feed.pop_front().unwrap_or_default());
        }
    }

    /// Build the display lines of the rows about to be drawn, if not built yet.
    pub fn prepare(&mut self, store: &Store, pane: Pane, rows: impl Iterator<Item = u64>) {
        let full = |n: usize| n > LINE_CACHE;
        match pane {
            Pane::Messages => {
                if full(self.message_lines.len()) {
                    self.message_lines.clear();
                }
                for o in rows {
                    if let (std::collections::hash_map::Entry::Vacant(e), Some(m)) =
                        (self.message_lines.entry(o), store.messages().get(o))
                    {
                        e.insert(message_line(m, store));
                    }
                }
            }
            Pane::Calls => {
                if full(self.call_lines.len()) {
                    self.call_lines.clear();
                }
                for o in rows {
                    if let (std::collections::hash_map::Entry::Vacant(e), Some(c)) =
                        (self.call_lines.entry(o), store.calls().row(o))
                    {
                        e.insert(call_line(c, store));
                    }
                }
            }
            Pane::Feed => {
                if full(self.feed_lines.len()) {
                    self.feed_lines.clear();
                }
                for s in rows {
                    if let (std::collections::hash_map::Entry::Vacant(e), Some(r)) =
                        (self.feed_lines.entry(s), store.record(s))
                    {
                        e.insert(feed_line::feed_line(r, store));
                    }
                }
            }
            Pane::Numbers => {}
        }
    }

    pub fn message_line(&self, ord: u64) -> Option<&MessageLine> {
        self.message_lines.get(&ord)
    }

    pub fn call_line(&self, ord: u64) -> Option<&CallLine> {
        self.call_lines.get(&ord)
    }

    pub fn feed_line(&self, seq: u64) -> Option<&FeedLine> {
        self.feed_lines.get(&seq)
    }

    /// The keys of a pane's rows, oldest first.
    pub fn keys(&self, pane: Pane) -> Keys<'_> {
        match pane {
            Pane::Messages => Keys::List(&self.messages),
            Pane::Calls => Keys::List(&self.calls),
            Pane::Feed => Keys::List(&self.feed),
            Pane::Numbers => Keys::Count(self.numbers.len()),
        }
    }

    pub fn len(&self, pane: Pane) -> usize {
        match self.keys(pane) {
            Keys::List(l) => l.len(),
            Keys::Count(n) => n,
        }
    }

    /// Where the row with this key is now, counted from the newest.
    pub fn index_of(&self, pane: Pane, key: u64) -> Option<usize> {
        match pane {
            Pane::Calls => self.calls_order.iter().position(|k| *k == key),
            Pane::Numbers => ((key as usize) < self.numbers.len()).then_some(key as usize),
            Pane::Messages | Pane::Feed => {
                let list = if pane == Pane::Messages {
                    &self.messages
                } else {
                    &self.feed
                };
                list.binary_search(&key).ok().map(|i| list.len() - 1 - i)
            }
        }
    }

    /// The key of the row `index` places from the newest (Numbers: in listed order).
    pub fn key_at(&self, pane: Pane, index: usize) -> Option<u64> {
        if pane == Pane::Calls {
            return self.calls_order.get(index).copied();
        }
        match self.keys(pane) {
            Keys::List(l) => l
                .len()
                .checked_sub(index + 1)
                .and_then(|i| l.get(i))
                .copied(),
            Keys::Count(n) => (index < n).then_some(index as u64),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub enum Keys<'a> {
    List(&'a VecDeque<u64>),
    Count(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pane {
    Messages,
    Numbers,
    Calls,
    Feed,
}

impl Pane {
    pub const ALL: [Pane; 4] = [Pane::Messages, Pane::Numbers, Pane::Calls, Pane::Feed];

    pub fn title(self) -> &'static str {
        match self {
            Pane::Messages => "Messages",
            Pane::Numbers => "Numbers",
            Pane::Calls => "Calls",
            Pane::Feed => "Feed",
        }
    }

    pub fn index(self) -> usize {
        Self::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }
}

fn update_sorted(list: &mut VecDeque<u64>, key: u64, keep: bool) {
    match (list.binary_search(&key), keep) {
        (Ok(i), false) => {
            list.remove(i);
        }
        (Err(i), true) => list.insert(i, key),
        _ => {}
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

fn number_line(n: &NumberRow) -> NumberLine {
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Record;

    fn message(i: u64, content: &str) -> Record {
        let body = format!(
            r#"{{"event":"message.received","data":{{"from":"+5511{i:09}","to":"+5511888888888","numberId":"n1","messageId":"wa{i}","id":"m{i}","type":"text","fromMe":false,"content":"{content}","createdAt":"2026-02-24T10:30:00.000Z"}}}}"#
        );
        Record::delivery(i, body.as_bytes())
    }

    fn store(n: u64) -> Store {
        let mut store = Store::new(100_000);
        for i in 1..=n {
            store.apply(message(i, if i % 3 == 0 { "Sábado?" } else { "oi" }));
        }
        store
    }

    /// A pass cut into slices (here: the smallest possible) ends with the same rows, in
    /// the same order, as one uninterrupted pass — also when rows arrive and change
    /// while it runs.
    #[test]
    fn a_sliced_filter_pass_matches_a_whole_one() {
        let filter = Filter::parse("sábado");
        let mut whole = Views::default();
        let mut sliced = Views::default();
        let mut store = store(20_000);
        whole.rebuild(&store, &filter);
        assert!(!whole.advance(&store, &filter, Pane::Messages, Duration::from_secs(60)));
        sliced.rebuild(&store, &filter);
        let mut slices = 0;
        while sliced.advance(&store, &filter, Pane::Messages, Duration::ZERO) {
            slices += 1;
            assert!(sliced.scanning(Pane::Messages, &store).is_some() || slices > 1);
            if slices == 2 {
                // New rows arrive, and a retry touches an old row not judged yet.
                for i in 20_001..=20_010 {
                    store.apply(message(i, "sábado!"));
                }
                let mut retry = message(3, "Sábado?");
                (retry.seq, retry.duplicate_of) = (20_011, Some(3));
                let touched = store.apply(retry).subject;
                assert_eq!(
                    touched,
                    Subject::Message(store.messages().range().start + 2)
                );
                sliced.sync(&store, &filter);
            }
        }
        assert!(slices >= 3, "{slices} slices");
        whole.sync(&store, &filter);
        assert_eq!(sliced.messages, whole.messages);
        assert_eq!(sliced.feed, whole.feed);
        assert_eq!(whole.messages.len(), 20_000 / 3 + 10);
        assert!(
            sliced
                .messages
                .iter()
                .zip(sliced.messages.iter().skip(1))
                .all(|(a, b)| a < b)
        );
        assert_eq!(sliced.scanning(Pane::Messages, &store), None);
    }
}
