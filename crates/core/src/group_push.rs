//! Push Groups for the Org2Org connector (spoke → hub): the mappings an admin creates
//! (a group, or a rule on group names), the push jobs every change writes in its own
//! transaction (one ordering key per pushed group), the job that reconciles a hub group
//! with its spoke group (create or link by name, rename, membership of the app's
//! provisioned users), and the unlink that keeps or deletes the hub group. API:
//! `GET`/`POST /api/v1/apps/{id}/idhub/group-push`, `DELETE …/group-push/{mappingId}`.

use crate::error::CoreError;
use crate::provisioning::{current_username, load_app, Fault, Org2OrgHandler, QUEUE};
use crate::Actor;
use crate::Core;
use futures_util::StreamExt;
use idhub_connectors::okta::{ClientError, OktaClient};
use idhub_domain::event::{NewEvent, Party};
use idhub_domain::ids::{OrgId, UserId};
use idhub_store::apps::App;
use idhub_store::group_push::{GroupPush, GroupPushRule};
use idhub_store::groups::GroupSelect;
use idhub_store::jobs::{Job, NewJob};
use idhub_store::orgs::Org;
use idhub_store::{Optional, StoreError};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};

/// The job kind of a group push (payload `op`: `sync` or `unlink`).
pub const KIND: &str = "org2org.push_group";

/// The job that brings the hub group of `mapping` in line with its spoke group.
pub fn sync_job(org: &OrgId, p: &GroupPush) -> NewJob {
    NewJob {
        org_id: org.clone(),
        queue: QUEUE.into(),
        kind: KIND.into(),
        ordering_key: format!("{}:group:{}", p.app_id, p.group_id),
        payload: json!({ "op": "sync", "appId": p.app_id, "mappingId": p.id, "groupId": p.group_id }),
        batch_id: Some(p.app_id.clone()),
    }
}

fn unlink_job(org: &OrgId, p: &GroupPush, delete_target: bool) -> NewJob {
    NewJob {
        org_id: org.clone(),
        queue: QUEUE.into(),
        kind: KIND.into(),
        ordering_key: format!("{}:group:{}", p.app_id, p.group_id),
        payload: json!({
            "op": "unlink", "appId": p.app_id, "mappingId": p.id, "groupId": p.group_id,
            "targetGroupId": p.target_group_id, "deleteTargetGroup": delete_target
        }),
        batch_id: Some(p.app_id.clone()),
    }
}

/// Push jobs for a change to spoke group `group` (rename, membership), one per app that
/// pushes it with provisioning enabled.
pub async fn jobs_for_group_change(core: &Core, org: &OrgId, group: &str) -> Result<Vec<NewJob>, StoreError> {
    let pushes = core.store.group_pushes_of_group(org, group).await?;
    if pushes.is_empty() {
        return Ok(vec![]);
    }
    let provisioned = core.store.provisioned_app_ids(org).await?;
    Ok(pushes.iter().filter(|p| provisioned.contains(&p.app_id)).map(|p| sync_job(org, p)).collect())
}

/// A pushed group as the console and API show it.
#[derive(Debug, Clone)]
pub struct PushView {
    pub push: GroupPush,
    pub group_name: String,
}

/// The app's pushed groups with their spoke group names.
pub async fn list_pushes(core: &Core, org: &Org, app_id: &str) -> Result<(App, Vec<PushView>, Vec<GroupPushRule>), CoreError> {
    let app = load_app(core, org, app_id).await?;
    let mut out = vec![];
    for p in core.store.list_group_pushes(&org.id, &app.id).await? {
        let group_name = core.store.get_group(&org.id, &p.group_id).await.optional()?.map(|g| g.group.name).unwrap_or_default();
        out.push(PushView { push: p, group_name });
    }
    let rules = core.store.list_group_push_rules(&org.id, &app.id).await?;
    Ok((app, out, rules))
}

/// What an admin asks to push.
#[derive(Debug, Clone)]
pub enum PushRequest {
    /// One group, by id or exact name (ignoring case).
    Group(String),
    /// Every group whose name starts with the text (ignoring case), now and later.
    NameStartsWith(String),
}

fn new_push(org: &OrgId, app: &str, group: &str, rule: Option<&str>, now: i64) -> GroupPush {
    GroupPush {
        id: format!("gpm{}", idhub_domain::ids::random_base62(17)),
        org_id: org.clone(),
        app_id: app.to_string(),
        group_id: group.to_string(),
        rule_id: rule.map(str::to_string),
        target_group_id: None,
        status: "PENDING".into(),
        last_push: None,
        last_error: None,
        created: now,
    }
}

