//! Reading a journal back at start: every segment in order, each line checked. A torn
//! tail (a crash mid-write: no delivery in it was acknowledged) is moved to a quarantine
//! file and cut off; a bad line with good ones after it is corruption, and is reported.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use super::line::{self, LineError};
use super::skip::{lines_to_skip, passed_over};
use super::storage::rolled_segments;
use crate::record::Record;

#[derive(Debug, Default, Clone)]
pub struct ReplayReport {
    pub records: u64,
    pub segments: usize,
    pub last_seq: Option<u64>,
    /// Bytes cut from the end of the active segment, and where they were kept.
    pub torn_tail: Option<(u64, PathBuf)>,
    pub corrupt: Vec<Corruption>,
    /// Records older than the window the store can hold: counted, never parsed.
    pub skipped: u64,
    /// Whole segments older than that window, not opened at all.
    pub skipped_segments: usize,
    /// The store came from its snapshot, taken after this seq: only later records were
    /// replayed.
    pub from_snapshot: Option<u64>,
    /// Why a snapshot beside the journal was not used.
    pub snapshot_ignored: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Corruption {
    pub segment: PathBuf,
    /// 1-based line number in that segment.
    pub line: u64,
    pub error: LineError,
}

impl ReplayReport {
    fn raise_seq(&mut self, seq: u64) {
        self.last_seq = Some(self.last_seq.map_or(seq, |s| s.max(seq)));
    }
}

/// The seq a damaged line claims, if its start is intact (`{"seq":123,…`).
fn salvage_seq(line: &[u8]) -> Option<u64> {
    let rest = line.strip_prefix(b"{\"seq\":")?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()
}

impl std::fmt::Display for Corruption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}: {}",
            self.segment.display(),
            self.line,
            self.error
        )
    }
}

/// The quarantine file beside the journal: `journal.jsonl` → `journal.jsonl.quarantine`.
pub fn quarantine_path(active: &Path) -> PathBuf {
    let mut p = active.as_os_str().to_owned();
    p.push(".quarantine");
    p.into()
}

/// Every segment of the journal whose active segment is `active`, oldest first.
pub fn segments(active: &Path) -> io::Result<Vec<PathBuf>> {
    let mut all: Vec<PathBuf> = rolled_segments(active)?
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    if active.exists() {
        all.push(active.to_owned());
    }
    Ok(all)
}

/// Feed every good record to `apply`, in journal order. With `repair`, a torn tail of the
/// active segment is quarantined and truncated (the caller holds the journal's lock);
/// without it (read-only viewing) the tail is only reported.
pub fn replay(active: &Path, repair: bool, apply: impl FnMut(Record)) -> io::Result<ReplayReport> {
    let progress = std::sync::atomic::AtomicU64::new(0);
    replay_with(active, repair, |r| r, apply, &progress)
}

/// Lines decoded and `prepare`d together, on every core.
const CHUNK: usize = 8192;

/// [`replay`] with a `prepare` step (re-deriving what a record does not journal) run
/// in parallel with decoding, over chunks of lines; `apply` still sees every record
/// once, in journal order, and `progress` counts the bytes read. Replay is dominated by
/// parsing bodies again, so this is what makes a million-line journal load in seconds.
pub fn replay_with<T: Send>(
    active: &Path,
    repair: bool,
    prepare: impl Fn(Record) -> T + Sync,
    apply: impl FnMut(T),
    progress: &std::sync::atomic::AtomicU64,
) -> io::Result<ReplayReport> {
    replay_tail(active, repair, None, None, prepare, apply, progress)
}

/// Where a replay goes on from instead of the start: this segment at this offset (the
/// end of a line), then every later segment, applying only records after `after_seq`.
/// A store snapshot taken after that record holds everything before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resume {
    pub segment: PathBuf,
    pub offset: u64,
    pub after_seq: u64,
    /// The length and XXH3 of the line ending at `offset`, checked again on the file
    /// replay opens (a reader beside a live service can see the segment roll between).
    pub line: (u32, u64),
}

