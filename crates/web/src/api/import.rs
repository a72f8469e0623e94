//! Import from the hub over the API (`/api/v1/apps/{id}/idhub/import…` and the
//! `INBOUND_PROVISIONING` feature): the wire shapes of [`idhub_core::import`].

use crate::api::extract::{ApiCaller, ApiWriter, OktaJson};
use crate::error::ApiError;
use crate::request::Client;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use idhub_core::import::*;
use idhub_core::Actor;
use idhub_domain::time::format_millis;
use idhub_store::imports::ImportCandidate;
use idhub_store::orgs::Org;
use serde_json::{json, Value};

fn candidate_json(c: &ImportCandidate) -> Value {
    json!({
        "id": c.id, "hubUserId": c.hub_user_id, "hubLogin": c.hub_login, "action": c.action, "userId": c.user_id,
        "status": c.status, "profile": c.profile, "created": format_millis(c.created),
    })
}

fn inbound_json(org: &Org, app_id: &str, f: &Value) -> Value {
    json!({
        "name": "INBOUND_PROVISIONING",
        "status": "ENABLED",
        "capabilities": {
            "importSettings": { "schedule": { "status": if setting(f, "importSchedule", "NONE") == "NONE" { "DISABLED" } else { "ENABLED" }, "interval": setting(f, "importSchedule", "NONE") }, "username": { "userNameFormat": "CUSTOM" } },
            "importRules": { "userCreateAndMatch": { "exactMatchCriteria": setting(f, "importMatch", "USERNAME"), "allowPartialMatch": false, "autoConfirmExactMatch": false, "autoConfirmNewUsers": false, "autoConfirmPartialMatch": false, "autoActivateNewUsers": true } },
            "idhub:profileSource": { "status": if f.get("profileSource").and_then(Value::as_bool) == Some(true) { "ENABLED" } else { "DISABLED" } }
        },
        "_links": { "self": { "href": format!("{}/api/v1/apps/{app_id}/features/INBOUND_PROVISIONING", org.base_url) } }
    })
}

/// `PUT /api/v1/apps/{id}/features/INBOUND_PROVISIONING` (partial): the match rule
/// (`importRules.userCreateAndMatch.exactMatchCriteria`), the schedule
/// (`importSettings.schedule.interval`: NONE, HOURLY, DAILY) and idhub's profile sourcing.
pub async fn inbound_put(state: &AppState, org: &Org, actor: &Actor, app_id: &str, body: &Value) -> Result<Json<Value>, ApiError> {
    let caps = body.get("capabilities").cloned().unwrap_or(Value::Null);
    let s = |p: &str| caps.pointer(p).and_then(Value::as_str).map(str::to_string);
    let profile_source = match s("/idhub:profileSource/status").as_deref() {
        None => None,
        Some("ENABLED") => Some(true),
        Some("DISABLED") => Some(false),
        Some(_) => return Err(ApiError::validation("status", vec!["idhub:profileSource.status: must be ENABLED or DISABLED".into()])),
    };
    let settings = ImportSettings {
        match_by: s("/importRules/userCreateAndMatch/exactMatchCriteria"),
        schedule: s("/importSettings/schedule/interval"),
        profile_source,
    };
    let c = save_settings(&state.core, org, actor, app_id, settings).await?;
    Ok(Json(inbound_json(org, app_id, &c.features)))
}

/// `GET /api/v1/apps/{id}/idhub/import`
pub async fn import_get(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    Ok(Json(import_state_json(&import_state(&state.core, &caller.org, &id).await?)))
}

/// `POST /api/v1/apps/{id}/idhub/import`: Import Now (202, the job's id).
pub async fn import_post(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let job = import_now(&state.core, &caller.org, &Actor { party: caller.actor(), client: client.0 }, &id).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "status": "QUEUED", "jobId": job }))))
}

/// `POST /api/v1/apps/{id}/idhub/import/confirm` with `{"ids": [...]}` or `{"all": true}`.
pub async fn import_confirm(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    Path(id): Path<String>,
    OktaJson(body): OktaJson,
) -> Result<Json<Value>, ApiError> {
    let ids = match (body.get("all").and_then(Value::as_bool), body.get("ids").and_then(Value::as_array)) {
        (Some(true), None) => None,
        (None | Some(false), Some(a)) if a.iter().all(Value::is_string) => {
            Some(a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        }
        _ => return Err(ApiError::validation("ids", vec!["ids: give {\"all\": true} or {\"ids\": [result ids]}".into()])),
    };
    let out = confirm(&state.core, &caller.org, &Actor { party: caller.actor(), client: client.0 }, &id, ids).await?;
    Ok(Json(Value::Array(out.into_iter().map(confirmed_json).collect())))
}

/// An app's import state in the wire shape the console's page and the API share.
pub fn import_state_json(s: &ImportState) -> Value {
    json!({
        "matchBy": s.match_by,
        "schedule": s.schedule,
        "profileSource": s.profile_source,
        "lastImport": s.last_import.map(format_millis),
        "lastImportResult": s.last_import_result,
        "pending": s.pending.iter().map(candidate_json).collect::<Vec<_>>(),
        "imported": s.imported,
        "running": s.running,
    })
}

/// One confirmed proposal: CONFIRMED with the spoke user, or FAILED with Okta's error
/// summary and causes.
pub fn confirmed_json(c: Confirmed) -> Value {
    match c.result {
        Ok(uid) => json!({ "id": c.id, "action": c.action, "userId": uid, "status": "CONFIRMED" }),
        Err(e) => {
            let e = ApiError::from(e);
            json!({ "id": c.id, "action": c.action, "status": "FAILED", "error": e.summary, "errorCauses": e.causes })
        }
    }
}
