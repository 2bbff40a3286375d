//! The store applier: its own thread folds durable, acknowledged batches into the store,
//! in order, then publishes each record (with its journal line) to subscribers.

use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::{broadcast, watch};

use super::writer::Batch;
use crate::record::Record;
use crate::snapshot;
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
    pub(super) snapshots: Option<snapshot::Writer>,
}

impl Applier {
    pub(super) fn run(mut self, batches: std::sync::mpsc::Receiver<Batch>) {
        while let Ok(first) = batches.recv() {
            // Whatever else is waiting goes in under the same lock, up to a snapshot.
            let mut last = None;
            let mut due = None;
            let mut store = self.store.write();
            for batch in std::iter::once(first).chain(batches.try_iter().take(16)) {
                for (r, line) in batch.records {
                    last = Some(r.seq);
                    let record = store.apply(r);
                    let _ = self.fanout.send(Applied { record, line });
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
                if due.last {
                    w.finish();
                }
                if w.busy() {
                    tracing::info!("store snapshot skipped: the last one is still being written");
                } else {
                    w.take(&self.store.read(), due);
                }
            }
        }
        if let Some(w) = &mut self.snapshots {
            w.finish();
        }
    }
}
