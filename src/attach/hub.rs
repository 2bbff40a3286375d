//! The hub: one task takes each record from the ingest fan-out once, wraps its journal
//! line (as written, never encoded again) in a frame once, and offers the frame to
//! every client's bounded buffer without waiting.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use bytes::Bytes;
use tokio::sync::{Notify, broadcast::error::RecvError, mpsc, oneshot};

use super::protocol;
use crate::ingest::Ingest;
use crate::record::Record;

/// Bytes of frames a client may have waiting (with `--attach-buffer` frames at most).
const MAX_QUEUED_BYTES: usize = 64 << 20;

/// A client's backlog: the bytes of frames waiting in its buffer, and the flag raised
/// when it overflows (the hub found the buffer full, or its writer stalled), which
/// drops the client.
#[derive(Debug, Default)]
pub(super) struct Backlog {
    pub(super) overflowed: AtomicBool,
    pub(super) wake: Notify,
    /// Bytes of frames in its buffer: bounded too, since a frame can be a megabyte.
    pub(super) queued: AtomicUsize,
}

pub(super) struct Join {
    pub(super) reply: oneshot::Sender<Joined>,
}

pub(super) struct Joined {
    /// Every record up to here is in the store; every later one comes through `rx`.
    pub(super) cursor: u64,
    pub(super) rx: mpsc::Receiver<Bytes>,
    pub(super) backlog: Arc<Backlog>,
}

struct Slot {
    tx: mpsc::Sender<Bytes>,
    backlog: Arc<Backlog>,
}

/// Fan each record out to every client's buffer, in seq order, never waiting.
pub(super) async fn hub(ingest: Arc<Ingest>, mut joins: mpsc::Receiver<Join>, buffer: usize) {
    let mut records = ingest.subscribe();
    // Subscribed first: anything applied from here on is either at or below this
    // cursor (then skipped) or comes through `records`.
    let mut cursor = ingest.store().read().last_seq();
    let mut slots: Vec<Slot> = Vec::new();
    loop {
        tokio::select! {
            biased;
            join = joins.recv() => {
                let Some(Join { reply }) = join else { return };
                let (tx, rx) = mpsc::channel(buffer);
                let backlog = Arc::new(Backlog::default());
                slots.push(Slot { tx, backlog: backlog.clone() });
                let _ = reply.send(Joined { cursor, rx, backlog });
            }
            record = records.recv() => match record {
                Ok(a) if a.record.seq <= cursor => {}
                Ok(a) => {
                    let seq = a.record.seq;
                    if seq > cursor + 1 {
                        catch_up(&ingest, &mut cursor, &mut slots, seq - 1).await;
                    }
                    cursor = seq;
                    offer(&mut slots, || protocol::record_frame(&a.line));
                }
                // Fell behind the fan-out: the store has what was missed.
                Err(RecvError::Lagged(_)) => {
                    catch_up(&ingest, &mut cursor, &mut slots, u64::MAX).await
                }
                Err(RecvError::Closed) => return,
            },
        }
    }
}

/// Offer the records after `cursor` (up to `until`) from the store, a few at a time:
/// between them the clients' writers drain their buffers, so a hub that fell behind
/// does not overflow every client at once.
async fn catch_up(ingest: &Ingest, cursor: &mut u64, slots: &mut Vec<Slot>, until: u64) {
    let missed: Vec<Record> = ingest
        .store()
        .read()
        .records_since(*cursor)
        .take_while(|r| r.seq <= until)
        .cloned()
        .collect();
    for batch in missed.chunks(256) {
        for r in batch {
            *cursor = r.seq;
            offer(slots, || protocol::encode_record(r));
        }
        tokio::task::yield_now().await;
    }
}

/// Offer a record's frame (made only when someone is attached) to every client.
fn offer(slots: &mut Vec<Slot>, frame: impl FnOnce() -> Bytes) {
    slots.retain(|s| !s.tx.is_closed());
    if slots.is_empty() {
        return;
    }
    let frame = frame();
    let len = frame.len();
    slots.retain(|s| {
        let over = s.backlog.queued.fetch_add(len, Ordering::SeqCst) + len > MAX_QUEUED_BYTES;
        match s.tx.try_send(frame.clone()) {
            Ok(()) if !over => true,
            Ok(()) | Err(mpsc::error::TrySendError::Full(_)) => {
                s.backlog.overflowed.store(true, Ordering::SeqCst);
                s.backlog.wake.notify_one();
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    });
}
