//! Provisioning "To App" for the Org2Org connector: the API integration of an app
//! (`/api/v1/apps/{id}/connections/default`, `/features/USER_PROVISIONING`), the jobs a
//! change enqueues (in its own transaction), and the handler that reconciles one user
//! of one app with the hub: match by username, create (with the assignment's initial
//! status), push profile changes, deactivate or suspend, reactivate on reassignment.
//! The handler lives in `worker.rs`; this file holds the jobs and the integration API.

use crate::error::CoreError;
use crate::Actor;
use crate::Core;
use http::StatusCode;
use idhub_connectors::okta::{ClientError, OktaClient};
use idhub_domain::event::{NewEvent, Party};
use idhub_domain::ids::OrgId;
use idhub_domain::sealed::SealingKey;
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
pub async fn sealed_passwords(core: &Core, org: &OrgId, user: &str, password: &str) -> Result<BTreeMap<String, String>, StoreError> {
    let mut sealed = BTreeMap::new();
    for app in core.store.provisioned_app_ids(org).await? {
        let Some(c) = core.store.get_connection(org, &app).await.optional()? else { continue };
        if flag(&c.features, "password") {
            let s = core
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
pub async fn group_app_jobs(core: &Core, org: &OrgId, group: &str, _user: &str) -> Result<Vec<NewJob>, StoreError> {
    crate::group_push::jobs_for_group_change(core, org, group).await
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

pub async fn load_app(core: &Core, org: &Org, id: &str) -> Result<App, CoreError> {
    let app = core.store.get_app(&org.id, id).await.optional()?.ok_or_else(|| CoreError::not_found(format!("{id} (App)")))?;
    if app.name != "okta_org2org" {
        return Err(CoreError::validation("app", vec!["app: provisioning is available for Okta Org2Org apps".into()]));
    }
    Ok(app)
}

/// "Test API Credentials": a readable verdict naming the cause by the status and a short
/// classified reason. Nothing of what the hub sent back is repeated (the base URL is the
/// admin's to choose, so its answer could be any service's).
pub async fn test_credentials(core: &Core, base_url: &str, token: &str) -> Result<String, String> {
    let answered = |status: u16| match StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()) {
        Some(reason) => format!("The hub answered {status} {reason}."),
        None => format!("The hub answered {status}."),
    };
    let client = OktaClient::new(&core.egress, base_url, token).map_err(|e| format!("The base URL was refused: {e}."))?;
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

fn open_token(core: &Core, org: &Org, app: &App, c: &Connection) -> Result<String, CoreError> {
    let token = core.sealing_key.open(&purpose(&org.id, &app.id), &c.token_sealed).map_err(|e| CoreError::internal(e.to_string()))?;
    String::from_utf8(token).map_err(|e| CoreError::internal(e.to_string()))
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
    core: &Core,
    org: &Org,
    app: &App,
    base_url: Option<&str>,
    token: Option<&str>,
) -> Result<Connection, CoreError> {
    let existing = core.store.get_connection(&org.id, &app.id).await.optional()?;
    let base_url = base_url
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .map(str::to_string)
        .or_else(|| existing.as_ref().map(|c| c.base_url.clone()))
        .or_else(|| app.settings.pointer("/app/baseUrl").and_then(Value::as_str).map(str::to_string))
        .ok_or_else(|| CoreError::validation("baseUrl", vec!["baseUrl: The field cannot be left blank".into()]))?;
    let base_url =
        core.egress.check_origin(&base_url).await.map_err(|e| CoreError::validation("baseUrl", vec![format!("baseUrl: {e}")]))?;
    let key: &SealingKey = &core.sealing_key;
    // The stored token belongs to the stored hub: it never follows the URL elsewhere.
    let moved = existing.as_ref().is_some_and(|c| !idhub_connectors::egress::same_origin(&c.base_url, &base_url));
    let token_sealed = match token.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => key.seal(&purpose(&org.id, &app.id), t.as_bytes()).map_err(|e| CoreError::internal(e.to_string()))?,
        None if moved => {
            return Err(CoreError::validation(
                "token",
                vec!["token: The API token is required again when the base URL points to another hub".into()],
            ))
        }
        None => existing
            .as_ref()
            .map(|c| c.token_sealed.clone())
            .ok_or_else(|| CoreError::validation("token", vec!["token: The API token is required".into()]))?,
    };
    let now = core.now();
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
    core: &Core,
    org: &Org,
    actor: &Actor,
    creds: Credentials<'_>,
    activate: bool,
) -> Result<(App, Connection), CoreError> {
    let app = load_app(core, org, creds.app_id).await?;
    let mut c = pending_connection(core, org, &app, creds.base_url, creds.token).await?;
    if activate {
        let verdict = test_credentials(core, &c.base_url, &open_token(core, org, &app, &c)?).await;
        c.last_test = Some(core.now());
        match verdict {
            Ok(msg) => {
                c.status = "ENABLED".into();
                c.last_test_result = Some(msg);
            }
            Err(msg) => {
                return Err(CoreError::validation(
                    format!("Test API Credentials: {msg}"),
                    vec![format!("token: Test API Credentials: {msg}")],
                ));
            }
        }
    }
    core.store.save_connection(&c, &[connection_event(actor, &app, "Update provisioning connection")]).await?;
    Ok((app, c))
}

/// "Test API Credentials": test the given (else stored) base URL and token against the
/// hub and record the verdict. Credentials the hub accepts are kept (the token sealed);
/// refused ones are not saved. The connection's status is unchanged. `Ok(Err(reason))`
/// when the hub refused: the reason says what it answered.
pub async fn test_integration(core: &Core, org: &Org, actor: &Actor, creds: Credentials<'_>) -> Result<Result<String, String>, CoreError> {
    let app = load_app(core, org, creds.app_id).await?;
    let existing = core.store.get_connection(&org.id, &app.id).await.optional()?;
    let tested = pending_connection(core, org, &app, creds.base_url, creds.token).await?;
    let verdict = test_credentials(core, &tested.base_url, &open_token(core, org, &app, &tested)?).await;
    let mut c = match (&verdict, existing) {
        (Err(_), Some(e)) => e,
        (Err(_), None) => return Ok(verdict),
        (Ok(_), e) => Connection { status: e.map(|e| e.status).unwrap_or_else(|| "DISABLED".into()), ..tested },
    };
    c.last_test = Some(core.now());
    c.last_test_result = Some(match &verdict {
        Ok(m) => m.clone(),
        Err(m) => format!("Failed: {m}"),
    });
    core.store.save_connection(&c, &[connection_event(actor, &app, "Test provisioning connection")]).await?;
    Ok(verdict)
}

/// Enable (`activate`, after testing the stored credentials) or disable the connection.
pub async fn set_connection_status(core: &Core, org: &Org, actor: &Actor, app_id: &str, op: &str) -> Result<(), CoreError> {
    let app = load_app(core, org, app_id).await?;
    let mut c = core.store.get_connection(&org.id, &app.id).await.optional()?.ok_or_else(|| CoreError::not_found("connection"))?;
    match op {
        "activate" => {
            let msg = test_credentials(core, &c.base_url, &open_token(core, org, &app, &c)?)
                .await
                .map_err(|m| CoreError::validation("token", vec![format!("Test API Credentials: {m}")]))?;
            c.status = "ENABLED".into();
            c.last_test = Some(core.now());
            c.last_test_result = Some(msg);
        }
        "deactivate" => c.status = "DISABLED".into(),
        _ => return Err(CoreError::not_found(format!("/connections/default/lifecycle/{op} (POST)"))),
    }
    c.last_updated = core.now();
    core.store.save_connection(&c, &[connection_event(actor, &app, "Update provisioning connection")]).await?;
    Ok(())
}

/// Provisioning flags an admin may switch: the To App toggles and the integration's
/// Import Groups and Prefer Username Over Email.
pub const FEATURE_FLAGS: [&str; 6] = ["create", "update", "deactivate", "password", "importGroups", "preferUsernameOverEmail"];

/// The provisioning flags in force for an app (the defaults before any connection).
pub async fn features_of(core: &Core, org: &Org, app: &App) -> Result<Value, StoreError> {
    Ok(core.store.get_connection(&org.id, &app.id).await.optional()?.map(|c| c.features).unwrap_or_else(default_features))
}

/// Switch provisioning flags (names from [`FEATURE_FLAGS`]); the API integration must exist.
pub async fn set_features(
    core: &Core,
    org: &Org,
    actor: &Actor,
    app_id: &str,
    changes: &[(&str, bool)],
) -> Result<(App, Connection), CoreError> {
    update_features(core, org, actor, app_id, "Update provisioning features", |f| {
        for (key, on) in changes {
            if !FEATURE_FLAGS.contains(key) {
                return Err(CoreError::validation("feature", vec![format!("{key}: not a provisioning feature")]));
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
    core: &Core,
    org: &Org,
    actor: &Actor,
    app_id: &str,
    message: &str,
    change: F,
) -> Result<(App, Connection), CoreError>
where
    F: FnOnce(&mut Map<String, Value>) -> Result<Vec<NewJob>, CoreError>,
{
    let app = load_app(core, org, app_id).await?;
    let mut c = core
        .store
        .get_connection(&org.id, &app.id)
        .await
        .optional()?
        .ok_or_else(|| CoreError::validation("connection", vec!["connection: configure the API integration first".into()]))?;
    let mut f: Map<String, Value> = c.features.as_object().cloned().unwrap_or_default();
    let jobs = change(&mut f)?;
    c.features = Value::Object(f);
    c.last_updated = core.now();
    let ev = NewEvent::success(
        "application.provision.feature.update",
        message,
        actor.party.clone(),
        vec![Party::new(app.id.clone(), "AppInstance", app.name.clone(), app.label.clone())],
        actor.client.clone(),
    );
    core.store.save_connection_with_jobs(&c, &[ev], &jobs).await?;
    Ok((app, c))
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
