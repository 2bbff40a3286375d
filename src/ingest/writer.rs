//! The journal writer, on its own thread (`pilotwatch-journal`): the sequencer. It takes
//! whatever is queued as one batch, gives each delivery its `seq`, decides duplicates,
//! appends the batch and `fdatasync`s once, acknowledges, and hands the durable batch
//! to the store applier (group commit).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::sync::{mpsc, oneshot};

use super::dedupe::Dedupe;
use super::{Incoming, IngestError, MAX_BATCH, Receipt};
use crate::journal::line;
use crate::journal::storage::Storage;
use crate::record::Record;
use crate::snapshot;
use crate::timing::Timings;

pub(super) type Done = oneshot::Sender<Result<Receipt, IngestError>>;

/// A delivery waiting for a commit, its line already mostly encoded.
#[derive(Debug)]
pub(super) struct Queued {
    pub(super) incoming: Incoming,
    /// [`line::encode_tail`], done by the submitting task rather than the sequencer.
    pub(super) tail: Vec<u8>,
}

pub(super) enum Job {
    Deliver(Box<Queued>, Done),
    Shutdown(oneshot::Sender<()>),
}

/// A durable batch on its way to the store: each record with its journal line; the
/// last of a snapshot's batch carries what the store cannot know itself (the dedupe
/// index, the journal position).
pub(super) struct Batch {
    pub(super) records: Vec<(Record, Bytes)>,
    pub(super) snapshot: Option<snapshot::Due>,
}

pub(super) struct Writer {
    storage: Box<dyn Storage>,
    timings: Arc<Timings>,
    /// Durable batches go to the applier, which folds them into the store while the
    /// next batch is being synced.
    applier: Option<(std::sync::mpsc::Sender<Batch>, JoinHandle<()>)>,
    acked: Arc<AtomicU64>,
    failure: Arc<Mutex<Option<String>>>,
    dedupe: Dedupe,
    next_seq: u64,
    /// The size of the last batch's bytes: the next buffer is allocated once, at that.
    last_len: usize,
    snapshot: Option<snapshot::Policy>,
    /// The last line written (newline included) and where it ends (segment, offset):
    /// where a snapshot is anchored, also after a roll moved the storage on.
    last_line: Bytes,
    last_position: Option<(u64, u64)>,
}

impl Writer {
    pub(super) fn new(
        storage: Box<dyn Storage>,
        timings: Arc<Timings>,
        applier: (std::sync::mpsc::Sender<Batch>, JoinHandle<()>),
        acked: Arc<AtomicU64>,
        failure: Arc<Mutex<Option<String>>>,
        dedupe: Dedupe,
        next_seq: u64,
    ) -> Self {
        Self {
            storage,
            timings,
            applier: Some(applier),
            acked,
            failure,
            dedupe,
            next_seq,
            last_len: 16 << 10,
            snapshot: None,
            last_line: Bytes::new(),
            last_position: None,
        }
    }

    /// Ask for a store snapshot when `policy` says (`None`: never).
    pub(super) fn snapshots(mut self, policy: Option<snapshot::Policy>) -> Self {
        self.snapshot = policy;
        self
    }

    pub(super) fn run(mut self, mut rx: mpsc::Receiver<Job>) {
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
            && let Some(mut due) = self.snapshot_due()
            && let Some((batches, _)) = &self.applier
        {
            due.last = true;
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

    /// Make `batch` durable and answer each delivery in it (blocking: it syncs).
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
        // A fresh buffer per batch: its lines go on to subscribers as slices of it.
        let mut buf = Vec::with_capacity(self.last_len + self.last_len / 4);
        let mut ends = Vec::with_capacity(batch.len());
        let first_seq = self.next_seq;
        for (queued, _) in batch.iter_mut() {
            let seq = self.next_seq;
            self.next_seq += 1;
            let incoming = &mut queued.incoming;
            incoming.record.seq = seq;
            incoming.record.duplicate_of =
                incoming.identity.and_then(|id| self.dedupe.check(id, seq));
            line::finish(seq, incoming.record.duplicate_of, &queued.tail, &mut buf);
            ends.push(buf.len());
        }
        self.last_len = buf.len();
        let written = self.storage.append(&buf).and_then(|()| {
            let started = std::time::Instant::now();
            let synced = self.storage.sync();
            self.timings.sync.observe(started.elapsed());
            synced
        });
        if let Err(e) = written {
            self.fail(batch, first_seq, &e);
            return;
        }
        // Before a roll: the batch's last line is in the segment about to be rolled.
        let position = self.storage.position();
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
        let buf = Bytes::from(buf);
        let mut start = 0;
        let mut durable = Vec::with_capacity(batch.len());
        for ((queued, done), end) in batch.drain(..).zip(ends) {
            let r = queued.incoming.record;
            let _ = done.send(Ok(Receipt {
                seq: r.seq,
                duplicate_of: r.duplicate_of,
            }));
            durable.push((r, buf.slice(start..end)));
            start = end;
        }
        if let Some((_, line)) = durable.last() {
            // A copy: a slice would keep the whole batch's buffer alive.
            self.last_line = Bytes::copy_from_slice(line);
            self.last_position = position;
        }
        let due = match self
            .snapshot
            .as_mut()
            .map(|p| p.wrote(durable.len() as u64))
        {
            Some(true) => self.snapshot_due(),
            _ => None,
        };
        // The batch is durable and acknowledged: the store applier takes it from here.
        if let Some((batches, _)) = &self.applier {
            let _ = batches.send(Batch {
                records: durable,
                snapshot: due,
            });
        }
    }

    /// What the applier needs to snapshot the store at the newest seq written; none
    /// after a failure (a torn batch may follow).
    fn snapshot_due(&mut self) -> Option<snapshot::Due> {
        if self.failure.lock().is_some() || self.next_seq <= 1 {
            return None;
        }
        // Nothing written since the start: the storage's position is the journal's end.
        let (segment, end) = self.last_position.or_else(|| self.storage.position())?;
        let journal = self.storage.path()?;
        let anchor = snapshot::Anchor::newest(journal, segment, end, &self.last_line)
            .map_err(|e| tracing::warn!(error = %e, "no snapshot: journal end unreadable"))
            .ok()?;
        self.snapshot.as_mut()?.taken();
        Some(snapshot::Due {
            seq: self.next_seq - 1,
            anchor,
            window: self.dedupe.window(),
            dedupe: self.dedupe.entries(),
            last: false,
        })
    }

    /// Nothing of this batch is durable, nor will anything be from now on.
    fn fail(&mut self, batch: &mut Vec<(Box<Queued>, Done)>, first_seq: u64, e: &std::io::Error) {
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
        // Forget the batch's identities so a retry is not a "duplicate".
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
    }
}
