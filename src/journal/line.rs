//! The journal's line format: one JSON object per line, ending in a CRC-32C of the line's
//! own bytes so that a flipped byte in the middle of the file is detected, not replayed.
//!
//! ```text
//! {"seq":7,"duplicateOf":null,"kind":"delivery","receivedAt":"…","path":"/",
//!  "remote":"127.0.0.1:5123","signature":"valid","verdict":"known",
//!  "event":"message.sent","problems":[],"size":281,"raw":"{\"event\":…}",
//!  "crc32c":"1a2b3c4d"}
//! ```
//! `raw` is the exact body when it is UTF-8, otherwise `rawBase64` holds it.

use std::net::SocketAddr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{EventName, Verdict};
use crate::record::{Record, RecordKind, SignatureCheck};

const CRC_KEY: &[u8] = b",\"crc32c\":\"";
/// `,"crc32c":"` + 8 hex digits + `"}`.
const CRC_SUFFIX_LEN: usize = CRC_KEY.len() + 8 + 2;

/// A line without `seq` and `duplicateOf`, the two fields only the sequencer knows.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LineTail<'a> {
    kind: &'static str,
    received_at: String,
    path: &'a str,
    remote: Option<String>,
    signature: SignatureCheck,
    verdict: Verdict,
    event: Option<&'a str>,
    problems: &'a [String],
    size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    signature_header: Option<std::borrow::Cow<'a, str>>,
    /// A delivery's dedupe identity (hex), so readers of the journal (the NATS outbox)
    /// need not parse the body again to know it. Derived: replay re-derives it.
    #[serde(skip_serializing_if = "Option::is_none")]
    identity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    raw: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    raw_base64: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LineIn {
    seq: u64,
    #[serde(default)]
    kind: Option<String>,
    received_at: DateTime<Utc>,
    path: String,
    remote: Option<String>,
    signature: SignatureCheck,
    verdict: Verdict,
    event: Option<String>,
    duplicate_of: Option<u64>,
    #[serde(default)]
    problems: Vec<String>,
    size: Option<u64>,
    #[serde(default)]
    content_type: Option<String>,
    #[serde(default)]
    signature_header: Option<String>,
    raw: Option<String>,
    raw_base64: Option<String>,
}

/// Append the record's line (with its trailing newline) to `out`.
pub fn encode(record: &Record, out: &mut Vec<u8>) {
    finish(record.seq, record.duplicate_of, &encode_tail(record), out);
}

/// Everything in a record's line but `seq` and `duplicateOf`: the costly part (the body
/// escaped as a JSON string), done by the task that submits the delivery, in parallel,
/// so the sequencer only prepends two numbers and a checksum (see [`finish`]).
pub fn encode_tail(record: &Record) -> Vec<u8> {
    encode_tail_with(record, None)
}

/// [`encode_tail`] of a delivery whose dedupe identity is known.
pub fn encode_tail_with(
    record: &Record,
    identity: Option<crate::model::identity::Identity>,
) -> Vec<u8> {
    // Read in place: a packed body (an attach catch-up) is not copied out first.
    record
        .body
        .with(|body| encode_tail_of(record, body, identity))
}

fn encode_tail_of(
    record: &Record,
    body: &[u8],
    identity: Option<crate::model::identity::Identity>,
) -> Vec<u8> {
    let (raw, raw_base64) = match std::str::from_utf8(body) {
        Ok(s) => (Some(s), None),
        Err(_) => (None, Some(BASE64.encode(body))),
    };
    let line = LineTail {
        kind: record.kind.as_str(),
        received_at: record
            .received_at
            .to_rfc3339_opts(SecondsFormat::Micros, true),
        path: &record.path,
        remote: record.remote.map(|r| r.to_string()),
        signature: record.signature,
        verdict: record.verdict,
        event: record.event.as_ref().map(EventName::as_str),
        problems: &record.problems,
        size: record.body_len,
        content_type: record.content_type.as_deref(),
        signature_header: record.signature_header.as_ref().map(|h| h.text()),
        identity: identity.map(|i| format!("{:032x}", i.0)),
        raw,
        raw_base64,
    };
    // Room for the escaped body (a JSON body escapes a quote every few bytes) and the
    // other fields (~450 bytes with a signature header and an identity): growing the
    // buffer part-way through copies it all again.
    let mut out = Vec::with_capacity(body.len() + body.len() / 4 + 512);
    serde_json::to_writer(&mut out, &line).expect("serialising to a Vec cannot fail");
    escape_terminal_controls(&mut out, 0);
    out
}

