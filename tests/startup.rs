//! Start-up with a long history: the port answers at once (503 + Retry-After while the
//! journal replays), and only what the store can hold is read back.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{client, free_addr, spawn, wait_for};
use pilotwatch::journal::line;
use pilotwatch::record::Record;

/// A journal of `n` delivered messages, as the receiver would have written it.
fn write_journal(path: &Path, n: u64) {
    let mut out = Vec::with_capacity(n as usize * 600);
    for seq in 1..=n {
        let body = format!(
            r#"{{"event":"message.received","data":{{"from":"+5511999999999","to":"+5511888888888","numberId":"n1","messageId":"w-{seq}","id":"start-{seq}","type":"text","fromMe":false,"content":"history {seq}","createdAt":"2026-01-01T00:00:00Z"}}}}"#
        );
        line::encode(&Record::delivery(seq, body.as_bytes()), &mut out);
    }
    std::fs::write(path, out).unwrap();
}

/// One raw request; the status line and body of the answer (`None`: refused/closed).
fn post(addr: &str) -> Option<String> {
    let mut s = TcpStream::connect_timeout(&addr.parse().ok()?, Duration::from_millis(200)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    let body = r#"{"event":"message.received","data":{"id":"new-1"}}"#;
    let req = format!(
        "POST / HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).ok()?;
    let mut answer = String::new();
    s.read_to_string(&mut answer).ok()?;
    Some(answer)
}

/// Post until the port answers (it opens at once, before the replay): the answer and
/// when it came; fail after 20 s from `t`.
async fn first_answer(addr: String, t: Instant) -> (String, Instant) {
    tokio::task::spawn_blocking(move || {
        loop {
            if let Some(answer) = post(&addr) {
                return (answer, Instant::now());
            }
            assert!(
                t.elapsed() < Duration::from_secs(20),
                "the port never opened"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_port_answers_503_while_a_long_journal_replays_and_a_small_capacity_reads_only_the_tail()
 {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.jsonl");
    let n = 100_000;
    write_journal(&journal, n);

    // Everything kept: the replay takes a while, and the port is open all along.
    let addr = free_addr().to_string();
    let t = Instant::now();
    let spawning = {
        let (journal, addr) = (journal.clone(), addr.clone());
        tokio::spawn(async move {
            let extra = ["--listen", addr.as_str(), "--capacity", "1000000"];
            let started = spawn(&journal, &extra).await;
            (started, Instant::now())
        })
    };
    let first = first_answer(addr.clone(), t).await;
    let ((mut child, _, stderr), listening) = spawning.await.unwrap();
    let (answer, answered) = first;
    let full = listening - t;
    eprintln!(
        "{n} records: first answer after {:?}, replay done after {full:?}",
        answered - t
    );
    assert!(
        answer.starts_with("HTTP/1.1 503") && answer.contains("retry-after: 5"),
        "while replaying: {answer}"
    );
    assert!(answer.contains("the journal is being read"), "{answer}");
    assert!(answered < listening, "answered before the replay ended");
    let ok = client()
        .post(format!("http://{addr}/"))
        .body(r#"{"event":"message.received","data":{"id":"after"}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let seq = ok.json::<serde_json::Value>().await.unwrap()["seq"].as_u64();
    assert_eq!(seq, Some(n + 1), "seqs go on from the history");
    let replayed = format!("{n} deliveries replayed");
    wait_for("the replay count", || {
        stderr.lock().iter().any(|l| l.contains(&replayed))
    })
    .await;
    child.kill().await.unwrap();
    let _ = child.wait().await;

    // A store of 1,000 needs only the tail: start-up no longer grows with the history.
    let t = Instant::now();
    let (mut child, addr, stderr) = spawn(&journal, &["--capacity", "1000"]).await;
    let small = t.elapsed();
    eprintln!(
        "--capacity 1000: listening after {small:?} ({:.1}x faster than the full replay)",
        full.as_secs_f64() / small.as_secs_f64()
    );
    // Twice the capacity is read back, and the banner says the rest was not.
    wait_for("the banner", || {
        let lines = stderr.lock();
        lines.iter().any(|l| l.contains("2000 deliveries replayed"))
            && lines
                .iter()
                .any(|l| l.contains("only the newest records were loaded"))
    })
    .await;
    let ok = client()
        .post(format!("http://{addr}/"))
        .body(r#"{"event":"message.received","data":{"id":"after-2"}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(
        ok.json::<serde_json::Value>().await.unwrap()["seq"].as_u64(),
        Some(n + 2),
        "the last seq is known without reading the whole history"
    );
    assert!(small < full, "{small:?} vs {full:?}");
    child.kill().await.unwrap();
}

/// SIGTERM while the journal replays (the port already answering 503): a clean stop,
/// exit 0, not death by the signal's default action.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_the_replay_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.jsonl");
    write_journal(&journal, 100_000);
    let addr = free_addr().to_string();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_pilotwatch"))
        .args([
            "serve",
            "--listen",
            &addr,
            "--capacity",
            "1000000",
            "--journal",
        ])
        .arg(&journal)
        .env("PILOTWATCH_CONFIG", "/dev/null")
        .env_remove("PILOT_STATUS_WEBHOOK_SECRET")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let t = Instant::now();
    let (answer, _) = first_answer(addr, t).await;
    assert!(answer.contains("the journal is being read"), "{answer}");
    let pid = child.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("stopped")
        .unwrap();
    assert_eq!(status.code(), Some(0), "{status:?}");
}
