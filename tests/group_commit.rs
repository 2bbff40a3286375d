//! Group commit under many concurrent submitters: every ack is durable
//! when it is given, seqs are unique and increase in file order, duplicates are flagged,
//! batches really are shared, and a failing sync acks nothing it did not make durable.

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use pilotwatch::ingest::{Dedupe, Incoming, Ingest, IngestError};
use pilotwatch::journal::line;
use pilotwatch::journal::storage::Storage;
use pilotwatch::model::Identity;
use pilotwatch::record::Record;
use pilotwatch::store::Store;

/// What a disk holds: bytes appended, how many of them a sync made durable, and the
/// durable lines' seqs (with `duplicateOf`), in file order and by seq.
#[derive(Default)]
struct Disk {
    written: Vec<u8>,
    durable: usize,
    lines: Vec<(u64, Option<u64>)>,
    by_seq: std::collections::HashMap<u64, Option<u64>>,
}

impl Disk {
    fn synced(&mut self) {
        let newly = &self.written[self.durable..];
        for l in newly.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let r = line::decode(l).expect("a whole, valid line");
            self.lines.push((r.seq, r.duplicate_of));
            self.by_seq.insert(r.seq, r.duplicate_of);
        }
        self.durable = self.written.len();
    }
}

struct SlowDisk {
    disk: Arc<Mutex<Disk>>,
    syncs: Arc<AtomicUsize>,
    fail_after: Option<usize>,
    failed: Arc<AtomicBool>,
}

impl Storage for SlowDisk {
    fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.disk.lock().written.extend_from_slice(bytes);
        Ok(())
    }
    fn sync(&mut self) -> io::Result<()> {
        // Slow enough that submitters pile up behind a commit in flight.
        std::thread::sleep(Duration::from_micros(500));
        let n = self.syncs.fetch_add(1, Ordering::SeqCst) + 1;
        if self.fail_after.is_some_and(|after| n > after) {
            self.failed.store(true, Ordering::SeqCst);
            return Err(io::Error::other("injected EIO"));
        }
        self.disk.lock().synced();
        Ok(())
    }
    fn maybe_roll(&mut self) -> io::Result<()> {
        Ok(())
    }
    fn path(&self) -> Option<&Path> {
        Some(Path::new("/injected/journal.jsonl"))
    }
}

fn incoming(id: u128) -> Incoming {
    let body = format!(r#"{{"event":"message.received","n":{id}}}"#);
    Incoming {
        record: Record::delivery(0, body.as_bytes()),
        identity: Some(Identity(id)),
    }
}

const TASKS: u128 = 64;
const EACH: u128 = 40;

/// Every task submits `EACH` deliveries, each identity twice (by two different tasks).
async fn flood(ingest: &Arc<Ingest>, disk: &Arc<Mutex<Disk>>) -> Vec<(u128, Result<u64, ()>)> {
    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let (ingest, disk) = (ingest.clone(), disk.clone());
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            for i in 0..EACH {
                // Tasks t and t^1 share their identities.
                let id = (t / 2) * EACH + i;
                match ingest.submit(incoming(id)).await {
                    Ok(receipt) => {
                        // Acked: its line must already be durable.
                        let durable = disk.lock().by_seq.get(&receipt.seq).copied();
                        assert_eq!(
                            durable,
                            Some(receipt.duplicate_of),
                            "seq {} acked but not durable",
                            receipt.seq
                        );
                        out.push((id, Ok(receipt.seq)));
                    }
                    Err(IngestError::Unavailable(_)) => out.push((id, Err(()))),
                    Err(e) => panic!("{e}"),
                }
            }
            out
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all
}

fn start(fail_after: Option<usize>) -> (Arc<Ingest>, Arc<Mutex<Disk>>, Arc<AtomicUsize>) {
    let disk = Arc::new(Mutex::new(Disk::default()));
    let syncs = Arc::new(AtomicUsize::new(0));
    let storage = SlowDisk {
        disk: disk.clone(),
        syncs: syncs.clone(),
        fail_after,
        failed: Default::default(),
    };
    let ingest = Ingest::with_storage(
        Box::new(storage),
        Store::shared(100_000),
        Dedupe::new(100_000),
        1,
    );
    (Arc::new(ingest), disk, syncs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_submitters_get_durable_unique_increasing_seqs() {
    let (ingest, disk, syncs) = start(None);
    let acks = flood(&ingest, &disk).await;
    let total = (TASKS * EACH) as usize;
    assert_eq!(acks.len(), total);

    let (lines, written, durable) = {
        let d = disk.lock();
        (d.lines.clone(), d.written.len(), d.durable)
    };
    assert_eq!(written, durable);
    assert_eq!(lines.len(), total, "every delivery journaled once");
    let seqs: Vec<u64> = lines.iter().map(|l| l.0).collect();
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "seqs strictly increasing (and gapless) in file order"
    );
    assert_eq!(seqs[0], 1);

    // Each identity twice: the first in the journal is original, the other points at it.
    let mut by_id: std::collections::HashMap<u128, Vec<u64>> = Default::default();
    for (id, seq) in &acks {
        by_id.entry(*id).or_default().push(*seq.as_ref().unwrap());
    }
    let dup_of: std::collections::HashMap<u64, Option<u64>> = lines.iter().copied().collect();
    for (id, mut seqs) in by_id {
        assert_eq!(seqs.len(), 2, "identity {id}");
        seqs.sort();
        assert_eq!(dup_of[&seqs[0]], None, "identity {id}: first is original");
        assert_eq!(
            dup_of[&seqs[1]],
            Some(seqs[0]),
            "identity {id}: second flagged"
        );
    }

    // Deliveries shared their batch's sync.
    let syncs = syncs.load(Ordering::SeqCst);
    assert!(syncs < total / 4, "{syncs} syncs for {total} deliveries");

    ingest.settled().await;
    assert_eq!(ingest.store().read().counters().total, total as u64);
    ingest.shutdown().await;
    assert!(matches!(
        ingest.submit(incoming(u128::MAX)).await,
        Err(IngestError::Unavailable(_) | IngestError::Closed)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_sync_under_load_acks_only_what_was_durable() {
    let (ingest, disk, _) = start(Some(20));
    let acks = flood(&ingest, &disk).await;
    let ok: Vec<u64> = acks.iter().filter_map(|a| a.1.ok()).collect();
    let failed = acks.iter().filter(|a| a.1.is_err()).count();
    assert!(
        !ok.is_empty() && failed > 0,
        "{} ok, {failed} failed",
        ok.len()
    );
    // Every ack is in the durable part (checked at ack time too), and nothing after it
    // was ever made durable.
    assert_eq!(disk.lock().lines.len(), ok.len());
    assert!(ingest.failure().unwrap().contains("injected EIO"));
    ingest.shutdown().await;
}
