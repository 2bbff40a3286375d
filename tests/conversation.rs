//! Conversations on the dashboard (issue 19), in ratatui's TestBackend: the thread
//! (`c`) with its quotes, a failed send and a call, the Inbox (`6`), WhatsApp's 24-hour
//! window in the thread's header, and the composer warning before sending into a
//! closed window.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::tui::{app, at, press, record_at, screen, select_row, snapshot};
use pilotwatch::model::provider::{ApiNumber, ApiRecord};
use pilotwatch::record::Record;
use pilotwatch::store::Store;
use pilotwatch::tui::app::{App, Effect, Mode};

const ANA: &str = "+5511999990001";

struct World {
    store: Store,
    seq: u64,
}

impl World {
    fn post(&mut self, when: &str, body: serde_json::Value) {
        self.seq += 1;
        let body = serde_json::to_vec(&body).unwrap();
        self.store.apply(record_at(self.seq, at(when), &body));
    }

    fn message(&mut self, event: &str, when: &str, data: serde_json::Value) {
        let mut data = data;
        data["createdAt"] = when.into();
        self.post(when, serde_json::json!({"event": event, "data": data}));
    }

    /// n1 as the API lists it: a Meta Cloud API number.
    fn meta(&mut self) {
        let n: ApiNumber =
            serde_json::from_value(serde_json::json!({"id": "n1", "meta": true})).unwrap();
        let mut r = Record::api(&ApiRecord::Numbers { numbers: vec![n] });
        self.seq += 1;
        r.seq = self.seq;
        r.received_at = at("2026-11-21T11:00:00Z");
        self.store.apply(r);
    }
}

fn inbound(from: &str, name: &str, number: &str, id: &str, text: &str) -> serde_json::Value {
    serde_json::json!({"to": "+5511888888888", "from": from, "numberId": number,
        "messageId": format!("wa-{id}"), "id": id, "type": "text", "fromMe": false,
        "content": text, "participantName": name})
}

fn outbound(id: &str, text: &str) -> serde_json::Value {
    serde_json::json!({"to": ANA, "from": "+5511888888888", "numberId": "n1",
        "messageId": format!("wa-{id}"), "id": id, "type": "text", "fromMe": true,
        "content": text})
}

/// Ana on n1 (Meta): asks, is answered (read), replies quoting the answer, calls,
/// sends a photo, and our link fails outside the window; Bruno waits on n1 and Carla
/// on n2 (not Meta).
fn world() -> World {
    let mut w = World {
        store: Store::new(1000),
        seq: 0,
    };
    w.meta();
    let carla = inbound("+5521977770003", "Carla", "n2", "c1", "Preciso de ajuda");
    w.message("message.received", "2026-11-21T11:00:00Z", carla);
    let ask = inbound(ANA, "Ana", "n1", "in1", "Vocês têm o tênis 42?");
    w.message("message.received", "2026-11-21T11:50:00Z", ask);
    w.message(
        "message.sent",
        "2026-11-21T11:51:00Z",
        outbound("out1", "Temos sim! Quer foto?"),
    );
    w.message(
        "message.read",
        "2026-11-21T11:51:30Z",
        outbound("out1", "Temos sim! Quer foto?"),
    );
    let mut reply = inbound(ANA, "Ana", "n1", "in2", "Quero, por favor");
    reply["contentReplied"] = "Temos sim! Quer foto?".into();
    reply["quotedMessageId"] = "wa-out1".into();
    w.message("message.reply", "2026-11-21T11:52:00Z", reply);
    for (event, status) in [("call.ringing", "RINGING"), ("call.ended", "COMPLETED")] {
        let mut call = serde_json::json!({"event": event, "callId": "call_ana",
            "direction": "USER_INITIATED", "status": status, "from": "5511999990001",
            "to": "5511888888888", "timestamp": "2026-11-21T11:55:00.000Z"});
        if event == "call.ended" {
            call["duration"] = 135.into();
        }
        w.post("2026-11-21T11:57:15Z", call);
    }
    let mut photo = inbound(ANA, "Ana", "n1", "in3", "Esse aqui?");
    photo["type"] = "image".into();
    photo["mediaType"] = "image".into();
    photo["mediaCaption"] = "Esse aqui?".into();
    photo["mediaLink"] = "https://example.invalid/m/1".into();
    w.message("message.received", "2026-11-21T11:58:00Z", photo);
    w.message(
        "message.sent",
        "2026-11-21T12:00:00Z",
        outbound("out2", "Segue o link da loja"),
    );
    let mut failed = outbound("out2", "Segue o link da loja");
    failed["error"] = "Message failed to send because more than 24 hours have passed".into();
    failed["errorCode"] = "131047".into();
    w.message("message.failed", "2026-11-21T12:00:05Z", failed);
    let bruno = inbound("+5511999990002", "Bruno", "n1", "b1", "Qual o horário?");
    w.message("message.received", "2026-11-21T12:02:00Z", bruno);
    w
}

