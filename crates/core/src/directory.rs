//! The directory's operations, shared by every surface that changes users (the API, the
//! admin console, and later inbound federation and imports): validation against the
//! org's schema and password policy, lifecycle transitions, optimistic concurrency, and
//! the System Log events written with each change.

use crate::error::CoreError;
use crate::NotAllowed;
use crate::{Actor, Core};
use idhub_domain::event::{NewEvent, Party};
use idhub_domain::ids::{GroupId, UserId};
use idhub_domain::lifecycle::{self, Credentials, LifecycleOp, UserStatus};
use idhub_domain::password::PasswordPolicy;
use idhub_domain::schema::Completeness;
use idhub_domain::user::{merge_profile, normalize_login, strip_nulls, ProviderType, User};
use idhub_domain::DomainError;
use idhub_store::orgs::Org;
use idhub_store::rows::StoredUser;
use idhub_store::StoreError;
use serde_json::{Map, Value};

/// The System Log target for a user.
pub fn user_party(u: &User) -> Party {
    Party::new(u.id.0.clone(), "User", u.login().to_string(), u.display_name())
}

/// What a new user is made of.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub profile: Map<String, Value>,
    pub password: Option<String>,
    pub recovery_question: Option<String>,
    /// `None`: OKTA.
    pub provider: Option<(ProviderType, String)>,
    pub group_ids: Vec<GroupId>,
    pub activate: bool,
    /// `nextLogin=changePassword`.
    pub expire_password: bool,
    /// `None`: the org's default user type.
    pub type_id: Option<String>,
}

/// Create a user: validate, hash the password, insert with memberships and events.
pub async fn create_user(core: &Core, org: &Org, actor: &Actor, input: NewUser) -> Result<StoredUser, CoreError> {
    let mut profile = input.profile;
    strip_nulls(&mut profile);
    normalize_login(&mut profile);
    let schema = core.store.user_schema(&org.id).await?;
    schema.validate(&profile, Completeness::Full)?;
    let (provider, provider_name) = input.provider.unwrap_or((ProviderType::Okta, "OKTA".to_string()));
    if provider.is_federated() && input.password.is_some() {
        return Err(CoreError::validation("password", vec!["password: a user of a federated provider cannot have a password".into()]));
    }
    if input.expire_password && (input.password.is_none() || !input.activate) {
        return Err(CoreError::validation("nextLogin", vec!["nextLogin: changePassword needs a password and activate=true".into()]));
    }
    let type_id = match input.type_id {
        None => org.user_type_id.clone(),
        Some(t) if t == org.user_type_id => t,
        Some(_) => return Err(CoreError::validation("type", vec!["type.id: no such user type".into()])),
    };
    let login = profile.get("login").and_then(Value::as_str).unwrap_or_default().to_string();
    if let Some(pw) = &input.password {
        PasswordPolicy::default().check(pw, &login)?;
    }
    for g in &input.group_ids {
        match core.store.get_group(&org.id, g.as_str()).await {
            Ok(_) => {}
            Err(StoreError::NotFound) => {
                return Err(CoreError::validation("groupIds", vec![format!("groupIds: group {g} does not exist")]))
            }
            Err(e) => return Err(e.into()),
        }
    }
    let password_hash = match input.password.clone() {
        Some(pw) => Some(core.hasher.hash(pw).await.map_err(|e| CoreError::internal(e.to_string()))?),
        None => None,
    };
    let now = core.now();
    let creds = Credentials { has_password: password_hash.is_some(), federated: provider.is_federated() };
    let status = lifecycle::initial_status(input.activate, creds, input.expire_password);
    let activated = (status != UserStatus::Staged).then_some(now);
    let user = User {
        id: UserId::generate(),
        org_id: org.id.clone(),
        status,
        transitioning_to: None,
        profile,
        type_id,
        provider,
        provider_name,
        password_hash,
        recovery_question: input.recovery_question,
        created: now,
        activated,
        status_changed: activated,
        last_login: None,
        last_updated: now,
        password_changed: input.password.as_ref().map(|_| now),
        admin_role: None,
        failed_logins: 0,
    };
    let ev = |t: &str, m: &str, targets: Vec<Party>| NewEvent::success(t, m, actor.party.clone(), targets, actor.client.clone());
    let mut events = vec![ev("user.lifecycle.create", "Create okta user", vec![user_party(&user)])];
    if input.activate {
        events.push(ev("user.lifecycle.activate", "Activate okta user", vec![user_party(&user)]));
    }
    for g in &input.group_ids {
        events.push(ev(
            "group.user_membership.add",
            "Add user to group membership",
            vec![user_party(&user), Party::new(g.0.clone(), "UserGroup", g.0.clone(), g.0.clone())],
        ));
    }
    core.store.create_user(&user, &input.group_ids, &events).await.map_err(|e| match e {
        StoreError::Conflict(_) => CoreError::from(DomainError::Conflict("login".into())),
        StoreError::NotFound => CoreError::validation("groupIds", vec!["groupIds: a group does not exist".into()]),
        other => other.into(),
    })
}