/// Append the whole line: `{"seq":…,"duplicateOf":…,` + the tail's fields + checksum.
pub fn finish(seq: u64, duplicate_of: Option<u64>, tail: &[u8], out: &mut Vec<u8>) {
    use std::io::Write as _;
    let start = out.len();
    let _ = match duplicate_of {
        Some(d) => write!(out, "{{\"seq\":{seq},\"duplicateOf\":{d},"),
        None => write!(out, "{{\"seq\":{seq},\"duplicateOf\":null,"),
    };
    // The tail is a JSON object: its fields without the braces.
    out.extend_from_slice(&tail[1..tail.len() - 1]);
    let crc = crc32c::crc32c(&out[start..]);
    out.extend_from_slice(CRC_KEY);
    let _ = writeln!(out, "{crc:08x}\"}}");
}

/// serde_json escapes C0 controls but leaves DEL and the C1 controls (U+0080–U+009F,
/// U+009B being a one-byte CSI) raw. Escape them too, so `cat`ing a journal or piping
/// `--json` output to a terminal cannot drive it. The JSON means the same.
fn escape_terminal_controls(out: &mut Vec<u8>, start: usize) {
    // Every line passes here: find the two lead bytes with memchr (vectorised), not a
    // window at a time.
    let risky = |i: usize| out[i] == 0x7f || matches!(out.get(i + 1), Some(0x80..=0x9f));
    if !memchr::memchr2_iter(0x7f, 0xc2, &out[start..]).any(|i| risky(start + i)) {
        return;
    }
    let tail = out.split_off(start);
    let mut i = 0;
    while i < tail.len() {
        match (tail[i], tail.get(i + 1)) {
            (0x7f, _) => out.extend_from_slice(b"\\u007f"),
            (0xc2, Some(b @ 0x80..=0x9f)) => {
                out.extend_from_slice(format!("\\u{b:04x}").as_bytes());
                i += 1;
            }
            (b, _) => out.push(b),
        }
        i += 1;
    }
}

/// Why a line could not be read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineError {
    Checksum,
    Json(String),
    Content(String),
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Checksum => f.write_str("checksum mismatch"),
            Self::Json(e) => write!(f, "not a journal line: {e}"),
            Self::Content(e) => write!(f, "bad content: {e}"),
        }
    }
}

