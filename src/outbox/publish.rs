//! One session's publishing: tail the journal, send what is durable a batch at a
//! time, count what the stream confirmed, keep the cursor.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::repair::Mark;
use super::{BATCH, Cursor, OutboxSettings, OutboxStats, cursor, records};
use crate::bus::nats::NatsBus;
use crate::bus::{Bus, BusError};
use crate::ingest::Ingest;
use crate::journal::tail::Tail;

/// What outlives a session.
#[derive(Debug, Default)]
pub(super) struct State {
    /// The newest record confirmed in order (`None`: none yet in this process).
    pub mark: Option<Mark>,
    /// Records taken out of the stream, to be published again under a new id.
    pub again: HashMap<u64, u32>,
}

pub(super) struct Context<'a> {
    pub bus: &'a NatsBus,
    pub settings: &'a OutboxSettings,
    pub ingest: &'a Ingest,
    pub stats: &'a OutboxStats,
    pub journal: &'a std::path::Path,
    pub created: &'a str,
    /// This process, as the holder of the receiver's name.
    pub instance: &'a str,
}

/// How long a receiver's name stays claimed without renewal.
pub(super) const NAME_TTL: Duration = crate::bus::LEASE_TTL;

/// The lease that claims a receiver's name on the stream.
pub(super) fn name_lease(receiver: &str) -> String {
    format!("receiver.{receiver}")
}

impl Context<'_> {
    /// Publish after `state.mark` until stopped (`Ok`) or the engine fails (`Err`).
    pub async fn run(
        &self,
        state: &mut State,
        stopped: &mut tokio::sync::watch::Receiver<bool>,
    ) -> Result<(), BusError> {
        let io = |e: std::io::Error| BusError(format!("reading the journal: {e}"));
        let from = state.mark.unwrap_or_default();
        let (mut tail, gap) = Tail::open(self.journal, from.seq).map_err(io)?;
        if let Some(first) = gap {
            tracing::warn!(
                "records {}..{} are no longer in the journal: never published",
                from.seq + 1,
                first - 1
            );
        }
        self.stats.confirmed.store(from.seq, Ordering::Relaxed);
        self.stats.set_problem(None);
        let mut saved = Instant::now();
        let mut durable = self.ingest.watch();
        let prefix = self.settings.target.prefix();
        let receiver = &self.settings.receiver;
        // Headers and the subject take a few hundred bytes of the server's limit.
        let room = self.bus.max_payload().saturating_sub(4096).max(64 << 10);
        let mut claimed = Instant::now();
        loop {
            if claimed.elapsed() >= NAME_TTL / 3 {
                let name = name_lease(&self.settings.receiver);
                if !self.bus.lease(&name, self.instance, NAME_TTL).await? {
                    return Err(BusError(format!(
                        "the name {} was taken by another receiver",
                        self.settings.receiver
                    )));
                }
                claimed = Instant::now();
            }
            let upto = *durable.borrow_and_update();
            let lines = tail.read(upto, BATCH).map_err(io)?;
            let stopping = *stopped.borrow();
            // Every second, busy or not: an old cursor makes a restart read back more.
            if saved.elapsed() >= Duration::from_secs(1) || (stopping && lines.is_empty()) {
                self.save(state);
                saved = Instant::now();
            }
            if lines.is_empty() {
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
            let mut times = Vec::with_capacity(lines.len());
            let mut batch = Vec::with_capacity(lines.len());
            for (seq, line) in lines {
                let (mut out, time) = records::outgoing(&prefix, receiver, seq, line, room);
                if let Some(n) = state.again.get(&seq) {
                    out.msg_id = format!("{}-again{n}", out.msg_id);
                }
                times.push(time);
                batch.push(out);
            }
            let seqs: Vec<u64> = batch.iter().map(|o| o.seq).collect();
            let (answers, failed) = self.bus.publish(batch).await;
            let now = chrono::Utc::now();
            for (i, a) in answers.iter().enumerate() {
                let mark = state.mark.get_or_insert_default();
                // A duplicate is answered with where the first one is (maybe far back).
                *mark = Mark {
                    seq: seqs[i],
                    position: mark.position.max(a.position),
                };
                state.again.remove(&seqs[i]);
                self.stats.confirmed.store(seqs[i], Ordering::Relaxed);
                let counter = if a.duplicate {
                    &self.stats.duplicates
                } else {
                    &self.stats.published
                };
                counter.fetch_add(1, Ordering::Relaxed);
                if let Some(t) = times[i] {
                    self.stats
                        .lag
                        .observe((now - t).to_std().unwrap_or_default());
                }
            }
            if let Some(e) = failed {
                self.save(state);
                return Err(e);
            }
        }
    }

    fn save(&self, state: &State) {
        let Some(mark) = state.mark else { return };
        if let Err(e) = save(
            self.settings,
            self.journal,
            self.created,
            mark,
            &state.again,
        ) {
            tracing::warn!(error = %e, "cannot save the outbox cursor");
        }
    }
}

fn save(
    settings: &OutboxSettings,
    journal: &std::path::Path,
    created: &str,
    mark: Mark,
    again: &HashMap<u64, u32>,
) -> std::io::Result<()> {
    let c = Cursor {
        stream: settings.target.stream.clone(),
        created: created.to_owned(),
        seq: mark.seq,
        position: mark.position,
        again: again.iter().map(|(s, n)| (*s, *n)).collect(),
    };
    c.save(&cursor::path_for(journal))
}

/// The journal as [`super::repair::repair`] reads it back.
pub(super) struct JournalAccess<'a> {
    pub settings: &'a OutboxSettings,
    pub journal: &'a std::path::Path,
    pub created: &'a str,
    pub room: usize,
    /// Ids already suffixed (a record taken out before is published under its new id).
    pub again: HashMap<u64, u32>,
}

impl super::repair::Journal for JournalAccess<'_> {
    fn record(&mut self, seq: u64) -> Option<crate::bus::Outgoing> {
        let (mut tail, _) = Tail::open(self.journal, seq.saturating_sub(1)).ok()?;
        let (at, line) = tail.read(seq, 1).ok()?.pop()?;
        if at != seq {
            return None;
        }
        let prefix = self.settings.target.prefix();
        let (mut out, _) =
            records::outgoing(&prefix, &self.settings.receiver, seq, line, self.room);
        if let Some(n) = self.again.get(&seq) {
            out.msg_id = format!("{}-again{n}", out.msg_id);
        }
        Some(out)
    }

    fn persist(&mut self, again: &HashMap<u64, u32>) -> std::io::Result<()> {
        // The position is not known yet: the stream is read back from the cursor's.
        let cursor = Cursor::load(&cursor::path_for(self.journal));
        let mark = cursor.map_or(Mark::default(), |c| Mark {
            seq: c.seq,
            position: c.position,
        });
        save(self.settings, self.journal, self.created, mark, again)
    }
}
