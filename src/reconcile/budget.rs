//! How often the reconciler may call the provider: at most `per_minute` requests in any
//! sixty seconds, none while a `Retry-After` or a backoff holds, and a backoff that
//! doubles with each failure (5xx, timeouts) up to five minutes. Pure, over an
//! injected clock, so its edges are tested without waiting.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);
const FIRST_BACKOFF: Duration = Duration::from_secs(2);
const MAX_BACKOFF: Duration = Duration::from_secs(300);

#[derive(Debug)]
pub struct Budget {
    per_minute: usize,
    /// When each request of the last minute went out, oldest first.
    sent: VecDeque<Instant>,
    hold_until: Option<Instant>,
    failures: u32,
}

impl Budget {
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute: per_minute.max(1) as usize,
            sent: VecDeque::new(),
            hold_until: None,
            failures: 0,
        }
    }

    /// How long to wait before the next request may go (zero: now).
    pub fn wait(&mut self, now: Instant) -> Duration {
        self.wait_within(now, self.per_minute)
    }

    /// Places kept for the periodic reads (numbers, the webhook log, a history page
    /// asked for): lookups of stuck messages, which can be many, never take them, so a
    /// backlog of lookups does not starve the rest. A quarter of the budget, at least
    /// one where the budget allows two.
    pub fn reserve(&self) -> usize {
        (self.per_minute / 4).max(usize::from(self.per_minute >= 2))
    }

    /// [`Budget::wait`] for a request of low priority: only if it leaves the
    /// [`Budget::reserve`] free.
    pub fn wait_low(&mut self, now: Instant) -> Duration {
        self.wait_within(now, self.per_minute - self.reserve())
    }

    fn wait_within(&mut self, now: Instant, cap: usize) -> Duration {
        while self
            .sent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= WINDOW)
        {
            self.sent.pop_front();
        }
        let hold = self
            .hold_until
            .map_or(Duration::ZERO, |h| h.saturating_duration_since(now));
        let full = if self.sent.len() >= cap {
            let oldest = self.sent[self.sent.len() - cap];
            (oldest + WINDOW).saturating_duration_since(now)
        } else {
            Duration::ZERO
        };
        hold.max(full)
    }

    /// [`Budget::wait`], or [`Budget::wait_low`] for a request of low priority.
    pub fn wait_as(&mut self, now: Instant, low: bool) -> Duration {
        if low {
            self.wait_low(now)
        } else {
            self.wait(now)
        }
    }

    /// Take a place for a request now if there is one (zero), else how long to wait;
    /// `low`: only outside the [`Budget::reserve`].
    pub fn try_take(&mut self, now: Instant, low: bool) -> Duration {
        let wait = self.wait_as(now, low);
        if wait.is_zero() {
            self.take(now);
        }
        wait
    }

    /// A request goes out now (call only when [`Budget::wait`] said zero).
    pub fn take(&mut self, now: Instant) {
        self.sent.push_back(now);
    }

    /// The provider said `Retry-After`: nothing before it.
    pub fn retry_after(&mut self, now: Instant, after: Duration) {
        let until = now + after.min(Duration::from_secs(3600));
        self.hold_until = Some(self.hold_until.map_or(until, |h| h.max(until)));
    }

    /// A 5xx or a timeout: back off, longer each time in a row. Returns the wait.
    pub fn failed(&mut self, now: Instant) -> Duration {
        let wait = FIRST_BACKOFF
            .saturating_mul(1 << self.failures.min(10))
            .min(MAX_BACKOFF);
        self.failures += 1;
        self.retry_after(now, wait);
        wait
    }

    pub fn succeeded(&mut self) {
        self.failures = 0;
    }
}

/// `Retry-After` as seconds or an HTTP date; a missing or odd one counts as 30 s.
pub fn parse_retry_after(value: Option<&str>) -> Duration {
    let Some(v) = value.map(str::trim) else {
        return Duration::from_secs(30);
    };
    if let Ok(secs) = v.parse::<u64>() {
        return Duration::from_secs(secs);
    }
    chrono::DateTime::parse_from_rfc2822(v)
        .ok()
        .and_then(|t| {
            (t.with_timezone(&chrono::Utc) - chrono::Utc::now())
                .to_std()
                .ok()
        })
        .unwrap_or(Duration::from_secs(30))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_more_than_the_budget_in_any_minute() {
        let t0 = Instant::now();
        let mut b = Budget::new(3);
        for _ in 0..3 {
            assert_eq!(b.wait(t0), Duration::ZERO);
            b.take(t0);
        }
        assert_eq!(b.wait(t0), WINDOW);
        let later = t0 + Duration::from_secs(59);
        assert_eq!(b.wait(later), Duration::from_secs(1));
        assert_eq!(b.wait(t0 + WINDOW), Duration::ZERO);
    }

    #[test]
    fn lookups_leave_a_quarter_of_the_budget_to_the_polls() {
        let t0 = Instant::now();
        let mut b = Budget::new(8);
        assert_eq!(b.reserve(), 2);
        for _ in 0..6 {
            assert_eq!(b.try_take(t0, true), Duration::ZERO);
        }
        assert_eq!(
            b.try_take(t0, true),
            WINDOW,
            "the reserve is not for lookups"
        );
        assert_eq!(b.try_take(t0, false), Duration::ZERO);
        assert_eq!(b.try_take(t0, false), Duration::ZERO);
        assert_eq!(
            b.try_take(t0, false),
            WINDOW,
            "and then the budget is spent"
        );
        assert_eq!(
            Budget::new(1).reserve(),
            0,
            "a budget of one has none to spare"
        );
        assert_eq!(Budget::new(60).reserve(), 15);
    }

    #[test]
    fn retry_after_and_backoff_hold_every_request() {
        let t0 = Instant::now();
        let mut b = Budget::new(100);
        b.retry_after(t0, Duration::from_secs(7));
        assert_eq!(b.wait(t0), Duration::from_secs(7));
        let t1 = t0 + Duration::from_secs(7);
        assert_eq!(b.wait(t1), Duration::ZERO);
        assert_eq!(b.failed(t1), Duration::from_secs(2));
        assert_eq!(b.failed(t1), Duration::from_secs(4));
        assert_eq!(b.failed(t1), Duration::from_secs(8));
        assert_eq!(b.wait(t1), Duration::from_secs(8));
        for _ in 0..20 {
            b.failed(t1);
        }
        assert_eq!(b.wait(t1), MAX_BACKOFF);
        b.succeeded();
        assert_eq!(b.failed(t1 + MAX_BACKOFF), Duration::from_secs(2));
    }

    #[test]
    fn retry_after_reads_seconds_or_a_date() {
        assert_eq!(parse_retry_after(Some("12")), Duration::from_secs(12));
        assert_eq!(parse_retry_after(None), Duration::from_secs(30));
        assert_eq!(parse_retry_after(Some("soon")), Duration::from_secs(30));
        let in_a_minute = (chrono::Utc::now() + chrono::Duration::seconds(61)).to_rfc2822();
        let d = parse_retry_after(Some(&in_a_minute));
        assert!(
            d > Duration::from_secs(55) && d <= Duration::from_secs(61),
            "{d:?}"
        );
    }
}
