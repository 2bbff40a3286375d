//! `pilotwatch attach nats://HOST:4222[/STREAM]`: the dashboard on the stream, every
//! receiver merged into one store ([`super::merge`]): the newest `--history` records,
//! then live. On a lost connection it says so and follows again from the last position
//! it holds. Requests go to the services as NATS requests; their outcomes come back as
//! records like any other.
//!
//! The same follower gives the service that evaluates alerts its view of every
//! receiver ([`view`]).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{FutureExt, StreamExt};
use parking_lot::Mutex;
use tokio::sync::{mpsc, watch};

use super::Endpoint;
use super::answer::{Answer, HEARTBEATS, Heartbeat, SEND, replay_topic};
use super::client::{Client, Link, Shared, set_reconnecting};
use super::merge::Merger;
use super::protocol::Request;
use super::protocol::ServiceInfo;
use crate::bus::nats::NatsBus;
use crate::bus::{Bus, BusTarget, Start};
use crate::record::Record;
use crate::sanitize::line as clean;
use crate::store::{SharedStore, Store};

/// Records applied under one store lock while more are already here.
const BATCH: usize = 512;
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Where a follower is.
pub(super) struct Follow<'a> {
    pub store: &'a SharedStore,
    pub merger: &'a Mutex<Merger>,
    /// The newest position applied (0: none yet).
    pub position: u64,
}

/// Records from the stream, a batch at a time.
struct Follower {
    records: crate::bus::BoxStream<Result<crate::bus::Incoming, crate::bus::BusError>>,
    /// The stream's last position when following began: live once past it.
    live_at: u64,
}

impl Follower {
    async fn start(bus: &NatsBus, position: u64, history: u64) -> Result<Self, String> {
        let start = if position == 0 {
            Start::Newest(history)
        } else {
            Start::After(position)
        };
        let live_at = bus.last_position().await.map_err(|e| e.to_string())?;
        let records = bus.follow(start).await.map_err(|e| e.to_string())?;
        Ok(Self { records, live_at })
    }

    fn live(&self, at: &Follow<'_>) -> bool {
        at.position >= self.live_at
    }

    /// The next records, merged and applied to the store (cancel-safe: it waits only
    /// for the first). How many; `Err` when the stream is lost.
    async fn next_batch(&mut self, at: &mut Follow<'_>) -> Result<usize, String> {
        let mut next = self.records.next().await;
        let mut batch: Vec<Record> = Vec::with_capacity(16);
        loop {
            match next {
                None => return Err("the stream ended".into()),
                Some(Err(e)) => return Err(e.to_string()),
                Some(Ok(incoming)) => {
                    let position = incoming.position;
                    match at.merger.lock().merge(incoming) {
                        Ok(r) => batch.push(r),
                        Err(why) => tracing::warn!(%why, "a record skipped"),
                    }
                    at.position = position;
                }
            }
            if batch.len() >= BATCH {
                break;
            }
            match self.records.next().now_or_never() {
                Some(n) => next = n,
                None => break,
            }
        }
        let n = batch.len();
        let mut s = at.store.write();
        for r in batch {
            if r.seq > s.last_seq() {
                s.apply_quietly(r);
            }
        }
        Ok(n)
    }
}

impl Client {
    /// Attach to the stream on NATS: every receiver's records, merged. Fails if the
    /// stream cannot be reached or read.
    pub async fn attach_nats(
        target: crate::bus::BusTarget,
        history: u64,
        capacity: usize,
    ) -> Result<Self, String> {
        // Fail here, plainly, rather than show a dashboard that reconnects forever.
        let bus = crate::bus::nats::NatsBus::connect(&target, "pilotwatch attach")
            .await
            .map_err(|e| e.to_string())?;
        // No stream yet (no receiver has published): wait for one, saying so.
        let note = match bus.last_position().await {
            Ok(0) => Some("the stream is empty so far".to_owned()),
            Ok(_) => None,
            Err(e) => Some(format!("{e}: waiting for it")),
        };
        drop(bus);
        let service = ServiceInfo {
            version: env!("CARGO_PKG_VERSION").into(),
            listen: target.display(),
            path: None,
            journal: None,
            signatures_checked: true,
            started: chrono::Utc::now(),
            api_key: None,
            forward_to: None,
            startup_note: note,
            alert_targets: None,
        };
        let endpoint = Endpoint::Nats(target.display());
        let store = Store::shared(capacity);
        Ok(Client::start(
            store,
            service,
            endpoint,
            |store, shared, changes, requests| {
                run(target, history, store, shared, changes, requests)
            },
        ))
    }
}

