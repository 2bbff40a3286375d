//! Property tests for the parser, the sanitiser and the journal line (the fuzz target
//! in `fuzz/` runs the same path unguided, for longer). `PROPTEST_CASES` raises the
//! number of cases.

use pilotwatch::journal::line;
use pilotwatch::model::{self, Verdict, event::Event};
use pilotwatch::record::Record;
use pilotwatch::sanitize;
use proptest::prelude::*;
use serde_json::{Value, json};

/// Any JSON value, nested a few levels.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        ".*".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::hash_map(".{0,12}", inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn event_name() -> impl Strategy<Value = String> {
    prop_oneof![
        7 => prop::sample::select(model::EVENT_NAMES).prop_map(str::to_owned),
        // No such event, but it looks like one.
        1 => Just("call.incoming".to_owned()),
        1 => "[a-z.]{1,20}",
        1 => ".*",
    ]
}

proptest! {
    #[test]
    fn sanitised_text_holds_no_control_or_invisible_character(s in ".*", max in 1usize..200) {
        let shown = sanitize::line(&s, max);
        for c in shown.chars() {
            prop_assert!(!c.is_control(), "{c:?} in {shown:?}");
            prop_assert!(!matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}' | '\u{feff}'), "{c:?} in {shown:?}");
        }
        // At most `max` source characters are shown, then an ellipsis.
        if s.chars().count() <= max {
            prop_assert!(!shown.ends_with('…') || s.ends_with('…'));
        }
    }

    #[test]
    fn any_bytes_parse_without_panicking(body in prop::collection::vec(any::<u8>(), 0..512)) {
        match model::parse(&body) {
            Ok(p) => prop_assert!(p.verdict != Verdict::Rejected),
            Err(e) => prop_assert!(!e.0.is_empty()),
        }
    }

    #[test]
    fn any_json_under_any_event_gets_a_verdict(name in event_name(), data in any_json()) {
        let body = json!({"event": name, "data": data}).to_string();
        let p = model::parse(body.as_bytes()).expect("JSON always parses");
        // Only a known verdict carries a typed event; broken says why.
        prop_assert_eq!(p.event.is_some(), p.verdict == Verdict::Known);
        if p.verdict == Verdict::Broken {
            prop_assert!(!p.problems.is_empty());
        }
        prop_assert_eq!(p.name.as_ref().map(|n| n.as_str()), Some(name.as_str()));
    }

    #[test]
    fn a_valid_message_keeps_any_text_exactly(content in ".*", from in ".{1,40}") {
        let body = json!({"event": "message.received", "data": {
            "from": from, "to": "+5511888888888", "numberId": "n1", "messageId": "w1",
            "id": "m1", "type": "text", "fromMe": false, "content": content,
            "createdAt": "2026-02-24T10:30:00.000Z"}}).to_string();
        let p = model::parse(body.as_bytes()).unwrap();
        prop_assert_eq!(p.verdict, Verdict::Known);
        match p.event {
            Some(Event::Message(m)) => {
                prop_assert_eq!(m.content.as_deref(), Some(content.as_str()));
                prop_assert_eq!(m.from.as_deref(), Some(from.as_str()));
            }
            other => prop_assert!(false, "{other:?}"),
        }
    }

    #[test]
    fn a_journal_line_round_trips_any_body(body in prop::collection::vec(any::<u8>(), 0..600)) {
        let record = Record::delivery(7, &body);
        let mut out = Vec::new();
        line::encode(&record, &mut out);
        prop_assert!(out.ends_with(b"\n"));
        prop_assert!(!out[..out.len() - 1].contains(&b'\n'), "one line per record");
        prop_assert!(!out.contains(&0x1b), "no raw ESC in the journal");
        let back = line::decode(&out[..out.len() - 1]).unwrap();
        prop_assert_eq!(&back.body.bytes()[..], &body[..]);
        prop_assert_eq!(back.verdict, record.verdict);
        prop_assert_eq!(back.seq, 7);
    }
}
