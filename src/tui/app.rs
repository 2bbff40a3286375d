//! The dashboard's state and how keys change it. Rendering reads it (`render/`); the
//! loop (`mod.rs`) feeds it keys, store changes and ticks.

use std::collections::{HashMap, VecDeque};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::composer::{self, Composer};
use super::detail::{self, Detail};
use super::filter::Filter;
use super::keymap::{self, Command};
use super::theme::Theme;
use super::view::{Pane, Views};
use crate::api::SendRequest;
use crate::model::Verdict;
use crate::model::outbound::{InReplyTo, Phase};
use crate::store::Store;

/// What the header says about the running service; fixed at start.
/// Why `r`, `R` and `x` do nothing in `pilotwatch open`.
pub const READ_ONLY: &str =
    "read-only: this is a journal file; reply from a running pilotwatch (or `pilotwatch attach`)";

#[derive(Debug, Clone)]
pub struct Info {
    pub listen: String,
    pub journal: Option<String>,
    pub signatures_checked: bool,
    pub started: DateTime<Utc>,
    /// What replay found worth saying (a torn write cut, corrupt lines).
    pub startup_note: Option<String>,
    /// The API key, masked (`ps_…abcd`); `None`: replies are off.
    pub api_key: Option<String>,
    /// `--forward-to`, sanitised.
    pub forward_to: Option<String>,
    /// Read-only over a journal file (`pilotwatch open`): no receiver, no replies.
    pub read_only: bool,
}

impl Info {
    /// A service as its attach endpoint describes it (already sanitised there; again
    /// here, since it came over a socket).
    pub fn of(s: &crate::attach::protocol::ServiceInfo) -> Self {
        use crate::sanitize::line as clean;
        Self {
            listen: clean(&s.listen, 80),
            journal: s.journal.as_deref().map(|j| clean(j, 200)),
            signatures_checked: s.signatures_checked,
            started: s.started,
            startup_note: s.startup_note.as_deref().map(|n| clean(n, 200)),
            api_key: s.api_key.as_deref().map(|k| clean(k, 40)),
            forward_to: s.forward_to.as_deref().map(|u| clean(u, 120)),
            read_only: false,
        }
    }
}

/// An attached dashboard's connection, as the header shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachView {
    /// The socket path or `tcp://…`, sanitised.
    pub endpoint: String,
    pub link: AttachLink,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttachLink {
    /// Streaming; `clients`: dashboards attached to the service, this one included.
    Attached { clients: usize },
    /// Lost the service `secs` ago, for `why`; trying again.
    Reconnecting { secs: u64, why: String },
}

/// The store's counters the header shows, copied at each sync.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub total: u64,
    pub failed_messages: u64,
    pub rejected: u64,
    pub broken: u64,
    pub unknown: u64,
    pub duplicates: u64,
    pub forwarded: u64,
    pub forward_failed: u64,
    pub forward_dropped: u64,
}

impl Totals {
    fn of(store: &Store) -> Self {
        let c = store.counters();
        Self {
            total: c.total,
            failed_messages: c.failed_messages,
            rejected: c.verdict(Verdict::Rejected),
            broken: c.verdict(Verdict::Broken),
            unknown: c.verdict(Verdict::Unknown),
            duplicates: c.duplicates,
            forwarded: store.forwards().ok,
            forward_failed: store.forwards().failed,
            forward_dropped: store.forwards().dropped,
        }
    }
}

/// Per-second delivery counts for the header's sparkline.
const RATE_SECONDS: usize = 300;
/// Time a frame may spend carrying a new filter over older rows (the rest waits for
/// the next frame), so typing stays responsive at a million rows.
const SCAN_SLICE: std::time::Duration = std::time::Duration::from_millis(8);

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListState {
    /// Rows from the newest (0 = newest).
    pub selected: usize,
    /// The first row shown, counted the same way.
    pub offset: usize,
}

#[derive(Debug)]
pub enum Mode {
    Normal,
    /// Typing a filter; the list narrows as you type.
    Filter,
    Detail(Box<Detail>),
    /// Writing a reply; it takes every key first.
    Compose(Box<Composer>),
    /// The help overlay, scrolled; closing it returns to the detail it was opened from.
    Help {
        scroll: usize,
        back: Option<Box<Detail>>,
    },
}

