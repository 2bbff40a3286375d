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
    let (loaded, mut ignored) = crate::snapshot::load_or_say(path, capacity, capacity);
    let mut from_snapshot = loaded.as_ref().map(|l| l.header.seq);
    let resume = loaded.map(|loaded| {
        *store.write() = loaded.store;
        on_batch();
        loaded.start
    });
    let report = match read(path, store, resume.as_ref(), progress, &mut on_batch) {
        // The journal rolled under the resume point: read all of it instead.
        Err(e) if resume.is_some() => {
            tracing::info!(error = %e, "store snapshot dropped; reading the whole journal");
            *store.write() = crate::store::Store::new(capacity);
            progress.store(0, std::sync::atomic::Ordering::Relaxed);
            (from_snapshot, ignored) = (None, Some(e.to_string()));
            read(path, store, None, progress, &mut on_batch)
        }
        other => other,
    };
    report.map(|mut r| {
        (r.from_snapshot, r.snapshot_ignored) = (from_snapshot, ignored);
        r
    })
}

/// The journal's lines (after `resume`, if given) into `store`, in batches.
fn read(
    path: &Path,
    store: &SharedStore,
    resume: Option<&crate::journal::replay::Resume>,
    progress: &AtomicU64,
    on_batch: &mut impl FnMut(),
) -> io::Result<crate::journal::replay::ReplayReport> {
    const BATCH: usize = 4096;
    let mut batch = Vec::with_capacity(BATCH);
    let mut flush = |batch: &mut Vec<crate::record::Record>| {
        let mut s = store.write();
        for r in batch.drain(..) {
            s.apply_quietly(r);
        }
        drop(s);
        on_batch();
    };
    let report = crate::journal::replay::replay_tail(
        path,
        false,
        None,
        resume,
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
    report
}
