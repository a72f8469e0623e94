//! Provisioning "To App" for the Org2Org connector: the API integration of an app
//! (`/api/v1/apps/{id}/connections/default`, `/features/USER_PROVISIONING`), the jobs a
//! change enqueues (in its own transaction), and the handler that reconciles one user
//! of one app with the hub: match by username, create (with the assignment's initial
//! status), push profile changes, deactivate or suspend, reactivate on reassignment.

use crate::api::applications::app_username;
use crate::api::extract::{ApiCaller, ApiWriter, OktaJson, Params};
use crate::directory::Actor;
use crate::error::ApiError;
use crate::request::Client;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use idhub_connectors::okta::{ClientError, OktaClient};
use idhub_domain::event::{NewEvent, Party};
use idhub_domain::ids::OrgId;
use idhub_domain::lifecycle::UserStatus;
use idhub_domain::sealed::SealingKey;
use idhub_domain::time::format_millis;
use idhub_jobs::{BoxFuture, Handler, Outcome};
use idhub_store::apps::App;
use idhub_store::connections::Connection;
use idhub_store::jobs::{Job, NewJob};
use idhub_store::orgs::Org;
use idhub_store::{Store, StoreError};
use serde_json::{json, Map, Value};

/// The queue provisioning jobs run on.
pub const QUEUE: &str = "provisioning";
const KIND: &str = "org2org.sync_user";

/// The job that reconciles `user` in `app` with the hub.
pub fn sync_job(org: &OrgId, app: &str, user: &str) -> NewJob {
    NewJob {
        org_id: org.clone(),
        queue: QUEUE.into(),
        kind: KIND.into(),
        ordering_key: format!("{app}:{user}"),
        payload: json!({ "appId": app, "userId": user }),
        // An app's pushes form its batch: progress is counted per app.
        batch_id: Some(app.to_string()),
    }
}

/// Jobs for a change to `user`: one per provisioned app the user reaches, plus `extra`
/// apps (one being unassigned).
pub async fn jobs_for_user(state: &AppState, org: &OrgId, user: &str, extra: &[&str]) -> Result<Vec<NewJob>, StoreError> {
    let provisioned = state.store.provisioned_app_ids(org).await?;
    if provisioned.is_empty() {
        return Ok(vec![]);
    }
    let mut apps: Vec<String> = state.store.apps_for_user(org, user, false).await?.into_iter().map(|a| a.id).collect();
    apps.extend(extra.iter().map(|a| a.to_string()));
    apps.sort();
    apps.dedup();
    Ok(apps.iter().filter(|a| provisioned.contains(a)).map(|a| sync_job(org, a, user)).collect())
}

fn password_purpose(org: &OrgId, app: &str, user: &str) -> String {
    format!("provisioning-password:{org}:{app}:{user}")
}

/// Put the user's new password, sealed for this one job's app and user, into the jobs of
/// apps whose provisioning syncs passwords (Sync Password).
pub async fn attach_password(state: &AppState, org: &OrgId, jobs: &mut [NewJob], password: &str) -> Result<(), StoreError> {
    for job in jobs.iter_mut() {
        let app = job.payload.get("appId").and_then(Value::as_str).unwrap_or_default().to_string();
        let user = job.payload.get("userId").and_then(Value::as_str).unwrap_or_default().to_string();
        let syncs = state.store.get_connection(org, &app).await.map(|c| flag(&c.features, "password")).unwrap_or(false);
        if syncs {
            let sealed = state
                .settings
                .sealing_key
                .seal(&password_purpose(org, &app, &user), password.as_bytes())
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            job.payload["password"] = json!(sealed);
        }
    }
    Ok(())
}

/// Jobs for every member of `group` in one provisioned app.
pub async fn jobs_for_group(state: &AppState, org: &OrgId, app: &str, group: &str) -> Result<Vec<NewJob>, StoreError> {
    if !state.store.provisioned_app_ids(org).await?.iter().any(|a| a == app) {
        return Ok(vec![]);
    }
    Ok(state.store.group_member_ids(org, group).await?.iter().map(|u| sync_job(org, app, u)).collect())
}