/// A user of the org by id or login, or Okta's 404.
pub async fn load_user(core: &Core, org: &Org, id: &str) -> Result<StoredUser, CoreError> {
    match core.store.get_user(&org.id, id).await {
        Ok(u) => Ok(u),
        Err(StoreError::NotFound) => Err(CoreError::not_found(format!("{id} (User)"))),
        Err(e) => Err(e.into()),
    }
}

/// Changes to a user's credentials or privileges after which the user's sessions end
/// (all of them, or all but the one the user made the change in): password change, reset
/// and expiry, factor resets, an admin role taken away.
const ENDS_SESSIONS: [&str; 6] = [
    "user.account.update_password",
    "user.account.reset_password",
    "user.account.expire_password",
    "user.account.privilege.revoke",
    "user.mfa.factor.reset_all",
    "user.mfa.factor.deactivate",
];

/// End `user`'s sessions after a change that [`ENDS_SESSIONS`] names, all but `keep`,
/// with Okta's `user.session.clear` event (actor and client of the change). Every such
/// change goes through here: the user changes of this module and [`reset_factors`].
async fn end_sessions_after(core: &Core, org: &Org, user: &User, change: &[NewEvent], keep: Option<&str>) -> Result<(), CoreError> {
    let Some(cause) = change.iter().find(|e| ENDS_SESSIONS.contains(&e.event_type.as_str())) else {
        return Ok(());
    };
    let ev = NewEvent::success(
        "user.session.clear",
        format!("Clear user session ({})", cause.event_type),
        cause.actor.clone(),
        vec![user_party(user)],
        cause.client.clone(),
    );
    core.store.end_user_sessions(&org.id, &user.id, keep, core.now(), &[ev]).await?;
    Ok(())
}

/// Remove a user's factors (one, or all with `None`) with `event`, then end their
/// sessions (all but `keep`). Returns how many factors were removed.
pub async fn reset_factors(
    core: &Core,
    org: &Org,
    user: &User,
    factor: Option<&str>,
    event: NewEvent,
    keep: Option<&str>,
) -> Result<u64, CoreError> {
    let events = [event];
    let n = core.store.delete_factors(&org.id, &user.id, factor, core.now(), &events).await?;
    // A reset of all factors ends the sessions even when there were none to remove (the
    // admin suspects the account); one factor, only when it existed.
    if n > 0 || factor.is_none() {
        end_sessions_after(core, org, user, &events, keep).await?;
    }
    Ok(n)
}

/// Apply a change to a user with optimistic concurrency, retrying on a lost race.
/// The closure returns the events of the change (none: nothing to write).
pub async fn change_user<F>(core: &Core, org: &Org, id: &str, change: F) -> Result<StoredUser, CoreError>
where
    F: FnMut(&mut User) -> Result<Vec<NewEvent>, CoreError>,
{
    change_user_keeping(core, org, id, None, None, change).await
}

