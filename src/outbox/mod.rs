//! `serve --nats`: publish the journal to the stream, after the ack, never delaying it.
//!
//! The local journal decides the 2xx (fdatasync first, as always); this task tails it
//! by seq and publishes each durable record, one confirmed at a time, so a NATS outage
//! only grows a backlog that the journal already holds. On (re)connection it resumes
//! after the newest record the stream holds for this receiver (or the cursor file,
//! which also knows the trailing records the stream refused as duplicates).

mod cursor;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use parking_lot::Mutex;

use crate::bus::nats::NatsBus;
use crate::bus::{self, Bus, BusTarget, Outgoing};
use crate::ingest::Ingest;
use crate::journal::tail::Tail;
use crate::timing::Histogram;

pub use cursor::Cursor;

/// Records read and published per round.
const BATCH: usize = 256;
/// Reconnection waits grow to this.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct OutboxSettings {
    pub target: BusTarget,
    /// This receiver's name in subjects and headers (a NATS subject token).
    pub receiver: String,
    /// Copies of the stream when this receiver creates it.
    pub replicas: usize,
}

/// What the outbox has done, for `/healthz`, `/metrics` and the header.
#[derive(Debug, Default)]
pub struct OutboxStats {
    /// The newest seq the stream confirmed (stored, or already there).
    pub confirmed: AtomicU64,
    pub published: AtomicU64,
    /// Confirmed as already in the stream (another receiver had it, or a retry).
    pub duplicates: AtomicU64,
    /// From a record's journaling to its confirmation by the stream.
    pub lag: Histogram,
    /// Connected and caught up, or why not.
    pub problem: Mutex<Option<String>>,
    pub connected: std::sync::atomic::AtomicBool,
}

impl OutboxStats {
    /// Records journaled (up to `journaled`, the journal's newest durable seq) and not
    /// yet confirmed by the stream.
    pub fn backlog(&self, journaled: u64) -> u64 {
        journaled.saturating_sub(self.confirmed.load(Ordering::Relaxed))
    }

    fn set_problem(&self, why: Option<String>) {
        if let Some(w) = &why {
            tracing::warn!(why = %w, "nats outbox");
        }
        *self.problem.lock() = why;
    }
}

/// The running outbox: stop it with [`Outbox::finish`].
#[derive(Debug)]
pub struct Outbox {
    pub stats: Arc<OutboxStats>,
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Outbox {
    pub fn start(settings: OutboxSettings, ingest: Arc<Ingest>, stats: Arc<OutboxStats>) -> Self {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(run(settings, ingest, stats.clone(), stopped));
        Self { stats, stop, task }
    }

    /// Publish what is durable (for up to `grace`), save the cursor, and stop.
    pub async fn finish(self, grace: Duration) {
        let _ = self.stop.send(true);
        let mut task = self.task;
        if tokio::time::timeout(grace, &mut task).await.is_err() {
            task.abort();
        }
    }
}

async fn run(
    settings: OutboxSettings,
    ingest: Arc<Ingest>,
    stats: Arc<OutboxStats>,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) {
    let Some(journal) = ingest.journal_path().map(|p| p.to_owned()) else {
        stats.set_problem(Some("no journal: nothing to publish from".into()));
        return;
    };
    let cursor_path = cursor::path_for(&journal);
    // Until the stream says, the cursor is the best guess of where publishing stands
    // (a backlog of the whole journal would be a false alarm).
    if let Some(c) = Cursor::load(&cursor_path) {
        stats.confirmed.store(c.seq, Ordering::Relaxed);
    }
    let mut attempts = 0u32;
    loop {
        if *stopped.borrow() {
            return;
        }
        let name = format!("pilotwatch serve {}", settings.receiver);
        let session = async {
            let bus = NatsBus::connect(&settings.target, &name).await?;
            bus.ensure_stream(settings.replicas).await?;
            stats.connected.store(true, Ordering::Relaxed);
            let created = bus.stream_created().await?;
            let in_stream = bus.last_of(&settings.receiver).await?;
            let saved = Cursor::load(&cursor_path)
                .filter(|c| c.stream == settings.target.stream && c.created == created)
                .map_or(0, |c| c.seq);
            let from = in_stream.max(saved);
            publish(
                &bus,
                &settings,
                &ingest,
                &stats,
                &journal,
                from,
                &created,
                &mut stopped,
            )
            .await
        };
        let ended = session.await;
        stats.connected.store(false, Ordering::Relaxed);
        match ended {
            Ok(()) => return,
            Err(e) => {
                attempts += 1;
                stats.set_problem(Some(format!("nats: {e}")));
            }
        }
        let wait = Duration::from_millis(250 << attempts.min(5)).min(MAX_BACKOFF);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stopped.changed() => return,
        }
    }
}

