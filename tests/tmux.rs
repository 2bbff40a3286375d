//! The real binary in a real terminal (tmux): deliveries POSTed to it appear, `/`
//! narrows the rows, `?` shows help, hostile text cannot retitle the pane, and `q`
//! leaves the terminal as it found it. Skipped (with a note) where tmux is missing;
//! `.ci/run` installs it.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{alive, client};

struct Tmux {
    socket: String,
}

impl Tmux {
    fn available() -> bool {
        Command::new("tmux")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success())
    }

    fn start(command: &str, width: u16, height: u16) -> Tmux {
        let socket = format!("pilotwatch-test-{}-{}", std::process::id(), rand_suffix());
        let t = Tmux { socket };
        let ok = t
            .cmd(&[
                "new-session",
                "-d",
                "-s",
                "pw",
                "-x",
                &width.to_string(),
                "-y",
                &height.to_string(),
                command,
            ])
            .status
            .success();
        assert!(ok, "tmux new-session failed");
        t
    }

    fn cmd(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs")
    }

    /// The screen of a window (`pw:1`).
    fn screen_of(&self, target: &str) -> String {
        String::from_utf8_lossy(&self.cmd(&["capture-pane", "-p", "-t", target]).stdout)
            .into_owned()
    }

    /// Another window running `command`; its target is `pw:<index>`.
    fn window(&self, index: u32, command: &str) -> String {
        let target = format!("pw:{index}");
        let ok = self
            .cmd(&["new-window", "-d", "-t", &target, command])
            .status
            .success();
        assert!(ok, "tmux new-window failed");
        target
    }

    fn display(&self, format: &str) -> String {
        String::from_utf8_lossy(
            &self
                .cmd(&["display-message", "-p", "-t", "pw", format])
                .stdout,
        )
        .trim()
        .to_owned()
    }

    /// Keys one at a time, with a pause, so an Esc is never read as Alt-<next key>.
    fn keys(&self, keys: &[&str]) {
        self.keys_to("pw", keys)
    }

    fn keys_to(&self, target: &str, keys: &[&str]) {
        for k in keys {
            self.cmd(&["send-keys", "-t", target, k]);
            std::thread::sleep(Duration::from_millis(60));
        }
    }

    fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        self.wait_in("pw", what, pred)
    }

    fn wait_in(&self, target: &str, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen_of(target);
            if pred(&s) {
                return s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "timed out waiting for {what}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]);
    }
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(Instant::now()) % 1_000_000
}

