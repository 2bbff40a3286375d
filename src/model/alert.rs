//! An alert as it is journaled, notified and shown: the body of an `alert` record. The
//! service's evaluator writes one record per transition (pending, firing, resolved), one
//! per repeated notification of a still-firing alert, and one per notification outcome,
//! so `attach`, `open` and a restart all rebuild the same alert history, and a restarted
//! service knows what it already notified.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::sanitize::line as clean;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    /// Firing comes first wherever alerts are listed.
    Firing,
    /// The condition holds, but not yet for the rule's `for`.
    Pending,
    Resolved,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Firing => "firing",
            Self::Resolved => "resolved",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Critical => "critical",
            Self::Warning => "warning",
            Self::Info => "info",
        }
    }
}

/// What an alert is about, for the dashboard's `Enter`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Cause {
    /// A number (its row in the Numbers pane).
    Number { id: String },
    /// A message, by its Pilot Status id (the oldest of those stuck, say).
    Message { id: String },
    /// A delivery, by seq (the newest refused one).
    Delivery { seq: u64 },
}

/// One alert at one transition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    /// The rule: `number_disconnected`, `stuck_message`, …
    pub name: String,
    pub state: AlertState,
    pub severity: Severity,
    /// The number it is about, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// One line for a person: what is wrong, with the figures that say so.
    pub summary: String,
    /// When it started firing (for a pending one: when the condition began).
    pub starts_at: DateTime<Utc>,
    /// When it resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<DateTime<Utc>>,
    /// Bounded labels (`alertname`, `severity`, `number`): never a contact or a message.
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<Cause>,
    /// For a resolved alert: whether it had fired (one that only was pending was never
    /// notified, so its end is not either).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fired: bool,
}

impl Alert {
    /// The identity of an alert across its transitions: the rule and its number.
    pub fn key(&self) -> AlertKey {
        AlertKey::new(&self.name, self.number.as_deref())
    }

    /// Made safe to show: a journal opened with `open` may come from anywhere.
    pub fn sanitised(mut self) -> Self {
        self.name = clean(&self.name, 64);
        self.summary = clean(&self.summary, 300);
        self.number = self.number.map(|n| clean(&n, 80));
        self.labels = self
            .labels
            .into_iter()
            .take(16)
            .map(|(k, v)| (clean(&k, 64), clean(&v, 120)))
            .collect();
        self.cause = self.cause.map(|c| match c {
            Cause::Number { id } => Cause::Number { id: clean(&id, 80) },
            Cause::Message { id } => Cause::Message {
                id: clean(&id, 120),
            },
            d @ Cause::Delivery { .. } => d,
        });
        self
    }
}

/// `rule` or `rule/number`: one alert's identity (Alertmanager's fingerprint).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AlertKey(pub String);

impl AlertKey {
    pub fn new(name: &str, number: Option<&str>) -> Self {
        match number {
            Some(n) => Self(format!("{name}/{n}")),
            None => Self(name.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where a notification went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// `--alert-exec`.
    Exec,
    /// `--alert-webhook`.
    Webhook,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Exec => "exec",
            Self::Webhook => "webhook",
        }
    }
}

/// What came of one notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notified {
    pub key: AlertKey,
    /// The state that was notified (`firing` for a repeat too).
    pub state: AlertState,
    pub channel: Channel,
    pub ok: bool,
    /// `exit 0`, `exit 2`, `HTTP 200`, `timed out`…
    pub status: String,
    /// The command's stderr or the webhook's answer, its first bytes, sanitised.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
    pub attempts: u32,
}

/// How often an active alert's summary is written again while what it says changes.
pub const SUMMARY_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// The body of an `alert` record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum AlertRecord {
    /// The alert changed state.
    Transition(Alert),
    /// Still firing after `repeat`: notified again.
    Repeat(Alert),
    /// Still pending or firing, and what it says changed (a count, the newest case):
    /// the new summary, at most once a [`SUMMARY_EVERY`]. Not notified.
    Updated(Alert),
    /// A notification's outcome.
    Notified(Notified),
}

impl AlertRecord {
    /// The record's event name: `alert.firing`, `alert.repeat`, `alert.notified`…
    pub fn event(&self) -> &'static str {
        match self {
            Self::Transition(a) => match a.state {
                AlertState::Pending => "alert.pending",
                AlertState::Firing => "alert.firing",
                AlertState::Resolved => "alert.resolved",
            },
            Self::Repeat(_) => "alert.repeat",
            Self::Updated(_) => "alert.updated",
            Self::Notified(_) => "alert.notified",
        }
    }

    /// One line for the headless output and the feed.
    pub fn summary(&self) -> String {
        match self {
            Self::Transition(a) | Self::Repeat(a) | Self::Updated(a) => clean(
                &format!("{} {}: {}", a.state.as_str(), a.key().as_str(), a.summary),
                300,
            ),
            Self::Notified(n) => clean(
                &format!(
                    "{} {} via {}: {}{}",
                    n.key.as_str(),
                    n.state.as_str(),
                    n.channel.as_str(),
                    n.status,
                    if n.detail.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", n.detail)
                    }
                ),
                300,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(state: AlertState) -> Alert {
        Alert {
            name: "number_disconnected".into(),
            state,
            severity: Severity::Critical,
            number: Some("num_1".into()),
            summary: "Main store disconnected for 2m".into(),
            starts_at: "2026-11-29T10:00:00Z".parse().unwrap(),
            ends_at: None,
            labels: BTreeMap::from([("alertname".into(), "number_disconnected".into())]),
            cause: Some(Cause::Number { id: "num_1".into() }),
            fired: false,
        }
    }

    #[test]
    fn records_round_trip_and_name_their_event() {
        for r in [
            AlertRecord::Transition(alert(AlertState::Firing)),
            AlertRecord::Repeat(alert(AlertState::Firing)),
            AlertRecord::Updated(alert(AlertState::Pending)),
            AlertRecord::Notified(Notified {
                key: AlertKey::new("number_disconnected", Some("num_1")),
                state: AlertState::Firing,
                channel: Channel::Exec,
                ok: false,
                status: "exit 2".into(),
                detail: "no route".into(),
                attempts: 1,
            }),
        ] {
            let json = serde_json::to_string(&r).unwrap();
            assert_eq!(serde_json::from_str::<AlertRecord>(&json).unwrap(), r);
        }
        let json =
            serde_json::to_value(AlertRecord::Transition(alert(AlertState::Pending))).unwrap();
        assert_eq!(json["type"], "transition");
        assert_eq!(json["state"], "pending");
        assert_eq!(json["startsAt"], "2026-11-29T10:00:00Z");
        assert_eq!(json["cause"]["kind"], "number");
        assert_eq!(
            AlertRecord::Transition(alert(AlertState::Resolved)).event(),
            "alert.resolved"
        );
    }

    #[test]
    fn sanitising_strips_escapes() {
        let mut a = alert(AlertState::Firing);
        a.summary = "bad \u{1b}]0;title\u{7} news".into();
        a.number = Some("n\u{1b}[2J".into());
        let a = a.sanitised();
        assert!(!a.summary.contains('\u{1b}'));
        assert!(!a.number.unwrap().contains('\u{1b}'));
    }
}