/// Side effects the loop carries out for the app.
#[derive(Debug, PartialEq, Eq)]
pub enum Effect {
    Quit,
    Copy(Bytes),
    /// Send a reply (attempt > 1: a retry with the same key and body).
    Send {
        request: SendRequest,
        in_reply_to: InReplyTo,
        attempt: u32,
    },
    /// Send this delivery to the forward target again.
    Replay(u64),
    /// Write these journal lines to a file.
    Export {
        lines: Vec<u8>,
        rows: usize,
    },
}

#[derive(Debug)]
pub struct App {
    pub info: Info,
    pub theme: Theme,
    pub pane: Pane,
    pub mode: Mode,
    pub filter: Filter,
    /// The filter being typed (applied live).
    pub input: String,
    pub follow: bool,
    pub views: Views,
    pub lists: [ListState; 4],
    /// Rows that fit in the list area (set by the loop from the terminal size).
    pub page: usize,
    pub rate: VecDeque<u64>,
    /// The delivery total at the last tick (`None` until the first sync, so a replayed
    /// journal does not count as one second of traffic).
    last_total: Option<u64>,
    /// The filter changed: rebuild the views once, at the next sync, not per key.
    filter_dirty: bool,
    /// A filter pass is still running: draw again at the next frame.
    pub scanning: bool,
    /// The shown pane's filter pass, while it runs: `(judged, total)` rows.
    pub scan_progress: Option<(u64, u64)>,
    pub totals: Totals,
    pub now: DateTime<Utc>,
    /// A transient message in the status line (copied…, nothing selected…).
    pub notice: Option<String>,
    /// Set when the journal has failed: shown in the header until restart.
    pub failure: Option<String>,
    /// `open`: journal bytes read so far, of how many (while loading); attached:
    /// history records.
    pub loading: Option<(u64, u64)>,
    /// Attached to a service: where, and whether the connection is up.
    pub attach: Option<AttachView>,
    /// The attached store's generation (bumped when it was emptied and refilled).
    pub store_generation: u64,
    /// Idempotency keys of replies asked for but not yet answered (a second `R` waits).
    /// (with the attempt asked for: an older outcome on record does not count).
    in_flight: HashMap<String, u32>,
    /// What the status line says is on its way, to replace with its outcome.
    pending: Option<crate::tui::progress::Pending>,
    /// `q` was pressed once on a dashboard that is also the receiver.
    quit_armed: bool,
    /// Unsent replies, by conversation (number + contact or group).
    drafts: HashMap<String, String>,
    /// Replies handed over but not yet on record, by key: their conversation and text,
    /// kept so a send that never reached the service goes back to being a draft.
    unsent: HashMap<String, (String, String)>,
    /// A lost send's key, by conversation: its draft goes out again with it.
    draft_keys: HashMap<String, String>,
}

impl App {
    pub fn new(info: Info, theme: Theme) -> Self {
        Self {
            now: info.started,
            notice: info.startup_note.clone(),
            info,
            theme,
            pane: Pane::Messages,
            mode: Mode::Normal,
            filter: Filter::default(),
            input: String::new(),
            follow: true,
            views: Views::default(),
            lists: [ListState::default(); 4],
            page: 20,
            rate: VecDeque::with_capacity(RATE_SECONDS),
            last_total: None,
            filter_dirty: false,
            scanning: false,
            scan_progress: None,
            totals: Totals::default(),
            failure: None,
            drafts: HashMap::new(),
            unsent: HashMap::new(),
            draft_keys: HashMap::new(),
            in_flight: Default::default(),
            pending: None,
            quit_armed: false,
            loading: None,
            attach: None,
            store_generation: 0,
        }
    }

    /// The store was emptied and is being filled again: every view starts over.
    pub fn store_replaced(&mut self) {
        self.views = Views::default();
        self.filter_dirty = true;
        self.last_total = None;
    }

    /// A reply that never reached the service: it may be sent again (`R`, same key).
    pub fn reply_lost(&mut self, key: &str, why: &str) {
        self.in_flight.remove(key);
        self.notice = Some(match self.unsent.remove(key) {
            Some((conversation, text)) => {
                self.draft_keys.insert(conversation.clone(), key.to_owned());
                self.drafts.insert(conversation, text);
                format!("reply NOT sent: {why}; it is kept as a draft (r)")
            }
            None => format!("reply NOT sent: {why}; R sends it again"),
        });
    }