/// [`replay_with`] of only the newest `keep` records (`None`: all): a bounded store
/// cannot hold more, so older segments are never parsed and a journal of millions of
/// lines starts in the time its tail takes. Seqs must rise; a line whose seq repeats or
/// goes back (two writers on one file) is reported as corruption and not applied.
pub fn replay_tail<T: Send>(
    active: &Path,
    repair: bool,
    keep: Option<u64>,
    resume: Option<&Resume>,
    prepare: impl Fn(Record) -> T + Sync,
    mut apply: impl FnMut(T),
    progress: &std::sync::atomic::AtomicU64,
) -> io::Result<ReplayReport> {
    use rayon::prelude::*;
    let mut report = ReplayReport::default();
    let mut segments = segments(active)?;
    report.segments = segments.len();
    // Resuming: the segments before the resume point are not opened at all.
    let mut resume_at = None;
    if let Some(r) = resume {
        let i = segments
            .iter()
            // By name: all segments are beside `active`, but `segments` spells the
            // directory as `dir.join(..)` (`./journal.000003.jsonl` for a relative path).
            .position(|s| s.file_name() == r.segment.file_name())
            .ok_or_else(|| {
                io::Error::other(format!("resume segment {} not found", r.segment.display()))
            })?;
        report.skipped_segments = i;
        segments.drain(..i);
        resume_at = Some(r.offset);
        report.raise_seq(r.after_seq);
    }
    let skip = match resume {
        Some(_) => vec![0; segments.len()],
        None => lines_to_skip(&segments, keep)?,
    };
    let mut prev_seq: Option<u64> = resume.map(|r| r.after_seq);
    for (i, segment) in segments.iter().enumerate() {
        let is_active = i + 1 == segments.len() && segment == active;
        if skip[i] == u64::MAX {
            report.skipped_segments += 1;
            continue;
        }
        let mut file = File::open(segment)?;
        let (mut offset, mut line_no) = (0u64, 0u64);
        // Lines passed over by a resume: counted only if a report needs a line number.
        let mut lines_before = None;
        if let Some(at) = resume_at.take() {
            let (len, hash) = resume.map(|r| r.line).unwrap_or_default();
            let start = at
                .checked_sub(len as u64)
                .filter(|_| len as u64 <= MAX_LINE);
            let mut line = vec![0; len as usize * start.is_some() as usize];
            io::Seek::seek(&mut file, io::SeekFrom::Start(start.unwrap_or(0)))?;
            if start.is_none()
                || io::Read::read_exact(&mut file, &mut line).is_err()
                || xxhash_rust::xxh3::xxh3_64(&line) != hash
            {
                return Err(io::Error::other(format!(
                    "the resume point in {} moved (the journal rolled or changed meanwhile)",
                    segment.display()
                )));
            }
            lines_before = Some((at, None));
            offset = at;
            io::Seek::seek(&mut file, io::SeekFrom::Start(at))?;
            progress.fetch_add(at, std::sync::atomic::Ordering::Relaxed);
        }
        let mut reader = BufReader::with_capacity(1 << 20, file);
        let mut buf = Vec::new();
        while line_no < skip[i] {
            buf.clear();
            let (n, _) = read_line_bounded(&mut reader, &mut buf)?;
            if n == 0 {
                break;
            }
            line_no += 1;
            offset += n as u64;
            progress.fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
            report.skipped += 1;
        }
        // `complete_end`: where the last newline-terminated line ends.
        let mut complete_end = offset;
        // (line number, offset after it, its bytes with the newline if it has one,
        // whether it was longer than `MAX_LINE` and only its start kept)
        let mut chunk: Vec<(u64, u64, Vec<u8>, bool)> = Vec::with_capacity(CHUNK);
        let mut eof = false;
        while !eof {
            chunk.clear();
            while chunk.len() < CHUNK {
                let mut buf = Vec::new();
                let (n, too_long) = read_line_bounded(&mut reader, &mut buf)?;
                if n == 0 {
                    eof = true;
                    break;
                }
                line_no += 1;
                offset += n as u64;
                progress.fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
                chunk.push((line_no, offset, buf, too_long));
            }
            let decoded: Vec<_> = chunk
                .par_iter()
                .map(|(_, _, buf, too_long)| {
                    let complete = buf.last() == Some(&b'\n');
                    let content = if complete {
                        &buf[..buf.len() - 1]
                    } else {
                        &buf[..]
                    };
                    if *too_long {
                        Some(Err(LineError::Content(format!(
                            "line longer than {} MiB: not a journal line",
                            MAX_LINE >> 20
                        ))))
                    } else if !complete {
                        // Only the very last line can lack its newline: a write cut short.
                        Some(Err(LineError::Json("incomplete last line".into())))
                    } else if content.iter().all(u8::is_ascii_whitespace) {
                        None
                    } else {
                        Some(line::decode(content).map(|r| (r.seq, prepare(r))))
                    }
                })
                .collect();
            for ((line_no, end, buf, _), decoded) in chunk.iter().zip(decoded) {
                let complete = buf.last() == Some(&b'\n');
                match decoded {
                    None => complete_end = *end,
                    Some(Ok((seq, _))) if prev_seq.is_some_and(|p| seq <= p) => {
                        complete_end = *end;
                        let corruption = Corruption {
                            segment: segment.clone(),
                            line: *line_no + passed_over(segment, &mut lines_before),
                            error: LineError::Content(format!(
                                "seq {seq} repeats or goes back (after {}): two writers on one journal?",
                                prev_seq.unwrap_or_default()
                            )),
                        };
                        tracing::warn!(%corruption, "journal line out of order skipped");
                        report.corrupt.push(corruption);
                    }
                    Some(Ok((seq, prepared))) => {
                        report.records += 1;
                        report.raise_seq(seq);
                        prev_seq = Some(seq);
                        complete_end = *end;
                        apply(prepared);
                    }
                    Some(Err(error)) => {
                        let content = buf.strip_suffix(b"\n").unwrap_or(buf);
                        // Whatever seq a bad line claims is never handed out again.
                        if let Some(seq) = salvage_seq(content) {
                            report.raise_seq(seq);
                        }
                        if complete || !is_active {
                            complete_end = *end;
                            let corruption = Corruption {
                                segment: segment.clone(),
                                line: *line_no + passed_over(segment, &mut lines_before),
                                error,
                            };
                            tracing::warn!(%corruption, "corrupt journal line skipped");
                            report.corrupt.push(corruption);
                        }
                    }
                }
            }
        }
        if !is_active || offset == complete_end {
            continue;
        }
        // The active segment ends in a torn write: nothing in it was acknowledged (acks
        // wait for the whole batch's sync). Keep it aside, then cut it off so new lines
        // do not follow garbage.
        let cut = offset - complete_end;
        let quarantine = quarantine_path(active);
        tracing::warn!(bytes = cut, "journal ends in a torn write; dropping it");
        if repair {
            let mut tail = Vec::with_capacity(cut as usize);
            let mut f = File::open(active)?;
            io::Seek::seek(&mut f, io::SeekFrom::Start(complete_end))?;
            io::Read::read_to_end(&mut f, &mut tail)?;
            let mut q = crate::files::open_append_private(&quarantine)?;
            q.write_all(&tail)?;
            q.write_all(b"\n")?;
            q.sync_data()?;
            let f = OpenOptions::new().write(true).open(active)?;
            f.set_len(complete_end)?;
            f.sync_all()?;
        }
        report.torn_tail = Some((cut, quarantine));
    }
    Ok(report)
}

