//! On NATS, one service evaluates the alerts: whoever holds the `alerts` lease (a
//! JetStream KV key that expires unless renewed). The holder evaluates over every
//! receiver's records (a merged view of the stream) and journals the transitions in
//! its own journal, whence they reach the stream like any record. The others stand
//! by and take over when the lease expires.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::AlertSettings;
use crate::bus::Bus;
use crate::bus::nats::NatsBus;
use crate::ingest::Ingest;
use crate::outbox::OutboxSettings;

/// The lease lapses this long after its holder last renewed it.
pub const TTL: Duration = crate::bus::LEASE_TTL;
/// Renewed (or tried for) this often.
const EVERY: Duration = Duration::from_secs(5);

/// What follows every receiver's records into a store: the store, a watch that turns
/// true once it holds what the stream held when it began, and its task.
pub type View = fn(
    crate::bus::BusTarget,
    usize,
) -> (
    crate::store::SharedStore,
    tokio::sync::watch::Receiver<bool>,
    tokio::task::JoinHandle<()>,
);

/// Hold the lease when free, evaluate while holding it (over what `view` follows);
/// until aborted.
pub async fn run(
    nats: OutboxSettings,
    settings: AlertSettings,
    ingest: Arc<Ingest>,
    holds: Arc<AtomicBool>,
    view: View,
) {
    let name = format!("pilotwatch serve {} (alerts)", nats.receiver);
    let mut evaluating: Option<Evaluating> = None;
    let mut tick = tokio::time::interval(EVERY);
    let mut bus: Option<NatsBus> = None;
    loop {
        tick.tick().await;
        if bus.is_none() {
            bus = NatsBus::connect(&nats.target, &name).await.ok();
        }
        // Within 4 s or not at all: a holder cut off from NATS stops evaluating within
        // 9 s of its last renewal, before the lease (15 s) can pass to another.
        let held = match &bus {
            Some(b) => {
                let renewing = b.lease("alerts", &nats.receiver, TTL);
                match tokio::time::timeout(Duration::from_secs(4), renewing).await {
                    Ok(Ok(h)) => h,
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "nats: the alerts lease could not be renewed");
                        false
                    }
                    Err(_) => {
                        tracing::warn!("nats: the alerts lease was not renewed within 4 s");
                        bus = None;
                        false
                    }
                }
            }
            None => false,
        };
        match (held, evaluating.is_some()) {
            (true, false) => {
                tracing::info!(receiver = %nats.receiver, "alerts: this service evaluates them (lease taken)");
                evaluating = Some(Evaluating::start(&nats, &settings, &ingest, view));
            }
            (false, true) => {
                tracing::info!(receiver = %nats.receiver, "alerts: lease lost, standing by");
                evaluating = None;
            }
            _ => {}
        }
        holds.store(held, Ordering::Relaxed);
    }
}

/// The view and the evaluator, stopped when dropped.
struct Evaluating {
    view: tokio::task::JoinHandle<()>,
    alerts: tokio::task::JoinHandle<()>,
}

impl Evaluating {
    fn start(
        nats: &OutboxSettings,
        settings: &AlertSettings,
        ingest: &Arc<Ingest>,
        view: View,
    ) -> Self {
        let capacity = ingest.store().read().capacity();
        let (store, mut live, view) = view(nats.target.clone(), capacity);
        let (settings, ingest) = (settings.clone(), ingest.clone());
        // Evaluated only once the view holds the stream's records: on an empty view
        // every firing alert would look resolved.
        let alerts = tokio::spawn(async move {
            if live.wait_for(|l| *l).await.is_ok() {
                super::run(settings, ingest, Some(store), chrono::Utc::now()).await;
            }
        });
        Self { view, alerts }
    }
}

impl Drop for Evaluating {
    fn drop(&mut self) {
        self.view.abort();
        self.alerts.abort();
    }
}
