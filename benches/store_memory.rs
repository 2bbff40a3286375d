//! Heap bytes per stored delivery: pilotwatch's store (records + correlation + indexes)
//! against a baseline of one `serde_json::Value` per delivery, measured in the same run
//! with a counting allocator (exact, unaffected by a noisy machine).
//!
//! The RSS the process grew by while storing is printed too (the target is
//! stated in RSS; it includes the allocator's own overhead).
//!
//! Two mixes, each measured in a process of its own (freed memory stays resident, so one
//! would hide the next): the repetitive lifecycle bodies the other benches use, and
//! bodies as varied as real traffic (random message ids, thousands of contacts, texts
//! of any length), which compress far less: bodies are packed in LZ4 blocks.
//!
//! `cargo bench --bench store_memory` (N deliveries: `PILOTWATCH_BENCH_N`, default 1,000,000)

use std::alloc::System;

use pilotwatch::record::{Record, SignatureCheck, intern};
use pilotwatch::store::Store;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[path = "support/common.rs"]
mod common;
use common::{lifecycle_body, varied_body};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Live heap bytes since `region` began. stats_alloc already adds a realloc's growth to
/// `bytes_allocated` (and a shrink to `bytes_deallocated`); `bytes_reallocated` repeats
/// it, so adding that too (as this bench did until 2026-11-29) counted every growth of
/// a vector twice.
fn live(region: &Region<System>) -> isize {
    let s = region.change();
    s.bytes_allocated as isize - s.bytes_deallocated as isize
}

/// Resident set size, bytes (what the target is stated in).
fn rss() -> isize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<isize>().ok())
        .map_or(0, |kb| kb * 1024)
}

const MIX: &str = "PILOTWATCH_BENCH_MIX";

fn main() {
    let Ok(mix) = std::env::var(MIX) else {
        for mix in ["lifecycle", "varied"] {
            let out = std::process::Command::new(std::env::current_exe().unwrap())
                .env(MIX, mix)
                .output()
                .expect("the bench runs itself for each mix");
            println!("== {mix} bodies ==");
            print!("{}", String::from_utf8_lossy(&out.stdout));
            eprint!("{}", String::from_utf8_lossy(&out.stderr));
            assert!(out.status.success(), "the {mix} run failed");
        }
        return;
    };
    let body = if mix == "varied" {
        varied_body
    } else {
        lifecycle_body
    };
    let n: usize = std::env::var("PILOTWATCH_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let bodies: Vec<String> = (0..n as u64).map(body).collect();
    let raw: usize = bodies.iter().map(String::len).sum();

    let rss_before = rss();
    let region = Region::new(GLOBAL);
    let mut store = Store::new(n);
    for (i, b) in bodies.iter().enumerate() {
        let mut r = Record::delivery(i as u64 + 1, b.as_bytes());
        // What the receiver records for a signed delivery.
        (r.path, r.remote, r.signature) = (
            intern("/hooks"),
            Some("127.0.0.1:40000".parse().unwrap()),
            SignatureCheck::Valid,
        );
        r.content_type = Some(intern("application/json"));
        r.signature_header = Some(format!("{:064x}", i * 7919).into());
        store.apply(r);
    }
    let store_bytes = live(&region);
    let rss_store = rss() - rss_before;
    // The baseline after (freed memory stays resident and would hide the store's).
    let region = Region::new(GLOBAL);
    let values: Vec<serde_json::Value> = bodies
        .iter()
        .map(|b| serde_json::from_str(b).unwrap())
        .collect();
    let value_bytes = live(&region);
    drop(values);
    assert_eq!(store.feed().len(), n);

    let per = |b: isize| b as f64 / n as f64;
    println!("deliveries:                 {n}");
    println!(
        "inline sizes:               Record {} B, its typed event {} B, a message row {} B",
        std::mem::size_of::<Record>(),
        std::mem::size_of::<Option<pilotwatch::model::event::Event>>(),
        std::mem::size_of::<pilotwatch::store::MessageRow>()
    );
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
        "ratio store / raw bytes:    {:>7.2}x heap",
        store_bytes as f64 / raw as f64
    );
    let ratio = rss_store as f64 / raw as f64;
    println!(
        "RSS growth while storing:   {:>7.0} B/delivery = {ratio:.2}x raw (target <= 2x: {})",
        per(rss_store),
        if ratio <= 2.0 { "met" } else { "MISSED" }
    );
}
