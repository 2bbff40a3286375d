//! How the process ends and starts: SIGTERM under load drains, syncs and exits 0
//! within 5 s with every acknowledged delivery journaled; an unwritable journal path is
//! a clear error at start; a dashboard whose terminal goes away (an SSH drop) exits
//! within 2 s and leaves its journal intact.

mod common;

use std::collections::HashSet;
use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{alive, client, free_addr, spawn};
use parking_lot::Mutex;
use pilotwatch::journal::replay::read_all;
use portable_pty::{CommandBuilder, PtySize, native_pty_system};

/// The two timed tests take turns: each measures how fast one process stops, and on
/// CI's two cores the other's load generator would be measured with it.
static TIMED: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn body(w: usize, i: usize) -> String {
    format!(
        r#"{{"event":"message.received","data":{{"from":"+5511999999999","to":"+5511888888888","numberId":"n1","messageId":"w-{w}-{i}","id":"life-{w}-{i}","type":"text","fromMe":false,"content":"load {w}/{i}","createdAt":"2026-01-01T00:00:00Z"}}}}"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_drains_syncs_and_exits_0_within_5_s() {
    let _turn = TIMED.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.jsonl");
    let (mut child, addr, stderr) = spawn(&journal, &[]).await;
    let acked = Arc::new(Mutex::new(HashSet::new()));
    let http = client();
    let mut workers = Vec::new();
    for w in 0..8 {
        let (http, acked, url) = (http.clone(), acked.clone(), format!("http://{addr}/"));
        workers.push(tokio::spawn(async move {
            for i in 0.. {
                match http.post(&url).body(body(w, i)).send().await {
                    Ok(r) if r.status().is_success() => {
                        acked.lock().insert(format!("life-{w}-{i}"));
                    }
                    // Refused or cut off while stopping: not acknowledged, may retry.
                    _ => return,
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    let pid = child.id().unwrap();
    let t = Instant::now();
    std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(5), child.wait())
        .await
        .expect("exited within 5 s of SIGTERM")
        .unwrap();
    let took = t.elapsed();
    for w in workers {
        let _ = w.await;
    }
    assert!(status.success(), "exit {status:?}: {:?}", stderr.lock());
    let (records, report) = read_all(&journal).unwrap();
    let journaled: HashSet<String> = records
        .iter()
        .filter_map(|r| {
            let v: serde_json::Value = serde_json::from_slice(&r.body.get()).ok()?;
            Some(v["data"]["id"].as_str()?.to_owned())
        })
        .collect();
    let acked = acked.lock();
    assert!(acked.len() > 100, "only {} acked under load", acked.len());
    let missing = acked.difference(&journaled).count();
    assert_eq!(missing, 0, "acknowledged but not journaled");
    assert!(
        report.corrupt.is_empty() && report.torn_tail.is_none(),
        "a clean stop leaves a clean journal: {report:?}"
    );
    eprintln!(
        "SIGTERM with {} acked: exit 0 after {took:?}, {} journaled",
        acked.len(),
        records.len()
    );
}

#[tokio::test]
async fn an_unwritable_journal_path_is_a_clear_error_at_start() {
    let dir = tempfile::tempdir().unwrap();
    // A regular file where a directory should be: ENOTDIR, even for root.
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let journal = file.join("journal.jsonl");
    let out = tokio::time::timeout(
        Duration::from_secs(10),
        tokio::process::Command::new(env!("CARGO_BIN_EXE_pilotwatch"))
            .args(["--headless", "--listen", "127.0.0.1:0", "--journal"])
            .arg(&journal)
            .env("PILOTWATCH_CONFIG", "/dev/null")
            .output(),
    )
    .await
    .expect("exits at once")
    .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot open the journal") && err.contains("not-a-dir"),
        "{err}"
    );
    assert!(
        !err.contains("listening"),
        "it must not take deliveries: {err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_terminal_ends_the_dashboard_within_2_s_and_the_journal_is_intact() {
    let _turn = TIMED.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.jsonl");
    let addr = free_addr();
    let pty = native_pty_system()
        .openpty(PtySize {
            rows: 30,
            cols: 100,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_pilotwatch"));
    cmd.args(["--listen", &addr.to_string(), "--journal"]);
    cmd.arg(&journal);
    cmd.env("TERM", "xterm-256color");
    cmd.env("PILOTWATCH_CONFIG", "/dev/null");
    cmd.env_remove("PILOT_STATUS_WEBHOOK_SECRET");
    let mut child = pty.slave.spawn_command(cmd).unwrap();
    drop(pty.slave);
    let pid = child.process_id().unwrap();
    // The reader holds its own copy of the master: it must be gone too before the
    // terminal counts as closed. It stops after the next read once told to (the
    // dashboard draws its clock every second, so a read always comes).
    let mut reader = pty.master.try_clone_reader().unwrap();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stopping = stop.clone();
    let reading = std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while matches!(reader.read(&mut buf), Ok(n) if n > 0) {
            if stopping.load(std::sync::atomic::Ordering::SeqCst) {
                return;
            }
        }
    });
    common::wait_ready(addr).await;
    let http = client();
    for i in 0..50 {
        let r = http
            .post(format!("http://{addr}/"))
            .body(body(0, i))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }
    // The SSH connection drops: the pty master closes.
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    reading.join().unwrap();
    assert!(alive(pid), "the dashboard was running until now");
    drop(pty.master);
    let t = Instant::now();
    while alive(pid) && t.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = t.elapsed();
    assert!(
        took < Duration::from_secs(2),
        "still running {took:?} after"
    );
    let _ = child.wait();
    let (records, report) = read_all(&journal).unwrap();
    assert_eq!(records.len(), 50);
    assert!(
        report.corrupt.is_empty() && report.torn_tail.is_none(),
        "{report:?}"
    );
    eprintln!("exited {took:?} after its terminal closed; 50 of 50 journaled");
}
