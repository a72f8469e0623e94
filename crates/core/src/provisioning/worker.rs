//! The provisioning worker's handler: one job reconciles one user of one app with the
//! hub (find by the hub id it was pushed as, else by username; create with the
//! assignment's initial status; push profile changes and a synced password; deactivate or
//! suspend; reactivate on return), and dispatches Push Groups and Import jobs.

use super::{flag, password_purpose, purpose, PUSHED};
use crate::applications::app_username;
use idhub_connectors::okta::{ClientError, OktaClient};
use idhub_domain::event::{NewEvent, Party};
use idhub_domain::ids::OrgId;
use idhub_domain::lifecycle::UserStatus;
use idhub_domain::sealed::SealingKey;
use idhub_domain::user::User;
use idhub_jobs::{BoxFuture, Handler, Outcome};
use idhub_store::apps::{App, AppUser};
use idhub_store::connections::Connection;
use idhub_store::jobs::Job;
use idhub_store::{Optional, Store, StoreError};
use serde_json::{json, Map, Value};

/// Runs provisioning jobs.
pub struct Org2OrgHandler {
    pub store: Store,
    pub sealing_key: SealingKey,
    pub clock: std::sync::Arc<dyn idhub_domain::time::Clock>,
    /// The egress rule every call to a hub goes through.
    pub egress: idhub_connectors::egress::Egress,
}

pub(crate) enum Fault {
    Store(String),
    Hub(ClientError),
    Config(String),
}

impl From<StoreError> for Fault {
    fn from(e: StoreError) -> Self {
        Fault::Store(e.to_string())
    }
}

impl From<ClientError> for Fault {
    fn from(e: ClientError) -> Self {
        Fault::Hub(e)
    }
}

impl Org2OrgHandler {
    /// The app and a client for its hub, or `None` when the app, its connection or
    /// provisioning is gone or disabled (nothing to do).
    pub(crate) async fn hub_client(&self, org: &OrgId, app_id: &str) -> Result<Option<(App, OktaClient)>, Fault> {
        Ok(self.hub_connection(org, app_id).await?.map(|(app, _, client)| (app, client)))
    }

    /// As [`Self::hub_client`], with the connection (its To App features).
    async fn hub_connection(&self, org: &OrgId, app_id: &str) -> Result<Option<(App, Connection, OktaClient)>, Fault> {
        // absent is "nothing to do"; a store failure is a failure (the job is retried)
        let Some(app) = self.store.get_app(org, app_id).await.optional()? else { return Ok(None) };
        let Some(conn) = self.store.get_connection(org, app_id).await.optional()? else { return Ok(None) };
        if conn.status != "ENABLED" {
            return Ok(None);
        }
        let token = self.sealing_key.open(&purpose(org, app_id), &conn.token_sealed).map_err(|e| Fault::Config(e.to_string()))?;
        let client = OktaClient::new(&self.egress, &conn.base_url, &String::from_utf8_lossy(&token))?;
        Ok(Some((app, conn, client)))
    }