async fn groups_starting_with(core: &Core, org: &OrgId, prefix: &str) -> Result<Vec<(String, String)>, CoreError> {
    let mut out = vec![];
    let mut after: Option<String> = None;
    loop {
        let page = core.store.list_groups(org, &GroupSelect::Q(prefix.to_string()), 1000, after.as_deref()).await?;
        out.extend(
            page.items
                .iter()
                .filter(|g| g.group.kind == idhub_domain::group::GroupType::OktaGroup)
                .map(|g| (g.group.id.0.clone(), g.group.name.clone())),
        );
        match page.next {
            Some(n) => after = Some(n),
            None => return Ok(out),
        }
    }
}

/// Push a group (or start a rule): the mappings and their first push jobs are written
/// together. Returns the mappings added.
pub async fn push_groups(core: &Core, org: &Org, actor: &Actor, app_id: &str, req: PushRequest) -> Result<Vec<PushView>, CoreError> {
    let app = load_app(core, org, app_id).await?;
    let now = core.now();
    let existing: HashSet<String> = core.store.list_group_pushes(&org.id, &app.id).await?.into_iter().map(|p| p.group_id).collect();
    let (rule, targets) = match req {
        PushRequest::Group(g) => {
            let g = g.trim();
            if g.is_empty() {
                return Err(CoreError::validation("groupId", vec!["groupId: choose a group to push".into()]));
            }
            let sg = match core.store.get_group(&org.id, g).await {
                Ok(sg) => sg,
                Err(StoreError::NotFound) => match group_by_name(core, &org.id, g).await? {
                    Some(sg) => sg,
                    None => return Err(CoreError::validation("groupId", vec![format!("groupId: no group {g} in this org")])),
                },
                Err(e) => return Err(e.into()),
            };
            if sg.group.kind != idhub_domain::group::GroupType::OktaGroup {
                return Err(CoreError::validation(
                    "groupId",
                    vec![format!("groupId: {} cannot be pushed (only Okta groups)", sg.group.name)],
                ));
            }
            if existing.contains(&sg.group.id.0) {
                return Err(CoreError::validation("groupId", vec![format!("groupId: {} is already pushed by this app", sg.group.name)]));
            }
            (None, vec![(sg.group.id.0.clone(), sg.group.name.clone())])
        }
        PushRequest::NameStartsWith(prefix) => {
            let prefix = prefix.trim().to_string();
            if prefix.is_empty() {
                return Err(CoreError::validation("rule", vec!["rule.nameStartsWith: The field cannot be left blank".into()]));
            }
            let rule = GroupPushRule {
                id: format!("gpr{}", idhub_domain::ids::random_base62(17)),
                org_id: org.id.clone(),
                app_id: app.id.clone(),
                name_starts_with: prefix.clone(),
                created: now,
            };
            let groups = groups_starting_with(core, &org.id, &prefix).await?;
            (Some(rule), groups.into_iter().filter(|(id, _)| !existing.contains(id)).collect())
        }
    };
    let names: HashMap<String, String> = targets.iter().cloned().collect();
    let pushes: Vec<GroupPush> =
        targets.iter().map(|(id, _)| new_push(&org.id, &app.id, id, rule.as_ref().map(|r| r.id.as_str()), now)).collect();
    let provisioned = core.store.provisioned_app_ids(&org.id).await?.contains(&app.id);
    let jobs: Vec<NewJob> = if provisioned { pushes.iter().map(|p| sync_job(&org.id, p)).collect() } else { vec![] };
    let ev = NewEvent::success(
        "application.provision.group_push.mapping.created",
        match &rule {
            Some(r) => format!("Push groups whose name starts with {}", r.name_starts_with),
            None => format!("Push group {}", targets.first().map(|t| t.1.as_str()).unwrap_or_default()),
        },
        actor.party.clone(),
        vec![Party::new(app.id.clone(), "AppInstance", app.name.clone(), app.label.clone())],
        actor.client.clone(),
    );
    let added = core.store.add_group_pushes(rule.as_ref(), &pushes, &jobs, &[ev], now).await?;
    Ok(added.into_iter().map(|p| PushView { group_name: names.get(&p.group_id).cloned().unwrap_or_default(), push: p }).collect())
}

async fn group_by_name(core: &Core, org: &OrgId, name: &str) -> Result<Option<idhub_store::rows::StoredGroup>, CoreError> {
    for (id, n) in groups_starting_with(core, org, name).await? {
        if n.eq_ignore_ascii_case(name) {
            return Ok(Some(core.store.get_group(org, &id).await?));
        }
    }
    Ok(None)
}

