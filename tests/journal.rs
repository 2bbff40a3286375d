//! The journal under failure and rotation: an injected sync error stops acks for good;
//! segments roll by size and replay in order.

mod common;

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use common::{Running, client, settings};
use pilotwatch::ingest::{Dedupe, Ingest};
use pilotwatch::journal::replay::{read_all, segments};
use pilotwatch::journal::storage::Storage;
use pilotwatch::receiver::server::serve;
use pilotwatch::receiver::{ReceiverConfig, ReceiverState, router};
use pilotwatch::store::Store;
use reqwest::StatusCode;

/// Succeeds until told to fail, then every sync fails (a dying disk), or with
/// `disk_full` every write fails with ENOSPC.
struct FailingDisk {
    fail: Arc<AtomicBool>,
    written: Arc<parking_lot::Mutex<Vec<u8>>>,
    disk_full: bool,
}

impl Storage for FailingDisk {
    fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.disk_full && self.fail.load(Ordering::SeqCst) {
            // ENOSPC, as a full disk reports it.
            return Err(io::Error::from_raw_os_error(28));
        }
        self.written.lock().extend_from_slice(bytes);
        Ok(())
    }
    fn sync(&mut self) -> io::Result<()> {
        if !self.disk_full && self.fail.load(Ordering::SeqCst) {
            Err(io::Error::other("injected EIO"))
        } else {
            Ok(())
        }
    }
    fn maybe_roll(&mut self) -> io::Result<()> {
        Ok(())
    }
    fn path(&self) -> Option<&Path> {
        Some(Path::new("/injected/journal.jsonl"))
    }
}

fn body(i: usize) -> String {
    format!(
        r#"{{"event":"message.received","data":{{"from":"+1","to":"+2","numberId":"n","messageId":"w{i}","id":"i{i}","fromMe":false,"createdAt":"2026-01-01T00:00:00Z"}}}}"#
    )
}

#[tokio::test]
async fn a_failed_fdatasync_stops_every_later_ack() {
    failing_disk_stops_every_later_ack(false, "injected EIO").await;
}

#[tokio::test]
async fn a_full_disk_stops_every_later_ack() {
    failing_disk_stops_every_later_ack(true, "No space left on device").await;
}

async fn failing_disk_stops_every_later_ack(disk_full: bool, why: &str) {
    let fail = Arc::new(AtomicBool::new(false));
    let disk = FailingDisk {
        fail: fail.clone(),
        written: Default::default(),
        disk_full,
    };
    let store = Store::shared(1000);
    let ingest = Arc::new(Ingest::with_storage(
        Box::new(disk),
        store.clone(),
        Dedupe::new(1000),
        1,
    ));
    let state = Arc::new(ReceiverState {
        ingest: ingest.clone(),
        config: ReceiverConfig {
            respond: None,
            path: None,
            max_body: 1 << 20,
            body_timeout: std::time::Duration::from_secs(10),
            secrets: vec![],
        },
        started: Instant::now(),
        server: Default::default(),
        attach: Default::default(),
        bodies: Default::default(),
        outbox: None,
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (limits, stats) = (Default::default(), Default::default());
        serve(
            listener,
            router(state),
            limits,
            stats,
            std::future::pending(),
        )
        .await
    });
    let http = client();
    let url = format!("http://{addr}/");

    assert_eq!(
        http.post(&url).body(body(1)).send().await.unwrap().status(),
        StatusCode::OK
    );
    fail.store(true, Ordering::SeqCst);
    let res = http.post(&url).body(body(2)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let text = res.text().await.unwrap();
    assert!(text.contains(why), "{text}");
    // Even once the disk "recovers", nothing is acked: the failure is fatal for acks.
    fail.store(false, Ordering::SeqCst);
    for i in 3..6 {
        assert_eq!(
            http.post(&url).body(body(i)).send().await.unwrap().status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
    let health = http
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::SERVICE_UNAVAILABLE);
    let health: serde_json::Value = health.json().await.unwrap();
    assert_eq!(health["status"], "failing");
    assert!(health["reason"].as_str().unwrap().contains(why));
    // Only the acked delivery reached the store.
    assert_eq!(store.read().counters().total, 1);
}

#[tokio::test]
async fn segments_roll_by_size_and_replay_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = settings(dir.path());
    s.segment_size = 4096;
    // Every segment is replayed here: no snapshot stands in for them (tests/snapshot.rs).
    s.snapshot = false;
    let server = Running::start(&s).await;
    let http = client();
    for i in 0..60 {
        assert_eq!(
            http.post(server.url("/"))
                .body(body(i))
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::OK
        );
    }
    server.stop().await;
    let journal = s.journal.as_ref().unwrap();
    let segs = segments(journal).unwrap();
    assert!(segs.len() >= 5, "{segs:?}");
    assert!(
        segs[0]
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("journal.000001"),
        "{segs:?}"
    );
    let (records, report) = read_all(journal).unwrap();
    assert_eq!(
        records.iter().map(|r| r.seq).collect::<Vec<_>>(),
        (1..=60).collect::<Vec<_>>()
    );
    assert_eq!(report.segments, segs.len());

    // A restart replays all segments and continues the sequence.
    let server = Running::start(&s).await;
    assert_eq!(server.replay.records, 60);
    server.ingest.settled().await;
    assert_eq!(server.ingest.store().read().messages().len(), 60);
    let r: serde_json::Value = client()
        .post(server.url("/"))
        .body(body(99))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["seq"], 61);
    server.stop().await;
}

