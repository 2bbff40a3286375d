//! Loading a journal (or an export) for `open` and the demo's replay: in batches, so
//! the dashboard shows it filling in, and from the journal's store snapshot when there
//! is one for this capacity.

use std::io;
use std::path::Path;
use std::sync::atomic::AtomicU64;

use crate::store::SharedStore;

/// Replay a journal (or an export) into `store` in batches, without repairing or locking
/// it: a live pilotwatch may be writing it. `progress` counts the bytes read;
/// `on_batch` runs after each batch lands.
pub fn load_journal(
    path: &Path,
    store: &SharedStore,
    progress: &AtomicU64,
    mut on_batch: impl FnMut(),
) -> io::Result<crate::journal::replay::ReplayReport> {
    // A journal's store snapshot (when one matches this capacity) stands in for the
    // lines before it, as at a service's start.
    let capacity = store.read().capacity();
    let (mut from_snapshot, mut ignored) = (None, None);
    let resume = match crate::snapshot::load(path, capacity, capacity) {
        Ok(Some(loaded)) => {
            *store.write() = loaded.store;
            from_snapshot = Some(loaded.header.seq);
            on_batch();
            Some(loaded.start)
        }
        Ok(None) => None,
        Err(why) => {
            tracing::info!(%why, "store snapshot not used; reading the whole journal");
            ignored = Some(why.0);
            None
        }
    };
    const BATCH: usize = 4096;
    let mut batch = Vec::with_capacity(BATCH);
    let mut flush = |batch: &mut Vec<crate::record::Record>| {
        let mut s = store.write();
        for r in batch.drain(..) {
            s.apply(r);
        }
        drop(s);
        on_batch();
    };
    let report = crate::journal::replay::replay_tail(
        path,
        false,
        None,
        resume.as_ref(),
        |mut record| {
            crate::ingest::rederive(&mut record);
            record
        },
        |record| {
            batch.push(record);
            if batch.len() == BATCH {
                flush(&mut batch);
            }
        },
        progress,
    );
    flush(&mut batch);
    report.map(|mut r| {
        (r.from_snapshot, r.snapshot_ignored) = (from_snapshot, ignored);
        r
    })
}
