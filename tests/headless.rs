//! The real binary in headless mode: what it prints on stdout and stderr.

mod common;

use std::time::Duration;

use common::{client, spawn};
use tokio::io::{AsyncBufReadExt, BufReader};

const HOSTILE: &str = r#"{"event":"message.received","data":{"from":"+5511999999999","to":"+5511888888888","numberId":"n1","messageId":"w1","id":"h1","type":"text","fromMe":false,"participantName":"Eve\u001b]0;PWNED\u0007","content":"hi\u001b[2J\u009b31m\u202eevil\nnext","createdAt":"2026-02-24T10:30:00.000Z"}}"#;

async fn first_stdout_line(child: &mut tokio::process::Child) -> String {
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    tokio::time::timeout(Duration::from_secs(10), lines.next_line())
        .await
        .expect("a line within 10 s")
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn one_sanitised_line_per_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, addr, stderr) = spawn(&dir.path().join("j.jsonl"), &[]).await;
    let res = client()
        .post(format!("http://{addr}/hooks"))
        .body(HOSTILE)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let line = first_stdout_line(&mut child).await;
    child.start_kill().unwrap();
    assert!(
        !line.contains('\u{1b}')
            && !line.contains('\u{7}')
            && !line.contains('\u{9b}')
            && !line.contains('\u{202e}'),
        "{line:?}"
    );
    for part in [
        "#1",
        "message.received",
        "+5511999999999",
        "Eve^[]0;PWNED^G",
        "hi^[[2J\\u{9b}31m\\u{202e}evil⏎next",
        "known",
        "sig:unchecked",
    ] {
        assert!(line.contains(part), "{part:?} not in {line:?}");
    }
    let stderr = stderr.lock().join("\n");
    assert!(stderr.contains("signatures: NOT CHECKED"), "{stderr}");
    assert!(
        stderr.contains("journal: ") && stderr.contains("j.jsonl"),
        "{stderr}"
    );
}

#[tokio::test]
async fn json_mode_prints_the_journal_shape() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, addr, _) = spawn(&dir.path().join("j.jsonl"), &["--json"]).await;
    // JSON allows DEL and C1 controls raw inside strings; a terminal may obey them.
    let raw_controls = HOSTILE
        .replace("\\u009b", "\u{9b}")
        .replace("evil", "ev\u{7f}il");
    assert!(raw_controls.contains('\u{9b}'));
    client()
        .post(format!("http://{addr}/x"))
        .body(raw_controls.clone())
        .send()
        .await
        .unwrap();
    let line = first_stdout_line(&mut child).await;
    child.start_kill().unwrap();
    assert!(
        !line.contains('\u{1b}') && !line.contains('\u{9b}') && !line.contains('\u{7f}'),
        "{line:?}"
    );
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(
        (v["seq"].as_u64(), v["verdict"].as_str(), v["path"].as_str()),
        (Some(1), Some("known"), Some("/x"))
    );
    assert_eq!(
        v["raw"].as_str().unwrap(),
        raw_controls,
        "the body, exactly"
    );
}

#[tokio::test]
async fn beyond_loopback_without_a_secret_warns_loudly() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, _, stderr) =
        spawn(&dir.path().join("j.jsonl"), &["--listen", "0.0.0.0:0"]).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    child.start_kill().unwrap();
    let stderr = stderr.lock().join("\n");
    assert!(
        stderr.contains("WARNING") && stderr.contains("WITHOUT a webhook secret"),
        "{stderr}"
    );
}

/// `--no-journal` keeps nothing, and the last word on stopping must not claim otherwise.
#[tokio::test]
async fn stopping_without_a_journal_does_not_claim_one() {
    for (args, says) in [
        (&["--no-journal"][..], "nothing was kept (--no-journal)"),
        (
            &["--journal", "JOURNAL"][..],
            "every acknowledged delivery is in the journal",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("j.jsonl");
        let args: Vec<String> = args
            .iter()
            .map(|a| a.replace("JOURNAL", &journal.display().to_string()))
            .collect();
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_pilotwatch"))
            .args(["--headless", "--listen", "127.0.0.1:0"])
            .args(&args)
            .env("PILOTWATCH_CONFIG", "/dev/null")
            .env_remove("PILOT_STATUS_WEBHOOK_SECRET")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let mut seen = Vec::new();
        while let Ok(Some(l)) = lines.next_line().await {
            let listening = l.contains("listening on");
            seen.push(l);
            if listening {
                break;
            }
        }
        let pid = child.id().unwrap().to_string();
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        while let Ok(Ok(Some(l))) =
            tokio::time::timeout(Duration::from_secs(5), lines.next_line()).await
        {
            seen.push(l);
        }
        let last = seen.last().cloned().unwrap_or_default();
        assert!(last.contains(says), "{args:?}: {seen:?}");
    }
}