/// The dashboard's connection task (see [`Client::attach_nats`]).
pub(super) async fn run(
    target: BusTarget,
    history: u64,
    store: SharedStore,
    shared: Arc<Shared>,
    changes: watch::Sender<u64>,
    mut requests: mpsc::Receiver<Request>,
) {
    let merger = Mutex::new(Merger::new(store.read().capacity()));
    let mut at = Follow {
        store: &store,
        merger: &merger,
        position: 0,
    };
    let (answers_tx, mut answers) = mpsc::unbounded_channel::<(Option<String>, Option<String>)>();
    let mut attempts = 0u32;
    loop {
        let connected = match NatsBus::connect(&target, "pilotwatch attach").await {
            Ok(bus) => Follower::start(&bus, at.position, history)
                .await
                .map(|f| (bus, f)),
            Err(e) => Err(e.to_string()),
        };
        let (bus, mut follower) = match connected {
            Ok(c) => c,
            Err(why) => {
                attempts += 1;
                set_reconnecting(&mut shared.state.lock(), why, attempts);
                changes.send_modify(|v| *v += 1);
                let wait = Duration::from_millis(100 << attempts.min(5)).min(MAX_BACKOFF);
                tokio::time::sleep(wait).await;
                continue;
            }
        };
        attempts = 0;
        {
            let mut s = shared.state.lock();
            s.link = Link::Attached;
            s.loading = (!follower.live(&at)).then_some((0, 0));
        }
        changes.send_modify(|v| *v += 1);
        let mut beats = match bus.answer(HEARTBEATS, None).await {
            Ok(b) => b,
            Err(_) => Box::pin(futures_util::stream::pending()),
        };
        let mut got = 0u64;
        let why = loop {
            tokio::select! {
                batch = follower.next_batch(&mut at) => match batch {
                    Ok(n) => {
                        got += n as u64;
                        let mut s = shared.state.lock();
                        s.receivers = merger.lock().receivers.clone();
                        s.loading = (!follower.live(&at)).then_some((got, 0));
                        // A reply is settled once the store has it on record.
                        let store = store.read();
                        shared.pending.lock().retain(|k| store.replies().get(k).is_none());
                        drop((s, store));
                        changes.send_modify(|v| *v += 1);
                    }
                    Err(why) => break why,
                },
                Some(r) = requests.recv() => {
                    let origin = match &r {
                        Request::Replay { seq } => merger.lock().origin(*seq).map(|(n, s)| (n.to_owned(), s)),
                        _ => None,
                    };
                    tokio::spawn(ask(bus.clone(), r, origin, answers_tx.clone()));
                }
                Some((notice, lost)) = answers.recv() => {
                    let mut s = shared.state.lock();
                    s.notices.extend(notice);
                    if let Some(k) = lost {
                        shared.pending.lock().remove(&k);
                        s.lost.push(k);
                    }
                    drop(s);
                    changes.send_modify(|v| *v += 1);
                }
                Some(hb) = beats.next() => {
                    if let Ok(hb) = serde_json::from_slice::<Heartbeat>(&hb.payload) {
                        let mut m = merger.lock();
                        let Some(seen) = m.seen(clean(&hb.receiver, 64)) else { continue };
                        seen.heartbeat = Some(hb.at);
                        seen.backlog = hb.backlog;
                        seen.behind_since = match (hb.backlog, seen.behind_since) {
                            (0, _) => None,
                            (_, Some(t)) => Some(t),
                            (_, None) => Some(hb.at),
                        };
                        seen.sends = hb.sends;
                        seen.alerts = hb.alerts;
                        seen.failure = hb.failure.map(|f| clean(&f, 200));
                        shared.state.lock().receivers = m.receivers.clone();
                    }
                }
            }
        };
        let mut s = shared.state.lock();
        set_reconnecting(&mut s, why, 0);
        s.loading = None;
        drop(s);
        changes.send_modify(|v| *v += 1);
    }
}

