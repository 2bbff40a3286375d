//! Hostile text, end to end. Deliveries whose content, names, error strings and raw
//! JSON carry terminal escapes (screen clear, cursor moves, colours, OSC 0/2 titles,
//! OSC 8 links, OSC 52 clipboard writes, DCS, C1 CSI), `\r`, bidi overrides,
//! zero-width characters, 10,000 combining marks, wide CJK and emoji and 100 KB of
//! text are POSTed to the real binary:
//! - running the dashboard in a real pty, whose every output byte is checked (no OSC,
//!   DCS, APC/PM/SOS, BEL, C1 or bidi control) and fed to a terminal emulator
//!   (`vt100`) to check the screen is the one the app meant to draw;
//! - running headless (line and JSON output): no raw ESC/BEL/C1 in what it prints;
//! - and the log file and an export are checked the same way.
//!
//! Canary secrets are set throughout, and found in none of the outputs, the journal,
//! the log or the export.

mod common;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use pilotwatch::signature::sign;
use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use serde_json::json;

const CANARY_SECRET: &str = "whsec_CANARYSECRET_5f1d2e9a77c3";
const CANARY_KEY: &str = "ps_live_CANARYAPIKEY_0b8c4d61aa42";

/// Each hostile string, named.
fn hostile() -> Vec<(&'static str, String)> {
    vec![
        ("clear+home", "before\x1b[2J\x1b[Hafter".into()),
        (
            "cursor moves",
            "a\x1b[10;10Hb\x1b[5Ac\x1b[3Dd\x1b7\x1b8".into(),
        ),
        ("colours", "\x1b[31;1mred\x1b[0m \x1b[38;2;1;2;3mrgb".into()),
        ("osc 0 title", "\x1b]0;PWNED-TITLE\x07tail".into()),
        ("osc 2 title", "\x1b]2;PWNED-TITLE2\x1b\\tail".into()),
        (
            "osc 8 link",
            "\x1b]8;;https://evil.example/\x1b\\click me\x1b]8;;\x1b\\".into(),
        ),
        (
            "osc 52 clipboard",
            "\x1b]52;c;cm0gLXJmIH4=\x07copied".into(),
        ),
        ("dcs", "\x1bP1$r0m\x1b\\dcs".into()),
        ("c1 csi", "\u{9b}2J\u{9b}31mc1".into()),
        ("c1 osc", "\u{9d}0;PWNED-C1\u{9c}".into()),
        ("carriage return", "visible\roverwritten".into()),
        (
            "bidi",
            "abc\u{202e}fedcba\u{202c} \u{2066}x\u{2067}y\u{2068}z\u{2069}".into(),
        ),
        (
            "zero width",
            "zw\u{200b}sp\u{200d}j\u{feff}bom\u{200c}".into(),
        ),
        (
            "combining x10000",
            format!("Z{}", "\u{0301}".repeat(10_000)),
        ),
        ("wide", "漢字テスト🙂👩‍👩‍👧‍👦🇧🇷 ｆｕｌｌ".repeat(20)),
        (
            "100 KB",
            "Lorem ipsum dolor sit amet. ".repeat(100 * 1024 / 28),
        ),
        ("bel and backspace", "ding\x07\x08\x08\x7fdel".into()),
    ]
}

/// Deliveries carrying the hostile strings in every field that is shown.
fn deliveries() -> Vec<String> {
    let mut out = Vec::new();
    for (i, (name, h)) in hostile().into_iter().enumerate() {
        let short: String = h.chars().take(200).collect();
        out.push(
            json!({"event": "message.received", "data": {
            "from": format!("+55119{i:07}"), "to": "+5511888888888", "numberId": "cmm0hostile",
            "messageId": format!("wamid.h{i}"), "id": format!("h-in-{i}"), "type": "text",
            "fromMe": false, "content": h, "participantName": short,
            "createdAt": "2026-11-21T12:00:00.000Z"}})
            .to_string(),
        );
        out.push(
            json!({"event": "message.group", "data": {
            "from": format!("+55119{i:07}"), "to": "+5511888888888", "numberId": "cmm0hostile",
            "messageId": format!("wamid.g{i}"), "id": format!("h-group-{i}"), "type": "text",
            "fromMe": false, "content": format!("group {name}"), "groupId": short,
            "groupName": short, "participantName": short,
            "createdAt": "2026-11-21T12:00:01.000Z"}})
            .to_string(),
        );
        out.push(
            json!({"event": "message.failed", "data": {
            "to": format!("+55119{i:07}"), "numberId": "cmm0hostile",
            "id": format!("h-out-{i}"), "type": "text", "fromMe": true,
            "error": short, "errorCode": short,
            "createdAt": "2026-11-21T12:00:02.000Z"}})
            .to_string(),
        );
        out.push(
            json!({"event": format!("x.unknown.{short}"), "data": {short.clone(): short}})
                .to_string(),
        );
    }
    out
}