    pub fn list(&self) -> ListState {
        self.lists[self.pane.index()]
    }

    fn list_mut(&mut self) -> &mut ListState {
        &mut self.lists[self.pane.index()]
    }

    /// Rows of the list that fit on screen in this pane (Calls gives some to permissions).
    pub fn page_of(&self, pane: Pane) -> usize {
        let taken = if pane == Pane::Calls {
            self.views.permissions.len()
        } else {
            0
        };
        self.page.saturating_sub(taken).max(1)
    }

    /// Fold store changes into the views. A frozen pane keeps the selected row where it
    /// was on screen, whatever arrived, left or moved around it.
    pub fn sync(&mut self, store: &Store) {
        self.totals = Totals::of(store);
        // A reply is no longer in flight once its outcome is on record.
        self.in_flight.retain(|k, attempt| {
            store
                .replies()
                .get(k)
                .is_none_or(|r| r.attempts < *attempt || r.phase == Phase::Sending)
        });
        self.unsent.retain(|k, _| store.replies().get(k).is_none());
        if let Some(outcome) = self.pending.as_ref().and_then(|p| p.settled(store)) {
            self.pending = None;
            self.notice = Some(outcome);
        }
        self.last_total.get_or_insert(self.totals.total);
        let anchors: [Option<(u64, usize)>; 4] = Pane::ALL.map(|pane| {
            let l = self.lists[pane.index()];
            let key = self.views.key_at(pane, l.selected)?;
            (!self.follow).then_some((key, l.selected - l.offset.min(l.selected)))
        });
        // Staleness is judged by this clock; in a file nothing is live.
        self.views.set_clock(store, self.now, self.info.read_only);
        if std::mem::take(&mut self.filter_dirty) {
            self.views.rebuild(store, &self.filter);
            self.lists = [ListState::default(); 4];
        } else {
            self.views.sync(store, &self.filter);
        }
        self.scanning = self
            .views
            .advance(store, &self.filter, self.pane, SCAN_SLICE);
        self.scan_progress = self.views.scanning(self.pane, store);
        for pane in Pane::ALL {
            let (len, page) = (self.views.len(pane), self.page_of(pane));
            let found = anchors[pane.index()]
                .and_then(|(key, row)| Some((self.views.index_of(pane, key)?, row)));
            let l = &mut self.lists[pane.index()];
            if let Some((index, row)) = found {
                l.selected = index;
                l.offset = index.saturating_sub(row);
            }
            l.selected = l.selected.min(len.saturating_sub(1));
            l.offset = l.offset.min(len.saturating_sub(page)).min(l.selected);
            if l.selected >= l.offset + page {
                l.offset = l.selected + 1 - page;
            }
        }
        let (offset, page) = (self.list().offset, self.page_of(self.pane));
        let rows: Vec<u64> = (offset..offset + page)
            .filter_map(|i| self.views.key_at(self.pane, i))
            .collect();
        self.views.prepare(store, self.pane, rows.into_iter());
    }

    /// Once a second: the sparkline's sample and the clock.
    pub fn tick(&mut self, store: &Store, now: DateTime<Utc>) {
        let total = store.counters().total;
        if self.rate.len() == RATE_SECONDS {
            self.rate.pop_front();
        }
        let last = self.last_total.replace(total).unwrap_or(total);
        self.rate.push_back(total.saturating_sub(last));
        self.now = now;
    }

    fn scroll_into_view(&mut self) {
        let page = self.page_of(self.pane);
        let l = self.list_mut();
        if l.selected < l.offset {
            l.offset = l.selected;
        } else if l.selected >= l.offset + page {
            l.offset = l.selected + 1 - page;
        }
    }

    fn refilter(&mut self) {
        let f = Filter::parse(&self.input);
        if f != self.filter {
            self.filter = f;
            self.filter_dirty = true;
        }
    }

    /// Text pasted into the terminal (bracketed paste): into the filter or the reply
    /// being typed, control characters dropped (newlines kept in a reply).
    pub fn handle_paste(&mut self, text: &str) {
        match &mut self.mode {
            Mode::Filter => {
                self.input
                    .extend(text.chars().map(|c| if c.is_control() { ' ' } else { c }));
                self.refilter();
            }
            Mode::Compose(c) => {
                // Terminals paste line breaks as CR or CRLF; tabs become spaces.
                let text = text
                    .replace("\r\n", "\n")
                    .replace('\r', "\n")
                    .replace('\t', "    ");
                let clean: String = text
                    .chars()
                    .filter(|c| *c == '\n' || !c.is_control())
                    .collect();
                c.textarea.insert_str(clean);
            }
            _ => {}
        }
    }