/// Publish from after `from` until stopped (`Ok`) or the engine fails (`Err`).
#[allow(clippy::too_many_arguments)]
async fn publish(
    bus: &NatsBus,
    settings: &OutboxSettings,
    ingest: &Ingest,
    stats: &OutboxStats,
    journal: &std::path::Path,
    from: u64,
    created: &str,
    stopped: &mut tokio::sync::watch::Receiver<bool>,
) -> Result<(), bus::BusError> {
    let io = |e: std::io::Error| bus::BusError(format!("reading the journal: {e}"));
    let (mut tail, gap) = Tail::open(journal, from).map_err(io)?;
    if let Some(first) = gap {
        tracing::warn!(
            from,
            first,
            "records {}..{} are no longer in the journal: never published",
            from + 1,
            first - 1
        );
    }
    stats.confirmed.store(from, Ordering::Relaxed);
    stats.set_problem(None);
    let cursor_path = cursor::path_for(journal);
    let mut saved = Instant::now();
    let mut durable = ingest.watch();
    let prefix = settings.target.prefix();
    loop {
        let upto = *durable.borrow_and_update();
        let lines = tail.read(upto, BATCH).map_err(io)?;
        let stopping = *stopped.borrow();
        if lines.is_empty() {
            if saved.elapsed() >= Duration::from_secs(1) || stopping {
                save(&cursor_path, settings, created, stats);
                saved = Instant::now();
            }
            if stopping {
                return Ok(());
            }
            tokio::select! {
                _ = durable.changed() => {}
                _ = stopped.changed() => {}
                // A roll or a missed wake: look again now and then.
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            }
            continue;
        }
        // Headers and the subject take a few hundred bytes of the server's limit.
        let room = bus.max_payload().saturating_sub(4096).max(64 << 10);
        let records: Vec<(Outgoing, Option<chrono::DateTime<chrono::Utc>>)> = lines
            .into_iter()
            .map(|(seq, line)| outgoing(&prefix, &settings.receiver, seq, line, room))
            .collect();
        let (times, batch): (Vec<_>, Vec<_>) = records.into_iter().map(|(o, t)| (t, o)).unzip();
        let seqs: Vec<u64> = batch.iter().map(|o| o.seq).collect();
        let (answers, failed) = bus.publish(batch).await;
        for (i, a) in answers.iter().enumerate() {
            stats.confirmed.store(seqs[i], Ordering::Relaxed);
            if a.duplicate {
                stats.duplicates.fetch_add(1, Ordering::Relaxed);
            } else {
                stats.published.fetch_add(1, Ordering::Relaxed);
            }
            if let Some(t) = times[i] {
                let lag = (chrono::Utc::now() - t).to_std().unwrap_or_default();
                stats.lag.observe(lag);
            }
        }
        if let Some(e) = failed {
            save(&cursor_path, settings, created, stats);
            return Err(e);
        }
    }
}

/// A record too large for the server, its body cut to fit (as a refused delivery's
/// is), saying so: a record that never goes would hold up every one after it.
fn shortened(mut record: crate::record::Record, room: usize) -> Vec<u8> {
    // Escaping can double a body (or more, for controls): keep well within.
    let keep = room / 8;
    let mut cut = keep.min(record.body.len());
    // A UTF-8 body is cut between characters (a binary one anywhere).
    if std::str::from_utf8(&record.body).is_ok() {
        while std::str::from_utf8(&record.body[..cut]).is_err() {
            cut -= 1;
        }
    }
    record.body = record.body.slice(..cut);
    record.typed = None;
    record.problems.push(format!(
        "body cut to {cut} of {} bytes for NATS (the receiver's journal has it whole)",
        record.body_len
    ));
    let mut out = Vec::new();
    crate::journal::line::encode(&record, &mut out);
    out.pop();
    out
}

fn save(path: &std::path::Path, settings: &OutboxSettings, created: &str, stats: &OutboxStats) {
    let c = Cursor {
        stream: settings.target.stream.clone(),
        created: created.to_owned(),
        seq: stats.confirmed.load(Ordering::Relaxed),
    };
    if let Err(e) = c.save(path) {
        tracing::warn!(error = %e, "cannot save the outbox cursor");
    }
}

/// A journal line as the record the stream gets: subject and id from what it holds.
/// A line that does not read back (damaged) still goes, under `other`, so a dashboard
/// says so instead of the record silently missing.
fn outgoing(
    prefix: &str,
    receiver: &str,
    seq: u64,
    mut line: Vec<u8>,
    room: usize,
) -> (Outgoing, Option<chrono::DateTime<chrono::Utc>>) {
    let (subject, identity, time) = match crate::journal::line::decode(&line) {
        Ok(mut record) => {
            // A retry has its first's identity: the stream keeps one of them.
            let identity = crate::ingest::rederive(&mut record);
            let subject = bus::subject(prefix, receiver, &record);
            if line.len() > room {
                line = shortened(record.clone(), room);
            }
            (subject, identity, Some(record.received_at))
        }
        Err(_) => (format!("{prefix}.{receiver}.other.other"), None, None),
    };
    let out = Outgoing {
        subject,
        msg_id: bus::msg_id(receiver, seq, identity),
        receiver: receiver.to_owned(),
        seq,
        line: Bytes::from(line),
    };
    (out, time)
}
