//! `--demo`: realistic traffic for a newcomer with no account. The simulator signs its
//! deliveries and POSTs them through the real receiver over loopback — the same path as
//! production — while a fake API answers replies and sends their webhooks back.
//!
//! [`Simulator`] is pure (seeded, no I/O): it says what is due at a given moment, so
//! tests can run it for hours of simulated time in milliseconds. [`samples`] makes each
//! event (`pilotwatch send` uses them too); [`fake_api`] is the provider's REST API on
//! loopback (the tests' too).

pub mod fake_api;
pub mod fake_reads;
pub mod samples;
mod simulator;

use std::time::Duration;

use chrono::Utc;

pub use simulator::Simulator;

/// The demo's traffic, running: [`Demo::finish`] ends it cleanly.
#[derive(Debug)]
pub struct Demo {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Demo {
    /// POST the simulator's traffic to `url`, signed with `secret`, at about `rate` new
    /// events a second.
    pub fn start(url: String, secret: String, rate: f64) -> Self {
        let (stop, stopping) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(run(url, secret, rate, stopping));
        Self { stop, task }
    }

    /// Stop, first posting what is still scheduled (calls end, statuses land), so the
    /// journal holds no call that never ends. Bounded: a stuck receiver cannot hold it.
    pub async fn finish(self) {
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(3), self.task).await;
    }
}

async fn run(url: String, secret: String, rate: f64, mut stop: tokio::sync::watch::Receiver<bool>) {
    let http = reqwest::Client::new();
    let mut sim = Simulator::new(u64::from(std::process::id()));
    let period = Duration::from_secs_f64(1.0 / rate.clamp(0.1, 1000.0));
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        let last = tokio::select! {
            _ = tick.tick() => false,
            _ = stop.changed() => true,
        };
        let due = if last {
            sim.finish(Utc::now())
        } else {
            sim.step(Utc::now())
        };
        for v in due {
            let body = serde_json::to_vec(&v).expect("serialisable");
            let sig = crate::signature::sign(&secret, &body);
            let _ = http
                .post(&url)
                .header("content-type", "application/json")
                .header(crate::signature::HEADER, sig)
                .body(body)
                .send()
                .await;
        }
        if last {
            return;
        }
    }
}
