//! The alerts the Alerts pane (`7`), the overview's Attention and the header show:
//! display lines built from the store's alert table when its version moves (a
//! transition, a repeat, a notification's outcome), never per frame. Ages are not in
//! them: they are counted from `app.now` at draw time, so they tick with the clock.

use chrono::{DateTime, Utc};

use crate::model::alert::{AlertKey, AlertState, Cause, Severity};
use crate::model::event::Text;
use crate::sanitize::line as clean;
use crate::store::{AlertRow, Alerts};

/// Ended alerts listed below the active ones (the store remembers more; a screenful
/// or two is what anyone scrolls through here).
pub const ENDED_SHOWN: usize = 100;

#[derive(Debug, Clone, PartialEq)]
pub struct AlertLine {
    pub key: AlertKey,
    /// `Resolved` for an ended one.
    pub state: AlertState,
    pub severity: Severity,
    pub name: String,
    /// The raw number id, to show the number's name at draw time (it may become known
    /// after the line was built)…
    pub number_id: Option<Text>,
    /// …and what to show while it has none.
    pub number_shown: String,
    pub summary: String,
    /// When it started firing (pending: when the condition began).
    pub starts_at: DateTime<Utc>,
    /// When it ended (`None` while active).
    pub ended_at: Option<DateTime<Utc>>,
    /// Whether it fired before it ended (one only pending was never notified).
    pub fired: bool,
    /// The newest notification outcome per channel: `exec ok`, `webhook HTTP 500 ✗`,
    /// and whether it worked.
    pub outcomes: Vec<(String, bool)>,
    /// Times it was notified again while still firing.
    pub repeats: u32,
    pub cause: Option<Cause>,
}

impl AlertLine {
    fn of(row: &AlertRow, ended: bool) -> Self {
        let a = &row.alert;
        Self {
            key: a.key(),
            state: if ended { AlertState::Resolved } else { a.state },
            severity: a.severity,
            name: clean(&a.name, 40),
            number_id: a.number.as_deref().map(Into::into),
            number_shown: a.number.as_deref().map_or(String::new(), |n| clean(n, 24)),
            summary: clean(&a.summary, 200),
            starts_at: a.starts_at,
            ended_at: ended.then(|| a.ends_at.unwrap_or(row.since)),
            fired: a.fired || a.state == AlertState::Firing,
            outcomes: row
                .outcomes
                .iter()
                .map(|n| {
                    let text = if n.ok {
                        format!("{} ok", n.channel.as_str())
                    } else {
                        format!("{} {} ✗", n.channel.as_str(), clean(&n.status, 24))
                    };
                    (text, n.ok)
                })
                .collect(),
            repeats: row.repeats,
            cause: a.cause.clone(),
        }
    }
}

/// The lines, as of the store's alert table at `version`.
#[derive(Debug, Default)]
pub struct AlertLines {
    version: u64,
    /// Pending and firing: firing first, then the most severe, then the oldest.
    pub active: Vec<AlertLine>,
    /// Ended, newest first (at most [`ENDED_SHOWN`]).
    pub ended: Vec<AlertLine>,
    /// Alerts firing now (the header's count).
    pub firing: usize,
}

impl AlertLines {
    /// Build the lines again if the table changed since. Returns whether it did.
    pub fn sync(&mut self, alerts: &Alerts) -> bool {
        if alerts.version == self.version {
            return false;
        }
        self.version = alerts.version;
        self.active = alerts
            .active()
            .into_iter()
            .map(|r| AlertLine::of(r, false))
            .collect();
        self.ended = alerts
            .ended()
            .take(ENDED_SHOWN)
            .map(|r| AlertLine::of(r, true))
            .collect();
        self.firing = alerts.firing();
        true
    }

    /// Active ones, then ended ones: the Alerts pane's rows.
    pub fn get(&self, index: usize) -> Option<&AlertLine> {
        self.active
            .get(index)
            .or_else(|| self.ended.get(index.checked_sub(self.active.len())?))
    }

    pub fn len(&self) -> usize {
        self.active.len() + self.ended.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Where an active alert is now (a resolved one has left the active list).
    pub fn index_of(&self, key: &AlertKey) -> Option<usize> {
        self.active.iter().position(|l| &l.key == key)
    }
}
