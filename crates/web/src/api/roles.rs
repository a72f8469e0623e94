//! Administrator roles (`/api/v1/users/{id}/roles`) and the targets of scoped roles
//! (`…/roles/{role}/targets/groups`, `…/targets/catalog/apps`). idhub has Okta's super, org
//! and read-only administrators, group (`USER_ADMIN`), help desk and app administrators;
//! a user holds at most one role, and the role's id is its type.

use super::extract::{ApiCaller, ApiWriter, OktaJson};
use crate::error::ApiError;
use crate::request::Client;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use idhub_core::directory;
use idhub_core::permissions::{OrgAction, UserAction};
use idhub_core::Actor;
use idhub_domain::event::NewEvent;
use idhub_domain::time::format_millis;
use idhub_domain::user::{AdminRole, RoleTargetKind, User};
use idhub_store::roles::RoleTarget;
use idhub_store::rows::StoredUser;
use idhub_store::StoreError;
use serde_json::{json, Value};

fn role_json(base: &str, u: &User, r: AdminRole) -> Value {
    json!({
        "id": r.as_str(), "label": r.label(), "type": r.as_str(), "status": "ACTIVE",
        "created": format_millis(u.last_updated), "lastUpdated": format_millis(u.last_updated), "assignmentType": "USER",
        "_links": { "assignee": { "href": format!("{base}/api/v1/users/{}", u.id) } }
    })
}