    pub fn handle_key(&mut self, key: KeyEvent, store: &Store) -> Option<Effect> {
        if key.kind != KeyEventKind::Press {
            return None;
        }
        self.notice = None;
        let quit = keymap::lookup(&key) == Some(Command::Quit);
        if !(quit && matches!(self.mode, Mode::Normal | Mode::Detail(_))) {
            self.quit_armed = false;
        }
        // The filter line takes keys first: `q` types a q.
        if matches!(self.mode, Mode::Filter) {
            return self.filter_key(key);
        }
        if matches!(self.mode, Mode::Compose(_)) {
            return self.compose_key(key);
        }
        // A filter typed since the last frame is applied before any key acts on the rows
        // (while typing it waits for the frame, so fast typing does not rebuild per key).
        if std::mem::take(&mut self.filter_dirty) {
            self.views.rebuild(store, &self.filter);
            self.views
                .advance(store, &self.filter, self.pane, SCAN_SLICE);
            self.lists = [ListState::default(); 4];
        }
        let command = keymap::lookup(&key);
        // Ctrl-C is the deliberate stop: no question asked (outside help).
        if quit
            && key.modifiers.contains(KeyModifiers::CONTROL)
            && !matches!(self.mode, Mode::Help { .. })
        {
            return Some(Effect::Quit);
        }
        if let Mode::Help { scroll, .. } = &mut self.mode {
            // Scroll keys scroll; quit quits; any other key closes the help.
            match command {
                Some(Command::Down) => *scroll += 1,
                Some(Command::Up) => *scroll = scroll.saturating_sub(1),
                Some(Command::PageDown) => *scroll += self.page,
                Some(Command::PageUp) => *scroll = scroll.saturating_sub(self.page),
                // Any other key closes it, `q` included (help says so).
                _ => {
                    let Mode::Help { back, .. } = std::mem::replace(&mut self.mode, Mode::Normal)
                    else {
                        unreachable!()
                    };
                    self.mode = back.map_or(Mode::Normal, Mode::Detail);
                }
            }
            return None;
        }
        let command = command?;
        match &mut self.mode {
            Mode::Help { .. } | Mode::Compose(_) => {}
            Mode::Detail(d) => {
                let page = self.page.max(1);
                // The last screenful, not the last line alone on an empty screen.
                let max = d.max_scroll(page);
                match command {
                    Command::Down => d.scroll = (d.scroll + 1).min(max),
                    Command::Up => d.scroll = d.scroll.saturating_sub(1),
                    Command::PageDown => d.scroll = (d.scroll + page).min(max),
                    Command::PageUp => d.scroll = d.scroll.saturating_sub(page),
                    Command::Top => d.scroll = 0,
                    Command::Bottom => d.scroll = d.lines.len().saturating_sub(page),
                    Command::Back | Command::Open => self.mode = Mode::Normal,
                    Command::Copy => {
                        let section = d.body_at(d.scroll, page).cloned();
                        return self.copy(section);
                    }
                    Command::Help => {
                        let Mode::Detail(d) = std::mem::replace(&mut self.mode, Mode::Normal)
                        else {
                            unreachable!()
                        };
                        self.mode = Mode::Help {
                            scroll: 0,
                            back: Some(d),
                        };
                    }
                    // Every other key does what it does on the list, to the row this
                    // detail shows (opening it froze the list on that row): `r` answers
                    // the message being read, `1`–`4` and Tab change pane, `/` filters.
                    _ => {
                        self.mode = Mode::Normal;
                        return self.list_key(command, store);
                    }
                }
                return None;
            }
            Mode::Normal | Mode::Filter => {}
        }
        self.list_key(command, store)
    }

