//! An org's sign-on and session policy: lockout after failed sign-ins, session lifetimes.
//! Stored in the org's settings; every field has Okta-like defaults.

use serde::{Deserialize, Serialize};

/// Sign-on policy of an org.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SignOnPolicy {
    /// Failed password attempts before the user is LOCKED_OUT (0 = never).
    pub max_attempts: i64,
    /// A session ends after this long without activity (minutes).
    pub session_idle_minutes: i64,
    /// A session ends this long after sign-in whatever happens (minutes).
    pub session_lifetime_minutes: i64,
}

impl Default for SignOnPolicy {
    fn default() -> Self {
        SignOnPolicy { max_attempts: 10, session_idle_minutes: 120, session_lifetime_minutes: 24 * 60 }
    }
}

impl SignOnPolicy {
    /// Read the policy from an org's settings JSON (`signOn` key); missing or invalid
    /// parts fall back to the defaults.
    pub fn from_settings(settings: &serde_json::Value) -> Self {
        settings.get("signOn").cloned().and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default()
    }

    /// Does this many consecutive failures lock the account?
    pub fn locks_after(&self, failures: i64) -> bool {
        self.max_attempts > 0 && failures >= self.max_attempts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        let p = SignOnPolicy::from_settings(&serde_json::json!({}));
        assert_eq!(p, SignOnPolicy::default());
        let p = SignOnPolicy::from_settings(&serde_json::json!({"signOn": {"maxAttempts": 3}}));
        assert_eq!(p.max_attempts, 3);
        assert_eq!(p.session_idle_minutes, 120);
        assert!(p.locks_after(3));
        assert!(!p.locks_after(2));
        assert!(!SignOnPolicy { max_attempts: 0, ..Default::default() }.locks_after(100));
    }
}
