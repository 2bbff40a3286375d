//! The attach protocol, version 1: newline-delimited JSON frames over a Unix socket or
//! TCP. Documented for other clients in `docs/ATTACH.md`.
//!
//! A record frame carries a journal line unchanged (`{"type":"record","record":<line>}`),
//! checksum included: what a client folds in is byte for byte what the journal holds,
//! and the same frames could travel on any bus later.

use std::borrow::Cow;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, BufReader};

use crate::api::SendRequest;
pub use crate::bus::NatsStatus;
use crate::journal::line;
use crate::model::outbound::InReplyTo;
use crate::record::Record;

/// The protocol's version. A server refuses a hello with another one, with an error
/// frame saying which it speaks.
pub const VERSION: u32 = 1;
/// Longest frame either side accepts (a record frame holds at most a `--max-body` body,
/// escaped; 1 MiB bodies stay under it).
pub const MAX_FRAME: usize = 8 << 20;
/// Longest hello a server reads before the peer is authenticated.
pub const MAX_HELLO: usize = 64 << 10;

/// Reads newline-terminated frames. Cancel-safe: a frame half read when a `select!`
/// picks another branch stays here and is completed by the next call (`read_until`
/// alone would lose those bytes).
#[derive(Debug)]
pub struct FrameReader<R> {
    reader: BufReader<R>,
    line: Vec<u8>,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    pub fn new(read: R) -> Self {
        Self {
            reader: BufReader::with_capacity(64 << 10, read),
            line: Vec::new(),
        }
    }

    /// The next frame of at most `max` bytes (without its newline); `None` at a clean
    /// end of stream. A longer line is an error: the peer is not speaking this
    /// protocol, or means harm.
    pub async fn next(&mut self, max: usize) -> std::io::Result<Option<Vec<u8>>> {
        let room = (max + 1).saturating_sub(self.line.len()) as u64;
        let n = (&mut self.reader)
            .take(room)
            .read_until(b'\n', &mut self.line)
            .await?;
        if self.line.last() == Some(&b'\n') {
            let mut frame = std::mem::take(&mut self.line);
            frame.pop();
            return Ok(Some(frame));
        }
        if n == 0 && self.line.is_empty() {
            return Ok(None);
        }
        let why = if self.line.len() > max {
            format!("a frame longer than {max} bytes")
        } else {
            "the stream ended inside a frame".to_owned()
        };
        Err(std::io::Error::new(std::io::ErrorKind::InvalidData, why))
    }

    /// Whether a whole frame is already buffered (so reading it will not wait).
    pub fn has_frame(&self) -> bool {
        self.reader.buffer().contains(&b'\n')
    }
}

/// The first frame a client sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hello {
    pub version: u32,
    /// Required on TCP (`PILOTWATCH_ATTACH_TOKEN`); ignored on the Unix socket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The last seq the client holds (0: none). The server sends what follows it.
    #[serde(default)]
    pub after: u64,
    /// At most this many of the newest records before going live.
    pub history: u64,
    /// Free text for the service's log (`pilotwatch 0.1.0`).
    #[serde(default)]
    pub client: String,
}

/// What a client sends after its hello.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Request {
    /// Send a reply through the service's API key; it is journaled there, so its
    /// `outbound.*` records come back as record frames to every client.
    #[serde(rename_all = "camelCase")]
    Send {
        request: SendRequest,
        in_reply_to: Option<InReplyTo>,
        attempt: u32,
    },
    /// Forward delivery `seq` to the service's `--forward-to` app again.
    Replay { seq: u64 },
    /// Read page `page` of the provider's message history (a thread scrolled up); it
    /// comes back as an `api` record.
    History { page: u32 },
}

