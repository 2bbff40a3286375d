//! `pilotwatch open` on what is not a journal: a directory or a device is refused by
//! name, and a line longer than any journal line is skipped, not buffered without end
//! (`/dev/zero` once grew forever with the progress bar at 100 %).

use std::io::{Seek, SeekFrom, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use pilotwatch::journal::replay::MAX_LINE;
use pilotwatch::record::Record;
use pilotwatch::store::Store;

/// `pilotwatch open PATH`: its exit status and stderr, killed if it outlives `limit`.
fn open(path: &std::path::Path, limit: Duration) -> (Option<i32>, String, Duration) {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_pilotwatch"))
        .arg("open")
        .arg(path)
        .env("PILOTWATCH_CONFIG", "/dev/null")
        // A backtrace asked for by the test's own environment takes ~1 s to symbolise
        // in a debug build: that would time color-eyre, not `open`.
        .env("RUST_BACKTRACE", "0")
        .env("RUST_LIB_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > limit {
            child.kill().unwrap();
            child.wait().unwrap();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = started.elapsed();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    let code = status.map(|s| s.code().unwrap_or(-1));
    assert!(code.is_some(), "still running after {limit:?}: {stderr}");
    (code, stderr, took)
}

#[test]
fn a_directory_a_device_or_a_fifo_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    for (path, what) in [
        (dir.path().to_owned(), "is a directory"),
        ("/dev/zero".into(), "is a character device"),
        (fifo, "is a fifo"),
    ] {
        let (code, stderr, took) = open(&path, Duration::from_secs(10));
        assert_ne!(code, Some(0), "{path:?}: {stderr}");
        let want = format!("not a journal file: {} {what}", path.display());
        assert!(
            stderr.contains(&want),
            "{path:?}: want {want:?} in {stderr}"
        );
        assert!(took < Duration::from_secs(2), "{path:?} took {took:?}");
        eprintln!("open {}: refused in {took:?}", path.display());
    }
}

/// Peak and current resident memory of this process, in KiB.
fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap()
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// A journal whose first "line" is 1 GiB of zeros (a sparse file: no disk used), then a
/// good line: the zeros are one corruption, the good line still loads, and memory stays
/// far below the gigabyte the old reader buffered.
#[test]
fn a_line_of_a_gigabyte_of_zeros_is_skipped_in_bounded_memory() {
    const ZEROS: u64 = 1 << 30;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("zeros.jsonl");
    let mut file = std::fs::File::create(&path).unwrap();
    file.set_len(ZEROS).unwrap();
    file.seek(SeekFrom::End(0)).unwrap();
    let mut good = b"\n".to_vec();
    let mut record = Record::delivery(7, br#"{"event":"message.received"}"#);
    record.path = "/hooks".into();
    pilotwatch::journal::line::encode(&record, &mut good);
    file.write_all(&good).unwrap();
    drop(file);

    let store = Store::shared(100);
    let progress = AtomicU64::new(0);
    let (_, rss_before) = memory_kib();
    let started = Instant::now();
    let report = pilotwatch::tui::load_journal(&path, &store, &progress, || {}).unwrap();
    let took = started.elapsed();
    let (peak, _) = memory_kib();
    let grew_mib = peak.saturating_sub(rss_before) / 1024;
    eprintln!(
        "{ZEROS} bytes of zeros then one line: read in {took:?}, peak RSS +{grew_mib} MiB, {report:?}"
    );
    assert_eq!(report.records, 1, "the good line after the zeros loads");
    assert_eq!(store.read().feed().len(), 1);
    assert_eq!(report.corrupt.len(), 1, "{report:?}");
    assert!(
        report.corrupt[0].to_string().contains("line longer than"),
        "{}",
        report.corrupt[0]
    );
    assert_eq!(
        progress.load(std::sync::atomic::Ordering::Relaxed),
        ZEROS + good.len() as u64,
        "every byte counted once"
    );
    // One line's worth (`MAX_LINE`, 64 MiB) and its growth, not the gigabyte.
    let bound = 3 * MAX_LINE / (1 << 20);
    assert!(
        grew_mib < bound,
        "peak RSS grew {grew_mib} MiB (bound {bound})"
    );
}
