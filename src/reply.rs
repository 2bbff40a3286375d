//! Sending replies, on the service's side: journal the attempt, call the API, journal
//! the outcome. The dashboard only asks; what happens shows up in the store like any
//! other record (and so survives a restart, and will reach attached dashboards).

use std::sync::Arc;

use crate::api::{ApiClient, SendRequest};
use crate::ingest::{Incoming, Ingest};
use crate::model::outbound::{InReplyTo, Outbound, ReplyPhase};
use crate::record::{Record, RecordKind};

/// How to say that replies need a key, wherever it is said.
pub const NO_KEY: &str = "no API key: set PILOT_STATUS_API_KEY (or api_key in the config file)";

#[derive(Debug)]
pub struct Replier {
    api: Option<ApiClient>,
    ingest: Arc<Ingest>,
}

impl Replier {
    pub fn new(api: Option<ApiClient>, ingest: Arc<Ingest>) -> Self {
        Self { api, ingest }
    }

    pub fn can_send(&self) -> bool {
        self.api.is_some()
    }

    /// The key as the header may show it (`ps_…abcd`).
    pub fn key_masked(&self) -> Option<String> {
        self.api.as_ref().map(ApiClient::key_masked)
    }

    /// Send in the background. `attempt` > 1 is a retry: same key, same body, so a send
    /// that did reach the provider is never sent twice.
    pub fn send(
        self: &Arc<Self>,
        request: SendRequest,
        in_reply_to: Option<InReplyTo>,
        attempt: u32,
    ) {
        let this = self.clone();
        tokio::spawn(async move { this.run(request, in_reply_to, attempt).await });
    }

    async fn run(&self, request: SendRequest, in_reply_to: Option<InReplyTo>, attempt: u32) {
        let mut record = Outbound {
            phase: ReplyPhase::Sending,
            request,
            in_reply_to,
            attempt,
            accepted: None,
            error: None,
        };
        // What is not in the journal is not sent: the history must survive a restart.
        if !self.journal(&record).await {
            return;
        }
        let Some(api) = &self.api else {
            record.phase = ReplyPhase::Failed;
            record.error = Some(crate::api::ApiError::Other {
                detail: NO_KEY.into(),
            });
            self.journal(&record).await;
            return;
        };
        match api.send(&record.request).await {
            Ok(accepted) => {
                record.phase = ReplyPhase::Accepted;
                record.accepted = Some(accepted);
            }
            Err(e) => {
                tracing::warn!(error = %e, key = %record.request.idempotency_key, "reply failed");
                record.phase = ReplyPhase::Failed;
                record.error = Some(e);
            }
        }
        self.journal(&record).await;
    }

    async fn journal(&self, o: &Outbound) -> bool {
        let record = Record::local(RecordKind::Outbound, "api", o.phase.event(), o);
        match self
            .ingest
            .submit(Incoming {
                record,
                identity: None,
            })
            .await
        {
            Ok(_) => true,
            Err(e) => {
                tracing::error!(error = %e, "could not journal a reply record; not sending");
                false
            }
        }
    }
}