    async fn sync(&self, job: &Job) -> Result<String, Fault> {
        let org = &job.org_id;
        let app_id = job.payload.get("appId").and_then(Value::as_str).unwrap_or_default();
        let user_id = job.payload.get("userId").and_then(Value::as_str).unwrap_or_default();
        let Some((app, conn, client)) = self.hub_connection(org, app_id).await? else {
            return Ok("provisioning disabled or the app removed: nothing to do".into());
        };
        let Some(user) = self.store.get_user(org, user_id).await.optional()? else { return Ok("user deleted".into()) };
        // An INACTIVE app keeps its assignments (Okta does not deprovision when an app is
        // deactivated): a change made meanwhile is pushed as usual, not read as an unassignment.
        let assigned = self.store.is_assigned(org, app_id, user_id).await?;
        let direct = self.store.get_app_user(org, app_id, user_id).await.optional()?;
        let hub_id_known = match direct.as_ref().and_then(|d| d.external_id.clone()) {
            Some(id) => Some(id),
            None => self.store.push_link(org, app_id, user_id).await?,
        };
        let follows_profile = follows_profile(&app);
        let username = current_username(&app, &user.user, direct.as_ref())?;
        let stale_username = direct.as_ref().is_some_and(|d| d.username.as_deref() != Some(username.as_str()));
        let now = self.clock.now_millis();
        let spoke = user.user.status;
        let mut profile = Map::new();
        profile.insert("login".into(), json!(username));
        for k in PUSHED {
            if let Some(v) = user.user.profile.get(k) {
                profile.insert(k.into(), v.clone());
            }
        }
        // A user never pushed before is created straight away (one call instead of a lookup
        // and a create); if the hub already has the login, it is matched and linked below,
        // so a retry never makes a second hub user.
        let never_pushed = hub_id_known.is_none();
        if never_pushed
            && assigned
            && spoke != UserStatus::Deprovisioned
            && spoke != UserStatus::Suspended
            && flag(&conn.features, "create")
        {
            let initial = self.initial_status(org, app_id, user_id, direct.as_ref().map(|d| &d.profile)).await?;
            let activate = initial.starts_with("active");
            let password = initial.ends_with("_with_pass").then(|| format!("Aa1-{}", idhub_domain::ids::random_base62(24)));
            match client.create_user(&Value::Object(profile.clone()), password.as_deref(), activate).await {
                Ok(created) => {
                    let id = created.get("id").and_then(Value::as_str).map(str::to_string);
                    self.store.record_app_user_sync(org, app_id, user_id, id.as_deref(), "SYNCHRONIZED", now).await?;
                    if stale_username {
                        self.store.set_app_username(org, app_id, user_id, &username, now).await?;
                    }
                    let result = format!("created {username} in the hub ({initial})");
                    return self.push_password(job, &conn, &client, &user, id.as_deref(), &username, result).await;
                }
                Err(ClientError::Rejected { status: 400, causes, summary, .. })
                    if causes.iter().chain(std::iter::once(&summary)).any(|c| c.contains("already exists")) => {}
                Err(e) => return Err(e.into()),
            }
        }
        // The hub user this one was pushed as, by its hub id (its login may be about to
        // change); by login only when the hub id is not known or no longer there.
        let (mut hub_user, by_login) = match &hub_id_known {
            Some(id) => match client.find_user(id).await? {
                Some(h) => (Some(h), false),
                None => (client.find_user(&username).await?, true),
            },
            None => (client.find_user(&username).await?, true),
        };
        // A hub user found by its login that another spoke user was pushed as (it kept a
        // login this user has since taken) is not this user's: it is neither deactivated
        // nor taken over for it.
        let mut taken_by = None;
        if let Some(id) = hub_user.as_ref().filter(|_| by_login).and_then(|h| h.get("id")).and_then(Value::as_str) {
            taken_by = self.store.hub_user_owner(org, app_id, id, user_id).await?;
            if taken_by.is_some() {
                hub_user = None;
            }
        }
        let hub_status = hub_user.as_ref().and_then(|h| h.get("status")).and_then(Value::as_str).unwrap_or("").to_string();
        let hub_id = hub_user.as_ref().and_then(|h| h.get("id")).and_then(Value::as_str).map(str::to_string);
        if !assigned || spoke == UserStatus::Deprovisioned {
            if flag(&conn.features, "deactivate") {
                if let Some(id) = &hub_id {
                    if hub_status != "DEPROVISIONED" {
                        client.lifecycle(id, "deactivate", false).await?;
                        return Ok(format!("deactivated {username} in the hub"));
                    }
                }
            }
            return Ok("nothing to deactivate".into());
        }
        if spoke == UserStatus::Suspended {
            if let (true, Some(id)) = (flag(&conn.features, "deactivate"), &hub_id) {
                if hub_status == "ACTIVE" {
                    client.lifecycle(id, "suspend", false).await?;
                    return Ok(format!("suspended {username} in the hub"));
                }
            }
            return Ok("nothing to suspend".into());
        }
        let result = match (&hub_id, hub_user.as_ref()) {
            (None, _) => {
                if !flag(&conn.features, "create") {
                    return Ok("create disabled".into());
                }
                if let Some(other) = taken_by {
                    return Err(Fault::Config(format!(
                        "the hub user {username} is already the hub user of another spoke user ({other}): not taken over; give one of them another username"
                    )));
                }
                let initial = self.initial_status(org, app_id, user_id, direct.as_ref().map(|d| &d.profile)).await?;
                let activate = initial.starts_with("active");
                let password = initial.ends_with("_with_pass").then(|| format!("Aa1-{}", idhub_domain::ids::random_base62(24)));
                let created = client.create_user(&Value::Object(profile), password.as_deref(), activate).await?;
                let id = created.get("id").and_then(Value::as_str).map(str::to_string);
                self.store.record_app_user_sync(org, app_id, user_id, id.as_deref(), "SYNCHRONIZED", now).await?;
                if stale_username {
                    self.store.set_app_username(org, app_id, user_id, &username, now).await?;
                }
                if let Some(id) = &id {
                    self.join_pushed_groups(org, app_id, user_id, id, &client).await?;
                }
                format!("created {username} in the hub ({initial})")
            }
            (Some(id), Some(hub)) => {
                let mut actions = vec![];
                if hub_status == "DEPROVISIONED" {
                    client.lifecycle(id, "activate", false).await?;
                    actions.push("reactivated");
                } else if hub_status == "SUSPENDED" {
                    client.lifecycle(id, "unsuspend", false).await?;
                    actions.push("unsuspended");
                }
                // a profile the hub sources (imported with profile sourcing) is not pushed back
                let sourced = flag(&conn.features, "profileSource")
                    && self.store.imports_of_user(org, user_id).await?.iter().any(|c| c.app_id == app_id);
                if flag(&conn.features, "update") && !sourced {
                    let current = hub.get("profile").cloned().unwrap_or(Value::Null);
                    let mut changed: Map<String, Value> =
                        profile.iter().filter(|(k, v)| current.get(k.as_str()) != Some(v)).map(|(k, v)| (k.clone(), v.clone())).collect();
                    if !follows_profile {
                        changed.remove("login"); // "Update application username on: Create"
                    }
                    if !changed.is_empty() {
                        client.update_profile(id, &Value::Object(changed.clone())).await?;
                        actions.push("profile pushed");
                        if changed.contains_key("login") {
                            self.store.set_app_username(org, app_id, user_id, &username, now).await?;
                            actions.push("username updated");
                        }
                    }
                }
                self.store.record_app_user_sync(org, app_id, user_id, Some(id), "SYNCHRONIZED", now).await?;
                if stale_username && !actions.contains(&"username updated") {
                    self.store.set_app_username(org, app_id, user_id, &username, now).await?;
                }
                if direct.as_ref().and_then(|d| d.external_id.as_deref()) != Some(id.as_str()) {
                    // first link (or a group push that ran before the user existed)
                    self.join_pushed_groups(org, app_id, user_id, id, &client).await?;
                }
                if actions.is_empty() {
                    format!("{username} already in sync")
                } else {
                    format!("{username}: {}", actions.join(", "))
                }
            }
            (Some(_), None) => "unreachable".into(),
        };
        self.push_password(job, &conn, &client, &user, hub_id.as_deref(), &username, result).await
    }

