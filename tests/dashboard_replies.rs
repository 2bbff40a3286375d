//! Replies from the dashboard (in ratatui's TestBackend, over the corpus): the
//! composer and the request it sends, drafts kept per conversation, what a reply's row
//! says as it goes, retries with the same key, and replays to the app.

mod common;

use common::tui::{app, key, press, record, screen, select_row, snapshot, store};
use crossterm::event::{KeyCode, KeyModifiers};
use pilotwatch::record::Record;
use pilotwatch::tui::app::Effect;

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
    use pilotwatch::model::outbound::{InReplyTo, Outbound, ReplyPhase};
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
        phase: ReplyPhase::Failed,
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
    phase: pilotwatch::model::outbound::ReplyPhase,
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
    use pilotwatch::model::outbound::ReplyPhase;
    let mut store = store(&[]);
    // A `sending` record with no outcome: pilotwatch stopped mid-request.
    store.apply(outbound_record(500, ReplyPhase::Sending, None, None));
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
    use pilotwatch::model::outbound::ReplyPhase;
    let mut store = store(&[]);
    let accepted = Accepted::lenient(&serde_json::json!({"id": "msg_reply_1", "status": "QUEUED"}));
    store.apply(outbound_record(
        500,
        ReplyPhase::Accepted,
        None,
        Some(accepted),
    ));
    let mut app = app();
    press(&mut app, &store, "1");
    let s = screen(&mut app, &store, 140, 20);
    assert!(s.contains("↪ answered") && s.contains("… queued"), "{s}");
    let failed = r#"{"event":"message.failed","data":{"to":"+5511999999999","numberId":"cmm0abc123","messageId":null,"id":"msg_reply_1","type":"text","fromMe":true,"content":"resposta","error":"nope","errorCode":"DELIVER_NOT_CONFIRMED","createdAt":"2026-11-21T12:01:00Z"}}"#;
    store.apply(record(501, failed.as_bytes()));
    let s = screen(&mut app, &store, 140, 20);
    assert!(s.contains("↪ ✗ DELIVER_NOT_CONFIRMED"), "{s}");
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

/// "sending…" and "replaying…" give way to the outcome once it is on record (item 6).
#[test]
fn a_progress_message_is_replaced_by_its_outcome() {
    use pilotwatch::model::outbound::ReplyPhase;
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
    let mut sent = outbound_record(900, ReplyPhase::Sending, None, None);
    let failed_error = pilotwatch::api::ApiError::Status {
        status: 401,
        error: Some("invalid key".into()),
        code: None,
        retry_after: None,
    };
    let mut failed = outbound_record(901, ReplyPhase::Failed, Some(failed_error), None);
    for r in [&mut sent, &mut failed] {
        let mut o: pilotwatch::model::outbound::Outbound =
            serde_json::from_slice(&r.body.get()).unwrap();
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
