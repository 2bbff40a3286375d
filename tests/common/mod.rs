//! Helpers shared by the integration tests.
#![allow(dead_code)] // each test binary uses its own subset

use std::path::PathBuf;

/// `../shared/corpus` when the shared folder sits beside the repo (as in CI), else the
/// copy vendored in `tests/corpus`.
pub fn corpus_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("PILOTWATCH_CORPUS") {
        return dir.into();
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let shared = root.join("../shared/corpus");
    if shared.join("verdicts.json").exists() { shared } else { root.join("tests/corpus") }
}

/// Every corpus file with the official SDK's verdict on it, sorted by name.
pub fn corpus() -> Vec<(String, String, Vec<u8>)> {
    let dir = corpus_dir();
    let verdicts: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&std::fs::read(dir.join("verdicts.json")).expect("verdicts.json")).expect("verdicts.json is JSON");
    let mut out: Vec<_> = verdicts
        .into_iter()
        .map(|(file, v)| {
            let body = std::fs::read(dir.join(&file)).unwrap_or_else(|e| panic!("{file}: {e}"));
            (file, v.as_str().expect("verdict is a string").to_owned(), body)
        })
        .collect();
    out.sort();
    assert!(out.len() >= 29, "corpus looks incomplete: {} files", out.len());
    out
}