    /// Sync Password: the password set in the spoke (sealed in the job), for users whose
    /// credentials live here (never federated or just-in-time users); scrubbed after use.
    #[allow(clippy::too_many_arguments)]
    async fn push_password(
        &self,
        job: &Job,
        conn: &idhub_store::connections::Connection,
        client: &OktaClient,
        user: &idhub_store::rows::StoredUser,
        hub_id: Option<&str>,
        username: &str,
        result: String,
    ) -> Result<String, Fault> {
        let Some(sealed) = job.payload.get("password").and_then(Value::as_str) else { return Ok(result) };
        if !flag(&conn.features, "password") || user.user.provider.is_federated() {
            return Ok(result);
        }
        let org = &job.org_id;
        let (app_id, user_id) = (job.payload["appId"].as_str().unwrap_or_default(), job.payload["userId"].as_str().unwrap_or_default());
        let pw = self
            .sealing_key
            .open(&password_purpose(org, app_id, user_id), sealed)
            .map_err(|e| Fault::Config(format!("the queued password cannot be opened: {e}")))?;
        let hub_id = match hub_id {
            Some(id) => id.to_string(),
            None => {
                client.find_user(username).await?.and_then(|h| h.get("id").and_then(Value::as_str).map(str::to_string)).unwrap_or_default()
            }
        };
        if hub_id.is_empty() {
            return Ok(result);
        }
        client.set_password(&hub_id, &String::from_utf8_lossy(&pw)).await?;
        self.store.scrub_job_secret(&job.id).await?;
        Ok(format!("{result}; password pushed"))
    }

