//! Parse time per body: the fast path (straight into the typed event) against the
//! `Value` path (decode into `serde_json::Value`, then classify), measured in the same
//! run on the same bodies, best of several rounds each.
//!
//! `cargo bench --bench parse` (bodies per round: `PILOTWATCH_BENCH_N`, default 100,000)

use std::hint::black_box;
use std::time::{Duration, Instant};

use pilotwatch::model::parse::{parse, parse_fast, parse_value};

#[path = "support/common.rs"]
mod common;
use common::lifecycle_body;

const ROUNDS: usize = 7;

/// Best time of `ROUNDS` over all `bodies`, per body, for each path, rounds interleaved
/// so a noisy moment hits both.
fn time(bodies: &[Vec<u8>]) -> [f64; 3] {
    let mut best = [Duration::MAX; 3];
    for _ in 0..ROUNDS {
        let t = Instant::now();
        for b in bodies {
            black_box(parse_value(black_box(b)).ok());
        }
        best[0] = best[0].min(t.elapsed());
        let t = Instant::now();
        for b in bodies {
            black_box(parse_fast(black_box(b)));
        }
        best[1] = best[1].min(t.elapsed());
        let t = Instant::now();
        for b in bodies {
            black_box(parse(black_box(b)).ok());
        }
        best[2] = best[2].min(t.elapsed());
    }
    best.map(|d| d.as_nanos() as f64 / bodies.len() as f64)
}

fn row(label: &str, bodies: &[Vec<u8>]) {
    let [value, fast, both] = time(bodies);
    println!(
        "  {label:<28} {value:>7.0} ns {fast:>7.0} ns {both:>7.0} ns   {:>5.1}× {:>5.1}×",
        value / fast,
        value / both
    );
}

fn main() {
    let n: usize = std::env::var("PILOTWATCH_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared = dir.join("../shared/corpus");
    let corpus = if shared.join("verdicts.json").exists() {
        shared
    } else {
        dir.join("tests/corpus")
    };
    let mut files: Vec<_> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter(|p| !p.ends_with("verdicts.json"))
        .collect();
    files.sort();

    println!("parse ns/body, best of {ROUNDS} rounds of {n} bodies");
    println!(
        "  {:<28} {:>10} {:>10} {:>10}   {:>6} {:>6}",
        "bodies", "Value path", "fast path", "parse", "V/fast", "V/parse"
    );
    let lifecycle: Vec<Vec<u8>> = (0..n as u64).map(|i| lifecycle_body(i).into()).collect();
    assert!(lifecycle.iter().all(|b| parse_fast(b).is_some()));
    row("replay mix (message.*)", &lifecycle);
    for file in files {
        let body = std::fs::read(&file).unwrap();
        // Compact, as the provider sends it (the corpus files are pretty-printed).
        let compact = serde_json::from_slice::<serde_json::Value>(&body)
            .map(|v| v.to_string().into_bytes())
            .unwrap_or(body);
        let name = file.file_name().unwrap().to_string_lossy();
        let taken = if parse_fast(&compact).is_some() {
            ""
        } else {
            " (slow)"
        };
        let bodies = vec![compact; n / 10];
        row(
            &format!("{}{taken}", name.trim_end_matches(".json")),
            &bodies,
        );
    }
}
