//! The dashboard drawn into ratatui's TestBackend, for the `dashboard*` tests: an app as
//! a local receiver shows it, stores of deliveries (the corpus, or bodies received at
//! given times), keys typed into it, its screen as text, and insta snapshots with clock
//! times masked (they are shown in the machine's local zone).

use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use pilotwatch::record::{Record, SignatureCheck};
use pilotwatch::store::Store;
use pilotwatch::tui::app::{App, Effect, Info};
use pilotwatch::tui::render;
use pilotwatch::tui::theme::Theme;
use pilotwatch::tui::view::Pane;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// The dashboard's clock: five minutes after it started.
pub const NOW: &str = "2026-11-21T12:05:00Z";

pub fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// A delivery received at `when`, as a live receiver records one: on `/hooks`, from
/// loopback, with a valid signature.
pub fn record_at(seq: u64, when: DateTime<Utc>, body: &[u8]) -> Record {
    let mut r = Record::delivery(seq, body);
    r.received_at = when;
    r.path = "/hooks".into();
    r.remote = Some("127.0.0.1:40000".parse().unwrap());
    r.signature = SignatureCheck::Valid;
    r
}

/// A delivery received `seq` seconds after the dashboard started.
pub fn record(seq: u64, body: &[u8]) -> Record {
    record_at(
        seq,
        at("2026-11-21T12:00:00Z") + chrono::Duration::seconds(seq as i64),
        body,
    )
}

/// The store after every corpus file, in name order, plus extra bodies.
pub fn store(extra: &[&str]) -> Store {
    let mut store = Store::new(1000);
    let mut seq = 0;
    for (_, _, body) in super::corpus() {
        seq += 1;
        store.apply(record(seq, &body));
    }
    for body in extra {
        seq += 1;
        store.apply(record(seq, body.as_bytes()));
    }
    store
}

/// A dashboard that is also the receiver, checking signatures, with an API key, at
/// [`NOW`].
pub fn app() -> App {
    let info = Info {
        listen: "127.0.0.1:3000".into(),
        journal: Some("/var/lib/pilotwatch/journal.jsonl".into()),
        signatures_checked: true,
        started: at("2026-11-21T12:00:00Z"),
        startup_note: None,
        api_key: Some("ps_…abcd".into()),
        forward_to: None,
        read_only: false,
        alert_targets: None,
    };
    let mut app = App::new(info, Theme::new(false));
    app.now = at(NOW);
    app
}

/// The screen after a sync, as text: one line per row, trailing blanks cut.
pub fn screen(app: &mut App, store: &Store, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    app.page = render::page_height(height);
    app.sync(store);
    terminal.draw(|f| render::draw(f, app)).unwrap();
    let buffer = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..buffer.area.height {
        let line: String = (0..buffer.area.width)
            .map(|x| buffer[(x, y)].symbol())
            .collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Keys as typed, after a first sync (the loop always syncs before handling keys).
pub fn press(app: &mut App, store: &Store, keys: &str) -> Option<Effect> {
    app.sync(store);
    let mut effect = None;
    for c in keys.chars() {
        let code = match c {
            '\n' => KeyCode::Enter,
            '\x1b' => KeyCode::Esc,
            '\t' => KeyCode::Tab,
            c => KeyCode::Char(c),
        };
        effect = app
            .handle_key(KeyEvent::new(code, KeyModifiers::NONE), store)
            .or(effect);
    }
    effect
}

/// One key with modifiers (Alt-Enter, Ctrl-C…).
pub fn key(app: &mut App, store: &Store, code: KeyCode, modifiers: KeyModifiers) -> Option<Effect> {
    app.handle_key(KeyEvent::new(code, modifiers), store)
}

/// Select the Messages row whose line contains `text`.
pub fn select_row(app: &mut App, store: &Store, text: &str) {
    press(app, store, "1g");
    for _ in 0..50 {
        let ord = app
            .views
            .key_at(Pane::Messages, app.list().selected)
            .unwrap();
        if store
            .messages()
            .get(ord)
            .and_then(|m| m.content())
            .is_some_and(|c| c.contains(text))
        {
            return;
        }
        press(app, store, "j");
    }
    panic!("no row with {text:?}");
}

/// `insta::assert_snapshot!` with clock times (and the dates before them) masked. The
/// snapshot is named after the test file that invokes it (`dashboard__help.snap`).
#[allow(unused_macros)] // each test binary uses its own subset
macro_rules! snapshot {
    ($name:expr, $screen:expr) => {
        insta::with_settings!({ filters => vec![
            (r"\b\d{2}:\d{2}:\d{2}(\.\d{3})?\b", "[time]"),
            (r"\b\d{4}-\d{2}-\d{2} \[time\]", "[date] [time]"),
        ]}, {
            insta::assert_snapshot!($name, $screen);
        });
    };
}
#[allow(unused_imports)] // each test binary uses its own subset
pub(crate) use snapshot;
