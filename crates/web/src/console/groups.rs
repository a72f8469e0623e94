//! Directory > Groups: list, search, create, edit the name and description, view
//! members, add and remove members, delete.

use super::{done, error_context, field, notice, render, Admin, WriteForm};
use crate::api::extract::Params;
use crate::api::groups::group_json;
use crate::api::users::user_json;
use crate::error::ApiError;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use idhub_core::directory;
use idhub_domain::event::{NewEvent, Party};
use idhub_domain::group::{validate_profile, Group, GroupType};
use idhub_domain::ids::GroupId;
use idhub_domain::DomainError;
use idhub_store::groups::GroupSelect;
use idhub_store::StoreError;
use serde_json::{json, Value};

async fn list_page(state: &AppState, admin: &Admin, q: &str, extra: Value, status: StatusCode) -> Response {
    let select = if q.is_empty() { GroupSelect::All } else { GroupSelect::Q(q.to_string()) };
    let groups: Vec<Value> = match state.store.list_groups(&admin.org().id, &select, 500, None).await {
        Ok(p) => p.items.iter().map(|g| group_json(&admin.org().base_url, &g.group)).collect(),
        Err(e) => return super::page_error(admin, StatusCode::BAD_REQUEST, "Cannot list groups", &e.to_string()),
    };
    let mut ctx = json!({ "groups": groups, "q": q, "form": {} });
    if let (Some(o), Some(e)) = (ctx.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    render(admin, "groups.html", "groups", "Groups", ctx, status)
}

/// `GET /admin/groups`
pub async fn list(State(state): State<AppState>, admin: Admin, params: Params) -> Response {
    let q = params.get("q").unwrap_or_default().trim().to_string();
    list_page(&state, &admin, &q, json!({ "notice": notice(&params) }), StatusCode::OK).await
}

/// `POST /admin/groups`
pub async fn create(State(state): State<AppState>, WriteForm { admin, form }: WriteForm) -> Response {
    let name = field(&form, "name").unwrap_or_default().trim().to_string();
    let description = field(&form, "description").map(str::trim).filter(|d| !d.is_empty()).map(str::to_string);
    let form_ctx = |err: &ApiError| json!({ "form": { "name": name, "description": description, "error": err.causes.first().map(|c| c.split_once(": ").map(|(_, m)| m).unwrap_or(c)) }, "error": error_context(err).0 });
    if let Err(e) = validate_profile(Some(&name), description.as_deref()) {
        let e = ApiError::from(e);
        return list_page(&state, &admin, "", form_ctx(&e), StatusCode::BAD_REQUEST).await;
    }
    let now = state.now();
    let group = Group {
        id: GroupId::generate(),
        org_id: admin.org().id.clone(),
        kind: GroupType::OktaGroup,
        name: name.clone(),
        description: description.clone(),
        created: now,
        last_updated: now,
        last_membership_updated: now,
    };
    let actor = admin.actor();
    let ev = NewEvent::success(
        "group.lifecycle.create",
        "Create okta group",
        actor.party,
        vec![Party::new(group.id.0.clone(), "UserGroup", name.clone(), name.clone())],
        actor.client,
    );
    let (pushes, jobs) = match idhub_core::group_push::rule_pushes(&state.core, &admin.org().id, &group).await {
        Ok(pj) => pj,
        Err(e) => return super::failure_page(&admin, e),
    };
    match state.store.create_group_with_pushes(&group, &[ev], &pushes, &jobs).await {
        Ok(g) => done(&format!("/admin/group/{}", g.group.id), "Group created."),
        Err(StoreError::Conflict(_)) => {
            let e = ApiError::from(DomainError::Conflict("name".into()));
            list_page(&state, &admin, "", form_ctx(&e), StatusCode::BAD_REQUEST).await
        }
        Err(e) => super::page_error(&admin, StatusCode::INTERNAL_SERVER_ERROR, "Failed", &ApiError::from(e).summary),
    }
}

async fn view_page(state: &AppState, admin: &Admin, id: &str, extra: Value, status: StatusCode) -> Response {
    let g = match state.store.get_group(&admin.org().id, id).await {
        Ok(g) => g,
        Err(_) => return super::page_error(admin, StatusCode::NOT_FOUND, "Not found", "There is no such group in this organization."),
    };
    let members: Vec<Value> = match state.store.list_group_members(&admin.org().id, &g, 500, None).await {
        Ok(p) => p.items.iter().map(|u| user_json(&admin.org().base_url, &u.user)).collect(),
        Err(_) => vec![],
    };
    let mut ctx = json!({ "group": group_json(&admin.org().base_url, &g.group), "members": members, "editable": g.group.kind == GroupType::OktaGroup });
    if let (Some(o), Some(e)) = (ctx.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    let title = g.group.name.clone();
    render(admin, "group.html", "groups", &title, ctx, status)
}

/// `GET /admin/group/{id}`
pub async fn view(State(state): State<AppState>, admin: Admin, params: Params, Path(id): Path<String>) -> Response {
    view_page(&state, &admin, &id, json!({ "notice": notice(&params) }), StatusCode::OK).await
}

async fn membership(state: &AppState, admin: &Admin, id: &str, login: &str, add: bool) -> Result<(), ApiError> {
    let g = state.store.get_group(&admin.org().id, id).await.map_err(|_| ApiError::not_found("group"))?;
    if g.group.kind != GroupType::OktaGroup {
        return Err(ApiError::forbidden());
    }
    let u = directory::load_user(&state.core, admin.org(), login).await.map_err(crate::error::ApiError::from)?;
    let actor = admin.actor();
    let targets =
        vec![directory::user_party(&u.user), Party::new(g.group.id.0.clone(), "UserGroup", g.group.name.clone(), g.group.name.clone())];
    let now = state.now();
    if add {
        let ev = NewEvent::success("group.user_membership.add", "Add user to group membership", actor.party, targets, actor.client);
        let jobs = idhub_core::provisioning::group_app_jobs(&state.core, &admin.org().id, g.group.id.as_str(), u.user.id.as_str())
            .await
            .map_err(crate::error::ApiError::from)?;
        state.store.add_group_member(&admin.org().id, &g.group.id, &u, now, &[ev], &jobs).await?;
    } else {
        let ev = NewEvent::success("group.user_membership.remove", "Remove user from group membership", actor.party, targets, actor.client);
        let jobs = idhub_core::provisioning::group_app_jobs(&state.core, &admin.org().id, g.group.id.as_str(), u.user.id.as_str())
            .await
            .map_err(crate::error::ApiError::from)?;
        state.store.remove_group_member(&admin.org().id, &g.group.id, &u.user.id, now, &[ev], &jobs).await?;
    }
    Ok(())
}

/// `POST /admin/group/{id}/profile`: rename, or change the description.
pub async fn save_profile(State(state): State<AppState>, Path(id): Path<String>, WriteForm { admin, form }: WriteForm) -> Response {
    let Ok(g) = state.store.get_group(&admin.org().id, &id).await else {
        return super::page_error(&admin, StatusCode::NOT_FOUND, "Not found", "There is no such group in this organization.");
    };
    let name = field(&form, "name").unwrap_or_default().trim().to_string();
    let description = field(&form, "description").map(str::trim).filter(|d| !d.is_empty()).map(str::to_string);
    let result = match validate_profile(Some(&name), description.as_deref()) {
        Ok(()) => {
            let actor = admin.actor();
            crate::api::groups::update_profile(&state, g.group, name.clone(), description.clone(), actor.party, actor.client).await
        }
        Err(e) => Err(ApiError::from(e)),
    };
    match result {
        Ok(_) => done(&format!("/admin/group/{id}"), "Group saved."),
        Err(e) => {
            let message =
                e.causes.first().map(|c| c.split_once(": ").map(|(_, m)| m).unwrap_or(c).to_string()).unwrap_or(e.summary.clone());
            let edit = json!({ "name": name, "description": description, "error": message });
            view_page(&state, &admin, &id, json!({ "edit": edit, "error": error_context(&e).0 }), e.status).await
        }
    }
}

/// `POST /admin/group/{id}/members`
pub async fn add_member(State(state): State<AppState>, Path(id): Path<String>, WriteForm { admin, form }: WriteForm) -> Response {
    match membership(&state, &admin, &id, field(&form, "login").unwrap_or_default().trim(), true).await {
        Ok(()) => done(&format!("/admin/group/{id}"), "Member added."),
        Err(e) => view_page(&state, &admin, &id, json!({ "error": error_context(&e).0 }), e.status).await,
    }
}

/// `POST /admin/group/{id}/members/{user}/remove`
pub async fn remove_member(
    State(state): State<AppState>,
    Path((id, user)): Path<(String, String)>,
    WriteForm { admin, form: _ }: WriteForm,
) -> Response {
    match membership(&state, &admin, &id, &user, false).await {
        Ok(()) => done(&format!("/admin/group/{id}"), "Member removed."),
        Err(e) => view_page(&state, &admin, &id, json!({ "error": error_context(&e).0 }), e.status).await,
    }
}

/// `POST /admin/group/{id}/delete`
pub async fn delete(State(state): State<AppState>, Path(id): Path<String>, WriteForm { admin, form: _ }: WriteForm) -> Response {
    let Ok(g) = state.store.get_group(&admin.org().id, &id).await else {
        return super::page_error(&admin, StatusCode::NOT_FOUND, "Not found", "There is no such group in this organization.");
    };
    if g.group.kind != GroupType::OktaGroup {
        return super::page_error(&admin, StatusCode::FORBIDDEN, "Not allowed", "Built-in groups cannot be deleted.");
    }
    let actor = admin.actor();
    let ev = NewEvent::success(
        "group.lifecycle.delete",
        "Delete okta group",
        actor.party,
        vec![Party::new(g.group.id.0.clone(), "UserGroup", g.group.name.clone(), g.group.name.clone())],
        actor.client,
    );
    match state.store.delete_group(&admin.org().id, &g.group.id, state.now(), &[ev]).await {
        Ok(()) => done("/admin/groups", "Group deleted."),
        Err(e) => super::page_error(&admin, StatusCode::INTERNAL_SERVER_ERROR, "Failed", &ApiError::from(e).summary),
    }
}
