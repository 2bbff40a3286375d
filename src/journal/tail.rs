//! Follow a journal by seq, as `tail -f` would, across segment rolls: what the outbox
//! publishes. Only whole lines are read (the writer may be mid-line), and only up to
//! the seq the caller knows is durable.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::replay::segments;

/// Lines longer than this are not journal lines (bodies are capped far below).
const MAX_LINE: usize = 64 << 20;

#[derive(Debug)]
pub struct Tail {
    active: PathBuf,
    reader: BufReader<File>,
    /// The file being read is the active segment (by inode), not a rolled one.
    reading_active: bool,
    inode: (u64, u64),
    /// Bytes of a line whose end is not written yet.
    partial: Vec<u8>,
    /// A whole line read ahead of what the caller may have yet.
    held: Option<(u64, Vec<u8>)>,
    /// The seq of the last line handed out (or skipped as already had).
    pub last: u64,
}

/// Where a line's seq is: every journal line starts `{"seq":N,`.
pub fn line_seq(line: &[u8]) -> Option<u64> {
    let rest = line.strip_prefix(b"{\"seq\":")?;
    let end = rest.iter().position(|b| !b.is_ascii_digit())?;
    std::str::from_utf8(&rest[..end]).ok()?.parse().ok()
}

fn first_seq(path: &Path) -> io::Result<Option<u64>> {
    let mut line = Vec::new();
    BufReader::new(File::open(path)?)
        .take(4096)
        .read_until(b'\n', &mut line)?;
    Ok(line_seq(&line))
}

impl Tail {
    /// Start after `after`: the lines that follow it, from whichever segment holds them.
    /// Returns the seq of the first line there is when `after + 1` is no longer on disk.
    pub fn open(active: &Path, after: u64) -> io::Result<(Self, Option<u64>)> {
        let all = segments(active)?;
        // The last segment that starts at or before `after + 1` holds it.
        let mut start = 0;
        let mut gap = None;
        for (i, s) in all.iter().enumerate() {
            match first_seq(s)? {
                Some(first) if first <= after + 1 => start = i,
                Some(first) if i == 0 => {
                    gap = Some(first);
                    break;
                }
                _ => break,
            }
        }
        let path = all.get(start).cloned().unwrap_or_else(|| active.to_owned());
        let file = File::open(&path)?;
        let meta = file.metadata()?;
        let active_inode = std::fs::metadata(active).map(|m| (m.dev(), m.ino())).ok();
        let inode = (meta.dev(), meta.ino());
        let mut tail = Self {
            active: active.to_owned(),
            reader: BufReader::with_capacity(1 << 20, file),
            reading_active: active_inode == Some(inode),
            inode,
            partial: Vec::new(),
            held: None,
            last: after,
        };
        tail.skip_to(after)?;
        Ok((tail, gap))
    }

    fn skip_to(&mut self, after: u64) -> io::Result<()> {
        while let Some((seq, line)) = self.next_line()? {
            if seq > after {
                self.held = Some((seq, line));
                break;
            }
        }
        self.last = after;
        Ok(())
    }

    /// The next whole line of the current file, or of the segment after it.
    fn next_line(&mut self) -> io::Result<Option<(u64, Vec<u8>)>> {
        loop {
            let mut line = std::mem::take(&mut self.partial);
            let n = (&mut self.reader)
                .take(MAX_LINE as u64)
                .read_until(b'\n', &mut line)?;
            if line.last() == Some(&b'\n') {
                line.pop();
                match line_seq(&line) {
                    Some(seq) => return Ok(Some((seq, line))),
                    // Not a record line (a blank line, damage): the replay reports it.
                    None => continue,
                }
            }
            self.partial = line;
            if n > 0 {
                continue;
            }
            if !self.moved_on()? {
                return Ok(None);
            }
            // The next segment's first line after ours was read on opening it.
            if let Some(h) = self.held.take() {
                return Ok(Some(h));
            }
        }
    }