fn open_ana(app: &mut App, store: &Store) {
    select_row(app, store, "Esse aqui?");
    press(app, store, "c");
    assert!(app.thread.is_some(), "{:?}", app.notice);
}

#[test]
fn c_opens_the_thread_in_time_order_with_quotes_statuses_and_the_call() {
    let w = world();
    let mut app = app();
    open_ana(&mut app, &w.store);
    let s = screen(&mut app, &w.store, 80, 24);
    snapshot!("conversation", s);
    let order = [
        "tênis 42",
        "Temos sim",
        "Quero, por favor",
        "call completed 2:15",
        "[image] Esse aqui?",
        "Segue o link",
    ];
    let at: Vec<usize> = order.iter().map(|t| s.find(t).expect(t)).collect();
    assert!(at.windows(2).all(|p| p[0] < p[1]), "time order:\n{s}");
    assert!(s.contains("✓✓ read") && s.contains("✗ 24-hour window closed (131047)"));
    assert!(!s.contains("Bruno"), "one contact's thread");
    let wide = screen(&mut app, &w.store, 120, 24);
    snapshot!("conversation_wide", wide);
}

#[test]
fn the_inbox_lists_who_waits_oldest_first_and_enter_opens_the_thread() {
    let w = world();
    let mut app = app();
    press(&mut app, &w.store, "6");
    assert!(app.inbox.shown);
    let s = screen(&mut app, &w.store, 100, 12);
    snapshot!("inbox", s);
    let (carla, bruno) = (s.find("Carla").unwrap(), s.find("Bruno").unwrap());
    assert!(carla < bruno, "oldest wait first:\n{s}");
    assert!(s.contains("waiting 1h") && s.contains("waiting 3m"), "{s}");
    // Narrow, the message keeps its room; the number goes, the window shrinks.
    let narrow = screen(&mut app, &w.store, 60, 12);
    assert!(narrow.contains("Qual o horário?"), "{narrow}");
    assert!(!s.contains("Ana"), "answered: not waiting");
    press(&mut app, &w.store, "j\n");
    let t = &app.thread.as_ref().expect("a thread").thread;
    assert!(t.contact.contains("Bruno"), "{}", t.contact);
    // Esc goes back to the inbox.
    press(&mut app, &w.store, "\x1b");
    assert!(app.thread.is_none() && app.inbox.shown);
    press(&mut app, &w.store, "1");
    assert!(!app.inbox.shown);
    // Listed among the tabs still (every view is), no longer shown.
    let panes = screen(&mut app, &w.store, 120, 30);
    assert!(
        panes.contains(" 6 Inbox 2 ") && !panes.contains("waiting "),
        "{panes}"
    );
    press(&mut app, &w.store, "0");
    let overview = screen(&mut app, &w.store, 120, 30);
    assert!(
        overview.contains("2 waiting · oldest 1h (Carla)"),
        "{overview}"
    );
}

/// The thread's first line at `now`.
fn header(w: &World, now: DateTime<Utc>, row: &str) -> String {
    let mut app = app();
    select_row(&mut app, &w.store, row);
    press(&mut app, &w.store, "c");
    app.now = now;
    let s = screen(&mut app, &w.store, 100, 12);
    s.lines().nth(3).unwrap().to_owned()
}

