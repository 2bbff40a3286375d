//! The one collector: at each scrape it copies what it needs out of the store under a
//! brief read lock, reads the atomic counters the receiver, journal writer and attach
//! endpoint already keep, and writes it all out. Nothing here runs on the ack path.
//!
//! Counts that come from the store (deliveries, signatures, forwards, API calls,
//! evictions) are folded from records, so after a restart they start again from the
//! replayed journal: the same values when the whole journal is replayed, lower when only
//! its tail is, which Prometheus takes as a counter reset (`rate` copes with both).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::DescriptorEncoder;

use super::snapshot::FromStore;
use super::write::{NONE, counter, gauge, histogram, info};
use crate::model::{EVENT_NAMES, Verdict};
use crate::receiver::ReceiverState;
use crate::record::SignatureCheck;
use crate::store::messages::by_status::STATUSES;
use crate::store::stats::{BUCKET_BOUNDS_MS, Leg};
use crate::store::tally::EventFamily;
use crate::timing;

/// Everything `/metrics` reports, read at scrape time.
#[derive(Debug)]
pub struct Scrape(pub Arc<ReceiverState>);

impl Collector for Scrape {
    fn encode(&self, mut out: DescriptorEncoder) -> Result<(), fmt::Error> {
        let state = &*self.0;
        let s = FromStore::take(state);
        let out = &mut out;
        service(out, state)?;
        deliveries(out, &s)?;
        let timings = state.ingest.timings();
        write_timing(
            out,
            "ack_latency_seconds",
            "Time from a delivery's request reaching the handler to its 2xx (once journaled).",
            &timings.ack,
        )?;
        write_timing(
            out,
            "journal_sync_seconds",
            "Time each journal fdatasync took (one per batch of deliveries).",
            &timings.sync,
        )?;
        journal(out, state)?;
        store(out, &s)?;
        messages(out, &s)?;
        downstream(out, &s, state)?;
        nats(out, state)?;
        alerts(out, &s)
    }
}

/// `--nats`: the outbox's progress (no series at all without it).
fn nats(out: &mut DescriptorEncoder, state: &ReceiverState) -> fmt::Result {
    let Some((o, _)) = &state.outbox else {
        return Ok(());
    };
    gauge(
        out,
        "nats_backlog",
        "Records journaled here and not yet confirmed by the JetStream stream.",
        [(NONE, o.backlog(*state.ingest.watch().borrow()))],
    )?;
    gauge(
        out,
        "nats_connected",
        "Whether the outbox is connected to NATS (1) or not (0).",
        [(NONE, u64::from(o.connected.load(Ordering::Relaxed)))],
    )?;
    counter(
        out,
        "nats_published",
        "Records the stream stored from this receiver.",
        [(NONE, o.published.load(Ordering::Relaxed))],
    )?;
    counter(
        out,
        "nats_duplicates",
        "Records the stream already held (the same delivery from another receiver, or a retry).",
        [(NONE, o.duplicates.load(Ordering::Relaxed))],
    )?;
    write_timing(
        out,
        "nats_publish_lag_seconds",
        "Time from a record's journaling to its confirmation by the stream.",
        &o.lag,
    )
}

fn alerts(out: &mut DescriptorEncoder, s: &FromStore) -> fmt::Result {
    let by_state = |state: usize| {
        crate::alerts::Rule::ALL
            .iter()
            .zip(&s.alerts)
            .map(move |(rule, n)| ([("alertname", rule.name())], n[state]))
    };
    gauge(
        out,
        "alerts_firing",
        "Alerts firing now, by rule (one per number for the per-number rules).",
        by_state(0),
    )?;
    gauge(
        out,
        "alerts_pending",
        "Alerts whose condition holds but not yet for the rule's `for`, by rule.",
        by_state(1),
    )?;
    let [ok, failed] = s.notified;
    counter(
        out,
        "alert_notifications",
        "Alert notifications sent (--alert-exec, --alert-webhook), by outcome.",
        [([("outcome", "ok")], ok), ([("outcome", "failed")], failed)],
    )
}

fn service(out: &mut DescriptorEncoder, state: &ReceiverState) -> fmt::Result {
    info(
        out,
        "build",
        "The pilotwatch build serving these metrics.",
        [("version", env!("CARGO_PKG_VERSION"))],
    )?;
    let up = state.started.elapsed().as_secs_f64();
    gauge(
        out,
        "uptime_seconds",
        "Seconds since the receiver started.",
        [(NONE, up)],
    )?;
    let server = &state.server;
    let load = |n: &std::sync::atomic::AtomicU64| n.load(Ordering::Relaxed);
    gauge(
        out,
        "connections",
        "Connections open on the receiver's listener.",
        [(NONE, server.open.load(Ordering::Relaxed) as u64)],
    )?;
    counter(
        out,
        "connections_refused",
        "Connections answered 503 because --max-connections were open.",
        [(NONE, load(&server.refused))],
    )?;
    counter(
        out,
        "requests_malformed",
        "Requests refused before any handler (malformed, oversized or slow head); not journaled.",
        [(NONE, load(&server.malformed))],
    )?;
    counter(
        out,
        "handler_panics",
        "Handler panics, answered 500.",
        [(NONE, load(&server.panics))],
    )?;
    counter(
        out,
        "bodies_refused",
        "Bodies refused because too many bytes of bodies were in flight (503).",
        [(NONE, load(&state.bodies.refused))],
    )
}

