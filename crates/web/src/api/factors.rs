//! Administration of users' MFA factors (`/api/v1/users/{id}/factors`, reset) and the
//! org's sign-on policy (an idhub extension: `/api/v1/idhub/policies/sign-on`, since
//! Okta's own policy API is far larger than what idhub's policy holds).

use super::extract::{ApiCaller, ApiWriter, OktaJson};
use crate::error::ApiError;
use crate::request::Client;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use idhub_core::permissions::{OrgAction, UserAction};
use idhub_domain::event::{NewEvent, Party};
use idhub_domain::policy::SignOnPolicy;
use idhub_domain::time::format_millis;
use idhub_store::rows::StoredUser;
use idhub_store::StoreError;
use serde_json::{json, Value};

async fn user(state: &AppState, caller: &ApiCaller, id: &str) -> Result<StoredUser, ApiError> {
    match state.store.get_user(&caller.org.id, id).await {
        Ok(u) => Ok(u),
        Err(StoreError::NotFound) => Err(ApiError::not_found(format!("{id} (User)"))),
        Err(e) => Err(e.into()),
    }
}

fn party(u: &StoredUser) -> Party {
    Party::new(u.user.id.0.clone(), "User", u.user.login(), u.user.display_name())
}

/// `GET /api/v1/users/{id}/factors`
pub async fn factors_list(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let u = user(&state, &caller, &id).await?;
    let base = &caller.org.base_url;
    let factors = state.store.list_factors(&caller.org.id, &u.user.id).await?;
    Ok(Json(Value::Array(
        factors
            .iter()
            .map(|f| {
                json!({
                    "id": f.id, "factorType": f.factor_type, "provider": f.provider, "vendorName": f.provider,
                    "status": f.status, "created": format_millis(f.created), "lastUpdated": format_millis(f.last_updated),
                    "profile": { "credentialId": u.user.login() },
                    "_links": { "self": { "href": format!("{base}/api/v1/users/{}/factors/{}", u.user.id, f.id) } }
                })
            })
            .collect(),
    )))
}

/// `DELETE /api/v1/users/{id}/factors/{factor}`
pub async fn factors_delete(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    Path((id, factor)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let u = user(&state, &caller, &id).await?;
    caller.check_user(&state, UserAction::Factors, &u.user).await?;
    let ev = NewEvent::success("user.mfa.factor.deactivate", "Reset factor for user", caller.actor(), vec![party(&u)], client.0);
    let n = idhub_core::directory::reset_factors(&state.core, &caller.org, &u.user, Some(&factor), ev, None)
        .await
        .map_err(crate::error::ApiError::from)?;
    if n == 0 {
        return Err(ApiError::not_found(format!("{factor} (Factor)")));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/users/{id}/lifecycle/reset_factors`
pub async fn factors_reset(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let u = user(&state, &caller, &id).await?;
    caller.check_user(&state, UserAction::Factors, &u.user).await?;
    let ev = NewEvent::success("user.mfa.factor.reset_all", "Reset all factors for user", caller.actor(), vec![party(&u)], client.0);
    idhub_core::directory::reset_factors(&state.core, &caller.org, &u.user, None, ev, None).await.map_err(crate::error::ApiError::from)?;
    Ok(Json(json!({})))
}

/// `GET /api/v1/idhub/policies/sign-on`
pub async fn sign_on_policy_get(caller: ApiCaller) -> Json<Value> {
    Json(serde_json::to_value(SignOnPolicy::from_settings(&caller.org.settings)).unwrap_or(Value::Null))
}

/// `PUT /api/v1/idhub/policies/sign-on`: replace the policy (missing fields take defaults).
pub async fn sign_on_policy_put(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    OktaJson(body): OktaJson,
) -> Result<Json<Value>, ApiError> {
    caller.check(OrgAction::ManageSecurity)?;
    let policy: SignOnPolicy = serde_json::from_value(body).map_err(|e| ApiError::bad_body(e.to_string()))?;
    let actor = idhub_core::Actor { party: caller.actor(), client: client.0 };
    idhub_core::org_settings::save_sign_on_policy(&state.core, &caller.org, &actor, &policy).await?;
    state.orgs.invalidate(&caller.org.host);
    Ok(Json(serde_json::to_value(&policy).unwrap_or(Value::Null)))
}
