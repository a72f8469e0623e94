//! Password authentication shared by the sign-in page, `/api/v1/authn` and every place
//! that asks a signed-in user for their password again (Settings): throttling per client
//! address and per username, lockout after the org's limit of failures, and a System
//! Log event for every attempt (`user.session.start` at sign-in,
//! `user.authentication.verify` for a re-check, `user.account.lock` when it locks).

use crate::Core;
use idhub_domain::event::{ClientInfo, NewEvent, Party};
use idhub_domain::lifecycle::UserStatus;
use idhub_domain::policy::SignOnPolicy;
use idhub_domain::user::User;
use idhub_store::orgs::Org;
use idhub_store::rows::StoredUser;
use idhub_store::StoreError;
use std::collections::HashMap;
use std::sync::Mutex;

/// Why a sign-in did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthFailure {
    /// Wrong username or password, or an account that cannot sign in. Deliberately
    /// one answer, so the page does not reveal which logins exist.
    InvalidCredentials,
    /// The account is locked (now or by this attempt).
    LockedOut,
    /// Too many attempts from this address or for this username; try later.
    Throttled,
    /// Something failed inside; logged with this detail.
    Internal(String),
}

/// A successful password check.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user: StoredUser,
    /// The password has expired and must be changed.
    pub password_expired: bool,
}

/// How many sign-in attempts a minute one client address and one username may make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInLimits {
    pub per_ip_per_minute: u32,
    pub per_username_per_minute: u32,
}

impl Default for SignInLimits {
    fn default() -> Self {
        SignInLimits { per_ip_per_minute: 30, per_username_per_minute: 12 }
    }
}

/// The throttle and its limits, shared by every sign-in of the process.
#[derive(Debug, Default)]
pub struct SignInGuard {
    pub throttle: LoginThrottle,
    pub limits: SignInLimits,
}

/// Fixed one-minute windows of attempts per client address and per username.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    window: Mutex<(i64, HashMap<String, u32>)>,
}

impl LoginThrottle {
    /// Count an attempt; false when over either limit.
    pub fn allow(&self, limits: &SignInLimits, org: &str, ip: Option<&str>, username: &str, now_ms: i64) -> bool {
        let Ok(mut g) = self.window.lock() else {
            return true;
        };
        let start = now_ms.div_euclid(60_000);
        if g.0 != start {
            g.0 = start;
            g.1.clear();
        }
        let mut over = false;
        if let Some(ip) = ip {
            let c = g.1.entry(format!("ip:{org}:{ip}")).or_insert(0);
            *c += 1;
            over |= *c > limits.per_ip_per_minute;
        }
        let c = g.1.entry(format!("u:{org}:{}", username.to_lowercase())).or_insert(0);
        *c += 1;
        over |= *c > limits.per_username_per_minute;
        !over
    }
}

fn user_party(u: &User) -> Party {
    Party::new(u.id.0.clone(), "User", u.login().to_string(), u.display_name())
}

/// Check a username and password against the org's directory.
pub async fn password_login(
    core: &Core,
    org: &Org,
    username: &str,
    password: &str,
    client: &ClientInfo,
) -> Result<Authenticated, AuthFailure> {
    let now = core.now();
    let username = username.trim();
    if throttled(core, org, username, Party::new("unknown", "User", username, username), Check::SignIn.event(), client).await {
        return Err(AuthFailure::Throttled);
    }
    if username.is_empty() || password.is_empty() || username.len() > 100 || password.len() > 256 {
        return Err(AuthFailure::InvalidCredentials);
    }
    let stored = match core.store.get_user(&org.id, username).await {
        Ok(u) => u,
        Err(StoreError::NotFound) => {
            // Spend the same time as a real check so timing does not reveal logins.
            let _ = core.hasher.verify(password.to_string(), core.hasher.dummy_hash().to_string()).await;
            let ev = NewEvent::failure(
                "user.session.start",
                "User login to Okta",
                Party::new("unknown", "User", username, username),
                vec![],
                client.clone(),
                "VERIFICATION_ERROR",
            );
            let _ = core.store.create_events(&org.id, &[ev], now).await;
            return Err(AuthFailure::InvalidCredentials);
        }
        Err(e) => return Err(AuthFailure::Internal(e.to_string())),
    };
    check_known(core, org, &stored, password, client, Check::SignIn).await
}

/// What a password is checked for: the event it writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    SignIn,
    Reverify,
}

impl Check {
    fn event(self) -> (&'static str, &'static str) {
        match self {
            Check::SignIn => ("user.session.start", "User login to Okta"),
            Check::Reverify => ("user.authentication.verify", "Verify user identity with password"),
        }
    }
}

/// Count an attempt for `username` from `client` against the sign-in throttle; the
/// refusal is logged as `event` with reason RATE_LIMITED.
async fn throttled(core: &Core, org: &Org, username: &str, actor: Party, event: (&str, &str), client: &ClientInfo) -> bool {
    let now = core.now();
    if core.signin.throttle.allow(&core.signin.limits, org.id.as_str(), client.ip_address.as_deref(), username, now) {
        return false;
    }
    let ev = NewEvent::failure(event.0, event.1, actor, vec![], client.clone(), "RATE_LIMITED");
    let _ = core.store.create_events(&org.id, &[ev], now).await;
    true
}

