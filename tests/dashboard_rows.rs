//! The panes' rows and columns (issue 14: staleness, a restored number, names in the
//! Feed, column widths, the empty screen), drawn into ratatui's TestBackend and
//! snapshotted with insta at 80×24 and 200×50 where the layout is the point.

mod common;

use chrono::Duration;
use common::tui::{NOW, app, at, press, record_at, screen, snapshot};
use pilotwatch::record::{Record, RecordKind};
use pilotwatch::store::Store;
use pilotwatch::tui::view::Pane;

/// A delivery received at `when` (as a live receiver would: right after the event).
fn record(seq: u64, when: &str, body: &str) -> Record {
    record_at(seq, at(when), body.as_bytes())
}

fn store(bodies: &[(&str, String)]) -> Store {
    let mut store = Store::new(1000);
    for (i, (when, body)) in bodies.iter().enumerate() {
        store.apply(record(i as u64 + 1, when, body));
    }
    store
}

/// The row of the screen that contains `text`.
fn row<'a>(screen: &'a str, text: &str) -> &'a str {
    screen
        .lines()
        .find(|l| l.contains(text))
        .unwrap_or_else(|| panic!("no row with {text:?} in\n{screen}"))
}

fn call(event: &str, id: &str, status: &str, from: &str, at: &str) -> (String, String) {
    let body = format!(
        r#"{{"event":"call.{event}","callId":"{id}","direction":"INBOUND","status":"{status}","from":"{from}","to":"5511888888888","timestamp":"{at}"}}"#
    );
    (at.to_owned(), body)
}

/// A call ringing 40 s ago, one whose ringing was the last word 3 h ago, one connected
/// 6 h ago and never ended, one that ended and a missed one (newer than the ringing).
fn calls() -> Store {
    let bodies = [
        call(
            "ringing",
            "c-old",
            "RINGING",
            "5511900000001",
            "2026-11-21T09:05:00Z",
        ),
        call(
            "ringing",
            "c-long",
            "RINGING",
            "5511900000002",
            "2026-11-21T06:04:50Z",
        ),
        call(
            "connected",
            "c-long",
            "ACCEPTED",
            "5511900000002",
            "2026-11-21T06:05:00Z",
        ),
        call(
            "ringing",
            "c-done",
            "RINGING",
            "5511900000003",
            "2026-11-21T12:00:00Z",
        ),
        call(
            "connected",
            "c-done",
            "ACCEPTED",
            "5511900000003",
            "2026-11-21T12:00:05Z",
        ),
        call(
            "ended",
            "c-done",
            "COMPLETED",
            "5511900000003",
            "2026-11-21T12:01:05Z",
        ),
        call(
            "ringing",
            "c-live",
            "RINGING",
            "5511900000004",
            "2026-11-21T12:04:20Z",
        ),
        call(
            "missed",
            "c-miss",
            "MISSED",
            "5511900000005",
            "2026-11-21T12:04:30Z",
        ),
    ];
    let bodies: Vec<(&str, String)> = bodies
        .iter()
        .map(|(a, b)| (a.as_str(), b.clone()))
        .collect();
    store(&bodies)
}

/// Item 1: a call whose end never came is not in progress for ever.
#[test]
fn a_call_silent_past_its_bound_shows_no_end_received() {
    let store = calls();
    let mut app = app();
    press(&mut app, &store, "3");
    let s = screen(&mut app, &store, 200, 50);
    assert!(row(&s, "5511900000004").contains("● ringing"), "{s}");
    assert!(row(&s, "5511900000004").contains("0:40…"), "{s}");
    for stale in ["5511900000001", "5511900000002"] {
        let r = row(&s, stale);
        assert!(r.contains("○ ") && r.contains("no end received"), "{r}");
        assert!(
            !r.contains('…') && !r.contains('●'),
            "no running duration: {r}"
        );
    }
    // In progress first: only the live one is above the ended call.
    let order: Vec<_> = s.lines().filter(|l| l.contains("55119000000")).collect();
    assert!(order[0].contains("5511900000004"), "{s}");
    snapshot!("calls_stale_200x50", s);
    snapshot!("calls_stale_80x24", screen(&mut app, &store, 80, 24));
}

