//! Reading a body as JSON as tolerantly as the provider's other consumers do: a
//! byte-order mark and lone surrogates are read, not refused.

use serde_json::Value;

use super::NotJson;

/// The body as JSON. Only a body that is not JSON at all is an error.
pub(super) fn decode(body: &[u8]) -> Result<Value, NotJson> {
    // A UTF-8 byte-order mark is tolerated, as Python's json.loads does.
    let json = body.strip_prefix(b"\xef\xbb\xbf").unwrap_or(body);
    match serde_json::from_slice(json) {
        Ok(v) => Ok(v),
        // JavaScript's JSON.stringify writes a lone surrogate (`"\ud83d"`) when a string
        // was cut inside an emoji; serde_json refuses it, Python accepts it. Read it with
        // U+FFFD in its place (the journal keeps the body as it came).
        Err(e) => repair_lone_surrogates(json)
            .and_then(|fixed| serde_json::from_slice(&fixed).ok())
            .ok_or_else(|| NotJson(format!("invalid JSON: {e}"))),
    }
}

/// Replace `\uD800`–`\uDFFF` escapes that are not part of a valid pair by `\uFFFD`.
/// `None` when there is nothing to repair.
pub(super) fn repair_lone_surrogates(json: &[u8]) -> Option<Vec<u8>> {
    let hex4 = |at: usize| -> Option<u16> {
        let s = std::str::from_utf8(json.get(at..at + 4)?).ok()?;
        u16::from_str_radix(s, 16).ok()
    };
    let escape_at = |at: usize| json.get(at) == Some(&b'\\') && json.get(at + 1) == Some(&b'u');
    let mut out = Vec::with_capacity(json.len());
    let (mut i, mut changed) = (0, false);
    while i < json.len() {
        if json[i] != b'\\' {
            out.push(json[i]);
            i += 1;
            continue;
        }
        if json.get(i + 1) != Some(&b'u') {
            // Any other escape, `\\` included: copy both bytes so `\\u` is not misread.
            out.extend_from_slice(&json[i..(i + 2).min(json.len())]);
            i += 2;
            continue;
        }
        match hex4(i + 2) {
            Some(0xD800..=0xDBFF)
                if escape_at(i + 6) && matches!(hex4(i + 8), Some(0xDC00..=0xDFFF)) =>
            {
                out.extend_from_slice(&json[i..i + 12]);
                i += 12;
            }
            Some(0xD800..=0xDFFF) => {
                out.extend_from_slice(b"\\ufffd");
                changed = true;
                i += 6;
            }
            _ => {
                out.extend_from_slice(&json[i..(i + 6).min(json.len())]);
                i += 6;
            }
        }
    }
    changed.then_some(out)
}
