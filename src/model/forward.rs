//! A delivery forwarded to the user's app (`--forward-to`), as journaled: what the app
//! answered or why it did not, or how many deliveries were never sent. Never the URL:
//! its userinfo or query may be the app's credentials.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::sanitize::line as clean;

/// The body of a `forward` record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "lowercase")]
pub enum Forward {
    /// One delivery sent to the app, and what came of it.
    Sent(ForwardResult),
    /// Deliveries never sent: the forwarder fell this far behind the stream.
    Dropped { count: u64 },
}

/// What the app answered to one forwarded delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ForwardResult {
    /// The delivery sent.
    pub seq: u64,
    /// When the answer came: the record's own time, so not journaled twice.
    #[serde(skip)]
    pub at: DateTime<Utc>,
    /// The seq of the `forward` record this result came in.
    #[serde(skip)]
    pub record: u64,
    /// The app's HTTP status, if it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    pub latency_ms: u64,
    /// The first bytes of its answer, sanitised.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub body_head: String,
    /// Why there was no answer (timeout, refused), sanitised and without the URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Sent again by hand (`x`), not by the live stream.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub replay: bool,
}

impl ForwardResult {
    pub fn ok(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }

    /// `201 in 3 ms "thanks"`, or the error; sanitised.
    pub fn outcome(&self) -> String {
        match (self.status, &self.error) {
            (Some(s), _) if self.body_head.is_empty() => format!("{s} in {} ms", self.latency_ms),
            (Some(s), _) => format!(
                "{s} in {} ms \"{}\"",
                self.latency_ms,
                clean(&self.body_head, 40)
            ),
            (None, e) => format!(
                "✗ {} after {} ms",
                clean(e.as_deref().unwrap_or("no answer"), 80),
                self.latency_ms
            ),
        }
    }
}

impl Forward {
    /// The record's event name.
    pub fn event(&self) -> &'static str {
        match self {
            Self::Sent(r) if r.ok() => "forward.ok",
            Self::Sent(_) => "forward.failed",
            Self::Dropped { .. } => "forward.dropped",
        }
    }

    /// One sanitised line: `→ app #12 · 201 in 3 ms "thanks"` (`↻` for a replay).
    pub fn summary(&self) -> String {
        match self {
            Self::Sent(r) => format!(
                "{} app #{} · {}",
                if r.replay { "↻" } else { "→" },
                r.seq,
                r.outcome()
            ),
            Self::Dropped { count } => {
                format!("{count} records not forwarded (the app fell too far behind)")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_journaled_shape_is_small_and_reads_back() {
        let sent = Forward::Sent(ForwardResult {
            seq: 12,
            at: Utc::now(),
            record: 13,
            status: Some(201),
            latency_ms: 3,
            body_head: "thanks".into(),
            error: None,
            replay: false,
        });
        let json = serde_json::to_string(&sent).unwrap();
        assert_eq!(
            json,
            r#"{"outcome":"sent","seq":12,"status":201,"latencyMs":3,"bodyHead":"thanks"}"#
        );
        let Forward::Sent(back) = serde_json::from_str(&json).unwrap() else {
            panic!("a result");
        };
        assert_eq!((back.seq, back.status, back.replay), (12, Some(201), false));
        assert_eq!(sent.event(), "forward.ok");
        let dropped = Forward::Dropped { count: 40 };
        let json = serde_json::to_string(&dropped).unwrap();
        assert_eq!(json, r#"{"outcome":"dropped","count":40}"#);
        assert_eq!(serde_json::from_str::<Forward>(&json).unwrap(), dropped);
    }
}
