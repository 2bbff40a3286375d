//! `serve --nats`: publish the journal to the stream, after the ack, never delaying it.
//!
//! The local journal decides the 2xx (fdatasync first, as always); this task tails it
//! by seq and publishes each durable record, one confirmed at a time, so a NATS outage
//! only grows a backlog that the journal already holds. On (re)connection it resumes
//! after the newest record the stream holds for this receiver (or the cursor file,
//! which also knows the trailing records the stream refused as duplicates).

mod cursor;
mod publish;
mod records;
pub mod repair;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::Mutex;

use crate::bus::nats::NatsBus;
use crate::bus::{Bus, BusTarget};
use crate::ingest::Ingest;
use crate::timing::Histogram;

pub use cursor::Cursor;

/// Records read and published per round.
const BATCH: usize = 256;
/// Reconnection waits grow to this.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct OutboxSettings {
    pub target: BusTarget,
    /// This receiver's name in subjects and headers (a NATS subject token).
    pub receiver: String,
    /// Copies of the stream when this receiver creates it.
    pub replicas: usize,
}

/// What the outbox has done, for `/healthz`, `/metrics` and the header.
#[derive(Debug, Default)]
pub struct OutboxStats {
    /// The newest seq the stream confirmed (stored, or already there).
    pub confirmed: AtomicU64,
    pub published: AtomicU64,
    /// Confirmed as already in the stream (another receiver had it, or a retry).
    pub duplicates: AtomicU64,
    /// From a record's journaling to its confirmation by the stream.
    pub lag: Histogram,
    /// Connected and caught up, or why not.
    pub problem: Mutex<Option<String>>,
    pub connected: std::sync::atomic::AtomicBool,
}

impl OutboxStats {
    /// Records journaled (up to `journaled`, the journal's newest durable seq) and not
    /// yet confirmed by the stream.
    pub fn backlog(&self, journaled: u64) -> u64 {
        journaled.saturating_sub(self.confirmed.load(Ordering::Relaxed))
    }

    /// As a header shows it (`journaled`: the journal's newest durable seq).
    pub fn status(&self, receiver: &str, journaled: u64) -> crate::bus::NatsStatus {
        crate::bus::NatsStatus {
            receiver: receiver.to_owned(),
            connected: self.connected.load(Ordering::Relaxed),
            backlog: self.backlog(journaled),
            problem: self
                .problem
                .lock()
                .as_deref()
                .map(|p| crate::sanitize::line(p, 160)),
        }
    }

    fn set_problem(&self, why: Option<String>) {
        if let Some(w) = &why {
            tracing::warn!(why = %w, "nats outbox");
        }
        *self.problem.lock() = why;
    }
}

/// The running outbox: stop it with [`Outbox::finish`].
#[derive(Debug)]
pub struct Outbox {
    stop: tokio::sync::watch::Sender<bool>,
    done: tokio::sync::oneshot::Receiver<()>,
}

impl Outbox {
    /// On a thread of its own at a lower priority, with its own runtime (and so its
    /// own NATS connection): reading the journal back and publishing never takes a
    /// worker from the receiver, and under a full load the acks go first.
    pub fn start(settings: OutboxSettings, ingest: Arc<Ingest>, stats: Arc<OutboxStats>) -> Self {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let (done_tx, done) = tokio::sync::oneshot::channel();
        let unstarted = stats.clone();
        let spawned = std::thread::Builder::new()
            .name("pilotwatch-outbox".into())
            .spawn(move || {
                let lower = thread_priority::ThreadPriorityValue::try_from(25u8)
                    .map(thread_priority::ThreadPriority::Crossplatform);
                if let Ok(p) = lower
                    && let Err(e) = thread_priority::set_current_thread_priority(p)
                {
                    tracing::debug!(error = ?e, "the outbox runs at normal priority");
                }
                match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt.block_on(run(settings, ingest, stats, stopped)),
                    Err(e) => stats.set_problem(Some(format!("nats: cannot start: {e}"))),
                }
                let _ = done_tx.send(());
            });
        if let Err(e) = spawned {
            unstarted.set_problem(Some(format!("nats: cannot start the outbox: {e}")));
        }
        Self { stop, done }
    }

    /// Publish what is durable (for up to `grace`), save the cursor, and stop.
    pub async fn finish(self, grace: Duration) {
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(grace, self.done).await;
    }
}

