//! The overview: every live pane at once (issue 16). It is a screen over the panes'
//! own lists, not a pane of its own: each panel shows the newest rows of a pane, and
//! the focused panel's pane is `app.pane`, so moving and `Enter` there act on that
//! pane's list exactly as on the full-screen pane.

use super::{App, Effect};
use crate::store::Store;
use crate::tui::view::Pane;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Panel {
    Flow,
    Calls,
    Fleet,
    Attention,
    Activity,
}

impl Panel {
    /// Focus order (`Tab`): the order they read on screen (Fleet, Attention, Flow,
    /// Calls, Activity), from the Flow, which has the focus first.
    pub const ALL: [Panel; 5] = [
        Panel::Flow,
        Panel::Calls,
        Panel::Activity,
        Panel::Fleet,
        Panel::Attention,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Panel::Flow => "Flow",
            Panel::Calls => "Calls",
            Panel::Fleet => "Fleet",
            Panel::Attention => "Attention",
            Panel::Activity => "Activity · deliveries per second",
        }
    }

    /// The pane whose rows the panel lists (Attention gathers from several).
    pub fn pane(self) -> Option<Pane> {
        match self {
            Panel::Flow => Some(Pane::Messages),
            Panel::Calls => Some(Pane::Calls),
            Panel::Fleet => Some(Pane::Numbers),
            Panel::Attention | Panel::Activity => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overview {
    /// The overview is on screen (else the pane `app.pane` is, full screen).
    pub shown: bool,
    pub focus: Panel,
    /// The focused panel fills the body (`z`).
    pub zoomed: bool,
}

impl Default for Overview {
    fn default() -> Self {
        Self {
            shown: true,
            focus: Panel::Flow,
            zoomed: false,
        }
    }
}

/// Rows of a list the overview may draw (a panel is never taller than the body): the
/// newest, and those up to the selection.
pub(super) fn rows_near(selected: usize, page: usize) -> impl Iterator<Item = usize> {
    let near = selected.saturating_sub(page).max(page)..selected + 1;
    (0..page).chain(near)
}

impl App {
    pub fn show_overview(&mut self) {
        self.overview.shown = true;
        if let Some(pane) = self.overview.focus.pane() {
            self.pane = pane;
        }
    }

    /// `Tab` in the overview: the next panel takes the focus (and its pane the keys).
    pub(super) fn next_panel(&mut self, step: usize) {
        let i = Panel::ALL
            .iter()
            .position(|p| *p == self.overview.focus)
            .unwrap_or(0);
        let n = Panel::ALL.len();
        self.overview.focus = Panel::ALL[(i + step) % n];
        if let Some(pane) = self.overview.focus.pane() {
            self.pane = pane;
        }
    }

    /// `Enter` in the overview: a message's or a call's detail; a number's messages
    /// (as on the Numbers pane, which then shows them full screen).
    pub(super) fn open_panel(&mut self, store: &Store) -> Option<Effect> {
        match self.overview.focus {
            Panel::Attention | Panel::Activity => {
                self.notice = Some("Tab to Flow, Calls or Fleet to open a row".into());
                None
            }
            Panel::Fleet => {
                let effect = self.open(store);
                self.overview.shown = self.pane != Pane::Messages;
                effect
            }
            _ => self.open(store),
        }
    }

    /// Build the display lines the overview's Flow, Calls and Attention draw: the newest
    /// rows and those around the selection, never more than a screenful each.
    pub(super) fn prepare_overview(&mut self, store: &Store) {
        for pane in [Pane::Messages, Pane::Calls] {
            let selected = self.lists[pane.index()].selected;
            let rows: Vec<u64> = rows_near(selected, self.page)
                .filter_map(|i| self.views.key_at(pane, i))
                .collect();
            self.views.prepare(store, pane, rows.into_iter());
        }
    }
}
