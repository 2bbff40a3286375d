//! [`Bus`] on NATS JetStream, through the official `async-nats` client.

use std::time::Duration;

use async_nats::jetstream::{self, consumer, kv, stream};
use bytes::Bytes;
use futures_util::StreamExt;

use super::{Asked, BoxStream, Bus, BusError, BusTarget, Incoming, Outgoing, Published, Start};
use crate::journal::tail::line_seq;
use crate::sanitize::line as clean;

/// How long a connection, a publish's ack or a request may take.
const TIMEOUT: Duration = Duration::from_secs(5);
/// What JetStream remembers message ids for: a provider's retry that lands on two
/// receivers within it is stored once (the store's own dedupe catches later ones).
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

#[derive(Debug, Clone)]
pub struct NatsBus {
    client: async_nats::Client,
    js: jetstream::Context,
    target: BusTarget,
    prefix: String,
    /// The lease bucket, opened once (leases are renewed every few seconds).
    leases: std::sync::Arc<tokio::sync::OnceCell<kv::Store>>,
}

fn err(what: &str, e: impl std::fmt::Display) -> BusError {
    BusError(format!("{what}: {}", clean(&e.to_string(), 160)))
}

impl NatsBus {
    /// Connect (within 5 s) as `name`; the client reconnects by itself from then on.
    pub async fn connect(target: &BusTarget, name: &str) -> Result<Self, BusError> {
        let mut options = match &target.creds {
            Some(path) => async_nats::ConnectOptions::with_credentials_file(path)
                .await
                .map_err(|e| err(&format!("cannot read {}", path.display()), e))?,
            None => async_nats::ConnectOptions::new(),
        };
        options = match &target.auth {
            Some((Some(user), pass)) => {
                options.user_and_password(user.clone(), pass.expose().to_owned())
            }
            Some((None, token)) => options.token(token.expose().to_owned()),
            None => options,
        };
        options = options
            .name(name)
            .connection_timeout(TIMEOUT)
            .request_timeout(Some(TIMEOUT))
            .require_tls(target.tls);
        let servers: Vec<async_nats::ServerAddr> = target
            .servers
            .iter()
            .map(|s| s.parse())
            .collect::<Result<_, _>>()
            .map_err(|e| err("bad server address", e))?;
        let client = tokio::time::timeout(TIMEOUT, options.connect(servers))
            .await
            .map_err(|_| BusError(format!("{} did not answer within 5 s", target.display())))?
            .map_err(|e| err(&format!("cannot connect to {}", target.display()), e))?;
        let js = jetstream::ContextBuilder::new()
            .timeout(TIMEOUT)
            .build(client.clone());
        Ok(Self {
            client,
            js,
            leases: Default::default(),
            prefix: target.prefix(),
            target: target.clone(),
        })
    }

