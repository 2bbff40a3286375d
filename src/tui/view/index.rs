//! The row index: which rows each pane shows, under the filter, oldest first. It is
//! kept up to date incrementally from the records since the last sync (each record
//! names the row it changed); a new filter is applied by a pass over the older rows,
//! newest first and a time-boxed slice per frame ([`Scan`]). Calls are ordered as shown
//! (in progress first), so a frozen pane finds its selected row again by key.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::{Pane, Views, age, lines};
use crate::record::Subject;
use crate::store::{NumberState, Store};
use crate::tui::filter::Filter;

/// A filter pass not finished yet: rows keyed below `next` are still to be judged.
/// A new filter is applied newest first, a time-boxed slice per frame, so a keystroke
/// over a million rows shows its newest matches at once (the rows a pane shows first)
/// and the rest within a few frames, instead of freezing the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Scan {
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
        // Answers from the app change what some feed rows say.
        self.lines.note_forwards(store);
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
            match &r.subject {
                Subject::Message(o) => {
                    touched_messages.push(*o);
                    numbers = true;
                }
                Subject::Call(o) => touched_calls.push(*o),
                Subject::Number => numbers = true,
                Subject::Permission => permissions = true,
                Subject::Reply(rows) => {
                    touched_messages.extend(rows.answered.into_iter().chain(rows.sent));
                    numbers = true;
                }
                Subject::None => {}
            }
            if filter.record(r, store) {
                self.feed.push_back(r.seq);
            }
        }
        // What the provider's API said has no Feed row: the rows it changed.
        numbers |= api_touched(store, self.cursor, &mut touched_messages);
        self.cursor = store.last_seq();
        touched_messages.sort_unstable();
        touched_messages.dedup();
        let unscanned = |scan: Option<Scan>, o: u64| scan.is_some_and(|s| o < s.next);
        for o in touched_messages {
            self.lines.forget(Pane::Messages, o);
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
            self.lines.forget(Pane::Calls, o);
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
            self.permissions = lines::permission_lines(store);
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
        self.permissions = lines::permission_lines(store);
        self.rebuild_numbers(store, filter);
        self.cursor = store.last_seq();
        self.lines.clear();
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
        self.phone_names.clear();
        for n in store.numbers().iter() {
            let name = lines::number_name(n);
            if let Some(phone) = n.phone.as_deref().map(super::digits)
                && !phone.is_empty()
            {
                self.phone_names.insert(phone, name.clone());
            }
            self.number_names.insert(n.number_id.clone(), name);
        }
        self.numbers = store
            .numbers()
            .iter()
            .filter(|n| filter.number(n))
            .map(|n| lines::number_line(n, store.provider()))
            .collect();
        // Down when the webhooks said it is not connected (as `/healthz` counts them),
        // or, where they have said nothing of its state (known from the API alone, or
        // only from its messages), when the API says so. Removed on purpose: not down.
        let down = |n: &lines::NumberLine| match (&n.api, n.state) {
            (Some(api), NumberState::Unknown) => !api.connected,
            _ if n.api_only => n.api.as_ref().is_some_and(|a| !a.connected),
            (_, state) => state.is_down(),
        };
        let trouble: Vec<u8> = (self.numbers.iter())
            .map(|n| match () {
                _ if down(n) => 0,
                _ if !n.healthy() => 1,
                _ => 2,
            })
            .collect();
        self.numbers_down = (0..trouble.len()).filter(|i| trouble[*i] == 0).collect();
        self.numbers_by_trouble = (0..trouble.len()).collect();
        self.numbers_by_trouble.sort_by_key(|i| trouble[*i]);
    }

    fn drop_evicted(&mut self, store: &Store) {
        let first = store.messages().range().start;
        while self.messages.front().is_some_and(|o| *o < first) {
            let o = self.messages.pop_front().unwrap_or_default();
            self.lines.forget(Pane::Messages, o);
        }
        let first = store.calls().range().start;
        while self.calls.front().is_some_and(|o| *o < first) {
            let o = self.calls.pop_front().unwrap_or_default();
            self.lines.forget(Pane::Calls, o);
            self.calls_order.retain(|o| *o >= first);
        }
        let first = store.feed().next().map_or(u64::MAX, |r| r.seq);
        while self.feed.front().is_some_and(|s| *s < first) {
            let s = self.feed.pop_front().unwrap_or_default();
            self.lines.forget(Pane::Feed, s);
        }
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

/// The `api` records after `cursor`: the message rows they changed (pushed on
/// `messages`), and whether any was about numbers.
fn api_touched(store: &Store, cursor: u64, messages: &mut Vec<u64>) -> bool {
    use crate::model::provider::ApiRecord;
    let mut numbers = false;
    for r in store.provider().since(cursor) {
        match r.event.as_ref().map(|e| e.as_str()) {
            Some("api.numbers" | "api.number_status") => numbers = true,
            Some("api.message") => {
                if let Ok(ApiRecord::Message(m)) =
                    serde_json::from_slice::<ApiRecord>(&r.body.get())
                    && let Some(ord) = store.messages().outbound_ord(&m.id)
                {
                    messages.push(ord);
                }
            }
            _ => {}
        }
    }
    numbers
}

#[derive(Debug, Clone, Copy)]
pub enum Keys<'a> {
    List(&'a VecDeque<u64>),
    Count(usize),
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
                let touched = store.apply(retry).subject.clone();
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
