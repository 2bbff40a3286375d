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
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(&r.body) else {
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
