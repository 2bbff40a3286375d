//! The dashboard's state: what is shown, where the lists are, and how store changes and
//! ticks fold into it. Keys change it through [`keys`] (routing by mode) and
//! [`actions`] (what a command does to the selected row); replies written here are kept
//! by [`drafts`]. Rendering reads it (`render/`); the loop (`mod.rs`) feeds it keys,
//! store changes and ticks.

mod actions;
mod alerts;
mod conversation;
mod deliveries;
mod drafts;
mod keys;
mod overview;

use std::collections::VecDeque;

use bytes::Bytes;
use chrono::{DateTime, Utc};

use super::composer::Composer;
use super::detail::Detail;
use super::filter::Filter;
use super::theme::Theme;
use super::view::figures::Figures;
use super::view::{Pane, Views};
use crate::api::SendRequest;
use crate::model::Verdict;
use crate::model::outbound::InReplyTo;
use crate::store::Store;
pub use alerts::AlertsPane;
pub use conversation::{InboxPane, ThreadView};
pub use deliveries::DeliveriesPane;
use drafts::Drafts;
pub use overview::{Overview, Panel};

/// Why `r`, `R` and `x` do nothing in `pilotwatch open`.
pub const READ_ONLY: &str =
    "read-only: this is a journal file; reply from a running pilotwatch (or `pilotwatch attach`)";

/// What the header says about the running service; fixed at start.
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
    /// Where the service sends its alerts: `Some(0)`, nowhere but dashboards.
    pub alert_targets: Option<u32>,
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
            alert_targets: s.alert_targets,
        }
    }
}

/// An attached dashboard's connection, as the header shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachView {
    /// The socket path or `tcp://…`, sanitised.
    pub endpoint: String,
    pub link: AttachLink,
    /// On NATS: each receiver on the stream, sanitised, as the header shows it.
    pub receivers: Vec<ReceiverView>,
}

/// A receiver seen on the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiverView {
    pub name: String,
    /// When its newest record was journaled.
    pub last_record: Option<chrono::DateTime<chrono::Utc>>,
    /// Records it journaled that are not in the stream yet (its heartbeat says).
    pub backlog: u64,
    /// No heartbeat for a while: it may be down.
    pub silent: bool,
    /// It holds an API key: replies typed here can go out through it.
    pub sends: bool,
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
    /// Messages whose webhook never came (the provider's API had the step).
    pub missing: u64,
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
            missing: store.messages().missing(),
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
    /// Read this page of the provider's message history (a thread scrolled to its top).
    History {
        page: u32,
    },
    /// Write these journal lines to a file.
    Export {
        lines: Vec<u8>,
        rows: usize,
    },
}

/// A full-screen view that `Enter` on one of its rows leaves for a detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Overview,
    Alerts,
    Deliveries,
}

#[derive(Debug)]
pub struct App {
    pub info: Info,
    pub theme: Theme,
    pub pane: Pane,
    /// The overview screen (the default) over the panes, and its focus.
    pub overview: Overview,
    /// The store's figures (activity, per-number traffic, latency), copied at sync.
    pub figures: Figures,
    /// The latency view (`5`) is on screen, full screen.
    pub latency: bool,
    /// The Alerts pane (`7`): shown or not, its selection, and the bell.
    pub alerts: AlertsPane,
    /// The Deliveries view (`8`): the provider's attempts beside ours.
    pub deliveries: DeliveriesPane,
    /// The view `Enter` on an alert or an attempt left for its cause (a detail, or a
    /// row of a pane), and whether it followed: where `Esc` goes back to.
    pub back_to: Option<(Origin, bool)>,
    /// The Inbox (`6`): who waits for an answer.
    pub inbox: InboxPane,
    /// The conversation open (`c`), over whatever was shown.
    pub thread: Option<Box<ThreadView>>,
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
    /// With `--nats`: the outbox of the receiver shown (this one, or the service's).
    pub nats: Option<crate::attach::protocol::NatsStatus>,
    /// `open`: journal bytes read so far, of how many (while loading); attached:
    /// history records.
    pub loading: Option<(u64, u64)>,
    /// Attached to a service: where, and whether the connection is up.
    pub attach: Option<AttachView>,
    /// The attached store's generation (bumped when it was emptied and refilled).
    pub store_generation: u64,
    /// What the status line says is on its way, to replace with its outcome.
    pending: Option<crate::tui::progress::Pending>,
    /// `q` was pressed once on a dashboard that is also the receiver.
    quit_armed: bool,
    /// Replies written here: drafts by conversation, sends in flight, texts to restore.
    drafts: Drafts,
}

impl App {
    pub fn new(info: Info, theme: Theme) -> Self {
        Self {
            alerts: AlertsPane::new(!info.read_only),
            deliveries: DeliveriesPane::default(),
            back_to: None,
            inbox: InboxPane::default(),
            thread: None,
            now: info.started,
            notice: info.startup_note.clone(),
            info,
            theme,
            pane: Pane::Messages,
            overview: Overview::default(),
            figures: Figures::default(),
            latency: false,
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
            nats: None,
            drafts: Drafts::default(),
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
        self.deliveries = DeliveriesPane::default();
        self.filter_dirty = true;
        self.last_total = None;
        self.forget_fired();
    }

    /// A reply that never reached the service: it may be sent again (`R`, same key).
    pub fn reply_lost(&mut self, key: &str, why: &str) {
        self.notice = Some(if self.drafts.lost(key) {
            format!("reply NOT sent: {why}; it is kept as a draft (r)")
        } else {
            format!("reply NOT sent: {why}; R sends it again")
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
        self.drafts.settle(store);
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
        self.sync_alerts(store);
        self.sync_deliveries(store);
        self.sync_conversations(store);
        // Copied at every sync, not only for the overview: the header reads them too.
        // Per number only for the Fleet's rows (an account has a handful; a flood of
        // invented numberIds must not cost every frame).
        let selected = self.lists[Pane::Numbers.index()].selected;
        let ids = overview::rows_near(selected, self.page)
            .map_while(|i| self.views.numbers.get(i))
            .map(|n| &n.raw_id);
        self.figures = Figures::of(store, self.now, ids);
        if self.overview.shown {
            self.prepare_overview(store);
        }
    }

    /// Once a second: the sparkline's sample and the clock. A file read once (`open`)
    /// is shown as of its newest record: its ages and windows do not run on.
    pub fn tick(&mut self, store: &Store, now: DateTime<Utc>) {
        let now = match self.info.read_only {
            true => store.newest_at().unwrap_or(now),
            false => now,
        };
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
}
