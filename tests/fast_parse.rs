//! The fast parse path against the `Value` path it must never contradict: on every corpus
//! file, on the mutations `scripts/sdk_diff.py` makes of them, and on byte-level damage
//! (escapes, duplicate keys, big numbers, lone surrogates, truncation). It may leave a
//! body to the `Value` path (`None`), but it must take the well-formed ones.

mod common;

use pilotwatch::model::Verdict;
use pilotwatch::model::parse::{parse, parse_fast, parse_value};
use serde_json::{Value, json};

/// Fast and `Value` paths agree on `body`; true when the fast path answered.
fn agrees(body: &[u8]) -> bool {
    let slow = parse_value(body);
    assert_eq!(
        parse(body),
        slow,
        "parse: {}",
        String::from_utf8_lossy(body)
    );
    match parse_fast(body) {
        None => false,
        Some(fast) => {
            assert_eq!(Ok(fast), slow, "fast: {}", String::from_utf8_lossy(body));
            true
        }
    }
}

fn corpus_values() -> Vec<(String, String, Value)> {
    common::corpus()
        .into_iter()
        .filter_map(|(file, sdk, body)| Some((file, sdk, serde_json::from_slice(&body).ok()?)))
        .collect()
}

#[test]
fn the_fast_path_takes_every_well_formed_corpus_file_and_agrees() {
    let mut taken = 0;
    for (file, sdk, body) in common::corpus() {
        let hit = agrees(&body);
        let slow = parse_value(&body).unwrap();
        // Every typed or merely unknown file is one the fast path must take.
        if slow.verdict != Verdict::Broken {
            assert!(
                hit,
                "{file} ({sdk}, {:?}) left to the Value path",
                slow.verdict
            );
            taken += 1;
        }
    }
    assert!(taken >= 24, "only {taken} corpus files taken");
}

/// Every path of a JSON value (object keys and array indexes).
fn paths(v: &Value, at: Vec<Value>, out: &mut Vec<Vec<Value>>) {
    let children: Vec<(Value, &Value)> = match v {
        Value::Object(m) => m.iter().map(|(k, v)| (json!(k), v)).collect(),
        Value::Array(a) => a.iter().enumerate().map(|(i, v)| (json!(i), v)).collect(),
        _ => return,
    };
    for (key, child) in children {
        let mut p = at.clone();
        p.push(key);
        out.push(p.clone());
        paths(child, p, out);
    }
}

/// `v` with the value at `path` replaced (or removed when `with` is `None`).
fn edit(v: &Value, path: &[Value], with: Option<Value>) -> Value {
    let mut out = v.clone();
    let mut at = &mut out;
    for key in &path[..path.len() - 1] {
        at = match key {
            Value::String(k) => &mut at[k.as_str()],
            _ => &mut at[key.as_u64().unwrap() as usize],
        };
    }
    match (at, path.last().unwrap(), with) {
        (Value::Object(m), Value::String(k), None) => {
            m.remove(k);
        }
        (Value::Object(m), Value::String(k), Some(w)) => {
            m.insert(k.clone(), w);
        }
        (Value::Array(a), i, None) => {
            a.remove(i.as_u64().unwrap() as usize);
        }
        (Value::Array(a), i, Some(w)) => a[i.as_u64().unwrap() as usize] = w,
        _ => unreachable!(),
    }
    out
}

/// The mutations `scripts/sdk_diff.py` makes, as JSON text.
fn sdk_diff_mutations() -> Vec<String> {
    let odd = [
        json!(null),
        json!(1),
        json!(1.5),
        json!(true),
        json!(false),
        json!("s"),
        json!(""),
        json!([]),
        json!({}),
        json!(["a"]),
        json!([1]),
        json!({"a": 1}),
        json!(-1),
    ];
    let base = corpus_values();
    let mut names: Vec<String> = base
        .iter()
        .filter_map(|(_, _, b)| Some(b.get("event")?.as_str()?.to_owned()))
        .collect();
    names.extend(
        [
            "number.health_ok",
            "phone_line.x",
            "calls",
            "message.other",
            "Message.sent",
        ]
        .map(str::to_owned),
    );
    let mut out = Vec::new();
    for (_, _, b) in &base {
        out.push(b.to_string());
        let mut all = Vec::new();
        paths(b, vec![], &mut all);
        for p in &all {
            out.push(edit(b, p, None).to_string());
            out.extend(odd.iter().map(|v| edit(b, p, Some(v.clone())).to_string()));
            // An integer beyond 64 bits, written where the value was.
            for big in [
                "1000000000000000000000000000000",
                "-18446744073709551617",
                "1e400",
            ] {
                let marked = edit(b, p, Some(json!("\u{1}BIG"))).to_string();
                out.push(marked.replace("\"\\u0001BIG\"", big));
            }
        }
        if b.is_object() {
            for n in &names {
                out.push(edit(b, &[json!("event")], Some(json!(n))).to_string());
            }
            for k in [
                "type",
                "content",
                "from",
                "participantName",
                "quotedMessageId",
                "errorCode",
                "profileName",
                "externalCallId",
                "duration",
                "isOrganic",
                "fields",
                "groupName",
            ] {
                for v in [json!(null), json!(1), json!("x"), json!(true), json!(2.0)] {
                    out.push(edit(b, &[json!(k)], Some(v.clone())).to_string());
                    if b.get("data").is_some_and(Value::is_object) {
                        out.push(edit(b, &[json!("data"), json!(k)], Some(v)).to_string());
                    }
                }
            }
        }
    }
    out
}

