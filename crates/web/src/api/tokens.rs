//! `/api/v1/api-tokens`: list, read and revoke API tokens (tokens are created in the
//! console or by `idhub token create`, and shown once).

use super::extract::{ApiCaller, ApiWriter};
use crate::error::ApiError;
use crate::request::Client;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use idhub_core::permissions::UserAction;
use idhub_domain::event::{NewEvent, Party};
use idhub_domain::time::format_millis;
use idhub_domain::user::AdminRole;
use idhub_store::tokens::ApiToken;
use idhub_store::StoreError;
use serde_json::{json, Value};

/// A token's metadata as Okta shows it (never the secret).
pub fn token_json(base_url: &str, t: &ApiToken) -> Value {
    json!({
        "id": t.id,
        "name": t.name,
        "userId": t.user_id,
        "clientName": "Okta API",
        "tokenWindow": "P30D",
        "created": format_millis(t.created),
        "lastUpdated": format_millis(t.last_used.unwrap_or(t.created)),
        "lastUsed": t.last_used.map(format_millis),
        "expiresAt": t.expires.map(format_millis),
        "role": t.role.as_str(),
        "_links": { "self": { "href": format!("{base_url}/api/v1/api-tokens/{}", t.id) } }
    })
}

/// `GET /api/v1/api-tokens`
pub async fn tokens_list(State(state): State<AppState>, caller: ApiCaller) -> Result<Json<Value>, ApiError> {
    let tokens = state.store.list_tokens(&caller.org.id).await?;
    Ok(Json(Value::Array(tokens.iter().map(|t| token_json(&caller.org.base_url, t)).collect())))
}

async fn load(state: &AppState, caller: &ApiCaller, id: &str) -> Result<ApiToken, ApiError> {
    let id = if id == "current" { caller.token.id.0.as_str() } else { id };
    match state.store.get_token(&caller.org.id, id).await {
        Ok(t) => Ok(t),
        Err(StoreError::NotFound) => Err(ApiError::not_found(format!("{id} (ApiToken)"))),
        Err(e) => Err(e.into()),
    }
}

/// The role a token acts with, which is what revoking it is judged against: its owner's
/// current role, or the token's own when it has no owner; none when the owner is gone.
pub async fn owner_role(state: &AppState, t: &ApiToken) -> Result<Option<AdminRole>, StoreError> {
    let Some(uid) = &t.user_id else { return Ok(Some(t.role)) };
    match state.store.get_user(&t.org_id, uid).await {
        Ok(u) => Ok(u.user.admin_role),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// `GET /api/v1/api-tokens/{id|current}`
pub async fn tokens_get(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    Ok(Json(token_json(&caller.org.base_url, &load(&state, &caller, &id).await?)))
}

/// `DELETE /api/v1/api-tokens/{id|current}`
pub async fn tokens_revoke(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let t = load(&state, &caller, &id).await?;
    caller.check_role(UserAction::RevokeToken, owner_role(&state, &t).await?, false)?;
    let ev = NewEvent::success(
        "system.api_token.revoke",
        "Revoke API token",
        caller.actor(),
        vec![Party::new(t.id.0.clone(), "Token", t.name.clone(), t.name.clone())],
        client.0,
    );
    state.store.revoke_token(&caller.org.id, t.id.as_str(), state.now(), &[ev]).await?;
    Ok(StatusCode::NO_CONTENT)
}
