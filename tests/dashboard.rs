//! The dashboard drawn into ratatui's TestBackend from the corpus, snapshotted with
//! insta (clock times masked: they are shown in the machine's local zone).

mod common;

use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use pilotwatch::record::{Record, SignatureCheck};
use pilotwatch::store::Store;
use pilotwatch::tui::app::{App, Effect, Info};
use pilotwatch::tui::render;
use pilotwatch::tui::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn record(seq: u64, body: &[u8]) -> Record {
    let mut r = Record::delivery(seq, body);
    r.received_at = at("2026-11-21T12:00:00Z") + chrono::Duration::seconds(seq as i64);
    r.path = "/hooks".into();
    r.remote = Some("127.0.0.1:40000".parse().unwrap());
    r.signature = SignatureCheck::Valid;
    r
}

/// The store after every corpus file, in name order, plus extra bodies.
fn store(extra: &[&str]) -> Store {
    let mut store = Store::new(1000);
    let mut seq = 0;
    for (_, _, body) in common::corpus() {
        seq += 1;
        store.apply(record(seq, &body));
    }
    for body in extra {
        seq += 1;
        store.apply(record(seq, body.as_bytes()));
    }
    store
}

fn app() -> App {
    let info = Info {
        listen: "127.0.0.1:3000".into(),
        journal: Some("/var/lib/pilotwatch/journal.jsonl".into()),
        signatures_checked: true,
        started: at("2026-11-21T12:00:00Z"),
        startup_note: None,
        api_key: Some("ps_…abcd".into()),
        forward_to: None,
        read_only: false,
    };
    let mut app = App::new(info, Theme::new(false));
    app.now = at("2026-11-21T12:05:00Z");
    app
}

