//! The dashboard's side of alerts (issue 17): the Alerts pane (`7`) and its selection,
//! `Enter` on an alert (here or in the overview's Attention) going to its cause, and the
//! bell when a new alert fires. The service evaluates the rules; this only shows them.

use super::{App, ListState, SCAN_SLICE};
use crate::model::alert::Cause;
use crate::store::Store;
use crate::tui::detail;
use crate::tui::filter::Filter;
use crate::tui::keymap::Command;
use crate::tui::view::Pane;
use crate::tui::view::alerts::AlertLine;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertsPane {
    /// The Alerts pane is on screen (full screen, as `5` shows latency).
    pub shown: bool,
    /// The selected alert: active ones first, then ended ones. The Attention panel
    /// lists the active ones only, with the same selection.
    pub selected: usize,
    /// Ring the terminal bell when an alert fires (`--no-bell` says no; a journal file
    /// never rings: nothing new arrives in it).
    pub ring: bool,
    /// The store's `fired_seq` this dashboard has seen; `None` until its history is in
    /// (what already fired then is history, not news).
    seen_fired: Option<u64>,
    /// A new alert fired since the loop last looked.
    bell: bool,
}

impl AlertsPane {
    pub fn new(ring: bool) -> Self {
        Self {
            shown: false,
            selected: 0,
            ring,
            seen_fired: None,
            bell: false,
        }
    }
}

impl App {
    /// Ring once for this news? The loop writes BEL outside the frame when this says so.
    pub fn take_bell(&mut self) -> bool {
        std::mem::take(&mut self.alerts.bell)
    }

    /// Fold the alert table in (at each sync): the lines when it changed, the selection
    /// kept on its alert, and the bell when something fired that this dashboard had not
    /// seen. While history loads (attached), what fires is history: no bell.
    pub(super) fn sync_alerts(&mut self, store: &Store) {
        let table = store.alerts();
        let key = self.selected_alert().map(|l| l.key.clone());
        if self.views.alerts.sync(table) {
            let lines = &self.views.alerts;
            if let Some(i) = key.and_then(|k| lines.index_of(&k)) {
                self.alerts.selected = i;
            }
            self.alerts.selected = self.alerts.selected.min(lines.len().saturating_sub(1));
        }
        let (fired, loading) = (table.fired_seq, self.loading.is_some());
        let a = &mut self.alerts;
        match a.seen_fired {
            None if loading => {}
            Some(seen) if fired > seen && !loading => {
                a.bell |= a.ring;
                a.seen_fired = Some(fired);
            }
            _ => a.seen_fired = Some(fired),
        }
    }

    /// The store was replaced: what it fires is history again until it is loaded.
    pub(super) fn forget_fired(&mut self) {
        self.alerts.seen_fired = None;
    }

    /// The alert under the selection (on the overview: among the active ones).
    fn selected_alert(&self) -> Option<&AlertLine> {
        let lines = &self.views.alerts;
        if self.alerts.shown {
            lines.get(self.alerts.selected)
        } else {
            lines.active.get(self.alerts.selected)
        }
    }

    /// `7`.
    pub(super) fn show_alerts(&mut self) {
        self.overview.shown = false;
        self.latency = false;
        self.deliveries.shown = false;
        self.alerts.shown = true;
    }

    /// A key on the Alerts pane, or on the overview's Attention when it lists alerts:
    /// moving and `Enter`. `false`: not one of these (it acts as anywhere else).
    pub(super) fn alerts_key(&mut self, command: Command, store: &Store) -> bool {
        let len = if self.alerts.shown {
            self.views.alerts.len()
        } else {
            self.views.alerts.active.len()
        };
        let last = len.saturating_sub(1);
        let s = &mut self.alerts.selected;
        // Attention lists fewer (the active ones) than the pane the selection came from.
        *s = (*s).min(last);
        match command {
            Command::Down => *s = (*s + 1).min(last),
            Command::Up => *s = s.saturating_sub(1),
            Command::PageDown => *s = (*s + self.page.max(1)).min(last),
            Command::PageUp => *s = s.saturating_sub(self.page.max(1)),
            Command::Top => *s = 0,
            Command::Bottom => *s = last,
            Command::Open => match self.selected_alert().map(|l| l.cause.clone()) {
                Some(Some(cause)) => self.go_to_cause(&cause, store),
                Some(None) => self.notice = Some("this alert names no row to go to".into()),
                None => self.notice = Some("no alert selected".into()),
            },
            // What acts on a row acts on the rows of a pane, not on an alert.
            Command::Reply | Command::Retry | Command::Replay | Command::Export | Command::Copy
                if self.alerts.shown =>
            {
                self.notice = Some("Enter goes to the alert's cause: act on it there".into());
            }
            _ => return false,
        }
        true
    }

