//! Rate limits with Okta's headers: fixed one-minute windows per org and per token.
//! Every API response carries `X-Rate-Limit-Limit/Remaining/Reset` for the tighter of
//! the two; past the limit the answer is 429 E0000047 until the reset.

use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Mutex;

/// Limits, in requests per minute.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitSettings {
    pub org_per_minute: u64,
    pub token_per_minute: u64,
    /// Sign-in attempts per minute from one client address.
    pub signin_per_ip_per_minute: u32,
    /// Sign-in attempts per minute for one username.
    pub signin_per_username_per_minute: u32,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        RateLimitSettings {
            org_per_minute: 60_000,
            token_per_minute: 30_000,
            signin_per_ip_per_minute: 30,
            signin_per_username_per_minute: 12,
        }
    }
}

/// The state of one request against the limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u64,
    pub remaining: u64,
    /// Epoch seconds when the window resets.
    pub reset: i64,
}

impl Decision {
    /// The three Okta headers.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        vec![
            ("x-rate-limit-limit", self.limit.to_string()),
            ("x-rate-limit-remaining", self.remaining.to_string()),
            ("x-rate-limit-reset", self.reset.to_string()),
        ]
    }
}

/// Counters for the current window.
#[derive(Debug)]
pub struct RateLimiter {
    settings: RateLimitSettings,
    window: Mutex<(i64, HashMap<String, u64>)>,
}

impl RateLimiter {
    /// A limiter with these limits.
    pub fn new(settings: RateLimitSettings) -> Self {
        RateLimiter { settings, window: Mutex::new((0, HashMap::new())) }
    }

    /// Count one request of `org` made with `token` (a stable token key) at `now_ms`.
    pub fn check(&self, org: &str, token: Option<&str>, now_ms: i64) -> Decision {
        let window_start = now_ms.div_euclid(60_000) * 60_000;
        let reset = (window_start + 60_000) / 1000;
        let Ok(mut guard) = self.window.lock() else {
            return Decision { allowed: true, limit: self.settings.org_per_minute, remaining: self.settings.org_per_minute, reset };
        };
        let (start, counts) = &mut *guard;
        if *start != window_start {
            *start = window_start;
            counts.clear();
        }
        let mut bump = |key: String, limit: u64| -> (u64, u64) {
            let c = counts.entry(key).or_insert(0);
            *c += 1;
            (limit, *c)
        };
        let mut tightest = bump(format!("o:{org}"), self.settings.org_per_minute);
        let mut allowed = tightest.1 <= tightest.0;
        if let Some(t) = token {
            let (limit, used) = bump(format!("t:{org}:{t}"), self.settings.token_per_minute);
            allowed &= used <= limit;
            if limit.saturating_sub(used) < tightest.0.saturating_sub(tightest.1) {
                tightest = (limit, used);
            }
        }
        let (limit, used) = tightest;
        Decision { allowed, limit, remaining: if allowed { limit.saturating_sub(used) } else { 0 }, reset }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_window_and_resets() {
        let rl = RateLimiter::new(RateLimitSettings { org_per_minute: 3, token_per_minute: 2, ..Default::default() });
        let t0 = 1_700_000_000_000;
        assert!(rl.check("o", Some("a"), t0).allowed);
        let d = rl.check("o", Some("a"), t0);
        assert!(d.allowed);
        assert_eq!(d.remaining, 0);
        assert!(!rl.check("o", Some("a"), t0).allowed);
        // another token of the same org still has its own budget, but the org's is spent
        assert!(!rl.check("o", Some("b"), t0).allowed);
        // a different org is untouched
        assert!(rl.check("p", Some("a"), t0).allowed);
        // the next window starts over
        let d = rl.check("o", Some("a"), t0 + 60_000);
        assert!(d.allowed);
        assert!(d.reset * 1000 > t0 + 60_000);
    }
}
