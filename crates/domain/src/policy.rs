//! An org's sign-on and session policy: lockout after failed sign-ins, session lifetimes.
//! Stored in the org's settings; every field has Okta-like defaults.

use serde::{Deserialize, Serialize};

/// When a second factor is required at sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MfaRequirement {
    /// Password only.
    #[default]
    Off,
    /// Everyone must use a second factor.
    Always,
    /// Members of `mfaGroupId` must use a second factor.
    Group,
}

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
    /// When MFA is required.
    pub mfa: MfaRequirement,
    /// The group whose members need MFA when `mfa` is `GROUP`.
    pub mfa_group_id: Option<String>,
}

impl Default for SignOnPolicy {
    fn default() -> Self {
        SignOnPolicy {
            max_attempts: 10,
            session_idle_minutes: 120,
            session_lifetime_minutes: 24 * 60,
            mfa: MfaRequirement::Off,
            mfa_group_id: None,
        }
    }
}

impl SignOnPolicy {
    /// Read the policy from an org's settings JSON (`signOn` key); missing or invalid
    /// parts fall back to the defaults.
    pub fn from_settings(settings: &serde_json::Value) -> Self {
        settings.get("signOn").cloned().and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default()
    }

    /// Check the values an administrator sets.
    pub fn validate(&self) -> Result<(), crate::DomainError> {
        if !(0..=100).contains(&self.max_attempts) {
            return Err(crate::DomainError::invalid("maxAttempts", "must be between 0 (never lock) and 100"));
        }
        if !(1..=7 * 24 * 60).contains(&self.session_idle_minutes) {
            return Err(crate::DomainError::invalid("sessionIdleMinutes", "must be between 1 and 10080"));
        }
        if !(1..=90 * 24 * 60).contains(&self.session_lifetime_minutes) {
            return Err(crate::DomainError::invalid("sessionLifetimeMinutes", "must be between 1 and 129600"));
        }
        if self.mfa == MfaRequirement::Group && self.mfa_group_id.as_deref().map(str::is_empty).unwrap_or(true) {
            return Err(crate::DomainError::invalid("mfaGroupId", "a group is required when mfa is GROUP"));
        }
        Ok(())
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
        let p = SignOnPolicy::from_settings(&serde_json::json!({"signOn": {"mfa": "GROUP", "mfaGroupId": "00g1"}}));
        assert_eq!(p.mfa, MfaRequirement::Group);
        assert!(p.validate().is_ok());
        assert!(SignOnPolicy { mfa: MfaRequirement::Group, ..Default::default() }.validate().is_err());
        assert!(SignOnPolicy { max_attempts: -1, ..Default::default() }.validate().is_err());
    }
}