/// Jobs for a membership change of `user` in `group`: the user in every provisioned app
/// assigned to the group, and the group's pushes (Push Groups).
pub async fn group_app_jobs(state: &AppState, org: &OrgId, group: &str, user: &str) -> Result<Vec<NewJob>, StoreError> {
    let provisioned = state.store.provisioned_app_ids(org).await?;
    let mut jobs = crate::group_push::jobs_for_group_change(state, org, group).await?;
    for app in provisioned {
        if state.store.list_app_groups(org, &app).await?.iter().any(|g| g.group_id == group) {
            jobs.push(sync_job(org, &app, user));
        }
    }
    Ok(jobs)
}

fn default_features() -> Value {
    json!({ "create": true, "update": true, "deactivate": true, "password": false, "importGroups": true, "preferUsernameOverEmail": false })
}

fn flag(features: &Value, k: &str) -> bool {
    features.get(k).and_then(Value::as_bool).unwrap_or(false)
}

fn purpose(org: &OrgId, app: &str) -> String {
    format!("provisioning-token:{org}:{app}")
}

fn connection_json(org: &Org, app: &App, c: Option<&Connection>) -> Value {
    json!({
        "authScheme": "TOKEN",
        "baseUrl": c.map(|c| c.base_url.clone()),
        "profile": { "authScheme": "TOKEN" },
        "status": c.map(|c| c.status.as_str()).unwrap_or("DISABLED"),
        "lastTest": c.and_then(|c| c.last_test).map(format_millis),
        "lastTestResult": c.and_then(|c| c.last_test_result.clone()),
        "_links": { "app": { "href": format!("{}/api/v1/apps/{}", org.base_url, app.id) } }
    })
}

pub async fn load_app(state: &AppState, org: &Org, id: &str) -> Result<App, ApiError> {
    let app = state.store.get_app(&org.id, id).await.map_err(|_| ApiError::not_found(format!("{id} (App)")))?;
    if app.name != "okta_org2org" {
        return Err(ApiError::validation("app", vec!["app: provisioning is available for Okta Org2Org apps".into()]));
    }
    Ok(app)
}

/// "Test API Credentials": a readable verdict naming the cause.
pub async fn test_credentials(base_url: &str, token: &str) -> Result<String, String> {
    let client = OktaClient::new(base_url, token).map_err(|e| e.to_string())?;
    match client.test_credentials().await {
        Ok(check) => Ok(match check.token_owner {
            Some(owner) => format!("Okta Org2Org was verified successfully! (token of {owner})"),
            None => "Okta Org2Org was verified successfully!".into(),
        }),
        Err(ClientError::Unauthorized { summary, .. }) => {
            Err(format!("The hub refused the API token (401): {summary}. Check that the token exists and was not revoked."))
        }
        Err(ClientError::Forbidden { summary, .. }) => {
            Err(format!("The token is valid but is not an administrator's token (403): {summary}."))
        }
        Err(ClientError::Unreachable(e)) => Err(format!("The hub at {base_url} is unreachable: {e}")),
        Err(ClientError::Tls(e)) => Err(format!("TLS with the hub failed: {e}")),
        Err(e) => Err(e.to_string()),
    }
}

/// `GET /api/v1/apps/{id}/connections/default`
pub async fn connection_get(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let app = load_app(&state, &caller.org, &id).await?;
    let c = state.store.get_connection(&caller.org.id, &app.id).await.ok();
    Ok(Json(connection_json(&caller.org, &app, c.as_ref())))
}

/// `POST /api/v1/apps/{id}/connections/default?activate=true`: set the hub's base URL
/// and token; with `activate` the credentials are tested first and the connection is
/// enabled only if they work.
pub async fn connection_save(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    params: Params,
    Path(id): Path<String>,
    OktaJson(body): OktaJson,
) -> Result<Json<Value>, ApiError> {
    let activate = params.flag("activate", true)?;
    let actor = Actor { party: caller.actor(), client: client.0 };
    let creds = Credentials {
        app_id: &id,
        base_url: body.get("baseUrl").and_then(Value::as_str),
        token: body.pointer("/profile/token").and_then(Value::as_str),
    };
    let (app, c) = save_integration(&state, &caller.org, &actor, creds, activate).await?;
    Ok(Json(connection_json(&caller.org, &app, Some(&c))))
}

