//! Run as a service, watch from anywhere: `pilotwatch serve` keeps the receiver and the
//! journal, and streams what the journal holds to dashboards that attach to it.
//!
//! - [`protocol`]: the versioned frames (records are journal lines, seq included).
//! - [`server`]: the attach endpoint: a 0600 Unix socket beside the journal, optionally
//!   TCP with a token; one hub fans each record out to every client through a bounded
//!   buffer, so a stalled client is dropped, never waited for.
//! - [`client`]: `pilotwatch attach`: history, then live, into a local store the same
//!   dashboard draws; reconnects by itself and catches up by seq.

pub mod answer;
pub mod client;
mod hub;
mod listen;
pub mod merge;
pub mod nats;
pub mod protocol;
pub mod requests;
pub mod server;

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The token TCP attach requires, on both ends.
pub const ENV_TOKEN: &str = "PILOTWATCH_ATTACH_TOKEN";

/// Where a dashboard attaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Unix(PathBuf),
    Tcp(String),
    /// The stream on NATS, as shown (no password).
    Nats(String),
}

impl Endpoint {
    /// `tcp://host:port` or `host:port` is TCP; `unix:PATH`, or anything else, a socket path.
    pub fn parse(s: &str) -> Self {
        if let Some(rest) = s.strip_prefix("tcp://") {
            return Self::Tcp(rest.trim_end_matches('/').to_owned());
        }
        if let Some(rest) = s
            .strip_prefix("unix://")
            .or_else(|| s.strip_prefix("unix:"))
        {
            return Self::Unix(rest.into());
        }
        // `host:port` (no slash, a numeric port) is TCP; a path that happens to hold a
        // colon can be written `./a:1` or `unix:a:1`.
        let host_port = s.rsplit_once(':').is_some_and(|(host, port)| {
            !host.is_empty() && !host.contains('/') && port.parse::<u16>().is_ok()
        });
        if s.parse::<SocketAddr>().is_ok() || host_port {
            return Self::Tcp(s.to_owned());
        }
        Self::Unix(s.into())
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unix(p) => write!(f, "{}", p.display()),
            Self::Tcp(a) => write!(f, "tcp://{a}"),
            Self::Nats(url) => f.write_str(url),
        }
    }
}

/// The attach socket of a service whose journal is `journal`: beside it, named after it
/// (`journal.jsonl` → `journal.jsonl.sock`), so two journals in one directory never share
/// one. Without a journal: `pilotwatch.sock` in the data directory.
pub fn default_socket(journal: Option<&Path>) -> PathBuf {
    match journal {
        Some(j) => {
            let mut p = j.as_os_str().to_owned();
            p.push(".sock");
            p.into()
        }
        None => crate::journal::default_path().with_file_name("pilotwatch.sock"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse_as_a_user_would_write_them() {
        assert_eq!(
            Endpoint::parse("tcp://10.0.0.5:7070"),
            Endpoint::Tcp("10.0.0.5:7070".into())
        );
        assert_eq!(
            Endpoint::parse("127.0.0.1:7070"),
            Endpoint::Tcp("127.0.0.1:7070".into())
        );
        assert_eq!(
            Endpoint::parse("/var/lib/pilotwatch/journal.jsonl.sock"),
            Endpoint::Unix("/var/lib/pilotwatch/journal.jsonl.sock".into())
        );
        assert_eq!(
            Endpoint::parse("watch.internal:7070"),
            Endpoint::Tcp("watch.internal:7070".into())
        );
        assert_eq!(
            Endpoint::parse("./odd:7070"),
            Endpoint::Unix("./odd:7070".into())
        );
        assert_eq!(
            Endpoint::parse("unix:./a.sock"),
            Endpoint::Unix("./a.sock".into())
        );
        assert_eq!(
            default_socket(Some(Path::new("/d/journal.jsonl"))),
            PathBuf::from("/d/journal.jsonl.sock")
        );
    }
}