/// The longest line replay reads: a body of up to 10 MiB with every byte escaped
/// six-fold (`\u001b`) still fits. Anything longer is no journal line (garbage, a file of
/// zeros): it is skipped as corruption rather than buffered without end.
pub const MAX_LINE: u64 = 64 << 20;

/// One line, with its newline, into `buf`; returns the bytes it took and whether it was
/// longer than [`MAX_LINE`]. Of a longer one only the start is kept (so its seq can be
/// salvaged); the rest is read through in bounded steps and dropped.
fn read_line_bounded(reader: &mut impl BufRead, buf: &mut Vec<u8>) -> io::Result<(usize, bool)> {
    let mut n = io::Read::take(&mut *reader, MAX_LINE).read_until(b'\n', buf)?;
    if (n as u64) < MAX_LINE || buf.last() == Some(&b'\n') {
        return Ok((n, false));
    }
    buf.truncate(64);
    buf.shrink_to_fit();
    let mut rest = Vec::with_capacity(64 << 10);
    loop {
        rest.clear();
        let read = io::Read::take(&mut *reader, 64 << 10).read_until(b'\n', &mut rest)?;
        n += read;
        if read == 0 || rest.last() == Some(&b'\n') {
            break;
        }
    }
    if rest.last() == Some(&b'\n') {
        buf.push(b'\n');
    }
    Ok((n, true))
}

