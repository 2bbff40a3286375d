//! The store's snapshot beside the journal (issue 21): a start from it holds the same
//! store (and dedupes the same) as a replay of the whole journal; a damaged snapshot,
//! one of another journal or another capacity is detected, said, and ignored.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use pilotwatch::ingest::{Incoming, Ingest, IngestConfig};
use pilotwatch::journal::replay::ReplayReport;
use pilotwatch::model::alert::{Alert, AlertRecord, AlertState, Cause, Severity};
use pilotwatch::record::Record;
use pilotwatch::snapshot::{self, Policy};
use pilotwatch::store::{SharedStore, Store};

const CAPACITY: usize = 5_000;

fn config(journal: &Path, policy: Option<Policy>) -> IngestConfig {
    IngestConfig {
        journal: Some(journal.to_owned()),
        segment_max: 256 << 10,
        dedupe_window: CAPACITY,
        snapshot: policy,
    }
}

fn start(journal: &Path, policy: Option<Policy>) -> (Ingest, SharedStore, ReplayReport) {
    let store = Store::shared(CAPACITY);
    let (ingest, report) = Ingest::start(&config(journal, policy), store.clone()).unwrap();
    (ingest, store, report)
}

/// A delivery as the receiver hands it over.
fn incoming(body: &[u8]) -> Incoming {
    let identity = pilotwatch::model::parse(body).ok().map(|p| p.identity);
    let mut record = Record::delivery(0, body);
    record.path = "/hooks".into();
    let identity = identity.filter(|_| record.verdict != pilotwatch::model::Verdict::Rejected);
    Incoming { record, identity }
}

fn lifecycle(i: u64) -> String {
    let (event, msg) = match i % 4 {
        0 => ("message.received", i),
        1 => ("message.sent", i),
        2 => ("message.delivered", i - 1),
        _ => ("message.read", i - 2),
    };
    format!(
        r#"{{"event":"{event}","data":{{"from":"+5511999999999","to":"+5511888888888","numberId":"cmm0abc{}","messageId":"wamid.{msg:012}","id":"cmm04obm46zz0q{msg:010}","type":"text","fromMe":{},"content":"Olá {msg}","createdAt":"2026-02-24T10:30:00.000Z"}}}}"#,
        i % 3,
        !i.is_multiple_of(4)
    )
}

fn alert(i: u64) -> Record {
    Record::alert(&AlertRecord::Transition(Alert {
        name: "number_disconnected".into(),
        state: AlertState::Firing,
        severity: Severity::Critical,
        number: Some(format!("cmm0abc{}", i % 3)),
        summary: format!("down since {i}"),
        starts_at: chrono::Utc::now(),
        ends_at: None,
        labels: [("alertname".to_owned(), "number_disconnected".to_owned())].into(),
        cause: Some(Cause::Number {
            id: format!("cmm0abc{}", i % 3),
        }),
        fired: true,
    }))
}

/// Every corpus payload, lifecycles on three numbers, retries of some (duplicates), a
/// body that is not JSON, and alert records.
async fn traffic(ingest: &Ingest, from: u64, n: u64) {
    let corpus = common::corpus();
    for i in from..from + n {
        let body = match i % 10 {
            7 => corpus[(i as usize / 10) % corpus.len()].2.clone(),
            8 => lifecycle(i.saturating_sub(40).max(1)).into_bytes(), // a retry
            9 if i % 30 == 9 => b"{not json".to_vec(),
            _ => lifecycle(i).into_bytes(),
        };
        ingest.submit(incoming(&body)).await.unwrap();
        if i % 97 == 0 {
            let record = alert(i);
            ingest
                .submit(Incoming {
                    record,
                    identity: None,
                })
                .await
                .unwrap();
        }
    }
    ingest.settled().await;
}

fn full_replay(journal: &Path) -> (Store, ReplayReport) {
    // Elsewhere, so the snapshot is not seen.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("journal.jsonl");
    for f in std::fs::read_dir(journal.parent().unwrap()).unwrap() {
        let f = f.unwrap().path();
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("journal.") && !name.contains("snapshot") && !name.contains("lock") {
            std::fs::copy(&f, dir.path().join(&name)).unwrap();
        }
    }
    let (ingest, store, report) = start(&copy, None);
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(stop(ingest))
    })
    .join()
    .unwrap();
    assert_eq!(report.from_snapshot, None);
    let store = std::mem::replace(&mut *store.write(), Store::new(1));
    (store, report)
}

