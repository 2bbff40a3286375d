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

/// A delivery as varied as real traffic makes them, for what compresses: the same
/// event mix as [`lifecycle_body`], but WhatsApp-style random message ids (~54
/// characters), random Pilot Status ids, 20 business numbers and 5,000 contacts, texts
/// of 3 to 30 words, and timestamps that move. Deterministic for a given `i`.
pub fn varied_body(i: u64) -> String {
    const WORDS: [&str; 48] = [
        "olá",
        "order",
        "your",
        "shipped",
        "tracking",
        "thanks",
        "please",
        "confirm",
        "the",
        "delivery",
        "address",
        "tomorrow",
        "payment",
        "received",
        "invoice",
        "hi",
        "can",
        "you",
        "help",
        "me",
        "with",
        "pedido",
        "obrigado",
        "entrega",
        "amanhã",
        "sim",
        "não",
        "status",
        "return",
        "refund",
        "size",
        "color",
        "available",
        "store",
        "open",
        "hours",
        "price",
        "discount",
        "code",
        "link",
        "photo",
        "ok",
        "great",
        "when",
        "where",
        "how",
        "much",
        "👍",
    ];
    // SplitMix64: a message's ids come from its own index, so its status events repeat them.
    let mix = |mut z: u64| {
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let chars = |seed: u64, n: usize, alphabet: &[u8]| -> String {
        (0..n as u64)
            .map(|k| alphabet[(mix(seed ^ (k << 40)) % alphabet.len() as u64) as usize] as char)
            .collect()
    };
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const B36: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let (event, msg) = match i % 4 {
        0 => ("message.received", i),
        1 => ("message.sent", i),
        2 => ("message.delivered", i - 1),
        _ => ("message.read", i - 2),
    };
    let seed = mix(msg);
    let wamid = format!("wamid.HBgM{}", chars(seed, 48, B64));
    let id = format!("cm{}", chars(seed ^ 1, 23, B36));
    let business = format!("+55119{:08}", seed % 20);
    let contact = format!("+55{:010}", 1_100_000_000 + mix(seed ^ 2) % 5_000);
    let (from, to) = if i.is_multiple_of(4) {
        (&contact, &business)
    } else {
        (&business, &contact)
    };
    let words = 3 + mix(seed ^ 3) % 28;
    let text: Vec<&str> = (0..words)
        .map(|k| WORDS[(mix(seed ^ (k + 7)) % WORDS.len() as u64) as usize])
        .collect();
    let ms = 1_772_000_000_000 + i * 350 + mix(i) % 300;
    let at = chrono::DateTime::from_timestamp_millis(ms as i64).unwrap();
    format!(
        r#"{{"event":"{event}","data":{{"from":"{from}","to":"{to}","numberId":"cmm0num{:04}","messageId":"{wamid}","id":"{id}","type":"text","fromMe":{},"content":"{} {}","createdAt":"{}"}}}}"#,
        seed % 20,
        !i.is_multiple_of(4),
        text.join(" "),
        mix(seed ^ 4) % 100_000,
        at.format("%Y-%m-%dT%H:%M:%S%.3fZ")
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
        alert_targets: None,
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