/// The pushes (and their jobs) a new group starts: one per provisioned app with a rule its
/// name matches. The caller writes them with the group ([`Store::create_group_with_pushes`]).
///
/// [`Store::create_group_with_pushes`]: idhub_store::Store::create_group_with_pushes
pub async fn rule_pushes(
    core: &Core,
    org: &OrgId,
    group: &idhub_domain::group::Group,
) -> Result<(Vec<GroupPush>, Vec<NewJob>), StoreError> {
    let name = group.name.to_lowercase();
    let (mut pushes, mut jobs) = (vec![], vec![]);
    for app in core.store.provisioned_app_ids(org).await? {
        let rules = core.store.list_group_push_rules(org, &app).await?;
        if let Some(r) = rules.iter().find(|r| name.starts_with(&r.name_starts_with.to_lowercase())) {
            let p = new_push(org, &app, group.id.as_str(), Some(&r.id), group.created);
            jobs.push(sync_job(org, &p));
            pushes.push(p);
        }
    }
    Ok((pushes, jobs))
}

/// Unlink a pushed group; the hub group is deleted when `delete_target`, else kept.
pub async fn unlink(core: &Core, org: &Org, actor: &Actor, app_id: &str, mapping: &str, delete_target: bool) -> Result<(), CoreError> {
    let app = load_app(core, org, app_id).await?;
    let p = match core.store.get_group_push(&org.id, mapping).await {
        Ok(p) if p.app_id == app.id => p,
        Ok(_) | Err(StoreError::NotFound) => return Err(CoreError::not_found(format!("{mapping} (Group Push Mapping)"))),
        Err(e) => return Err(e.into()),
    };
    let ev = NewEvent::success(
        "application.provision.group_push.mapping.deleted",
        if delete_target { "Unlink pushed group and delete the hub group" } else { "Unlink pushed group and keep the hub group" },
        actor.party.clone(),
        vec![Party::new(app.id.clone(), "AppInstance", app.name.clone(), app.label.clone())],
        actor.client.clone(),
    );
    core.store.remove_group_push(&org.id, &app.id, &p.id, &[unlink_job(&org.id, &p, delete_target)], &[ev], core.now()).await?;
    Ok(())
}

/// Delete a push rule (its mappings stay until unlinked).
pub async fn remove_rule(core: &Core, org: &Org, actor: &Actor, app_id: &str, rule: &str) -> Result<(), CoreError> {
    let app = load_app(core, org, app_id).await?;
    let ev = NewEvent::success(
        "application.provision.group_push.rule.deleted",
        "Delete group push rule",
        actor.party.clone(),
        vec![Party::new(app.id.clone(), "AppInstance", app.name.clone(), app.label.clone())],
        actor.client.clone(),
    );
    match core.store.remove_group_push_rule(&org.id, &app.id, rule, &[ev], core.now()).await {
        Ok(()) => Ok(()),
        Err(StoreError::NotFound) => Err(CoreError::not_found(format!("{rule} (Group Push Rule)"))),
        Err(e) => Err(e.into()),
    }
}

