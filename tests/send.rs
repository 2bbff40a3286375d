//! `pilotwatch send` against the real receiver.

mod common;

use common::{Running, settings, with_secrets};
use pilotwatch::journal::replay::read_all;
use pilotwatch::model::Verdict;
use pilotwatch::record::SignatureCheck;
use tokio::process::Command;

async fn send(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pilotwatch"))
        .arg("send")
        .args(args)
        .env_remove("PILOT_STATUS_WEBHOOK_SECRET")
        .output()
        .await
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn samples_and_files_arrive_signed_with_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let s = with_secrets(settings(dir.path()), &["whsec_send_test"]);
    let server = Running::start(&s).await;
    let url = server.url("/hooks");
    let (code, out, err) = send(&[
        "message.received",
        "--url",
        &url,
        "--secret",
        "whsec_send_test",
        "--set",
        "data.content=Hello from send",
    ])
    .await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("signed") && out.contains("200 OK") && out.contains("\"verdict\":\"known\""),
        "{out}"
    );
    let file = common::corpus_dir().join("call.ended.json");
    let (code, _, _) = send(&[
        file.to_str().unwrap(),
        "--url",
        &url,
        "--secret",
        "whsec_send_test",
    ])
    .await;
    assert_eq!(code, 0);
    // Unsigned against a checking receiver: the answer is printed and the exit says so.
    let (code, out, _) = send(&["number.connected", "--url", &url]).await;
    assert_eq!(code, 1);
    assert!(
        out.contains("401") && out.contains("signature missing"),
        "{out}"
    );
    let (code, _, err) = send(&["no.such.event", "--url", &url]).await;
    assert_eq!(code, 2);
    assert!(err.contains("--list"), "{err}");
    server.stop().await;

    let (records, _) = read_all(s.journal.as_ref().unwrap()).unwrap();
    assert_eq!(records.len(), 3);
    assert_eq!(
        (records[0].signature, records[0].verdict),
        (SignatureCheck::Valid, Verdict::Known)
    );
    let v: serde_json::Value = serde_json::from_slice(&records[0].body.get()).unwrap();
    assert_eq!(v["data"]["content"], "Hello from send");
    assert_eq!(
        &records[1].body.bytes()[..],
        &std::fs::read(&file).unwrap()[..],
        "a file is sent byte for byte"
    );
    assert_eq!(records[2].verdict, Verdict::Rejected);
}

#[tokio::test]
async fn list_names_every_sample() {
    let (code, out, _) = send(&["--list"]).await;
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), pilotwatch::model::EVENT_NAMES.len());
    assert!(
        out.lines().any(|l| l == "calls") && out.lines().any(|l| l == "number.health_degraded")
    );
}

/// `pilotwatch send … | head -1`: a closed stdout is not a panic, and the exit code
/// still says the POST went through.
#[tokio::test]
async fn a_closed_stdout_is_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let server = Running::start(&settings(dir.path())).await;
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_pilotwatch"))
        .args(["send", "message.received", "--url", &server.url("/")])
        .env_remove("PILOT_STATUS_WEBHOOK_SECRET")
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "no colours on a pipe: {stderr:?}"
    );
    server.stop().await;
}
