//! Administrator roles: granting and revoking a user's one role, for the API and the
//! console alike. The permission table (`permissions.rs`) decides who may; this decides
//! what happens: a role granted anew starts with no targets (it covers every group or
//! app until targets are added), the change ends the user's sessions when a role is
//! taken away (the directory's change path), and nobody removes their own super
//! administrator role.

use crate::directory::{self, user_party};
use crate::{Actor, Core, CoreError, NotAllowed};
use idhub_domain::event::NewEvent;
use idhub_domain::user::AdminRole;
use idhub_store::orgs::Org;
use idhub_store::rows::StoredUser;

/// Grant `role` to the user `id` (`Some`), or take their role away (`None`).
pub async fn set_role(core: &Core, org: &Org, actor: &Actor, id: &str, role: Option<AdminRole>) -> Result<StoredUser, CoreError> {
    let target = directory::load_user(core, org, id).await?;
    if target.user.id.0 == actor.party.id && target.user.admin_role == Some(AdminRole::SuperAdmin) && role != Some(AdminRole::SuperAdmin) {
        return Err(CoreError::not_allowed(NotAllowed::OwnRole, "You cannot remove your own super administrator role.", vec![]));
    }
    if let Some(r) = role.filter(|r| target.user.admin_role != Some(*r)) {
        core.store.clear_role_targets(&org.id, target.user.id.as_str(), r).await?;
    }
    let now = core.now();
    directory::change_user(core, org, target.user.id.as_str(), |u| {
        let event = match (u.admin_role, role) {
            (old, new) if old == new => return Ok(vec![]),
            (_, Some(r)) => NewEvent::success(
                "user.account.privilege.grant",
                format!("Grant user privilege {}", r.as_str()),
                actor.party.clone(),
                vec![user_party(u)],
                actor.client.clone(),
            ),
            (Some(old), None) => NewEvent::success(
                "user.account.privilege.revoke",
                format!("Revoke user privilege {}", old.as_str()),
                actor.party.clone(),
                vec![user_party(u)],
                actor.client.clone(),
            ),
            (None, None) => return Ok(vec![]),
        };
        u.admin_role = role;
        u.last_updated = now;
        Ok(vec![event])
    })
    .await
}
