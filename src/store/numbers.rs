//! Numbers by `numberId`: connection state, latest health transition, and the message
//! counts the dashboard shows beside them.

use std::collections::VecDeque;

use crate::store::HashMap;

use chrono::{DateTime, Utc};

use crate::model::event::{NumberEvent, NumberKind, Text};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum NumberState {
    /// Seen only in message events so far.
    Unknown,
    Created,
    Connected,
    Disconnected,
    Removed,
    /// A soft-deleted number came back; the provider says it returns disconnected.
    Restored,
}

impl NumberState {
    /// Connected and able to send: a restored number comes back disconnected.
    pub fn is_connected(self) -> bool {
        self == Self::Connected
    }

    /// The provider said it cannot send: created and not yet connected, disconnected,
    /// or restored (which comes back disconnected). A removed number is gone on purpose,
    /// and one seen only in messages (unknown) was never said to be anything.
    pub fn is_down(self) -> bool {
        matches!(self, Self::Created | Self::Disconnected | Self::Restored)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Created => "created",
            Self::Connected => "connected",
            Self::Disconnected => "disconnected",
            Self::Removed => "removed",
            Self::Restored => "restored",
        }
    }
}

/// A `number.health_*` transition.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Health {
    /// The suffix: `degraded`, `ok`, …
    pub name: Text,
    pub error: Option<Text>,
    pub error_code: Option<Text>,
    pub at: Option<DateTime<Utc>>,
    pub seq: u64,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NumberRow {
    pub number_id: Text,
    pub phone: Option<Text>,
    pub display_name: Option<Text>,
    pub profile_name: Option<Text>,
    pub state: NumberState,
    /// `createdAt` of the event that set `state`, and its seq (the tie-breaker).
    pub state_at: Option<DateTime<Utc>>,
    pub state_seq: u64,
    pub health: Option<Health>,
    /// The error carried by the last lifecycle event, if any.
    pub error: Option<(Text, Option<Text>)>,
    /// When anything about it last changed (event time, else arrival).
    pub changed_at: DateTime<Utc>,
    pub messages_in: u64,
    pub messages_out: u64,
    pub failures: u64,
    /// Its `number.*` deliveries (message events count above, not here).
    pub seqs: RecentSeqs,
}

/// The newest deliveries (seqs) behind a row, and how many there were in all. A number
/// or a call can be sent events without end; kept forever, their seqs grew 8 B apiece
/// (48 MB at 3M `number.*` events). The feed and the journal still hold every delivery.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RecentSeqs {
    kept: VecDeque<u64>,
    total: u64,
}

impl RecentSeqs {
    /// A call has a handful of events; a flapping number's latest transitions are what a
    /// person reads, and the feed (which holds `--capacity` deliveries) has the rest.
    pub const KEPT: usize = 64;

    pub(crate) fn push(&mut self, seq: u64) {
        // Make room first, so the deque never grows past `KEPT`.
        if self.kept.len() == Self::KEPT {
            self.kept.pop_front();
        }
        self.kept.push_back(seq);
        self.total += 1;
    }

    /// The newest ones, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = u64> + ExactSizeIterator + '_ {
        self.kept.iter().copied()
    }

    /// How many are kept (at most [`Self::KEPT`]).
    pub fn len(&self) -> usize {
        self.kept.len()
    }

    pub fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }

    /// Every delivery this row ever had, kept or not.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The oldest ones no longer listed.
    pub fn dropped(&self) -> u64 {
        self.total - self.kept.len() as u64
    }

    pub fn first(&self) -> Option<u64> {
        self.kept.front().copied()
    }

    /// The deque's allocation: stays at the bound however many were pushed.
    pub fn capacity(&self) -> usize {
        self.kept.capacity()
    }
}

impl IntoIterator for RecentSeqs {
    type Item = u64;
    type IntoIter = std::collections::vec_deque::IntoIter<u64>;

    fn into_iter(self) -> Self::IntoIter {
        self.kept.into_iter()
    }
}

