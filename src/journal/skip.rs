//! What replay passes over without decoding: lines older than the window the store can
//! hold, and the lines before a snapshot's resume point (counted only when a report
//! needs a line number), all at memchr speed.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

/// How many lines each segment holds past the newest `keep` records: whole older
/// segments are not even opened, and the oldest needed one is counted (at memchr speed,
/// no parsing) so its first lines can be passed over. `None`: replay everything.
pub(super) fn lines_to_skip(segments: &[PathBuf], keep: Option<u64>) -> io::Result<Vec<u64>> {
    let mut skip = vec![0u64; segments.len()];
    let Some(keep) = keep else {
        return Ok(skip);
    };
    let mut newer = 0u64;
    for (i, segment) in segments.iter().enumerate().rev() {
        if newer >= keep {
            skip[i] = u64::MAX;
            continue;
        }
        let lines = count_lines(segment)?;
        skip[i] = lines.saturating_sub(keep - newer);
        newer += lines;
    }
    Ok(skip)
}

/// The lines before a resume point (`(offset, counted)`), counted the first time asked.
pub(super) fn passed_over(segment: &Path, before: &mut Option<(u64, Option<u64>)>) -> u64 {
    match before {
        None => 0,
        Some((_, Some(n))) => *n,
        Some((at, counted)) => *counted.insert(count_lines_upto(segment, *at).unwrap_or(0)),
    }
}

/// Newline-terminated lines in the first `end` bytes of a file.
fn count_lines_upto(path: &Path, end: u64) -> io::Result<u64> {
    let mut f = File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    let (mut n, mut left) = (0u64, end);
    while left > 0 {
        let want = buf.len().min(left as usize);
        let read = match io::Read::read(&mut f, &mut buf[..want]) {
            Ok(0) => break,
            Ok(read) => read,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        n += memchr::memchr_iter(b'\n', &buf[..read]).count() as u64;
        left -= read as u64;
    }
    Ok(n)
}

/// Newline-terminated lines in a file, without decoding any.
fn count_lines(path: &Path) -> io::Result<u64> {
    let mut f = File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        match io::Read::read(&mut f, &mut buf) {
            Ok(0) => return Ok(n),
            Ok(read) => n += memchr::memchr_iter(b'\n', &buf[..read]).count() as u64,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}
