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
    ///
    /// With the fake API, the demo plays the provider's side too: every delivery is in its
    /// log, its numbers and their status are listed, and now and then a `delivered`
    /// webhook is lost on the way (the API still knows), for the reconciler to catch.
    pub fn start(url: String, secret: String, rate: f64, fake: Option<fake_api::FakeApi>) -> Self {
        let (stop, stopping) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(run(url, secret, rate, fake, stopping));
        Self { stop, task }
    }

    /// Stop, first posting what is still scheduled (calls end, statuses land), so the
    /// journal holds no call that never ends. Bounded: a stuck receiver cannot hold it.
    pub async fn finish(self) {
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(3), self.task).await;
    }
}

/// The first lost webhook comes this soon, then one every [`LOSE_EVERY`].
const FIRST_LOSS: Duration = Duration::from_secs(20);
const LOSE_EVERY: Duration = Duration::from_secs(240);

async fn run(
    url: String,
    secret: String,
    rate: f64,
    fake: Option<fake_api::FakeApi>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let http = reqwest::Client::new();
    let started = std::time::Instant::now();
    let mut next_loss = FIRST_LOSS;
    let mut lost = std::collections::HashSet::new();
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
            if let Some(fake) = &fake {
                let event = v["event"].as_str().unwrap_or_default();
                let id = v["data"]["id"].as_str().unwrap_or_default().to_owned();
                let lose =
                    (event == "message.delivered" && started.elapsed() >= next_loss && !last)
                        || (event == "message.read" && lost.contains(&id));
                if lose {
                    if event == "message.delivered" {
                        next_loss = started.elapsed() + LOSE_EVERY;
                        lost.insert(id.clone());
                    }
                    provider_side(fake, &v, Some(200), true);
                    continue;
                }
            }
            let body = serde_json::to_vec(&v).expect("serialisable");
            let sig = crate::signature::sign(&secret, &body);
            let answer = http
                .post(&url)
                .header("content-type", "application/json")
                .header(crate::signature::HEADER, sig)
                .body(body)
                .send()
                .await;
            if let Some(fake) = &fake {
                provider_side(fake, &v, answer.ok().map(|r| r.status().as_u16()), false);
            }
        }
        if last {
            return;
        }
    }
}

/// What the provider's API knows of a delivery the demo made (or lost): the attempt in
/// its log, the message's status, the number's state.
fn provider_side(fake: &fake_api::FakeApi, v: &serde_json::Value, code: Option<u16>, lost: bool) {
    let event = v["event"].as_str().unwrap_or_default().to_owned();
    let data = &v["data"];
    let id = data["id"].as_str().unwrap_or_default();
    fake.provider(|p| {
        // A lost one reached "us" as far as the provider knows: a proxy said 200.
        p.log(&event, v.clone(), code, if lost { "ok" } else { "" });
        match event.as_str() {
            "message.sent" if data["fromMe"] == true => p.message_status(id, "SENT"),
            "message.delivered" => p.message_status(id, "DELIVERED"),
            "message.read" => p.message_status(id, "READ"),
            "message.failed" => {
                p.message_status(id, "FAILED");
                if let Some(m) = p.messages.get_mut(id) {
                    m["errorCode"] = data["errorCode"].clone();
                    m["errorMessage"] = data["error"].clone();
                }
            }
            e if e.starts_with("number.") => {
                let n = data["numberId"].as_str().unwrap_or_default();
                if !p.numbers.iter().any(|x| x["id"] == n) {
                    let mut listed = serde_json::json!({
                        "id": n, "number": data["phone"], "name": data["displayName"],
                    });
                    // The first two are Meta Cloud API numbers (the 24-hour window
                    // applies); the third is QR-paired.
                    if p.numbers.len() < 2 {
                        listed["coexistence"] = serde_json::json!(false);
                    }
                    p.numbers.push(listed);
                }
                let state = match e {
                    "number.connected" => "connected",
                    "number.disconnected" => "disconnected",
                    _ => return,
                };
                p.statuses.insert(
                    n.to_owned(),
                    serde_json::json!({"id": n, "state": state, "stale": false, "checkedAt": Utc::now().to_rfc3339()}),
                );
            }
            _ => {}
        }
    });
}