impl NumberRow {
    fn new(number_id: Text, now: DateTime<Utc>) -> Self {
        Self {
            number_id,
            phone: None,
            display_name: None,
            profile_name: None,
            state: NumberState::Unknown,
            state_at: None,
            state_seq: 0,
            health: None,
            error: None,
            changed_at: now,
            messages_in: 0,
            messages_out: 0,
            failures: 0,
            seqs: RecentSeqs::default(),
        }
    }
}

/// Orders two events of one number: by event time when both have one, else arrival.
fn is_newer(
    at: Option<DateTime<Utc>>,
    seq: u64,
    than_at: Option<DateTime<Utc>>,
    than_seq: u64,
) -> bool {
    match (at, than_at) {
        (Some(a), Some(b)) if a != b => a > b,
        _ => seq > than_seq,
    }
}

#[derive(Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Numbers {
    rows: Vec<NumberRow>,
    by_id: HashMap<Text, usize>,
}

impl Numbers {
    /// A hostile sender could invent numberIds without end; past this many, the least
    /// recently changed is forgotten (its deliveries stay in the feed and journal).
    const MAX: usize = 10_000;

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// In the order first seen.
    pub fn iter(&self) -> impl Iterator<Item = &NumberRow> {
        self.rows.iter()
    }

    pub fn get(&self, number_id: &str) -> Option<&NumberRow> {
        self.by_id.get(number_id).map(|i| &self.rows[*i])
    }

    pub(crate) fn entry(&mut self, number_id: &Text, now: DateTime<Utc>) -> &mut NumberRow {
        if let Some(i) = self.by_id.get(number_id) {
            return &mut self.rows[*i];
        }
        if self.rows.len() >= Self::MAX {
            self.forget_stalest();
        }
        self.by_id.insert(number_id.clone(), self.rows.len());
        self.rows.push(NumberRow::new(number_id.clone(), now));
        self.rows.last_mut().expect("just pushed")
    }

    fn forget_stalest(&mut self) {
        let Some((i, _)) = self
            .rows
            .iter()
            .enumerate()
            .min_by_key(|(_, r)| r.changed_at)
        else {
            return;
        };
        let gone = self.rows.remove(i);
        self.by_id.remove(&gone.number_id);
        for idx in self.by_id.values_mut() {
            if *idx > i {
                *idx -= 1;
            }
        }
    }

    pub(crate) fn apply(&mut self, ev: &NumberEvent, seq: u64, received_at: DateTime<Utc>) {
        let row = self.entry(&ev.number_id, received_at);
        row.seqs.push(seq);
        let at = ev.created_at;
        let fresher = is_newer(at, seq, row.state_at, row.state_seq);
        // Names and phone: the freshest event's word, but never blanked.
        if fresher || row.phone.is_none() {
            row.phone = Some(ev.phone.clone());
            row.display_name = Some(ev.display_name.clone());
        }
        if ev.profile_name.is_some() && (fresher || row.profile_name.is_none()) {
            row.profile_name.clone_from(&ev.profile_name);
        }
        let when = at.unwrap_or(received_at);
        if when > row.changed_at || row.seqs.total() == 1 {
            row.changed_at = when;
        }
        let state = match &ev.kind {
            NumberKind::Health(name) => {
                if row
                    .health
                    .as_ref()
                    .is_none_or(|h| is_newer(at, seq, h.at, h.seq))
                {
                    row.health = Some(Health {
                        name: name.clone(),
                        error: ev.error.clone(),
                        error_code: ev.error_code.clone(),
                        at,
                        seq,
                    });
                }
                return;
            }
            NumberKind::Created => NumberState::Created,
            NumberKind::Connected => NumberState::Connected,
            NumberKind::Disconnected => NumberState::Disconnected,
            NumberKind::Removed => NumberState::Removed,
            NumberKind::Restored => NumberState::Restored,
        };
        if fresher || row.state == NumberState::Unknown {
            row.state = state;
            row.state_at = at;
            row.state_seq = seq;
            row.error = ev.error.clone().map(|e| (e, ev.error_code.clone()));
        }
    }
}