fn screen(app: &mut App, store: &Store, width: u16, height: u16) -> String {
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
fn press(app: &mut App, store: &Store, keys: &str) -> Option<Effect> {
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

#[test]
fn waiting_for_the_first_delivery() {
    snapshot!("waiting", screen(&mut app(), &Store::new(10), 100, 12));
}

#[test]
fn messages_pane() {
    let store = store(&[]);
    snapshot!("messages_120x30", screen(&mut app(), &store, 120, 30));
}

#[test]
fn messages_pane_at_80x24() {
    let store = store(&[]);
    snapshot!("messages_80x24", screen(&mut app(), &store, 80, 24));
}

#[test]
fn numbers_pane() {
    let store = store(&[]);
    let mut app = app();
    press(&mut app, &store, "2");
    snapshot!("numbers", screen(&mut app, &store, 120, 12));
}

#[test]
fn calls_pane() {
    let ringing = r#"{"event":"call.ringing","callId":"call_live","direction":"INBOUND","status":"RINGING","from":"5511977776666","to":"5511888888888","timestamp":"2026-11-21T12:04:30.000Z"}"#;
    let connected = r#"{"event":"call.connected","callId":"call_live","direction":"INBOUND","status":"ACCEPTED","from":"5511977776666","to":"5511888888888","timestamp":"2026-11-21T12:04:35.000Z"}"#;
    let store = store(&[ringing, connected]);
    let mut app = app();
    press(&mut app, &store, "3");
    snapshot!("calls", screen(&mut app, &store, 120, 12));
}

#[test]
fn feed_pane() {
    let store = store(&["not json at all"]);
    let mut app = app();
    press(&mut app, &store, "4");
    snapshot!("feed", screen(&mut app, &store, 140, 40));
}

#[test]
fn message_detail_shows_the_lifecycle() {
    let store = store(&[]);
    let mut app = app();
    // The outbound message is the oldest row: jump to it and open it.
    press(&mut app, &store, "G\n");
    snapshot!("detail_message", screen(&mut app, &store, 120, 40));
}

#[test]
fn broken_delivery_detail_names_the_problem() {
    let store = store(&[]);
    let mut app = app();
    press(&mut app, &store, "4G\n");
    snapshot!("detail_broken", screen(&mut app, &store, 100, 20));
}

#[test]
fn help_overlay() {
    let store = store(&[]);
    let mut app = app();
    press(&mut app, &store, "?");
    snapshot!("help", screen(&mut app, &store, 120, 36));
}

#[test]
fn filtered_view() {
    let store = store(&[]);
    let mut app = app();
    press(&mut app, &store, "/type:image");
    snapshot!("filtered_typing", screen(&mut app, &store, 120, 10));
    press(&mut app, &store, "\n");
    let s = screen(&mut app, &store, 120, 10);
    assert!(
        s.contains("Check this photo") && !s.contains("My Group"),
        "{s}"
    );
    // Esc clears it again.
    press(&mut app, &store, "\x1b");
    assert!(screen(&mut app, &store, 120, 10).contains("My Group"));
}

#[test]
fn enter_on_a_number_shows_its_messages() {
    let other = r#"{"event":"message.received","data":{"from":"+5511911112222","to":"+5511777777777","numberId":"other_number","messageId":"x1","id":"x1","type":"text","fromMe":false,"content":"from the other number","createdAt":"2026-11-21T12:01:00.000Z"}}"#;
    let store = store(&[other]);
    let mut app = app();
    press(&mut app, &store, "2");
    let numbers = screen(&mut app, &store, 120, 10);
    assert!(numbers.contains("other_number"), "{numbers}");
    press(&mut app, &store, "g\n");
    let s = screen(&mut app, &store, 120, 12);
    assert!(
        s.contains("filter: number:cmm0abc123") && !s.contains("from the other number"),
        "{s}"
    );
}

#[test]
fn hostile_text_is_shown_escaped() {
    let hostile = "{\"event\":\"message.received\",\"data\":{\"from\":\"+1\\u001b]0;PWNED\\u0007\",\"to\":\"+2\",\"numberId\":\"n\",\"messageId\":\"h\",\"id\":\"h\",\"fromMe\":false,\"participantName\":\"Eve\\u202e\\u200b\",\"content\":\"hi\\u001b[2J\\u009b31m\\nnext\\rline\",\"createdAt\":\"2026-11-21T12:00:00Z\"}}";
    let store = store(&[hostile]);
    let s = screen(&mut app(), &store, 160, 20);
    assert!(
        !s.chars().any(|c| c.is_control() && c != '\n'),
        "raw control characters on screen:\n{s:?}"
    );
    for visible in [
        "+1^[]0;PWNED^G",
        "Eve\\u{202e}",
        "hi^[[2J\\u{9b}31m⏎next^Mline",
    ] {
        assert!(s.contains(visible), "{visible:?} not in\n{s}");
    }
}

#[test]
fn a_frozen_view_keeps_its_place_while_rows_arrive() {
    let mut store = store(&[]);
    let mut app = app();
    screen(&mut app, &store, 120, 20);
    // Moving off the newest row freezes the view.
    press(&mut app, &store, "j");
    assert!(!app.follow);
    let before = app.list();
    let body = r#"{"event":"message.received","data":{"from":"+5511900000000","to":"+2","numberId":"cmm0abc123","messageId":"late","id":"late","fromMe":false,"content":"arrived while frozen","createdAt":"2026-11-21T12:04:00.000Z"}}"#;
    store.apply(record(1000, body.as_bytes()));
    screen(&mut app, &store, 120, 20);
    assert_eq!(
        app.list().selected,
        before.selected + 1,
        "the selection stays on the same row"
    );
    press(&mut app, &store, "f");
    assert!(app.follow);
    assert_eq!(app.list().selected, 0);
}

#[test]
fn copy_gives_the_selected_payload() {
    let store = store(&[]);
    let mut app = app();
    press(&mut app, &store, "4");
    screen(&mut app, &store, 120, 20);
    match press(&mut app, &store, "y") {
        Some(Effect::Copy(bytes)) => assert!(bytes.starts_with(b"{")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn status_filter_finds_the_deliveries_that_reported_it() {
    let store = store(&[]);
    let mut app = app();
    press(&mut app, &store, "4/status:failed\n");
    let s = screen(&mut app, &store, 120, 12);
    assert!(
        s.contains("message.failed") && !s.contains("message.read"),
        "{s}"
    );
}

fn call(event: &str, id: &str, status: &str, at: &str) -> String {
    format!(
        r#"{{"event":"call.{event}","callId":"{id}","direction":"INBOUND","status":"{status}","from":"5511900000000","to":"5511888888888","timestamp":"{at}"}}"#
    )
}

#[test]
fn a_frozen_calls_pane_keeps_the_selected_call() {
    let mut store = Store::new(1000);
    for (i, id) in ["c1", "c2", "c3"].iter().enumerate() {
        store.apply(record(
            i as u64 + 1,
            call("ringing", id, "RINGING", "2026-11-21T12:04:00Z").as_bytes(),
        ));
    }
    let mut app = app();
    press(&mut app, &store, "3j");
    assert!(!app.follow);
    let selected = |app: &App| {
        app.views
            .key_at(pilotwatch::tui::view::Pane::Calls, app.list().selected)
    };
    let before = selected(&app);
    // c3 (newest, in progress, above the selection) ends: in-progress calls come first,
    // so the order changes around the selection.
    store.apply(record(
        4,
        call("ended", "c3", "COMPLETED", "2026-11-21T12:04:30Z").as_bytes(),
    ));
    store.apply(record(
        5,
        call("missed", "c4", "MISSED", "2026-11-21T12:04:40Z").as_bytes(),
    ));
    screen(&mut app, &store, 120, 20);
    assert_eq!(selected(&app), before, "the selection followed its call");
}

#[test]
fn a_frozen_filtered_pane_keeps_the_selected_message_when_rows_leave() {
    let mut store = Store::new(1000);
    let sent = |id: &str, event: &str, seq: u64| {
        let body = format!(
            r#"{{"event":"message.{event}","data":{{"to":"+5511999999999","numberId":"n","messageId":"w{id}","id":"{id}","type":"text","fromMe":true,"content":"text {id}","createdAt":"2026-11-21T12:00:0{seq}Z"}}}}"#
        );
        record(seq, body.as_bytes())
    };
    for (i, id) in ["a", "b", "c"].iter().enumerate() {
        store.apply(sent(id, "sent", i as u64 + 1));
    }
    let mut app = app();
    press(&mut app, &store, "/status:sent\n");
    screen(&mut app, &store, 120, 20);
    press(&mut app, &store, "jj"); // the oldest, "a"
    let key = |app: &App| {
        app.views
            .key_at(pilotwatch::tui::view::Pane::Messages, app.list().selected)
    };
    let before = key(&app);
    // "c" (above the selection) is delivered and leaves the `status:sent` view.
    store.apply(sent("c", "delivered", 4));
    let s = screen(&mut app, &store, 120, 20);
    assert!(!s.contains("text c"), "{s}");
    assert_eq!(key(&app), before);
}

#[test]
fn a_frozen_short_list_shows_rows_that_arrive() {
    let mut store = Store::new(1000);
    let mut app = app();
    press(&mut app, &store, "f");
    assert!(!app.follow);
    for i in 0..5u64 {
        let body = format!(
            r#"{{"event":"message.received","data":{{"from":"+1","to":"+2","numberId":"n","messageId":"m{i}","id":"m{i}","fromMe":false,"content":"row {i}","createdAt":"2026-11-21T12:00:0{i}Z"}}}}"#
        );
        store.apply(record(i + 1, body.as_bytes()));
    }
    let s = screen(&mut app, &store, 120, 20);
    for i in 0..5 {
        assert!(s.contains(&format!("row {i}")), "row {i} missing:\n{s}");
    }
}

#[test]
fn help_from_a_detail_returns_to_it_and_any_key_closes_it() {
    let store = store(&[]);
    let mut app = app();
    press(&mut app, &store, "4\n?");
    assert!(matches!(app.mode, pilotwatch::tui::app::Mode::Help { .. }));
    press(&mut app, &store, "x"); // not bound to anything
    assert!(
        matches!(app.mode, pilotwatch::tui::app::Mode::Detail(_)),
        "{:?}",
        std::mem::discriminant(&app.mode)
    );
}

#[test]
fn help_scrolls_on_a_small_terminal() {
    let store = store(&[]);
    let mut app = app();
    press(&mut app, &store, "?");
    let top = screen(&mut app, &store, 80, 24);
    assert!(!top.contains("verdict:broken"), "{top}");
    press(&mut app, &store, "jjjjjjjjjj");
    let bottom = screen(&mut app, &store, 80, 24);
    assert!(
        bottom.contains("verdict:broken") && bottom.contains("status:failed"),
        "{bottom}"
    );
}

#[test]
fn enter_on_a_number_with_a_long_id_finds_its_messages() {
    let id = "cmm04obm46zz0qv4ycjp8x6r9"; // 25 characters, like the provider's
    let body = format!(
        r#"{{"event":"message.received","data":{{"from":"+1","to":"+2","numberId":"{id}","messageId":"x","id":"x","fromMe":false,"content":"on the long id","createdAt":"2026-11-21T12:00:00Z"}}}}"#
    );
    let mut store = Store::new(100);
    store.apply(record(1, body.as_bytes()));
    let mut app = app();
    press(&mut app, &store, "2\n");
    let s = screen(&mut app, &store, 120, 10);
    assert!(s.contains("on the long id"), "{s}");
}

/// Select the Messages row whose line contains `text`.
fn select_row(app: &mut App, store: &Store, text: &str) {
    press(app, store, "1g");
    for _ in 0..50 {
        let ord = app
            .views
            .key_at(pilotwatch::tui::view::Pane::Messages, app.list().selected)
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

fn key(app: &mut App, store: &Store, code: KeyCode, modifiers: KeyModifiers) -> Option<Effect> {
    app.handle_key(KeyEvent::new(code, modifiers), store)
}

#[test]
fn r_opens_the_composer_and_enter_sends_the_right_request() {
    let store = store(&[]);
    let mut app = app();
    select_row(&mut app, &store, "Check this photo");
    press(&mut app, &store, "r");
    snapshot!("composer", screen(&mut app, &store, 120, 24));
    press(&mut app, &store, "Obrigado!");
    key(&mut app, &store, KeyCode::Enter, KeyModifiers::ALT);
    press(&mut app, &store, "q fica");
    let effect = key(&mut app, &store, KeyCode::Enter, KeyModifiers::NONE);
    let Some(Effect::Send {
        request,
        in_reply_to,
        attempt,
    }) = effect
    else {
        panic!("{effect:?}")
    };
    assert_eq!(attempt, 1);
    assert_eq!(
        request.body.text, "Obrigado!\nq fica",
        "`q` types a q while composing"
    );
    assert_eq!(
        request.body.destination_number.as_deref(),
        Some("+5511999999999")
    );
    assert_eq!(request.body.group_id, None);
    assert_eq!(request.number_id.as_deref(), Some("cmm0abc123"));
    assert!(request.idempotency_key.starts_with("pw-") && request.idempotency_key.len() > 20);
    assert_eq!(
        (in_reply_to.event.as_str(), in_reply_to.id.as_str()),
        ("message.received", "cmm04obm46zz0qv4ycjp8x6r3")
    );
    assert!(matches!(app.mode, pilotwatch::tui::app::Mode::Normal));
}

#[test]
fn a_group_message_is_answered_in_the_group() {
    let store = store(&[]);
    let mut app = app();
    select_row(&mut app, &store, "Message in the group");
    press(&mut app, &store, "rOi grupo");
    let Some(Effect::Send { request, .. }) =
        key(&mut app, &store, KeyCode::Enter, KeyModifiers::NONE)
    else {
        panic!()
    };
    assert_eq!(
        request.body.group_id.as_deref(),
        Some("120363123456789012@g.us")
    );
    assert_eq!(request.body.destination_number, None);
}

#[test]
fn esc_keeps_the_draft_for_that_conversation() {
    let store = store(&[]);
    let mut app = app();
    select_row(&mut app, &store, "Check this photo");
    press(&mut app, &store, "rmeio escrito\x1b");
    assert!(matches!(app.mode, pilotwatch::tui::app::Mode::Normal));
    press(&mut app, &store, "r");
    let pilotwatch::tui::app::Mode::Compose(c) = &app.mode else {
        panic!()
    };
    assert_eq!(c.text(), "meio escrito");
}

#[test]
fn channels_outbound_rows_and_a_missing_key_are_explained() {
    let store = store(&[]);
    let mut app = app();
    select_row(&mut app, &store, "Text in the channel");
    press(&mut app, &store, "r");
    assert!(
        app.notice.as_deref().unwrap().contains("channel"),
        "{:?}",
        app.notice
    );
    select_row(&mut app, &store, "sent text");
    press(&mut app, &store, "r");
    assert!(
        app.notice.as_deref().unwrap().contains("inbound"),
        "{:?}",
        app.notice
    );
    app.info.api_key = None;
    select_row(&mut app, &store, "Check this photo");
    press(&mut app, &store, "r");
    assert!(
        app.notice
            .as_deref()
            .unwrap()
            .contains("PILOT_STATUS_API_KEY"),
        "{:?}",
        app.notice
    );
    assert!(matches!(app.mode, pilotwatch::tui::app::Mode::Normal));
}

#[test]
fn a_failed_reply_shows_on_its_row_and_shift_r_retries_it_with_the_same_key() {
    use pilotwatch::api::{ApiError, SendBody, SendRequest};
    use pilotwatch::model::outbound::{InReplyTo, Outbound, Phase};
    let mut store = store(&[]);
    let request = SendRequest {
        body: SendBody {
            text: "resposta".into(),
            destination_number: Some("+5511999999999".into()),
            group_id: None,
        },
        number_id: Some("cmm0abc123".into()),
        idempotency_key: "pw-fixed-key".into(),
    };
    let outbound = Outbound {
        phase: Phase::Failed,
        request: request.clone(),
        in_reply_to: Some(InReplyTo {
            id: "cmm04obm46zz0qv4ycjp8x6r3".into(),
            event: "message.received".into(),
        }),
        attempt: 1,
        accepted: None,
        error: Some(ApiError::Status {
            status: 401,
            error: Some("Invalid API key".into()),
            code: None,
            retry_after: None,
        }),
    };
    let mut r = record(500, &serde_json::to_vec(&outbound).unwrap());
    r.kind = pilotwatch::record::RecordKind::Outbound;
    store.apply(r);
    let mut app = app();
    let s = screen(&mut app, &store, 120, 20);
    assert!(s.contains("↪ ✗ HTTP 401"), "{s}");
    select_row(&mut app, &store, "Check this photo");
    let Some(Effect::Send {
        request: again,
        attempt,
        ..
    }) = press(&mut app, &store, "R")
    else {
        panic!("{:?}", app.notice)
    };
    assert_eq!(again, request, "same key, same body");
    assert_eq!(attempt, 2);
}

#[test]
fn x_replays_a_feed_delivery_only_when_forwarding() {
    let store = store(&[]);
    let mut app = app();
    press(&mut app, &store, "4x");
    assert!(
        app.notice.as_deref().unwrap().contains("--forward-to"),
        "{:?}",
        app.notice
    );
    app.info.forward_to = Some("http://127.0.0.1:9/app".into());
    let effect = press(&mut app, &store, "G");
    assert!(effect.is_none());
    assert_eq!(press(&mut app, &store, "x"), Some(Effect::Replay(1)));
}

fn outbound_record(
    seq: u64,
    phase: pilotwatch::model::outbound::Phase,
    error: Option<pilotwatch::api::ApiError>,
    accepted: Option<pilotwatch::api::Accepted>,
) -> Record {
    use pilotwatch::api::{SendBody, SendRequest};
    use pilotwatch::model::outbound::{InReplyTo, Outbound};
    let outbound = Outbound {
        phase,
        request: SendRequest {
            body: SendBody {
                text: "resposta".into(),
                destination_number: Some("+5511999999999".into()),
                group_id: None,
            },
            number_id: Some("cmm0abc123".into()),
            idempotency_key: "pw-key-under-test".into(),
        },
        in_reply_to: Some(InReplyTo {
            id: "cmm04obm46zz0qv4ycjp8x6r3".into(),
            event: "message.received".into(),
        }),
        attempt: 1,
        accepted,
        error,
    };
    let mut r = record(seq, &serde_json::to_vec(&outbound).unwrap());
    r.kind = pilotwatch::record::RecordKind::Outbound;
    r
}

#[test]
fn an_interrupted_send_is_retried_with_its_key_and_a_second_r_waits() {
    use pilotwatch::model::outbound::Phase;
    let mut store = store(&[]);
    // A `sending` record with no outcome: pilotwatch stopped mid-request.
    store.apply(outbound_record(500, Phase::Sending, None, None));
    let mut app = app();
    select_row(&mut app, &store, "Check this photo");
    let Some(Effect::Send {
        request, attempt, ..
    }) = press(&mut app, &store, "R")
    else {
        panic!("{:?}", app.notice)
    };
    assert_eq!(
        (request.idempotency_key.as_str(), attempt),
        ("pw-key-under-test", 2)
    );
    assert!(app.notice.as_deref().unwrap().contains("interrupted"));
    // Pressed again before the answer: nothing more is sent.
    assert_eq!(press(&mut app, &store, "R"), None);
    assert!(app.notice.as_deref().unwrap().contains("on its way"));
}

#[test]
fn ctrl_j_and_pasted_crs_make_newlines_in_a_reply() {
    let store = store(&[]);
    let mut app = app();
    select_row(&mut app, &store, "Check this photo");
    press(&mut app, &store, "rhello world");
    key(&mut app, &store, KeyCode::Char('j'), KeyModifiers::CONTROL);
    app.handle_paste("line1\rline2\r\nline3\tend");
    let pilotwatch::tui::app::Mode::Compose(c) = &app.mode else {
        panic!()
    };
    assert_eq!(c.text(), "hello world\nline1\nline2\nline3    end");
}

#[test]
fn an_answer_that_later_fails_shows_on_the_answered_row() {
    use pilotwatch::api::Accepted;
    use pilotwatch::model::outbound::Phase;
    let mut store = store(&[]);
    let accepted = Accepted::lenient(&serde_json::json!({"id": "msg_reply_1", "status": "QUEUED"}));
    store.apply(outbound_record(500, Phase::Accepted, None, Some(accepted)));
    let mut app = app();
    let s = screen(&mut app, &store, 140, 20);
    assert!(s.contains("↪ answered") && s.contains("… queued"), "{s}");
    let failed = r#"{"event":"message.failed","data":{"to":"+5511999999999","numberId":"cmm0abc123","messageId":null,"id":"msg_reply_1","type":"text","fromMe":true,"content":"resposta","error":"nope","errorCode":"DELIVER_NOT_CONFIRMED","createdAt":"2026-11-21T12:01:00Z"}}"#;
    store.apply(record(501, failed.as_bytes()));
    let s = screen(&mut app, &store, 140, 20);
    assert!(s.contains("↪ ✗ DELIVER_NOT_CONFIRMED"), "{s}");
}

#[test]
fn a_failed_journal_is_shown_in_the_header() {
    let store = store(&[]);
    let mut app = app();
    app.failure = Some("journal write failed: No space left on device (os error 28)".into());
    let s = screen(&mut app, &store, 160, 12);
    let header = s.lines().next().unwrap_or_default();
    assert!(
        header.contains("✗ JOURNAL FAILED: journal write failed: No space left on device"),
        "{s}"
    );
}

#[test]
fn a_reply_that_never_reached_the_service_becomes_a_draft_again_with_its_key() {
    let store = store(&[]);
    let mut app = app();
    select_row(&mut app, &store, "Check this photo");
    press(&mut app, &store, "rAté amanhã");
    let Some(Effect::Send { request, .. }) =
        key(&mut app, &store, KeyCode::Enter, KeyModifiers::NONE)
    else {
        panic!()
    };
    app.reply_lost(&request.idempotency_key, "not attached to the service");
    let notice = app.notice.clone().unwrap();
    assert!(
        notice.contains("reply NOT sent") && notice.contains("draft"),
        "{notice}"
    );
    // The text is back, and it goes out with the same key: had
    // the first attempt reached the provider after all, it cannot be sent twice.
    press(&mut app, &store, "r");
    let pilotwatch::tui::app::Mode::Compose(c) = &app.mode else {
        panic!()
    };
    assert_eq!(c.text(), "Até amanhã");
    let Some(Effect::Send { request: again, .. }) =
        key(&mut app, &store, KeyCode::Enter, KeyModifiers::NONE)
    else {
        panic!()
    };
    assert_eq!(again.idempotency_key, request.idempotency_key);
    assert_eq!(again.body, request.body);
}

#[test]
fn an_attached_dashboard_says_where_it_is_attached_and_when_it_reconnects() {
    use pilotwatch::tui::app::{AttachLink, AttachView};
    let store = store(&[]);
    let mut app = app();
    app.attach = Some(AttachView {
        endpoint: "/var/lib/pilotwatch/journal.jsonl.sock".into(),
        link: AttachLink::Attached { clients: 2 },
    });
    let s = screen(&mut app, &store, 160, 12);
    assert!(
        s.contains(
            "⇄ attached /var/lib/pilotwatch/journal.jsonl.sock (2 watching) → http://127.0.0.1:3000"
        ),
        "{s}"
    );
    app.attach = Some(AttachView {
        endpoint: "/var/lib/pilotwatch/journal.jsonl.sock".into(),
        link: AttachLink::Reconnecting {
            secs: 3,
            why: "the service is stopping".into(),
        },
    });
    app.loading = None;
    let s = screen(&mut app, &store, 160, 12);
    assert!(
        s.contains(
            "⟳ reconnecting to /var/lib/pilotwatch/journal.jsonl.sock… 3s (the service is stopping)"
        ),
        "{s}"
    );
}

/// `pilotwatch open`: a file is history. Replying says so (not "no API key", even with a
/// key set), and the header shows nothing that only a running receiver has.
#[test]
fn an_opened_journal_is_read_only_and_shows_no_live_figures() {
    let store = store(&[]);
    let mut app = app();
    app.info.read_only = true;
    app.info.listen = "read-only: /tmp/journal.jsonl".into();
    for key in ["r", "R", "x"] {
        select_row(&mut app, &store, "Check this photo");
        press(&mut app, &store, key);
        let notice = app.notice.clone().unwrap_or_default();
        assert!(notice.contains("read-only"), "{key}: {notice}");
        assert!(matches!(app.mode, pilotwatch::tui::app::Mode::Normal));
    }
    let screen = screen(&mut app, &store, 200, 50);
    let (header, status) = (
        screen.lines().take(2).collect::<Vec<_>>().join("\n"),
        screen.lines().last().unwrap_or_default().to_owned(),
    );
    assert!(!header.contains(" up "), "{header}");
    assert!(!header.contains("/s"), "{header}");
    assert!(!status.contains("FOLLOW"), "{status}");
    assert!(status.contains("FILE"), "{status}");
    assert!(
        !status.contains("r reply") && !status.contains("f follow"),
        "{status}"
    );
}

/// One meaning per filter term in every pane (issue 14 item 7).
#[test]
fn a_filter_term_means_the_same_in_every_pane_or_leaves_it_alone() {
    use pilotwatch::tui::view::Pane;
    let sup = r#"{"event":"number.connected","data":{"numberId":"n-sup","phone":"+5511940002000","displayName":"Suporte","createdAt":"2026-11-21T11:00:00.000Z"}}"#;
    let other = r#"{"event":"number.connected","data":{"numberId":"n-other","phone":"+5511940009000","displayName":"Vendas","createdAt":"2026-11-21T11:00:00.000Z"}}"#;
    let msg = |id: &str, number: &str| {
        format!(
            r#"{{"event":"message.received","data":{{"from":"+5511987650001","to":"+5511940002000","numberId":"{number}","messageId":"w-{id}","id":"{id}","type":"text","fromMe":false,"content":"hello","createdAt":"2026-11-21T11:59:00.000Z"}}}}"#
        )
    };
    let ring = r#"{"event":"call.ringing","callId":"call-sup","direction":"INBOUND","status":"RINGING","from":"5511987650001","to":"5511940002000","timestamp":"2026-11-21T11:59:30.000Z"}"#;
    let failed_call = r#"{"event":"call.ended","callId":"call-f","direction":"INBOUND","status":"FAILED","from":"5511987650002","to":"5511940009000","timestamp":"2026-11-21T11:59:40.000Z"}"#;
    let (m1, m2, m3) = (msg("m1", "n-sup"), msg("m2", "n-sup"), msg("m3", "n-other"));
    let store = store(&[sup, other, &m1, &m2, &m3, ring, failed_call]);
    let mut app = app();
    app.sync(&store);
    let all: Vec<usize> = Pane::ALL.iter().map(|p| app.views.len(*p)).collect();

    press(&mut app, &store, "/number:suporte\n");
    let shown = screen(&mut app, &store, 200, 50);
    assert_eq!(
        app.views.len(Pane::Messages),
        2,
        "its two messages: {shown}"
    );
    assert_eq!(app.views.len(Pane::Numbers), 1);
    assert_eq!(app.views.len(Pane::Calls), 1, "the call that rang it");
    // The Feed: its number event, its two messages and the call, found by name.
    assert_eq!(app.views.len(Pane::Feed), 4, "the same rows' deliveries");

    press(&mut app, &store, "/\x1b");
    press(&mut app, &store, "/type:image\n");
    screen(&mut app, &store, 200, 50);
    assert_eq!(app.views.len(Pane::Numbers), all[Pane::Numbers.index()]);
    assert_eq!(app.views.len(Pane::Calls), all[Pane::Calls.index()]);
    press(&mut app, &store, "2");
    let status = screen(&mut app, &store, 200, 50);
    assert!(
        status.contains("(type:image: not for Numbers)"),
        "{}",
        status.lines().last().unwrap()
    );

    press(&mut app, &store, "/\x1b");
    press(&mut app, &store, "/status:failed\n");
    screen(&mut app, &store, 200, 50);
    assert!(app.views.len(Pane::Messages) < all[Pane::Messages.index()]);
    assert_eq!(
        app.views.len(Pane::Numbers),
        all[Pane::Numbers.index()],
        "no number status is `failed`: the pane is left alone, not emptied"
    );
    // Calls do fail (`call.ended` with FAILED): there it means the failed ones.
    assert_eq!(app.views.len(Pane::Calls), 1, "the one failed call");
}

/// Keys in a message's detail act on the message being read (issue 14 item 3).
#[test]
fn keys_in_a_detail_act_on_the_row_it_shows() {
    use pilotwatch::tui::app::Mode;
    let store = store(&[]);
    let mut app = app();
    select_row(&mut app, &store, "Check this photo");
    press(&mut app, &store, "\n");
    assert!(matches!(app.mode, Mode::Detail(_)));
    // `r` answers the message being read.
    press(&mut app, &store, "r");
    let Mode::Compose(c) = &app.mode else {
        panic!("r in a detail opens the composer: {:?}", app.notice)
    };
    assert_eq!(c.in_reply_to.id, "cmm04obm46zz0qv4ycjp8x6r3");
    press(&mut app, &store, "\x1b");
    // Pane keys and the filter work from a detail too.
    press(&mut app, &store, "\n3");
    assert!(matches!(app.mode, Mode::Normal));
    assert_eq!(app.pane, pilotwatch::tui::view::Pane::Calls);
    press(&mut app, &store, "1\n/");
    assert!(matches!(app.mode, Mode::Filter));
}

/// `q` in help closes it; `q` on a dashboard that is the receiver asks first; Ctrl-C
/// and an attached or read-only dashboard just quit (issue 14 item 4).
#[test]
fn q_closes_help_and_asks_before_stopping_the_receiver() {
    use pilotwatch::tui::app::Mode;
    let store = store(&[]);
    let mut app = app();
    assert!(press(&mut app, &store, "?q").is_none(), "q closed the help");
    assert!(matches!(app.mode, Mode::Normal));
    assert!(press(&mut app, &store, "q").is_none(), "the first q asks");
    let notice = app.notice.clone().unwrap_or_default();
    assert!(notice.contains("the receiver on 127.0.0.1:3000 stops"), "{notice}");
    assert!(press(&mut app, &store, "j").is_none());
    assert!(
        press(&mut app, &store, "q").is_none(),
        "another key disarmed it"
    );
    assert!(matches!(press(&mut app, &store, "q"), Some(Effect::Quit)));
    let mut app = pilotwatch::tui::app::App::new(app.info.clone(), Theme::new(false));
    let ctrl_c = key(&mut app, &store, KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert!(matches!(ctrl_c, Some(Effect::Quit)), "Ctrl-C does not ask");
    let mut read_only = app.info.clone();
    read_only.read_only = true;
    let mut app = pilotwatch::tui::app::App::new(read_only, Theme::new(false));
    assert!(matches!(press(&mut app, &store, "q"), Some(Effect::Quit)));
}

/// "sending…" and "replaying…" give way to the outcome once it is on record (item 6).
#[test]
fn a_progress_message_is_replaced_by_its_outcome() {
    use pilotwatch::model::outbound::Phase;
    let mut store = store(&[]);
    let mut app = app();
    select_row(&mut app, &store, "Check this photo");
    press(&mut app, &store, "rOk");
    let Some(Effect::Send { request, .. }) =
        key(&mut app, &store, KeyCode::Enter, KeyModifiers::NONE)
    else {
        panic!("sent")
    };
    assert_eq!(app.notice.as_deref(), Some("sending…"));
    let mut sent = outbound_record(900, Phase::Sending, None, None);
    let failed_error = pilotwatch::api::ApiError::Status {
        status: 401,
        error: Some("invalid key".into()),
        code: None,
        retry_after: None,
    };
    let mut failed = outbound_record(901, Phase::Failed, Some(failed_error), None);
    for r in [&mut sent, &mut failed] {
        let mut o: pilotwatch::model::outbound::Outbound = serde_json::from_slice(&r.body).unwrap();
        o.request.idempotency_key = request.idempotency_key.clone();
        r.body = serde_json::to_vec(&o).unwrap().into();
    }
    store.apply(sent);
    app.sync(&store);
    assert_eq!(app.notice.as_deref(), Some("sending…"), "no outcome yet");
    store.apply(failed);
    app.sync(&store);
    let notice = app.notice.clone().unwrap_or_default();
    assert!(notice.starts_with("reply failed: HTTP 401"), "{notice}");
}

/// `G` in a detail shows its last screenful, not one line on an empty screen; `g` on a
/// list goes back to the newest row and follows again (item 12).
#[test]
fn bottom_of_a_detail_is_a_full_screen_and_top_of_a_list_follows() {
    let store = store(&[]);
    let mut app = app();
    select_row(&mut app, &store, "Check this photo");
    press(&mut app, &store, "\n");
    let pilotwatch::tui::app::Mode::Detail(d) = &app.mode else {
        panic!("a detail")
    };
    assert!(d.lines.len() > 30, "a long detail: {}", d.lines.len());
    press(&mut app, &store, "G");
    let shown = screen(&mut app, &store, 120, 24);
    let body_lines = shown
        .lines()
        .skip(3)
        .take(18)
        .filter(|l| !l.trim().is_empty())
        .count();
    assert!(
        body_lines > 10,
        "G left {body_lines} lines on screen:\n{shown}"
    );
    press(&mut app, &store, "\x1b");
    press(&mut app, &store, "jjj");
    assert!(!app.follow, "moving down froze the list");
    press(&mut app, &store, "g");
    assert!(app.follow, "g follows again");
}

/// `y` in a message's detail copies the delivery at the top of the screen, and says
/// which one (issue 14 item 2).
#[test]
fn y_in_a_detail_copies_the_delivery_scrolled_to() {
    let sent = r#"{"event":"message.sent","data":{"from":"+5511888888888","to":"+5511999999999","numberId":"n1","messageId":"w-y","id":"y1","type":"text","fromMe":true,"content":"copy me","createdAt":"2026-11-21T11:59:00.000Z"}}"#;
    let failed = r#"{"event":"message.failed","data":{"from":"+5511888888888","to":"+5511999999999","numberId":"n1","messageId":"w-y","id":"y1","type":"text","fromMe":true,"content":"copy me","error":"nope","errorCode":"RECIPIENT_NOT_ON_WHATSAPP","createdAt":"2026-11-21T11:59:05.000Z"}}"#;
    let store = store(&[sent, failed]);
    let mut app = app();
    select_row(&mut app, &store, "copy me");
    press(&mut app, &store, "\n");
    let Some(Effect::Copy(first)) = press(&mut app, &store, "y") else {
        panic!("copied")
    };
    assert!(first.starts_with(br#"{"event":"message.sent""#));
    // Scroll down to the failed delivery's section, and copy again.
    let pilotwatch::tui::app::Mode::Detail(d) = &app.mode else {
        panic!("still in the detail")
    };
    let line = d
        .bodies
        .iter()
        .find(|s| s.event == "message.failed")
        .unwrap()
        .line;
    for _ in 0..line {
        press(&mut app, &store, "j");
    }
    let Some(Effect::Copy(second)) = press(&mut app, &store, "y") else {
        panic!("copied")
    };
    assert!(
        second.starts_with(br#"{"event":"message.failed""#),
        "{}",
        String::from_utf8_lossy(&second)
    );
    let notice = app.notice.clone().unwrap_or_default();
    assert!(notice.contains("message.failed"), "says which: {notice}");
}