/// Send one request; what to tell the user (and the reply key that was lost) comes
/// back on `answers`.
async fn ask(
    bus: NatsBus,
    request: Request,
    origin: Option<(String, u64)>,
    answers: mpsc::UnboundedSender<(Option<String>, Option<String>)>,
) {
    let key = match &request {
        Request::Send { request, .. } => Some(request.idempotency_key.clone()),
        _ => None,
    };
    let (topic, request) = match (request, origin) {
        (Request::Replay { .. }, Some((receiver, seq))) => {
            (replay_topic(&receiver), Request::Replay { seq })
        }
        (Request::Replay { seq }, None) => {
            let _ = answers.send((Some(format!("#{seq} is not in view: not replayed")), None));
            return;
        }
        (r, _) => (SEND.to_owned(), r),
    };
    let payload = Bytes::from(serde_json::to_vec(&request).expect("serialisable"));
    let tell = match bus.request(&topic, payload).await {
        Ok(answer) => match serde_json::from_slice::<Answer>(&answer) {
            Ok(Answer { error: None, .. }) => return,
            Ok(Answer {
                error: Some(e),
                receiver,
            }) => (
                Some(format!("{}: {}", clean(&receiver, 64), clean(&e, 200))),
                None,
            ),
            Err(_) => (Some("a service answered something unreadable".into()), None),
        },
        // Nobody to take it: nothing was sent, the reply may be sent again.
        Err(e) if e.0.starts_with("no service answers") => (Some(format!("not sent: {e}")), key),
        // Taken, perhaps, and not answered: it shows here if it went (its key keeps
        // a second try from sending twice at the provider).
        Err(e) => (
            Some(format!(
                "{e}: the reply may have gone; it shows here if it did"
            )),
            None,
        ),
    };
    let _ = answers.send(tell);
}

/// Every receiver's records in a store of `capacity`, kept in step in the background:
/// for the service that evaluates alerts. The watch turns true once the store holds
/// what the stream held when it started (then evaluating it means something).
pub fn view(
    target: BusTarget,
    capacity: usize,
) -> (
    SharedStore,
    watch::Receiver<bool>,
    tokio::task::JoinHandle<()>,
) {
    let store = Store::shared(capacity);
    let (live_tx, live) = watch::channel(false);
    let task = {
        let store = store.clone();
        tokio::spawn(async move {
            let merger = Mutex::new(Merger::new(capacity));
            let mut at = Follow {
                store: &store,
                merger: &merger,
                position: 0,
            };
            let mut wait = Duration::from_millis(250);
            loop {
                let connected = match NatsBus::connect(&target, "pilotwatch alerts").await {
                    Ok(bus) => Follower::start(&bus, at.position, capacity as u64).await,
                    Err(e) => Err(e.to_string()),
                };
                match connected {
                    Ok(mut follower) => {
                        wait = Duration::from_millis(250);
                        let why = loop {
                            if follower.live(&at) {
                                live_tx.send_if_modified(|l| !std::mem::replace(l, true));
                            }
                            if let Err(why) = follower.next_batch(&mut at).await {
                                break why;
                            }
                        };
                        tracing::warn!(%why, "nats: the alerts' view lost the stream");
                    }
                    Err(why) => tracing::warn!(%why, "nats: the alerts' view cannot follow"),
                }
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(MAX_BACKOFF);
            }
        })
    };
    (store, live, task)
}
