//! The one narrow interface from the receiver to everything downstream.
//!
//! Handlers [`Ingest::submit`] a delivery (its journal line already mostly encoded, on
//! the handler's own worker) and wait. A single [`writer`] thread is the sequencer: it
//! takes whatever is queued as one batch, gives each delivery its `seq`, decides
//! duplicates, appends the batch to the journal, `fdatasync`s once and releases the
//! handlers' 2xx (group commit). The durable batch then goes to the [`applier`] thread,
//! which folds it into the store and publishes the records (with their journal lines)
//! while the writer syncs the next batch; whoever needs the store to hold every
//! acknowledged delivery awaits [`Ingest::settled`]. A failed write or sync is fatal for acks: every later submit
//! fails, so the receiver answers 503 and never a 200 for an unwritten delivery.

mod applier;
mod dedupe;
mod writer;

pub use applier::Applied;
pub use dedupe::Dedupe;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;

use parking_lot::Mutex;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

use crate::journal::line;
use crate::journal::replay::{self, ReplayReport};
use crate::journal::storage::{self, FileStorage, NoStorage, Storage};
use crate::model::{self, Identity, Verdict};
use crate::record::{Record, RecordKind};
use crate::snapshot;
use crate::store::SharedStore;
use crate::timing::Timings;
use writer::{Job, Queued, Writer};

/// Most deliveries written (and synced) as one batch.
const MAX_BATCH: usize = 4096;
/// Replay reads this many times the store's capacity of the newest records (never
/// older ones: the store could not hold them), so a message whose lifecycle began a
/// little before the last `capacity` deliveries is still rebuilt whole.
const REPLAY_WINDOWS: u64 = 2;
/// Deliveries waiting for the writer before handlers queue up behind them.
const QUEUE: usize = 16 * 1024;
/// Records kept for subscribers that fall behind (headless output, later the UI).
const FANOUT: usize = 16 * 1024;

#[derive(Debug, Clone)]
pub struct IngestConfig {
    /// The active journal segment; `None` keeps no journal.
    pub journal: Option<PathBuf>,
    pub segment_max: u64,
    /// How many identities the dedupe index remembers.
    pub dedupe_window: usize,
    /// When to snapshot the store beside the journal (`None`: never; one there is used).
    pub snapshot: Option<snapshot::Policy>,
}

/// A delivery as the receiver hands it over: a [`Record`] whose `seq` and
/// `duplicate_of` the sequencer fills in, and its dedupe identity (`None`: rejected
/// deliveries, which are never deduplicated).
#[derive(Debug)]
pub struct Incoming {
    pub record: Record,
    pub identity: Option<Identity>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt {
    pub seq: u64,
    pub duplicate_of: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IngestError {
    /// The journal failed; nothing more can be made durable.
    Unavailable(String),
    /// Shutting down.
    Closed,
}

impl std::fmt::Display for IngestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unavailable(why) => write!(f, "journal unavailable: {why}"),
            Self::Closed => f.write_str("shutting down"),
        }
    }
}

pub struct Ingest {
    tx: mpsc::Sender<Job>,
    failure: Arc<Mutex<Option<String>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    store: SharedStore,
    fanout: broadcast::Sender<Applied>,
    last_seq: watch::Receiver<u64>,
    journal: Option<PathBuf>,
    /// The newest seq acknowledged (the store catches up with it just after).
    acked: Arc<AtomicU64>,
    /// Ack and `fdatasync` times, for `/metrics`.
    timings: Arc<Timings>,
}

impl Ingest {
    /// Replay the journal into `store`, then start the writer.
    pub fn start(config: &IngestConfig, store: SharedStore) -> io::Result<(Self, ReplayReport)> {
        let mut dedupe = Dedupe::new(config.dedupe_window);
        let Some(path) = &config.journal else {
            return Ok((
                Self::with_storage(Box::new(NoStorage), store, dedupe, 1),
                ReplayReport::default(),
            ));
        };
        let lock = storage::lock(path)?;
        let capacity = store.read().capacity();
        let (loaded, mut ignored) = snapshot::load_or_say(path, capacity, config.dedupe_window);
        let mut from_snapshot = loaded.as_ref().map(|l| l.header.seq);
        let resume = loaded.map(|loaded| {
            *store.write() = loaded.store;
            dedupe = Dedupe::from_entries(config.dedupe_window, loaded.dedupe);
            loaded.start
        });
        let window = config.dedupe_window;
        let replay_from = |resume: Option<&replay::Resume>, dedupe: &mut Dedupe| {
            let mut store = store.write();
            replay::replay_tail(
                path,
                true,
                Some(window as u64 * REPLAY_WINDOWS),
                resume,
                |mut record| (rederive(&mut record), record),
                |(identity, record)| {
                    if let (Some(id), None) = (identity, record.duplicate_of) {
                        dedupe.insert(id, record.seq);
                    }
                    store.apply_quietly(record);
                },
                &std::sync::atomic::AtomicU64::new(0),
            )
        };
        let mut report = match replay_from(resume.as_ref(), &mut dedupe) {
            // The journal changed under the snapshot's resume point: start over without.
            Err(e) if resume.is_some() => {
                tracing::warn!(error = %e, "store snapshot dropped; replaying the whole journal");
                *store.write() = crate::store::Store::new(capacity);
                dedupe = Dedupe::new(window);
                (from_snapshot, ignored) = (None, Some(e.to_string()));
                replay_from(None, &mut dedupe)?
            }
            other => other?,
        };
        report.from_snapshot = from_snapshot;
        report.snapshot_ignored = ignored;
        let file = FileStorage::open(path, config.segment_max, lock)?;
        let next = report.last_seq.map_or(1, |s| s + 1);
        let mut policy = config.snapshot.clone();
        if let Some(p) = &mut policy {
            p.replayed(report.records);
        }
        Ok((
            Self::start_writer(Box::new(file), store, dedupe, next, policy),
            report,
        ))
    }

