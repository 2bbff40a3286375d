//! pilotwatch: receive, journal and watch Pilot Status webhooks.
//!
//! Data flows one way:
//!
//! ```text
//!  HTTP ─► receiver ─► ingest (sequencer + journal writer) ─► store ─► views
//!          verify,      seq, dedupe, group-commit fdatasync,   correlate   headless
//!          parse        then apply and publish                             (tui later)
//! ```
//!
//! - [`model`]: the provider's events, the tolerant parser, verdicts, dedupe identity.
//! - [`record`]: one delivery as journaled: the hand-off type between all stages.
//! - [`signature`]: the provider's signing scheme, for whoever checks or makes one.
//! - [`receiver`]: the axum router: signature, limits, the durable 2xx.
//! - [`ingest`]: the one narrow interface from receiver to journal and store.
//! - [`journal`]: the durable JSONL log: line format, storage seam, replay, segments.
//! - [`store`]: bounded in-memory correlation of messages, numbers, calls, the feed.
//! - [`headless`]: one line per delivery for pipes, logs and systemd.
//! - [`cli`], [`config`]: flags, env and TOML file resolved into one [`config::Settings`].
//! - [`secret`]: secrets that print masked; [`sanitize`]: untrusted text made safe.
//! - [`files`]: the files it writes opened 0600, never through a symlink.
//! - [`service`]: the wiring the commands and the tests share (replay, bind, serve, drain).
//! - [`cmd`]: one module per way the binary runs; `main.rs` only parses and dispatches.

pub mod api;
pub mod attach;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod demo;
pub mod files;
pub mod forward;
pub mod headless;
pub mod ingest;
pub mod journal;
pub mod model;
pub mod receiver;
pub mod record;
pub mod reply;
pub mod sanitize;
pub mod secret;
pub mod service;
pub mod signature;
pub mod store;
pub mod tui;