fn open_token(state: &AppState, org: &Org, app: &App, c: &Connection) -> Result<String, ApiError> {
    let token =
        state.settings.sealing_key.open(&purpose(&org.id, &app.id), &c.token_sealed).map_err(|e| ApiError::internal(e.to_string()))?;
    String::from_utf8(token).map_err(|e| ApiError::internal(e.to_string()))
}

fn connection_event(actor: &Actor, app: &App, message: &str) -> NewEvent {
    NewEvent::success(
        "application.provision.connection.update",
        message,
        actor.party.clone(),
        vec![Party::new(app.id.clone(), "AppInstance", app.name.clone(), app.label.clone())],
        actor.client.clone(),
    )
}

/// The connection as it would be saved: the base URL given (else the stored one, else the
/// app's `baseUrl`), the token given (sealed) or the stored one; DISABLED, features kept.
async fn pending_connection(
    state: &AppState,
    org: &Org,
    app: &App,
    base_url: Option<&str>,
    token: Option<&str>,
) -> Result<Connection, ApiError> {
    let existing = state.store.get_connection(&org.id, &app.id).await.ok();
    let base_url = base_url
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .map(str::to_string)
        .or_else(|| existing.as_ref().map(|c| c.base_url.clone()))
        .or_else(|| app.settings.pointer("/app/baseUrl").and_then(Value::as_str).map(str::to_string))
        .ok_or_else(|| ApiError::validation("baseUrl", vec!["baseUrl: The field cannot be left blank".into()]))?;
    let base_url = idhub_domain::application::check_http_url("baseUrl", &base_url)?;
    let key: &SealingKey = &state.settings.sealing_key;
    let token_sealed = match token.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => key.seal(&purpose(&org.id, &app.id), t.as_bytes()).map_err(|e| ApiError::internal(e.to_string()))?,
        None => existing
            .as_ref()
            .map(|c| c.token_sealed.clone())
            .ok_or_else(|| ApiError::validation("token", vec!["token: The API token is required".into()]))?,
    };
    let now = state.now();
    Ok(Connection {
        org_id: org.id.clone(),
        app_id: app.id.clone(),
        base_url: base_url.trim_end_matches('/').to_string(),
        token_sealed,
        status: "DISABLED".into(),
        features: existing.as_ref().map(|c| c.features.clone()).unwrap_or_else(default_features),
        last_test: existing.as_ref().and_then(|c| c.last_test),
        last_test_result: existing.as_ref().and_then(|c| c.last_test_result.clone()),
        created: existing.as_ref().map(|c| c.created).unwrap_or(now),
        last_updated: now,
    })
}

/// The API integration an admin enters for an app: blank values keep the stored ones.
#[derive(Debug, Clone, Copy)]
pub struct Credentials<'a> {
    pub app_id: &'a str,
    pub base_url: Option<&'a str>,
    pub token: Option<&'a str>,
}

/// Save the API integration of an Org2Org app ("Enable API integration", Base URL, API
/// token). With `activate` the credentials are tested first and the connection is enabled
/// only if the hub accepts them; the refusal names what the hub answered.
pub async fn save_integration(
    state: &AppState,
    org: &Org,
    actor: &Actor,
    creds: Credentials<'_>,
    activate: bool,
) -> Result<(App, Connection), ApiError> {
    let app = load_app(state, org, creds.app_id).await?;
    let mut c = pending_connection(state, org, &app, creds.base_url, creds.token).await?;
    if activate {
        let verdict = test_credentials(&c.base_url, &open_token(state, org, &app, &c)?).await;
        c.last_test = Some(state.now());
        match verdict {
            Ok(msg) => {
                c.status = "ENABLED".into();
                c.last_test_result = Some(msg);
            }
            Err(msg) => {
                let mut e = ApiError::validation("token", vec![format!("token: Test API Credentials: {msg}")]);
                e.summary = format!("Api validation failed: Test API Credentials: {msg}");
                return Err(e);
            }
        }
    }
    state.store.save_connection(&c, &[connection_event(actor, &app, "Update provisioning connection")]).await?;
    Ok((app, c))
}

