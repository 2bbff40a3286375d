//! The one narrow interface from the receiver to everything downstream.
//!
//! Handlers [`Ingest::submit`] a delivery (its journal line already mostly encoded, on
//! the handler's own worker) and wait. A single writer thread is the sequencer: it takes
//! whatever is queued as one batch, gives each delivery its `seq`, decides duplicates,
//! appends the batch to the journal, `fdatasync`s once and releases the handlers' 2xx
//! (group commit). The batch then goes to the applier thread, which folds it into the
//! store and publishes the records while the writer syncs the next batch; whoever needs
//! the store to hold every acknowledged delivery awaits [`Ingest::settled`]. A failed
//! write or sync is fatal for acks: every later submit fails, so the receiver answers
//! 503 and never a 200 for an unwritten delivery.

use std::collections::VecDeque;
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
use crate::store::{HashMap, SharedStore};
use crate::timing::Timings;

/// Most deliveries written (and synced) as one batch.
const MAX_BATCH: usize = 4096;
/// Deliveries waiting for the writer before handlers queue up behind them.
const QUEUE: usize = 16 * 1024;
/// Replay reads this many times the store's capacity of the newest records (never
/// older ones: the store could not hold them), so a message whose lifecycle began a
/// little before the last `capacity` deliveries is still rebuilt whole.
const REPLAY_WINDOWS: u64 = 2;
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

type Done = oneshot::Sender<Result<Receipt, IngestError>>;

/// A delivery on its way to the sequencer, its line already mostly encoded.
#[derive(Debug)]
struct Queued {
    incoming: Incoming,
    /// [`line::encode_tail`], done by the submitting task rather than the sequencer.
    tail: Vec<u8>,
}

enum Job {
    Deliver(Box<Queued>, Done),
    Shutdown(oneshot::Sender<()>),
}

