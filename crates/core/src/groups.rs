//! Groups and their memberships: the one place that creates, renames and deletes the
//! org's own groups (`OKTA_GROUP`) and adds or removes members, for the API and the
//! console alike. Each change is written with its System Log event and the jobs it
//! needs (Push Groups for the group's mappings and rules; the store's planner adds the
//! provisioning jobs of users who gain or lose an app) in one transaction.

use crate::directory::user_party;
use crate::{Actor, Core, CoreError, NotAllowed};
use idhub_domain::event::{NewEvent, Party};
use idhub_domain::group::{validate_profile, Group, GroupType};
use idhub_domain::ids::GroupId;
use idhub_store::orgs::Org;
use idhub_store::rows::{StoredGroup, StoredUser};
use idhub_store::{Optional, StoreError};

/// What an administrator sets on a group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupProfile {
    pub name: String,
    pub description: Option<String>,
}

impl GroupProfile {
    /// A profile from entered text: the name trimmed, a blank description none.
    pub fn entered(name: &str, description: Option<&str>) -> Self {
        GroupProfile {
            name: name.trim().to_string(),
            description: description.map(str::trim).filter(|d| !d.is_empty()).map(str::to_string),
        }
    }

    fn check(&self) -> Result<(), CoreError> {
        Ok(validate_profile(Some(&self.name), self.description.as_deref())?)
    }
}

/// The System Log target for a group.
pub fn party(g: &Group) -> Party {
    Party::new(g.id.0.clone(), "UserGroup", g.name.clone(), g.name.clone())
}

/// A group of the org, or "not found" naming it.
pub async fn load_group(core: &Core, org: &Org, id: &str) -> Result<StoredGroup, CoreError> {
    core.store.get_group(&org.id, id).await.optional()?.ok_or_else(|| CoreError::not_found(format!("{id} (UserGroup)")))
}

/// Groups imported from elsewhere (app groups) and the built-in Everyone are not the
/// org's to change.
fn own(g: StoredGroup) -> Result<StoredGroup, CoreError> {
    if g.group.kind == GroupType::OktaGroup {
        Ok(g)
    } else {
        Err(CoreError::not_allowed(
            NotAllowed::NotOwnGroup,
            "Only the organization's own groups can be changed",
            vec![format!("{} is a {} group", g.group.name, g.group.kind.as_str())],
        ))
    }
}

fn name_taken(e: StoreError) -> CoreError {
    match e {
        StoreError::Conflict(_) => CoreError::Conflict("name".into()),
        other => other.into(),
    }
}

/// Create a group; Push Groups rules whose prefix matches its name push it at once.
pub async fn create_group(core: &Core, org: &Org, actor: &Actor, profile: GroupProfile) -> Result<StoredGroup, CoreError> {
    profile.check()?;
    let now = core.now();
    let group = Group {
        id: GroupId::generate(),
        org_id: org.id.clone(),
        kind: GroupType::OktaGroup,
        name: profile.name,
        description: profile.description,
        created: now,
        last_updated: now,
        last_membership_updated: now,
    };
    let ev =
        NewEvent::success("group.lifecycle.create", "Create okta group", actor.party.clone(), vec![party(&group)], actor.client.clone());
    let (pushes, jobs) = crate::group_push::rule_pushes(core, &org.id, &group).await?;
    core.store.create_group_with_pushes(&group, &[ev], &pushes, &jobs).await.map_err(name_taken)
}

/// Rename a group or change its description; the apps it is pushed to follow.
pub async fn update_group(core: &Core, org: &Org, actor: &Actor, id: &str, profile: GroupProfile) -> Result<Group, CoreError> {
    profile.check()?;
    let mut g = own(load_group(core, org, id).await?)?.group;
    g.name = profile.name;
    g.description = profile.description;
    g.last_updated = core.now();
    let ev = NewEvent::success("group.profile.update", "Update group profile", actor.party.clone(), vec![party(&g)], actor.client.clone());
    let jobs = crate::group_push::jobs_for_group_change(core, &org.id, g.id.as_str()).await?;
    core.store.update_group(&g, &[ev], &jobs).await.map_err(name_taken)?;
    Ok(g)
}

/// Delete a group; its members lose the apps they reached only through it (the store
/// plans their provisioning jobs in the same transaction).
pub async fn delete_group(core: &Core, org: &Org, actor: &Actor, id: &str) -> Result<(), CoreError> {
    let g = own(load_group(core, org, id).await?)?.group;
    let ev = NewEvent::success("group.lifecycle.delete", "Delete okta group", actor.party.clone(), vec![party(&g)], actor.client.clone());
    Ok(core.store.delete_group(&org.id, &g.id, core.now(), &[ev]).await?)
}

/// Whether a membership change adds or removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Membership {
    Add,
    Remove,
}

/// Add a user (by id or login) to a group, or remove them. Adding a member twice or
/// removing a non-member changes nothing but is not an error (Okta's PUT/DELETE).
pub async fn set_membership(
    core: &Core,
    org: &Org,
    actor: &Actor,
    group: &str,
    user: &str,
    change: Membership,
) -> Result<(Group, StoredUser), CoreError> {
    let g = own(load_group(core, org, group).await?)?.group;
    let u = crate::directory::load_user(core, org, user).await?;
    let targets = vec![user_party(&u.user), party(&g)];
    let (kind, message) = match change {
        Membership::Add => ("group.user_membership.add", "Add user to group membership"),
        Membership::Remove => ("group.user_membership.remove", "Remove user from group membership"),
    };
    let ev = NewEvent::success(kind, message, actor.party.clone(), targets, actor.client.clone());
    let jobs = crate::group_push::jobs_for_group_change(core, &org.id, g.id.as_str()).await?;
    match change {
        Membership::Add => core.store.add_group_member(&org.id, &g.id, &u, core.now(), &[ev], &jobs).await?,
        Membership::Remove => core.store.remove_group_member(&org.id, &g.id, &u.user.id, core.now(), &[ev], &jobs).await?,
    };
    Ok((g, u))
}