/// Item 1: a live call goes stale as the clock moves, and leaves the live group.
#[test]
fn a_ringing_call_goes_stale_with_time() {
    let store = calls();
    let mut app = app();
    press(&mut app, &store, "3");
    let live = app.views.key_at(Pane::Calls, 0);
    app.now = at(NOW) + Duration::minutes(3);
    let s = screen(&mut app, &store, 200, 50);
    assert!(row(&s, "5511900000004").contains("no end received"), "{s}");
    assert!(!s.contains('●'), "{s}");
    assert_eq!(
        app.views.key_at(Pane::Calls, 1),
        live,
        "no longer in progress: below the newer missed call"
    );
}

/// Item 1: in `pilotwatch open` nothing is live, however recent.
#[test]
fn nothing_is_live_in_an_opened_file() {
    let store = calls();
    let mut app = app();
    app.info.read_only = true;
    press(&mut app, &store, "3");
    let s = screen(&mut app, &store, 200, 50);
    assert!(!s.contains('●') && !s.contains("0:40…"), "{s}");
    assert!(row(&s, "5511900000004").contains("no end received"), "{s}");
}

fn sent(id: &str, event: &str, to: &str, created: &str, extra: &str) -> (String, String) {
    let body = format!(
        r#"{{"event":"message.{event}","data":{{"to":"{to}","numberId":"cmm0abc123","messageId":"w{id}","id":"{id}","type":"text","fromMe":true,"content":"text {id}","createdAt":"{created}"{extra}}}}}"#
    );
    (created.to_owned(), body)
}

fn received(id: &str, from: &str, name: &str, created: &str) -> (String, String) {
    let body = format!(
        r#"{{"event":"message.received","data":{{"from":"{from}","to":"+5511999999999","numberId":"cmm0abc123","messageId":"w{id}","id":"{id}","type":"text","fromMe":false,"participantName":"{name}","content":"hello from {name}","createdAt":"{created}"}}}}"#
    );
    (created.to_owned(), body)
}

/// An accepted reply (202, `QUEUED`) recorded at `when`, with no webhook since.
fn queued_reply(seq: u64, when: &str) -> Record {
    use pilotwatch::api::{Accepted, SendBody, SendRequest};
    use pilotwatch::model::outbound::{Outbound, ReplyPhase};
    let outbound = Outbound {
        phase: ReplyPhase::Accepted,
        request: SendRequest {
            body: SendBody {
                text: "a reply still queued".into(),
                destination_number: Some("+5511977770000".into()),
                group_id: None,
            },
            number_id: Some("cmm0abc123".into()),
            idempotency_key: "pw-key".into(),
        },
        in_reply_to: None,
        attempt: 1,
        accepted: Some(Accepted::lenient(
            &serde_json::json!({"id": "msg_reply_q", "status": "QUEUED"}),
        )),
        error: None,
    };
    let mut r = record(seq, when, &serde_json::to_string(&outbound).unwrap());
    r.kind = RecordKind::Outbound;
    r
}

fn messages() -> Store {
    let number = r#"{"event":"number.connected","data":{"numberId":"cmm0abc123","phone":"+5511999999999","displayName":"Main store","createdAt":"2026-11-21T08:00:00.000Z"}}"#;
    let failed =
        r#","error":"Recipient is not on WhatsApp","errorCode":"RECIPIENT_NOT_ON_WHATSAPP""#;
    let bodies = [
        ("2026-11-21T08:00:00Z".to_owned(), number.to_owned()),
        sent(
            "stuck",
            "sent",
            "+5511977770001",
            "2026-11-21T11:50:00Z",
            "",
        ),
        sent(
            "fresh",
            "sent",
            "+5511977770002",
            "2026-11-21T12:03:00Z",
            "",
        ),
        sent(
            "gone",
            "failed",
            "+5511977770003",
            "2026-11-21T12:04:00Z",
            failed,
        ),
        received(
            "in1",
            "+5511977770004",
            "Maria Aparecida",
            "2026-11-21T12:04:10Z",
        ),
        received("in2", "+5511977770005", "João", "2026-11-21T12:04:20Z"),
    ];
    let bodies: Vec<(&str, String)> = bodies
        .iter()
        .map(|(a, b)| (a.as_str(), b.clone()))
        .collect();
    let mut store = store(&bodies);
    store.apply(queued_reply(100, "2026-11-21T11:40:00Z"));
    store
}