    pub fn target(&self) -> &BusTarget {
        &self.target
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The stream, made if it does not exist yet (with `replicas` copies on a cluster).
    /// An existing stream is used as its operator configured it.
    pub async fn ensure_stream(&self, replicas: usize) -> Result<(), BusError> {
        let config = stream::Config {
            name: self.target.stream.clone(),
            subjects: vec![format!("{}.*.*.*", self.prefix)],
            storage: stream::StorageType::File,
            duplicate_window: DUPLICATE_WINDOW,
            num_replicas: replicas.max(1),
            ..Default::default()
        };
        self.js
            .get_or_create_stream(config)
            .await
            .map(|_| ())
            .map_err(|e| err(&format!("cannot open the stream {}", self.target.stream), e))
    }

    async fn stream(&self) -> Result<jetstream::stream::Stream, BusError> {
        self.js.get_stream(&self.target.stream).await.map_err(|e| {
            let what = format!(
                "no stream {} (has a `pilotwatch serve --nats` published yet?)",
                self.target.stream
            );
            err(&what, e)
        })
    }

    /// The largest message the server takes (its `max_payload`, 1 MB by default).
    pub fn max_payload(&self) -> usize {
        self.client.server_info().max_payload
    }

    fn topic(&self, topic: &str) -> String {
        format!("{}.{topic}", self.prefix)
    }

    async fn leases(&self, ttl: Duration) -> Result<kv::Store, BusError> {
        self.leases
            .get_or_try_init(|| self.open_leases(ttl))
            .await
            .cloned()
    }

    async fn open_leases(&self, ttl: Duration) -> Result<kv::Store, BusError> {
        let bucket = format!("{}_LEASES", self.target.stream);
        if let Ok(store) = self.js.get_key_value(&bucket).await {
            return Ok(store);
        }
        // The bucket's stream, made as a KV bucket's is: the client's own
        // `create_key_value` cannot read a 2.9 server's answer.
        let config = stream::Config {
            name: format!("KV_{bucket}"),
            subjects: vec![format!("$KV.{bucket}.>")],
            max_messages_per_subject: 1,
            max_age: ttl,
            allow_rollup: true,
            deny_delete: true,
            allow_direct: true,
            discard: stream::DiscardPolicy::New,
            storage: stream::StorageType::File,
            ..Default::default()
        };
        self.js
            .get_or_create_stream(config)
            .await
            .map_err(|e| err("cannot open the lease bucket", e))?;
        self.js
            .get_key_value(&bucket)
            .await
            .map_err(|e| err("cannot open the lease bucket", e))
    }

    /// When the stream was created: a re-created stream is another one.
    pub async fn stream_created(&self) -> Result<String, BusError> {
        let mut stream = self.stream().await?;
        let info = stream.info().await.map_err(|e| err("stream info", e))?;
        Ok(info.created.unix_timestamp_nanos().to_string())
    }

    /// The position of the newest record on the stream's record subjects (0: none).
    /// Not the stream's last sequence: that one may have been taken out, or be on a
    /// subject an operator added, and a follower would wait for it forever.
    pub async fn last_position(&self) -> Result<u64, BusError> {
        let stream = self.stream().await?;
        let subject = format!("{}.*.*.*", self.prefix);
        match stream.get_last_raw_message_by_subject(&subject).await {
            Ok(m) => Ok(m.sequence),
            Err(e) if e.kind() == stream::LastRawMessageErrorKind::NoMessageFound => Ok(0),
            Err(e) => Err(err("cannot read the stream", e)),
        }
    }
}

impl Bus for NatsBus {
    async fn publish(&self, records: Vec<Outgoing>) -> (Vec<Published>, Option<BusError>) {
        // A batch goes out as plain publishes whose acks come back to one inbox of its
        // own (what a JetStream publish is, without a request, a timer and a channel
        // for each record): one round trip a batch.
        let n = records.len();
        let inbox = self.client.new_inbox();
        let mut acks = match self.client.subscribe(format!("{inbox}.*")).await {
            Ok(s) => s,
            Err(e) => return (Vec::new(), Some(err("publish", e))),
        };
        let mut failed = None;
        let mut sent = 0;
        for (i, r) in records.into_iter().enumerate() {
            let mut headers = async_nats::HeaderMap::new();
            headers.insert("Nats-Msg-Id", r.msg_id.as_str());
            let sending = self.client.publish_with_reply_and_headers(
                r.subject,
                format!("{inbox}.{i}"),
                headers,
                r.line,
            );
            if let Err(e) = sending.await {
                failed = Some(err("publish", e));
                break;
            }
            sent += 1;
        }
        let mut answers: Vec<Option<Result<Published, BusError>>> = vec![None; sent];
        let deadline = tokio::time::Instant::now() + TIMEOUT;
        let mut got = 0;
        while got < sent {
            let m = match tokio::time::timeout_at(deadline, acks.next()).await {
                Ok(Some(m)) => m,
                Ok(None) | Err(_) => break,
            };
            let Some(i) = m
                .subject
                .rsplit('.')
                .next()
                .and_then(|i| i.parse::<usize>().ok())
                .filter(|i| *i < sent)
            else {
                continue;
            };
            if answers[i].is_none() {
                got += 1;
            }
            answers[i] = Some(ack_of(&m.payload));
        }
        let _ = acks.unsubscribe().await;
        // The answers in order, up to the first that is missing or an error.
        let mut done = Vec::with_capacity(n);
        for a in answers {
            match a {
                Some(Ok(p)) => done.push(p),
                Some(Err(e)) => return (done, Some(e)),
                None => {
                    let e = BusError("publish: no answer from the stream within 5 s".into());
                    return (done, Some(e));
                }
            }
        }
        (done, failed)
    }