fn take(store: &SharedStore) -> Store {
    std::mem::replace(&mut *store.write(), Store::new(1))
}

async fn stop(ingest: Ingest) {
    ingest.shutdown().await;
}

/// Append `n` more deliveries with no snapshot written after them (a crash's tail).
async fn tail_without_snapshot(journal: &Path, from: u64, n: u64) {
    let saved = std::fs::read(snapshot::path_for(journal)).unwrap();
    let (ingest, _, report) = start(journal, None);
    assert!(report.from_snapshot.is_some());
    traffic(&ingest, from, n).await;
    stop(ingest).await;
    // `None` writes none on its own; put back the one from before, as a crash would.
    std::fs::write(snapshot::path_for(journal), saved).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_restores_the_same_store_as_a_full_replay_and_dedupes_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.jsonl");
    let (ingest, _, _) = start(&journal, Some(Policy::default()));
    traffic(&ingest, 1, 3_000).await;
    stop(ingest).await;
    let path = snapshot::path_for(&journal);
    assert!(path.exists(), "a snapshot is written at shutdown");
    tail_without_snapshot(&journal, 3_001, 700).await;

    let (ingest, from_snapshot, report) = start(&journal, None);
    let seq = report.from_snapshot.expect("the snapshot is used");
    assert!(
        seq > 3_000,
        "taken after the first run's last record: {seq}"
    );
    assert_eq!(
        report.records,
        report.last_seq.unwrap() - seq,
        "only the tail replayed"
    );
    assert!(report.skipped_segments > 0, "older segments not opened");
    let (replayed, full) = full_replay(&journal);
    assert_eq!(full.last_seq, report.last_seq);
    let restored = take(&from_snapshot);
    assert_eq!(restored.counters().total, replayed.counters().total);
    assert_eq!(restored.messages().len(), replayed.messages().len());
    assert!(restored.alerts().firing() > 0);
    assert_eq!(restored.differences(&replayed), Vec::<&str>::new());
    assert!(restored == replayed);

    // Dedupe: a retry of a delivery from before the snapshot is known as such.
    let first = ingest
        .submit(incoming(lifecycle(1_001).as_bytes()))
        .await
        .unwrap();
    assert!(first.duplicate_of.is_some_and(|d| d <= seq), "{first:?}");
    stop(ingest).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_snapshot_or_one_of_another_journal_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.jsonl");
    let (ingest, _, _) = start(&journal, Some(Policy::default()));
    traffic(&ingest, 1, 1_500).await;
    stop(ingest).await;
    let path = snapshot::path_for(&journal);
    let good = std::fs::read(&path).unwrap();
    let (replayed, _) = full_replay(&journal);

    let ignored = async |why: &str| {
        let (ingest, store, report) = start(&journal, None);
        stop(ingest).await;
        assert_eq!(report.from_snapshot, None, "{why}");
        let said = report.snapshot_ignored.unwrap_or_default();
        assert!(said.contains(why), "said {said:?}, not {why:?}");
        assert_eq!(take(&store).differences(&replayed), Vec::<&str>::new());
    };

    // One flipped byte in the middle of the store.
    let mut bad = good.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0x40;
    std::fs::write(&path, &bad).unwrap();
    ignored("checksum does not match").await;
    // Cut short.
    std::fs::write(&path, &good[..good.len() - 100]).unwrap();
    ignored("checksum does not match").await;
    // Not a snapshot at all.
    std::fs::write(&path, b"hello").unwrap();
    ignored("not a pilotwatch snapshot").await;

    // Whole, but of another journal: the line it was taken after is not there.
    std::fs::write(&path, &good).unwrap();
    let other = tempfile::tempdir().unwrap();
    let other_journal = other.path().join("journal.jsonl");
    let (ingest, _, _) = start(&other_journal, None);
    traffic(&ingest, 1, 40).await;
    stop(ingest).await;
    std::fs::copy(&path, snapshot::path_for(&other_journal)).unwrap();
    let (ingest, _, report) = start(&other_journal, None);
    stop(ingest).await;
    assert_eq!(report.from_snapshot, None);
    let said = report.snapshot_ignored.unwrap_or_default();
    assert!(said.contains("journal does not match"), "{said}");

    // Whole, but from a build whose store types differ.
    {
        let (ingest, store, report) = start(&journal, None);
        stop(ingest).await;
        let loaded = report.from_snapshot.expect("the good one");
        let store = take(&store);
        let bytes = std::fs::read(&path).unwrap();
        let mut header = snapshot::Header::new(loaded, CAPACITY, CAPACITY, anchor_of(&bytes));
        header.layout ^= 1;
        std::fs::write(&path, snapshot::encode(&header, &store, &[])).unwrap();
        ignored("laid out differently").await;
        std::fs::write(&path, &good).unwrap();
    }

    // Another capacity.
    let store = Store::shared(CAPACITY * 2);
    let mut config = config(&journal, None);
    config.dedupe_window = CAPACITY * 2;
    let (ingest, report) = Ingest::start(&config, store).unwrap();
    stop(ingest).await;
    assert_eq!(report.from_snapshot, None);
    assert!(report.snapshot_ignored.unwrap().contains("--capacity 5000"));

    // And the good one is still good.
    let (ingest, _, report) = start(&journal, None);
    stop(ingest).await;
    assert!(report.from_snapshot.is_some());
}