/// Item 1: an outbound message at `sent` or a reply at `queued` shows how long it has
/// waited there, flagged past 10 minutes.
#[test]
fn a_message_waiting_at_sent_or_queued_shows_its_age() {
    let store = messages();
    let s = screen(&mut app(), &store, 200, 50);
    assert!(row(&s, "text fresh").contains("✓ sent 2m"), "{s}");
    assert!(!row(&s, "text fresh").contains('⚠'), "{s}");
    assert!(row(&s, "text stuck").contains("✓ sent 15m ⚠"), "{s}");
    assert!(row(&s, "still queued").contains("… queued 25m ⚠"), "{s}");
}

/// Item 9: the failure code whole at 200 columns (the message column does not hoard the
/// width); at 80, names rather than one letter of them.
#[test]
fn message_columns_fit_what_they_hold() {
    let store = messages();
    let mut app = app();
    press(&mut app, &store, "1");
    let wide = screen(&mut app, &store, 200, 50);
    assert!(
        row(&wide, "text gone").contains("✗ RECIPIENT_NOT_ON_WHATSAPP"),
        "{wide}"
    );
    assert!(
        row(&wide, "Maria").contains("+5511977770004 Maria Aparecida"),
        "{wide}"
    );
    snapshot!("messages_200x50", wide);
    let narrow = screen(&mut app, &store, 80, 24);
    // The name, rather than a phone followed by its first letter.
    assert!(
        row(&narrow, "text gone").contains("+5511977770003"),
        "{narrow}"
    );
    assert!(
        row(&narrow, "Maria Apar").contains("hello from"),
        "{narrow}"
    );
    assert!(row(&narrow, "João").contains("hello from"), "{narrow}");
    assert!(
        row(&narrow, "text gone").contains("✗ RECIPIENT_NOT_ON_WHATSAPP"),
        "{narrow}"
    );
    snapshot!("messages_80x24", narrow);
}

fn numbers() -> Store {
    let number = |event: &str, id: &str, name: &str, phone: &str, at: &str, extra: &str| {
        let body = format!(
            r#"{{"event":"number.{event}","data":{{"numberId":"{id}","phone":"{phone}","displayName":"{name}","createdAt":"{at}"{extra}}}}}"#
        );
        (at.to_owned(), body)
    };
    let low = r#","error":"Quality rating dropped","errorCode":"QUALITY_LOW""#;
    let bodies = [
        number(
            "connected",
            "cmm0restored00000000000001",
            "Vendas",
            "+5511940001000",
            "2026-11-21T10:00:00Z",
            "",
        ),
        number(
            "restored",
            "cmm0restored00000000000001",
            "Vendas",
            "+5511940001000",
            "2026-11-21T11:00:00Z",
            "",
        ),
        number(
            "health_ok",
            "cmm0restored00000000000001",
            "Vendas",
            "+5511940001000",
            "2026-11-21T11:00:01Z",
            "",
        ),
        number(
            "connected",
            "cmm0degraded00000000000002",
            "Suporte",
            "+5511940002000",
            "2026-11-21T10:00:00Z",
            "",
        ),
        number(
            "health_degraded",
            "cmm0degraded00000000000002",
            "Suporte",
            "+5511940002000",
            "2026-11-21T11:30:00Z",
            low,
        ),
    ];
    let bodies: Vec<(&str, String)> = bodies
        .iter()
        .map(|(a, b)| (a.as_str(), b.clone()))
        .collect();
    store(&bodies)
}

