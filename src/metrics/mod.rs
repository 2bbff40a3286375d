//! `GET /metrics`: what the service counts, in the Prometheus text format (0.0.4), for
//! Prometheus, Grafana and whatever else scrapes. Served on the receiver's listener, or
//! on `--metrics-listen` instead.
//!
//! Everything is read at scrape time ([`collect`]): the store's counts under a brief
//! read lock, and atomic counters kept anyway. The ack path only feeds two lock-free
//! histograms ([`crate::timing`]). Labels are bounded: event family, verdict, signature
//! result, number id (capped), never a contact or a message id. The figures hold no
//! secret and no contact, but they do tell how busy each number is: on a listener open
//! to the internet, prefer `--metrics-listen` on a private address.

mod collect;
mod snapshot;
mod write;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::encoding::prometheus_text;
use prometheus_client::registry::Registry;

use crate::receiver::ReceiverState;

pub use collect::Scrape;

pub const PATH: &str = "/metrics";
/// What the exposition is sent as: `text/plain; version=0.0.4; charset=utf-8`.
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// The exposition, as a scrape gets it.
pub fn render(state: Arc<ReceiverState>) -> Result<String, std::fmt::Error> {
    // A registry per scrape: the collector reads the service's state, and the state
    // cannot own a registry that points back at it.
    let mut registry = Registry::with_prefix("pilotwatch");
    registry.register_collector(Box::new(Scrape(state)));
    let mut text = String::with_capacity(16 << 10);
    prometheus_text::encode(&mut text, &registry)?;
    Ok(text)
}

/// The `/metrics` handler.
pub async fn scrape(State(state): State<Arc<ReceiverState>>) -> Response {
    // Counts that include every delivery acknowledged before this request.
    state.ingest.settled().await;
    // Off the runtime's workers: listing journal segments and writing per-number series
    // is blocking work, however brief.
    match tokio::task::spawn_blocking(move || render(state)).await {
        Ok(Ok(text)) => ([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response(),
        _ => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "metrics could not be written\n",
        )
            .into_response(),
    }
}

/// `--metrics-listen`: `/metrics` alone; any other path is 404 and nothing is recorded.
pub fn router(state: Arc<ReceiverState>) -> Router {
    Router::new().route(PATH, get(scrape)).with_state(state)
}
