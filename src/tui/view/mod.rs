//! What the panes show, derived from the store, in two parts: the row index
//! ([`index`]: which rows each pane shows under the filter, kept up to date
//! incrementally from the records since the last sync, each record naming the row it
//! changed) and the display lines ([`lines`]: each row sanitised and cut once, when it
//! first shows or after it changed — never per frame). [`Views`] holds both.

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Utc};

use crate::model::event::Text;
use crate::store::Store;

pub mod age;
pub mod alerts;
mod feed_line;
pub mod figures;
pub mod inbox;
mod index;
mod lines;
pub mod provider;
pub mod thread;

pub use index::Keys;
pub use lines::{CallLine, FeedLine, MessageLine, NumberLine, PermissionLine, ReplyBadge, clock};

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
    /// Indexes in `numbers` of those down: said not to be connected, by the webhooks or,
    /// where they said nothing of it, by the API (found when numbers change, so the
    /// overview's Attention does not look through them per frame).
    pub numbers_down: Vec<usize>,
    /// Indexes in `numbers`: the down first, then the unhealthy, then the rest, each in
    /// order (what a panel too short for the fleet shows first).
    pub numbers_by_trouble: Vec<usize>,
    /// Sanitised display names by numberId, for the Messages pane.
    pub number_names: HashMap<Text, String>,
    /// The same names by phone digits: a call's party that is one of ours.
    phone_names: HashMap<String, String>,
    /// The display lines of the rows drawn lately.
    lines: lines::Lines,
    /// The alerts' lines, built when the store's alert table changes.
    pub alerts: alerts::AlertLines,
    /// The provider's side (issue 18), built when it changes.
    pub provider: provider::ProviderView,
    /// Filter passes still walking older rows, by pane (see [`index::Scan`]).
    scans: [Option<index::Scan>; 4],
    /// The clock the calls were ordered by, whether a file is shown (nothing is live
    /// there), and when the next live call goes stale (it then leaves the live group).
    now: DateTime<Utc>,
    in_file: bool,
    calls_expire: Option<DateTime<Utc>>,
}

impl Views {
    /// Build the display lines of the rows about to be drawn, if not built yet.
    pub fn prepare(&mut self, store: &Store, pane: Pane, rows: impl Iterator<Item = u64>) {
        self.lines.prepare(store, pane, rows);
    }

    pub fn message_line(&self, ord: u64) -> Option<&MessageLine> {
        self.lines.message(ord)
    }

    pub fn call_line(&self, ord: u64) -> Option<&CallLine> {
        self.lines.call(ord)
    }

    pub fn feed_line(&self, seq: u64) -> Option<&FeedLine> {
        self.lines.feed(seq)
    }

    /// A call's party as shown: our number's name when its digits are one of our
    /// phones, `+` before a bare E.164 number (calls carry them without), else as is.
    pub fn party(&self, shown: &str) -> String {
        let d = digits(shown);
        if let Some(name) = self.phone_names.get(&d) {
            return name.clone();
        }
        let e164 = (8..=15).contains(&d.len()) && shown.chars().all(|c| c.is_ascii_digit());
        if e164 {
            format!("+{shown}")
        } else {
            shown.to_owned()
        }
    }
}

/// The digits of a phone (`+55 11 9…` and `5511 9…` match).
fn digits(phone: &str) -> String {
    phone.chars().filter(char::is_ascii_digit).collect()
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
