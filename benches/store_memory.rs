//! Heap bytes per stored delivery: pilotwatch's store (records + correlation + indexes)
//! against a baseline of one `serde_json::Value` per delivery, measured in the same run
//! with a counting allocator (exact, unaffected by a noisy machine).
//!
//! `cargo bench --bench store_memory` (N deliveries: `PILOTWATCH_BENCH_N`, default 200000)

use std::alloc::System;

use bytes::Bytes;
use pilotwatch::model::parse;
use pilotwatch::record::{Record, SignatureCheck};
use pilotwatch::store::Store;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// A ~290-byte delivery; a quarter inbound, the rest an outbound lifecycle step.
fn body(i: usize) -> String {
    let (event, from_me, msg) = match i % 4 {
        0 => ("message.received", false, i),
        1 => ("message.sent", true, i),
        2 => ("message.delivered", true, i - 1),
        _ => ("message.read", true, i - 2),
    };
    format!(
        r#"{{"event":"{event}","data":{{"from":"+5511999999999","to":"+5511888888888","numberId":"cmm0abc123","messageId":"wamid.{msg:012}","id":"cmm04obm46zz0q{msg:010}","type":"text","fromMe":{from_me},"content":"Olá! Your order {msg} has shipped.","createdAt":"2026-02-24T10:30:00.000Z"}}}}"#
    )
}

fn live(region: &Region<System>) -> isize {
    let s = region.change();
    s.bytes_allocated as isize - s.bytes_deallocated as isize + s.bytes_reallocated
}

fn main() {
    let n: usize = std::env::var("PILOTWATCH_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let bodies: Vec<String> = (0..n).map(body).collect();
    let raw: usize = bodies.iter().map(String::len).sum();

    let region = Region::new(GLOBAL);
    let values: Vec<serde_json::Value> = bodies
        .iter()
        .map(|b| serde_json::from_str(b).unwrap())
        .collect();
    let value_bytes = live(&region);
    drop(values);

    let region = Region::new(GLOBAL);
    let mut store = Store::new(n);
    for (i, b) in bodies.iter().enumerate() {
        let p = parse(b.as_bytes()).unwrap();
        store.apply(Record {
            seq: i as u64 + 1,
            kind: Default::default(),
            received_at: chrono::Utc::now(),
            path: "/hooks".into(),
            remote: Some("127.0.0.1:40000".parse().unwrap()),
            signature: SignatureCheck::Valid,
            verdict: p.verdict,
            event: p.name,
            duplicate_of: None,
            problems: p.problems,
            body_len: b.len() as u64,
            content_type: None,
            signature_header: None,
            body: Bytes::copy_from_slice(b.as_bytes()),
            typed: p.event,

            subject: Default::default(),
        });
    }
    let store_bytes = live(&region);
    assert_eq!(store.feed().len(), n);

    let per = |b: isize| b as f64 / n as f64;
    println!("deliveries:                 {n}");
    println!(
        "raw body:                   {:>7.0} B/delivery",
        raw as f64 / n as f64
    );
    println!(
        "baseline serde_json::Value: {:>7.0} B/delivery",
        per(value_bytes)
    );
    println!(
        "pilotwatch store:           {:>7.0} B/delivery (records, message rows, indexes)",
        per(store_bytes)
    );
    println!(
        "ratio store / Value:        {:>7.2}x",
        store_bytes as f64 / value_bytes as f64
    );
    println!(
        "ratio store / raw bytes:    {:>7.2}x (issue 6 target: <= 2x in RSS)",
        store_bytes as f64 / raw as f64
    );
}