/// [`change_user`] for a change that sets the password to `new_password`: apps whose
/// provisioning syncs passwords get it with their reconcile job, sealed.
pub async fn change_user_with_password<F>(
    core: &Core,
    org: &Org,
    id: &str,
    new_password: Option<&str>,
    change: F,
) -> Result<StoredUser, CoreError>
where
    F: FnMut(&mut User) -> Result<Vec<NewEvent>, CoreError>,
{
    change_user_keeping(core, org, id, new_password, None, change).await
}

/// The change path every user change takes: [`change_user_with_password`], and after a
/// change to credentials or privileges the user's sessions end, all but `keep_session`.
async fn change_user_keeping<F>(
    core: &Core,
    org: &Org,
    id: &str,
    new_password: Option<&str>,
    keep_session: Option<&str>,
    mut change: F,
) -> Result<StoredUser, CoreError>
where
    F: FnMut(&mut User) -> Result<Vec<NewEvent>, CoreError>,
{
    for _ in 0..5 {
        let current = load_user(core, org, id).await?;
        let mut user = current.user.clone();
        let events = change(&mut user)?;
        if events.is_empty() {
            return Ok(current);
        }
        // Provisioned apps reconcile this user after the change (planned by the store in the
        // same transaction); those that sync passwords get the new one, sealed.
        let passwords = match new_password.filter(|_| !user.provider.is_federated()) {
            Some(pw) => crate::provisioning::sealed_passwords(core, &org.id, user.id.as_str(), pw).await?,
            None => Default::default(),
        };
        match core.store.update_user_planned(&user, current.version, &events, &passwords).await {
            Ok(stored) => {
                end_sessions_after(core, org, &stored.user, &events, keep_session).await?;
                return Ok(stored);
            }
            Err(StoreError::Stale) => continue,
            Err(StoreError::Conflict(_)) => return Err(DomainError::Conflict("login".into()).into()),
            Err(e) => return Err(e.into()),
        }
    }
    Err(StoreError::Stale.into())
}

/// A change to a user's profile and credentials.
#[derive(Debug, Clone, Default)]
pub struct UserUpdate {
    pub profile: Option<Map<String, Value>>,
    /// Replace the whole profile (PUT) instead of merging.
    pub full: bool,
    pub password: Option<String>,
    pub recovery_question: Option<String>,
    /// The user's own session the change was made in, which a password change leaves
    /// signed in (an admin's change ends every session).
    pub keep_session: Option<String>,
}

/// Update a user's profile and/or credentials.
pub async fn update_user(core: &Core, org: &Org, actor: &Actor, id: &str, upd: UserUpdate) -> Result<StoredUser, CoreError> {
    let schema = core.store.user_schema(&org.id).await?;
    if let Some(p) = &upd.profile {
        schema.validate(p, if upd.full { Completeness::Full } else { Completeness::Partial })?;
    }
    let existing = load_user(core, org, id).await?;
    if upd.profile.is_some() {
        // a profile sourced by an app (Import with profile sourcing) changes only there
        if let Some(source) = crate::import::profile_source(core, &org.id, existing.user.id.as_str()).await? {
            return Err(CoreError::validation(
                "profile",
                vec![format!("profile: this user's profile is sourced by {source} (the profile source); change it there")],
            ));
        }
    }
    let password_hash = match &upd.password {
        Some(pw) => {
            if existing.user.provider.is_federated() {
                return Err(CoreError::not_allowed(
                    NotAllowed::MasteredElsewhere,
                    "Operation failed because user profile is mastered under another system",
                    vec![],
                ));
            }
            let login =
                upd.profile.as_ref().and_then(|p| p.get("login")).and_then(Value::as_str).unwrap_or(existing.user.login()).to_string();
            PasswordPolicy::default().check(pw, &login)?;
            Some(core.hasher.hash(pw.clone()).await.map_err(|e| CoreError::internal(e.to_string()))?)
        }
        None => None,
    };
    let now = core.now();
    let ev = |t: &str, m: &str, u: &User| NewEvent::success(t, m, actor.party.clone(), vec![user_party(u)], actor.client.clone());
    change_user_keeping(core, org, existing.user.id.as_str(), upd.password.as_deref(), upd.keep_session.as_deref(), |user| {
        let mut events = Vec::new();
        if let Some(p) = &upd.profile {
            let mut next = if upd.full { Map::new() } else { user.profile.clone() };
            merge_profile(&mut next, p);
            normalize_login(&mut next);
            schema.validate(&next, Completeness::Full)?;
            if next != user.profile {
                user.profile = next;
                events.push(ev("user.account.update_profile", "Update user profile for Okta", user));
            }
        }
        if let Some(h) = &password_hash {
            user.password_hash = Some(h.clone());
            user.password_changed = Some(now);
            let next = lifecycle::after_password_set(user.status);
            if next != user.status {
                user.status = next;
                user.status_changed = Some(now);
            }
            events.push(ev("user.account.update_password", "Update user password", user));
        }
        if let Some(q) = &upd.recovery_question {
            user.recovery_question = Some(q.clone());
            events.push(ev("user.account.update_recovery_question", "Update recovery question", user));
        }
        if !events.is_empty() {
            user.last_updated = now;
        }
        Ok(events)
    })
    .await
}

