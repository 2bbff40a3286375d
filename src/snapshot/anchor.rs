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
    /// The anchor after the newest line: the last of `batch` (just written), or when
    /// nothing was written since the start, the journal's last line on disk.
    pub fn newest(journal: &Path, segment: u64, end: u64, batch: &[u8]) -> io::Result<Self> {
        match Self::after_batch(segment, end, batch) {
            Some(anchor) => Ok(anchor),
            None => Self::at_end(journal, segment, end),
        }
    }

    /// The anchor after the last line of the journal as it is on disk (nothing was
    /// written since the start): the active segment's, or the newest rolled one's when
    /// the active segment is still empty.
    pub fn at_end(journal: &Path, segment: u64, len: u64) -> io::Result<Self> {
        let (segment, path) = match len {
            0 if segment > 1 => (segment - 1, segment_path(journal, segment - 1)),
            _ => (segment, journal.to_owned()),
        };
        let end = std::fs::metadata(&path)?.len();
        let line = last_line(&path, end)?;
        Self::after_batch(segment, end, &line)
            .ok_or_else(|| io::Error::other("the journal does not end in a whole line"))
    }
}

/// The last line of the first `end` bytes of a file, newline included: read backwards.
fn last_line(path: &Path, end: u64) -> io::Result<Vec<u8>> {
    const STEP: u64 = 64 << 10;
    let mut f = std::fs::File::open(path)?;
    let mut line: Vec<u8> = Vec::new();
    let mut at = end;
    while at > 0 && (line.len() as u64) < crate::journal::replay::MAX_LINE {
        let from = at.saturating_sub(STEP);
        let mut chunk = vec![0; (at - from) as usize];
        f.seek(SeekFrom::Start(from))?;
        f.read_exact(&mut chunk)?;
        chunk.extend_from_slice(&line);
        line = chunk;
        at = from;
        // A newline before the last byte ends the line before ours.
        if let Some(i) = memchr::memrchr(b'\n', &line[..line.len().saturating_sub(1)]) {
            return Ok(line.split_off(i + 1));
        }
    }
    Ok(line)
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
        line: (anchor.line_len, anchor.line_hash),
    })
}

fn read_at(path: &Path, end: u64, len: u32) -> io::Result<Vec<u8>> {
    if len as u64 > crate::journal::replay::MAX_LINE {
        return Err(io::Error::other("longer than any journal line"));
    }
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
