//! The outbox's cursor beside the journal: the newest seq the stream confirmed. The
//! stream itself says which of our records it holds, but not the trailing ones it
//! refused as duplicates; this file does, so a restart publishes nothing twice. It
//! names the stream and when that was created: for another (or a re-created) stream
//! the file says nothing.

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub stream: String,
    pub created: String,
    pub seq: u64,
    /// Where the stream put that record (0: not known, from an older cursor).
    #[serde(default)]
    pub position: u64,
    /// Records taken out of the stream to be published again, and how many times:
    /// their ids get a suffix (the stream remembers the old one), also after a restart.
    #[serde(default)]
    pub again: Vec<(u64, u32)>,
}

/// `journal.jsonl` → `journal.nats-cursor`.
pub fn path_for(journal: &Path) -> PathBuf {
    journal.with_extension("nats-cursor")
}

impl Cursor {
    /// It is about `stream`, as created then.
    pub fn matches(&self, stream: &str, created: &str) -> bool {
        self.stream == stream && self.created == created
    }

    /// Where to read the stream back from (`None`: the position is not known).
    pub fn mark(&self) -> Option<super::repair::Mark> {
        (self.position > 0).then_some(super::repair::Mark {
            seq: self.seq,
            position: self.position,
        })
    }

    /// `None` when there is none, or it does not read (it is only a hint).
    pub fn load(path: &Path) -> Option<Self> {
        let bytes = std::fs::read(path).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Written whole or not at all (a temporary file renamed over it). Not synced: a
    /// cursor lost in a crash costs only duplicates the stream refuses again.
    pub fn save(&self, path: &Path) -> io::Result<()> {
        let tmp = path.with_extension("nats-cursor.tmp");
        std::fs::write(&tmp, serde_json::to_vec(self).expect("serialisable"))?;
        std::fs::rename(&tmp, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_and_loaded_and_garbage_is_no_cursor() {
        let dir = tempfile::tempdir().unwrap();
        let p = path_for(&dir.path().join("journal.jsonl"));
        assert_eq!(p.file_name().unwrap(), "journal.nats-cursor");
        assert_eq!(Cursor::load(&p), None);
        let c = Cursor {
            stream: "PILOTWATCH".into(),
            created: "2026-11-29T10:00:00Z".into(),
            seq: 42,
            position: 7,
            again: vec![(43, 1)],
        };
        c.save(&p).unwrap();
        assert_eq!(Cursor::load(&p), Some(c));
        std::fs::write(&p, b"{oops").unwrap();
        assert_eq!(Cursor::load(&p), None);
    }
}