/// Apply a lifecycle operation.
pub async fn apply_lifecycle(core: &Core, org: &Org, actor: &Actor, id: &str, op: LifecycleOp) -> Result<StoredUser, CoreError> {
    let now = core.now();
    let stored = change_user(core, org, id, |user| {
        let t = lifecycle::transition(user.status, op, user.credentials())?;
        if t.no_op {
            return Ok(vec![]);
        }
        if t.clears_password {
            user.password_hash = None;
        }
        if t.to != user.status {
            user.status = t.to;
            user.status_changed = Some(now);
        }
        if op == LifecycleOp::Activate {
            user.activated = Some(now);
        }
        if op == LifecycleOp::Unlock {
            user.failed_logins = 0;
        }
        user.transitioning_to = None;
        user.last_updated = now;
        let verb = match op {
            LifecycleOp::Activate => "Activate Okta user",
            LifecycleOp::Reactivate => "Reactivate Okta user",
            LifecycleOp::Deactivate => "Deactivate Okta user",
            LifecycleOp::Suspend => "Suspend Okta user",
            LifecycleOp::Unsuspend => "Unsuspend Okta user",
            LifecycleOp::Unlock => "Unlock Okta user",
            LifecycleOp::ResetPassword => "Reset Okta user password",
            LifecycleOp::ExpirePassword => "Expire Okta user password",
        };
        Ok(vec![NewEvent::success(op.event_type(), verb, actor.party.clone(), vec![user_party(user)], actor.client.clone())])
    })
    .await?;
    if matches!(op, LifecycleOp::Deactivate | LifecycleOp::Suspend) {
        // Sessions of a user who may no longer sign in end now (a password reset or
        // expiry ends them in the change path).
        core.store.delete_user_sessions(&org.id, &stored.user.id).await?;
    }
    Ok(stored)
}

/// `DELETE`: deactivate, or delete a user who is already DEPROVISIONED.
pub async fn delete_user(core: &Core, org: &Org, actor: &Actor, id: &str) -> Result<(), CoreError> {
    let existing = load_user(core, org, id).await?;
    if existing.user.status == UserStatus::Deprovisioned {
        let ev = NewEvent::success(
            "user.lifecycle.delete.initiated",
            "Delete Okta user",
            actor.party.clone(),
            vec![user_party(&existing.user)],
            actor.client.clone(),
        );
        core.store.delete_user(&org.id, &existing.user.id, core.now(), &[ev]).await?;
    } else {
        apply_lifecycle(core, org, actor, existing.user.id.as_str(), LifecycleOp::Deactivate).await?;
    }
    Ok(())
}