/// Snapshots are taken while running, not only at shutdown: a crash (the files as
/// they are at some moment, copied) starts from the newest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshots_are_taken_while_running_and_a_crash_starts_from_the_newest() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.jsonl");
    let policy = Policy::new(500, Duration::ZERO, Duration::from_secs(3600));
    let (ingest, _, _) = start(&journal, Some(policy));
    traffic(&ingest, 1, 1_200).await;
    let path = snapshot::path_for(&journal);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !path.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "no snapshot while running"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    traffic(&ingest, 1_201, 200).await;
    // The "crash": the directory as it is now, the writer still running.
    let crashed = tempfile::tempdir().unwrap();
    for f in std::fs::read_dir(dir.path()).unwrap() {
        let f = f.unwrap().path();
        let name = f.file_name().unwrap().to_owned();
        if !name.to_string_lossy().ends_with(".tmp") && !name.to_string_lossy().ends_with(".lock") {
            std::fs::copy(&f, crashed.path().join(name)).unwrap();
        }
    }
    stop(ingest).await;
    let crashed_journal: PathBuf = crashed.path().join("journal.jsonl");
    let (ingest, store, report) = start(&crashed_journal, None);
    stop(ingest).await;
    let seq = report
        .from_snapshot
        .expect("started from a periodic snapshot");
    assert!(
        seq >= 500 && seq < report.last_seq.unwrap(),
        "{seq} {report:?}"
    );
    let (replayed, _) = full_replay(&crashed_journal);
    assert_eq!(take(&store).differences(&replayed), Vec::<&str>::new());
}

/// `pilotwatch open` (read-only, beside a running service) starts from the snapshot
/// too, and shows the same store as reading every line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_reads_the_snapshot_and_shows_the_same_store() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.jsonl");
    let (ingest, _, _) = start(&journal, Some(Policy::default()));
    traffic(&ingest, 1, 1_000).await;
    stop(ingest).await;
    tail_without_snapshot(&journal, 1_001, 300).await;
    let progress = std::sync::atomic::AtomicU64::new(0);
    let opened = Store::shared(CAPACITY);
    let report = pilotwatch::tui::load_journal(&journal, &opened, &progress, || {}).unwrap();
    let seq = report.from_snapshot.expect("open used the snapshot");
    assert_eq!(report.records, report.last_seq.unwrap() - seq);
    let (replayed, _) = full_replay(&journal);
    assert_eq!(take(&opened).differences(&replayed), Vec::<&str>::new());
}

/// The anchor a snapshot file holds (its header follows the magic).
fn anchor_of(bytes: &[u8]) -> snapshot::Anchor {
    let (header, _): (snapshot::Header, _) = postcard::take_from_bytes(&bytes[8..]).unwrap();
    header.anchor
}

