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
use idhub_core::tokens;
use idhub_core::Actor;
use idhub_domain::time::format_millis;
use idhub_store::tokens::ApiToken;
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
    Ok(tokens::load_token(&state.core, &caller.org, id).await?)
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
    caller.check_role(UserAction::RevokeToken, tokens::owner_role(&state.core, &t).await?, false)?;
    tokens::revoke_token(&state.core, &caller.org, &Actor { party: caller.actor(), client: client.0 }, &t).await?;
    Ok(StatusCode::NO_CONTENT)
}
