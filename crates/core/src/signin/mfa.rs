//! Second factor at sign-in: TOTP (RFC 6238, 6 digits, 30 s, SHA-1 — what authenticator
//! apps expect), enrollment at the first sign-in where the org's policy requires MFA,
//! one use per code, and the transaction that sits between password and factor.

use crate::Core;
use idhub_domain::event::{ClientInfo, NewEvent, Party};
use idhub_domain::policy::{MfaRequirement, SignOnPolicy};
use idhub_domain::user::User;
use idhub_store::factors::{AuthnTransaction, Factor};
use idhub_store::orgs::Org;
use idhub_store::StoreError;
use rand::RngCore;
use totp_rs::{Algorithm, Secret, TOTP};

/// Okta's factor type for TOTP authenticator apps.
pub const TOTP_TYPE: &str = "token:software:totp";
/// How long a sign-in may wait for its factor.
pub const TRANSACTION_TTL_MS: i64 = 5 * 60 * 1000;
/// Wrong codes allowed in one transaction.
pub const MAX_ATTEMPTS: i64 = 5;

fn totp(secret: &[u8]) -> Option<TOTP> {
    TOTP::new(Algorithm::SHA1, 6, 1, 30, secret.to_vec()).ok()
}

/// The code for a secret at a Unix time (for tests and tools).
pub fn code_at(secret: &[u8], unix_secs: u64) -> Option<String> {
    totp(secret).map(|t| t.generate(unix_secs))
}

/// The time step a code matches (one step of clock drift either way), if any.
pub fn matching_step(secret: &[u8], code: &str, now_ms: i64) -> Option<i64> {
    let code = code.trim();
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let t = totp(secret)?;
    let now_step = now_ms.div_euclid(30_000);
    (now_step - 1..=now_step + 1).find(|step| {
        let expected = t.generate((*step * 30).max(0) as u64);
        expected.len() == code.len() && expected.bytes().zip(code.bytes()).fold(0u8, |a, (x, y)| a | (x ^ y)) == 0
    })
}

/// The base32 text of a secret (what a user types into an authenticator app).
pub fn base32(secret: &[u8]) -> String {
    Secret::Raw(secret.to_vec()).to_encoded().to_string()
}

/// Decode base32 setup-key text (as an authenticator app would).
pub fn decode_base32(text: &str) -> Option<Vec<u8>> {
    Secret::Encoded(text.trim().to_string()).to_bytes().ok()
}

/// An `otpauth://` URI for authenticator apps.
pub fn otpauth_uri(org: &Org, login: &str, secret: &[u8]) -> String {
    let enc = |s: &str| percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string();
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits=6&period=30",
        enc(&org.name),
        enc(login),
        base32(secret),
        enc(&org.name)
    )
}

fn purpose(org: &Org, factor_id: &str) -> String {
    format!("totp:{}:{factor_id}", org.id)
}

/// Open a factor's secret.
pub fn factor_secret(core: &Core, org: &Org, f: &Factor) -> Option<Vec<u8>> {
    core.sealing_key.open(&purpose(org, &f.id), &f.secret_sealed).ok()
}

/// Does the org's policy require a second factor of this user?
pub async fn mfa_required(core: &Core, org: &Org, user: &User) -> Result<bool, StoreError> {
    let policy = SignOnPolicy::from_settings(&org.settings);
    Ok(match policy.mfa {
        MfaRequirement::Off => false,
        MfaRequirement::Always => true,
        MfaRequirement::Group => {
            let Some(gid) = policy.mfa_group_id else {
                return Ok(false);
            };
            core.store.user_groups(&org.id, &user.id).await?.iter().any(|g| g.group.id.0 == gid)
        }
    })
}

/// The user's active TOTP factor, if enrolled.
pub async fn active_factor(core: &Core, org: &Org, user: &User) -> Result<Option<Factor>, StoreError> {
    Ok(core.store.list_factors(&org.id, &user.id).await?.into_iter().find(|f| f.factor_type == TOTP_TYPE && f.status == "ACTIVE"))
}

/// Start the factor step of a sign-in whose first step proved `amr`; returns the
/// transaction's secret and status.
pub async fn begin(
    core: &Core,
    org: &Org,
    user: &User,
    amr: Vec<String>,
    from_uri: Option<String>,
) -> Result<(String, AuthnTransaction), StoreError> {
    let factor = active_factor(core, org, user).await?;
    let t = AuthnTransaction {
        org_id: org.id.clone(),
        user_id: user.id.clone(),
        status: if factor.is_some() { "MFA_REQUIRED".into() } else { "MFA_ENROLL".into() },
        factor_id: factor.map(|f| f.id),
        amr,
        from_uri,
        attempts: 0,
        expires: core.now() + TRANSACTION_TTL_MS,
    };
    let secret = format!("00{}", idhub_domain::ids::random_base62(40));
    core.store.create_transaction(&t, &secret).await?;
    Ok((secret, t))
}