#[tokio::test]
async fn a_second_pilotwatch_on_the_same_journal_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let s = settings(dir.path());
    let server = Running::start(&s).await;
    let err = pilotwatch::service::Service::start(&s).await.unwrap_err();
    assert!(
        format!("{err:?}").contains("in use by another pilotwatch"),
        "{err:?}"
    );
    server.stop().await;
}

/// The same journal under a second name (a symlink, a hard link) is the same journal.
#[tokio::test]
async fn a_second_pilotwatch_through_a_symlink_or_hard_link_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let s = settings(dir.path());
    let server = Running::start(&s).await;
    let active = s.journal.clone().unwrap();
    let other = tempfile::tempdir().unwrap();
    let symlink = other.path().join("via-symlink.jsonl");
    std::os::unix::fs::symlink(&active, &symlink).unwrap();
    let hardlink = other.path().join("via-hardlink.jsonl");
    std::fs::hard_link(&active, &hardlink).unwrap();
    for name in [symlink, hardlink] {
        let mut second = s.clone();
        second.journal = Some(name.clone());
        let err = pilotwatch::service::Service::start(&second)
            .await
            .expect_err("a second writer on one file");
        assert!(
            format!("{err:?}").contains("in use by another pilotwatch"),
            "{}: {err:?}",
            name.display()
        );
    }
    server.stop().await;
}

/// `rm journal.jsonl` (or a rotation that replaces it) while running: nothing written
/// after that could be replayed, so no ack may claim it was kept.
#[tokio::test]
async fn a_deleted_or_replaced_journal_stops_every_later_ack() {
    for replace in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let s = settings(dir.path());
        let server = Running::start(&s).await;
        let http = client();
        let ok = http
            .post(server.url("/"))
            .body(body(1))
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), StatusCode::OK);
        let active = s.journal.clone().unwrap();
        std::fs::remove_file(&active).unwrap();
        if replace {
            std::fs::write(&active, b"").unwrap();
        }
        let what = if replace { "replaced" } else { "deleted" };
        for i in 2..4 {
            let r = http
                .post(server.url("/"))
                .body(body(i))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE, "{what}");
            let text = r.text().await.unwrap();
            assert!(text.contains(&format!("was {what} while in use")), "{text}");
        }
        let health = server.health().await;
        assert_eq!(health["status"], "failing", "{health}");
        server.stop().await;
    }
}

/// Message bodies are private: the journal and its lock file are created 0600.
#[tokio::test]
async fn the_journal_and_its_lock_are_created_0600() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let s = settings(dir.path());
    let server = Running::start(&s).await;
    let active = s.journal.clone().unwrap();
    let mut lock = active.clone().into_os_string();
    lock.push(".lock");
    for path in [active.clone(), lock.into()] {
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", path.display());
    }
    server.stop().await;
}