/// The service, as a client's header shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceInfo {
    pub version: String,
    /// The receiver's address.
    pub listen: String,
    pub path: Option<String>,
    pub journal: Option<String>,
    pub signatures_checked: bool,
    pub started: DateTime<Utc>,
    /// The API key, masked (`ps_…abcd`); `None`: the service cannot send replies.
    pub api_key: Option<String>,
    pub forward_to: Option<String>,
    /// What the service's journal replay found worth saying.
    pub startup_note: Option<String>,
    /// Where its alerts are sent (`--alert-exec`s and `--alert-webhook`s): `Some(0)`,
    /// to none (dashboards only); `None`: not known, or no alerts evaluated.
    #[serde(default)]
    pub alert_targets: Option<u32>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForwardTotals {
    pub ok: u64,
    pub failed: u64,
    pub dropped: u64,
}

/// Every frame a server sends but records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Control {
    /// The answer to a hello.
    #[serde(rename_all = "camelCase")]
    Welcome {
        version: u32,
        service: ServiceInfo,
        /// The newest seq the service holds now.
        last_seq: u64,
    },
    /// `count` record frames follow (seqs `from..=to`), then `live`. `skipped`: records
    /// after the client's `after` that are not sent (beyond `history`, or no longer in
    /// the service's memory; the journal keeps them).
    History {
        from: u64,
        to: u64,
        count: u64,
        skipped: u64,
    },
    /// History is done; record frames from here on are live.
    Live { seq: u64 },
    /// Once a second: the service's health (and a heartbeat: a client that hears nothing
    /// for a few seconds reconnects).
    #[serde(rename_all = "camelCase")]
    Status {
        last_seq: u64,
        /// Why the journal stopped taking deliveries, once it has.
        failure: Option<String>,
        forwards: ForwardTotals,
        clients: usize,
        /// With `--nats`: how far the outbox is behind the journal.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        nats: Option<NatsStatus>,
    },
    /// Something the client asked for could not be done (a reply without an API key).
    Notice { text: String },
    /// The server is closing this connection, and why (too slow, shutting down).
    Bye { reason: String },
    /// The hello was refused (bad token, wrong version, too many clients).
    Error { error: String },
}

impl Control {
    pub fn encode(&self) -> Bytes {
        let mut out = serde_json::to_vec(self).expect("serialisable");
        out.push(b'\n');
        out.into()
    }
}

const RECORD_HEAD: &[u8] = b"{\"type\":\"record\",\"record\":";

/// A record frame: its journal line wrapped, newline-terminated.
pub fn encode_record(record: &Record) -> Bytes {
    let mut line = Vec::with_capacity(record.body.len() + 400);
    line::encode(record, &mut line);
    record_frame(&line)
}

/// The record frame of a journal line as the journal holds it (newline included).
pub fn record_frame(line: &[u8]) -> Bytes {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let mut out = Vec::with_capacity(RECORD_HEAD.len() + line.len() + 2);
    out.extend_from_slice(RECORD_HEAD);
    out.extend_from_slice(line);
    out.extend_from_slice(b"}\n");
    out.into()
}

/// The seq of a record frame, read from its first bytes (`None`: not a record frame).
pub fn record_seq(frame: &[u8]) -> Option<u64> {
    let rest = frame
        .strip_prefix(RECORD_HEAD)?
        .strip_prefix(b"{\"seq\":")?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()
}

/// A frame as a client reads it.
#[derive(Debug)]
pub enum Frame {
    Record(Record),
    Control(Control),
    /// A frame type this client does not know (a newer server): ignored.
    Other(String),
}

#[derive(Deserialize)]
struct Tag<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    record: Option<&'a RawValue>,
}