#[test]
fn the_window_in_the_threads_header() {
    let w = world();
    let last = at("2026-11-21T11:58:00Z");
    let states = [
        header(&w, at("2026-11-21T12:05:00Z"), "Esse aqui?"),
        header(&w, last + Duration::minutes(23 * 60 + 30), "Esse aqui?"),
        header(&w, last + Duration::hours(27), "Esse aqui?"),
        header(&w, at("2026-11-21T12:05:00Z"), "Preciso de ajuda"),
    ];
    snapshot!("window_states", states.join("\n"));
    assert!(states[0].contains("window open: 23 h 53 m left"));
    assert!(states[1].contains("window open: 30 m left"));
    assert!(states[2].contains("closed 3 h 0 m ago: only templates"));
    assert!(!states[3].contains("window"), "not Meta: no window");
}

#[test]
fn into_a_closed_window_the_first_enter_warns_and_the_second_sends() {
    let w = world();
    let mut app = app();
    open_ana(&mut app, &w.store);
    app.now = at("2026-11-22T14:58:00Z");
    press(&mut app, &w.store, "rOi Ana");
    assert!(matches!(app.mode, Mode::Compose(_)));
    let effect = press(&mut app, &w.store, "\n");
    assert_eq!(effect, None);
    let notice = app.notice.clone().unwrap();
    assert!(
        notice.contains("the 24-hour window closed 3 h ago")
            && notice.contains("META_OUTSIDE_24H_WINDOW")
            && notice.contains("Enter again"),
        "{notice}"
    );
    let s = screen(&mut app, &w.store, 100, 30);
    snapshot!("composer_closed_window", s);
    let Some(Effect::Send {
        request,
        in_reply_to,
        ..
    }) = press(&mut app, &w.store, "\n")
    else {
        panic!("{:?}", app.notice)
    };
    assert_eq!(request.body.text, "Oi Ana");
    assert_eq!(request.body.destination_number.as_deref(), Some(ANA));
    assert_eq!(request.number_id.as_deref(), Some("n1"));
    assert_eq!(in_reply_to.id, "in3", "answers the newest inbound message");
    assert!(app.thread.is_some(), "the thread stays open");
}

#[test]
fn an_open_window_sends_at_the_first_enter() {
    let w = world();
    let mut app = app();
    open_ana(&mut app, &w.store);
    press(&mut app, &w.store, "r");
    let s = screen(&mut app, &w.store, 80, 24);
    assert!(s.contains("window open: 23 h 53 m left"), "{s}");
    assert!(matches!(
        press(&mut app, &w.store, "ok\n"),
        Some(Effect::Send { .. })
    ));
}

#[test]
fn r_and_c_work_from_a_messages_detail() {
    let w = world();
    let mut app = app();
    select_row(&mut app, &w.store, "Qual o horário?");
    press(&mut app, &w.store, "\n");
    assert!(matches!(app.mode, Mode::Detail(_)));
    press(&mut app, &w.store, "r");
    let Mode::Compose(c) = &app.mode else {
        panic!("{:?}", app.notice)
    };
    assert_eq!(c.in_reply_to.id, "b1");
    press(&mut app, &w.store, "\x1b\n");
    assert!(matches!(app.mode, Mode::Detail(_)));
    press(&mut app, &w.store, "c");
    let t = &app.thread.as_ref().expect("a thread").thread;
    assert!(t.contact.contains("Bruno"));
}

