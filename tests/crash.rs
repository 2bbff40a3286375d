//! Kill -9 under load: every delivery that got a 2xx is in the journal and, after
//! replay (from the store snapshot the previous round's replay left, and the lines
//! after it), in the store; a torn last line is tolerated. `PILOTWATCH_CRASH_ROUNDS`
//! raises the number of rounds (CI runs a few).

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use common::{client, spawn};
use parking_lot::Mutex;
use pilotwatch::ingest::{Ingest, IngestConfig};
use pilotwatch::journal::replay::read_all;
use pilotwatch::store::Store;

fn body(round: usize, worker: usize, i: usize) -> String {
    format!(
        r#"{{"event":"message.received","data":{{"from":"+5511999999999","to":"+5511888888888","numberId":"n1","messageId":"w-{round}-{worker}-{i}","id":"id-{round}-{worker}-{i}","type":"text","fromMe":false,"content":"load {round}/{worker}/{i}","createdAt":"2026-01-01T00:00:00Z"}}}}"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_load_loses_no_acknowledged_delivery() {
    let rounds: usize = std::env::var("PILOTWATCH_CRASH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.jsonl");
    let mut acked: HashMap<u64, String> = HashMap::new();

    for round in 0..rounds {
        let (mut child, addr, _) = spawn(&journal, &[]).await;
        let round_acks = Arc::new(Mutex::new(Vec::new()));
        let http = client();
        let mut workers = Vec::new();
        for w in 0..8 {
            let (http, url, acks) = (
                http.clone(),
                format!("http://{addr}/hooks"),
                round_acks.clone(),
            );
            workers.push(tokio::spawn(async move {
                for i in 0..5_000 {
                    let b = body(round, w, i);
                    let Ok(res) = http
                        .post(&url)
                        .body(b.clone())
                        .timeout(Duration::from_secs(5))
                        .send()
                        .await
                    else {
                        return;
                    };
                    if !res.status().is_success() {
                        return;
                    }
                    let Ok(v) = res.json::<serde_json::Value>().await else {
                        return;
                    };
                    acks.lock().push((v["seq"].as_u64().unwrap(), b));
                }
            }));
        }
        // Kill at a different moment each round, mid-load.
        tokio::time::sleep(Duration::from_millis(150 + (round as u64 * 137) % 400)).await;
        child.start_kill().unwrap();
        child.wait().await.unwrap();
        for w in workers {
            w.await.unwrap();
        }
        let n = round_acks.lock().len();
        assert!(
            n > 0,
            "round {round}: nothing was acknowledged before the kill"
        );
        acked.extend(round_acks.lock().drain(..));

        // Every acked delivery is in the journal, byte for byte.
        let (records, report) = read_all(&journal).unwrap();
        assert!(
            report.corrupt.is_empty(),
            "round {round}: {:?}",
            report.corrupt
        );
        let by_seq: HashMap<u64, bytes::Bytes> =
            records.iter().map(|r| (r.seq, r.body.bytes())).collect();
        for (seq, b) in &acked {
            assert_eq!(
                by_seq.get(seq).map(|b| &b[..]),
                Some(b.as_bytes()),
                "round {round}: acked seq {seq} missing from the journal"
            );
        }

        // Simulate a torn write on top of whatever the kill left.
        if round % 2 == 1 {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(&journal)
                .unwrap();
            f.write_all(br#"{"seq":999999,"kind":"delivery","receivedAt":"2026-"#)
                .unwrap();
        }

        // Replay rebuilds the store with every acked delivery, and no duplicates.
        let store = Store::shared(1_000_000);
        let config = IngestConfig {
            journal: Some(journal.clone()),
            segment_max: 64 << 20,
            dedupe_window: 1_000_000,
            // Its shutdown writes a snapshot: the next round replays only what the
            // killed process added after it (the child, at another capacity, ignores it).
            snapshot: Some(pilotwatch::snapshot::Policy::default()),
        };
        let (ingest, report) = Ingest::start(&config, store.clone()).unwrap();
        assert_eq!(
            report.from_snapshot.is_some(),
            round > 0,
            "round {round}: {:?}",
            report.snapshot_ignored
        );
        if round % 2 == 1 {
            assert!(
                report.torn_tail.is_some(),
                "round {round}: the torn line is reported"
            );
        }
        {
            let store = store.read();
            for (seq, b) in &acked {
                let r = store
                    .record(*seq)
                    .unwrap_or_else(|| panic!("round {round}: acked seq {seq} not in the store"));
                assert_eq!(&r.body.bytes()[..], b.as_bytes());
            }
            assert_eq!(
                store.counters().duplicates,
                0,
                "replay creates no duplicates"
            );
            assert_eq!(store.messages().len() as u64, store.counters().total);
        }
        ingest.shutdown().await;
        drop(ingest);
        eprintln!(
            "round {round}: {n} acked before SIGKILL, {} in the journal",
            records.len()
        );
    }

    // The binary itself comes back up over the journal and continues the sequence.
    let (mut child, addr, stderr) = spawn(&journal, &[]).await;
    let health = common::health_of(&addr).await;
    let max_acked = acked.keys().max().copied().unwrap();
    assert!(health["lastSeq"].as_u64().unwrap() >= max_acked, "{health}");
    assert!(
        stderr
            .lock()
            .iter()
            .any(|l| l.contains("deliveries replayed")),
        "{:?}",
        stderr.lock()
    );
    child.start_kill().unwrap();
    child.wait().await.unwrap();
}
