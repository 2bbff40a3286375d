//! Reading a body as JSON as tolerantly as the provider's other consumers do: a
//! byte-order mark and lone surrogates are read, not refused.

use serde::Deserialize;
use serde_json::Value;

use super::NotJson;

/// Nesting read at most: far beyond serde_json's default 128 and Python's ~1000 (its
/// recursion limit), far below what a [`DEEP_STACK`] holds.
pub(super) const MAX_DEPTH: usize = 10_000;
/// The stack a deeply nested body is read on (only its used pages are ever touched).
pub(super) const DEEP_STACK: usize = 64 << 20;

#[derive(Debug)]
pub(super) enum Error {
    NotJson(NotJson),
    /// Nested deeper than the default limit: read it with [`decode_deep`].
    Deep,
}

/// The body as JSON. Only a body that is not JSON at all is an error.
pub(super) fn decode(body: &[u8]) -> Result<Value, Error> {
    // A UTF-8 byte-order mark is tolerated, as Python's json.loads does.
    let json = body.strip_prefix(b"\xef\xbb\xbf").unwrap_or(body);
    match serde_json::from_slice(json) {
        Ok(v) => Ok(v),
        Err(e) if e.to_string().starts_with("recursion limit exceeded") => Err(Error::Deep),
        // JavaScript's JSON.stringify writes a lone surrogate (`"\ud83d"`) when a string
        // was cut inside an emoji; serde_json refuses it, Python accepts it. Read it with
        // U+FFFD in its place (the journal keeps the body as it came).
        Err(e) => repair_lone_surrogates(json)
            .and_then(|fixed| serde_json::from_slice(&fixed).ok())
            .ok_or_else(|| Error::NotJson(NotJson(format!("invalid JSON: {e}")))),
    }
}

/// [`decode`] without the recursion limit, for a body [`depth`] says is within
/// [`MAX_DEPTH`]. Call it on a stack of [`DEEP_STACK`].
pub(super) fn decode_deep(body: &[u8]) -> Result<Value, NotJson> {
    let json = body.strip_prefix(b"\xef\xbb\xbf").unwrap_or(body);
    let levels = depth(json);
    if levels > MAX_DEPTH {
        return Err(NotJson(format!(
            "invalid JSON: nested {levels} levels deep (more than {MAX_DEPTH} are not read)"
        )));
    }
    let read = |bytes: &[u8]| {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        de.disable_recursion_limit();
        Value::deserialize(&mut de).and_then(|v| de.end().map(|()| v))
    };
    match read(json) {
        Ok(v) => Ok(v),
        Err(e) => repair_lone_surrogates(json)
            .and_then(|fixed| read(&fixed).ok())
            .ok_or_else(|| NotJson(format!("invalid JSON: {e}"))),
    }
}

/// A byte-by-byte scan's place relative to JSON strings.
#[derive(Default)]
struct Strings {
    inside: bool,
    escaped: bool,
}

impl Strings {
    /// Whether `b` belongs to a string (its quotes included), moving past it.
    fn skips(&mut self, b: u8) -> bool {
        if self.inside {
            match (self.escaped, b) {
                (true, _) => self.escaped = false,
                (false, b'\\') => self.escaped = true,
                (false, b'"') => self.inside = false,
                _ => {}
            }
            return true;
        }
        self.inside = b == b'"';
        self.inside
    }
}

/// The deepest nesting of arrays and objects, strings skipped.
pub(super) fn depth(json: &[u8]) -> usize {
    let (mut now, mut max, mut strings) = (0usize, 0usize, Strings::default());
    for &b in json {
        if strings.skips(b) {
            continue;
        }
        match b {
            b'[' | b'{' => {
                now += 1;
                max = max.max(now);
            }
            b']' | b'}' => now = now.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// The body with every integer literal beyond 64 bits (outside strings) written as the
/// largest (or smallest) one that fits; `None` when it has none.
pub(super) fn clamp_big_integers(json: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(json.len());
    let (mut i, mut changed, mut strings) = (0, false, Strings::default());
    while i < json.len() {
        let b = json[i];
        if strings.skips(b) {
            out.push(b);
            i += 1;
            continue;
        }
        if b == b'-' || b.is_ascii_digit() {
            let end = json[i..]
                .iter()
                .position(|c| {
                    !(c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E'))
                })
                .map_or(json.len(), |n| i + n);
            let token = &json[i..end];
            let integer = token.iter().skip(1).all(u8::is_ascii_digit);
            let text = std::str::from_utf8(token).unwrap_or("");
            let fits = text.parse::<i64>().is_ok() || text.parse::<u64>().is_ok();
            if integer && !fits && token.len() > 1 {
                let clamped: &[u8] = if b == b'-' {
                    b"-9223372036854775808"
                } else {
                    b"18446744073709551615"
                };
                out.extend_from_slice(clamped);
                changed = true;
            } else {
                out.extend_from_slice(token);
            }
            i = end;
            continue;
        }
        out.push(b);
        i += 1;
    }
    changed.then_some(out)
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