    /// Start on any storage (tests inject failing ones here).
    pub fn with_storage(
        storage: Box<dyn Storage>,
        store: SharedStore,
        dedupe: Dedupe,
        next_seq: u64,
    ) -> Self {
        Self::start_writer(storage, store, dedupe, next_seq, None)
    }

    fn start_writer(
        storage: Box<dyn Storage>,
        store: SharedStore,
        dedupe: Dedupe,
        next_seq: u64,
        snapshot: Option<snapshot::Policy>,
    ) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        let (fanout, _) = broadcast::channel(FANOUT);
        let (seq_tx, last_seq) = watch::channel(next_seq - 1);
        let failure = Arc::new(Mutex::new(None));
        let journal = storage.path().map(Path::to_owned);
        let applier = applier::Applier {
            store: store.clone(),
            fanout: fanout.clone(),
            last_seq: seq_tx,
            snapshots: journal.clone().map(snapshot::Writer::new),
        };
        let (batches, applied) = std::sync::mpsc::channel();
        let applier = std::thread::Builder::new()
            .name("pilotwatch-store".into())
            .spawn(move || applier.run(applied))
            .expect("spawning the store applier");
        let acked = Arc::new(AtomicU64::new(next_seq - 1));
        let timings = Arc::new(Timings::default());
        let writer = Writer::new(
            storage,
            timings.clone(),
            (batches, applier),
            acked.clone(),
            failure.clone(),
            dedupe,
            next_seq,
        )
        .snapshots(snapshot);
        let thread = std::thread::Builder::new()
            .name("pilotwatch-journal".into())
            .spawn(move || writer.run(rx))
            .expect("spawning the journal writer");
        Self {
            tx,
            failure,
            thread: Mutex::new(Some(thread)),
            store,
            fanout,
            last_seq,
            journal,
            acked,
            timings,
        }
    }

    /// Hand a delivery over; resolves once it is durable (or known not to be).
    pub async fn submit(&self, mut incoming: Incoming) -> Result<Receipt, IngestError> {
        if let Some(why) = self.failure() {
            return Err(IngestError::Unavailable(why));
        }
        // The store holds what the journal does: its times to the microsecond, so a
        // store replayed (or read from a snapshot) is the one that ran.
        use chrono::SubsecRound;
        incoming.record.received_at = incoming.record.received_at.trunc_subsecs(6);
        let (done, wait) = oneshot::channel();
        let tail = line::encode_tail_with(&incoming.record, incoming.identity);
        self.tx
            .send(Job::Deliver(Box::new(Queued { incoming, tail }), done))
            .await
            .map_err(|_| IngestError::Closed)?;
        wait.await.unwrap_or(Err(IngestError::Closed))
    }

    /// Why acks stopped, once the journal has failed (or its writer is gone).
    pub fn failure(&self) -> Option<String> {
        let failure = self.failure.lock().clone();
        failure.or_else(|| {
            self.tx
                .is_closed()
                .then(|| "the journal writer stopped (see the log)".to_owned())
        })
    }

    pub fn store(&self) -> &SharedStore {
        &self.store
    }

    pub fn journal_path(&self) -> Option<&Path> {
        self.journal.as_deref()
    }

    /// How long acks and journal syncs take (the receiver times the acks).
    pub fn timings(&self) -> &Timings {
        &self.timings
    }

    /// Every record from now on, in seq order, with its journal line. A subscriber that
    /// falls more than a few thousand behind is told how many it missed (they are in the
    /// journal and store).
    pub fn subscribe(&self) -> broadcast::Receiver<Applied> {
        self.fanout.subscribe()
    }

    /// The seq of the newest record applied: changes whenever the store does.
    pub fn watch(&self) -> watch::Receiver<u64> {
        self.last_seq.clone()
    }

    /// Wait until the store holds every delivery acknowledged so far (a 2xx means
    /// durable in the journal; the store folds it in a moment later).
    pub async fn settled(&self) {
        let acked = self.acked.load(Ordering::Acquire);
        let _ = self.last_seq.clone().wait_for(|s| *s >= acked).await;
    }

    /// Finish what is queued, sync, and stop the writer. Later submits fail.
    pub async fn shutdown(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Job::Shutdown(done)).await.is_ok() {
            let _ = wait.await;
        }
        let thread = self.thread.lock().take();
        if let Some(t) = thread {
            let _ = tokio::task::spawn_blocking(move || t.join()).await;
        }
    }
}

impl std::fmt::Debug for Ingest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ingest")
            .field("journal", &self.journal)
            .field("acked", &self.acked)
            .finish_non_exhaustive()
    }
}

/// On replay: the typed event and the identity are derived again from the body. Only
/// for deliveries: what pilotwatch journals itself (replies, forward outcomes) has
/// neither, and was never deduplicated.
pub fn rederive(record: &mut Record) -> Option<Identity> {
    if record.kind != RecordKind::Delivery || record.verdict == Verdict::Rejected {
        return None;
    }
    let parsed = model::parse(&record.body.get()).ok()?;
    if record.verdict == Verdict::Known {
        record.typed = parsed.event;
    }
    Some(parsed.identity)
}