    /// A key on the list of the current pane.
    fn list_key(&mut self, command: Command, store: &Store) -> Option<Effect> {
        let len = self.views.len(self.pane);
        let page = self.page.max(1);
        match command {
            Command::Quit => return self.quit(),
            Command::Help => {
                self.mode = Mode::Help {
                    scroll: 0,
                    back: None,
                }
            }
            Command::NextPane => self.pane = Pane::ALL[(self.pane.index() + 1) % 4],
            Command::PrevPane => self.pane = Pane::ALL[(self.pane.index() + 3) % 4],
            Command::Messages => self.pane = Pane::Messages,
            Command::Numbers => self.pane = Pane::Numbers,
            Command::Calls => self.pane = Pane::Calls,
            Command::Feed => self.pane = Pane::Feed,
            Command::Down | Command::PageDown | Command::Bottom => {
                let step = match command {
                    Command::Down => 1,
                    Command::PageDown => page,
                    _ => len,
                };
                let l = self.list_mut();
                l.selected = (l.selected + step).min(len.saturating_sub(1));
                // Moving off the newest row freezes the view, so rows do not slide away.
                if l.selected > 0 {
                    self.follow = false;
                }
            }
            Command::Up | Command::PageUp => {
                let step = if command == Command::Up { 1 } else { page };
                let l = self.list_mut();
                l.selected = l.selected.saturating_sub(step);
            }
            // The newest row, and following again (as `f` would).
            Command::Top => {
                self.follow = true;
                self.lists
                    .iter_mut()
                    .for_each(|l| *l = ListState::default());
            }
            Command::Follow => {
                self.follow = !self.follow;
                if self.follow {
                    self.lists
                        .iter_mut()
                        .for_each(|l| *l = ListState::default());
                }
            }
            Command::Filter => {
                self.input = self.filter.query().to_owned();
                self.mode = Mode::Filter;
            }
            Command::Back => {
                if !self.filter.is_empty() {
                    self.input.clear();
                    self.refilter();
                }
            }
            Command::Open => return self.open(store),
            // A journal file is history: nothing in it can be answered or sent again.
            Command::Reply | Command::Retry | Command::Replay if self.info.read_only => {
                self.notice = Some(READ_ONLY.into());
            }
            Command::Reply => self.compose(store),
            Command::Retry => return self.retry(store),
            Command::Replay => return self.replay(store),
            Command::Export => return self.export(store),
            Command::Copy => {
                let section = self
                    .selected_detail(store)
                    .and_then(|d| d.bodies.into_iter().next());
                return self.copy(section);
            }
        }
        self.scroll_into_view();
        None
    }