const HOSTILE: &str = r#"{"event":"message.received","data":{"from":"+5511900000001","to":"+5511888888888","numberId":"cmm0abc123","messageId":"evil","id":"evil","type":"text","fromMe":false,"participantName":"\u001b]2;PWNED-TITLE\u0007Mallory","content":"\u001b]0;PWNED-TITLE\u0007\u001b[2J\u009b31mred\u202eevil","createdAt":"2026-02-24T10:31:00.000Z"}}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_end_to_end_in_tmux() {
    if !Tmux::available() {
        eprintln!("SKIPPED: tmux is not installed (.ci/run installs it)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_pilotwatch");
    let journal = dir.path().join("j.jsonl");
    let command = format!(
        "env -u PILOT_STATUS_WEBHOOK_SECRET PILOTWATCH_CONFIG=/dev/null {bin} --listen 127.0.0.1:0 --journal {}; echo EXITED rc=$?; sleep 30",
        journal.display()
    );
    let tmux = Tmux::start(&command, 120, 34);
    let screen = tmux.wait_for("the waiting screen", |s| {
        s.contains("waiting for the first delivery")
    });
    // The Messages pane, full screen (the overview is the first screen).
    tmux.keys(&["1"]);
    let addr = screen
        .split("http://")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap()
        .trim_end_matches(',')
        .to_owned();
    let title_before = tmux.display("#{pane_title}");

    let http = client();
    for (file, _, body) in common::corpus() {
        let res = http
            .post(format!("http://{addr}/hooks"))
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{file}");
    }
    let screen = tmux.wait_for("the message rows", |s| {
        s.contains("Check this photo") && s.contains("29 deliveries")
    });
    assert!(
        screen.contains("✓✓ read") && screen.contains("# My Group"),
        "{screen}"
    );

    // Hostile text: shown escaped, and it cannot retitle the pane or clear the screen.
    http.post(format!("http://{addr}/hooks"))
        .body(HOSTILE)
        .send()
        .await
        .unwrap();
    let screen = tmux.wait_for("the hostile row", |s| s.contains("30 deliveries"));
    assert!(
        screen.contains("^[]0;PWNED-TITLE^G^[[2J"),
        "escaped form on screen:\n{screen}"
    );
    assert!(
        screen.contains("Check this photo"),
        "the screen was not cleared:\n{screen}"
    );
    assert_eq!(
        tmux.display("#{pane_title}"),
        title_before,
        "the pane title changed"
    );

    // `/` filters as you type.
    tmux.keys(&["/", "t", "y", "p", "e", ":", "i", "m", "a", "g", "e"]);
    let screen = tmux.wait_for("the filtered view", |s| {
        s.contains("/ type:image") && !s.contains("# My Group")
    });
    assert!(screen.contains("Check this photo"), "{screen}");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the kept filter", |s| s.contains("filter: type:image"));
    tmux.keys(&["Escape"]);
    tmux.wait_for("the cleared filter", |s| s.contains("# My Group"));

    // Other panes, the detail view, the help overlay.
    tmux.keys(&["4"]);
    tmux.wait_for("the feed", |s| {
        s.contains("BROKEN") && s.contains("conversation.assigned")
    });
    tmux.keys(&["G", "Enter"]);
    tmux.wait_for("a broken delivery's detail", |s| {
        s.contains("$.duration: expected integer") && s.contains("\"duration\": \"120\"")
    });
    tmux.keys(&["Escape", "?"]);
    tmux.wait_for("the help", |s| {
        // The filter's heading at least: the help scrolls on a terminal this size.
        s.contains("Keys") && s.contains("Filter (/)")
    });
    tmux.keys(&["Escape"]);
    tmux.wait_for("the help closed", |s| {
        !s.contains("any key closes this help")
    });

    // `q` asks (this dashboard is the receiver), a second `q` quits and the terminal
    // is restored: the normal screen, cursor visible.
    tmux.keys(&["q"]);
    tmux.wait_for("the question", |s| s.contains("q again quits"));
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("the exit", |s| s.contains("EXITED rc=0"));
    assert!(
        !screen.contains("deliveries"),
        "dashboard left on screen:\n{screen}"
    );
    assert_eq!(tmux.display("#{alternate_on}"), "0");
    assert_eq!(tmux.display("#{cursor_flag}"), "1");
    // Every delivery it showed is in the journal.
    // (Beside them, the alerts the service raised: a degraded number fires at once.)
    let (records, _) = pilotwatch::journal::replay::read_all(&journal).unwrap();
    let deliveries = records
        .iter()
        .filter(|r| r.kind == pilotwatch::record::RecordKind::Delivery)
        .count();
    assert_eq!(deliveries, 30);
}