/// The last batch before a shutdown rolled the segment: the snapshot is anchored at the
/// end of the rolled one (not at offset 0 of the new, empty active one) and is used.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_right_after_a_roll_writes_a_usable_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.jsonl");
    let mut config = config(&journal, Some(Policy::default()));
    config.segment_max = 4096;
    let store = Store::shared(CAPACITY);
    let (ingest, _) = Ingest::start(&config, store).unwrap();
    let mut i = 1;
    // One at a time until the active segment is empty: the last write rolled it.
    loop {
        ingest
            .submit(incoming(lifecycle(i).as_bytes()))
            .await
            .unwrap();
        i += 1;
        let rolled = std::fs::metadata(&journal)
            .map(|m| m.len() == 0)
            .unwrap_or(false);
        if rolled && i > 20 {
            break;
        }
        assert!(i < 500, "no roll");
    }
    stop(ingest).await;
    let (ingest, _, report) = start(&journal, None);
    stop(ingest).await;
    assert_eq!(report.snapshot_ignored, None);
    assert_eq!(report.from_snapshot, Some(i - 1));
}

/// `--journal journal.jsonl` from the journal's directory: the rolled segment the
/// snapshot is anchored in is found (the segment list spells it `./journal.000001.jsonl`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relative_journal_path_resumes_from_a_rolled_segment() {
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_addr().port();
    let serve = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_pilotwatch"))
            .args([
                "serve",
                "--journal",
                "journal.jsonl",
                "--segment-size",
                "4096",
            ])
            .args(["--listen", &format!("127.0.0.1:{port}"), "--no-attach"])
            .current_dir(dir.path())
            .env_remove("PILOT_STATUS_WEBHOOK_SECRET")
            .env_remove("PILOT_STATUS_API_KEY")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let http = common::client();
    let url = format!("http://127.0.0.1:{port}/");
    let post = async |i: u64| {
        let mut last = String::new();
        for _ in 0..100 {
            // Not listening yet, or 503 while the journal is read at start (a loaded
            // machine shows it): retry, as the provider does.
            match http.post(&url).body(lifecycle(i)).send().await {
                Ok(r) if r.status() != reqwest::StatusCode::SERVICE_UNAVAILABLE => {
                    return r.status();
                }
                Ok(r) => last = r.status().to_string(),
                Err(e) => last = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("pilotwatch does not take the delivery; last: {last}");
    };
    let term = |child: std::process::Child| {
        let pid = child.id().to_string();
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let child = serve();
    // Until a delivery has just rolled the segment: the shutdown's snapshot is then
    // anchored in the rolled one, `journal.000001.jsonl` or later.
    let active = dir.path().join("journal.jsonl");
    let mut i = 1;
    loop {
        assert!(post(i).await.is_success());
        i += 1;
        if i > 20 && std::fs::metadata(&active).unwrap().len() == 0 {
            break;
        }
        assert!(i < 500, "no roll");
    }
    let out = term(child);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        dir.path().join("journal.000001.jsonl").exists(),
        "segments rolled"
    );
    let child = serve();
    assert!(post(i).await.is_success());
    let out = term(child);
    let banner = String::from_utf8_lossy(&out.stderr);
    assert!(
        banner.contains("read from its snapshot, 0 newer record(s) replayed"),
        "{banner}"
    );
}

/// Replay resumes only where the anchor line still is: a resume point whose line
/// changed (the segment rolled between the check and the read) is an error, which the
/// callers answer with a whole replay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_point_that_moved_is_refused() {
    use pilotwatch::journal::replay::{Resume, replay_tail};
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.jsonl");
    let (ingest, _, _) = start(&journal, None);
    traffic(&ingest, 1, 20).await;
    stop(ingest).await;
    let text = std::fs::read(&journal).unwrap();
    let first = text.iter().position(|b| *b == b'\n').unwrap() + 1;
    let hash = xxhash_rust::xxh3::xxh3_64(&text[..first]);
    let resume = |hash| Resume {
        segment: journal.clone(),
        offset: first as u64,
        after_seq: 1,
        line: (first as u32, hash),
    };
    let progress = std::sync::atomic::AtomicU64::new(0);
    let mut n = 0;
    let good = replay_tail(
        &journal,
        false,
        None,
        Some(&resume(hash)),
        |r| r,
        |_| n += 1,
        &progress,
    );
    let report = good.unwrap();
    assert_eq!(
        (report.records, n),
        (report.last_seq.unwrap() - 1, report.records)
    );
    let moved = replay_tail(
        &journal,
        false,
        None,
        Some(&resume(hash ^ 1)),
        |r| r,
        |_| {},
        &progress,
    );
    assert!(moved.unwrap_err().to_string().contains("moved"));
}