/// Ask a signed-in user for their password again (before a change to their password or
/// factors): the same throttle, lockout counting and events as a sign-in.
pub async fn reverify_password(
    core: &Core,
    org: &Org,
    stored: &StoredUser,
    password: &str,
    client: &ClientInfo,
) -> Result<(), AuthFailure> {
    let (u, check) = (&stored.user, Check::Reverify);
    if throttled(core, org, u.login(), user_party(u), check.event(), client).await {
        return Err(AuthFailure::Throttled);
    }
    if password.is_empty() || password.len() > 256 {
        let ev = NewEvent::failure(check.event().0, check.event().1, user_party(u), vec![], client.clone(), "INVALID_CREDENTIALS");
        let _ = core.store.create_events(&org.id, &[ev], core.now()).await;
        return Err(AuthFailure::InvalidCredentials);
    }
    check_known(core, org, stored, password, client, check).await.map(|_| ())
}

/// Count a wrong factor code of a signed-in user (Settings) against the sign-in
/// throttle; false when over it.
pub async fn factor_attempt_allowed(core: &Core, org: &Org, user: &User, client: &ClientInfo) -> bool {
    !throttled(core, org, user.login(), user_party(user), ("user.authentication.auth_via_mfa", "Authentication of user via MFA"), client)
        .await
}

/// The password check of a user who exists: lockout, the hash, failure counting.
async fn check_known(
    core: &Core,
    org: &Org,
    stored: &StoredUser,
    password: &str,
    client: &ClientInfo,
    check: Check,
) -> Result<Authenticated, AuthFailure> {
    let now = core.now();
    let user = &stored.user;
    let (event_type, message) = check.event();
    let fail = |reason: &str| NewEvent::failure(event_type, message, user_party(user), vec![], client.clone(), reason);
    if user.status == UserStatus::LockedOut {
        let _ = core.store.create_events(&org.id, &[fail("LOCKED_OUT")], now).await;
        return Err(AuthFailure::LockedOut);
    }
    let Some(hash) = user.password_hash.clone() else {
        let _ = core.store.create_events(&org.id, &[fail("VERIFICATION_ERROR")], now).await;
        return Err(AuthFailure::InvalidCredentials);
    };
    let ok = core.hasher.verify(password.to_string(), hash).await;
    let can_sign_in = matches!(user.status, UserStatus::Active | UserStatus::PasswordExpired);
    if ok && can_sign_in {
        let mut u = user.clone();
        u.failed_logins = 0;
        let mut events = vec![];
        if check == Check::SignIn {
            u.last_login = Some(now);
        } else {
            events.push(NewEvent::success(event_type, message, user_party(user), vec![], client.clone()));
        }
        match core.store.update_user(&u, stored.version, &events).await {
            Ok(s) => Ok(Authenticated { password_expired: s.user.status == UserStatus::PasswordExpired, user: s }),
            Err(StoreError::Stale) => {
                Ok(Authenticated { password_expired: user.status == UserStatus::PasswordExpired, user: stored.clone() })
            }
            Err(e) => Err(AuthFailure::Internal(e.to_string())),
        }
    } else if ok {
        // Right password, but the account cannot sign in (staged, suspended, deactivated…).
        let _ = core.store.create_events(&org.id, &[fail(&format!("USER_STATUS_{}", user.status))], now).await;
        Err(AuthFailure::InvalidCredentials)
    } else {
        let policy = SignOnPolicy::from_settings(&org.settings);
        let mut u = user.clone();
        u.failed_logins += 1;
        let mut events = vec![fail("INVALID_CREDENTIALS")];
        let locks = policy.locks_after(u.failed_logins) && u.status == UserStatus::Active;
        if locks {
            u.status = UserStatus::LockedOut;
            u.status_changed = Some(now);
            u.last_updated = now;
            events.push(NewEvent::success(
                "user.account.lock",
                "Max sign in attempts exceeded",
                user_party(&u),
                vec![user_party(&u)],
                client.clone(),
            ));
        }
        match core.store.update_user(&u, stored.version, &events).await {
            Ok(_) | Err(StoreError::Stale) => {}
            Err(e) => return Err(AuthFailure::Internal(e.to_string())),
        }
        Err(if locks { AuthFailure::LockedOut } else { AuthFailure::InvalidCredentials })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_limits_per_username_and_ip() {
        let t = LoginThrottle::default();
        let now = 1_700_000_000_000;
        let limits = SignInLimits::default();
        for _ in 0..limits.per_username_per_minute {
            assert!(t.allow(&limits, "o", Some("1.1.1.1"), "sarah", now));
        }
        assert!(!t.allow(&limits, "o", Some("1.1.1.2"), "SARAH", now), "same username from elsewhere");
        assert!(t.allow(&limits, "o", Some("1.1.1.1"), "bob", now));
        assert!(t.allow(&limits, "o", Some("1.1.1.1"), "sarah", now + 60_000), "next window");
    }
}