#[test]
fn a_reply_refused_for_the_window_says_so() {
    use pilotwatch::api::{ApiError, SendBody, SendRequest};
    use pilotwatch::model::outbound::{InReplyTo, Outbound, ReplyPhase};
    let mut w = world();
    let mut app = app();
    open_ana(&mut app, &w.store);
    app.now = at("2026-11-22T14:58:00Z");
    press(&mut app, &w.store, "rOi\n");
    let Some(Effect::Send { request, .. }) = press(&mut app, &w.store, "\n") else {
        panic!()
    };
    let outbound = Outbound {
        phase: ReplyPhase::Failed,
        request: SendRequest {
            body: SendBody {
                text: request.body.text.clone(),
                destination_number: request.body.destination_number.clone(),
                group_id: None,
            },
            ..request
        },
        in_reply_to: Some(InReplyTo {
            id: "in3".into(),
            event: "message.received".into(),
        }),
        attempt: 1,
        accepted: None,
        error: Some(ApiError::Status {
            status: 422,
            error: Some("outside the customer service window".into()),
            code: Some("META_OUTSIDE_24H_WINDOW".into()),
            retry_after: None,
        }),
    };
    w.seq += 1;
    let mut r = record_at(
        w.seq,
        at("2026-11-22T14:58:01Z"),
        &serde_json::to_vec(&outbound).unwrap(),
    );
    r.kind = pilotwatch::record::RecordKind::Outbound;
    w.store.apply(r);
    let s = screen(&mut app, &w.store, 140, 24);
    assert!(
        app.notice
            .as_deref()
            .is_some_and(|n| n.contains("24-hour window is closed")),
        "{:?}",
        app.notice
    );
    assert!(
        s.contains("Oi") && s.contains("✗ 24-hour window closed (META_OUTSIDE_24H_WINDOW)"),
        "{s}"
    );
}

/// Earlier messages from the provider's history join the thread, marked as history, a
/// redacted one said so, and one a webhook already brought is not doubled.
#[test]
fn history_rows_join_the_thread_marked_and_never_doubled() {
    use pilotwatch::model::provider::HistoryMessage;
    let mut w = world();
    let h = |id: &str, dir: &str, text: Option<&str>, when: &str, redacted: bool| HistoryMessage {
        id: id.into(),
        direction: dir.into(),
        external_message_id: Some(format!("wa-{id}")),
        status: (dir == "OUTBOUND").then(|| "READ".to_owned()),
        message_type: Some("TEXT".into()),
        text: text.map(Into::into),
        participant_name: Some("Ana".into()),
        participant_phone: Some(ANA.into()),
        replied_to_external_id: None,
        sent_at: Some(at(when)),
        delivered_at: None,
        read_at: None,
        redacted,
    };
    let page = ApiRecord::History {
        number: "n1".into(),
        page: 1,
        total_pages: 3,
        messages: vec![
            // Already here by webhook: not shown twice.
            h(
                "out1",
                "OUTBOUND",
                Some("Temos sim! Quer foto?"),
                "2026-11-21T11:51:00Z",
                false,
            ),
            h(
                "old1",
                "INBOUND",
                Some("Oi, ainda tem o azul?"),
                "2026-11-20T09:00:00Z",
                false,
            ),
            h("old2", "OUTBOUND", None, "2026-11-20T09:05:00Z", true),
        ],
    };
    let mut r = Record::api(&page);
    w.seq += 1;
    r.seq = w.seq;
    r.received_at = at("2026-11-21T12:05:00Z");
    w.store.apply(r);
    let mut app = app();
    open_ana(&mut app, &w.store);
    let s = screen(&mut app, &w.store, 100, 30);
    snapshot!("conversation_history", s);
    let first = s.find("Oi, ainda tem o azul?").expect("the history row");
    let redacted = s
        .find("[redacted by the number's retention policy]")
        .expect("redacted");
    let ask = s.find("tênis 42").unwrap();
    assert!(
        first < redacted && redacted < ask,
        "history first, in time order:\n{s}"
    );
    assert_eq!(
        s.matches("Temos sim! Quer foto?").count(),
        2,
        "the reply and its quote, not a third:\n{s}"
    );
    assert!(s.contains("history"), "{s}");
    // Scrolled to its oldest line: the next page is asked for (page 1 of 3 read).
    assert!(
        press(&mut app, &w.store, "k").is_none(),
        "not at the top yet"
    );
    let effect = press(&mut app, &w.store, "G");
    assert!(
        matches!(effect, Some(Effect::History { page: 2 })),
        "{effect:?}"
    );
}