    fn filter_key(&mut self, key: KeyEvent) -> Option<Effect> {
        match key.code {
            KeyCode::Enter => self.mode = Mode::Normal,
            KeyCode::Esc => {
                self.input.clear();
                self.mode = Mode::Normal;
            }
            KeyCode::Backspace => {
                self.input.pop();
            }
            KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                return Some(Effect::Quit);
            }
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.input.clear()
            }
            KeyCode::Char(c) if !c.is_control() => self.input.push(c),
            _ => return None,
        }
        self.refilter();
        None
    }

    fn compose_key(&mut self, key: KeyEvent) -> Option<Effect> {
        let Mode::Compose(c) = &mut self.mode else {
            return None;
        };
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        match key.code {
            // Alt-Enter where the terminal tells it apart; Ctrl-J everywhere (raw mode
            // reports a line feed as Ctrl-J, which tui-textarea would use to delete).
            KeyCode::Enter if alt || key.modifiers.contains(KeyModifiers::SHIFT) => {
                c.textarea.insert_newline()
            }
            KeyCode::Char('j') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                c.textarea.insert_newline()
            }
            KeyCode::Enter => {
                if c.text().trim().is_empty() {
                    self.notice = Some("nothing to send".into());
                    return None;
                }
                let (request, in_reply_to) = (c.request(), c.in_reply_to.clone());
                let unsent = (c.conversation.clone(), c.text());
                self.drafts.remove(&c.conversation);
                self.draft_keys.remove(&c.conversation);
                self.mode = Mode::Normal;
                self.notice = Some("sending…".into());
                self.pending = Some(crate::tui::progress::Pending::Reply {
                    key: request.idempotency_key.clone(),
                    attempt: 1,
                });
                self.in_flight.insert(request.idempotency_key.clone(), 1);
                self.unsent.insert(request.idempotency_key.clone(), unsent);
                return Some(Effect::Send {
                    request,
                    in_reply_to,
                    attempt: 1,
                });
            }
            // Esc (and Ctrl-C, which would otherwise quit mid-sentence) close it; the
            // draft waits for the next `r` on this conversation.
            KeyCode::Esc => self.close_composer(),
            KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.close_composer()
            }
            _ => {
                c.textarea.input(key);
            }
        }
        None
    }

    fn close_composer(&mut self) {
        if let Mode::Compose(c) = std::mem::replace(&mut self.mode, Mode::Normal) {
            let text = c.text();
            if text.trim().is_empty() {
                self.drafts.remove(&c.conversation);
            } else {
                self.drafts.insert(c.conversation.clone(), text);
                self.notice = Some("draft kept".into());
            }
        }
    }

    /// The message selected in the Messages pane, or why there is none.
    fn selected_message<'s>(
        &self,
        store: &'s Store,
    ) -> Result<&'s crate::store::MessageRow, &'static str> {
        if self.pane != Pane::Messages {
            return Err("replies start from the Messages pane (1)");
        }
        self.selected_key()
            .and_then(|o| store.messages().get(o))
            .ok_or("nothing selected")
    }

    fn compose(&mut self, store: &Store) {
        if self.info.api_key.is_none() {
            self.notice = Some(match self.attach {
                Some(_) => "the service has no API key: set it where `pilotwatch serve` runs, then restart it".into(),
                None => format!("{}, then restart pilotwatch", crate::reply::NO_KEY),
            });
            return;
        }
        let m = match self.selected_message(store) {
            Ok(m) => m,
            Err(why) => {
                self.notice = Some(why.into());
                return;
            }
        };
        if let Some(why) = composer::refuse(m) {
            self.notice = Some(why.into());
            return;
        }
        let conversation = Composer::new(m, store, None).map(|c| c.conversation);
        let draft = conversation
            .and_then(|k| self.drafts.get(&k))
            .map(String::as_str);
        match Composer::new(m, store, draft) {
            Some(mut c) => {
                c.key = self.draft_keys.get(&c.conversation).cloned();
                // Writing again after a failed or interrupted send would get a new key:
                // point at the safe retry instead.
                if let Some(r) = store
                    .replies()
                    .latest_to(m.kind.name(), m.id())
                    .filter(|r| r.phase != Phase::Accepted)
                {
                    let state = r.error.as_ref().map_or_else(
                        || "never got an answer".to_owned(),
                        |e| format!("failed ({})", e.short()),
                    );
                    c.context.push((
                        "Note".into(),
                        format!("the last reply here {state}: Esc, then R resends it with its key"),
                    ));
                }
                self.mode = Mode::Compose(Box::new(c));
            }
            None => self.notice = Some("this message has no sender to answer".into()),
        }
    }

    fn retry(&mut self, store: &Store) -> Option<Effect> {
        let m = match self.selected_message(store) {
            Ok(m) => m,
            Err(why) => {
                self.notice = Some(why.into());
                return None;
            }
        };
        let Some(reply) = store.replies().latest_to(m.kind.name(), m.id()) else {
            self.notice = Some("no reply to retry here".into());
            return None;
        };
        let key = reply.request.idempotency_key.clone();
        if self.in_flight.contains_key(&key) {
            self.notice = Some("that reply is on its way: wait for its answer".into());
            return None;
        }
        // Sending with no outcome and nothing in flight: the attempt was interrupted (a
        // quit or crash mid-request). Retrying with the same key is safe: the provider
        // answers a repeat with its first answer instead of sending again.
        let what = match reply.phase {
            Phase::Failed => "retrying",
            Phase::Sending => "the last attempt was interrupted; retrying",
            Phase::Accepted => {
                self.notice = Some("already accepted by the API".into());
                return None;
            }
        };
        self.notice = Some(format!(
            "{what} with the same key (attempt {})…",
            reply.attempts.saturating_add(1)
        ));
        self.pending = Some(crate::tui::progress::Pending::Reply {
            key: key.clone(),
            attempt: reply.attempts.saturating_add(1),
        });
        self.in_flight.insert(key, reply.attempts.saturating_add(1));
        Some(Effect::Send {
            request: reply.request.clone(),
            in_reply_to: reply.in_reply_to.clone()?,
            attempt: reply.attempts.saturating_add(1),
        })
    }

    fn replay(&mut self, store: &Store) -> Option<Effect> {
        if self.info.forward_to.is_none() {
            self.notice = Some("nothing to replay to: start with --forward-to URL".into());
            return None;
        }
        if self.pane != Pane::Feed {
            self.notice = Some("replays start from the Feed pane (4)".into());
            return None;
        }
        let seq = self.selected_key()?;
        self.notice = Some(format!("replaying #{seq} to the app…"));
        self.pending = Some(crate::tui::progress::Pending::Replay {
            seq,
            seen: store.forwards().of(seq).len(),
        });
        Some(Effect::Replay(seq))
    }

    /// The deliveries behind the rows of the current (filtered) view, as journal lines:
    /// `pilotwatch open` reads the file back.
    fn export(&mut self, store: &Store) -> Option<Effect> {
        // An export holds every matching row: a pass still running is finished first.
        self.views.advance(
            store,
            &self.filter,
            self.pane,
            std::time::Duration::from_secs(86_400),
        );
        let mut seqs: Vec<u64> = Vec::new();
        let len = self.views.len(self.pane);
        for i in 0..len {
            let Some(key) = self.views.key_at(self.pane, i) else {
                continue;
            };
            match self.pane {
                Pane::Feed => seqs.push(key),
                Pane::Messages => seqs.extend(
                    store
                        .messages()
                        .get(key)
                        .map(|m| m.seqs.clone())
                        .unwrap_or_default(),
                ),
                Pane::Calls => seqs.extend(
                    store
                        .calls()
                        .row(key)
                        .map(|c| c.seqs.clone())
                        .unwrap_or_default(),
                ),
                Pane::Numbers => {
                    let id = self
                        .views
                        .numbers
                        .get(key as usize)
                        .map(|n| n.raw_id.clone());
                    seqs.extend(
                        id.and_then(|id| store.numbers().get(&id))
                            .map(|n| n.seqs.clone())
                            .unwrap_or_default(),
                    );
                }
            }
        }
        seqs.sort_unstable();
        seqs.dedup();
        let mut lines = Vec::new();
        for r in store.with_forwards(&seqs) {
            crate::journal::line::encode(r, &mut lines);
        }
        Some(Effect::Export { lines, rows: len })
    }

    fn selected_key(&self) -> Option<u64> {
        self.views.key_at(self.pane, self.list().selected)
    }

    fn selected_detail(&self, store: &Store) -> Option<Detail> {
        let key = self.selected_key()?;
        match self.pane {
            Pane::Messages => detail::message(store, key, self.theme),
            Pane::Calls => detail::call(store, key, self.theme),
            Pane::Feed => detail::record(store, key, self.theme),
            Pane::Numbers => None,
        }
    }

    fn open(&mut self, store: &Store) -> Option<Effect> {
        if self.pane == Pane::Numbers {
            // Enter on a number: its messages.
            let id = self
                .selected_key()
                .and_then(|i| self.views.numbers.get(i as usize))
                .map(|n| n.raw_id.clone());
            if let Some(id) = id {
                self.input = format!("number:{id}");
                self.refilter();
                self.pane = Pane::Messages;
            }
            return None;
        }
        match self.selected_detail(store) {
            Some(d) => {
                // Reading a row: the list stays on it (keys in the detail act on it).
                self.follow = false;
                self.mode = Mode::Detail(Box::new(d));
            }
            None => self.notice = Some("nothing selected".into()),
        }
        None
    }

    /// `q`: a dashboard that is also the receiver asks first, since quitting it stops
    /// taking deliveries; attached and read-only dashboards just go.
    fn quit(&mut self) -> Option<Effect> {
        let receiver = self.attach.is_none() && !self.info.read_only;
        if !receiver || std::mem::take(&mut self.quit_armed) {
            return Some(Effect::Quit);
        }
        self.quit_armed = true;
        // Short enough for 80 columns; README says `pilotwatch serve` keeps one running.
        self.notice = Some(format!(
            "q again quits: the receiver on {} stops too",
            self.info.listen
        ));
        None
    }

    /// `y`: a delivery's raw body to the clipboard, saying which one it was.
    fn copy(&mut self, section: Option<detail::Section>) -> Option<Effect> {
        match section {
            Some(s) => {
                self.notice = Some(format!(
                    "copied #{} {} ({} bytes, OSC 52)",
                    s.seq,
                    s.event,
                    s.body.len()
                ));
                Some(Effect::Copy(s.body))
            }
            None => {
                self.notice = Some("nothing to copy".into());
                None
            }
        }
    }
}
