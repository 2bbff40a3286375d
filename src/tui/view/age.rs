//! Staleness: what a row's last word says as of now. A call whose end never arrived is
//! not in progress for ever, and a message stuck at `sent` looks stuck. Judged at draw
//! time from the timestamps a line already holds (only visible rows), never by a scan.

use chrono::{DateTime, TimeDelta, Utc};

use crate::store::{CallPhase, CallRow, MessageRow, Status, Store};

/// Past this with no further webhook, a ringing call's end was lost. WhatsApp gives up
/// ringing within about a minute (the caller then gets `call.missed`); two leave room for
/// a slow webhook.
pub const RINGING_BOUND: TimeDelta = TimeDelta::minutes(2);

/// Past this, a connected call's `call.ended` was lost. WhatsApp documents no cap, but a
/// business call of hours is rare while a lost webhook is not: four keeps a real long
/// call counting up and stops a dead one from doing so for days.
pub const CONNECTED_BOUND: TimeDelta = TimeDelta::hours(4);

/// A message at `queued` or `sent` this long is flagged as stuck. One constant: the
/// alerts to come use the same default (`stuck_message = "10m"`) and make it a setting.
pub const STUCK_MESSAGE: TimeDelta = TimeDelta::minutes(10);

/// A call as of now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallNow {
    /// Ended or missed: its end is on record.
    Over,
    /// Ringing or connected, and heard of recently.
    Live,
    /// Ringing or connected, but silent past its bound, or in a file (`pilotwatch open`),
    /// where nothing is live: shown as "no end received".
    NoEnd,
}

/// `last`: when the call was last heard of ([`last_heard`]). `in_file`: the dashboard
/// shows a journal file, not a running receiver.
pub fn call_now(
    phase: CallPhase,
    last: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    in_file: bool,
) -> CallNow {
    let Some(bound) = bound(phase) else {
        return CallNow::Over;
    };
    // With no time at all there is nothing to count from: not live either.
    match last {
        Some(at) if !in_file && now - at <= bound => CallNow::Live,
        _ => CallNow::NoEnd,
    }
}

/// How long a call in this phase stays live without news (`None`: it is over).
fn bound(phase: CallPhase) -> Option<TimeDelta> {
    match phase {
        CallPhase::Ended | CallPhase::Missed => None,
        CallPhase::Ringing => Some(RINGING_BOUND),
        CallPhase::Connected => Some(CONNECTED_BOUND),
    }
}

/// Calls (keys given newest first) as the Calls pane lists them: those in progress
/// first, then the rest (those whose end never came among them), newest first in each.
/// Also when the first live one will go stale, to order them again then and not before.
pub fn order_calls(
    newest_first: impl Iterator<Item = u64>,
    store: &Store,
    now: DateTime<Utc>,
    in_file: bool,
) -> (Vec<u64>, Option<DateTime<Utc>>) {
    let (mut live, mut rest, mut expire) = (Vec::new(), Vec::new(), None::<DateTime<Utc>>);
    for o in newest_first {
        let Some(c) = store.calls().row(o) else {
            rest.push(o);
            continue;
        };
        let last = last_heard(c, store);
        if call_now(c.phase, last, now, in_file) != CallNow::Live {
            rest.push(o);
            continue;
        }
        if let Some(stale) = last.zip(bound(c.phase)).map(|(l, b)| l + b) {
            expire = Some(expire.map_or(stale, |e| e.min(stale)));
        }
        live.push(o);
    }
    live.append(&mut rest);
    (live, expire)
}

/// The latest of the call's event times and the arrival of its newest delivery (when
/// still in memory): a provider clock running late does not make a fresh call stale.
pub fn last_heard(c: &CallRow, store: &Store) -> Option<DateTime<Utc>> {
    let arrived = c
        .seqs
        .iter()
        .next_back()
        .and_then(|s| store.record(s))
        .map(|r| r.received_at);
    [c.ringing_at, c.connected_at, arrived]
        .into_iter()
        .flatten()
        .max()
}

/// When an outbound message reached the status it still waits at (`queued`, `sent`):
/// the age the Messages pane shows. `None` for the others, which wait for nothing.
pub fn waiting_since(m: &MessageRow, store: &Store) -> Option<DateTime<Utc>> {
    match m.status() {
        // `created_at` of an accepted reply is when the 202 was recorded.
        Status::Queued => m.created_at,
        Status::Sent => m
            .lifecycle
            .sent
            .and_then(|s| s.at.or_else(|| store.record(s.seq).map(|r| r.received_at)))
            .or(m.created_at),
        _ => None,
    }
}

/// Whether a message waiting since `since` is stuck as of `now`.
pub fn is_stuck(since: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now - since > STUCK_MESSAGE
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn a_call_silent_past_its_bound_has_no_end_received() {
        let now = at("2026-11-21T12:00:00Z");
        let ago = |m: i64| Some(now - TimeDelta::minutes(m));
        assert_eq!(
            call_now(CallPhase::Ringing, ago(1), now, false),
            CallNow::Live
        );
        assert_eq!(
            call_now(CallPhase::Ringing, ago(3), now, false),
            CallNow::NoEnd
        );
        assert_eq!(
            call_now(CallPhase::Connected, ago(3), now, false),
            CallNow::Live
        );
        assert_eq!(
            call_now(CallPhase::Connected, ago(5 * 60), now, false),
            CallNow::NoEnd
        );
        assert_eq!(
            call_now(CallPhase::Ended, ago(600), now, false),
            CallNow::Over
        );
        assert_eq!(
            call_now(CallPhase::Ringing, None, now, false),
            CallNow::NoEnd
        );
    }

    #[test]
    fn nothing_is_live_in_a_file() {
        let now = at("2026-11-21T12:00:00Z");
        assert_eq!(
            call_now(CallPhase::Connected, Some(now), now, true),
            CallNow::NoEnd
        );
        assert_eq!(
            call_now(CallPhase::Missed, Some(now), now, true),
            CallNow::Over
        );
    }

    #[test]
    fn a_message_is_stuck_past_the_threshold() {
        let now = at("2026-11-21T12:00:00Z");
        assert!(!is_stuck(now - TimeDelta::minutes(9), now));
        assert!(is_stuck(now - TimeDelta::minutes(11), now));
    }
}
