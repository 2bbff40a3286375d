//! Reconciliation on the dashboard (issue 18), in ratatui's TestBackend over the corpus
//! plus `api` records as the reconciler journals them: the API's state beside the
//! webhooks' in the Fleet and the Numbers pane (a disagreement flagged past the grace
//! period, a number known from the API alone), webhook-missing messages (their row,
//! their detail, the header's count, `status:missing`, Attention), the Deliveries view
//! (`8`: the provider's attempts beside ours, `Enter` to the delivery) and a feature the
//! key leaves off, said in words.

mod common;

use common::tui::{app, at, press, record, screen, snapshot, store};
use pilotwatch::model::Verdict;
use pilotwatch::model::provider::{
    AccessState, ApiMessage, ApiNumber, ApiNumberStatus, ApiRecord, Attempt, Feature,
};
use pilotwatch::record::{Record, SignatureCheck};
use pilotwatch::store::Store;
use pilotwatch::tui::app::{App, Mode};
use pilotwatch::tui::view::Pane;

/// The corpus' number (its webhooks left it restored, disconnected).
const NUMBER: &str = "cmm0abc123";
/// A number only the API has named.
const API_ONLY: &str = "cmm0api999";
/// An outbound message whose `message.delivered` never came.
const MESSAGE: &str = "cmm0stuck0001";

/// Its webhooks: `sent`, and (late, in one test) `delivered`.
fn message(event: &str, created: &str) -> String {
    format!(
        r#"{{"event":"message.{event}","data":{{"to":"+5511977770001","from":"+5511999999999","numberId":"{NUMBER}","messageId":"wamid.STUCK1","id":"{MESSAGE}","type":"text","fromMe":true,"content":"Seu boleto vence amanhã","createdAt":"{created}"}}}}"#
    )
}

/// The api record after the store's newest, read at `when`; its seq.
fn api(store: &mut Store, when: &str, a: &ApiRecord) -> u64 {
    let mut r = Record::api(a);
    r.seq = store.last_seq() + 1;
    r.received_at = at(when);
    store.apply(r);
    store.last_seq()
}

fn status(id: &str, state: &str, checked: &str) -> ApiRecord {
    ApiRecord::NumberStatus(ApiNumberStatus {
        id: id.into(),
        state: state.into(),
        stale: false,
        checked_at: Some(at(checked)),
        last_known_at: None,
    })
}

fn attempt(id: &str, event: &str, at_: &str, code: u16, matched: Option<u64>) -> Attempt {
    Attempt {
        id: id.into(),
        event: event.into(),
        status: if code < 300 { "SUCCESS" } else { "FAILED" }.into(),
        status_code: Some(code),
        response: if code < 300 {
            "ok".into()
        } else {
            "invalid signature".into()
        },
        duration_ms: Some(if code < 300 { 45 } else { 1200 }),
        created_at: at(at_),
        identity: Some(format!("identity-{id}")),
        matched,
    }
}