/// `GET /api/v1/users/{id}/roles`
pub async fn roles_list(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let u = directory::load_user(&state.core, &caller.org, &id).await.map_err(crate::error::ApiError::from)?;
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
    let target = directory::load_user(&state.core, &caller.org, &id).await.map_err(crate::error::ApiError::from)?;
    caller.check_role(UserAction::GrantRole(role), target.user.admin_role, false)?;
    let actor = Actor { party: caller.actor(), client: client.0 };
    let u = idhub_core::roles::set_role(&state.core, &caller.org, &actor, &id, Some(role)).await?;
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
    let u = directory::load_user(&state.core, &caller.org, &id).await.map_err(crate::error::ApiError::from)?;
    caller.check_role(UserAction::RevokeRole, u.user.admin_role, false)?;
    if u.user.admin_role.map(|r| r.as_str()) != Some(role.as_str()) {
        return Err(ApiError::not_found(format!("{role} (Role)")));
    }
    let actor = Actor { party: caller.actor(), client: client.0 };
    idhub_core::roles::set_role(&state.core, &caller.org, &actor, &id, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The user `id`, who must hold `role` (given as its wire name) and `role` must be scoped by
/// targets of `kind`; read by any administrator, changed only by whoever manages roles.
async fn scoped_role(
    state: &AppState,
    caller: &ApiCaller,
    id: &str,
    role: &str,
    kind: RoleTargetKind,
) -> Result<(StoredUser, AdminRole), ApiError> {
    let u = directory::load_user(&state.core, &caller.org, id).await.map_err(crate::error::ApiError::from)?;
    let held = u.user.admin_role.filter(|r| r.as_str() == role).ok_or_else(|| ApiError::not_found(format!("{role} (Role)")))?;
    if held.target_kind() != Some(kind) {
        let what = match kind {
            RoleTargetKind::Group => "group",
            RoleTargetKind::App => "app",
        };
        return Err(ApiError::validation("role", vec![format!("{role}: this role cannot have {what} targets")]));
    }
    Ok((u, held))
}

/// One target added to or removed from a role, with its event.
async fn change_target(
    state: &AppState,
    caller: &ApiCaller,
    client: Client,
    (u, role): (StoredUser, AdminRole),
    kind: RoleTargetKind,
    (target_id, target_name): (&str, &str),
    add: bool,
) -> Result<StatusCode, ApiError> {
    caller.check_role(UserAction::RevokeRole, u.user.admin_role, false)?;
    let (event_type, verb) = if add { ("user.account.privilege.grant", "Add") } else { ("user.account.privilege.revoke", "Remove") };
    let kind_name = if kind == RoleTargetKind::Group { "group" } else { "app" };
    let ev = NewEvent::success(
        event_type,
        format!("{verb} {kind_name} target {target_name} of {}", role.as_str()),
        caller.actor(),
        vec![directory::user_party(&u.user)],
        client.0,
    );
    let key = RoleTarget { user: u.user.id.as_str(), role, kind, target: target_id };
    if add {
        state.store.add_role_target(&caller.org.id, key, state.now(), &[ev]).await?;
    } else if !state.store.remove_role_target(&caller.org.id, key, state.now(), &[ev]).await? {
        return Err(ApiError::not_found(format!("{target_id} (Target)")));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// A group or app target as the API shows it, with the name events give it; `None` when
/// it does not exist (any more).
async fn target_json(state: &AppState, caller: &ApiCaller, kind: RoleTargetKind, id: &str) -> Result<Option<(Value, String)>, ApiError> {
    let found = match kind {
        RoleTargetKind::Group => state
            .store
            .get_group(&caller.org.id, id)
            .await
            .map(|g| (super::groups::group_json(&caller.org.base_url, &g.group), g.group.name)),
        RoleTargetKind::App => {
            state.store.get_app(&caller.org.id, id).await.map(|a| (super::applications::app_json(&caller.org, &a), a.label))
        }
    };
    match found {
        Ok(t) => Ok(Some(t)),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The targets of a user's scoped role that still exist (a deleted group or app targets nothing).
async fn targets_list(state: &AppState, caller: &ApiCaller, id: &str, role: &str, kind: RoleTargetKind) -> Result<Json<Value>, ApiError> {
    let (u, held) = scoped_role(state, caller, id, role, kind).await?;
    let mut out = vec![];
    for tid in state.store.role_targets(&caller.org.id, u.user.id.as_str(), held, kind).await? {
        if let Some((json, _)) = target_json(state, caller, kind, &tid).await? {
            out.push(json);
        }
    }
    Ok(Json(Value::Array(out)))
}

/// Add (`put`) or remove a target after the checks every target route makes.
async fn set_target(
    state: AppState,
    caller: ApiCaller,
    client: Client,
    (id, role): (String, String),
    kind: RoleTargetKind,
    target: &str,
    put: bool,
) -> Result<StatusCode, ApiError> {
    caller.check(OrgAction::ManageRoles)?;
    let scoped = scoped_role(&state, &caller, &id, &role, kind).await?;
    let name = match target_json(&state, &caller, kind, target).await? {
        Some((_, name)) => name,
        None if put => {
            return Err(ApiError::not_found(format!("{target} ({})", if kind == RoleTargetKind::Group { "UserGroup" } else { "App" })))
        }
        None => target.to_string(),
    };
    change_target(&state, &caller, client, scoped, kind, (target, &name), put).await
}

/// `GET /api/v1/users/{id}/roles/{role}/targets/groups`
pub async fn group_targets_list(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, role)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    targets_list(&state, &caller, &id, &role, RoleTargetKind::Group).await
}

/// `PUT /api/v1/users/{id}/roles/{role}/targets/groups/{groupId}`
pub async fn group_target_put(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    Path((id, role, group)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    set_target(state, caller, client, (id, role), RoleTargetKind::Group, &group, true).await
}

/// `DELETE /api/v1/users/{id}/roles/{role}/targets/groups/{groupId}`
pub async fn group_target_delete(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    Path((id, role, group)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    set_target(state, caller, client, (id, role), RoleTargetKind::Group, &group, false).await
}

/// `GET /api/v1/users/{id}/roles/{role}/targets/catalog/apps`: the app instances targeted.
pub async fn app_targets_list(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, role)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    targets_list(&state, &caller, &id, &role, RoleTargetKind::App).await
}

/// `PUT /api/v1/users/{id}/roles/{role}/targets/catalog/apps/{appName}/{appId}` (the
/// app's catalog name must match the instance).
pub async fn app_target_put(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    Path((id, role, name, app)): Path<(String, String, String, String)>,
) -> Result<StatusCode, ApiError> {
    match state.store.get_app(&caller.org.id, &app).await {
        Ok(a) if a.name == name => {}
        Ok(_) | Err(StoreError::NotFound) => return Err(ApiError::not_found(format!("{name}/{app} (App)"))),
        Err(e) => return Err(e.into()),
    }
    set_target(state, caller, client, (id, role), RoleTargetKind::App, &app, true).await
}

/// `DELETE /api/v1/users/{id}/roles/{role}/targets/catalog/apps/{appName}/{appId}`
pub async fn app_target_delete(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    Path((id, role, _name, app)): Path<(String, String, String, String)>,
) -> Result<StatusCode, ApiError> {
    set_target(state, caller, client, (id, role), RoleTargetKind::App, &app, false).await
}
