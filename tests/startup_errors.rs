//! How the real binary refuses to start: an empty or blank webhook secret is an error
//! that names its variable (it used to switch signature checking off), and a start-up
//! error written to a log is one plain line, with no colour codes and no backtrace
//! unless RUST_LIB_BACKTRACE asks for one.

mod common;

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use common::free_addr;
use tokio::process::Command;

/// Variables set for one run.
type Env<'a> = &'a [(&'a str, &'a str)];

/// The binary with a clean environment for what these tests vary, stderr piped.
fn pilotwatch(config: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pilotwatch"));
    cmd.env("PILOTWATCH_CONFIG", config)
        .env_remove("PILOT_STATUS_WEBHOOK_SECRET")
        .env_remove("PILOT_STATUS_WEBHOOK_SECRET_PREVIOUS")
        .env_remove("RUST_LIB_BACKTRACE")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

/// Run it to its end (10 s at most), trying its port all along: it must never answer.
async fn run_never_listening(mut cmd: Command, addr: std::net::SocketAddr) -> Output {
    let child = cmd.spawn().unwrap();
    let start = Instant::now();
    let output = tokio::spawn(child.wait_with_output());
    while !output.is_finished() {
        assert!(
            tokio::net::TcpStream::connect(addr).await.is_err(),
            "it listened on {addr}"
        );
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "still running after 10 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    output.await.unwrap().unwrap()
}

#[tokio::test]
async fn an_empty_or_blank_webhook_secret_refuses_to_start_and_never_listens() {
    let dir = tempfile::tempdir().unwrap();
    let empty_config = dir.path().join("empty.toml");
    std::fs::write(&empty_config, "").unwrap();
    let blank_in_file = dir.path().join("blank.toml");
    std::fs::write(&blank_in_file, "webhook_secret = \"   \"\n").unwrap();
    let with_secret = dir.path().join("with-secret.toml");
    std::fs::write(&with_secret, "webhook_secret = \"from-file\"\n").unwrap();
    let cases: [(&str, &Path, Env); 5] = [
        (
            "empty",
            &empty_config,
            &[("PILOT_STATUS_WEBHOOK_SECRET", "")],
        ),
        (
            "blank",
            &empty_config,
            &[("PILOT_STATUS_WEBHOOK_SECRET", " \n")],
        ),
        (
            "empty previous",
            &empty_config,
            &[
                ("PILOT_STATUS_WEBHOOK_SECRET", "s3cret"),
                ("PILOT_STATUS_WEBHOOK_SECRET_PREVIOUS", ""),
            ],
        ),
        ("blank in the file", &blank_in_file, &[]),
        (
            "empty over a file secret",
            &with_secret,
            &[("PILOT_STATUS_WEBHOOK_SECRET", "")],
        ),
    ];
    for (case, config, env) in cases {
        let journal = dir.path().join(format!("{case}.jsonl"));
        let addr = free_addr();
        let mut cmd = pilotwatch(config);
        cmd.args(["--headless", "--listen", &addr.to_string(), "--journal"])
            .arg(&journal)
            .envs(env.iter().copied());
        let out = run_never_listening(cmd, addr).await;
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{case}: {err}");
        let named = if case.contains("file") && env.is_empty() {
            "webhook_secret is empty"
        } else if case.contains("previous") {
            "PILOT_STATUS_WEBHOOK_SECRET_PREVIOUS is set but empty"
        } else {
            "PILOT_STATUS_WEBHOOK_SECRET is set but empty"
        };
        assert!(err.contains(named), "{case}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{case}: one line: {err}");
        assert!(!err.contains("listening"), "{case}: {err}");
        assert!(!journal.exists(), "{case}: it opened the journal");
    }
}

#[tokio::test]
async fn a_start_up_error_in_a_log_is_one_plain_line_without_a_backtrace() {
    let dir = tempfile::tempdir().unwrap();
    // A regular file where a directory should be: the journal cannot be opened.
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let journal = file.join("journal.jsonl");
    let start = |lib_backtrace: Option<&str>| {
        let mut cmd = pilotwatch(Path::new("/dev/null"));
        cmd.args(["--headless", "--listen", "127.0.0.1:0", "--journal"])
            .arg(&journal)
            // Often set for panics (it is in this test's own environment): not a request
            // for error backtraces.
            .env("RUST_BACKTRACE", "1");
        if let Some(v) = lib_backtrace {
            cmd.env("RUST_LIB_BACKTRACE", v);
        }
        cmd.output()
    };
    let out = tokio::time::timeout(Duration::from_secs(10), start(None))
        .await
        .expect("exits at once")
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line: {err}");
    assert!(
        lines[0].starts_with("error: cannot open the journal ")
            && lines[0].contains("not-a-dir/journal.jsonl: "),
        "the error and its cause, joined: {err}"
    );
    assert!(!err.contains('\x1b'), "no colour codes: {err:?}");
    assert!(!err.to_lowercase().contains("backtrace"), "{err}");

    // Asked for: the trace comes, still without colour codes in a log.
    let out = tokio::time::timeout(Duration::from_secs(10), start(Some("1")))
        .await
        .expect("exits at once")
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("BACKTRACE") && err.contains("cannot open the journal"),
        "{err}"
    );
    assert!(!err.contains('\x1b'), "no colour codes: {err:?}");
    eprintln!(
        "plain: 1 line of {} bytes; with RUST_LIB_BACKTRACE=1: {} lines",
        lines[0].len(),
        err.lines().count()
    );
}
