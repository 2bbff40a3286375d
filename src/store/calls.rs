//! Calls by `callId`, from ringing to their end; permission updates (which carry no
//! call id) kept apart; native `calls` envelopes linked by Meta's `wacid`.

use std::collections::VecDeque;

use crate::store::HashMap;

use chrono::{DateTime, Utc};

use crate::model::event::{CallEvent, CallKind, NativeCalls, Text};
use crate::record::Subject;
use crate::store::numbers::RecentSeqs;

/// How far a call got. Ranked so a late `ringing` does not undo `ended`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum CallPhase {
    Ringing,
    Connected,
    Ended,
    Missed,
}

impl CallPhase {
    pub fn is_over(self) -> bool {
        matches!(self, Self::Ended | Self::Missed)
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CallRow {
    pub call_id: Option<Text>,
    pub external_call_id: Option<Text>,
    pub direction: Option<Text>,
    pub from: Option<Text>,
    pub to: Option<Text>,
    pub phase: CallPhase,
    /// The provider's status of the furthest phase (`COMPLETED`, `REJECTED`, `MISSED`…).
    pub status: Text,
    pub ringing_at: Option<DateTime<Utc>>,
    pub connected_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// Seconds, from `call.ended` when the call was answered.
    pub duration: Option<i64>,
    pub seqs: RecentSeqs,
    /// Native `calls` envelopes about this call.
    pub native_seqs: RecentSeqs,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PermissionUpdate {
    pub status: Text,
    pub from: Option<Text>,
    pub to: Option<Text>,
    pub at: Option<DateTime<Utc>>,
    pub seq: u64,
}

#[derive(Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Calls {
    rows: VecDeque<CallRow>,
    front: u64,
    by_id: HashMap<Text, u64>,
    by_external: HashMap<Text, u64>,
    permissions: VecDeque<PermissionUpdate>,
}

impl Calls {
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Newest first.
    pub fn newest(&self) -> impl Iterator<Item = &CallRow> {
        self.rows.iter().rev()
    }

    pub fn get(&self, call_id: &str) -> Option<&CallRow> {
        self.by_id.get(call_id).and_then(|o| self.row(*o))
    }

    /// Newest first.
    pub fn permissions(&self) -> impl Iterator<Item = &PermissionUpdate> {
        self.permissions.iter().rev()
    }

    /// Ordinals in memory, oldest first.
    pub fn range(&self) -> std::ops::Range<u64> {
        self.front..self.front + self.rows.len() as u64
    }

    pub fn row(&self, ord: u64) -> Option<&CallRow> {
        self.rows
            .get(usize::try_from(ord.checked_sub(self.front)?).ok()?)
    }

    fn ord_of(&self, ev: &CallEvent) -> Option<u64> {
        let by_id = ev.call_id.as_ref().and_then(|id| self.by_id.get(id));
        let by_ext = || {
            ev.external_call_id
                .as_ref()
                .and_then(|id| self.by_external.get(id))
        };
        by_id.or_else(by_ext).copied().filter(|o| *o >= self.front)
    }

    pub(crate) fn apply(&mut self, ev: &CallEvent, seq: u64, capacity: usize) -> Subject {
        if ev.kind == CallKind::PermissionUpdated {
            self.permissions.push_back(PermissionUpdate {
                status: ev.status.clone(),
                from: ev.from.clone(),
                to: ev.to.clone(),
                at: ev.timestamp,
                seq,
            });
            if self.permissions.len() > capacity {
                self.permissions.pop_front();
            }
            return Subject::Permission;
        }
        let phase = match ev.kind {
            CallKind::Ringing => CallPhase::Ringing,
            CallKind::Connected => CallPhase::Connected,
            CallKind::Missed => CallPhase::Missed,
            CallKind::Ended | CallKind::PermissionUpdated => CallPhase::Ended,
        };
        let ord = match self.ord_of(ev) {
            Some(o) => o,
            None => {
                let ord = self.front + self.rows.len() as u64;
                self.rows.push_back(CallRow {
                    call_id: ev.call_id.clone(),
                    external_call_id: None,
                    direction: None,
                    from: None,
                    to: None,
                    phase,
                    status: ev.status.clone(),
                    ringing_at: None,
                    connected_at: None,
                    ended_at: None,
                    duration: None,
                    seqs: RecentSeqs::default(),
                    native_seqs: RecentSeqs::default(),
                });
                if let Some(id) = &ev.call_id {
                    self.by_id.insert(id.clone(), ord);
                }
                while self.rows.len() > capacity {
                    self.evict_front();
                }
                ord
            }
        };
        let idx = (ord - self.front) as usize;
        let row = &mut self.rows[idx];
        row.seqs.push(seq);
        if row.call_id.is_none()
            && let Some(id) = &ev.call_id
        {
            row.call_id = Some(id.clone());
            self.by_id.insert(id.clone(), ord);
        }
        let row = &mut self.rows[idx];
        for (slot, v) in [
            (&mut row.direction, &ev.direction),
            (&mut row.from, &ev.from),
            (&mut row.to, &ev.to),
        ] {
            if slot.is_none() {
                slot.clone_from(v);
            }
        }
        if row.external_call_id.is_none()
            && let Some(ext) = &ev.external_call_id
        {
            row.external_call_id = Some(ext.clone());
            self.by_external.insert(ext.clone(), ord);
        }
        let row = &mut self.rows[idx];
        if phase >= row.phase {
            row.phase = phase;
            row.status = ev.status.clone();
        }
        match phase {
            CallPhase::Ringing => row.ringing_at = row.ringing_at.or(ev.timestamp),
            CallPhase::Connected => row.connected_at = row.connected_at.or(ev.timestamp),
            CallPhase::Ended | CallPhase::Missed => {
                row.ended_at = row.ended_at.or(ev.timestamp);
                row.duration = row.duration.or(ev.duration);
            }
        }
        Subject::Call(ord)
    }

    pub(crate) fn apply_native(&mut self, native: &NativeCalls, seq: u64) -> Subject {
        let mut subject = Subject::None;
        for call in &native.calls {
            let Some(ord) = call
                .id
                .as_ref()
                .and_then(|id| self.by_external.get(id))
                .copied()
            else {
                continue;
            };
            if let Some(row) = ord
                .checked_sub(self.front)
                .and_then(|i| self.rows.get_mut(i as usize))
            {
                row.native_seqs.push(seq);
                subject = Subject::Call(ord);
            }
        }
        subject
    }

    fn evict_front(&mut self) {
        let Some(row) = self.rows.pop_front() else {
            return;
        };
        let ord = self.front;
        self.front += 1;
        for (map, key) in [
            (&mut self.by_id, &row.call_id),
            (&mut self.by_external, &row.external_call_id),
        ] {
            if let Some(k) = key
                && map.get(k) == Some(&ord)
            {
                map.remove(k);
            }
        }
    }
}
