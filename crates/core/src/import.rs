//! Import for the Org2Org connector (hub → spoke), on demand or on a schedule: a job reads
//! the hub's users through its API (paged, with the profile schema), matches each to a
//! spoke user by exact username or email, and leaves proposals (link / create) that an
//! admin confirms before anything changes in the spoke. With profile sourcing on, the
//! users the app imported follow the hub's profile on every import and their profile
//! cannot be edited in the spoke. API: `GET`/`POST /api/v1/apps/{id}/idhub/import`,
//! `POST …/import/confirm`, `PUT /api/v1/apps/{id}/features/INBOUND_PROVISIONING`.

use crate::directory::NewUser;
use crate::error::CoreError;
use crate::provisioning::{load_app, Fault, Org2OrgHandler, PUSHED, QUEUE};
use crate::Actor;
use crate::Core;
use idhub_domain::event::{NewEvent, Party};
use idhub_domain::ids::OrgId;
use idhub_store::connections::Connection;
use idhub_store::imports::ImportCandidate;
use idhub_store::jobs::{Job, NewJob};
use idhub_store::orgs::Org;
use idhub_store::{Optional, StoreError};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// The job kind of an import.
pub const KIND: &str = "org2org.import";

/// Import schedules and their intervals.
pub const SCHEDULES: [(&str, i64); 3] = [("NONE", 0), ("HOURLY", 3_600_000), ("DAILY", 86_400_000)];

fn import_job(org: &OrgId, app: &str, schedule_id: Option<&str>) -> NewJob {
    NewJob {
        org_id: org.clone(),
        queue: QUEUE.into(),
        kind: KIND.into(),
        ordering_key: format!("{app}:import"),
        payload: json!({ "appId": app, "scheduleId": schedule_id }),
        // Its own batch, so the Tasks page can show it running apart from the app's pushes.
        batch_id: Some(format!("{app}:import")),
    }
}

pub fn setting<'a>(f: &'a Value, k: &str, default: &'a str) -> &'a str {
    f.get(k).and_then(Value::as_str).unwrap_or(default)
}

/// The hub profile's attributes a spoke user takes (login, then the pushed base ones).
fn mapped_profile(hub: &Value) -> Map<String, Value> {
    let mut p = Map::new();
    for k in std::iter::once("login").chain(PUSHED) {
        if let Some(v) = hub.get(k).filter(|v| !v.is_null()) {
            p.insert(k.to_string(), v.clone());
        }
    }
    p
}

/// Import settings an admin may change.
#[derive(Debug, Clone, Default)]
pub struct ImportSettings {
    /// `USERNAME` or `EMAIL`.
    pub match_by: Option<String>,
    /// `NONE`, `HOURLY` or `DAILY`.
    pub schedule: Option<String>,
    pub profile_source: Option<bool>,
}

/// Save import settings; a new schedule starts a new chain of scheduled imports (the
/// first runs now, its job written with the settings) and ends the previous one.
pub async fn save_settings(core: &Core, org: &Org, actor: &Actor, app_id: &str, s: ImportSettings) -> Result<Connection, CoreError> {
    let (_app, c) = crate::provisioning::update_features(core, org, actor, app_id, "Update import settings", |f| {
        let mut jobs = vec![];
        if let Some(m) = &s.match_by {
            if m != "USERNAME" && m != "EMAIL" {
                return Err(CoreError::validation("exactMatchCriteria", vec!["exactMatchCriteria: must be USERNAME or EMAIL".into()]));
            }
            f.insert("importMatch".into(), json!(m));
        }
        if let Some(sch) = &s.schedule {
            if !SCHEDULES.iter().any(|(n, _)| n == sch) {
                return Err(CoreError::validation("schedule", vec!["schedule: must be NONE, HOURLY or DAILY".into()]));
            }
            let sid = idhub_domain::ids::random_base62(12);
            f.insert("importSchedule".into(), json!(sch));
            f.insert("importScheduleId".into(), json!(sid));
            if sch != "NONE" {
                jobs.push(import_job(&org.id, app_id, Some(&sid)));
            }
        }
        if let Some(p) = s.profile_source {
            f.insert("profileSource".into(), json!(p));
        }
        Ok(jobs)
    })
    .await?;
    Ok(c)
}

