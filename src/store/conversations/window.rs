//! WhatsApp's customer-service window on Meta Cloud API numbers: free-form messages are
//! allowed within 24 hours of the contact's last inbound message or of a call the
//! contact started; our own messages never reopen it; outside it only approved
//! templates go through. Pure, over an injected `now`.

use chrono::{DateTime, Duration, Utc};

/// How long an inbound message (or a user-initiated call) keeps the window open.
pub const WINDOW_HOURS: i64 = 24;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Window {
    /// Not a Meta Cloud API number (or not known to be): no window applies.
    NotMeta,
    /// The contact never wrote or called: only templates.
    Never,
    /// Open, this long left.
    Open { left: Duration },
    /// Closed this long ago.
    Closed { ago: Duration },
}

impl Window {
    /// `opened`: the contact's last inbound message or user-initiated call.
    pub fn at(now: DateTime<Utc>, opened: Option<DateTime<Utc>>, meta: bool) -> Self {
        if !meta {
            return Self::NotMeta;
        }
        let Some(opened) = opened else {
            return Self::Never;
        };
        let Some(closes) = opened.checked_add_signed(Duration::hours(WINDOW_HOURS)) else {
            return Self::Never;
        };
        if now < closes {
            Self::Open { left: closes - now }
        } else {
            Self::Closed { ago: now - closes }
        }
    }

    /// A free-form message would be refused (`META_OUTSIDE_24H_WINDOW`).
    pub fn is_closed(self) -> bool {
        matches!(self, Self::Closed { .. } | Self::Never)
    }

    /// Under an hour left: worth a warning colour.
    pub fn is_closing(self) -> bool {
        matches!(self, Self::Open { left } if left < Duration::hours(1))
    }

    /// `window open: 22 h 29 m left`, `closed 3 h ago: only templates`.
    pub fn describe(self) -> String {
        match self {
            Self::Open { .. } => format!("window {}", self.short()),
            _ => self.short(),
        }
    }

    /// Beside a `window` label or under a `window` header: `open: 22 h 29 m left`,
    /// `closed 3 h ago: only templates`.
    pub fn short(self) -> String {
        let hm = |d: Duration| {
            let m = d.num_minutes().max(0);
            if m >= 60 {
                format!("{} h {} m", m / 60, m % 60)
            } else {
                format!("{} m", m.max(1))
            }
        };
        match self {
            Self::NotMeta => String::new(),
            Self::Never => "no window: the contact never wrote; only templates".into(),
            Self::Open { left } => format!("open: {} left", hm(left)),
            Self::Closed { ago } => format!("closed {} ago: only templates", hm(ago)),
        }
    }
}

/// A send refused for being outside the window, by its error code.
pub fn outside_window(code: &str) -> bool {
    code == "META_OUTSIDE_24H_WINDOW" || code == "131047"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: i64, m: i64) -> DateTime<Utc> {
        "2026-11-29T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
            + Duration::hours(h)
            + Duration::minutes(m)
    }

    #[test]
    fn open_for_exactly_24_hours_then_closed() {
        let opened = Some(t(0, 0));
        assert_eq!(
            Window::at(t(1, 31), opened, true).describe(),
            "window open: 22 h 29 m left"
        );
        assert!(!Window::at(t(23, 59), opened, true).is_closed());
        assert!(Window::at(t(23, 1), opened, true).is_closing());
        assert!(
            Window::at(t(24, 0), opened, true).is_closed(),
            "exactly 24 h: closed"
        );
        assert_eq!(
            Window::at(t(27, 0), opened, true).describe(),
            "closed 3 h 0 m ago: only templates"
        );
    }

    #[test]
    fn no_window_on_other_numbers_and_none_before_the_contact_writes() {
        assert_eq!(Window::at(t(5, 0), Some(t(0, 0)), false), Window::NotMeta);
        assert_eq!(Window::at(t(5, 0), None, false).describe(), "");
        assert!(Window::at(t(5, 0), None, true).is_closed());
        assert!(outside_window("META_OUTSIDE_24H_WINDOW") && outside_window("131047"));
    }
}
