//! Sessions: started only by a finished sign-in ([`super::complete`]), found by the
//! secret the browser holds (its hash is what is stored), ended at sign-out or when a new
//! sign-in in the same browser replaces them. The cookie that carries the secret is the
//! web crate's.

use crate::{Core, CoreError};
use idhub_domain::event::{ClientInfo, NewEvent, Party};
use idhub_domain::policy::SignOnPolicy;
use idhub_domain::user::User;
use idhub_store::orgs::Org;
use idhub_store::rows::StoredUser;
use idhub_store::sessions::Session;
use idhub_store::{Optional, StoreError};

fn party(u: &User) -> Party {
    Party::new(u.id.0.clone(), "User", u.login(), u.display_name())
}

/// Whether a cookie's value can be a session secret at all (not looked up otherwise).
pub fn plausible_secret(secret: &str) -> bool {
    !secret.is_empty() && secret.len() <= 64
}

/// Start a session for `user` with the org's lifetimes; returns it and its secret.
pub async fn start(
    core: &Core,
    org: &Org,
    user: &StoredUser,
    amr: Vec<String>,
    client: &ClientInfo,
) -> Result<(Session, String), StoreError> {
    let now = core.now();
    let policy = SignOnPolicy::from_settings(&org.settings);
    let session = Session {
        id: format!("102{}", idhub_domain::ids::random_base62(22)),
        org_id: org.id.clone(),
        user_id: user.user.id.clone(),
        amr,
        created: now,
        last_seen: now,
        idle_timeout: policy.session_idle_minutes * 60_000,
        expires: now + policy.session_lifetime_minutes * 60_000,
    };
    let secret = idhub_domain::ids::random_base62(43);
    let ev = NewEvent::success("user.session.start", "User login to Okta", party(&user.user), vec![], client.clone());
    core.store.create_session(&session, &secret, client.ip_address.as_deref(), client.user_agent.as_deref(), &[ev]).await?;
    Ok((session, secret))
}

/// The live session a secret names, with its user (whatever the user's status).
pub async fn find(core: &Core, org: &Org, secret: &str) -> Result<Option<(Session, StoredUser)>, StoreError> {
    if !plausible_secret(secret) {
        return Ok(None);
    }
    core.store.session_with_user(&org.id, secret, core.now()).await.optional()
}

/// End the session a secret names, if it is live; true when one ended.
pub async fn end(core: &Core, org: &Org, secret: &str, client: &ClientInfo) -> Result<bool, CoreError> {
    let Some((session, user)) = find(core, org, secret).await? else {
        return Ok(false);
    };
    let ev = NewEvent::success("user.session.end", "User logout from Okta", party(&user.user), vec![], client.clone());
    core.store.delete_session(&org.id, &session.id, core.now(), &[ev]).await?;
    Ok(true)
}
