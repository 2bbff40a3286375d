//! What several benchmarks share (each includes this file as `mod common`; not every
//! bench uses every item).
#![allow(dead_code)]

use std::time::Duration;

use pilotwatch::tui::app::Info;

/// A ~290-byte delivery: a quarter inbound, the rest the sent/delivered/read steps of
/// the outbound message before it.
pub fn lifecycle_body(i: u64) -> String {
    let (event, msg) = match i % 4 {
        0 => ("message.received", i),
        1 => ("message.sent", i),
        2 => ("message.delivered", i - 1),
        _ => ("message.read", i - 2),
    };
    format!(
        r#"{{"event":"{event}","data":{{"from":"+5511999999999","to":"+5511888888888","numberId":"cmm0abc123","messageId":"wamid.{msg:012}","id":"cmm04obm46zz0q{msg:010}","type":"text","fromMe":{},"content":"Olá! Your order {msg} has shipped.","createdAt":"2026-02-24T10:30:00.000Z"}}}}"#,
        !i.is_multiple_of(4)
    )
}

/// The dashboard's header facts for a live (not read-only) run.
pub fn info() -> Info {
    Info {
        listen: "127.0.0.1:3000".into(),
        journal: None,
        signatures_checked: true,
        started: chrono::Utc::now(),
        startup_note: None,
        api_key: None,
        forward_to: None,
        read_only: false,
    }
}

/// A service's settings for a benchmark: loopback, any port, a journal in `dir`,
/// nothing else on (each bench turns on what it measures).
pub fn settings(dir: &std::path::Path) -> pilotwatch::config::Settings {
    pilotwatch::config::Settings::for_tests(dir)
}

pub fn median(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

pub fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}