/// Numbers listed (one of them only by the API), their status (the corpus' number
/// said connected by the API for four minutes, against its webhooks), a stuck message
/// the API says was delivered, one refusal of ours, and the provider's log: an attempt
/// we journaled, one we refused and one that never reached us.
fn reconciled() -> Store {
    let mut s = store(&[&message("sent", "2026-11-21T12:01:50Z")]);
    api(
        &mut s,
        "2026-11-21T12:00:30Z",
        &ApiRecord::Numbers {
            numbers: vec![
                ApiNumber {
                    id: NUMBER.into(),
                    number: Some("+5511999999999".into()),
                    name: Some("Main store".into()),
                    is_fully_connected: Some(true),
                    meta: false,
                    extra_charge_unpaid_since: None,
                },
                ApiNumber {
                    id: API_ONLY.into(),
                    number: Some("+5521900000009".into()),
                    name: Some("Loja Norte".into()),
                    is_fully_connected: Some(false),
                    meta: true,
                    extra_charge_unpaid_since: None,
                },
            ],
        },
    );
    api(
        &mut s,
        "2026-11-21T12:01:00Z",
        &status(NUMBER, "connected", "2026-11-21T12:01:00Z"),
    );
    api(
        &mut s,
        "2026-11-21T12:04:30Z",
        &status(API_ONLY, "disconnected", "2026-11-21T12:04:30Z"),
    );
    api(
        &mut s,
        "2026-11-21T12:04:00Z",
        &ApiRecord::Message(ApiMessage {
            id: MESSAGE.into(),
            status: "DELIVERED".into(),
            sent_at: None,
            delivered_at: Some(at("2026-11-21T12:02:11Z")),
            read_at: None,
            error_code: None,
            error_message: None,
        }),
    );
    // Our refusal: a delivery whose signature did not match.
    let seq = s.last_seq() + 1;
    let mut refused = record(seq, br#"{"event":"message.sent","data":{}}"#);
    refused.received_at = at("2026-11-21T12:04:20Z");
    refused.verdict = Verdict::Rejected;
    refused.signature = SignatureCheck::Invalid;
    refused.problems = vec!["signature does not match the body".into()].into();
    s.apply(refused);
    let journaled = s.messages().outbound(MESSAGE).unwrap().seqs[0];
    api(
        &mut s,
        "2026-11-21T12:04:45Z",
        &ApiRecord::Attempts {
            webhook: "wh_main".into(),
            attempts: vec![
                attempt(
                    "a1",
                    "message.sent",
                    "2026-11-21T12:04:10Z",
                    200,
                    Some(journaled),
                ),
                attempt("a2", "message.sent", "2026-11-21T12:04:20Z", 401, Some(seq)),
                attempt("a3", "message.delivered", "2026-11-21T12:04:30Z", 200, None),
            ],
        },
    );
    s
}

fn access(store: &mut Store, feature: Feature, state: AccessState, detail: &str) {
    api(
        store,
        "2026-11-21T12:04:50Z",
        &ApiRecord::Access {
            feature,
            state,
            detail: detail.into(),
        },
    );
}

#[test]
fn the_fleet_shows_the_apis_state_a_disagreement_and_a_number_known_only_from_it() {
    let store = reconciled();
    let s = screen(&mut app(), &store, 200, 40);
    // Past the grace period the disagreement is flagged on the row, with its age…
    // (the Fleet's `api` column says it without `api:` on every row)
    assert!(s.contains("≠ connected 4m"), "{s}");
    // …and said in Attention in words.
    assert!(
        s.contains("Main store: the API says connected for 4m, no number.connected arrived"),
        "{s}"
    );
    // Known from the API alone: by its name, with what the API says.
    assert!(s.contains("Loja Norte"), "{s}");
    assert!(s.contains("api only"), "{s}");
    assert!(s.contains(" disconnected 30s ago"), "{s}");
    snapshot!("fleet_200x40", s);
    // The Numbers pane says the same, with the phone.
    let mut app = app();
    press(&mut app, &store, "2");
    let s = screen(&mut app, &store, 140, 12);
    assert!(s.contains("+5521900000009"), "{s}");
    assert!(s.contains("≠ api: connected 4m"), "{s}");
    snapshot!("numbers_140x12", s);
}

#[test]
fn a_disagreement_within_the_grace_period_is_not_flagged() {
    let mut store = reconciled();
    // The API says disconnected now: the same as the webhooks, so no disagreement;
    // then connected again, 30 s before the dashboard's clock.
    api(
        &mut store,
        "2026-11-21T12:04:00Z",
        &status(NUMBER, "disconnected", "2026-11-21T12:04:00Z"),
    );
    api(
        &mut store,
        "2026-11-21T12:04:30Z",
        &status(NUMBER, "connected", "2026-11-21T12:04:30Z"),
    );
    let s = screen(&mut app(), &store, 140, 30);
    assert!(!s.contains('≠'), "{s}");
    assert!(s.contains(" connected 30s ago"), "{s}");
}

#[test]
fn a_webhook_missing_message_in_its_row_its_detail_and_the_header() {
    let store = reconciled();
    let mut app = app();
    press(&mut app, &store, "1");
    let s = screen(&mut app, &store, 120, 14);
    assert!(s.contains("✓✓ delivered (api) ⚠"), "{s}");
    assert!(s.contains("· 1 webhook missing"), "{s}");
    snapshot!("messages_missing_120x14", s);
    // Its detail says which step came from the API and that its webhook never came.
    let ord = store.messages().outbound_ord(MESSAGE).unwrap();
    let at = app.views.index_of(Pane::Messages, ord).unwrap();
    press(&mut app, &store, "g");
    for _ in 0..at {
        press(&mut app, &store, "j");
    }
    press(&mut app, &store, "\n");
    let Mode::Detail(d) = &app.mode else {
        panic!("no detail")
    };
    let text: String = d.lines.iter().map(|l| l.to_string() + "\n").collect();
    assert!(
        text.contains("⚠ delivered: from the API at") && text.contains("— webhook missing"),
        "{text}"
    );
    let s = screen(&mut app, &store, 120, 30);
    snapshot!("detail_missing_120x30", s);
}

#[test]
fn status_missing_filters_to_exactly_the_webhook_missing_rows() {
    let store = reconciled();
    let mut app = app();
    press(&mut app, &store, "1/status:missing\n");
    app.sync(&store);
    let ord = store.messages().outbound_ord(MESSAGE).unwrap();
    let keys: Vec<u64> = (0..app.views.len(Pane::Messages))
        .filter_map(|i| app.views.key_at(Pane::Messages, i))
        .collect();
    assert_eq!(keys, vec![ord]);
    assert_eq!(store.messages().missing(), 1);
    // Without the API's answer, nothing is missing and nothing matches.
    let plain = common::tui::store(&[]);
    let mut app = common::tui::app();
    press(&mut app, &plain, "1/status:missing\n");
    app.sync(&plain);
    assert_eq!(app.views.len(Pane::Messages), 0);
}

#[test]
fn a_late_webhook_clears_the_mark_in_the_row_already_drawn() {
    let mut store = reconciled();
    let mut app = app();
    press(&mut app, &store, "1");
    assert!(screen(&mut app, &store, 120, 14).contains("(api) ⚠"));
    // The webhook arrives after all.
    let seq = store.last_seq() + 1;
    let body = message("delivered", "2026-11-21T12:02:11Z");
    store.apply(record(seq, body.as_bytes()));
    assert_eq!(store.messages().missing(), 0);
    let s = screen(&mut app, &store, 120, 14);
    assert!(s.contains("✓✓ delivered"), "{s}");
    assert!(!s.contains("(api) ⚠"), "{s}");
    assert!(!s.contains("webhook missing"), "{s}");
}

#[test]
fn attention_lists_webhook_missing_messages_and_lost_deliveries() {
    let store = reconciled();
    let s = screen(&mut app(), &store, 200, 40);
    assert!(s.contains("⚠ 1 webhook missing · newest:"), "{s}");
    assert!(
        s.contains("✗ 1 delivery lost (the provider sent it,"),
        "{s}"
    );
}

#[test]
fn eight_shows_the_deliveries_view_at_two_sizes() {
    let store = reconciled();
    for (w, h) in [(80, 24), (200, 50)] {
        let mut app = app();
        press(&mut app, &store, "8");
        assert!(app.deliveries.shown);
        let s = screen(&mut app, &store, w, h);
        assert!(s.contains("LOST: never journaled"), "{s}");
        assert!(s.contains("FAILED 401"), "{s}");
        assert!(s.contains("rejected"), "{s}");
        assert!(s.contains("SUCCESS 200"), "{s}");
        assert!(s.contains("our refusals"), "{s}");
        assert!(s.contains("signature does not match the body"), "{s}");
        snapshot!(format!("deliveries_{w}x{h}"), s);
    }
}

#[test]
fn enter_on_a_matched_attempt_opens_its_delivery() {
    let store = reconciled();
    let journaled = store.messages().outbound(MESSAGE).unwrap().seqs[0];
    let mut app = app();
    // Newest first: the lost one, the refused one, then the one journaled.
    press(&mut app, &store, "8");
    press(&mut app, &store, "\n");
    assert!(
        app.deliveries.shown,
        "a lost attempt has no delivery to open"
    );
    assert!(
        app.notice.as_deref().unwrap_or("").contains("lost"),
        "{:?}",
        app.notice
    );
    press(&mut app, &store, "jj\n");
    assert!(!app.deliveries.shown);
    assert_eq!(app.pane, Pane::Feed);
    let Mode::Detail(d) = &app.mode else {
        panic!("no detail: {:?}", app.notice)
    };
    assert_eq!(d.title, format!("Delivery #{journaled}"));
    assert_eq!(
        app.views.key_at(Pane::Feed, app.list().selected),
        Some(journaled)
    );
    // Esc closes the detail back to the Deliveries view, on the same attempt.
    press(&mut app, &store, "\x1b");
    assert!(matches!(app.mode, Mode::Normal));
    assert!(app.deliveries.shown, "back where it was opened from");
    assert_eq!(app.deliveries.selected, 2);
    // Opened from there and left by another key, it is not gone back to.
    press(&mut app, &store, "\n1");
    assert!(!app.deliveries.shown && app.pane == Pane::Messages);
    press(&mut app, &store, "\x1b");
    assert!(!app.deliveries.shown);
}

#[test]
fn the_view_says_what_it_needs_when_the_log_is_empty_or_off() {
    let mut store = store(&[]);
    let mut app = app();
    press(&mut app, &store, "8");
    let s = screen(&mut app, &store, 120, 20);
    assert!(
        s.contains("needs an API key with access to webhook logs (PILOT_STATUS_API_KEY)"),
        "{s}"
    );
    assert!(s.contains("--api-poll"), "{s}");
    access(
        &mut store,
        Feature::Webhooks,
        AccessState::Unauthorized,
        "401 from GET /v1/webhooks",
    );
    let s = screen(&mut app, &store, 160, 20);
    assert!(
        s.contains(
            "webhooks off (the key was refused (401), polling paused: 401 from GET /v1/webhooks)"
        ),
        "{s}"
    );
}

#[test]
fn a_feature_the_key_leaves_off_is_said_once_in_the_header() {
    let mut store = reconciled();
    access(&mut store, Feature::Webhooks, AccessState::Ok, "");
    access(
        &mut store,
        Feature::Numbers,
        AccessState::OutOfScope,
        "a number-scoped key cannot list numbers",
    );
    access(
        &mut store,
        Feature::Messages,
        AccessState::OutOfScope,
        "a number-scoped key cannot list numbers",
    );
    let mut app = app();
    let s = screen(&mut app, &store, 260, 24);
    let line = "⚠ API numbers, messages off (outside the key's scope: a number-scoped key cannot list numbers)";
    // In the header, once, after what it says of the service (the key first)…
    let header = s.lines().next().unwrap();
    assert_eq!(header.matches(line).count(), 1, "{s}");
    assert!(header.find("key ps_…abcd") < header.find(line), "{s}");
    // …and in Attention, which a narrow terminal shows too.
    assert_eq!(s.matches(line).count(), 2, "{s}");
    // Still there a frame later: it does not come and go.
    assert_eq!(screen(&mut app, &store, 260, 24), s);
    let narrow = screen(&mut app, &store, 80, 24);
    assert!(narrow.contains("⚠ API numbers, messages off"), "{narrow}");
    snapshot!("access_80x24", narrow);
}

#[test]
fn views_are_built_once_per_change_of_the_providers_side() {
    let mut store = reconciled();
    let mut app: App = app();
    screen(&mut app, &store, 80, 24);
    let before = app.views.provider.attempts.clone();
    // A delivery that changes nothing on the provider's side leaves the lines alone.
    let seq = store.last_seq() + 1;
    store.apply(record(seq, br#"{"event":"lead.received","data":{}}"#));
    app.sync(&store);
    assert_eq!(app.views.provider.attempts, before);
    api(
        &mut store,
        "2026-11-21T12:04:59Z",
        &ApiRecord::Attempts {
            webhook: "wh_main".into(),
            attempts: vec![attempt(
                "a4",
                "message.read",
                "2026-11-21T12:04:58Z",
                200,
                None,
            )],
        },
    );
    app.sync(&store);
    assert_eq!(app.views.provider.attempts.len(), 4);
    assert_eq!(app.views.provider.lost, 2);
}

#[test]
fn a_number_seen_only_in_messages_is_down_when_the_api_says_so() {
    // Its webhooks said nothing of its state (only a message named it).
    let body = r#"{"event":"message.received","data":{"from":"+5511977770001","to":"+5511999999999","numberId":"cmm0quiet01","messageId":"wamid.Q1","id":"cmm0q0001","type":"text","fromMe":false,"content":"oi","createdAt":"2026-11-21T12:00:00Z"}}"#;
    for (state, down) in [
        ("connected", "0 numbers down"),
        ("disconnected", "1 number down"),
    ] {
        let mut store = Store::new(100);
        store.apply(record(1, body.as_bytes()));
        api(
            &mut store,
            "2026-11-21T12:04:00Z",
            &status("cmm0quiet01", state, "2026-11-21T12:04:00Z"),
        );
        let s = screen(&mut app(), &store, 80, 24);
        assert!(s.contains(down), "API {state}:\n{s}");
    }
}

/// The Deliveries view follows the newest attempt as the panes do; moving down stops
/// that (the selection stays on its attempt as more arrive), `g` follows again. An
/// attempt settled late is listed among those of its time, not on top.
#[test]
fn the_deliveries_view_follows_the_newest_until_moved() {
    let mut store = reconciled();
    let mut app = app();
    press(&mut app, &store, "8");
    assert!(app.follow);
    let newest = |app: &App| {
        app.views.provider.attempts[app.deliveries.selected]
            .id
            .clone()
    };
    assert_eq!(newest(&app), "a3");
    let more = |store: &mut Store, id: &str, made: &str| {
        api(
            store,
            "2026-11-21T12:05:30Z",
            &ApiRecord::Attempts {
                webhook: "wh_main".into(),
                attempts: vec![attempt(id, "message.read", made, 200, None)],
            },
        )
    };
    more(&mut store, "a4", "2026-11-21T12:05:00Z");
    app.sync(&store);
    assert_eq!(newest(&app), "a4", "following: on the newest");
    press(&mut app, &store, "j");
    assert!(!app.follow);
    assert_eq!(newest(&app), "a3");
    more(&mut store, "a5", "2026-11-21T12:05:10Z");
    // Settled late: made before all the others.
    more(&mut store, "a0", "2026-11-21T12:00:00Z");
    app.sync(&store);
    assert_eq!(newest(&app), "a3", "paused: kept on its attempt");
    let ids: Vec<&str> = (app.views.provider.attempts.iter())
        .map(|l| l.id.as_str())
        .collect();
    assert_eq!(ids, ["a5", "a4", "a3", "a2", "a1", "a0"]);
    press(&mut app, &store, "g");
    assert!(app.follow);
    assert_eq!(newest(&app), "a5");
}

/// The filter narrows the panes (1–4); on the Deliveries view it says it does not
/// apply there, and a pane it leaves empty says nothing matches.
#[test]
fn the_filter_says_where_it_does_not_apply_and_when_nothing_matches() {
    let store = reconciled();
    let mut app = app();
    press(&mut app, &store, "8/lost\n");
    let s = screen(&mut app, &store, 160, 20);
    let status = s.lines().last().unwrap_or_default();
    assert!(
        status.contains("filter: lost (not for Deliveries: it narrows 1–4)"),
        "{s}"
    );
    assert!(
        s.contains("a3") || s.contains("message.delivered"),
        "still lists it all:\n{s}"
    );
    press(&mut app, &store, "1");
    let s = screen(&mut app, &store, 160, 20);
    assert!(s.contains("nothing in Messages matches lost"), "{s}");
    assert!(s.contains("Esc clears the filter"), "{s}");
}