async fn run(
    settings: OutboxSettings,
    ingest: Arc<Ingest>,
    stats: Arc<OutboxStats>,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) {
    let Some(journal) = ingest.journal_path().map(|p| p.to_owned()) else {
        stats.set_problem(Some("no journal: nothing to publish from".into()));
        return;
    };
    let cursor_path = cursor::path_for(&journal);
    // Until the stream says, the cursor is the best guess of where publishing stands
    // (a backlog of the whole journal would be a false alarm).
    let saved = Cursor::load(&cursor_path);
    if let Some(c) = &saved {
        stats.confirmed.store(c.seq, Ordering::Relaxed);
    }
    let mut state = publish::State::default();
    let mut attempts = 0u32;
    let mut again_loaded = false;
    // This process, as the holder of its receiver name on the stream.
    let instance = uuid::Uuid::new_v4().to_string();
    loop {
        if *stopped.borrow() {
            return;
        }
        let name = format!("pilotwatch serve {}", settings.receiver);
        let session = async {
            let bus = NatsBus::connect(&settings.target, &name).await?;
            bus.ensure_stream(settings.replicas).await?;
            stats.connected.store(true, Ordering::Relaxed);
            let created = bus.stream_created().await?;
            // One publisher per receiver name: two receivers sharing one would drop
            // each other's records as duplicates, and take them out as out of order.
            if !bus
                .lease(
                    &publish::name_lease(&settings.receiver),
                    &instance,
                    publish::NAME_TTL,
                )
                .await?
            {
                return Err(crate::bus::BusError(format!(
                    "another receiver named {} publishes to this stream: give each its own --nats-receiver (this one waits)",
                    settings.receiver
                )));
            }
            // Where the stream stands: after a session of ours, from what it confirmed;
            // at start, from the cursor (for this very stream) or, without one, from the
            // newest record of ours the stream holds.
            let mark = match (state.mark, &saved) {
                (Some(m), _) => Some(m),
                (None, Some(c)) if c.matches(&settings.target.stream, &created) => {
                    if !again_loaded {
                        state.again.extend(c.again.iter().copied());
                        again_loaded = true;
                    }
                    c.mark()
                }
                _ => None,
            };
            let mut access = publish::JournalAccess {
                settings: &settings,
                journal: &journal,
                created: &created,
                room: bus.max_payload().saturating_sub(4096).max(64 << 10),
                again: state.again.clone(),
            };
            let from = match mark {
                Some(m) => {
                    let at =
                        repair::repair(&bus, &settings.receiver, m, &mut state.again, &mut access)
                            .await?;
                    // What was put back under its own id is published: not again.
                    state.again.retain(|seq, _| *seq > at.seq);
                    at
                }
                None => repair::Mark {
                    seq: bus.last_of(&settings.receiver).await?,
                    position: bus.last_position().await?,
                },
            };
            state.mark = Some(from);
            let ctx = publish::Context {
                bus: &bus,
                settings: &settings,
                ingest: &ingest,
                stats: &stats,
                journal: &journal,
                created: &created,
                instance: &instance,
            };
            let ended = ctx.run(&mut state, &mut stopped).await;
            if ended.is_ok() {
                // Stopping: the name is free for this receiver's next start at once.
                let _ = bus
                    .release(&publish::name_lease(&settings.receiver), &instance)
                    .await;
            }
            ended
        };
        let ended = session.await;
        stats.connected.store(false, Ordering::Relaxed);
        match ended {
            Ok(()) => return,
            Err(e) => {
                attempts += 1;
                stats.set_problem(Some(format!("nats: {e}")));
            }
        }
        let wait = Duration::from_millis(250 << attempts.min(5)).min(MAX_BACKOFF);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stopped.changed() => return,
        }
    }
}
