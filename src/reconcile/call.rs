//! One request to the provider, as the reconciler makes it: within the budget and the
//! in-flight limit, and what its failure means (a 401 pauses everything, a 403 turns a
//! feature off, a 429 or a 5xx holds every request for a while); and journaling what
//! the key allows, and the answers.

use std::time::Instant;

use super::Reconciler;
use super::budget::parse_retry_after;
use crate::api::ApiError;
use crate::ingest::Incoming;
use crate::model::provider::{AccessState, ApiRecord, Feature};
use crate::record::Record;

/// What a failed call means for polling.
pub(super) enum Failed {
    /// Skip this one; carry on.
    Skip,
    /// This feature is off (scope), or everything is (401).
    Off,
    /// Never ask about this one again (503 `PROVIDER_NOT_CONFIGURED`).
    Final,
}

impl Reconciler {
    pub(super) fn allowed(&self, feature: Feature) -> bool {
        let s = self.state.lock();
        !s.paused
            && !matches!(
                s.access.get(&feature),
                Some(
                    AccessState::OutOfScope | AccessState::Unauthorized | AccessState::Unavailable
                )
            )
    }

    /// One request, within the budget and the in-flight limit; its failure handled.
    pub(super) async fn call<T, F>(&self, feature: Feature, request: F) -> Result<T, Failed>
    where
        F: std::future::Future<Output = Result<T, ApiError>>,
    {
        self.call_as(feature, request, false).await
    }

    /// [`Reconciler::call`]; `low`: a stuck message's lookup, which leaves the budget's
    /// reserve to the periodic reads.
    pub(super) async fn call_as<T, F>(
        &self,
        feature: Feature,
        request: F,
        low: bool,
    ) -> Result<T, Failed>
    where
        F: std::future::Future<Output = Result<T, ApiError>>,
    {
        let _slot = loop {
            if !self.allowed(feature) {
                return Err(Failed::Off);
            }
            // Wait for the budget holding no slot (requests that could go need them),
            // then, with a slot, check again and take the place under one lock: a
            // 401, a 403 or a `Retry-After` met meanwhile stops the queued ones, and a
            // place is taken only when the request goes out.
            let wait = self.budget.lock().wait_as(Instant::now(), low);
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
                continue;
            }
            let slot = self.slots.acquire().await.map_err(|_| Failed::Off)?;
            if !self.allowed(feature) {
                return Err(Failed::Off);
            }
            let wait = self.budget.lock().try_take(Instant::now(), low);
            if wait.is_zero() {
                break slot;
            }
            drop(slot);
            tokio::time::sleep(wait).await;
        };
        match request.await {
            Ok(v) => {
                self.budget.lock().succeeded();
                self.access(feature, AccessState::Ok, "").await;
                Ok(v)
            }
            Err(e) => Err(self.failed(feature, e).await),
        }
    }

    async fn failed(&self, feature: Feature, e: ApiError) -> Failed {
        let now = Instant::now();
        match &e {
            ApiError::Status { status: 401, .. } => {
                self.state.lock().paused = true;
                let why = "the API key was refused (401): polling paused; set a valid PILOT_STATUS_API_KEY and restart";
                for f in Feature::ALL {
                    self.access(f, AccessState::Unauthorized, why).await;
                }
                Failed::Off
            }
            ApiError::Status { status: 403, .. } => {
                let why = match feature {
                    Feature::Numbers => {
                        "this key cannot list numbers (403; a number-scoped key): numbers from the API are off; a tenant-scoped key turns them on"
                    }
                    Feature::Messages => {
                        "this key cannot read messages (403; a tenant-scoped key): stuck-message lookups are off; a number-scoped key turns them on"
                    }
                    Feature::Webhooks => {
                        "this key cannot read webhook logs (403): the provider's side of Deliveries is off"
                    }
                };
                self.access(feature, AccessState::OutOfScope, why).await;
                Failed::Off
            }
            ApiError::Status {
                status: 429,
                retry_after,
                ..
            } => {
                let wait = parse_retry_after(retry_after.as_deref());
                tracing::info!(
                    seconds = wait.as_secs(),
                    "the provider's API asked to wait (429)"
                );
                self.budget.lock().retry_after(now, wait);
                Failed::Skip
            }
            ApiError::Status {
                status: 503,
                code: Some(c),
                ..
            } if c == "PROVIDER_NOT_CONFIGURED" => Failed::Final,
            ApiError::Status { status, .. } if *status >= 500 => {
                let wait = self.budget.lock().failed(now);
                tracing::info!(
                    status,
                    seconds = wait.as_secs(),
                    "the provider's API failed; backing off"
                );
                Failed::Skip
            }
            ApiError::Timeout { .. } | ApiError::Connect { .. } | ApiError::Other { .. } => {
                let wait = self.budget.lock().failed(now);
                tracing::info!(error = %e.short(), seconds = wait.as_secs(), "the provider's API did not answer; backing off");
                Failed::Skip
            }
            // 404 (a message the API does not know), 400, an unreadable answer.
            _ => {
                tracing::debug!(error = %e.short(), "API read failed");
                Failed::Skip
            }
        }
    }

    /// Journal a change of what the key allows (only a change).
    pub(super) async fn access(&self, feature: Feature, state: AccessState, detail: &str) {
        let changed = {
            let mut s = self.state.lock();
            // Once the key is refused, an answer that was in flight says nothing more.
            if s.paused && state != AccessState::Unauthorized {
                return;
            }
            s.access.insert(feature, state) != Some(state)
        };
        if changed {
            if state != AccessState::Ok {
                tracing::warn!(feature = feature.as_str(), "{detail}");
            }
            self.journal(ApiRecord::Access {
                feature,
                state,
                detail: detail.to_owned(),
            })
            .await;
        }
    }

    pub(super) async fn journal(&self, r: ApiRecord) -> bool {
        let incoming = Incoming {
            record: Record::api(&r),
            identity: None,
        };
        match self.ingest.submit(incoming).await {
            Ok(_) => true,
            Err(e) => {
                tracing::warn!(error = %e, event = r.event(), "API answer not journaled");
                false
            }
        }
    }
}