fn deliveries(out: &mut DescriptorEncoder, s: &FromStore) -> fmt::Result {
    let by_family = EventFamily::ALL.into_iter().flat_map(|f| {
        Verdict::ALL.into_iter().map(move |v| {
            let labels = [("family", f.as_str()), ("verdict", v.as_str())];
            (labels, s.tally.deliveries(f, v))
        })
    });
    counter(
        out,
        "deliveries",
        "Webhook deliveries received (retries included), by event family and verdict.",
        by_family,
    )?;
    // Only the documented names: a sender inventing names must not make new series.
    let mut events: BTreeMap<&str, u64> = EVENT_NAMES.iter().map(|n| (*n, 0)).collect();
    let mut other = 0;
    for (name, n) in &s.counters.by_event {
        match events.get_mut(name.as_str()) {
            Some(count) => *count += n,
            None => other += n,
        }
    }
    events.insert("other", other);
    counter(
        out,
        "events",
        "Deliveries by event name (undocumented names count as `other`).",
        events.iter().map(|(e, n)| ([("event", *e)], *n)),
    )?;
    counter(
        out,
        "signatures",
        "Deliveries by signature check result.",
        SignatureCheck::ALL.map(|r| ([("result", r.as_str())], s.counters.signature(r))),
    )?;
    counter(
        out,
        "duplicates",
        "Deliveries that repeated one already received (provider retries).",
        [(NONE, s.counters.duplicates)],
    )
}

fn write_timing(
    out: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    h: &timing::Histogram,
) -> fmt::Result {
    let snap = h.snapshot();
    histogram(
        out,
        name,
        help,
        [(NONE, snap.sum_seconds, snap.count, snap.buckets)],
    )
}

fn journal(out: &mut DescriptorEncoder, state: &ReceiverState) -> fmt::Result {
    let (segments, bytes) = state
        .ingest
        .journal_path()
        .and_then(|p| crate::journal::replay::segments(p).ok())
        .map_or((0, 0), |all| {
            let bytes = all
                .iter()
                .filter_map(|p| std::fs::metadata(p).ok())
                .map(|m| m.len())
                .sum();
            (all.len() as u64, bytes)
        });
    gauge(
        out,
        "journal_segments",
        "Journal segment files on disk (the active one included).",
        [(NONE, segments)],
    )?;
    gauge(
        out,
        "journal_bytes",
        "Bytes of all journal segments on disk.",
        [(NONE, bytes)],
    )?;
    gauge(
        out,
        "journal_writable",
        "1 while the journal takes writes; 0 once a write or sync failed (deliveries are answered 503).",
        [(NONE, u64::from(state.ingest.failure().is_none()))],
    )
}

fn store(out: &mut DescriptorEncoder, s: &FromStore) -> fmt::Result {
    gauge(
        out,
        "store_rows",
        "Rows held in memory, per table (bounded by --capacity).",
        s.rows.map(|(t, n)| ([("table", t)], n as u64)),
    )?;
    counter(
        out,
        "store_evictions",
        "Rows pushed out of memory to stay within --capacity, per table (the journal keeps them).",
        s.evicted.map(|(t, n)| ([("table", t)], n)),
    )?;
    if let Some(at) = s.last_delivery {
        let secs = at.timestamp_millis() as f64 / 1000.0;
        gauge(
            out,
            "last_delivery_timestamp_seconds",
            "When the newest delivery that was not refused arrived (Unix time).",
            [(NONE, secs)],
        )?;
    }
    Ok(())
}

fn messages(out: &mut DescriptorEncoder, s: &FromStore) -> fmt::Result {
    let samples = s.by_status.iter().flat_map(|(number, counts)| {
        STATUSES
            .iter()
            .zip(counts)
            .map(move |(st, n)| ([("number", number.as_str()), ("status", st.as_str())], *n))
    });
    gauge(
        out,
        "messages",
        "Messages in memory by number and status (numbers past 1000 count as `_other`).",
        samples,
    )?;
    let bounds = BUCKET_BOUNDS_MS
        .iter()
        .map(|ms| f64::from(*ms) / 1000.0)
        .chain([f64::INFINITY]);
    let legs = Leg::ALL
        .into_iter()
        .zip(&s.lifecycle)
        .map(|(leg, (b, sum))| {
            let label = match leg {
                Leg::SentDelivered => "sent_delivered",
                Leg::DeliveredRead => "delivered_read",
            };
            let buckets: Vec<(f64, u64)> = bounds.clone().zip(b.iter().copied()).collect();
            let count = b.iter().sum();
            ([("leg", label)], *sum as f64 / 1000.0, count, buckets)
        });
    histogram(
        out,
        "lifecycle_latency_seconds",
        "Delay between two steps of an outbound message, by the provider's event times.",
        legs,
    )
}

fn downstream(out: &mut DescriptorEncoder, s: &FromStore, state: &ReceiverState) -> fmt::Result {
    let [ok, failed, dropped] = s.forwards;
    counter(
        out,
        "forwards",
        "Deliveries forwarded to --forward-to: answered 2xx (ok), not (failed), or never sent (dropped).",
        [("ok", ok), ("failed", failed), ("dropped", dropped)].map(|(o, n)| ([("outcome", o)], n)),
    )?;
    counter(
        out,
        "api_calls",
        "Replies sent to the provider's API, by its answer (2xx, an HTTP status, timeout, unreachable, error).",
        s.tally
            .api_calls
            .iter()
            .map(|(st, n)| ([("status", st.as_str())], *n)),
    )?;
    let attach = &state.attach;
    gauge(
        out,
        "attach_clients",
        "Dashboards attached to the service right now.",
        [(NONE, attach.clients.load(Ordering::Relaxed) as u64)],
    )?;
    counter(
        out,
        "attach_dropped",
        "Attached clients dropped for falling a whole buffer behind.",
        [(NONE, attach.dropped.load(Ordering::Relaxed))],
    )?;
    counter(
        out,
        "attach_refused",
        "Attach connections refused.",
        [(NONE, attach.refused.load(Ordering::Relaxed))],
    )
}