    /// At the end of the file: when it is no longer the active segment (it was rolled),
    /// go on with the segment after it. False: nothing more yet.
    fn moved_on(&mut self) -> io::Result<bool> {
        let active = std::fs::metadata(&self.active).map(|m| (m.dev(), m.ino()));
        if self.reading_active && active.as_ref().ok() == Some(&self.inode) {
            return Ok(false);
        }
        // Rolled (or we were reading a rolled one): find the segment after what we
        // had, by seq, which also covers two rolls while we slept.
        let after = self.last.max(self.held.as_ref().map_or(0, |(s, _)| *s));
        if !self.partial.is_empty() {
            return Err(io::Error::other("a rolled journal segment ends mid-line"));
        }
        let (next, _) = Self::open(&self.active, after)?;
        if next.inode == self.inode {
            // Still ours (the segment after it has no line yet): nothing more yet.
            return Ok(false);
        }
        // Nothing is held here (lines are only read ahead once one is handed out), and
        // `next` holds its first line after `after` already.
        *self = next;
        Ok(true)
    }

    /// Whole lines with seq up to `upto` (the durable ones), at most `max` of them.
    pub fn read(&mut self, upto: u64, max: usize) -> io::Result<Vec<(u64, Vec<u8>)>> {
        let mut out = Vec::new();
        while out.len() < max {
            let (seq, line) = match self.held.take() {
                Some(h) => h,
                None => match self.next_line()? {
                    Some(l) => l,
                    None => break,
                },
            };
            if seq <= self.last {
                continue;
            }
            if seq > upto {
                self.held = Some((seq, line));
                break;
            }
            self.last = seq;
            out.push((seq, line));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::line;
    use crate::record::Record;
    use std::io::Write;

    fn write(path: &Path, seqs: std::ops::RangeInclusive<u64>) {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        for seq in seqs {
            let mut out = Vec::new();
            line::encode(&Record::delivery(seq, b"{\"event\":\"x\"}"), &mut out);
            f.write_all(&out).unwrap();
        }
    }

    fn seqs(lines: Vec<(u64, Vec<u8>)>) -> Vec<u64> {
        lines.into_iter().map(|(s, _)| s).collect()
    }

    #[test]
    fn follows_across_rolls_and_waits_for_whole_durable_lines() {
        let dir = tempfile::tempdir().unwrap();
        let active = dir.path().join("journal.jsonl");
        write(&dir.path().join("journal.000001.jsonl"), 1..=3);
        write(&active, 4..=5);
        let (mut t, gap) = Tail::open(&active, 2).unwrap();
        assert_eq!(gap, None);
        assert_eq!(seqs(t.read(4, 100).unwrap()), [3, 4]);
        assert_eq!(seqs(t.read(u64::MAX, 100).unwrap()), [5]);
        // A half-written line is not read until its end is there.
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&active)
            .unwrap();
        let mut l = Vec::new();
        line::encode(&Record::delivery(6, b"{}"), &mut l);
        f.write_all(&l[..10]).unwrap();
        assert!(t.read(u64::MAX, 100).unwrap().is_empty());
        f.write_all(&l[10..]).unwrap();
        assert_eq!(seqs(t.read(u64::MAX, 100).unwrap()), [6]);
        // Rolled twice while nobody read.
        std::fs::rename(&active, dir.path().join("journal.000002.jsonl")).unwrap();
        write(&dir.path().join("journal.000003.jsonl"), 7..=8);
        write(&active, 9..=9);
        assert_eq!(seqs(t.read(u64::MAX, 100).unwrap()), [7, 8, 9]);
        write(&active, 10..=12);
        assert_eq!(seqs(t.read(u64::MAX, 2).unwrap()), [10, 11]);
        assert_eq!(seqs(t.read(u64::MAX, 2).unwrap()), [12]);
    }

    #[test]
    fn says_when_what_follows_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let active = dir.path().join("journal.jsonl");
        write(&active, 50..=52);
        let (mut t, gap) = Tail::open(&active, 10).unwrap();
        assert_eq!(gap, Some(50));
        assert_eq!(seqs(t.read(u64::MAX, 100).unwrap()), [50, 51, 52]);
        let (mut t, gap) = Tail::open(&active, 52).unwrap();
        assert_eq!(gap, None);
        assert!(t.read(u64::MAX, 100).unwrap().is_empty());
    }
}