/// Read one frame (without its newline).
pub fn decode(frame: &[u8]) -> Result<Frame, String> {
    let tag: Tag = serde_json::from_slice(frame).map_err(|e| format!("not a frame: {e}"))?;
    match (&*tag.kind, tag.record) {
        ("record", Some(raw)) => line::decode(raw.get().as_bytes())
            .map(Frame::Record)
            .map_err(|e| format!("record frame: {e}")),
        ("welcome" | "history" | "live" | "status" | "notice" | "bye" | "error", _) => {
            serde_json::from_slice(frame)
                .map(Frame::Control)
                .map_err(|e| format!("{} frame: {e}", tag.kind))
        }
        (other, _) => Ok(Frame::Other(other.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_frame_carries_the_journal_line_and_its_checksum() {
        let mut r = Record::delivery(7, br#"{"event":"message.sent","data":{"id":"m1"}}"#);
        r.duplicate_of = Some(3);
        let frame = encode_record(&r);
        assert!(frame.ends_with(b"}\n"));
        let mut line = Vec::new();
        line::encode(&r, &mut line);
        // The journal line is inside, unchanged.
        let inner = &frame[RECORD_HEAD.len()..frame.len() - 2];
        assert_eq!(inner, &line[..line.len() - 1]);
        let Frame::Record(back) = decode(&frame[..frame.len() - 1]).unwrap() else {
            panic!("a record");
        };
        assert_eq!((back.seq, back.duplicate_of), (7, Some(3)));
        assert_eq!(back.body, r.body);
        // A flipped byte in the body is caught by the line's own checksum.
        let mut bad = frame.to_vec();
        let at = bad.windows(2).position(|w| w == b"m1").unwrap();
        bad[at + 1] = b'2';
        assert!(
            decode(&bad[..bad.len() - 1])
                .unwrap_err()
                .contains("checksum")
        );
    }

    #[test]
    fn control_frames_round_trip_and_unknown_ones_are_tolerated() {
        let c = Control::Status {
            last_seq: 9,
            failure: None,
            forwards: ForwardTotals::default(),
            clients: 2,
            nats: None,
        };
        let bytes = c.encode();
        match decode(&bytes[..bytes.len() - 1]).unwrap() {
            Frame::Control(back) => assert_eq!(back, c),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            decode(br#"{"type":"shiny","x":1}"#).unwrap(),
            Frame::Other(t) if t == "shiny"
        ));
        assert!(decode(b"not json").is_err());
        assert!(decode(br#"{"type":"live"}"#).is_err(), "live needs its seq");
    }

    #[tokio::test]
    async fn a_frame_half_read_when_a_select_moves_on_is_not_lost() {
        use tokio::io::AsyncWriteExt;
        let (mut tx, rx) = tokio::io::duplex(1024);
        let mut frames = FrameReader::new(rx);
        tx.write_all(b"{\"type\":\"li").await.unwrap();
        let waited =
            tokio::time::timeout(std::time::Duration::from_millis(50), frames.next(MAX_FRAME))
                .await;
        assert!(waited.is_err(), "nothing whole yet");
        tx.write_all(b"ve\",\"seq\":3}\n{\"x\":1}\n").await.unwrap();
        let first = frames.next(MAX_FRAME).await.unwrap().unwrap();
        assert_eq!(first, br#"{"type":"live","seq":3}"#);
        assert!(frames.has_frame());
        assert_eq!(
            frames.next(MAX_FRAME).await.unwrap().unwrap(),
            br#"{"x":1}"#
        );
        // Too long, and cut off mid-frame: errors, not frames.
        tx.write_all(&[b'a'; 40]).await.unwrap();
        assert!(frames.next(16).await.is_err());
        drop(tx);
        let mut frames = FrameReader::new(&b"{}\n{\"half"[..]);
        assert_eq!(frames.next(64).await.unwrap().unwrap(), b"{}");
        assert!(frames.next(64).await.is_err());
    }

    #[test]
    fn requests_have_a_stable_shape() {
        let r: Request = serde_json::from_str(r#"{"type":"replay","seq":4}"#).unwrap();
        assert_eq!(r, Request::Replay { seq: 4 });
        let h: Request = serde_json::from_str(r#"{"type":"history","page":3}"#).unwrap();
        assert_eq!(h, Request::History { page: 3 });
        let h: Hello = serde_json::from_str(r#"{"version":1,"history":100}"#).unwrap();
        assert_eq!((h.after, h.token), (0, None));
    }
}