async fn post_all(addr: SocketAddr) -> usize {
    let http = common::client();
    let bodies = deliveries();
    for b in &bodies {
        let r = http
            .post(format!("http://{addr}/"))
            .header(
                "x-pilot-status-signature",
                sign(CANARY_SECRET, b.as_bytes()),
            )
            .header("content-type", "application/json")
            .body(b.clone())
            .send()
            .await
            .expect("posted");
        assert!(r.status().is_success(), "{}", r.status());
    }
    bodies.len()
}

async fn wait_listening(addr: SocketAddr) {
    common::wait_ready(addr).await;
}

/// Terminal controls that must never come from a payload.
fn forbidden_in_terminal_output(bytes: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    for (i, w) in bytes.windows(2).enumerate() {
        if w[0] == 0x1b && matches!(w[1], b']' | b'P' | b'_' | b'^' | b'X') {
            found.push(format!("ESC {:?} at {i}", w[1] as char));
        }
    }
    if let Some(i) = bytes.iter().position(|b| *b == 0x07) {
        found.push(format!("BEL at {i}"));
    }
    let text = String::from_utf8_lossy(bytes);
    for c in text.chars() {
        if ('\u{80}'..='\u{9f}').contains(&c)
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        {
            found.push(format!("{:?}", c));
        }
    }
    found
}

/// No ESC, BEL or C1 at all: for logs, line output and exports.
fn raw_controls(bytes: &[u8]) -> Vec<String> {
    let mut found: Vec<String> = bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| matches!(b, 0x1b | 0x07))
        .map(|(i, b)| format!("{b:#04x} at {i}"))
        .take(5)
        .collect();
    let text = String::from_utf8_lossy(bytes);
    found.extend(
        text.chars()
            .filter(|c| ('\u{80}'..='\u{9f}').contains(c))
            .map(|c| format!("{c:?}"))
            .take(5),
    );
    found
}

fn assert_no_canary(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    for canary in [CANARY_SECRET, CANARY_KEY] {
        assert!(!text.contains(canary), "{what} holds a secret in full");
    }
}

/// Every file under `dir`, with its bytes.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files(&p));
        } else if std::os::unix::fs::FileTypeExt::is_socket(&e.file_type().unwrap()) {
            // The attach socket holds no bytes.
        } else {
            out.push((p.display().to_string(), std::fs::read(&p).unwrap()));
        }
    }
    out
}

struct Pty {
    writer: Box<dyn Write + Send>,
    output: Arc<Mutex<Vec<u8>>>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    _master: Box<dyn portable_pty::MasterPty + Send>,
}

impl Pty {
    fn keys(&mut self, keys: &str) {
        for k in keys.chars() {
            self.writer.write_all(k.to_string().as_bytes()).unwrap();
            self.writer.flush().unwrap();
            std::thread::sleep(Duration::from_millis(60));
        }
    }

    fn raw(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).unwrap();
        self.writer.flush().unwrap();
        std::thread::sleep(Duration::from_millis(120));
    }

    /// The screen as a terminal would show it, after everything written so far.
    fn screen(&self) -> vt100::Parser {
        let mut p = vt100::Parser::new(40, 120, 0);
        p.process(&self.output.lock());
        p
    }
}

fn dashboard(dir: &Path, addr: SocketAddr) -> Pty {
    let pty = native_pty_system()
        .openpty(PtySize {
            rows: 40,
            cols: 120,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("a pty");
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_pilotwatch"));
    cmd.args(["--listen", &addr.to_string(), "--journal"]);
    cmd.arg(dir.join("journal/journal.jsonl"));
    cmd.cwd(dir);
    cmd.env("TERM", "xterm-256color");
    cmd.env("PILOTWATCH_CONFIG", "/dev/null");
    cmd.env("PILOT_STATUS_WEBHOOK_SECRET", CANARY_SECRET);
    cmd.env("PILOT_STATUS_API_KEY", CANARY_KEY);
    cmd.env("PILOT_STATUS_BASE_URL", "http://127.0.0.1:9");
    let child = pty.slave.spawn_command(cmd).expect("pilotwatch starts");
    let mut reader = pty.master.try_clone_reader().unwrap();
    let output = Arc::new(Mutex::new(Vec::new()));
    let out = output.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 65536];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            out.lock().extend_from_slice(&buf[..n]);
        }
    });
    Pty {
        writer: pty.master.take_writer().unwrap(),
        output,
        child,
        _master: pty.master,
    }
}

