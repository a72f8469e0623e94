//! API tokens: created for an administrator (the console, `idhub token create`), shown
//! once, stored as a hash; revoked by whoever the permission table allows to act on the
//! token's owner. A token acts with its owner's role of the moment (`store/src/tokens.rs`).

use crate::{Actor, Core, CoreError};
use idhub_domain::event::{NewEvent, Party};
use idhub_domain::user::AdminRole;
use idhub_store::orgs::Org;
use idhub_store::rows::StoredUser;
use idhub_store::tokens::ApiToken;
use idhub_store::Optional;

/// A token's name: 1 to 100 characters, trimmed.
pub fn check_name(name: &str) -> Result<String, CoreError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(CoreError::invalid("name", "Enter a name of 1 to 100 characters."));
    }
    Ok(name.to_string())
}

/// A token of the org by id.
pub async fn load_token(core: &Core, org: &Org, id: &str) -> Result<ApiToken, CoreError> {
    core.store.get_token(&org.id, id).await.optional()?.ok_or_else(|| CoreError::not_found(format!("{id} (ApiToken)")))
}

/// The role a token acts with, which is what revoking it is judged against: its owner's
/// current role, or the token's own when it has no owner; none when the owner is gone.
pub async fn owner_role(core: &Core, t: &ApiToken) -> Result<Option<AdminRole>, CoreError> {
    let Some(uid) = &t.user_id else { return Ok(Some(t.role)) };
    Ok(core.store.get_user(&t.org_id, uid).await.optional()?.and_then(|u| u.user.admin_role))
}

fn party(name: &str, id: &str) -> Party {
    Party::new(id, "Token", name, name)
}

/// A new token acting as `owner` with `role`; returns it with its secret (shown once).
pub async fn create_token(
    core: &Core,
    org: &Org,
    actor: &Actor,
    name: &str,
    owner: Option<&StoredUser>,
    role: AdminRole,
) -> Result<(ApiToken, String), CoreError> {
    let name = check_name(name)?;
    let secret = idhub_store::tokens::new_token_secret();
    let ev = NewEvent::success(
        "system.api_token.create",
        format!("Create API token {name}"),
        actor.party.clone(),
        vec![party(&name, "")],
        actor.client.clone(),
    );
    let owner = owner.map(|u| u.user.id.as_str());
    let t = core.store.create_token(&org.id, &name, &secret, owner, role, core.now(), &[ev]).await?;
    Ok((t, secret))
}

/// Revoke a token.
pub async fn revoke_token(core: &Core, org: &Org, actor: &Actor, t: &ApiToken) -> Result<(), CoreError> {
    let ev = NewEvent::success(
        "system.api_token.revoke",
        "Revoke API token",
        actor.party.clone(),
        vec![party(&t.name, t.id.as_str())],
        actor.client.clone(),
    );
    Ok(core.store.revoke_token(&org.id, t.id.as_str(), core.now(), &[ev]).await?)
}