/// "Import Now": an import job (nothing changes in the spoke until confirmed).
pub async fn import_now(core: &Core, org: &Org, actor: &Actor, app_id: &str) -> Result<String, CoreError> {
    let app = load_app(core, org, app_id).await?;
    if core.store.get_connection(&org.id, &app.id).await.optional()?.is_none_or(|c| c.status != "ENABLED") {
        return Err(CoreError::validation("connection", vec!["connection: enable the API integration to import from the hub".into()]));
    }
    let ev = NewEvent::success(
        "application.provision.import.start",
        "Import from the hub",
        actor.party.clone(),
        vec![Party::new(app.id.clone(), "AppInstance", app.name.clone(), app.label.clone())],
        actor.client.clone(),
    );
    let ids = core.store.enqueue_jobs(&[import_job(&org.id, &app.id, None)], core.now(), &[ev]).await?;
    Ok(ids.into_iter().next().unwrap_or_default())
}

/// An app's import as the console and the API show it.
#[derive(Debug, Clone)]
pub struct ImportState {
    /// USERNAME or EMAIL.
    pub match_by: String,
    /// NONE, HOURLY or DAILY.
    pub schedule: String,
    pub profile_source: bool,
    pub last_import: Option<i64>,
    pub last_import_result: Option<Value>,
    pub pending: Vec<ImportCandidate>,
    pub imported: usize,
    pub running: bool,
}

/// The import state of an app: settings, last import, pending proposals.
pub async fn import_state(core: &Core, org: &Org, app_id: &str) -> Result<ImportState, CoreError> {
    let app = load_app(core, org, app_id).await?;
    let f = crate::provisioning::features_of(core, org, &app).await?;
    let pending = core.store.list_import_candidates(&org.id, &app.id, "PENDING").await?;
    let confirmed = core.store.list_import_candidates(&org.id, &app.id, "CONFIRMED").await?;
    let progress = core.store.batch_progress(&org.id, &format!("{}:import", app.id)).await?;
    Ok(ImportState {
        match_by: setting(&f, "importMatch", "USERNAME").to_string(),
        schedule: setting(&f, "importSchedule", "NONE").to_string(),
        profile_source: f.get("profileSource").and_then(Value::as_bool).unwrap_or(false),
        last_import: f.get("lastImport").and_then(Value::as_i64),
        last_import_result: f.get("lastImportResult").cloned(),
        pending,
        imported: confirmed.len(),
        running: progress.pending + progress.running > 0,
    })
}

/// What confirming one import proposal did: the spoke user it linked or created, or why
/// it failed.
#[derive(Debug)]
pub struct Confirmed {
    pub id: String,
    pub action: String,
    pub result: Result<String, CoreError>,
}

/// Confirm Assignments: apply the chosen pending proposals (`None`: all). A link assigns
/// the matched spoke user to the app; a create makes a new spoke user (from the hub's
/// profile) assigned to the app; either way the app user's external id is the hub's id.
/// Unknown ids are refused before anything changes; each result says what happened.
pub async fn confirm(core: &Core, org: &Org, actor: &Actor, app_id: &str, ids: Option<Vec<String>>) -> Result<Vec<Confirmed>, CoreError> {
    let app = load_app(core, org, app_id).await?;
    let pending = core.store.list_import_candidates(&org.id, &app.id, "PENDING").await?;
    let chosen: Vec<ImportCandidate> = match ids {
        None => pending,
        Some(ids) => {
            let by_id: HashMap<&str, &ImportCandidate> = pending.iter().map(|c| (c.id.as_str(), c)).collect();
            if let Some(bad) = ids.iter().find(|i| !by_id.contains_key(i.as_str())) {
                return Err(CoreError::validation("ids", vec![format!("ids: {bad} is not a pending import result of this app")]));
            }
            ids.iter().filter_map(|i| by_id.get(i.as_str()).map(|c| (*c).clone())).collect()
        }
    };
    let mut out = vec![];
    for c in chosen {
        let result = confirm_one(core, org, actor, &app.id, &c).await;
        out.push(Confirmed { id: c.id, action: c.action, result });
    }
    Ok(out)
}

