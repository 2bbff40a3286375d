//! The REST client against a fake Pilot Status API that really listens on loopback:
//! the request exactly, every error path in words, timeouts, refused connections.

use std::time::Duration;

use pilotwatch::api::{ApiClient, ApiError, SendBody, SendRequest};
use pilotwatch::demo::fake_api::{Answer, FakeApi};
use pilotwatch::secret::Secret;
use serde_json::json;

const KEY: &str = "ps_live_canary_0123456789abcdef";

fn client(base: &str, timeout: Duration) -> ApiClient {
    ApiClient::new(base, Secret::new(KEY), timeout).unwrap()
}

fn request(key: &str) -> SendRequest {
    SendRequest {
        body: SendBody {
            text: "Olá, recebido!\nAté já".into(),
            destination_number: Some("+5511999999999".into()),
            group_id: None,
        },
        number_id: Some("cmm0abc123".into()),
        idempotency_key: key.into(),
    }
}

#[tokio::test]
async fn the_request_is_exactly_what_the_provider_expects() {
    let fake = FakeApi::start().await.unwrap();
    let api = client(&fake.base_url(), Duration::from_secs(5));
    let accepted = api.send(&request("pw-key-1")).await.unwrap();
    assert_eq!(accepted.id, "msg_fake_0001");
    assert_eq!(accepted.status.as_deref(), Some("QUEUED"));
    assert!(!accepted.replayed);
    let seen = fake.seen();
    assert_eq!(seen.len(), 1);
    let r = &seen[0];
    assert_eq!(
        (r.method.as_str(), r.path.as_str()),
        ("POST", "/v1/messages/send")
    );
    assert_eq!(r.header("x-api-key"), Some(KEY));
    assert_eq!(r.header("x-whatsapp-number-id"), Some("cmm0abc123"));
    assert_eq!(r.header("idempotency-key"), Some("pw-key-1"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.json(),
        json!({"text": "Olá, recebido!\nAté já", "destinationNumber": "+5511999999999"})
    );

    // A group reply carries groupId instead.
    let mut group = request("pw-key-2");
    group.body.destination_number = None;
    group.body.group_id = Some("120363000000000001@g.us".into());
    api.send(&group).await.unwrap();
    assert_eq!(
        fake.seen()[1].json(),
        json!({"text": "Olá, recebido!\nAté já", "groupId": "120363000000000001@g.us"})
    );
}

#[tokio::test]
async fn the_same_key_and_body_is_replayed_not_sent_twice() {
    let fake = FakeApi::start().await.unwrap();
    let api = client(&fake.base_url(), Duration::from_secs(5));
    let first = api.send(&request("pw-same")).await.unwrap();
    let again = api.send(&request("pw-same")).await.unwrap();
    assert_eq!(again.id, first.id);
    assert!(again.replayed);
    // Same key, other body: the provider refuses.
    let mut other = request("pw-same");
    other.body.text = "something else".into();
    let err = api.send(&other).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("idempotency key was used for a different message"),
        "{err}"
    );
}

#[tokio::test]
async fn every_error_is_said_in_words_with_the_status_and_code() {
    let fake = FakeApi::start().await.unwrap();
    let api = client(&fake.base_url(), Duration::from_secs(5));
    let cases: Vec<(Answer, &str)> = vec![
        (
            Answer::Status(
                400,
                json!({"error": "destinationNumber must be E.164", "code": "VALIDATION_ERROR"}),
                None,
            ),
            "refused the message as invalid (HTTP 400 VALIDATION_ERROR): destinationNumber must be E.164",
        ),
        (
            Answer::Status(401, json!({"error": "Invalid API key"}), None),
            "the API key was refused (check PILOT_STATUS_API_KEY) (HTTP 401): Invalid API key",
        ),
        (
            Answer::Status(
                403,
                json!({"error": "Forbidden", "code": "FORBIDDEN"}),
                None,
            ),
            "may not send from that number (HTTP 403 FORBIDDEN)",
        ),
        (
            Answer::Status(404, json!({"error": "Number not found"}), None),
            "not found (the number or the endpoint) (HTTP 404)",
        ),
        (
            Answer::Status(
                409,
                json!({"error": "in use", "code": "IDEMPOTENCY_KEY_IN_USE"}),
                None,
            ),
            "still running; retry shortly (HTTP 409 IDEMPOTENCY_KEY_IN_USE)",
        ),
        (
            Answer::Status(
                409,
                json!({"error": "blocked", "code": "NUMBER_BLOCKED"}),
                None,
            ),
            "the number is blocked (HTTP 409 NUMBER_BLOCKED)",
        ),
        (
            Answer::Status(
                429,
                json!({"error": "Too many requests"}),
                Some("30".into()),
            ),
            "rate limited (HTTP 429): Too many requests; retry after 30s",
        ),
        (
            Answer::Status(503, json!({"error": "upstream down"}), None),
            "the provider failed (HTTP 503): upstream down",
        ),
        (
            Answer::Status(500, json!("not an object"), None),
            "the provider failed (HTTP 500)",
        ),
    ];
    for (i, (answer, expected)) in cases.into_iter().enumerate() {
        fake.answer(answer);
        let err = api
            .send(&request(&format!("pw-err-{i}")))
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(expected),
            "{text:?} should contain {expected:?}"
        );
        assert!(
            !text.contains(KEY) && !format!("{err:?}").contains(KEY),
            "the key leaked: {text}"
        );
    }
}

