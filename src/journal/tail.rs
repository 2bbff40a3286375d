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
    /// The (device, inode) of the file being read.
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
    match File::open(path) {
        Ok(f) => BufReader::new(f).take(4096).read_until(b'\n', &mut line)?,
        // Rolled or replaced between the listing and now: it says nothing.
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(line_seq(&line))
}

fn inode_of(path: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
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
        let mut tail = Self {
            active: active.to_owned(),
            reader: BufReader::with_capacity(1 << 20, file),
            inode: (meta.dev(), meta.ino()),
            partial: Vec::new(),
            held: None,
            last: after,
        };
        // Lines up to `after` are had: skip them (within this file; what follows is
        // found by reading on).
        while let Some((seq, line)) = tail.next_line()? {
            if seq > after {
                tail.held = Some((seq, line));
                break;
            }
        }
        tail.last = after;
        Ok((tail, gap))
    }

    /// The next whole line, from this file or the segments after it; `None` when there
    /// is nothing more yet. Never reads a file twice, never recurses.
    fn next_line(&mut self) -> io::Result<Option<(u64, Vec<u8>)>> {
        // Once the file is known to be rolled, it is complete: read it to its end.
        let mut rolled = false;
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
            if line.len() > MAX_LINE {
                return Err(io::Error::other("a journal line longer than any record"));
            }
            self.partial = line;
            if n > 0 {
                continue;
            }
            if inode_of(&self.active) == Some(self.inode) {
                // The active segment: the rest is not written yet.
                return Ok(None);
            }
            if !rolled {
                // Rolled since the last read: what the writer finished before renaming
                // it is there now.
                rolled = true;
                continue;
            }
            if !self.partial.is_empty() {
                return Err(io::Error::other("a rolled journal segment ends mid-line"));
            }
            if !self.next_segment()? {
                return Ok(None);
            }
            rolled = false;
        }
    }

    /// Open the segment that follows the one read to its end (by the listing's order).
    /// False when there is none yet.
    fn next_segment(&mut self) -> io::Result<bool> {
        let all = segments(&self.active)?;
        let here = all.iter().position(|p| inode_of(p) == Some(self.inode));
        let next = match here {
            Some(i) => all.get(i + 1),
            // Ours is gone from the listing (deleted): the active one is what follows.
            None => all.last(),
        };
        let Some(path) = next else { return Ok(false) };
        let file = File::open(path)?;
        let meta = file.metadata()?;
        if (meta.dev(), meta.ino()) == self.inode {
            return Ok(false);
        }
        self.inode = (meta.dev(), meta.ino());
        self.reader = BufReader::with_capacity(1 << 20, file);
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
            if seq > self.last + 1 && out.is_empty() && self.last > 0 {
                // Lines went by unseen (a roll raced the opening): look again from here.
                let (again, _) = Self::open(&self.active, self.last)?;
                if again.held.as_ref().is_some_and(|(s, _)| *s < seq) {
                    *self = again;
                    continue;
                }
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

    /// The writer rolls (renames the active segment, makes a new empty one) and then
    /// nothing comes for a while: reading finds nothing more, without reading anything
    /// again; a line half-written at the roll is finished from the rolled file.
    #[test]
    fn a_roll_then_silence_then_more() {
        let dir = tempfile::tempdir().unwrap();
        let active = dir.path().join("journal.jsonl");
        write(&active, 1..=3);
        let (mut t, _) = Tail::open(&active, 0).unwrap();
        assert_eq!(seqs(t.read(u64::MAX, 100).unwrap()), [1, 2, 3]);
        // Seq 4 is half-written when we look, finished just before the roll.
        let mut l = Vec::new();
        line::encode(&Record::delivery(4, b"{}"), &mut l);
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&active)
            .unwrap();
        f.write_all(&l[..7]).unwrap();
        assert!(t.read(u64::MAX, 100).unwrap().is_empty());
        f.write_all(&l[7..]).unwrap();
        std::fs::rename(&active, dir.path().join("journal.000001.jsonl")).unwrap();
        std::fs::File::create(&active).unwrap();
        assert_eq!(seqs(t.read(u64::MAX, 100).unwrap()), [4]);
        for _ in 0..1000 {
            assert!(t.read(u64::MAX, 100).unwrap().is_empty());
        }
        write(&active, 5..=6);
        assert_eq!(seqs(t.read(u64::MAX, 100).unwrap()), [5, 6]);
        // Opened after a roll with nothing new yet: nothing, then what comes.
        let (mut t, gap) = Tail::open(&active, 6).unwrap();
        assert_eq!(gap, None);
        assert!(t.read(u64::MAX, 100).unwrap().is_empty());
        write(&active, 7..=7);
        assert_eq!(seqs(t.read(u64::MAX, 100).unwrap()), [7]);
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