/// "Test API Credentials": test the given (else stored) base URL and token against the
/// hub and record the verdict. Credentials the hub accepts are kept (the token sealed);
/// refused ones are not saved. The connection's status is unchanged. `Ok(Err(reason))`
/// when the hub refused: the reason says what it answered.
pub async fn test_integration(
    state: &AppState,
    org: &Org,
    actor: &Actor,
    creds: Credentials<'_>,
) -> Result<Result<String, String>, ApiError> {
    let app = load_app(state, org, creds.app_id).await?;
    let existing = state.store.get_connection(&org.id, &app.id).await.ok();
    let tested = pending_connection(state, org, &app, creds.base_url, creds.token).await?;
    let verdict = test_credentials(&tested.base_url, &open_token(state, org, &app, &tested)?).await;
    let mut c = match (&verdict, existing) {
        (Err(_), Some(e)) => e,
        (Err(_), None) => return Ok(verdict),
        (Ok(_), e) => Connection { status: e.map(|e| e.status).unwrap_or_else(|| "DISABLED".into()), ..tested },
    };
    c.last_test = Some(state.now());
    c.last_test_result = Some(match &verdict {
        Ok(m) => m.clone(),
        Err(m) => format!("Failed: {m}"),
    });
    state.store.save_connection(&c, &[connection_event(actor, &app, "Test provisioning connection")]).await?;
    Ok(verdict)
}

/// Enable (`activate`, after testing the stored credentials) or disable the connection.
pub async fn set_connection_status(state: &AppState, org: &Org, actor: &Actor, app_id: &str, op: &str) -> Result<(), ApiError> {
    let app = load_app(state, org, app_id).await?;
    let mut c = state.store.get_connection(&org.id, &app.id).await.map_err(|_| ApiError::not_found("connection"))?;
    match op {
        "activate" => {
            let msg = test_credentials(&c.base_url, &open_token(state, org, &app, &c)?)
                .await
                .map_err(|m| ApiError::validation("token", vec![format!("Test API Credentials: {m}")]))?;
            c.status = "ENABLED".into();
            c.last_test = Some(state.now());
            c.last_test_result = Some(msg);
        }
        "deactivate" => c.status = "DISABLED".into(),
        _ => return Err(ApiError::not_found(format!("/connections/default/lifecycle/{op} (POST)"))),
    }
    c.last_updated = state.now();
    state.store.save_connection(&c, &[connection_event(actor, &app, "Update provisioning connection")]).await?;
    Ok(())
}

