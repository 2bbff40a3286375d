use super::json::repair_lone_surrogates;
use super::*;

fn problems(body: &str) -> (Verdict, Vec<String>) {
    let p = parse(body.as_bytes()).expect("JSON");
    (p.verdict, p.problems)
}

#[test]
fn not_json_is_an_error_with_a_reason() {
    let err = parse(b"{\"event\":").unwrap_err();
    assert!(err.0.starts_with("invalid JSON: "), "{err}");
    assert!(!err.0.contains('\n'));
}

#[test]
fn known_event_with_bad_data_is_broken() {
    assert_eq!(
        problems(r#"{"event":"message.sent","data":[]}"#),
        (Verdict::Broken, vec!["$.data: expected object".into()])
    );
    assert_eq!(
        problems(r#"{"event":3,"data":{}}"#),
        (Verdict::Broken, vec!["$.event: expected string".into()])
    );
}

#[test]
fn every_problem_is_reported_in_sdk_order() {
    let body = r#"{"event":"message.failed","data":{"numberId":1,"id":"m","type":"gif","fromMe":true,"createdAt":"x","to":"+1"}}"#;
    let (verdict, found) = problems(body);
    assert_eq!(verdict, Verdict::Broken);
    assert_eq!(
        found,
        vec![
            "$.data.numberId: expected string",
            "$.data.type: expected one of ['audio', 'contacts', 'document', 'image', 'location', 'reaction', 'sticker', 'text', 'video']",
            "$.data.error: expected string",
        ]
    );
}

#[test]
fn nullable_and_optional_follow_the_sdk() {
    // messageId may be null; content may be absent but not null.
    let ok = r#"{"event":"message.sent","data":{"numberId":"n","messageId":null,"id":"m","fromMe":true,"createdAt":"t","to":"+1"}}"#;
    assert_eq!(problems(ok), (Verdict::Known, vec![]));
    let bad = r#"{"event":"message.sent","data":{"numberId":"n","id":"m","fromMe":true,"createdAt":"t","to":"+1","content":null}}"#;
    assert_eq!(
        problems(bad),
        (
            Verdict::Broken,
            vec!["$.data.content: expected string".into()]
        )
    );
}

#[test]
fn call_duration_must_be_an_integer() {
    let call = |d: &str| {
        format!(
            r#"{{"event":"call.ended","callId":"c","direction":"INBOUND","status":"COMPLETED","from":"1","to":"2","timestamp":"t","duration":{d}}}"#
        )
    };
    assert_eq!(problems(&call("120")).0, Verdict::Known);
    assert_eq!(
        problems(&call("120.5")).1,
        vec!["$.duration: expected integer".to_owned()]
    );
    assert_eq!(
        problems(&call("null")).1,
        vec!["$.duration: expected integer".to_owned()]
    );
    // Python's bool is an int: the SDK accepts it, and so do we.
    assert_eq!(problems(&call("true")).0, Verdict::Known);
}

#[test]
fn documented_family_with_odd_shape_is_unknown_not_broken() {
    let (verdict, found) = problems(r#"{"event":"number.health_ok","data":{"numberId":5}}"#);
    assert_eq!(verdict, Verdict::Unknown);
    assert!(found.contains(&"$.data.numberId: expected string".to_owned()));
    assert_eq!(
        problems(r#"{"event":"calls","data":{}}"#).0,
        Verdict::Unknown
    );
}

#[test]
fn no_event_and_no_data_reports_both_like_the_sdk() {
    assert_eq!(
        problems("{}").1,
        vec!["$.event: expected string", "$.data: expected object"]
    );
}

#[test]
fn lone_surrogates_and_a_bom_are_read_not_rejected() {
    // JSON.stringify of a string cut inside an emoji.
    let body = r#"{"event":"conversation.x","data":{"t":"cut \ud83d","pair":"\ud83d\ude00","esc":"\\ud800"}}"#;
    assert_eq!(parse(body.as_bytes()).unwrap().verdict, Verdict::Unknown);
    let mut with_bom = b"\xef\xbb\xbf".to_vec();
    with_bom.extend_from_slice(br#"{"event":"conversation.x"}"#);
    assert_eq!(parse(&with_bom).unwrap().verdict, Verdict::Unknown);
    assert_eq!(
        repair_lone_surrogates(br#""a\udc00b\\ud800""#).unwrap(),
        br#""a\ufffdb\\ud800""#.to_vec()
    );
    assert!(repair_lone_surrogates(br#""\ud83d\ude00""#).is_none());
}

#[test]
fn meta_style_calls_envelope_is_read() {
    let body = r#"{"event":"calls","entry":[{"changes":[{"value":{"calls":[{"id":"wacid.1","event":"terminate"}]}}]}]}"#;
    let p = parse(body.as_bytes()).unwrap();
    let Some(Event::Calls(calls)) = p.event else {
        panic!("{p:?}")
    };
    assert_eq!(calls.calls[0].id.as_deref(), Some("wacid.1"));
}