/// Only for tests and tools: the good records of a journal, in order.
pub fn read_all(active: &Path) -> io::Result<(Vec<Record>, ReplayReport)> {
    let mut out = Vec::new();
    let report = replay(active, false, |r| out.push(r))?;
    Ok((out, report))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    use crate::model::{EventName, Verdict};
    use crate::record::SignatureCheck;

    pub(super) fn line_for_tests(seq: u64) -> Vec<u8> {
        line(seq)
    }

    fn line(seq: u64) -> Vec<u8> {
        let body = format!("{{\"event\":\"message.sent\",\"n\":{seq}}}");
        let r = Record {
            seq,
            kind: Default::default(),
            received_at: chrono::Utc::now(),
            path: "/".into(),
            remote: None,
            signature: SignatureCheck::Unchecked,
            verdict: Verdict::Broken,
            event: Some(EventName::new("message.sent")),
            duplicate_of: None,
            problems: Default::default(),
            body_len: body.len() as u64,
            content_type: None,
            signature_header: None,
            body: body.into(),
            typed: None,

            subject: Default::default(),
        };
        let mut out = Vec::new();
        line::encode(&r, &mut out);
        out
    }

    fn journal(lines: &[Vec<u8>]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        fs::write(&path, lines.concat()).unwrap();
        (dir, path)
    }

    #[test]
    fn a_torn_tail_is_cut_at_every_byte_and_quarantined() {
        let full: Vec<Vec<u8>> = (1..=3).map(line).collect();
        let last = &full[2];
        for cut in 0..last.len() {
            let mut lines = full[..2].to_vec();
            lines.push(last[..cut].to_vec());
            let (_dir, path) = journal(&lines);
            let (records, report) = read_all(&path).unwrap();
            assert_eq!(
                records.iter().map(|r| r.seq).collect::<Vec<_>>(),
                vec![1, 2],
                "cut at {cut}"
            );
            assert!(
                report.corrupt.is_empty(),
                "cut at {cut}: {:?}",
                report.corrupt
            );
            assert_eq!(report.torn_tail.is_some(), cut > 0);
            // Repair truncates to the last good line and keeps the tail aside.
            let report = replay(&path, true, |_| {}).unwrap();
            assert_eq!(fs::read(&path).unwrap(), full[..2].concat());
            if cut > 0 {
                assert_eq!(
                    &fs::read(report.torn_tail.unwrap().1).unwrap()[..cut],
                    &last[..cut]
                );
            }
        }
    }

    #[test]
    fn a_bad_complete_last_line_is_corruption_not_a_torn_write() {
        let mut lines: Vec<Vec<u8>> = (1..=2).map(line).collect();
        let at = lines[1].len() / 2;
        lines[1][at] ^= 0x01;
        lines.push(b"\n".to_vec());
        let (_dir, path) = journal(&lines);
        let before = fs::read(&path).unwrap();
        let report = replay(&path, true, |_| {}).unwrap();
        assert_eq!(report.records, 1);
        assert_eq!(report.corrupt.len(), 1, "{report:?}");
        assert!(report.torn_tail.is_none());
        assert_eq!(
            fs::read(&path).unwrap(),
            before,
            "a complete line is never cut"
        );
        assert_eq!(report.last_seq, Some(2), "its seq is not handed out again");
    }

    #[test]
    fn corruption_in_the_middle_is_reported_and_the_rest_replayed() {
        let mut lines: Vec<Vec<u8>> = (1..=3).map(line).collect();
        let at = lines[1].len() / 2;
        lines[1][at] ^= 0x01;
        let (_dir, path) = journal(&lines);
        let (records, report) = read_all(&path).unwrap();
        assert_eq!(
            records.iter().map(|r| r.seq).collect::<Vec<_>>(),
            vec![1, 3]
        );
        assert_eq!(report.corrupt.len(), 1);
        assert_eq!(report.corrupt[0].line, 2);
        assert!(report.torn_tail.is_none());
    }
}