    async fn held_after(&self, receiver: &str, position: u64) -> Result<Vec<(u64, u64)>, BusError> {
        let stream = self.stream().await?;
        let config = consumer::pull::OrderedConfig {
            filter_subject: format!("{}.{receiver}.*.*", self.prefix),
            deliver_policy: consumer::DeliverPolicy::ByStartSequence {
                start_sequence: position + 1,
            },
            ..Default::default()
        };
        let consumer = stream
            .create_consumer(config)
            .await
            .map_err(|e| err("cannot read the stream", e))?;
        // As many as were there when it was made: no waiting for more at the end.
        let pending = consumer.cached_info().num_pending;
        let mut messages = consumer
            .messages()
            .await
            .map_err(|e| err("cannot read the stream", e))?;
        let mut out = Vec::with_capacity(pending as usize);
        while (out.len() as u64) < pending {
            let m = tokio::time::timeout(TIMEOUT, messages.next())
                .await
                .map_err(|_| BusError("the stream stopped answering".into()))?
                .ok_or_else(|| BusError("the stream ended".into()))?
                .map_err(|e| err("reading the stream", e))?;
            let at = m.info().map_err(|e| err("a message", e))?.stream_sequence;
            let seq = line_seq(&m.payload).unwrap_or(0);
            out.push((seq, at));
        }
        Ok(out)
    }

    async fn remove(&self, position: u64) -> Result<(), BusError> {
        let stream = self.stream().await?;
        stream
            .delete_message(position)
            .await
            .map(|_| ())
            .map_err(|e| err("cannot take a record out of the stream", e))
    }

    async fn last_of(&self, receiver: &str) -> Result<u64, BusError> {
        let stream = self.stream().await?;
        let subject = format!("{}.{receiver}.*.*", self.prefix);
        match stream.get_last_raw_message_by_subject(&subject).await {
            Ok(m) => line_seq(&m.payload).ok_or_else(|| {
                BusError(format!(
                    "the last record on {subject} is not a journal line"
                ))
            }),
            Err(e) if e.kind() == stream::LastRawMessageErrorKind::NoMessageFound => Ok(0),
            Err(e) => Err(err("cannot read the stream", e)),
        }
    }

    async fn follow(
        &self,
        start: Start,
    ) -> Result<BoxStream<Result<Incoming, BusError>>, BusError> {
        let mut stream = self.stream().await?;
        let info = stream.info().await.map_err(|e| err("stream info", e))?;
        let (first, last) = (info.state.first_sequence, info.state.last_sequence);
        let from = match start {
            Start::Newest(n) => last.saturating_sub(n.saturating_sub(1)).max(first).max(1),
            Start::After(p) => p + 1,
        };
        let config = consumer::pull::OrderedConfig {
            filter_subject: format!("{}.*.*.*", self.prefix),
            deliver_policy: consumer::DeliverPolicy::ByStartSequence {
                start_sequence: from,
            },
            ..Default::default()
        };
        let messages = stream
            .create_consumer(config)
            .await
            .map_err(|e| err("cannot read the stream", e))?
            .messages()
            .await
            .map_err(|e| err("cannot read the stream", e))?;
        let records = messages.map(|m| {
            let m = m.map_err(|e| err("reading the stream", e))?;
            let position = m.info().map_err(|e| err("a message", e))?.stream_sequence;
            // `<prefix>.<receiver>.<kind>.<family>`, and a journal line `{"seq":N,…`.
            // Anything else on these subjects is handed on as it is: reading it fails
            // there, it is skipped with a warning, and following goes on past it.
            let receiver = m.subject.split('.').nth(1).unwrap_or_default().to_owned();
            let seq = line_seq(&m.payload).unwrap_or(0);
            Ok(Incoming {
                position,
                receiver,
                seq,
                line: m.payload.clone(),
            })
        });
        Ok(Box::pin(records))
    }

