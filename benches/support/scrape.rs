//! A Prometheus stand-in for the ingest bench: `/metrics` scraped on a fixed interval,
//! one scrape at a time, while the load runs.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// What [`scrape_every`] saw: how many, how long they took, the size of the last.
#[derive(Debug, Default)]
pub struct Scrapes {
    pub count: usize,
    pub median: Duration,
    pub slowest: Duration,
    pub bytes: usize,
}

/// GET `/metrics` every `every` until `stop`, as Prometheus would (one at a time).
pub async fn scrape_every(addr: SocketAddr, every: Duration, stop: Arc<AtomicBool>) -> Scrapes {
    let client = reqwest::Client::new();
    let url = format!("http://{addr}/metrics");
    let mut tick = tokio::time::interval(every);
    let (mut times, mut bytes) = (Vec::new(), 0);
    while !stop.load(Ordering::Relaxed) {
        tick.tick().await;
        let t = Instant::now();
        let res = client.get(&url).send().await.expect("scrape");
        assert!(res.status().is_success(), "{}", res.status());
        bytes = res.bytes().await.expect("scrape body").len();
        times.push(t.elapsed());
    }
    Scrapes {
        count: times.len(),
        slowest: times.iter().max().copied().unwrap_or_default(),
        median: if times.is_empty() {
            Duration::ZERO
        } else {
            super::common::median(times)
        },
        bytes,
    }
}
