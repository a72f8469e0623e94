//! The API integration of an Org2Org app (`/api/v1/apps/{id}/connections/default`,
//! `/features/USER_PROVISIONING`): the wire shapes of [`idhub_core::provisioning`].

use crate::api::extract::{ApiCaller, ApiWriter, OktaJson, Params};
use crate::error::ApiError;
use crate::request::Client;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use idhub_core::provisioning::*;
use idhub_core::Actor;
use idhub_domain::time::format_millis;
use idhub_store::apps::App;
use idhub_store::connections::Connection;
use idhub_store::orgs::Org;
use idhub_store::Optional;
use serde_json::{json, Value};

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

/// `GET /api/v1/apps/{id}/connections/default`
pub async fn connection_get(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let app = load_app(&state.core, &caller.org, &id).await?;
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
    let (app, c) = save_integration(&state.core, &caller.org, &actor, creds, activate).await?;
    Ok(Json(connection_json(&caller.org, &app, Some(&c))))
}

/// `POST /api/v1/apps/{id}/connections/default/lifecycle/{activate|deactivate}`
pub async fn connection_lifecycle(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    Path((id, op)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    set_connection_status(&state.core, &caller.org, &Actor { party: caller.actor(), client: client.0 }, &id, &op).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn feature_json(org: &Org, app: &App, f: &Value) -> Value {
    let st = |k: &str| if f.get(k).and_then(Value::as_bool).unwrap_or(false) { "ENABLED" } else { "DISABLED" };
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
    let app = load_app(&state.core, &caller.org, &id).await?;
    let f = features_of(&state.core, &caller.org, &app).await?;
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
        return crate::api::import::inbound_put(&state, &caller.org, &Actor { party: caller.actor(), client: client.0 }, &id, &body).await;
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
    let (app, c) = set_features(&state.core, &caller.org, &actor, &id, &changes).await?;
    Ok(Json(feature_json(&caller.org, &app, &c.features)))
}