/// Create a pending TOTP factor for enrollment; returns it and its raw secret.
pub async fn enroll(core: &Core, org: &Org, user: &User, client: &ClientInfo) -> Result<(Factor, Vec<u8>), StoreError> {
    let mut raw = vec![0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    let id = format!("uft{}", idhub_domain::ids::random_base62(17));
    let now = core.now();
    let sealed = core.sealing_key.seal(&purpose(org, &id), &raw).map_err(|e| StoreError::Config(e.to_string()))?;
    let f = Factor {
        id,
        org_id: org.id.clone(),
        user_id: user.id.clone(),
        factor_type: TOTP_TYPE.into(),
        provider: "GOOGLE".into(),
        status: "PENDING_ACTIVATION".into(),
        secret_sealed: sealed,
        last_used_step: 0,
        created: now,
        last_updated: now,
    };
    let ev = NewEvent::success("user.mfa.factor.enroll", "Enroll factor", party(user), vec![party(user)], client.clone());
    core.store.create_factor(&f, &[ev]).await?;
    Ok((f, raw))
}

/// The event of a wrong factor code.
fn wrong_code(user: &User, client: &ClientInfo) -> NewEvent {
    NewEvent::failure(
        "user.authentication.auth_via_mfa",
        "Authentication of user via MFA",
        party(user),
        vec![],
        client.clone(),
        "INVALID_CREDENTIALS",
    )
}

fn party(u: &User) -> Party {
    Party::new(u.id.0.clone(), "User", u.login(), u.display_name())
}

/// Activate a factor enrolled from the user's settings with its first code, replacing
/// any authenticator the user had: false when the code is wrong or already used, or the
/// factor is no longer pending.
pub async fn activate_replacing(
    core: &Core,
    org: &Org,
    user: &User,
    factor: &Factor,
    code: &str,
    client: &ClientInfo,
) -> Result<bool, StoreError> {
    let now = core.now();
    let secret = factor_secret(core, org, factor).ok_or_else(|| StoreError::Corrupt("factor secret cannot be opened".into()))?;
    let Some(step) = matching_step(&secret, code, now) else {
        core.store.create_events(&org.id, &[wrong_code(user, client)], now).await?;
        return Ok(false);
    };
    let ev = NewEvent::success("user.mfa.factor.activate", "Activate factor", party(user), vec![party(user)], client.clone());
    core.store.activate_replacing(factor, step, now, &[ev]).await
}

/// Remove the user's authenticators at their own request, made in `session` (which
/// stays signed in; the user's other sessions end).
pub async fn remove_all(core: &Core, org: &Org, user: &User, session: &str, client: &ClientInfo) -> Result<u64, crate::CoreError> {
    let ev = NewEvent::success("user.mfa.factor.deactivate", "Reset factor for user", party(user), vec![party(user)], client.clone());
    crate::directory::reset_factors(core, org, user, None, ev, Some(session)).await
}

/// Why a code was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyFailure {
    /// Wrong, expired or already used code.
    InvalidCode,
    /// Too many wrong codes: the transaction is over.
    TooManyAttempts,
}

/// A sign-in transaction and the secret that names it.
#[derive(Debug, Clone, Copy)]
pub struct Pending<'a> {
    pub secret: &'a str,
    pub tx: &'a AuthnTransaction,
}

/// Check a code against a factor in a transaction; on success the factor is active and
/// the code's time step can never be used again.
pub async fn verify(
    core: &Core,
    org: &Org,
    user: &User,
    pending: Pending<'_>,
    factor: &Factor,
    code: &str,
    client: &ClientInfo,
) -> Result<Result<(), VerifyFailure>, StoreError> {
    let Pending { secret: tx_secret, tx } = pending;
    let now = core.now();
    let secret = factor_secret(core, org, factor).ok_or_else(|| StoreError::Corrupt("factor secret cannot be opened".into()))?;
    let activating = factor.status != "ACTIVE";
    if let Some(step) = matching_step(&secret, code, now) {
        let mut events = vec![NewEvent::success(
            "user.authentication.auth_via_mfa",
            "Authentication of user via MFA",
            party(user),
            vec![Party::new(factor.id.clone(), "Factor", TOTP_TYPE, "Google Authenticator")],
            client.clone(),
        )];
        if activating {
            events.push(NewEvent::success("user.mfa.factor.activate", "Activate factor", party(user), vec![party(user)], client.clone()));
        }
        if core.store.use_factor_step(factor, step, now, &events).await? {
            core.store.delete_transaction(&org.id, tx_secret).await?;
            return Ok(Ok(()));
        }
    }
    core.store.create_events(&org.id, &[wrong_code(user, client)], now).await?;
    if tx.attempts + 1 >= MAX_ATTEMPTS {
        core.store.delete_transaction(&org.id, tx_secret).await?;
        return Ok(Err(VerifyFailure::TooManyAttempts));
    }
    core.store.update_transaction(&org.id, tx_secret, &tx.status, tx.factor_id.as_deref(), true).await?;
    Ok(Err(VerifyFailure::InvalidCode))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_their_step_with_drift() {
        let secret = b"12345678901234567890";
        // RFC 6238 test vector (SHA-1, T=59 s): 94287082 -> last 6 digits
        assert_eq!(code_at(secret, 59).as_deref(), Some("287082"));
        let now_ms = 1_111_111_109_000;
        let code = code_at(secret, (now_ms / 1000) as u64).unwrap_or_default();
        assert_eq!(matching_step(secret, &code, now_ms), Some(now_ms / 30_000));
        assert!(matching_step(secret, &code, now_ms + 30_000).is_some(), "one step late is accepted");
        assert!(matching_step(secret, &code, now_ms + 90_000).is_none(), "three steps late is not");
        assert!(matching_step(secret, "12345", now_ms).is_none());
        assert!(matching_step(secret, "abcdef", now_ms).is_none());
        assert_eq!(base32(b"\x00\x00\x00\x00\x00").len(), 8);
    }
}