#[test]
fn the_fast_path_never_contradicts_the_value_path_on_sdk_diff_mutations() {
    let bodies = sdk_diff_mutations();
    assert!(bodies.len() > 5_000, "{}", bodies.len());
    let taken = bodies.iter().filter(|b| agrees(b.as_bytes())).count();
    // Most mutations are still well-formed events; the fast path is not dead.
    eprintln!(
        "sdk_diff mutations: fast path took {taken} of {}",
        bodies.len()
    );
    assert!(
        taken * 3 > bodies.len(),
        "{taken} of {} taken",
        bodies.len()
    );
}

/// Damage a well-formed body byte-wise, in ways that trip a reader that skips fields
/// without reading them as `Value` does.
fn damaged(body: &str, rng: &mut fastrand::Rng) -> Vec<u8> {
    let mut b = body.as_bytes().to_vec();
    let at = |rng: &mut fastrand::Rng, b: &[u8]| rng.usize(0..=b.len());
    let inside = |rng: &mut fastrand::Rng, b: &[u8], byte: u8| {
        let spots: Vec<usize> = (0..b.len()).filter(|&i| b[i] == byte).collect();
        (!spots.is_empty()).then(|| spots[rng.usize(0..spots.len())])
    };
    match rng.u8(0..14) {
        0 => b.truncate(at(rng, &b)),
        1 => {
            let i = rng.usize(0..b.len());
            b[i] = rng.u8(..);
        }
        2 => b.insert(at(rng, &b), rng.u8(..)),
        // A second key, before the one it repeats or after.
        3 => {
            if let Some(i) = inside(rng, &b, b'{') {
                let dup = [
                    &br#""event":"message.sent","#[..],
                    br#""data":{},"#,
                    br#""id":"x","#,
                    br#""to":"+1","#,
                    br#""fromMe":true,"#,
                    br#""x":1,"x":2,"#,
                ];
                let d = dup[rng.usize(0..dup.len())];
                b.splice(i + 1..i + 1, d.iter().copied());
            }
        }
        // Escapes: a character written as \u, or a lone / paired surrogate.
        4..=6 => {
            if let Some(i) = inside(rng, &b, b'"') {
                let esc = [
                    &br"\u0065"[..],
                    br"\ud83d",
                    br"\udc00",
                    br"\ud83d\ude00",
                    br"\n",
                    br"\\",
                    br"\ud83dx",
                ];
                let e = esc[rng.usize(0..esc.len())];
                b.splice(i + 1..i + 1, e.iter().copied());
            }
        }
        // A value that no 64-bit number or f64 holds, or just an unusual number.
        7 => {
            if let Some(i) = inside(rng, &b, b'{') {
                let nums = [
                    &b"1e400"[..],
                    b"-1e400",
                    b"123456789012345678901234567890",
                    b"-0",
                    b"1E2",
                    b"0.1e-400",
                    b"01",
                    b"1.",
                ];
                let mut v = br#""zz":"#.to_vec();
                v.extend_from_slice(nums[rng.usize(0..nums.len())]);
                v.push(b',');
                b.splice(i + 1..i + 1, v);
            }
        }
        // Keys the fast path matches, written with escapes.
        8 => {
            let text = String::from_utf8_lossy(&b)
                .replacen(r#""event""#, r#""\u0065vent""#, 1)
                .replace(r#""data""#, r#""d\u0061ta""#)
                .replace(r#""id""#, r#""\u0069d""#);
            b = text.into_bytes();
        }
        9 => {
            b.splice(0..0, *b"\xef\xbb\xbf");
        }
        10 => b.extend_from_slice(if rng.bool() { b" \n" } else { b" x" }),
        // Deep nesting, where a field is.
        11 => {
            if let Some(i) = inside(rng, &b, b'{') {
                let depth = rng.usize(100..300);
                let mut v = br#""deep":"#.to_vec();
                v.extend(std::iter::repeat_n(b'[', depth));
                v.extend(std::iter::repeat_n(b']', depth));
                v.push(b',');
                b.splice(i + 1..i + 1, v);
            }
        }
        12 => {
            // Invalid UTF-8 inside a string.
            if let Some(i) = inside(rng, &b, b'"') {
                b.insert(i + 1, 0xff);
            }
        }
        _ => {
            // A control character inside a string.
            if let Some(i) = inside(rng, &b, b'"') {
                b.insert(i + 1, rng.u8(0..0x20));
            }
        }
    }
    b
}

#[test]
fn the_fast_path_never_contradicts_the_value_path_on_damaged_bytes() {
    let bodies: Vec<String> = corpus_values()
        .iter()
        .map(|(_, _, v)| v.to_string())
        .chain(
            common::corpus()
                .into_iter()
                .map(|(_, _, b)| String::from_utf8(b).unwrap()),
        )
        .collect();
    let mut rng = fastrand::Rng::with_seed(0x9a75e);
    let (mut taken, n) = (0, 6_000);
    for i in 0..n {
        let body = damaged(&bodies[i % bodies.len()], &mut rng);
        // Twice damaged now and then.
        let body = if i % 5 == 0 {
            damaged(&String::from_utf8_lossy(&body), &mut rng)
        } else {
            body
        };
        taken += usize::from(agrees(&body));
    }
    eprintln!("damaged bodies: fast path took {taken} of {n}");
    assert!(taken > n / 10, "{taken} of {n} taken");
}