/// Read one line (without its newline). Lines without a checksum are accepted, so a
/// journal written or trimmed by other tools can still be opened.
pub fn decode(line: &[u8]) -> Result<Record, LineError> {
    if line.len() >= CRC_SUFFIX_LEN {
        let (body, suffix) = line.split_at(line.len() - CRC_SUFFIX_LEN);
        if suffix.starts_with(CRC_KEY) && suffix.ends_with(b"\"}") {
            let hex = std::str::from_utf8(&suffix[CRC_KEY.len()..CRC_KEY.len() + 8])
                .map_err(|_| LineError::Checksum)?;
            let want = u32::from_str_radix(hex, 16).map_err(|_| LineError::Checksum)?;
            if crc32c::crc32c(body) != want {
                return Err(LineError::Checksum);
            }
        }
    }
    let l: LineIn = serde_json::from_slice(line).map_err(|e| LineError::Json(e.to_string()))?;
    let kind = match l.kind.as_deref() {
        None | Some("delivery") => RecordKind::Delivery,
        Some("outbound") => RecordKind::Outbound,
        Some("forward") => RecordKind::Forward,
        Some("alert") => RecordKind::Alert,
        Some("api") => RecordKind::Api,
        Some(other) => return Err(LineError::Content(format!("unknown record kind {other:?}"))),
    };
    let body: Bytes = match (l.raw, l.raw_base64) {
        (Some(s), _) => Bytes::from(s.into_bytes()),
        (None, Some(b)) => BASE64
            .decode(b)
            .map_err(|e| LineError::Content(format!("rawBase64: {e}")))?
            .into(),
        (None, None) => return Err(LineError::Content("neither raw nor rawBase64".into())),
    };
    let remote = match l.remote {
        Some(r) => Some(
            r.parse::<SocketAddr>()
                .map_err(|e| LineError::Content(format!("remote: {e}")))?,
        ),
        None => None,
    };
    Ok(Record {
        seq: l.seq,
        kind,
        received_at: l.received_at,
        path: crate::record::intern(&l.path),
        remote,
        signature: l.signature,
        verdict: l.verdict,
        event: l.event.as_deref().map(EventName::new),
        duplicate_of: l.duplicate_of,
        problems: l.problems.into(),
        body_len: l.size.unwrap_or(body.len() as u64),
        content_type: l.content_type.as_deref().map(crate::record::intern),
        signature_header: l.signature_header.as_deref().map(Into::into),
        body: body.into(),
        typed: None,

        subject: Default::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(body: &[u8]) -> Record {
        Record {
            seq: 42,
            kind: Default::default(),
            received_at: "2026-11-21T10:00:00.123456Z".parse().unwrap(),
            path: "/hooks".into(),
            remote: Some("127.0.0.1:5000".parse().unwrap()),
            signature: SignatureCheck::Valid,
            verdict: Verdict::Known,
            event: Some(EventName::new("message.sent")),
            duplicate_of: Some(7),
            problems: thin_vec::thin_vec!["$.x: y".into()],
            body: Bytes::copy_from_slice(body).into(),
            body_len: body.len() as u64,
            content_type: None,
            signature_header: None,
            typed: None,

            subject: Default::default(),
        }
    }

    #[test]
    fn round_trips_utf8_and_binary_bodies() {
        for body in [
            &b"{\"event\":\"x\",\"t\":\"\xc3\xa9\\n\"}"[..],
            b"\xff\xfe\x00binary",
        ] {
            let mut out = Vec::new();
            encode(&record(body), &mut out);
            assert_eq!(out.last(), Some(&b'\n'));
            assert_eq!(out.iter().filter(|b| **b == b'\n').count(), 1, "one line");
            let back = decode(&out[..out.len() - 1]).unwrap();
            assert_eq!(&back.body.bytes()[..], body);
            assert_eq!(
                (back.seq, back.duplicate_of, back.problems.clone()),
                (42, Some(7), thin_vec::thin_vec!["$.x: y".to_owned()])
            );
            assert_eq!(back.received_at, record(body).received_at);
            assert_eq!(back.remote, record(body).remote);
            // A valid JSON object, readable by jq and friends.
            let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
            assert!(v["crc32c"].is_string());
        }
    }

    #[test]
    fn terminal_controls_are_escaped_but_kept() {
        let body = "{\"t\":\"a\u{1b}[2Jb\u{7f}c\u{9b}31md\"}";
        let mut out = Vec::new();
        encode(&record(body.as_bytes()), &mut out);
        assert!(
            !out.iter().any(|b| *b == 0x1b || *b == 0x7f),
            "{}",
            String::from_utf8_lossy(&out)
        );
        assert!(!String::from_utf8(out.clone()).unwrap().contains('\u{9b}'));
        assert_eq!(
            &decode(&out[..out.len() - 1]).unwrap().body.bytes()[..],
            body.as_bytes()
        );
    }

    #[test]
    fn each_control_alone_is_found_and_other_latin_1_is_left() {
        // The quick scan must find a lone DEL and a lone C1 (its lead byte is also that
        // of ¡, ©, ±…, which stay as they are).
        for (text, hidden) in [("x\u{7f}", 0x7f_u32), ("x\u{9b}y", 0x9b), ("\u{85}", 0x85)] {
            let body = format!("{{\"t\":\"¡{text}©\"}}");
            let mut out = Vec::new();
            encode(&record(body.as_bytes()), &mut out);
            let line = String::from_utf8(out.clone()).unwrap();
            assert!(!line.contains(char::from_u32(hidden).unwrap()), "{line}");
            assert!(line.contains(&format!("\\u{hidden:04x}")), "{line}");
            assert!(line.contains('¡') && line.contains('©'), "{line}");
            let back = decode(&out[..out.len() - 1]).unwrap();
            assert_eq!(&back.body.bytes()[..], body.as_bytes());
        }
    }

    #[test]
    fn a_flipped_byte_is_detected() {
        let mut out = Vec::new();
        encode(
            &record(b"{\"event\":\"message.sent\",\"content\":\"hello\"}"),
            &mut out,
        );
        out.pop();
        let at = out.windows(5).position(|w| w == b"hello").unwrap();
        out[at] = b'j';
        assert_eq!(decode(&out).unwrap_err(), LineError::Checksum);
    }
}
