//! Administrator roles (`/api/v1/users/{id}/roles`): idhub has the three Okta roles
//! that matter to it (super, org and read-only administrator); a user holds at most one.

use super::extract::{ApiCaller, ApiWriter, OktaJson};
use crate::directory::{self, Actor};
use crate::error::ApiError;
use crate::request::Client;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use idhub_core::permissions::{OrgAction, UserAction};
use idhub_domain::event::NewEvent;
use idhub_domain::time::format_millis;
use idhub_domain::user::{AdminRole, User};
use idhub_store::orgs::Org;
use idhub_store::rows::StoredUser;
use serde_json::{json, Value};

fn label(r: AdminRole) -> &'static str {
    match r {
        AdminRole::SuperAdmin => "Super Administrator",
        AdminRole::OrgAdmin => "Organizational Administrator",
        AdminRole::ReadOnlyAdmin => "Read Only Administrator",
    }
}

fn role_json(base: &str, u: &User, r: AdminRole) -> Value {
    json!({
        "id": r.as_str(), "label": label(r), "type": r.as_str(), "status": "ACTIVE",
        "created": format_millis(u.last_updated), "lastUpdated": format_millis(u.last_updated), "assignmentType": "USER",
        "_links": { "assignee": { "href": format!("{base}/api/v1/users/{}", u.id) } }
    })
}

/// Grant (`Some`) or revoke (`None`) a user's administrator role.
pub async fn set_role(state: &AppState, org: &Org, actor: &Actor, id: &str, role: Option<AdminRole>) -> Result<StoredUser, ApiError> {
    let now = state.now();
    directory::change_user(state, org, id, |u| {
        if u.admin_role == role {
            return Ok(vec![]);
        }
        let event = match (u.admin_role, role) {
            (_, Some(r)) => NewEvent::success(
                "user.account.privilege.grant",
                format!("Grant user privilege {}", r.as_str()),
                actor.party.clone(),
                vec![directory::user_party(u)],
                actor.client.clone(),
            ),
            (Some(old), None) => NewEvent::success(
                "user.account.privilege.revoke",
                format!("Revoke user privilege {}", old.as_str()),
                actor.party.clone(),
                vec![directory::user_party(u)],
                actor.client.clone(),
            ),
            (None, None) => return Ok(vec![]),
        };
        u.admin_role = role;
        u.last_updated = now;
        Ok(vec![event])
    })
    .await
}

/// `GET /api/v1/users/{id}/roles`
pub async fn roles_list(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let u = directory::load_user(&state, &caller.org, &id).await?;
    let roles: Vec<Value> = u.user.admin_role.map(|r| role_json(&caller.org.base_url, &u.user, r)).into_iter().collect();
    Ok(Json(Value::Array(roles)))
}

/// `POST /api/v1/users/{id}/roles` with `{"type": "SUPER_ADMIN" | "ORG_ADMIN" | "READ_ONLY_ADMIN"}`
pub async fn roles_assign(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    Path(id): Path<String>,
    OktaJson(body): OktaJson,
) -> Result<Response, ApiError> {
    caller.check(OrgAction::ManageRoles)?;
    let role = body
        .get("type")
        .and_then(Value::as_str)
        .and_then(AdminRole::parse)
        .ok_or_else(|| ApiError::validation("type", vec!["type: must be SUPER_ADMIN, ORG_ADMIN or READ_ONLY_ADMIN".into()]))?;
    let target = directory::load_user(&state, &caller.org, &id).await?;
    caller.check_user(UserAction::GrantRole(role), target.user.admin_role)?;
    let actor = Actor { party: caller.actor(), client: client.0 };
    let u = set_role(&state, &caller.org, &actor, &id, Some(role)).await?;
    Ok((StatusCode::CREATED, Json(role_json(&caller.org.base_url, &u.user, role))).into_response())
}

/// `DELETE /api/v1/users/{id}/roles/{role}`
pub async fn roles_unassign(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    Path((id, role)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    caller.check(OrgAction::ManageRoles)?;
    let u = directory::load_user(&state, &caller.org, &id).await?;
    caller.check_user(UserAction::RevokeRole, u.user.admin_role)?;
    if u.user.admin_role.map(|r| r.as_str()) != Some(role.as_str()) {
        return Err(ApiError::not_found(format!("{role} (Role)")));
    }
    let actor = Actor { party: caller.actor(), client: client.0 };
    set_role(&state, &caller.org, &actor, &id, None).await?;
    Ok(StatusCode::NO_CONTENT)
}