#[tokio::test]
async fn hostile_error_text_is_sanitised() {
    let fake = FakeApi::start().await.unwrap();
    let api = client(&fake.base_url(), Duration::from_secs(5));
    fake.answer(Answer::Status(
        400,
        json!({"error": "bad\u{1b}]0;PWNED\u{7}\u{202e}"}),
        None,
    ));
    let text = api
        .send(&request("pw-hostile"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        !text.chars().any(|c| c.is_control() || c == '\u{202e}'),
        "{text:?}"
    );
    assert!(text.contains("bad^[]0;PWNED^G"), "{text}");
}

#[tokio::test]
async fn a_slow_provider_times_out_and_a_closed_port_is_unreachable() {
    let fake = FakeApi::start().await.unwrap();
    fake.answer(Answer::Slow(
        Duration::from_secs(3),
        Box::new(Answer::Accept),
    ));
    let api = client(&fake.base_url(), Duration::from_millis(300));
    let err = api.send(&request("pw-slow")).await.unwrap_err();
    assert!(matches!(err, ApiError::Timeout { .. }), "{err:?}");
    assert!(err.is_retryable());
    assert!(err.to_string().contains("timed out"), "{err}");

    // A port nobody listens on.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let api = client(&format!("http://{closed}"), Duration::from_secs(2));
    let err = api.send(&request("pw-closed")).await.unwrap_err();
    assert!(matches!(err, ApiError::Connect { .. }), "{err:?}");
    assert!(err.to_string().starts_with("cannot reach the API"), "{err}");
    assert!(!err.to_string().contains(KEY));
}

#[tokio::test]
async fn an_odd_202_is_still_accepted_and_a_quoted_key_is_redacted() {
    let fake = FakeApi::start().await.unwrap();
    let api = client(&fake.base_url(), Duration::from_secs(5));
    for (i, body) in [
        json!({"id": 12345, "status": "QUEUED"}),
        json!({"status": "SENT"}),
        json!("not an object"),
    ]
    .into_iter()
    .enumerate()
    {
        fake.answer(Answer::Status(202, body, None));
        let a = api
            .send(&request(&format!("pw-odd-{i}")))
            .await
            .expect("any 2xx is accepted");
        if i == 0 {
            assert_eq!(a.id, "12345");
        }
    }
    fake.answer(Answer::Status(
        401,
        json!({"error": format!("invalid key {KEY}")}),
        None,
    ));
    let err = api.send(&request("pw-quoted")).await.unwrap_err();
    assert!(
        !err.to_string().contains(KEY) && !format!("{err:?}").contains(KEY),
        "{err}"
    );
    assert!(err.to_string().contains("invalid key ps_"), "{err}");
    fake.answer(Answer::Status(
        503,
        json!({"error": "down"}),
        Some("Wed, 21 Oct 2026 07:28:00 GMT".into()),
    ));
    let err = api.send(&request("pw-date")).await.unwrap_err().to_string();
    assert!(
        err.ends_with("retry after Wed, 21 Oct 2026 07:28:00 GMT"),
        "{err}"
    );
}