    /// The assignment's initial status: the direct assignment's, else the first group
    /// assignment (by priority) the user is in; Okta's default is `active`.
    async fn initial_status(&self, org: &OrgId, app: &str, user: &str, direct: Option<&Value>) -> Result<String, Fault> {
        if let Some(s) = direct.and_then(|p| p.get("initialStatus")).and_then(Value::as_str) {
            return Ok(s.to_string());
        }
        let groups = self.store.user_groups(org, &idhub_domain::ids::UserId(user.to_string())).await?;
        for ag in self.store.list_app_groups(org, app).await? {
            if groups.iter().any(|g| g.group.id.0 == ag.group_id) {
                if let Some(s) = ag.profile.get("initialStatus").and_then(Value::as_str) {
                    return Ok(s.to_string());
                }
            }
        }
        Ok("active".into())
    }
}

/// Does the app username follow the spoke profile ("Update application username on":
/// Create and update, the default) rather than stay as created (Create only)?
fn follows_profile(app: &App) -> bool {
    app.username_template.get("updateOn").and_then(Value::as_str) != Some("CREATE")
}

/// A user's app username now: with "Create and update" the template's, from the first push
/// on (a login renamed between the assignment and the push counts); with "Create only" the
/// one the direct assignment was given, else the template's.
pub(crate) fn current_username(app: &App, user: &User, direct: Option<&AppUser>) -> Result<String, Fault> {
    match direct.and_then(|d| d.username.clone()) {
        Some(u) if !follows_profile(app) => Ok(u),
        _ => app_username(app, user).map_err(|e| Fault::Config(e.to_string())),
    }
}

impl Handler for Org2OrgHandler {
    fn handle<'a>(&'a self, job: &'a Job) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let group_push = job.kind == crate::group_push::KIND;
            let result = if group_push {
                self.push_group(job).await
            } else if job.kind == crate::import::KIND {
                self.import(job).await
            } else {
                self.sync(job).await
            };
            if group_push {
                if let (Err(e), Some(m)) = (&result, job.payload.get("mappingId").and_then(Value::as_str)) {
                    let (status, msg) = match e {
                        Fault::Hub(e) if e.is_transient() => ("PENDING", e.to_string()),
                        Fault::Hub(e) => ("ERROR", e.to_string()),
                        Fault::Config(e) => ("ERROR", e.clone()),
                        Fault::Store(e) => ("PENDING", e.clone()),
                    };
                    let _ = self.store.record_group_push(&job.org_id, m, None, status, Some(&msg), self.clock.now_millis()).await;
                }
            }
            match result {
                Ok(what) => {
                    tracing::info!(job = %job.id, "provisioning: {what}");
                    let app = job.payload.get("appId").and_then(Value::as_str).unwrap_or_default();
                    let ev = NewEvent::success(
                        if group_push { "application.provision.group_push.pushed" } else { "application.provision.user.sync" },
                        what,
                        Party::system(),
                        vec![Party::new(app, "AppInstance", app, app)],
                        Default::default(),
                    );
                    let _ = self.store.log_event_batched(&job.org_id, ev, self.clock.now_millis()).await;
                    Outcome::Done
                }
                Err(Fault::Hub(e)) if e.is_transient() => {
                    Outcome::Retry { error: e.to_string(), after_ms: e.retry_after_ms(self.clock.now_millis()) }
                }
                Err(Fault::Store(e)) => Outcome::Retry { error: e, after_ms: None },
                Err(Fault::Hub(e)) => Outcome::Fail { error: e.to_string(), events: vec![failure(job, &e.to_string())] },
                Err(Fault::Config(e)) => Outcome::Fail { error: e.clone(), events: vec![failure(job, &e)] },
            }
        })
    }
}

fn failure(job: &Job, reason: &str) -> NewEvent {
    let app = job.payload.get("appId").and_then(Value::as_str).unwrap_or_default();
    if job.kind == crate::group_push::KIND {
        let group = job.payload.get("groupId").and_then(Value::as_str).unwrap_or_default();
        return NewEvent::failure(
            "application.provision.group_push.push",
            "Push group to app failed",
            Party::system(),
            vec![Party::new(group, "UserGroup", group, group), Party::new(app, "AppInstance", app, app)],
            Default::default(),
            reason,
        );
    }
    let user = job.payload.get("userId").and_then(Value::as_str).unwrap_or_default();
    NewEvent::failure(
        "application.provision.user.push",
        "Push user to app failed",
        Party::system(),
        vec![Party::new(user, "User", user, user), Party::new(app, "AppInstance", app, app)],
        Default::default(),
        reason,
    )
}
