//! `pilotwatch reply`: the scriptable send, against the fake API.

use pilotwatch::demo::fake_api::{Answer, FakeApi};
use serde_json::json;
use tokio::process::Command;

const KEY: &str = "ps_live_canary_cli_0123456789";

async fn reply(base: &str, key: Option<&str>, args: &[&str]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pilotwatch"));
    cmd.arg("reply")
        .args(args)
        .env("PILOT_STATUS_BASE_URL", base)
        .env("PILOTWATCH_CONFIG", "/dev/null")
        .env_remove("PILOT_STATUS_API_KEY");
    if let Some(k) = key {
        cmd.env("PILOT_STATUS_API_KEY", k);
    }
    let out = cmd.output().await.unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn prints_the_202_and_exits_zero() {
    let fake = FakeApi::start().await.unwrap();
    let (code, out, err) = reply(
        &fake.base_url(),
        Some(KEY),
        &[
            "--to",
            "+5511999999999",
            "--text",
            "Olá",
            "--number-id",
            "num_1",
        ],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let answer: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(answer["id"], "msg_fake_0001");
    assert_eq!(answer["status"], "QUEUED");
    let seen = &fake.seen()[0];
    assert_eq!(
        seen.json(),
        json!({"text": "Olá", "destinationNumber": "+5511999999999"})
    );
    assert_eq!(seen.header("x-whatsapp-number-id"), Some("num_1"));
    assert!(!out.contains(KEY) && !err.contains(KEY));
}

#[tokio::test]
async fn an_api_error_exits_one_with_the_reason_and_the_key_to_retry_with() {
    let fake = FakeApi::start().await.unwrap();
    fake.answer(Answer::Status(
        429,
        json!({"error": "Too many requests", "code": "RATE_LIMITED"}),
        Some("12".into()),
    ));
    let (code, out, err) = reply(
        &fake.base_url(),
        Some(KEY),
        &[
            "--group",
            "1203@g.us",
            "--text",
            "oi",
            "--idempotency-key",
            "pw-cli-1",
        ],
    )
    .await;
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert!(
        err.contains("rate limited (HTTP 429 RATE_LIMITED): Too many requests; retry after 12s"),
        "{err}"
    );
    assert!(err.contains("--idempotency-key pw-cli-1"), "{err}");
    assert!(!err.contains(KEY));
    assert_eq!(
        fake.seen()[0].json(),
        json!({"text": "oi", "groupId": "1203@g.us"})
    );
}

#[tokio::test]
async fn without_a_key_it_says_how_to_set_one() {
    let (code, _, err) = reply("http://127.0.0.1:9", None, &["--to", "+1", "--text", "x"]).await;
    assert_eq!(code, 2);
    assert!(err.contains("PILOT_STATUS_API_KEY"), "{err}");
}