#[derive(Debug)]
pub struct Ingest {
    tx: mpsc::Sender<Job>,
    failure: Arc<Mutex<Option<String>>>,
    store: SharedStore,
    fanout: broadcast::Sender<Arc<Record>>,
    last_seq: watch::Receiver<u64>,
    journal: Option<PathBuf>,
    thread: Mutex<Option<JoinHandle<()>>>,
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
        let (mut from_snapshot, mut ignored) = (None, None);
        let resume = match snapshot::load(path, capacity, config.dedupe_window) {
            Ok(Some(loaded)) => {
                *store.write() = loaded.store;
                dedupe = Dedupe::from_entries(config.dedupe_window, loaded.dedupe);
                from_snapshot = Some(loaded.header.seq);
                Some(loaded.start)
            }
            Ok(None) => None,
            Err(why) => {
                tracing::warn!(%why, "store snapshot ignored; replaying the whole journal");
                ignored = Some(why.0);
                None
            }
        };
        let mut report = {
            let mut store = store.write();
            replay::replay_tail(
                path,
                true,
                Some(config.dedupe_window as u64 * REPLAY_WINDOWS),
                resume.as_ref(),
                |mut record| (rederive(&mut record), record),
                |(identity, record)| {
                    if let (Some(id), None) = (identity, record.duplicate_of) {
                        dedupe.insert(id, record.seq);
                    }
                    store.apply(record);
                },
                &std::sync::atomic::AtomicU64::new(0),
            )?
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
        let applier = Applier {
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
        let writer = Writer {
            storage,
            timings: timings.clone(),
            acked: acked.clone(),
            applier: Some((batches, applier)),
            failure: failure.clone(),
            dedupe,
            next_seq,
            buf: Vec::with_capacity(1 << 20),
            snapshot,
        };
        let thread = std::thread::Builder::new()
            .name("pilotwatch-journal".into())
            .spawn(move || writer.run(rx))
            .expect("spawning the journal writer");
        Self {
            tx,
            failure,
            store,
            fanout,
            last_seq,
            journal,
            thread: Mutex::new(Some(thread)),
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

    /// Every record from now on, in seq order. A subscriber that falls more than a few
    /// thousand behind is told how many it missed (they are in the journal and store).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Record>> {
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

/// On replay: the typed event and the identity are derived again from the body. Only
/// for deliveries: what pilotwatch journals itself (replies, forward outcomes) has
/// neither, and was never deduplicated.
pub fn rederive(record: &mut Record) -> Option<Identity> {
    if record.kind != RecordKind::Delivery || record.verdict == Verdict::Rejected {
        return None;
    }
    let parsed = model::parse(&record.body).ok()?;
    if record.verdict == Verdict::Known {
        record.typed = parsed.event;
    }
    Some(parsed.identity)
}

/// The identities seen recently, bounded: oldest forgotten first.
#[derive(Debug)]
pub struct Dedupe {
    first: HashMap<Identity, u64>,
    order: VecDeque<Identity>,
    window: usize,
}

impl Dedupe {
    pub fn new(window: usize) -> Self {
        Self {
            first: HashMap::default(),
            order: VecDeque::new(),
            window: window.max(1),
        }
    }

    /// The seq of the first delivery with this identity, or record this one as first.
    pub fn check(&mut self, id: Identity, seq: u64) -> Option<u64> {
        if let Some(first) = self.first.get(&id) {
            return Some(*first);
        }
        self.insert(id, seq);
        None
    }

    fn insert(&mut self, id: Identity, seq: u64) {
        if self.first.insert(id, seq).is_none() {
            self.order.push_back(id);
        }
        while self.order.len() > self.window {
            if let Some(old) = self.order.pop_front() {
                self.first.remove(&old);
            }
        }
    }

    /// Its entries, oldest first: what a snapshot keeps.
    pub fn entries(&self) -> Vec<(Identity, u64)> {
        let seq = |id: &Identity| self.first.get(id).copied().unwrap_or_default();
        self.order.iter().map(|id| (*id, seq(id))).collect()
    }

    pub fn from_entries(window: usize, entries: Vec<(Identity, u64)>) -> Self {
        let mut d = Self::new(window);
        d.first.reserve(entries.len());
        for (id, seq) in entries {
            d.insert(id, seq);
        }
        d
    }

    fn forget(&mut self, id: &Identity, seq: u64) {
        if self.first.get(id) == Some(&seq) {
            self.first.remove(id);
        }
    }
}

struct Writer {
    storage: Box<dyn Storage>,
    timings: Arc<Timings>,
    /// Durable batches go to the applier, which folds them into the store: the writer
    /// is already syncing the next batch meanwhile.
    applier: Option<(std::sync::mpsc::Sender<Batch>, JoinHandle<()>)>,
    acked: Arc<AtomicU64>,
    failure: Arc<Mutex<Option<String>>>,
    dedupe: Dedupe,
    next_seq: u64,
    buf: Vec<u8>,
    snapshot: Option<snapshot::Policy>,
}

/// A durable batch on its way to the store; the last of a snapshot's batch carries
/// what the store cannot know itself (the dedupe index, the journal position).
struct Batch {
    records: Vec<Record>,
    snapshot: Option<snapshot::Due>,
}

impl Writer {
    fn run(mut self, mut rx: mpsc::Receiver<Job>) {
        let mut batch: Vec<(Box<Queued>, Done)> = Vec::with_capacity(MAX_BATCH);
        let mut stop = None;
        while stop.is_none() {
            let Some(first) = rx.blocking_recv() else {
                break;
            };
            let mut next = Some(first);
            while let Some(job) = next.take() {
                match job {
                    Job::Deliver(incoming, done) => batch.push((incoming, done)),
                    Job::Shutdown(done) => {
                        stop = Some(done);
                        break;
                    }
                }
                if batch.len() < MAX_BATCH {
                    next = rx.try_recv().ok();
                }
            }
            self.commit(&mut batch);
        }
        // A last snapshot, so the next start reads it instead of the journal.
        if self.snapshot.as_ref().is_some_and(|p| p.pending())
            && let Some(due) = self.snapshot_due(None)
            && let Some((batches, _)) = &self.applier
        {
            let _ = batches.send(Batch {
                records: Vec::new(),
                snapshot: Some(due),
            });
        }
        // The store gets everything acknowledged before a shutdown completes.
        if let Some((batches, thread)) = self.applier.take() {
            drop(batches);
            let _ = thread.join();
        }
        rx.close();
        // Anything still queued behind the shutdown is refused, not dropped silently.
        while let Ok(job) = rx.try_recv() {
            if let Job::Deliver(_, done) = job {
                let _ = done.send(Err(IngestError::Closed));
            }
        }
        if let Some(done) = stop {
            let _ = done.send(());
        }
    }

    fn commit(&mut self, batch: &mut Vec<(Box<Queued>, Done)>) {
        if batch.is_empty() {
            return;
        }
        if let Some(why) = self.failure.lock().clone() {
            for (_, done) in batch.drain(..) {
                let _ = done.send(Err(IngestError::Unavailable(why.clone())));
            }
            return;
        }
        self.buf.clear();
        let first_seq = self.next_seq;
        for (queued, _) in batch.iter_mut() {
            let seq = self.next_seq;
            self.next_seq += 1;
            let incoming = &mut queued.incoming;
            incoming.record.seq = seq;
            incoming.record.duplicate_of =
                incoming.identity.and_then(|id| self.dedupe.check(id, seq));
            line::finish(
                seq,
                incoming.record.duplicate_of,
                &queued.tail,
                &mut self.buf,
            );
        }
        let batch_len = batch.len() as u64;
        let written = self.storage.append(&self.buf).and_then(|()| {
            let started = std::time::Instant::now();
            let synced = self.storage.sync();
            self.timings.sync.observe(started.elapsed());
            synced
        });
        if let Err(e) = written {
            let why = format!(
                "{} ({e})",
                if self.storage.path().is_some() {
                    "journal write/sync failed"
                } else {
                    "storage failed"
                }
            );
            tracing::error!(error = %e, "journal failed; refusing further deliveries");
            *self.failure.lock() = Some(why.clone());
            // Nothing of this batch is durable: forget it so a retry is not a "duplicate".
            for (queued, _) in batch.iter() {
                let incoming = &queued.incoming;
                if let (Some(id), None) = (incoming.identity, incoming.record.duplicate_of) {
                    self.dedupe.forget(&id, incoming.record.seq);
                }
            }
            self.next_seq = first_seq;
            for (_, done) in batch.drain(..) {
                let _ = done.send(Err(IngestError::Unavailable(why.clone())));
            }
            return;
        }
        // Before a roll: the batch's last line is in the segment about to be rolled.
        let due = match self.snapshot.as_mut().map(|p| p.wrote(batch_len)) {
            Some(true) => self.snapshot_due(self.storage.position()),
            _ => None,
        };
        if let Err(e) = self.storage.maybe_roll() {
            // The batch is durable; only the next segment could not be started. The next
            // append to the old file still works, so warn and carry on.
            tracing::warn!(error = %e, "journal segment roll failed");
        }
        // Durable: acknowledge now. The store is a view of the journal, so folding the
        // batch in comes after the acks and never delays them (a dashboard holding the
        // store's read lock, a map growing).
        // Before any ack goes out, so whoever got one and asks `settled` waits for it.
        self.acked.store(self.next_seq - 1, Ordering::Release);
        let mut records = Vec::with_capacity(batch.len());
        for (queued, done) in batch.drain(..) {
            let r = queued.incoming.record;
            let _ = done.send(Ok(Receipt {
                seq: r.seq,
                duplicate_of: r.duplicate_of,
            }));
            records.push(r);
        }
        if let Some((batches, _)) = &self.applier {
            let _ = batches.send(Batch {
                records,
                snapshot: due,
            });
        }
    }

    /// What the applier needs to snapshot the store at the newest seq written (at
    /// `position`, else the current one); none after a failure (a torn batch may follow).
    fn snapshot_due(&mut self, position: Option<(u64, u64)>) -> Option<snapshot::Due> {
        if self.failure.lock().is_some() || self.next_seq <= 1 {
            return None;
        }
        let (segment, end) = position.or_else(|| self.storage.position())?;
        let journal = self.storage.path()?;
        let anchor = snapshot::Anchor::newest(journal, segment, end, &self.buf)
            .map_err(|e| tracing::warn!(error = %e, "no snapshot: journal end unreadable"))
            .ok()?;
        self.snapshot.as_mut()?.taken();
        Some(snapshot::Due {
            seq: self.next_seq - 1,
            anchor,
            window: self.dedupe.window,
            dedupe: self.dedupe.entries(),
        })
    }
}

/// Folds acknowledged batches into the store, in order, then tells subscribers.
struct Applier {
    store: SharedStore,
    fanout: broadcast::Sender<Arc<Record>>,
    last_seq: watch::Sender<u64>,
    snapshots: Option<snapshot::Writer>,
}

impl Applier {
    fn run(mut self, batches: std::sync::mpsc::Receiver<Batch>) {
        while let Ok(first) = batches.recv() {
            // Whatever else is waiting goes in under the same lock, up to a snapshot.
            let mut last = None;
            let mut due = None;
            let mut store = self.store.write();
            for batch in std::iter::once(first).chain(batches.try_iter().take(16)) {
                for r in batch.records {
                    last = Some(r.seq);
                    let _ = self.fanout.send(store.apply(r));
                }
                if batch.snapshot.is_some() {
                    due = batch.snapshot;
                    break;
                }
            }
            drop(store);
            if let Some(seq) = last {
                self.last_seq.send_replace(seq);
            }
            if let (Some(due), Some(w)) = (due, &mut self.snapshots) {
                w.take(&self.store.read(), due);
            }
        }
        if let Some(w) = &mut self.snapshots {
            w.finish();
        }
    }
}