/// Item 5: a restored number comes back disconnected: not "restored" beside a green "ok".
#[test]
fn a_restored_number_is_shown_disconnected() {
    let store = numbers();
    let mut app = app();
    press(&mut app, &store, "2");
    let s = screen(&mut app, &store, 200, 50);
    assert!(row(&s, "Vendas").contains("restored · disconnected"), "{s}");
    snapshot!("numbers_200x50", s);
}

/// Item 9: at 80 columns the health reason is whole (`degraded QUALITY_LOW`, not
/// `degraded Q`): the id and the phone give way first.
#[test]
fn number_columns_keep_the_state_and_health_reason() {
    let store = numbers();
    let mut app = app();
    press(&mut app, &store, "2");
    let s = screen(&mut app, &store, 80, 24);
    assert!(row(&s, "Suporte").contains("degraded QUALITY_LOW"), "{s}");
    assert!(row(&s, "Vendas").contains("restored · disconnected"), "{s}");
    snapshot!("numbers_80x24", s);
}

/// A name too wide with its `(profile name)` loses that part whole, and what is left
/// stays whole (`Loja Centro`, not `Loja Centr`): the health gives way before it.
#[test]
fn a_cut_number_name_loses_its_profile_part_not_a_letter() {
    let body = r#"{"event":"number.connected","data":{"numberId":"cmm0centro0000000000000001","phone":"+5511940001000","displayName":"Loja Centro","profileName":"Loja Centro Oficial de Vendas","createdAt":"2026-11-21T10:00:00Z","error":"Quality rating dropped","errorCode":"QUALITY_LOW"}}"#;
    let store = store(&[("2026-11-21T10:00:00Z", body.to_owned())]);
    let mut app = app();
    press(&mut app, &store, "2");
    let wide = screen(&mut app, &store, 200, 24);
    assert!(
        row(&wide, "Loja").contains("Loja Centro (Loja Centro Oficial"),
        "{wide}"
    );
    let narrow = screen(&mut app, &store, 50, 24);
    let line = row(&narrow, "Loja");
    assert!(line.starts_with("Loja Centro "), "{narrow}");
    assert!(!line.contains('('), "{narrow}");
}

/// Item 8: a Feed row built before its number's name was known shows the name once it is.
#[test]
fn feed_rows_name_the_number_once_it_is_known() {
    let (when, body) = received("early", "+5511977770009", "Ana", "2026-11-21T12:00:00Z");
    let mut store = Store::new(100);
    store.apply(record(1, &when, &body));
    let mut app = app();
    press(&mut app, &store, "4");
    let before = screen(&mut app, &store, 200, 20);
    assert!(
        row(&before, "message.received").contains("cmm0abc123 · "),
        "{before}"
    );
    let named = r#"{"event":"number.connected","data":{"numberId":"cmm0abc123","phone":"+5511999999999","displayName":"Main store","createdAt":"2026-11-21T12:01:00.000Z"}}"#;
    store.apply(record(2, "2026-11-21T12:01:00Z", named));
    let after = screen(&mut app, &store, 200, 20);
    let r = row(&after, "message.received");
    assert!(
        r.contains("Main store · +5511977770009 · hello from Ana"),
        "{after}"
    );
    assert!(!r.contains("cmm0abc123"), "{after}");
}

/// Item 11: the empty screen suggests a POST that a receiver checking signatures
/// accepts (`send` signs with the env secret), aimed at where this one listens.
#[test]
fn the_empty_screen_suggests_a_signed_send() {
    let mut app = app();
    let s = screen(&mut app, &Store::new(10), 100, 12);
    assert!(!s.contains("curl"), "{s}");
    assert!(s.contains("pilotwatch send message.received"), "{s}");
    app.info.listen = "127.0.0.1:4567".into();
    let s = screen(&mut app, &Store::new(10), 120, 12);
    assert!(s.contains("--url http://127.0.0.1:4567/"), "{s}");
}
