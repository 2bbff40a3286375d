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

/// Python's json reads ~1000 levels (its recursion limit), serde_json 128 by default:
/// the SDK's verdict up to where it reads, a clear refusal far beyond, and the stack
/// never at risk (these run on a test thread's 2 MiB stack).
#[test]
fn deep_nesting_gets_the_sdks_verdict_and_never_risks_the_stack() {
    let nested = |levels: usize, event: &str| {
        format!(
            r#"{{"event":"{event}","data":{{"x":{}1{}}}}}"#,
            "[".repeat(levels),
            "]".repeat(levels)
        )
    };
    for levels in [200, 900, 5_000] {
        let p = parse(nested(levels, "some.thing").as_bytes()).expect("read");
        assert_eq!(p.verdict, Verdict::Unknown, "{levels}");
    }
    // A known event with a deep field it does not look at is still known.
    let deep_known = format!(
        r#"{{"event":"call.ended","callId":"c","direction":"INBOUND","status":"COMPLETED","from":"1","to":"2","timestamp":"t","duration":1,"extra":{}0{}}}"#,
        "[".repeat(1_000),
        "]".repeat(1_000)
    );
    assert_eq!(problems(&deep_known).0, Verdict::Known);
    let err = parse(nested(50_000, "some.thing").as_bytes()).unwrap_err();
    assert!(err.0.contains("nested 50002 levels deep"), "{err}");
    // Brackets inside strings are not nesting.
    assert_eq!(super::json::depth(br#"{"a":"[[[[{{{\"]]"}"#), 1);
}

/// An integer beyond 64 bits is an `int` to Python: an integer field takes it.
#[test]
fn integers_beyond_64_bits_are_integers_as_the_sdk_says() {
    let call = |d: &str| {
        format!(
            r#"{{"event":"call.ended","callId":"c","direction":"INBOUND","status":"COMPLETED","from":"1","to":"2","timestamp":"t","duration":{d},"note":"1000000000000000000000000000000"}}"#
        )
    };
    assert_eq!(
        problems(&call("1000000000000000000000000000000")).0,
        Verdict::Known
    );
    assert_eq!(
        problems(&call("-1000000000000000000000000000000")).0,
        Verdict::Known
    );
    assert_eq!(problems(&call("18446744073709551615")).0, Verdict::Known);
    // Written as a float it is a float, however large.
    assert_eq!(
        problems(&call("1e30")).1,
        vec!["$.duration: expected integer".to_owned()]
    );
    assert_eq!(
        problems(&call("1000000000000000000000000000000.0")).1,
        vec!["$.duration: expected integer".to_owned()]
    );
    assert_eq!(
        super::json::clamp_big_integers(br#"{"a":"99999999999999999999999","b":[1,-2]}"#),
        None
    );
}