async fn confirm_one(core: &Core, org: &Org, actor: &Actor, app_id: &str, c: &ImportCandidate) -> Result<String, CoreError> {
    let uid = match (c.action.as_str(), &c.user_id) {
        ("LINK", Some(u)) => u.clone(),
        _ => {
            let input = NewUser { profile: mapped_profile(&c.profile), activate: true, ..Default::default() };
            crate::directory::create_user(core, org, actor, input).await?.user.id.0
        }
    };
    if core.store.get_app_user(&org.id, app_id, &uid).await.optional()?.is_none() {
        crate::applications::assign_user(core, org, actor, app_id, &uid, &json!({ "credentials": { "userName": c.hub_login } })).await?;
    }
    core.store.record_app_user_sync(&org.id, app_id, &uid, Some(&c.hub_user_id), "SYNCHRONIZED", core.now()).await?;
    core.store.confirm_import_candidate(&org.id, &c.id, &uid).await?;
    Ok(uid)
}

/// The app that sources this user's profile (its label), if any: an Org2Org app with
/// profile sourcing on that imported the user.
pub async fn profile_source(core: &Core, org: &OrgId, user: &str) -> Result<Option<String>, StoreError> {
    for c in core.store.imports_of_user(org, user).await? {
        let Some(conn) = core.store.get_connection(org, &c.app_id).await.optional()? else { continue };
        if conn.features.get("profileSource").and_then(Value::as_bool) == Some(true) {
            let label = core.store.get_app(org, &c.app_id).await.optional()?.map(|a| a.label).unwrap_or(c.app_id);
            return Ok(Some(label));
        }
    }
    Ok(None)
}

