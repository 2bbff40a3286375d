//! The store applier: its own thread folds durable, acknowledged batches into the store,
//! in order, then publishes each record (with its journal line) to subscribers.

use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::{broadcast, watch};

use super::writer::Durable;
use crate::record::Record;
use crate::store::SharedStore;

/// A record as subscribers get it: applied to the store, with its journal line (newline
/// included) exactly as written, so nobody encodes it again.
#[derive(Debug, Clone)]
pub struct Applied {
    pub record: Arc<Record>,
    pub line: Bytes,
}

pub(super) struct Applier {
    pub(super) store: SharedStore,
    pub(super) fanout: broadcast::Sender<Applied>,
    pub(super) last_seq: watch::Sender<u64>,
}

impl Applier {
    pub(super) fn run(self, batches: std::sync::mpsc::Receiver<Durable>) {
        while let Ok(first) = batches.recv() {
            // Whatever else is waiting goes in under the same lock.
            let mut last = None;
            let mut store = self.store.write();
            for batch in std::iter::once(first).chain(batches.try_iter().take(16)) {
                for (r, line) in batch {
                    last = Some(r.seq);
                    let record = store.apply(r);
                    let _ = self.fanout.send(Applied { record, line });
                }
            }
            drop(store);
            if let Some(seq) = last {
                self.last_seq.send_replace(seq);
            }
        }
    }
}
