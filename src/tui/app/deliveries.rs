//! The dashboard's side of the provider's delivery log (issue 18): the Deliveries view
//! (`8`) and its selection, `Enter` on an attempt the journal has going to that
//! delivery's detail. The reconciler reads the log; this only shows it.

use super::App;
use crate::model::alert::Cause;
use crate::store::Store;
use crate::tui::keymap::Command;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveriesPane {
    /// The view is on screen (full screen, as `7` shows the alerts).
    pub shown: bool,
    /// The selected attempt, newest first.
    pub selected: usize,
    /// The id of the attempt it is on, so one arriving does not move it.
    anchor: Option<String>,
}

impl App {
    /// `8`.
    pub(super) fn show_deliveries(&mut self) {
        self.overview.shown = false;
        self.latency = false;
        self.alerts.shown = false;
        self.deliveries.shown = true;
    }

    /// Fold the provider's side in (at each sync): its lines when it changed; the
    /// selection on the newest while following (as the panes), else kept on its
    /// attempt.
    pub(super) fn sync_deliveries(&mut self, store: &Store) {
        if !self.views.provider.sync(store) {
            return;
        }
        let lines = &self.views.provider.attempts;
        let d = &mut self.deliveries;
        if self.follow {
            d.selected = 0;
        } else if let Some(id) = &d.anchor
            && let Some(i) = lines.iter().position(|l| l.id == *id)
        {
            d.selected = i;
        }
        d.selected = d.selected.min(lines.len().saturating_sub(1));
        d.anchor = lines.get(d.selected).map(|l| l.id.clone());
    }

    /// A key on the Deliveries view: moving and `Enter`. `false`: not one of these (it
    /// acts as anywhere else).
    pub(super) fn deliveries_key(&mut self, command: Command, store: &Store) -> bool {
        let last = self.views.provider.attempts.len().saturating_sub(1);
        let page = self.page.max(1);
        let s = &mut self.deliveries.selected;
        // Moving off the newest stops following, as on the panes; `g` follows again.
        match command {
            Command::Top => self.follow = true,
            Command::Down | Command::PageDown | Command::Bottom => self.follow = false,
            _ => {}
        }
        match command {
            Command::Down => *s = (*s + 1).min(last),
            Command::Up => *s = s.saturating_sub(1),
            Command::PageDown => *s = (*s + page).min(last),
            Command::PageUp => *s = s.saturating_sub(page),
            Command::Top => *s = 0,
            Command::Bottom => *s = last,
            Command::Open => {
                let selected = self.views.provider.attempts.get(*s).map(|l| l.matched);
                match selected {
                    Some(Some(seq)) => self.go_to_cause(&Cause::Delivery { seq }, store),
                    Some(None) => {
                        self.notice =
                            Some("lost: the provider sent it and the journal never got it".into())
                    }
                    None => self.notice = Some("no attempt selected".into()),
                }
                return true;
            }
            Command::Reply | Command::Retry | Command::Replay | Command::Export | Command::Copy => {
                self.notice = Some("Enter opens the delivery: act on it there".into());
                return true;
            }
            // Tab goes back to the panes (as from the Alerts pane).
            Command::NextPane | Command::PrevPane => {
                self.deliveries.shown = false;
                return true;
            }
            _ => return false,
        }
        let d = &mut self.deliveries;
        d.anchor = (self.views.provider.attempts.get(d.selected)).map(|l| l.id.clone());
        true
    }
}