impl Org2OrgHandler {
    /// Run a group push job.
    pub(crate) async fn push_group(&self, job: &Job) -> Result<String, Fault> {
        let org = &job.org_id;
        let p = |k: &str| job.payload.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
        let (app_id, mapping_id) = (p("appId"), p("mappingId"));
        let Some((app, client)) = self.hub_client(org, &app_id).await? else { return Ok("provisioning disabled".into()) };
        if p("op") == "unlink" {
            let target = p("targetGroupId");
            if job.payload.get("deleteTargetGroup").and_then(Value::as_bool) == Some(true) && !target.is_empty() {
                match client.delete_group(&target).await {
                    Ok(()) | Err(ClientError::NotFound { .. }) => return Ok(format!("unlinked; deleted hub group {target}")),
                    Err(e) => return Err(e.into()),
                }
            }
            return Ok("unlinked; the hub group is kept".into());
        }
        let Some(mapping) = self.store.get_group_push(org, &mapping_id).await.optional()? else {
            return Ok("unlinked: nothing to push".into());
        };
        let Some(group) = self.store.get_group(org, &mapping.group_id).await.optional()? else { return Ok("group deleted".into()) };
        let (name, description) = (group.group.name.clone(), group.group.description.clone());
        let mut how = "updated";
        let mut target = None;
        if let Some(t) = &mapping.target_group_id {
            match client.update_group(t, &name, description.as_deref()).await {
                Ok(_) => target = Some(t.clone()),
                Err(ClientError::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let target = match target {
            Some(t) => t,
            None => {
                let g = match client.find_group(&name).await? {
                    Some(g) => {
                        how = "linked";
                        g
                    }
                    None => {
                        how = "created";
                        client.create_group(&name, description.as_deref()).await?
                    }
                };
                let id = g.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
                if id.is_empty() {
                    return Err(Fault::Config("the hub answered a group without an id".into()));
                }
                self.store.record_group_push(org, &mapping.id, Some(&id), "PENDING", None, self.clock.now_millis()).await?;
                id
            }
        };
        // Members: the spoke group's members who are provisioned users of the app.
        let mut desired: HashMap<String, String> = HashMap::new();
        for uid in self.store.group_member_ids(org, &mapping.group_id).await? {
            if !self.store.is_assigned(org, &app.id, &uid).await? {
                continue;
            }
            let Some(user) = self.store.get_user(org, &uid).await.optional()? else { continue };
            if user.user.status == idhub_domain::lifecycle::UserStatus::Deprovisioned {
                continue;
            }
            let username = self.username_in(&app, &user).await?;
            // The hub id recorded when the user was pushed saves a lookup per member.
            let known = self.store.get_app_user(org, &app.id, &uid).await.optional()?.and_then(|au| au.external_id);
            match known {
                Some(id) => {
                    desired.insert(id, username);
                }
                None => {
                    if let Some(id) =
                        client.find_user(&username).await?.and_then(|h| h.get("id").and_then(Value::as_str).map(str::to_string))
                    {
                        desired.insert(id, username);
                    }
                }
            }
        }
        let mut current: HashMap<String, String> = HashMap::new();
        let mut next = Some(format!("/api/v1/groups/{target}/users?limit=1000"));
        while let Some(url) = next {
            let page = client.page(&url).await?;
            for u in page.items {
                if let (Some(id), Some(login)) = (u.get("id").and_then(Value::as_str), u.pointer("/profile/login").and_then(Value::as_str))
                {
                    current.insert(id.to_string(), login.to_string());
                }
            }
            next = page.next;
        }
        let (mut added, mut removed) = (0, 0);
        // Additions run 16 at a time (each is one idempotent PUT).
        let to_add: Vec<String> = desired.keys().filter(|id| !current.contains_key(*id)).cloned().collect();
        let adds: Vec<Result<(), ClientError>> = futures_util::stream::iter(to_add.into_iter().map(|id| {
            let (client, target) = (client.clone(), target.clone());
            async move { client.add_member(&target, &id).await.map(|_| ()) }
        }))
        .buffer_unordered(16)
        .collect()
        .await;
        for r in adds {
            r?;
            added += 1;
        }
        for (id, login) in current.iter().filter(|(id, _)| !desired.contains_key(*id)) {
            // Only users this app provisions leave the hub group; others stay.
            if self.provisions(org, login).await? {
                match client.remove_member(&target, id).await {
                    Ok(()) | Err(ClientError::NotFound { .. }) => removed += 1,
                    Err(e) => return Err(e.into()),
                }
            }
        }
        self.store.record_group_push(org, &mapping.id, Some(&target), "ACTIVE", None, self.clock.now_millis()).await?;
        Ok(format!("pushed group {name}: hub group {target} {how}; {added} member(s) added, {removed} removed"))
    }

    /// Is `login` (a hub login) a spoke user's? Such hub members are managed by the push
    /// (whether or not they are still assigned); hub users unknown to the spoke stay.
    async fn provisions(&self, org: &OrgId, login: &str) -> Result<bool, Fault> {
        match self.store.get_user(org, login).await {
            Ok(_) => Ok(true),
            Err(StoreError::NotFound) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// The app username of a spoke user now (see [`current_username`]).
    pub(crate) async fn username_in(&self, app: &App, user: &idhub_store::rows::StoredUser) -> Result<String, Fault> {
        let direct = self.store.get_app_user(&app.org_id, &app.id, user.user.id.as_str()).await.optional()?;
        current_username(app, &user.user, direct.as_ref())
    }

    /// After a user was created or linked in the hub: add them to the hub groups of the
    /// app's pushed groups they are a member of.
    pub(crate) async fn join_pushed_groups(
        &self,
        org: &OrgId,
        app: &str,
        user: &str,
        hub_id: &str,
        client: &OktaClient,
    ) -> Result<usize, Fault> {
        let pushes = self.store.list_group_pushes(org, app).await?;
        if pushes.is_empty() {
            return Ok(0);
        }
        let groups: HashSet<String> =
            self.store.user_groups(org, &UserId(user.to_string())).await?.into_iter().map(|g| g.group.id.0).collect();
        let mut n = 0;
        for p in pushes.iter().filter(|p| groups.contains(&p.group_id)) {
            if let Some(t) = &p.target_group_id {
                client.add_member(t, hub_id).await?;
                n += 1;
            }
        }
        Ok(n)
    }
}
