//! Taking a snapshot while the service runs: the store applier encodes it between two
//! batches (the store then holds exactly the records up to `seq`), and a thread of its
//! own writes and syncs the file so the applier goes straight back to work.

use std::path::PathBuf;
use std::thread::JoinHandle;
use std::time::Instant;

use super::{Anchor, Header};
use crate::model::Identity;
use crate::store::Store;

/// A snapshot the journal writer asked for after writing up to `seq`.
#[derive(Debug)]
pub struct Due {
    pub seq: u64,
    pub anchor: Anchor,
    /// The dedupe index (its window, its entries oldest first) as of `seq`.
    pub window: usize,
    pub dedupe: Vec<(Identity, u64)>,
    /// The last one, at shutdown: worth waiting for the one being written.
    pub last: bool,
}

#[derive(Debug)]
pub struct Writer {
    journal: PathBuf,
    writing: Option<JoinHandle<()>>,
}

impl Writer {
    pub fn new(journal: PathBuf) -> Self {
        Self {
            journal,
            writing: None,
        }
    }

    /// Encode `store` (which must hold exactly the records up to `due.seq`) and have it
    /// written in the background.
    pub fn take(&mut self, store: &Store, due: Due) {
        if store.last_seq() != due.seq {
            tracing::warn!(
                store = store.last_seq(),
                due = due.seq,
                "snapshot skipped: the store is not at the seq asked for"
            );
            return;
        }
        let started = Instant::now();
        let header = Header::new(due.seq, store.capacity(), due.window, due.anchor);
        let bytes = super::encode(&header, store, &due.dedupe);
        let encoded = started.elapsed();
        let journal = self.journal.clone();
        let spawned = std::thread::Builder::new()
            .name("pilotwatch-snapshot".into())
            .spawn(move || match super::write(&journal, &bytes) {
                Ok(()) => tracing::info!(
                    seq = due.seq,
                    bytes = bytes.len(),
                    encode_ms = encoded.as_millis() as u64,
                    total_ms = started.elapsed().as_millis() as u64,
                    "store snapshot written"
                ),
                Err(e) => tracing::warn!(error = %e, "store snapshot not written"),
            });
        match spawned {
            Ok(handle) => self.writing = Some(handle),
            Err(e) => tracing::warn!(error = %e, "store snapshot not written"),
        }
    }

    /// A snapshot is still being written: one at a time, so a slow disk makes them
    /// rarer and never piles them up (nor holds the store while it syncs).
    pub fn busy(&self) -> bool {
        self.writing.as_ref().is_some_and(|h| !h.is_finished())
    }

    /// Wait for the snapshot being written, if any (at shutdown).
    pub fn finish(&mut self) {
        if let Some(handle) = self.writing.take() {
            let _ = handle.join();
        }
    }
}