    /// `Enter` on an alert: the number selected in the Numbers pane, or the message's or
    /// delivery's detail over its row (the list frozen on it, so keys act on it). A
    /// filter hiding the row is cleared; a row gone from memory is said so.
    pub(super) fn go_to_cause(&mut self, cause: &Cause, store: &Store) {
        let (pane, key) = match cause {
            Cause::Number { id } => {
                let index = |app: &Self| app.views.numbers.iter().position(|n| *n.raw_id == **id);
                if store.numbers().get(id).is_none() {
                    self.notice = Some(format!("number {id} is no longer in memory"));
                    return;
                }
                if index(self).is_none() {
                    self.clear_filter_now(store);
                }
                let Some(i) = index(self) else { return };
                (Pane::Numbers, i as u64)
            }
            Cause::Message { id } => match store.messages().outbound_ord(id) {
                Some(ord) => (Pane::Messages, ord),
                None => {
                    self.notice = Some(format!(
                        "message {id} is no longer in memory (the journal has it)"
                    ));
                    return;
                }
            },
            Cause::Delivery { seq } => match store.record(*seq) {
                Some(_) => (Pane::Feed, *seq),
                None => {
                    self.notice = Some(format!(
                        "delivery #{seq} is no longer in memory (the journal has it)"
                    ));
                    return;
                }
            },
        };
        let origin = if self.alerts.shown {
            Some(super::Origin::Alerts)
        } else if self.deliveries.shown {
            Some(super::Origin::Deliveries)
        } else {
            self.overview.shown.then_some(super::Origin::Overview)
        };
        // Esc comes back here, following again if it was.
        self.back_to = origin.map(|o| (o, self.follow));
        self.alerts.shown = false;
        self.deliveries.shown = false;
        self.overview.shown = false;
        self.latency = false;
        self.pane = pane;
        let Some(index) = self.reveal(store, pane, key) else {
            self.notice = Some("its row is not listed".into());
            return;
        };
        let l = &mut self.lists[pane.index()];
        l.selected = index;
        self.scroll_into_view();
        let detail = match pane {
            Pane::Messages => detail::message(store, key, self.theme),
            Pane::Feed => detail::record(store, key, self.theme),
            Pane::Numbers | Pane::Calls => return,
        };
        if let Some(d) = detail {
            // Reading a row: the list stays on it (as `Enter` on the list does).
            self.follow = false;
            self.mode = super::Mode::Detail(Box::new(d));
        }
    }

    /// A detail opened from a view closes back to that view.
    pub(super) fn close_detail(&mut self) {
        self.mode = super::Mode::Normal;
        self.go_back();
    }

    /// Back to the view `Enter` on an alert or an attempt left (`false`: none).
    pub(super) fn go_back(&mut self) -> bool {
        let Some((origin, follow)) = self.back_to.take() else {
            return false;
        };
        match origin {
            super::Origin::Alerts => self.alerts.shown = true,
            super::Origin::Deliveries => self.deliveries.shown = true,
            super::Origin::Overview => self.overview.shown = true,
        }
        self.follow = follow;
        true
    }

    /// Where the row `key` of `pane` is listed, clearing a filter that hides it and
    /// carrying a filter pass still running over older rows on until it is reached.
    fn reveal(&mut self, store: &Store, pane: Pane, key: u64) -> Option<usize> {
        if pane == Pane::Numbers {
            return Some(key as usize);
        }
        let mut cleared = false;
        loop {
            if let Some(i) = self.views.index_of(pane, key) {
                return Some(i);
            }
            let more = self.views.advance(store, &self.filter, pane, SCAN_SLICE);
            if !more && cleared {
                return None;
            }
            if !more {
                self.clear_filter_now(store);
                cleared = true;
            }
        }
    }

    /// The filter cleared, and the views rebuilt under none at once (not at the next
    /// frame): a row is about to be looked up in them.
    fn clear_filter_now(&mut self, store: &Store) {
        if self.filter.is_empty() {
            return;
        }
        self.input.clear();
        self.filter = Filter::default();
        self.filter_dirty = false;
        self.views.rebuild(store, &self.filter);
        self.lists = [ListState::default(); 4];
        self.notice = Some("filter cleared to show the alert's cause".into());
    }
}