/// `POST /api/v1/apps/{id}/connections/default/lifecycle/{activate|deactivate}`
pub async fn connection_lifecycle(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    Path((id, op)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    set_connection_status(&state, &caller.org, &Actor { party: caller.actor(), client: client.0 }, &id, &op).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Provisioning flags an admin may switch: the To App toggles and the integration's
/// Import Groups and Prefer Username Over Email.
pub const FEATURE_FLAGS: [&str; 6] = ["create", "update", "deactivate", "password", "importGroups", "preferUsernameOverEmail"];

/// The provisioning flags in force for an app (the defaults before any connection).
pub async fn features_of(state: &AppState, org: &Org, app: &App) -> Value {
    state.store.get_connection(&org.id, &app.id).await.map(|c| c.features).unwrap_or_else(|_| default_features())
}

/// Switch provisioning flags (names from [`FEATURE_FLAGS`]); the API integration must exist.
pub async fn set_features(
    state: &AppState,
    org: &Org,
    actor: &Actor,
    app_id: &str,
    changes: &[(&str, bool)],
) -> Result<(App, Connection), ApiError> {
    update_features(state, org, actor, app_id, "Update provisioning features", |f| {
        for (key, on) in changes {
            if !FEATURE_FLAGS.contains(key) {
                return Err(ApiError::validation("feature", vec![format!("{key}: not a provisioning feature")]));
            }
            f.insert(key.to_string(), json!(on));
        }
        Ok(vec![])
    })
    .await
}

/// Change an app's provisioning settings (the connection's features) with `change`,
/// logging `message` and writing the jobs `change` returns in the same transaction; the
/// API integration must exist.
pub async fn update_features<F>(
    state: &AppState,
    org: &Org,
    actor: &Actor,
    app_id: &str,
    message: &str,
    change: F,
) -> Result<(App, Connection), ApiError>
where
    F: FnOnce(&mut Map<String, Value>) -> Result<Vec<NewJob>, ApiError>,
{
    let app = load_app(state, org, app_id).await?;
    let mut c = state
        .store
        .get_connection(&org.id, &app.id)
        .await
        .map_err(|_| ApiError::validation("connection", vec!["connection: configure the API integration first".into()]))?;
    let mut f: Map<String, Value> = c.features.as_object().cloned().unwrap_or_default();
    let jobs = change(&mut f)?;
    c.features = Value::Object(f);
    c.last_updated = state.now();
    let ev = NewEvent::success(
        "application.provision.feature.update",
        message,
        actor.party.clone(),
        vec![Party::new(app.id.clone(), "AppInstance", app.name.clone(), app.label.clone())],
        actor.client.clone(),
    );
    state.store.save_connection_with_jobs(&c, &[ev], &jobs).await?;
    Ok((app, c))
}

fn feature_json(org: &Org, app: &App, f: &Value) -> Value {
    let st = |k: &str| if flag(f, k) { "ENABLED" } else { "DISABLED" };
    json!({
        "name": "USER_PROVISIONING",
        "status": "ENABLED",
        "description": "User provisioning settings from Okta to a downstream application",
        "capabilities": {
            "create": { "lifecycleCreate": { "status": st("create") } },
            "update": {
                "lifecycleDeactivate": { "status": st("deactivate") },
                "profile": { "status": st("update") },
                "password": { "status": st("password"), "seed": "RANDOM", "change": "CHANGE" }
            }
        },
        "_links": { "self": { "href": format!("{}/api/v1/apps/{}/features/USER_PROVISIONING", org.base_url, app.id) } }
    })
}

/// `GET /api/v1/apps/{id}/features` and `.../features/USER_PROVISIONING`
pub async fn features_get(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(params): Path<Vec<(String, String)>>,
) -> Result<Json<Value>, ApiError> {
    let id = params.iter().find(|(k, _)| k == "id").map(|(_, v)| v.clone()).unwrap_or_default();
    let app = load_app(&state, &caller.org, &id).await?;
    let f = state.store.get_connection(&caller.org.id, &app.id).await.map(|c| c.features).unwrap_or_else(|_| default_features());
    let one = feature_json(&caller.org, &app, &f);
    Ok(Json(if params.iter().any(|(k, _)| k == "feature") { one } else { json!([one]) }))
}

/// `PUT /api/v1/apps/{id}/features/USER_PROVISIONING` (partial updates allowed):
/// the seeds' To App toggles (Create Users, Update User Attributes, Deactivate Users,
/// Sync Password).
pub async fn features_put(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    Path((id, feature)): Path<(String, String)>,
    OktaJson(body): OktaJson,
) -> Result<Json<Value>, ApiError> {
    if feature == "INBOUND_PROVISIONING" {
        return crate::import::inbound_put(&state, &caller.org, &Actor { party: caller.actor(), client: client.0 }, &id, &body).await;
    }
    if feature != "USER_PROVISIONING" {
        return Err(ApiError::not_found(format!("{feature} (Feature)")));
    }
    let caps = body.get("capabilities").cloned().unwrap_or(Value::Null);
    let mut changes = vec![];
    for (ptr, key) in [
        ("/create/lifecycleCreate/status", "create"),
        ("/update/lifecycleDeactivate/status", "deactivate"),
        ("/update/profile/status", "update"),
        ("/update/password/status", "password"),
    ] {
        match caps.pointer(ptr).and_then(Value::as_str) {
            None => {}
            Some("ENABLED") => changes.push((key, true)),
            Some("DISABLED") => changes.push((key, false)),
            Some(_) => return Err(ApiError::validation("status", vec![format!("{ptr}: must be ENABLED or DISABLED")])),
        }
    }
    let actor = Actor { party: caller.actor(), client: client.0 };
    let (app, c) = set_features(&state, &caller.org, &actor, &id, &changes).await?;
    Ok(Json(feature_json(&caller.org, &app, &c.features)))
}

/// Base profile attributes pushed to the hub (custom spoke attributes stay home).
pub(crate) const PUSHED: [&str; 14] = [
    "email",
    "firstName",
    "lastName",
    "middleName",
    "honorificPrefix",
    "honorificSuffix",
    "title",
    "displayName",
    "nickName",
    "mobilePhone",
    "primaryPhone",
    "department",
    "organization",
    "locale",
];

/// Runs provisioning jobs.
pub struct Org2OrgHandler {
    pub store: Store,
    pub sealing_key: SealingKey,
    pub clock: std::sync::Arc<dyn idhub_domain::time::Clock>,
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
        let Ok(app) = self.store.get_app(org, app_id).await else { return Ok(None) };
        let Ok(conn) = self.store.get_connection(org, app_id).await else { return Ok(None) };
        if conn.status != "ENABLED" {
            return Ok(None);
        }
        let token = self.sealing_key.open(&purpose(org, app_id), &conn.token_sealed).map_err(|e| Fault::Config(e.to_string()))?;
        Ok(Some((app, OktaClient::new(&conn.base_url, &String::from_utf8_lossy(&token))?)))
    }

    async fn sync(&self, job: &Job) -> Result<String, Fault> {
        let org = &job.org_id;
        let app_id = job.payload.get("appId").and_then(Value::as_str).unwrap_or_default();
        let user_id = job.payload.get("userId").and_then(Value::as_str).unwrap_or_default();
        let Ok(app) = self.store.get_app(org, app_id).await else { return Ok("app removed: nothing to do".into()) };
        let Ok(conn) = self.store.get_connection(org, app_id).await else { return Ok("no connection".into()) };
        if conn.status != "ENABLED" {
            return Ok("provisioning disabled".into());
        }
        let Ok(user) = self.store.get_user(org, user_id).await else { return Ok("user deleted".into()) };
        let token = self.sealing_key.open(&purpose(org, app_id), &conn.token_sealed).map_err(|e| Fault::Config(e.to_string()))?;
        let client = OktaClient::new(&conn.base_url, &String::from_utf8_lossy(&token))?;
        let assigned = self.store.is_assigned(org, app_id, user_id).await? && app.status == "ACTIVE";
        let direct = self.store.get_app_user(org, app_id, user_id).await.ok();
        let hub_id_known = match direct.as_ref().and_then(|d| d.external_id.clone()) {
            Some(id) => Some(id),
            None => self.store.push_link(org, app_id, user_id).await?,
        };
        // "Update application username on": with Create and update (the default) the
        // username follows the spoke profile once the user is in the hub; with Create only
        // it keeps the one it was created with. A first push uses the assignment's username.
        let follows_profile = app.username_template.get("updateOn").and_then(Value::as_str) != Some("CREATE");
        let username = match direct.as_ref().and_then(|d| d.username.clone()) {
            Some(u) if !(follows_profile && hub_id_known.is_some()) => u,
            _ => app_username(&app, &user.user).map_err(|e| Fault::Config(e.summary))?,
        };
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
        let hub_user = match &hub_id_known {
            Some(id) => match client.find_user(id).await? {
                Some(h) => Some(h),
                None => client.find_user(&username).await?,
            },
            None => client.find_user(&username).await?,
        };
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
                let initial = self.initial_status(org, app_id, user_id, direct.as_ref().map(|d| &d.profile)).await?;
                let activate = initial.starts_with("active");
                let password = initial.ends_with("_with_pass").then(|| format!("Aa1-{}", idhub_domain::ids::random_base62(24)));
                let created = client.create_user(&Value::Object(profile), password.as_deref(), activate).await?;
                let id = created.get("id").and_then(Value::as_str).map(str::to_string);
                self.store.record_app_user_sync(org, app_id, user_id, id.as_deref(), "SYNCHRONIZED", now).await?;
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