/// Ends whatever still runs on this journal when the test ends, passed or not: `serve`
/// ignores the SIGHUP that tmux's exit sends (it is meant to outlive terminals).
struct KillOnDrop(String);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = Command::new("pkill")
            .args(["-TERM", "-f", &self.0])
            .status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_in_one_window_attach_in_others_and_q_leaves_the_service_running() {
    if !Tmux::available() {
        eprintln!("SKIPPED: tmux is not installed (.ci/run installs it)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_pilotwatch");
    let journal = dir.path().join("served.jsonl");
    let _cleanup = KillOnDrop(journal.display().to_string());
    let env = "env -u PILOT_STATUS_WEBHOOK_SECRET PILOTWATCH_CONFIG=/dev/null";
    let serve = format!(
        "{env} {bin} serve --listen 127.0.0.1:0 --journal {}; echo EXITED rc=$?; sleep 30",
        journal.display()
    );
    let tmux = Tmux::start(&serve, 120, 34);
    let screen = tmux.wait_in("pw:0", "the service's banner", |s| {
        s.contains("attach: ") && s.contains("listening on http://")
    });
    let addr = screen
        .split("listening on http://")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap()
        .to_owned();
    let socket = format!("{}.sock", journal.display());
    assert!(screen.contains(&socket), "{screen}");

    // `attach` in a second window, and plain `pilotwatch` on the same journal in a third.
    let attach = tmux.window(
        1,
        &format!("{env} {bin} attach {socket}; echo EXITED rc=$?; sleep 30"),
    );
    tmux.wait_in(&attach, "the attached dashboard", |s| {
        s.contains("⇄ attached") && s.contains("waiting for the first delivery")
    });
    let plain = tmux.window(
        2,
        &format!(
            "{env} {bin} --journal {}; echo EXITED rc=$?; sleep 30",
            journal.display()
        ),
    );
    tmux.wait_in(&plain, "plain pilotwatch attached", |s| {
        s.contains("already running here: attached") && s.contains("(2 watching)")
    });

    let http = client();
    for (file, _, body) in common::corpus() {
        let res = http
            .post(format!("http://{addr}/hooks"))
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{file}");
    }
    for target in [&attach, &plain] {
        let screen = tmux.wait_in(target, "the rows", |s| {
            s.contains("Check this photo") && s.contains("29 deliveries")
        });
        assert!(screen.contains("✓✓ read"), "{screen}");
    }
    // The service printed its lines too.
    tmux.wait_in("pw:0", "the service's lines", |s| {
        s.contains("message.received")
    });

    // `q` in the attached dashboard: it exits cleanly; the service and the other
    // dashboard go on.
    tmux.keys_to(&attach, &["q"]);
    tmux.wait_in(&attach, "the attach exit", |s| s.contains("EXITED rc=0"));
    http.post(format!("http://{addr}/hooks"))
        .body(HOSTILE)
        .send()
        .await
        .unwrap();
    tmux.wait_in(&plain, "the next delivery", |s| s.contains("30 deliveries"));
    let health = common::health_of(&addr).await;
    assert_eq!(health["status"], "ok");
    assert_eq!(health["attach"]["clients"], 1);
    assert!(!tmux.screen_of("pw:0").contains("EXITED"));

    // Ctrl-C stops the service; the dashboard still attached says it is reconnecting.
    tmux.keys_to("pw:0", &["C-c"]);
    tmux.wait_in("pw:0", "the service's exit", |s| s.contains("EXITED rc=0"));
    tmux.wait_in(&plain, "the reconnecting state", |s| {
        s.contains("reconnecting to")
    });
    tmux.keys_to(&plain, &["q"]);
    tmux.wait_in(&plain, "the plain exit", |s| s.contains("EXITED rc=0"));
    // (Beside them, the alerts the service raised: a degraded number fires at once.)
    let (records, _) = pilotwatch::journal::replay::read_all(&journal).unwrap();
    let deliveries = records
        .iter()
        .filter(|r| r.kind == pilotwatch::record::RecordKind::Delivery)
        .count();
    assert_eq!(deliveries, 30);
}

fn pilotwatch_pid(tmux: &Tmux) -> u32 {
    let shell = tmux.display("#{pane_pid}");
    let out = Command::new("pgrep")
        .args(["-P", &shell, "-f", "pilotwatch"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .and_then(|l| l.trim().parse().ok())
        .expect("pilotwatch's pid")
}

#[test]
fn sigterm_restores_the_terminal_and_a_lost_terminal_ends_the_process() {
    if !Tmux::available() {
        eprintln!("SKIPPED: tmux is not installed (.ci/run installs it)");
        return;
    }
    let bin = env!("CARGO_BIN_EXE_pilotwatch");
    let command = format!(
        "PILOTWATCH_CONFIG=/dev/null {bin} --listen 127.0.0.1:0 --no-journal; echo EXITED rc=$?; sleep 30"
    );

    // SIGTERM: a clean exit, the terminal restored.
    let tmux = Tmux::start(&command, 100, 20);
    tmux.wait_for("the dashboard", |s| {
        s.contains("waiting for the first delivery")
    });
    let pid = pilotwatch_pid(&tmux);
    Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    tmux.wait_for("the exit", |s| s.contains("EXITED rc=0"));
    assert_eq!(tmux.display("#{alternate_on}"), "0");
    drop(tmux);

    // The terminal goes away (as when an SSH connection drops): the process ends.
    let tmux = Tmux::start(&command, 100, 20);
    tmux.wait_for("the dashboard", |s| {
        s.contains("waiting for the first delivery")
    });
    let pid = pilotwatch_pid(&tmux);
    tmux.cmd(&["kill-server"]);
    let start = Instant::now();
    while alive(pid) && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "pilotwatch still running {:?} after its terminal closed",
        start.elapsed()
    );
    eprintln!("exited {:?} after the terminal closed", start.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_typed_in_the_dashboard_goes_out_and_its_status_moves() {
    if !Tmux::available() {
        eprintln!("SKIPPED: tmux is not installed (.ci/run installs it)");
        return;
    }
    const KEY: &str = "ps_live_canary_tmux_0123456789";
    let fake = pilotwatch::demo::fake_api::FakeApi::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("j.jsonl");
    let command = format!(
        "env -u PILOT_STATUS_WEBHOOK_SECRET PILOTWATCH_CONFIG=/dev/null PILOT_STATUS_API_KEY={KEY} PILOT_STATUS_BASE_URL={} {} --listen 127.0.0.1:0 --journal {}; echo EXITED rc=$?; sleep 30",
        fake.base_url(),
        env!("CARGO_BIN_EXE_pilotwatch"),
        journal.display()
    );
    let tmux = Tmux::start(&command, 140, 30);
    let screen = tmux.wait_for("the dashboard", |s| {
        s.contains("waiting for the first delivery")
    });
    tmux.keys(&["1"]);
    assert!(
        !screen.contains(KEY) && screen.contains("key ps_…"),
        "the key is shown masked:\n{screen}"
    );
    let addr = screen
        .split("http://")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap()
        .trim_end_matches(',')
        .to_owned();
    fake.send_webhooks(pilotwatch::demo::fake_api::Webhooks {
        url: format!("http://{addr}/hooks"),
        secret: None,
        delays: [
            Duration::from_millis(300),
            Duration::from_millis(300),
            Duration::from_millis(300),
        ],
    });
    let inbound = r#"{"event":"message.received","data":{"from":"+5511987650001","to":"+5511940001000","numberId":"num_centro","messageId":"wamid.IN1","id":"in_tmux","type":"text","fromMe":false,"content":"Vocês abrem no sábado?","participantName":"Ana Souza","createdAt":"2026-11-21T12:00:00.000Z"}}"#;
    client()
        .post(format!("http://{addr}/hooks"))
        .body(inbound)
        .send()
        .await
        .unwrap();
    tmux.wait_for("the inbound row", |s| s.contains("Vocês abrem no sábado?"));

    tmux.keys(&["r"]);
    tmux.wait_for("the composer", |s| {
        s.contains("Answering") && s.contains("Ana Souza")
    });
    tmux.cmd(&["send-keys", "-t", "pw", "-l", "Abrimos sim, das 9h às 13h"]);
    tmux.keys(&["Enter"]);

    let start = Instant::now();
    while fake.sends().is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the fake API got no request"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let r = &fake.sends()[0];
    assert_eq!(
        (r.method.as_str(), r.path.as_str()),
        ("POST", "/v1/messages/send")
    );
    assert_eq!(r.header("x-api-key"), Some(KEY));
    assert_eq!(r.header("x-whatsapp-number-id"), Some("num_centro"));
    assert!(
        r.header("idempotency-key")
            .is_some_and(|k| k.starts_with("pw-"))
    );
    assert_eq!(
        r.json(),
        serde_json::json!({"text": "Abrimos sim, das 9h às 13h", "destinationNumber": "+5511987650001"})
    );

    // The reply is a row of its own and walks through its lifecycle as the webhooks come.
    let screen = tmux.wait_for("the reply read", |s| {
        s.contains("Abrimos sim, das 9h às 13h") && s.contains("✓✓ read")
    });
    assert!(
        screen.contains("↪ answered"),
        "the answered message says so:\n{screen}"
    );
    tmux.keys(&["q"]);
    tmux.keys(&["q"]);
    tmux.wait_for("the exit", |s| s.contains("EXITED rc=0"));
    let journal = std::fs::read_to_string(&journal).unwrap();
    assert!(journal.contains("outbound.accepted") && !journal.contains(KEY));
}

/// Parse the tab line: `1 Messages 43   2 Numbers 3   3 Calls 3   4 Feed 68`.
fn tab_counts(screen: &str) -> Option<[u64; 4]> {
    let line = screen
        .lines()
        .find(|l| l.contains("Messages") && l.contains("Feed"))?;
    let words: Vec<&str> = line.split_whitespace().collect();
    let count = |name: &str| {
        words
            .iter()
            .position(|w| *w == name)
            .and_then(|i| words.get(i + 1)?.parse().ok())
    };
    Some([
        count("Messages")?,
        count("Numbers")?,
        count("Calls")?,
        count("Feed")?,
    ])
}

#[test]
fn demo_mode_fills_all_four_panes_within_seconds() {
    if !Tmux::available() {
        eprintln!("SKIPPED: tmux is not installed (.ci/run installs it)");
        return;
    }
    let command = format!(
        "env -u PILOT_STATUS_WEBHOOK_SECRET -u PILOT_STATUS_API_KEY PILOTWATCH_CONFIG=/dev/null {} --demo --demo-rate 20 --no-attach; echo EXITED rc=$?; sleep 30",
        env!("CARGO_BIN_EXE_pilotwatch")
    );
    let tmux = Tmux::start(&command, 140, 36);
    let started = Instant::now();
    let screen = tmux.wait_for("all four panes", |s| {
        tab_counts(s).is_some_and(|c| c.iter().all(|n| *n > 0) && c[1] == 3)
    });
    eprintln!(
        "all four panes had rows after {:?}: {:?}",
        started.elapsed(),
        tab_counts(&screen)
    );
    assert!(started.elapsed() < Duration::from_secs(8));
    assert!(
        screen.contains("signatures checked") && screen.contains("no journal"),
        "{screen}"
    );
    // Traffic goes through the real receiver: signatures are checked and valid.
    tmux.keys(&["4"]);
    let feed = tmux.wait_for("the feed", |s| s.contains("valid"));
    assert!(!feed.contains("REJECTED"), "{feed}");
    tmux.keys(&["q"]);
    tmux.keys(&["q"]);
    tmux.wait_for("the exit", |s| s.contains("EXITED rc=0"));
}

/// Issue 16's check: at 200×50 with the demo running, the first screen — no key
/// pressed — shows a number's state, a message, a call and the activity chart's axis.
#[test]
fn the_overview_shows_the_whole_situation_without_a_key() {
    if !Tmux::available() {
        eprintln!("SKIPPED: tmux is not installed (.ci/run installs it)");
        return;
    }
    let command = format!(
        "env -u PILOT_STATUS_WEBHOOK_SECRET -u PILOT_STATUS_API_KEY PILOTWATCH_CONFIG=/dev/null {} --demo --demo-rate 20 --no-attach; echo EXITED rc=$?; sleep 30",
        env!("CARGO_BIN_EXE_pilotwatch")
    );
    let tmux = Tmux::start(&command, 200, 50);
    tmux.wait_for("state, message, call and axis on one screen", |s| {
        s.contains(" Fleet ")
            && s.contains("connected")
            && s.contains("• received")
            && s.contains("→ Loja Centro")
            && s.contains("-5m")
            && s.contains("now│")
    });
    tmux.keys(&["q"]);
    tmux.keys(&["q"]);
    tmux.wait_for("the exit", |s| s.contains("EXITED rc=0"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_from_the_conversation_goes_out_and_the_inbox_drops_the_contact() {
    if !Tmux::available() {
        eprintln!("SKIPPED: tmux is not installed (.ci/run installs it)");
        return;
    }
    const KEY: &str = "ps_live_canary_tmux_0123456789";
    let fake = pilotwatch::demo::fake_api::FakeApi::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("j.jsonl");
    let command = format!(
        "env -u PILOT_STATUS_WEBHOOK_SECRET PILOTWATCH_CONFIG=/dev/null PILOT_STATUS_API_KEY={KEY} PILOT_STATUS_BASE_URL={} {} --listen 127.0.0.1:0 --journal {}; echo EXITED rc=$?; sleep 30",
        fake.base_url(),
        env!("CARGO_BIN_EXE_pilotwatch"),
        journal.display()
    );
    let tmux = Tmux::start(&command, 140, 30);
    let screen = tmux.wait_for("the dashboard", |s| {
        s.contains("waiting for the first delivery")
    });
    let addr = screen
        .split("http://")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap()
        .trim_end_matches(',')
        .to_owned();
    fake.send_webhooks(pilotwatch::demo::fake_api::Webhooks {
        url: format!("http://{addr}/hooks"),
        secret: None,
        delays: [
            Duration::from_millis(300),
            Duration::from_millis(300),
            Duration::from_millis(300),
        ],
    });
    let inbound = r#"{"event":"message.received","data":{"from":"+5511987650001","to":"+5511940001000","numberId":"num_centro","messageId":"wamid.IN1","id":"in_tmux","type":"text","fromMe":false,"content":"Vocês abrem no sábado?","participantName":"Ana Souza","createdAt":"2026-11-21T12:00:00.000Z"}}"#;
    client()
        .post(format!("http://{addr}/hooks"))
        .body(inbound)
        .send()
        .await
        .unwrap();
    tmux.keys(&["6"]);
    tmux.wait_for("Ana in the inbox", |s| {
        s.contains("6 Inbox 1") && s.contains("Ana Souza") && s.contains("waiting")
    });
    tmux.keys(&["1"]);
    tmux.wait_for("the inbound row", |s| s.contains("Vocês abrem no sábado?"));
    tmux.keys(&["c"]);
    tmux.wait_for("the thread", |s| {
        s.contains("Conversation") && s.contains("Ana Souza +5511987650001")
    });
    tmux.keys(&["r"]);
    tmux.wait_for("the docked composer", |s| s.contains("Answering"));
    tmux.cmd(&["send-keys", "-t", "pw", "-l", "Abrimos sim, das 9h às 13h"]);
    tmux.keys(&["Enter"]);
    let start = Instant::now();
    while fake.sends().is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the fake API got no request"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        fake.sends()[0].json(),
        serde_json::json!({"text": "Abrimos sim, das 9h às 13h", "destinationNumber": "+5511987650001"})
    );
    // In the thread, the reply walks through its lifecycle as the webhooks come.
    let screen = tmux.wait_for("the reply read in the thread", |s| {
        s.contains("Conversation")
            && s.contains("Abrimos sim, das 9h às 13h")
            && s.contains("✓✓ read")
    });
    assert!(screen.contains("↩ Vocês abrem no sábado?"), "{screen}");
    tmux.keys(&["6"]);
    tmux.wait_for("the inbox without Ana", |s| {
        s.contains("6 Inbox 0") && s.contains("nobody is waiting")
    });
    assert_eq!(fake.sends().len(), 1, "one send");
    tmux.keys(&["q"]);
    tmux.keys(&["q"]);
    tmux.wait_for("the exit", |s| s.contains("EXITED rc=0"));
}
