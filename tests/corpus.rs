//! The parser against the official SDK's verdict on every corpus file.

mod common;

use pilotwatch::model::{Verdict, parse};

#[test]
fn every_corpus_file_gets_the_sdk_verdict() {
    for (file, sdk, body) in common::corpus() {
        let parsed = parse(&body).unwrap_or_else(|e| panic!("{file}: rejected as not JSON: {e}"));
        match sdk.as_str() {
            "known" => {
                assert_eq!(
                    parsed.verdict,
                    Verdict::Known,
                    "{file}: {:?}",
                    parsed.problems
                );
                assert!(
                    parsed.event.is_some(),
                    "{file}: known without a typed event"
                );
                assert!(parsed.problems.is_empty(), "{file}: {:?}", parsed.problems);
            }
            "broken" => {
                assert_eq!(parsed.verdict, Verdict::Broken, "{file}");
                assert!(
                    !parsed.problems.is_empty(),
                    "{file}: broken without problems"
                );
                for p in &parsed.problems {
                    assert!(
                        p.starts_with('$') && p.contains(": "),
                        "{file}: problem without a path: {p}"
                    );
                }
            }
            // The SDK does not know these; documented families may be typed, but none
            // is ever called broken.
            "unknown" => assert!(
                matches!(parsed.verdict, Verdict::Known | Verdict::Unknown),
                "{file}: {:?} {:?}",
                parsed.verdict,
                parsed.problems
            ),
            other => panic!("{file}: unexpected SDK verdict {other}"),
        }
        let name = parsed.name.as_ref().map(|n| n.as_str().to_owned());
        if let Some(expected) = file
            .strip_suffix(".json")
            .filter(|f| !f.starts_with("broken") && !f.starts_with("unknown"))
        {
            let expected = expected.trim_end_matches(".image");
            assert_eq!(name.as_deref(), Some(expected), "{file}: event name");
        }
    }
}

#[test]
fn broken_files_name_the_paths_at_fault() {
    let expected = [
        (
            "broken.call_duration_string.json",
            "$.duration: expected integer",
        ),
        (
            "broken.fromMe_string.json",
            "$.data.fromMe: expected boolean",
        ),
        ("broken.no_event.json", "$.event: expected string"),
        ("broken.not_json_object.json", "$: expected object"),
        ("broken.sent_without_to.json", "$.data.to: expected string"),
    ];
    let corpus = common::corpus();
    for (file, problem) in expected {
        let body = &corpus.iter().find(|(f, ..)| f == file).expect(file).2;
        let parsed = parse(body).expect("JSON");
        assert_eq!(parsed.problems, vec![problem.to_owned()], "{file}");
    }
}

#[test]
fn documented_families_beyond_the_sdk_are_typed() {
    let corpus = common::corpus();
    for file in [
        "number.health_degraded.json",
        "calls.json",
        "phone_line.code_received.json",
    ] {
        let body = &corpus.iter().find(|(f, ..)| f == file).expect(file).2;
        assert_eq!(parse(body).unwrap().verdict, Verdict::Known, "{file}");
    }
    let body = &corpus
        .iter()
        .find(|(f, ..)| f == "unknown.future_event.json")
        .unwrap()
        .2;
    let parsed = parse(body).unwrap();
    assert_eq!(parsed.verdict, Verdict::Unknown);
    assert_eq!(parsed.name.unwrap().as_str(), "conversation.assigned");
}