#[cfg(test)]
mod window_tests {
    use super::*;
    use std::fs;

    fn line(seq: u64) -> Vec<u8> {
        super::tests::line_for_tests(seq)
    }

    fn keep(path: &Path, keep: u64) -> (Vec<u64>, ReplayReport) {
        let mut seqs = Vec::new();
        let progress = std::sync::atomic::AtomicU64::new(0);
        let report = replay_tail(
            path,
            false,
            Some(keep),
            None,
            |r| r.seq,
            |s| seqs.push(s),
            &progress,
        )
        .unwrap();
        (seqs, report)
    }

    #[test]
    fn only_the_newest_records_are_parsed_and_older_segments_never_opened() {
        let dir = tempfile::tempdir().unwrap();
        let active = dir.path().join("journal.jsonl");
        // Garbage in the oldest segment: parsing it would report corruption.
        fs::write(
            dir.path().join("journal.000001.jsonl"),
            b"not a journal line\n",
        )
        .unwrap();
        let rolled: Vec<u8> = (1..=5).flat_map(line).collect();
        fs::write(dir.path().join("journal.000002.jsonl"), rolled).unwrap();
        let newest: Vec<u8> = (6..=8).flat_map(line).collect();
        fs::write(&active, newest).unwrap();

        let (seqs, report) = keep(&active, 4);
        assert_eq!(seqs, vec![5, 6, 7, 8]);
        assert!(report.corrupt.is_empty(), "{:?}", report.corrupt);
        assert_eq!(report.skipped_segments, 1);
        assert_eq!(report.skipped, 4, "seqs 1-4 passed over unparsed");
        assert_eq!(report.last_seq, Some(8));

        let (seqs, report) = keep(&active, 100);
        assert_eq!(seqs.len(), 8);
        assert_eq!(report.corrupt.len(), 1, "everything read, garbage included");
    }

    #[test]
    fn a_repeated_or_backwards_seq_is_reported_and_not_applied() {
        let dir = tempfile::tempdir().unwrap();
        let active = dir.path().join("journal.jsonl");
        // Two writers on one file: each wrote its own 1, 2, 3.
        let lines: Vec<u8> = [1, 2, 1, 3, 2, 4].into_iter().flat_map(line).collect();
        fs::write(&active, lines).unwrap();
        let (records, report) = read_all(&active).unwrap();
        assert_eq!(
            records.iter().map(|r| r.seq).collect::<Vec<_>>(),
            vec![1, 2, 3, 4]
        );
        assert_eq!(report.corrupt.len(), 2, "{:?}", report.corrupt);
        assert!(
            report.corrupt[0]
                .to_string()
                .contains("repeats or goes back")
        );
        assert_eq!(report.corrupt[0].line, 3);
    }
}