    async fn request(&self, topic: &str, payload: Bytes) -> Result<Bytes, BusError> {
        match self.client.request(self.topic(topic), payload).await {
            Ok(m) => Ok(m.payload),
            Err(e) if e.kind() == async_nats::RequestErrorKind::NoResponders => Err(BusError(
                "no service answers (none is connected, or none holds an API key)".into(),
            )),
            Err(e) if e.kind() == async_nats::RequestErrorKind::TimedOut => {
                Err(BusError("no service answered within 5 s".into()))
            }
            Err(e) => Err(err("request", e)),
        }
    }

    async fn answer(&self, topic: &str, group: Option<&str>) -> Result<BoxStream<Asked>, BusError> {
        let subject = self.topic(topic);
        let subscriber = match group {
            Some(g) => self.client.queue_subscribe(subject, g.to_owned()).await,
            None => self.client.subscribe(subject).await,
        }
        .map_err(|e| err("cannot subscribe", e))?;
        let client = self.client.clone();
        Ok(Box::pin(subscriber.map(move |m| {
            let client = client.clone();
            let respond = m.reply.map(|to| {
                Box::new(move |answer: Bytes| {
                    Box::pin(async move {
                        let _ = client.publish(to, answer).await;
                    }) as super::BoxFuture<()>
                }) as Box<dyn FnOnce(Bytes) -> super::BoxFuture<()> + Send>
            });
            Asked {
                payload: m.payload,
                respond,
            }
        })))
    }

    async fn announce(&self, topic: &str, payload: Bytes) -> Result<(), BusError> {
        self.client
            .publish(self.topic(topic), payload)
            .await
            .map_err(|e| err("publish", e))
    }

    async fn lease(&self, name: &str, holder: &str, ttl: Duration) -> Result<bool, BusError> {
        let leases = self.leases(ttl).await?;
        let entry = leases.entry(name).await.map_err(|e| err("lease", e))?;
        let value = Bytes::from(holder.to_owned());
        let held = match entry {
            Some(e) if e.operation == kv::Operation::Put => {
                if e.value != value {
                    return Ok(false);
                }
                leases.update(name, value, e.revision).await.is_ok()
            }
            // Free (never taken, expired or released): whoever creates it first has it.
            _ => leases.create(name, value).await.is_ok(),
        };
        Ok(held)
    }

    async fn release(&self, name: &str, holder: &str) -> Result<(), BusError> {
        let Ok(leases) = self.leases(crate::bus::LEASE_TTL).await else {
            return Ok(());
        };
        if let Ok(Some(e)) = leases.entry(name).await
            && e.operation == kv::Operation::Put
            && e.value == holder.as_bytes()
        {
            leases
                .delete_expect_revision(name, Some(e.revision))
                .await
                .map_err(|e| err("release", e))?;
        }
        Ok(())
    }
}

/// A JetStream publish's answer: `{"stream","seq","duplicate"}`, or `{"error"}`.
fn ack_of(payload: &[u8]) -> Result<Published, BusError> {
    #[derive(serde::Deserialize)]
    struct Ack {
        seq: Option<u64>,
        #[serde(default)]
        duplicate: bool,
        error: Option<serde_json::Value>,
    }
    match serde_json::from_slice::<Ack>(payload) {
        Ok(Ack {
            seq: Some(position),
            duplicate,
            error: None,
        }) => Ok(Published {
            position,
            duplicate,
        }),
        Ok(Ack { error: Some(e), .. }) => Err(BusError(format!(
            "publish refused: {}",
            clean(&e.to_string(), 160)
        ))),
        _ => Err(BusError(format!(
            "publish: an answer that is not one ({})",
            clean(&String::from_utf8_lossy(payload), 120)
        ))),
    }
}