fn screen_text(p: &vt100::Parser) -> String {
    p.screen().contents()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_text_reaches_no_terminal_log_export_or_line_output_raw() {
    let dir = tempfile::tempdir().unwrap();
    let addr = common::free_addr();
    let mut pty = dashboard(dir.path(), addr);
    wait_listening(addr).await;
    let sent = post_all(addr).await;
    tokio::time::sleep(Duration::from_millis(400)).await;

    // Walk every pane and open details of hostile rows, as an operator would.
    let mut screens = Vec::new();
    pty.keys("1");
    screens.push(("messages", pty.screen()));
    for _ in 0..6 {
        pty.keys("j");
        pty.raw(b"\r");
        screens.push(("message detail", pty.screen()));
        pty.raw(b"\x1b");
    }
    pty.keys("4");
    screens.push(("feed", pty.screen()));
    for _ in 0..6 {
        pty.keys("j");
        pty.raw(b"\r");
        screens.push(("feed detail", pty.screen()));
        pty.raw(b"\x1b");
    }
    pty.keys("2");
    screens.push(("numbers", pty.screen()));
    pty.keys("4e");
    std::thread::sleep(Duration::from_millis(300));
    screens.push(("after export", pty.screen()));
    // This dashboard is the receiver: q asks, a second q quits.
    pty.keys("qq");
    let start = Instant::now();
    while pty.child.try_wait().unwrap().is_none() {
        assert!(start.elapsed() < Duration::from_secs(5), "did not quit");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));

    // 1. Not one OSC/DCS/BEL/C1/bidi control in everything written to the terminal.
    let output = pty.output.lock().clone();
    let bad = forbidden_in_terminal_output(&output);
    assert!(
        bad.is_empty(),
        "the terminal got: {:?}",
        &bad[..bad.len().min(10)]
    );
    assert_no_canary("the terminal output", &output);

    // 2. Each screen is the one the app meant: its frame intact (a payload's cursor
    // move or clear would tear it), the escaped forms visible, the title untouched.
    for (what, p) in &screens {
        let s = p.screen();
        let text = screen_text(p);
        let first = s.contents_between(0, 0, 0, 120);
        assert!(first.contains("pilotwatch"), "{what}: header gone:\n{text}");
        assert!(
            s.title().is_empty() && s.icon_name().is_empty(),
            "{what}: the window title was set to {:?}",
            s.title()
        );
        assert_no_canary(what, text.as_bytes());
        // The bottom line is the status/keys line, on its own row.
        let last = s.contents_between(39, 0, 39, 120);
        assert!(!last.trim().is_empty(), "{what}: status line gone:\n{text}");
    }
    let all: String = screens.iter().map(|(_, p)| screen_text(p)).collect();
    for visible in [
        "^[]52;c;cm0gLXJmIH4=^Gcopied",
        "^[P1$r0m^[\\dcs",
        "\\u{9b}2J\\u{9b}31mc1",
        "visible^Moverwritten",
        "abc\\u{202e}fedcba",
        "ding^G^H^H^?del",
    ] {
        assert!(all.contains(visible), "{visible:?} not shown escaped");
    }

    // 3. The journal, the log and the export: no secret, and no raw control outside
    // the journal's own JSON escaping.
    let written = files(dir.path());
    let export = written
        .iter()
        .find(|(p, _)| p.contains("pilotwatch-export-"))
        .expect("the export was written");
    assert!(
        raw_controls(&export.1).is_empty(),
        "export: {:?}",
        raw_controls(&export.1)
    );
    for (path, bytes) in &written {
        assert_no_canary(path, bytes);
        if path.ends_with(".log") || path.ends_with(".jsonl") {
            let bad = raw_controls(bytes);
            assert!(bad.is_empty(), "{path}: {bad:?}");
        }
    }
    let (records, _) =
        pilotwatch::journal::replay::read_all(&dir.path().join("journal/journal.jsonl")).unwrap();
    assert_eq!(records.len(), sent, "every hostile delivery is kept");

    // 4. Headless, line and JSON output.
    for extra in [&[][..], &["--json"][..]] {
        // Secrets from a config file this time.
        let hdir = tempfile::tempdir().unwrap();
        let config = hdir.path().join("pilotwatch.toml");
        std::fs::write(
            &config,
            format!("webhook_secret = \"{CANARY_SECRET}\"\napi_key = \"{CANARY_KEY}\"\n"),
        )
        .unwrap();
        let config = config.display().to_string();
        let mut args = vec!["--config", config.as_str()];
        args.extend_from_slice(extra);
        let journal = hdir.path().join("journal.jsonl");
        let (mut child, addr, stderr) = common::spawn(&journal, &args).await;
        let mut stdout = child.stdout.take().unwrap();
        let reading = tokio::spawn(async move {
            let mut out = Vec::new();
            let _ = tokio::io::AsyncReadExt::read_to_end(&mut stdout, &mut out).await;
            out
        });
        post_all(addr.parse().unwrap()).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let _ = child.start_kill();
        let out = reading.await.unwrap();
        assert!(
            out.len() > 1000,
            "headless {extra:?} printed {} bytes",
            out.len()
        );
        let bad = raw_controls(&out);
        assert!(bad.is_empty(), "headless {extra:?}: {bad:?}");
        assert_no_canary("headless output", &out);
        let err = stderr.lock().join("\n");
        assert!(raw_controls(err.as_bytes()).is_empty(), "headless stderr");
        assert_no_canary("headless stderr", err.as_bytes());
        for (path, bytes) in files(hdir.path()) {
            if !path.ends_with(".toml") {
                assert_no_canary(&path, &bytes);
                assert!(raw_controls(&bytes).is_empty(), "{path}");
            }
        }
    }
}
