//! pilotwatch: receive, journal and watch Pilot Status webhooks.
//!
//! Data flows one way:
//!
//! ```text
//!  HTTP ─► receiver ─► ingest (sequencer + journal writer) ─► store ─► views
//!          verify,      seq, dedupe, group-commit fdatasync,   correlate   headless,
//!          parse        then apply and publish ─► attach, forward          tui
//! ```
//!
//! The core, lowest first:
//!
//! - [`secret`]: secrets that print masked; [`sanitize`]: untrusted text made safe;
//!   [`files`]: the files it writes opened 0600, never through a symlink.
//! - [`model`]: the provider's events, the tolerant parser, verdicts, dedupe identity.
//! - [`record`]: one delivery as journaled: the hand-off type between all stages.
//! - [`signature`]: the provider's signing scheme (`x-pilot-status-signature`), for
//!   whoever checks or makes one.
//! - [`journal`]: the durable JSONL log: line format, storage seam, replay, segments.
//! - [`store`]: bounded in-memory correlation of messages, numbers, calls, the feed.
//! - [`ingest`]: the one narrow interface from receiver to journal and store.
//! - [`receiver`]: the axum router: signature, limits, the durable 2xx.
//! - [`timing`]: lock-free histograms of the ack and `fdatasync` times; [`metrics`]:
//!   `GET /metrics`, everything above counted for Prometheus at scrape time.
//!
//! Around it:
//!
//! - [`api`]: the provider's REST client; [`reply`]: replies sent and journaled.
//! - [`forward`]: `--forward-to`, every accepted delivery on to the user's app.
//! - [`reconcile`]: the provider's side read through its API (numbers, stuck messages,
//!   the webhook log), journaled for the store to compare.
//! - [`alerts`]: the rules the service evaluates, their journaled transitions, and
//!   the notifiers (`--alert-exec`, `--alert-webhook`).
//! - [`attach`]: `serve` ⇄ `attach`: the protocol, the service's end, the client.
//! - [`service`]: the wiring the commands and the tests share (replay, bind, serve, drain).
//! - [`headless`]: one line per delivery for pipes, logs and systemd.
//! - [`tui`]: the dashboard: state, views, keymap, panes, composer, progress notes.
//! - [`demo`]: `--demo`'s traffic simulator, a sample of every event, a fake REST API.
//! - [`cli`], [`config`]: flags, env and TOML file resolved into one [`config::Settings`].
//! - [`cmd`]: one module per way the binary runs (`pilotwatch`, `serve`, `attach`,
//!   `open`, `reply`, `send`); `main.rs` only parses and dispatches.

pub mod alerts;
pub mod api;
pub mod attach;
pub mod bus;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod demo;
pub mod files;
pub mod forward;
pub mod headless;
pub mod ingest;
pub mod journal;
pub mod metrics;
pub mod model;
pub mod outbox;
pub mod receiver;
pub mod reconcile;
pub mod record;
pub mod reply;
pub mod sanitize;
pub mod secret;
pub mod serial;
pub mod service;
pub mod signature;
pub mod snapshot;
pub mod store;
pub mod timing;
pub mod tui;
