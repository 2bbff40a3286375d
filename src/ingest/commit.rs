//! Leader/follower group commit. A submitter that finds no commit in flight leads one:
//! it takes everything queued as one batch and runs the [`Writer`] on its own worker
//! (write, `fdatasync`, acks). Submitters arriving meanwhile queue up as followers and
//! wait for their ack; when the leader is done and some are queued, a task is spawned
//! to lead them as the next batch. No thread hand-off per batch, and the handler that
//! commits needs no wake-up for its own ack.

use std::sync::Arc;

use parking_lot::Mutex;
use tokio::runtime::{Handle, RuntimeFlavor};

use super::writer::{Done, Queued, Writer};
use super::{IngestError, MAX_BATCH};

#[derive(Default)]
struct Queue {
    pending: Vec<(Queued, Done)>,
    /// A commit is in flight, or a task is spawned to start the next: whoever leads
    /// takes `pending` when it is done.
    leading: bool,
    /// Shutting down: later submits are refused.
    closed: bool,
}

pub(super) struct Commits {
    queue: Mutex<Queue>,
    /// Only the leader locks it (the flag above makes sure), so it is never contended.
    pub(super) writer: Mutex<Writer>,
    /// Why acks stopped (shared with the writer, which sets it when the journal fails).
    pub(super) failure: Arc<Mutex<Option<String>>>,
}

/// Why acks stopped when the leader itself died, or once shut down.
pub(super) const STOPPED: &str = "the journal writer stopped (see the log)";

impl Commits {
    pub(super) fn new(writer: Writer) -> Self {
        Self {
            queue: Mutex::default(),
            failure: writer.failure.clone(),
            writer: Mutex::new(writer),
        }
    }

    pub(super) fn closed(&self) -> bool {
        self.queue.lock().closed
    }

    /// Queue a delivery; `true` when the caller is to lead (then call [`Self::lead`]).
    pub(super) fn enqueue(&self, queued: Queued, done: Done) -> bool {
        let mut q = self.queue.lock();
        if q.closed {
            drop(q);
            let _ = done.send(Err(IngestError::Closed));
            return false;
        }
        q.pending.push((queued, done));
        !std::mem::replace(&mut q.leading, true)
    }

    /// Commit what is queued (as the leader), then see that what queued up meanwhile
    /// gets a leader of its own. Synchronous: nothing can cancel it half-way.
    pub(super) fn lead(self: &Arc<Self>) {
        loop {
            let mut batch = {
                let mut q = self.queue.lock();
                if q.pending.len() <= MAX_BATCH {
                    std::mem::take(&mut q.pending)
                } else {
                    q.pending.drain(..MAX_BATCH).collect()
                }
            };
            let abandon = Abandon(self);
            blocking(|| self.writer.lock().commit(&mut batch));
            std::mem::forget(abandon);
            {
                let mut q = self.queue.lock();
                if q.pending.is_empty() {
                    q.leading = false;
                    return;
                }
            }
            // Still `leading`: the next batch's leader is a task of its own, so this
            // handler answers its own delivery now instead of committing for others.
            if let Ok(rt) = Handle::try_current() {
                let next = NextLeader(Some(self.clone()));
                rt.spawn(async move { next.run() });
                return;
            }
        }
    }

    /// Refuse later submits, and wait until whatever is queued is committed.
    pub(super) async fn close(self: &Arc<Self>) {
        self.queue.lock().closed = true;
        loop {
            let lead = {
                let mut q = self.queue.lock();
                if q.leading {
                    false
                } else if q.pending.is_empty() {
                    return;
                } else {
                    q.leading = true;
                    true
                }
            };
            if lead {
                let this = self.clone();
                let _ = tokio::task::spawn_blocking(move || this.lead()).await;
            } else {
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
        }
    }

    /// The leader died (a panic in the writer), or its task never ran: fail what waits
    /// and every later submit, rather than leave them hanging on a flag nobody clears.
    fn abandon(&self) {
        self.failure
            .lock()
            .get_or_insert_with(|| STOPPED.to_owned());
        let mut q = self.queue.lock();
        q.leading = false;
        q.closed = true;
        q.pending.clear();
    }
}

/// Run the commit where a blocking `fdatasync` stalls the runtime least.
fn blocking<R>(f: impl FnOnce() -> R) -> R {
    match Handle::try_current() {
        Ok(rt) if rt.runtime_flavor() == RuntimeFlavor::MultiThread && mode().in_place => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

struct Mode {
    in_place: bool,
}

fn mode() -> &'static Mode {
    static MODE: std::sync::OnceLock<Mode> = std::sync::OnceLock::new();
    MODE.get_or_init(|| Mode {
        in_place: std::env::var("PILOTWATCH_COMMIT").as_deref() != Ok("inline"),
    })
}

/// Fails the queue if dropped: the leader unwinding from a panic.
struct Abandon<'a>(&'a Commits);

impl Drop for Abandon<'_> {
    fn drop(&mut self) {
        self.0.abandon();
    }
}

/// The spawned leader of the next batch; dropped unrun (the runtime shutting down), it
/// abandons the queue.
struct NextLeader(Option<Arc<Commits>>);

impl NextLeader {
    fn run(mut self) {
        if let Some(commits) = self.0.take() {
            commits.lead();
        }
    }
}

impl Drop for NextLeader {
    fn drop(&mut self) {
        if let Some(commits) = self.0.take() {
            commits.abandon();
        }
    }
}
