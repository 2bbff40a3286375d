//! Alerts, evaluated once, by the service: every tick the rules read the store
//! ([`eval`]), the state machine decides what changed ([`machine`]), each change is
//! journaled as an `alert` record (so `attach`, `open` and a restart see the same
//! history) and only then told to the notifiers ([`notify`]), whose outcomes are
//! journaled too. What the machine knows of alerts already raised it reads back from
//! the store, so a restarted service does not notify twice.
//!
//! The journal itself failing is the one alert that cannot be journaled: it is held in
//! memory and notified all the same.

pub mod eval;
pub mod lease;
pub mod machine;
pub mod notify;
pub mod rules;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use crate::ingest::{Incoming, Ingest};
use crate::model::alert::{AlertKey, AlertRecord, AlertState};
use crate::record::Record;
use machine::{Active, Machine};
use notify::{Notice, Notifiers, Targets};
pub use rules::{Rule, RuleSettings, Rules};

/// How often the rules are evaluated.
pub const TICK: Duration = Duration::from_secs(1);

#[derive(Debug, Clone)]
pub struct AlertSettings {
    /// `--no-alerts`: no rule is evaluated.
    pub enabled: bool,
    pub rules: Rules,
    pub targets: Targets,
}

impl Default for AlertSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            rules: Rules::default(),
            targets: Targets {
                exec_timeout: Duration::from_secs(30),
                webhook_timeout: Duration::from_secs(10),
                ..Targets::default()
            },
        }
    }
}

/// Evaluate the rules every [`TICK`] until the task is aborted.
/// Evaluate the rules over `view` (every receiver's records, on NATS) or, without one,
/// over the service's own store; transitions are journaled by `ingest`.
pub fn start(
    settings: AlertSettings,
    ingest: Arc<Ingest>,
    view: Option<crate::store::SharedStore>,
) -> tokio::task::JoinHandle<()> {
    let started = Utc::now();
    tokio::spawn(async move { run(settings, ingest, view, started).await })
}

async fn run(
    settings: AlertSettings,
    ingest: Arc<Ingest>,
    view: Option<crate::store::SharedStore>,
    started: DateTime<Utc>,
) {
    let (outcomes_tx, mut outcomes) = mpsc::unbounded_channel();
    let notifiers = Notifiers::start(settings.targets.clone(), outcomes_tx);
    let mut machine = Machine::default();
    // What could not be journaled (the journal failed), so it is not raised again.
    let mut held: BTreeMap<AlertKey, Active> = BTreeMap::new();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            Some(outcome) = outcomes.recv() => {
                journal(&ingest, &AlertRecord::Notified(outcome)).await;
                continue;
            }
        }
        let now = Utc::now();
        let failure = ingest.failure();
        let (conditions, mut active) = {
            let own = ingest.store().read();
            let facts = eval::Facts {
                now,
                journal_failure: failure.as_deref(),
                started,
            };
            match &view {
                None => (
                    eval::evaluate(&settings.rules, &own, facts),
                    own.alerts()
                        .active_by_key()
                        .into_iter()
                        .map(|(k, row)| (k, Active::from(row)))
                        .collect(),
                ),
                Some(view) => {
                    let view = view.read();
                    // Our own transitions are in our store at once, in the view only once
                    // they have been through the stream: the newer of the two counts.
                    let active: BTreeMap<AlertKey, Active> =
                        crate::store::alerts::newest_active(own.alerts(), view.alerts())
                            .into_iter()
                            .map(|(k, row)| (k, Active::from(row)))
                            .collect();
                    (eval::evaluate(&settings.rules, &view, facts), active)
                }
            }
        };
        for (key, a) in &held {
            if a.alert.state == AlertState::Resolved {
                active.remove(key);
            } else {
                active.insert(key.clone(), a.clone());
            }
        }
        let records = machine.step(&settings.rules, conditions, &active, now);
        let mut wrote = false;
        for r in &records {
            if journal(&ingest, r).await {
                wrote = true;
            } else {
                hold(&mut held, r, now, &active);
            }
            if let Some((alert, repeat)) = machine::notifiable(r) {
                notifiers.send(&Notice {
                    alert: alert.clone(),
                    repeat,
                });
            }
        }
        // The next tick must see these in the store.
        if wrote {
            ingest.settled().await;
        }
    }
}

/// Journal one alert record; false when the journal would not take it.
async fn journal(ingest: &Ingest, r: &AlertRecord) -> bool {
    let incoming = Incoming {
        record: Record::alert(r),
        identity: None,
    };
    match ingest.submit(incoming).await {
        Ok(_) => true,
        Err(e) => {
            tracing::warn!(error = %e, event = r.event(), "alert not journaled: {}", r.summary());
            false
        }
    }
}

/// Keep in memory what the journal would not take.
fn hold(
    held: &mut BTreeMap<AlertKey, Active>,
    r: &AlertRecord,
    now: DateTime<Utc>,
    active: &BTreeMap<AlertKey, Active>,
) {
    match r {
        AlertRecord::Transition(a) => {
            let last_notified = (a.state == AlertState::Firing).then_some(now);
            held.insert(
                a.key(),
                Active {
                    alert: a.clone(),
                    last_notified,
                    summarized: now,
                },
            );
        }
        AlertRecord::Repeat(a) => {
            if let Some(h) = held.get_mut(&a.key()) {
                h.last_notified = Some(now);
                h.alert.summary.clone_from(&a.summary);
                h.summarized = now;
            } else {
                held.insert(
                    a.key(),
                    Active {
                        alert: a.clone(),
                        last_notified: Some(now),
                        summarized: now,
                    },
                );
            }
        }
        // Held as it was active, with what it says now: not written again each tick.
        AlertRecord::Updated(a) => {
            let h = match held.entry(a.key()) {
                std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::btree_map::Entry::Vacant(e) => match active.get(&a.key()) {
                    Some(was) => e.insert(was.clone()),
                    None => return,
                },
            };
            h.alert.summary.clone_from(&a.summary);
            h.alert.cause.clone_from(&a.cause);
            h.summarized = now;
        }
        AlertRecord::Notified(_) => {}
    }
}
