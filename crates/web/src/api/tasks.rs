//! Provisioning Tasks and progress (idhub's own endpoints; Okta shows these only in its
//! console): `GET /api/v1/idhub/tasks`, `POST /api/v1/idhub/tasks/{id}/lifecycle/{retry|dismiss}`
//! and `GET /api/v1/apps/{id}/idhub/provisioning/progress` (pushes pending, running, done
//! and failed for one app).

use super::extract::{ApiCaller, ApiWriter, Params};
use crate::error::ApiError;
use crate::request::Client;
use crate::AppState;
use axum::extract::{Path, State};
use axum::Json;
use idhub_domain::time::format_millis;
use idhub_store::jobs::Job;
use idhub_store::StoreError;
use serde_json::{json, Value};

fn task_json(j: &Job) -> Value {
    json!({
        "id": j.id,
        "status": j.status,
        "kind": j.kind,
        "appId": j.payload.get("appId"),
        "userId": j.payload.get("userId"),
        "attempts": j.attempts,
        "lastError": j.last_error,
        "created": format_millis(j.created),
    })
}

/// `GET /api/v1/idhub/tasks?status=FAILED|PENDING|DONE` (default: the open Tasks).
pub async fn tasks_list(State(state): State<AppState>, caller: ApiCaller, params: Params) -> Result<Json<Value>, ApiError> {
    let status = params.get("status").unwrap_or("FAILED");
    if !matches!(status, "FAILED" | "PENDING" | "RUNNING" | "DONE" | "DISMISSED") {
        return Err(ApiError::validation("status", vec!["status: must be FAILED, PENDING, RUNNING, DONE or DISMISSED".into()]));
    }
    let limit = params.limit(200, 1000)?;
    let jobs = state.store.list_jobs(&caller.org.id, status, limit).await?;
    Ok(Json(Value::Array(jobs.iter().map(task_json).collect())))
}

/// `POST /api/v1/idhub/tasks/{id}/lifecycle/{retry|dismiss}`
pub async fn tasks_lifecycle(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    Path((id, op)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let Some(action) = idhub_core::tasks::TaskAction::parse(&op) else {
        return Err(ApiError::not_found(format!("/api/v1/idhub/tasks/{id}/lifecycle/{op} (POST)")));
    };
    let actor = idhub_core::Actor { party: caller.actor(), client: client.0 };
    Ok(Json(task_json(&idhub_core::tasks::resolve(&state.core, &caller.org, &actor, &id, action).await?)))
}

/// `GET /api/v1/apps/{id}/idhub/provisioning/progress`
pub async fn provisioning_progress(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    match state.store.get_app(&caller.org.id, &id).await {
        Ok(_) => {}
        Err(StoreError::NotFound) => return Err(ApiError::not_found(format!("{id} (App)"))),
        Err(e) => return Err(e.into()),
    }
    let p = state.store.batch_progress(&caller.org.id, &id).await?;
    Ok(Json(json!({ "appId": id, "pending": p.pending, "running": p.running, "done": p.done, "failed": p.failed })))
}
