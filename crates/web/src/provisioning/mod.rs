//! Provisioning "To App" for the Org2Org connector: the API integration of an app
//! (`/api/v1/apps/{id}/connections/default`, `/features/USER_PROVISIONING`), the jobs a
//! change enqueues (in its own transaction), and the handler that reconciles one user
//! of one app with the hub: match by username, create (with the assignment's initial
//! status), push profile changes, deactivate or suspend, reactivate on reassignment.
//! The handler lives in `worker.rs`; this file holds the jobs and the integration API.

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
use idhub_domain::sealed::SealingKey;
use idhub_domain::time::format_millis;
use idhub_store::apps::App;
use idhub_store::connections::Connection;
use idhub_store::jobs::NewJob;
use idhub_store::orgs::Org;
use idhub_store::{Optional, StoreError};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

mod worker;
pub use worker::Org2OrgHandler;
pub(crate) use worker::{current_username, Fault};

pub use idhub_store::plan::{sync_job, QUEUE};

fn password_purpose(org: &OrgId, app: &str, user: &str) -> String {
    format!("provisioning-password:{org}:{app}:{user}")
}

/// A user's new password sealed for each provisioned app that syncs passwords (Sync
/// Password), by app id: the store puts it into that app's sync job for this user only.
pub async fn sealed_passwords(state: &AppState, org: &OrgId, user: &str, password: &str) -> Result<BTreeMap<String, String>, StoreError> {
    let mut sealed = BTreeMap::new();
    for app in state.store.provisioned_app_ids(org).await? {
        let Some(c) = state.store.get_connection(org, &app).await.optional()? else { continue };
        if flag(&c.features, "password") {
            let s = state
                .settings
                .sealing_key
                .seal(&password_purpose(org, &app, user), password.as_bytes())
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            sealed.insert(app, s);
        }
    }
    Ok(sealed)
}

/// The jobs a membership change of `user` in `group` adds to the store's own planning
/// (which reconciles the user with every provisioned app it gains or loses, in the
/// change's transaction): the group's pushes (Push Groups).
pub async fn group_app_jobs(state: &AppState, org: &OrgId, group: &str, _user: &str) -> Result<Vec<NewJob>, StoreError> {
    crate::group_push::jobs_for_group_change(state, org, group).await
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
    let app = state.store.get_app(&org.id, id).await.optional()?.ok_or_else(|| ApiError::not_found(format!("{id} (App)")))?;
    if app.name != "okta_org2org" {
        return Err(ApiError::validation("app", vec!["app: provisioning is available for Okta Org2Org apps".into()]));
    }
    Ok(app)
}

/// "Test API Credentials": a readable verdict naming the cause by the status and a short
/// classified reason. Nothing of what the hub sent back is repeated (the base URL is the
/// admin's to choose, so its answer could be any service's).
pub async fn test_credentials(state: &AppState, base_url: &str, token: &str) -> Result<String, String> {
    let answered = |status: u16| match StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()) {
        Some(reason) => format!("The hub answered {status} {reason}."),
        None => format!("The hub answered {status}."),
    };
    let client = OktaClient::new(&state.settings.egress, base_url, token).map_err(|e| format!("The base URL was refused: {e}."))?;
    match client.test_credentials().await {
        Ok(check) => Ok(match check.token_owner {
            Some(owner) => format!("Okta Org2Org was verified successfully! (token of {owner})"),
            None => "Okta Org2Org was verified successfully!".into(),
        }),
        Err(ClientError::Unauthorized { .. }) => {
            Err("The hub refused the API token (401). Check that the token exists and was not revoked.".into())
        }
        Err(ClientError::Forbidden { .. }) => Err("The token is valid but is not an administrator's token (403).".into()),
        Err(ClientError::NotFound { .. }) => Err(format!("{} Is this the hub's base URL?", answered(404))),
        Err(ClientError::RateLimited { .. }) => Err(format!("{} Try again later.", answered(429))),
        Err(ClientError::Server { status, .. } | ClientError::Rejected { status, .. }) => Err(answered(status)),
        Err(ClientError::Unreachable(reason)) => Err(format!("The hub at {base_url} is unreachable: {reason}.")),
        Err(ClientError::Tls(reason)) => Err(format!("TLS with the hub failed: {reason}.")),
        Err(ClientError::Egress(e)) => Err(format!("The hub at {base_url} was not called: {e}.")),
    }
}

/// `GET /api/v1/apps/{id}/connections/default`
pub async fn connection_get(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let app = load_app(&state, &caller.org, &id).await?;
    let c = state.store.get_connection(&caller.org.id, &app.id).await.optional()?;
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
    let existing = state.store.get_connection(&org.id, &app.id).await.optional()?;
    let base_url = base_url
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .map(str::to_string)
        .or_else(|| existing.as_ref().map(|c| c.base_url.clone()))
        .or_else(|| app.settings.pointer("/app/baseUrl").and_then(Value::as_str).map(str::to_string))
        .ok_or_else(|| ApiError::validation("baseUrl", vec!["baseUrl: The field cannot be left blank".into()]))?;
    let base_url =
        state.settings.egress.check_origin(&base_url).await.map_err(|e| ApiError::validation("baseUrl", vec![format!("baseUrl: {e}")]))?;
    let key: &SealingKey = &state.settings.sealing_key;
    // The stored token belongs to the stored hub: it never follows the URL elsewhere.
    let moved = existing.as_ref().is_some_and(|c| !idhub_connectors::egress::same_origin(&c.base_url, &base_url));
    let token_sealed = match token.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => key.seal(&purpose(&org.id, &app.id), t.as_bytes()).map_err(|e| ApiError::internal(e.to_string()))?,
        None if moved => {
            return Err(ApiError::validation(
                "token",
                vec!["token: The API token is required again when the base URL points to another hub".into()],
            ))
        }
        None => existing
            .as_ref()
            .map(|c| c.token_sealed.clone())
            .ok_or_else(|| ApiError::validation("token", vec!["token: The API token is required".into()]))?,
    };
    let now = state.now();
    Ok(Connection {
        org_id: org.id.clone(),
        app_id: app.id.clone(),
        base_url,
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
        let verdict = test_credentials(state, &c.base_url, &open_token(state, org, &app, &c)?).await;
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
    let existing = state.store.get_connection(&org.id, &app.id).await.optional()?;
    let tested = pending_connection(state, org, &app, creds.base_url, creds.token).await?;
    let verdict = test_credentials(state, &tested.base_url, &open_token(state, org, &app, &tested)?).await;
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
    let mut c = state.store.get_connection(&org.id, &app.id).await.optional()?.ok_or_else(|| ApiError::not_found("connection"))?;
    match op {
        "activate" => {
            let msg = test_credentials(state, &c.base_url, &open_token(state, org, &app, &c)?)
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
pub async fn features_of(state: &AppState, org: &Org, app: &App) -> Result<Value, StoreError> {
    Ok(state.store.get_connection(&org.id, &app.id).await.optional()?.map(|c| c.features).unwrap_or_else(default_features))
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
        .optional()?
        .ok_or_else(|| ApiError::validation("connection", vec!["connection: configure the API integration first".into()]))?;
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
    let f = features_of(&state, &caller.org, &app).await?;
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
