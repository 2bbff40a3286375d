//! The demo as a newcomer runs it, with a journal: stopping it leaves no call open.

use std::collections::HashSet;
use std::process::Stdio;
use std::time::Duration;

use pilotwatch::journal::replay::read_all;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_the_demo_ends_its_calls_in_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.jsonl");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_pilotwatch"))
        .args(["--demo", "--headless", "--demo-rate", "40", "--journal"])
        .arg(&journal)
        .env("PILOTWATCH_CONFIG", "/dev/null")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let pid = child.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(8), child.wait())
        .await
        .expect("stops")
        .unwrap();
    assert!(status.success(), "{status:?}");
    let (records, _) = read_all(&journal).unwrap();
    let mut open = HashSet::new();
    let mut rang = 0;
    for r in &records {
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(&r.body.get()) else {
            continue;
        };
        let id = v["callId"].as_str().unwrap_or_default().to_owned();
        match v["event"].as_str() {
            Some("call.ringing") => {
                rang += 1;
                open.insert(id);
            }
            Some("call.ended" | "call.missed") => {
                open.remove(&id);
            }
            _ => {}
        }
    }
    assert!(rang > 0, "no call in {} records", records.len());
    assert!(
        open.is_empty(),
        "{} of {rang} calls never ended: {open:?}",
        open.len()
    );
}

/// The demo loses a `delivered` webhook early on; the reconciler, asking the demo's
/// provider, catches it: a message marked webhook-missing, well within two minutes
/// with the defaults the demo uses (here `--reconcile-after 5s` to keep the test short).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_loses_a_webhook_and_the_reconciler_catches_it() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.jsonl");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_pilotwatch"))
        .args([
            "--demo",
            "--headless",
            "--reconcile-after",
            "5s",
            "--journal",
        ])
        .arg(&journal)
        .env("PILOTWATCH_CONFIG", "/dev/null")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let caught = loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let (records, _) = read_all(&journal).unwrap_or_default();
        let mut store = pilotwatch::store::Store::new(100_000);
        for mut r in records {
            pilotwatch::ingest::rederive(&mut r);
            store.apply(r);
        }
        if store.messages().missing() > 0 {
            let row = store
                .messages()
                .newest()
                .find(|(_, r)| r.webhook_missing().is_some())
                .unwrap()
                .1
                .clone();
            break Some((
                row,
                store.provider().attempts().filter(|a| a.lost()).count(),
            ));
        }
        if started.elapsed() > Duration::from_secs(60) {
            break None;
        }
    };
    let _ = child.kill().await;
    let (row, lost) = caught.expect("no webhook-missing message within 60 s of demo");
    println!(
        "caught after {:?}: {} ({lost} lost attempt(s) in the provider's log)",
        started.elapsed(),
        row.id()
    );
    assert_eq!(row.webhook_missing(), Some("delivered"));
}
