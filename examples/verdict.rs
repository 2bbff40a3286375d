//! Read NUL-separated delivery bodies on stdin, print one JSON verdict per body:
//! `{"verdict": "known|unknown|broken|notjson", "problems": [...]}`.
//! Used by `scripts/sdk-diff` to compare the parser with the official SDK.

use std::io::{Read, Write};

fn main() -> std::io::Result<()> {
    let mut all = Vec::new();
    std::io::stdin().read_to_end(&mut all)?;
    let mut out = std::io::stdout().lock();
    for body in all.split(|b| *b == 0).filter(|b| !b.is_empty()) {
        let v = match pilotwatch::model::parse(body) {
            Ok(p) => serde_json::json!({"verdict": p.verdict.as_str(), "problems": p.problems}),
            Err(e) => serde_json::json!({"verdict": "notjson", "problems": [e.0]}),
        };
        writeln!(out, "{v}")?;
    }
    Ok(())
}