impl Org2OrgHandler {
    /// Run an import job: read the hub, propose, and source profiles of imported users.
    pub(crate) async fn import(&self, job: &Job) -> Result<String, Fault> {
        let org = &job.org_id;
        let app_id = job.payload.get("appId").and_then(Value::as_str).unwrap_or_default().to_string();
        let Some((_app, client)) = self.hub_client(org, &app_id).await? else { return Ok("provisioning disabled".into()) };
        let conn = self.store.get_connection(org, &app_id).await?;
        let f = conn.features.clone();
        let schedule_id = job.payload.get("scheduleId").and_then(Value::as_str);
        if let Some(sid) = schedule_id {
            if setting(&f, "importScheduleId", "") != sid || setting(&f, "importSchedule", "NONE") == "NONE" {
                return Ok("the import schedule changed: this run is not due".into());
            }
        }
        let now = self.clock.now_millis();
        let schema = client.user_schema().await?;
        let attrs = schema.pointer("/definitions/base/properties").and_then(Value::as_object).map(|o| o.len()).unwrap_or(0);
        let mut hub_users = vec![];
        let mut next = Some("/api/v1/users?limit=200".to_string());
        while let Some(url) = next {
            let page = client.page(&url).await?;
            hub_users.extend(page.items);
            next = page.next;
        }
        let by_email = setting(&f, "importMatch", "USERNAME") == "EMAIL";
        let sourcing = f.get("profileSource").and_then(Value::as_bool) == Some(true);
        let confirmed: HashMap<String, ImportCandidate> =
            self.store.list_import_candidates(org, &app_id, "CONFIRMED").await?.into_iter().map(|c| (c.hub_user_id.clone(), c)).collect();
        let (mut proposals, mut sourced) = (vec![], 0);
        for h in &hub_users {
            let (Some(hid), Some(login)) = (h.get("id").and_then(Value::as_str), h.pointer("/profile/login").and_then(Value::as_str))
            else {
                continue;
            };
            let profile = h.get("profile").cloned().unwrap_or(Value::Null);
            if let Some(c) = confirmed.get(hid) {
                if sourcing && self.source_profile(org, c, &profile).await? {
                    sourced += 1;
                }
                continue;
            }
            let matched = if by_email {
                match profile.get("email").and_then(Value::as_str) {
                    Some(e) => self.store.user_ids_by_email(org, e).await?.into_iter().next(),
                    None => None,
                }
            } else {
                match self.store.get_user(org, login).await {
                    Ok(u) => Some(u.user.id.0),
                    Err(StoreError::NotFound) => None,
                    Err(e) => return Err(e.into()),
                }
            };
            proposals.push(ImportCandidate {
                id: format!("imp{}", idhub_domain::ids::random_base62(17)),
                org_id: org.clone(),
                app_id: app_id.clone(),
                hub_user_id: hid.to_string(),
                hub_login: login.to_string(),
                profile,
                action: if matched.is_some() { "LINK".into() } else { "CREATE".into() },
                user_id: matched,
                status: "PENDING".into(),
                created: now,
            });
        }
        self.store.replace_import_candidates(org, &app_id, &proposals).await?;
        let links = proposals.iter().filter(|p| p.action == "LINK").count();
        let groups = if f.get("importGroups").and_then(Value::as_bool) == Some(true) {
            let (n, skipped) = self.import_groups(org, &app_id, &client).await?;
            format!("; {n} hub groups imported as app groups ({skipped} skipped: their names are taken or they are pushed from here)")
        } else {
            String::new()
        };
        let summary = format!(
            "imported {} hub users ({attrs} schema attributes): {links} to link, {} new, {sourced} profiles updated from the hub{groups}",
            hub_users.len(),
            proposals.len() - links
        );
        // the result and, for a schedule, the next run
        if let Some(mut c) = self.store.get_connection(org, &app_id).await.optional()? {
            if let Some(o) = c.features.as_object_mut() {
                o.insert("lastImport".into(), json!(now));
                o.insert("lastImportResult".into(), json!(summary));
            }
            self.store.save_connection(&c, &[]).await?;
        }
        if let Some(sid) = schedule_id {
            let every = SCHEDULES.iter().find(|(n, _)| *n == setting(&f, "importSchedule", "NONE")).map(|s| s.1).unwrap_or(0);
            if every > 0 {
                self.store.enqueue_job_at(&import_job(org, &app_id, Some(sid)), now + every, now).await?;
            }
        }
        Ok(summary)
    }

