//! Time as a parameter: a clock the server passes around so tests can move it, and
//! Okta's timestamp format (`2013-06-24T16:39:18.000Z`).

use chrono::{DateTime, TimeZone, Utc};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// Milliseconds since the Unix epoch, the unit idhub stores times in.
pub type Millis = i64;

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Now, in epoch milliseconds.
    fn now_millis(&self) -> Millis;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_millis(&self) -> Millis {
        Utc::now().timestamp_millis()
    }
}

/// A clock tests can set and advance.
#[derive(Debug, Default, Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// A clock stopped at `millis`.
    pub fn at(millis: Millis) -> Self {
        Self(Arc::new(AtomicI64::new(millis)))
    }
    /// Move the clock forward.
    pub fn advance(&self, millis: Millis) {
        self.0.fetch_add(millis, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_millis(&self) -> Millis {
        self.0.load(Ordering::SeqCst)
    }
}

/// Okta's wire format for a timestamp.
pub fn format_millis(ms: Millis) -> String {
    match Utc.timestamp_millis_opt(ms).single() {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        None => "1970-01-01T00:00:00.000Z".to_string(),
    }
}

/// Parse an ISO-8601 / RFC 3339 timestamp (as Okta accepts in `since`, `until`, filters).
pub fn parse_timestamp(s: &str) -> Option<Millis> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc).timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_okta() {
        assert_eq!(format_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_millis(1_372_091_958_123), "2013-06-24T16:39:18.123Z");
        assert_eq!(parse_timestamp("2013-06-24T16:39:18.123Z"), Some(1_372_091_958_123));
        assert_eq!(parse_timestamp("yesterday"), None);
    }
}
