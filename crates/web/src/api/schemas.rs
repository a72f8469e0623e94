//! `/api/v1/meta/schemas/user/default`: the profile schema, and adding, changing or
//! removing custom attributes.

use super::extract::{ApiCaller, ApiWriter, OktaJson};
use crate::error::ApiError;
use crate::request::Client;
use crate::AppState;
use axum::extract::{Path, State};
use axum::Json;
use idhub_domain::event::{NewEvent, Party};
use idhub_domain::schema::UserSchema;
use serde_json::Value;

fn check_schema_id(caller: &ApiCaller, schema: &str) -> Result<(), ApiError> {
    if schema == "default" || schema == caller.org.user_type_id {
        Ok(())
    } else {
        Err(ApiError::not_found(format!("/api/v1/meta/schemas/user/{schema} (UserSchema)")))
    }
}

/// `GET /api/v1/meta/schemas/user/default`
pub async fn schemas_get(State(state): State<AppState>, caller: ApiCaller, Path(schema): Path<String>) -> Result<Json<Value>, ApiError> {
    check_schema_id(&caller, &schema)?;
    let s = state.store.user_schema(&caller.org.id).await?;
    Ok(Json(s.to_okta_json(&caller.org.base_url)))
}

/// `POST /api/v1/meta/schemas/user/default`: partial update of custom properties
/// (a property set to `null` is removed).
pub async fn schemas_update(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    Path(schema): Path<String>,
    OktaJson(body): OktaJson,
) -> Result<Json<Value>, ApiError> {
    check_schema_id(&caller, &schema)?;
    let current = state.store.user_schema(&caller.org.id).await?;
    let changes = UserSchema::parse_custom_update(&body)?;
    let mut custom = current.custom.clone();
    for (name, attr) in changes {
        custom.retain(|a| a.name != name);
        if let Some(attr) = attr {
            current.check_custom(&attr)?;
            custom.push(attr);
        }
    }
    let ev = NewEvent::success(
        "system.user_schema.update",
        "Update user profile schema",
        caller.actor(),
        vec![Party::new("default", "UserSchema", "user", "User")],
        client.0,
    );
    state.store.save_custom_attributes(&caller.org.id, &custom, state.now(), &[ev]).await?;
    Ok(Json(UserSchema::with_custom(custom).to_okta_json(&caller.org.base_url)))
}
