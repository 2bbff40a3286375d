//! The dashboard drawn into ratatui's TestBackend from the corpus, snapshotted with
//! insta (clock times masked: they are shown in the machine's local zone): each pane, a
//! row's detail, help, the filter, hostile text, and what the header and status line
//! say. Keys are tested in `dashboard_keys.rs`, replies in `dashboard_replies.rs`, the
//! panes' rows and columns in `dashboard_rows.rs`; the helpers are in
//! `common/tui.rs`.

mod common;

use common::tui::{app, at, press, record_at, screen, select_row, snapshot, store};
use pilotwatch::store::Store;

#[test]
fn waiting_for_the_first_delivery() {
    let (mut app, store) = (app(), Store::new(10));
    press(&mut app, &store, "1");
    snapshot!("waiting", screen(&mut app, &store, 100, 12));
}

#[test]
fn messages_pane() {
    let store = store(&[]);
    let mut app = app();
    press(&mut app, &store, "1");
    snapshot!("messages_120x30", screen(&mut app, &store, 120, 30));
}

#[test]
fn messages_pane_at_80x24() {
    let store = store(&[]);
    let mut app = app();
    press(&mut app, &store, "1");
    snapshot!("messages_80x24", screen(&mut app, &store, 80, 24));
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

/// Narrow, the Feed keeps the event whole: the signature column goes first.
#[test]
fn a_narrow_feed_keeps_the_event_whole() {
    let store = store(&[]);
    let mut app = app();
    press(&mut app, &store, "4");
    let s = screen(&mut app, &store, 60, 15);
    assert!(s.contains(" number.health_degraded "), "{s}");
    let header = s
        .lines()
        .find(|l| l.starts_with("received"))
        .unwrap_or_default();
    assert!(!header.contains("signature"), "{s}");
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
    press(&mut app, &store, "1G\n");
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
    press(&mut app, &store, "1?");
    snapshot!("help", screen(&mut app, &store, 120, 36));
}

#[test]
fn filtered_view() {
    let store = store(&[]);
    let mut app = app();
    press(&mut app, &store, "1/type:image");
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
fn hostile_text_is_shown_escaped() {
    let hostile = "{\"event\":\"message.received\",\"data\":{\"from\":\"+1\\u001b]0;PWNED\\u0007\",\"to\":\"+2\",\"numberId\":\"n\",\"messageId\":\"h\",\"id\":\"h\",\"fromMe\":false,\"participantName\":\"Eve\\u202e\\u200b\",\"content\":\"hi\\u001b[2J\\u009b31m\\nnext\\rline\",\"createdAt\":\"2026-11-21T12:00:00Z\"}}";
    let store = store(&[hostile]);
    let mut app = app();
    press(&mut app, &store, "1");
    let s = screen(&mut app, &store, 160, 20);
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

/// The header's pulse, like lnav's: the age of the last delivery and the failure rate
/// of the last five minutes (failed / outbound messages), from the store's stats.
#[test]
fn the_header_says_when_the_last_delivery_came_and_the_failure_rate() {
    let header = |store: &Store| {
        let mut app = app();
        let s = screen(&mut app, store, 200, 12);
        s.lines().nth(1).unwrap_or_default().to_owned()
    };
    let empty = header(&Store::new(10));
    assert!(
        empty.contains("· no delivery yet · 5-min failure rate —"),
        "{empty}"
    );
    let status = |event: &str, id: u32| {
        format!(
            r#"{{"event":"message.{event}","data":{{"to":"+5511999999999","numberId":"n1","messageId":"wa{id}","id":"m{id}","type":"text","fromMe":true,"content":"hi","createdAt":"2026-11-21T12:04:50Z","error":"nope","errorCode":"X"}}}}"#
        )
    };
    let mut store = Store::new(100);
    for id in 1..=8 {
        store.apply(record_at(
            id.into(),
            at("2026-11-21T12:04:50Z"),
            status("sent", id).as_bytes(),
        ));
    }
    store.apply(record_at(
        9,
        at("2026-11-21T12:04:57Z"),
        status("failed", 1).as_bytes(),
    ));
    // A refused delivery is no sign of life.
    store.apply(record_at(10, at("2026-11-21T12:04:59Z"), b"{not json"));
    let line = header(&store);
    assert!(
        line.contains("· last delivery 3s ago · 5-min failure rate 12.5 %"),
        "{line}"
    );
}

#[test]
fn an_attached_dashboard_says_where_it_is_attached_and_when_it_reconnects() {
    use pilotwatch::tui::app::{AttachLink, AttachView};
    let store = store(&[]);
    let mut app = app();
    app.attach = Some(AttachView {
        endpoint: "/var/lib/pilotwatch/journal.jsonl.sock".into(),
        link: AttachLink::Attached { clients: 2 },
        receivers: vec![],
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
        receivers: vec![],
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

/// On NATS: each receiver by name with its newest record's age; one whose outbox is
/// behind, or whose heartbeat stopped, in amber with why. No `http://` address: the
/// dashboard is on the stream, not on one receiver.
#[test]
fn a_dashboard_on_nats_names_each_receiver_and_its_last_record_age() {
    use pilotwatch::tui::app::{AttachLink, AttachView, ReceiverView};
    let store = store(&[]);
    let mut app = app();
    app.info.listen = "nats://127.0.0.1:4222/PILOTWATCH".into();
    app.info.api_key = None;
    let ago = |s: i64| Some(app.now - chrono::Duration::seconds(s));
    app.attach = Some(AttachView {
        endpoint: "nats://127.0.0.1:4222/PILOTWATCH".into(),
        link: AttachLink::Attached { clients: 1 },
        receivers: vec![
            ReceiverView {
                name: "eu-1".into(),
                last_record: ago(2),
                backlog: 0,
                silent: false,
                sends: true,
            },
            ReceiverView {
                name: "eu-2".into(),
                last_record: ago(300),
                backlog: 120,
                silent: true,
                sends: false,
            },
        ],
    });
    let s = screen(&mut app, &store, 200, 12);
    assert!(
        s.contains(
            "⇄ on nats://127.0.0.1:4222/PILOTWATCH · receivers eu-1 2s eu-2 5m backlog 120 silent · replies via eu-1"
        ),
        "{s}"
    );
    assert!(!s.contains("http://nats"), "{s}");
}

/// With `--nats`, the receiver's own header says where it publishes and, when the
/// stream is out of reach, how much is waiting and why.
#[test]
fn a_receiver_on_nats_shows_its_outbox_in_the_header() {
    use pilotwatch::attach::protocol::NatsStatus;
    let store = store(&[]);
    let mut app = app();
    let status = |connected, backlog, problem: Option<&str>| NatsStatus {
        receiver: "eu-1".into(),
        connected,
        backlog,
        problem: problem.map(Into::into),
    };
    app.nats = Some(status(true, 3, None));
    let s = screen(&mut app, &store, 200, 12);
    assert!(s.contains("· nats eu-1 ✓"), "{s}");
    app.nats = Some(status(
        false,
        1200,
        Some("nats: 127.0.0.1:4222 did not answer within 5 s"),
    ));
    let s = screen(&mut app, &store, 200, 12);
    assert!(
        s.contains(
            "· nats eu-1: 1200 not published (nats: 127.0.0.1:4222 did not answer within 5 s)"
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
    // Its clock stops at its newest record: ages and windows do not run on while it
    // is looked at, and the header says as of when.
    let newest = store.newest_at().expect("records");
    app.tick(&store, newest + chrono::Duration::hours(3));
    assert_eq!(app.now, newest);
    let later = common::tui::screen(&mut app, &store, 200, 50);
    let as_of = format!("as of {}", newest.format("%Y-%m-%d %H:%M:%S UTC"));
    assert!(
        later.lines().next().unwrap_or_default().contains(&as_of),
        "{later}"
    );
    // A running dashboard's clock is the clock.
    let mut live = common::tui::app();
    let later = newest + chrono::Duration::hours(3);
    live.tick(&store, later);
    assert_eq!(live.now, later);
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

/// One of a thing is said as one: "1 delivery", "1 retry", not "1 deliveries".
#[test]
fn the_header_counts_one_in_the_singular() {
    let body = r#"{"event":"message.sent","data":{"to":"+5511999999999","numberId":"n1","messageId":"wa1","id":"m1","type":"text","fromMe":true,"content":"hi","createdAt":"2026-11-21T12:04:50Z"}}"#;
    let mut store = Store::new(10);
    store.apply(record_at(1, at("2026-11-21T12:04:50Z"), body.as_bytes()));
    let s = screen(&mut app(), &store, 200, 12);
    let counts = s.lines().nth(1).unwrap_or_default();
    assert!(counts.contains(" 1 delivery "), "{counts}");
    let mut retry = record_at(2, at("2026-11-21T12:04:51Z"), body.as_bytes());
    retry.duplicate_of = Some(1);
    store.apply(retry);
    let s = screen(&mut app(), &store, 200, 12);
    let counts = s.lines().nth(1).unwrap_or_default();
    assert!(counts.contains(" 2 deliveries "), "{counts}");
    assert!(counts.contains("· 1 retry "), "{counts}");
}

/// The tab line keeps the view shown, whatever the width: the others give way one at a
/// time, then their counts, then their names.
#[test]
fn the_tab_line_keeps_the_view_shown_on_a_narrow_screen() {
    let store = store(&[]);
    let mut app = app();
    let tabs = |s: &str| s.lines().nth(2).unwrap_or_default().to_owned();
    press(&mut app, &store, "7");
    for w in [200, 120, 80, 60, 40] {
        let line = tabs(&screen(&mut app, &store, w, 24));
        assert!(line.contains(" 7 Alerts 0"), "{w}: {line}");
    }
    // With room, only what does not fit goes: at 110 columns, Deliveries first.
    press(&mut app, &store, "1");
    let line = tabs(&screen(&mut app, &store, 110, 24));
    assert!(
        line.contains(" 5 Latency ") && !line.contains("Deliveries"),
        "{line}"
    );
    let line = tabs(&screen(&mut app, &store, 40, 24));
    assert!(
        line.contains(" 1 Messages 6 ") && line.contains(" 2 "),
        "{line}"
    );
}