    /// Import Groups: each OKTA_GROUP of the hub becomes (or updates) an APP_GROUP of the
    /// same name in the spoke whose members are the hub members this app imported. Hub
    /// groups this app pushes, and names a spoke group of another kind holds, are skipped.
    async fn import_groups(&self, org: &OrgId, app_id: &str, client: &idhub_connectors::okta::OktaClient) -> Result<(usize, usize), Fault> {
        use idhub_domain::group::{Group, GroupType};
        use idhub_domain::ids::{GroupId, UserId};
        let pushed: Vec<String> = self.store.list_group_pushes(org, app_id).await?.into_iter().filter_map(|p| p.target_group_id).collect();
        let imported: HashMap<String, String> = self
            .store
            .list_import_candidates(org, app_id, "CONFIRMED")
            .await?
            .into_iter()
            .filter_map(|c| c.user_id.map(|u| (c.hub_user_id, u)))
            .collect();
        let mut hub_groups = vec![];
        let mut next = Some("/api/v1/groups?limit=1000".to_string());
        while let Some(url) = next {
            let page = client.page(&url).await?;
            hub_groups.extend(page.items);
            next = page.next;
        }
        let (mut n, mut skipped) = (0, 0);
        for hg in hub_groups.iter().filter(|g| g.get("type").and_then(Value::as_str) == Some("OKTA_GROUP")) {
            let (Some(hid), Some(name)) = (hg.get("id").and_then(Value::as_str), hg.pointer("/profile/name").and_then(Value::as_str))
            else {
                continue;
            };
            if pushed.iter().any(|p| p == hid) {
                skipped += 1;
                continue;
            }
            let description = hg.pointer("/profile/description").and_then(Value::as_str).map(str::to_string);
            let now = self.clock.now_millis();
            let existing = self
                .store
                .list_groups(org, &idhub_store::groups::GroupSelect::Q(name.to_string()), 1000, None)
                .await
                .map_err(|e| Fault::Store(e.to_string()))?
                .items
                .into_iter()
                .find(|g| g.group.name.eq_ignore_ascii_case(name));
            let group = match existing {
                Some(g) if g.group.kind == GroupType::AppGroup => g.group,
                Some(_) => {
                    skipped += 1;
                    continue;
                }
                None => {
                    let g = Group {
                        id: GroupId::generate(),
                        org_id: org.clone(),
                        kind: GroupType::AppGroup,
                        name: name.to_string(),
                        description,
                        created: now,
                        last_updated: now,
                        last_membership_updated: now,
                    };
                    let ev = NewEvent::success(
                        "group.lifecycle.create",
                        format!("Import group from the hub ({app_id})"),
                        Party::system(),
                        vec![Party::new(g.id.0.clone(), "UserGroup", g.name.clone(), g.name.clone())],
                        Default::default(),
                    );
                    self.store.create_group(&g, &[ev]).await?.group
                }
            };
            let mut want: Vec<String> = vec![];
            let mut next = Some(format!("/api/v1/groups/{hid}/users?limit=1000"));
            while let Some(url) = next {
                let page = client.page(&url).await?;
                want.extend(page.items.iter().filter_map(|u| u.get("id").and_then(Value::as_str)).filter_map(|h| imported.get(h).cloned()));
                next = page.next;
            }
            let have = self.store.group_member_ids(org, group.id.as_str()).await?;
            for uid in want.iter().filter(|u| !have.contains(u)) {
                if let Some(u) = self.store.get_user(org, uid).await.optional()? {
                    self.store.add_group_member(org, &group.id, &u, now, &[], &[]).await?;
                }
            }
            for uid in have.iter().filter(|u| !want.contains(u)) {
                self.store.remove_group_member(org, &group.id, &UserId(uid.clone()), now, &[], &[]).await?;
            }
            n += 1;
        }
        Ok((n, skipped))
    }

    /// Profile sourcing: the spoke user takes the hub's mapped attributes. True if changed.
    async fn source_profile(&self, org: &OrgId, c: &ImportCandidate, hub: &Value) -> Result<bool, Fault> {
        let Some(uid) = &c.user_id else { return Ok(false) };
        let Some(su) = self.store.get_user(org, uid).await.optional()? else { return Ok(false) };
        let mut user = su.user.clone();
        let mut changed = false;
        for (k, v) in mapped_profile(hub) {
            if k != "login" && user.profile.get(&k) != Some(&v) {
                user.profile.insert(k, v);
                changed = true;
            }
        }
        self.store.record_import_profile(org, &c.id, hub).await?;
        if !changed {
            return Ok(false);
        }
        user.last_updated = self.clock.now_millis();
        let ev = NewEvent::success(
            "user.account.update_profile",
            format!("Update user profile from the profile source ({})", c.app_id),
            Party::system(),
            vec![crate::directory::user_party(&user)],
            Default::default(),
        );
        self.store.update_user_planned(&user, su.version, &[ev], &Default::default()).await?;
        Ok(true)
    }
}
