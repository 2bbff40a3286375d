//! Keys on the dashboard (in ratatui's TestBackend, over the corpus): a list frozen
//! while rows arrive and following again, `Enter` on a number, a row's detail and the
//! keys in it, help, copying a payload, and quitting.

mod common;

use common::tui::{app, key, press, record, screen, select_row, store};
use crossterm::event::{KeyCode, KeyModifiers};
use pilotwatch::store::Store;
use pilotwatch::tui::app::{App, Effect};
use pilotwatch::tui::theme::Theme;

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
    press(&mut app, &store, "1?");
    let top = screen(&mut app, &store, 80, 24);
    assert!(!top.contains("verdict:broken"), "{top}");
    // Past the end (long descriptions wrap at 80 columns): it stops there.
    press(&mut app, &store, &"j".repeat(40));
    let bottom = screen(&mut app, &store, 80, 24);
    assert!(
        bottom.contains("verdict:broken") && bottom.contains("status:failed"),
        "{bottom}"
    );
    // A description too long for the width wraps under itself, whole.
    assert!(bottom.contains("│                    body)"), "{bottom}");
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
    assert!(
        notice.contains("the receiver on 127.0.0.1:3000 stops"),
        "{notice}"
    );
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

/// `End` and paging down stop at the same place: the last screenful.
#[test]
fn end_and_page_down_in_a_detail_stop_at_the_last_screenful() {
    let sent = r#"{"event":"message.sent","data":{"from":"+5511888888888","to":"+5511999999999","numberId":"n1","messageId":"w-e","id":"e1","type":"text","fromMe":true,"content":"end me","createdAt":"2026-11-21T11:59:00.000Z"}}"#;
    let store = store(&[sent]);
    let mut app = app();
    select_row(&mut app, &store, "end me");
    press(&mut app, &store, "\n");
    let scroll = |app: &pilotwatch::tui::app::App| match &app.mode {
        pilotwatch::tui::app::Mode::Detail(d) => (d.scroll, d.max_scroll(app.page.max(1))),
        _ => panic!("not in the detail"),
    };
    for _ in 0..10 {
        key(&mut app, &store, KeyCode::PageDown, KeyModifiers::NONE);
    }
    let (paged, max) = scroll(&app);
    assert_eq!(paged, max);
    key(&mut app, &store, KeyCode::End, KeyModifiers::NONE);
    assert_eq!(scroll(&app).0, max);
}

/// The status line keeps `? help` and `q quit` whatever it says before them: the other hints give way
/// to a filter or a notice (they are the same on every screen; a notice is news).
#[test]
fn the_status_line_keeps_help_beside_a_long_notice() {
    let store = store(&[]);
    let mut app = app();
    press(&mut app, &store, "1");
    app.notice =
        Some("exported to /tmp/ux/pilotwatch-export-20261129-233000.ndjson: 3 rows".into());
    let s = screen(&mut app, &store, 120, 24);
    let status = s.lines().last().unwrap_or_default().to_owned();
    assert!(
        status.contains("pilotwatch-export-20261129-233000.ndjson"),
        "{status}"
    );
    assert!(status.ends_with("? help  q quit"), "{status}");
    assert!(!status.contains("f follow"), "{status}");
    // Too long for the line: cut with `…` before the two are.
    let s = screen(&mut app, &store, 80, 24);
    let status = s.lines().last().unwrap_or_default().to_owned();
    assert!(status.ends_with("…  ? help  q quit"), "{status}");
    // With room, every hint.
    app.notice = None;
    let s = screen(&mut app, &store, 200, 24);
    let status = s.lines().last().unwrap_or_default().to_owned();
    assert!(
        status.contains("f follow") && status.contains("? help"),
        "{status}"
    );
}
