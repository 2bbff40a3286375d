//! Where in the journal a snapshot was taken: the end of the line of its newest record,
//! named so that it survives the segment being rolled, and checked by that line's hash.

use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::journal::replay::Resume;
use crate::journal::storage::segment_path;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    /// The number the segment holding the line has once rolled (`journal.000007.jsonl`);
    /// until then it is the active segment.
    pub segment: u64,
    /// Where the line ends (its newline included).
    pub end: u64,
    pub line_len: u32,
    /// XXH3 of the line's bytes, newline included.
    pub line_hash: u64,
}

impl Anchor {
    /// The anchor after the last line of `batch` (the newest lines written), which
    /// ends at `end` in the segment to be rolled as number `segment`.
    pub fn after_batch(segment: u64, end: u64, batch: &[u8]) -> Option<Self> {
        let body = batch.strip_suffix(b"\n")?;
        let line = &batch[memchr::memrchr(b'\n', body).map_or(0, |i| i + 1)..];
        Some(Self {
            segment,
            end,
            line_len: line.len() as u32,
            line_hash: xxhash_rust::xxh3::xxh3_64(line),
        })
    }
}

/// Find the anchor's line in the journal whose active segment is `journal`.
pub(super) fn locate(journal: &Path, anchor: &Anchor, after_seq: u64) -> Result<Resume, String> {
    let rolled = segment_path(journal, anchor.segment);
    let segment = if rolled.exists() {
        rolled
    } else {
        journal.to_owned()
    };
    let line = read_at(&segment, anchor.end, anchor.line_len).map_err(|e| {
        format!(
            "{} has no line ending at byte {} ({e})",
            segment.display(),
            anchor.end
        )
    })?;
    if line.last() != Some(&b'\n') || xxhash_rust::xxh3::xxh3_64(&line) != anchor.line_hash {
        return Err(format!(
            "the line ending at byte {} of {} is not the one it was taken after",
            anchor.end,
            segment.display()
        ));
    }
    Ok(Resume {
        segment,
        offset: anchor.end,
        after_seq,
    })
}

fn read_at(path: &Path, end: u64, len: u32) -> io::Result<Vec<u8>> {
    let start = end
        .checked_sub(len as u64)
        .ok_or_else(|| io::Error::other("anchor before the file's start"))?;
    let mut f = std::fs::File::open(path)?;
    if f.metadata()?.len() < end {
        return Err(io::Error::other("the file is shorter"));
    }
    f.seek(SeekFrom::Start(start))?;
    let mut line = vec![0; len as usize];
    f.read_exact(&mut line)?;
    Ok(line)
}
