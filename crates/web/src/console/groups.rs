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
use idhub_core::groups::{self, GroupProfile, Membership};
use idhub_domain::group::GroupType;
use idhub_store::groups::GroupSelect;
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
    let profile = GroupProfile::entered(field(&form, "name").unwrap_or_default(), field(&form, "description"));
    match groups::create_group(&state.core, admin.org(), &admin.actor(), profile.clone()).await {
        Ok(g) => done(&format!("/admin/group/{}", g.group.id), "Group created."),
        Err(e) if e.is_internal() => super::failure_page(&admin, e),
        Err(e) => {
            let e = ApiError::from(e);
            let ctx = json!({ "form": { "name": profile.name, "description": profile.description, "error": first_cause(&e) }, "error": error_context(&e).0 });
            list_page(&state, &admin, "", ctx, StatusCode::BAD_REQUEST).await
        }
    }
}

/// The message of an error's first cause, without the field name it starts with.
fn first_cause(e: &ApiError) -> String {
    e.causes.first().map(|c| c.split_once(": ").map(|(_, m)| m).unwrap_or(c).to_string()).unwrap_or(e.summary.clone())
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

async fn membership(state: &AppState, admin: &Admin, id: &str, login: &str, change: Membership) -> Result<(), ApiError> {
    groups::set_membership(&state.core, admin.org(), &admin.actor(), id, login, change).await?;
    Ok(())
}

/// `POST /admin/group/{id}/profile`: rename, or change the description.
pub async fn save_profile(State(state): State<AppState>, Path(id): Path<String>, WriteForm { admin, form }: WriteForm) -> Response {
    let profile = GroupProfile::entered(field(&form, "name").unwrap_or_default(), field(&form, "description"));
    match groups::update_group(&state.core, admin.org(), &admin.actor(), &id, profile.clone()).await {
        Ok(_) => done(&format!("/admin/group/{id}"), "Group saved."),
        Err(e) if e.is_internal() => super::failure_page(&admin, e),
        Err(e) => {
            let e = ApiError::from(e);
            let edit = json!({ "name": profile.name, "description": profile.description, "error": first_cause(&e) });
            view_page(&state, &admin, &id, json!({ "edit": edit, "error": error_context(&e).0 }), e.status).await
        }
    }
}

/// `POST /admin/group/{id}/members`
pub async fn add_member(State(state): State<AppState>, Path(id): Path<String>, WriteForm { admin, form }: WriteForm) -> Response {
    match membership(&state, &admin, &id, field(&form, "login").unwrap_or_default().trim(), Membership::Add).await {
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
    match membership(&state, &admin, &id, &user, Membership::Remove).await {
        Ok(()) => done(&format!("/admin/group/{id}"), "Member removed."),
        Err(e) => view_page(&state, &admin, &id, json!({ "error": error_context(&e).0 }), e.status).await,
    }
}

/// `POST /admin/group/{id}/delete`
pub async fn delete(State(state): State<AppState>, Path(id): Path<String>, WriteForm { admin, form: _ }: WriteForm) -> Response {
    match groups::delete_group(&state.core, admin.org(), &admin.actor(), &id).await {
        Ok(()) => done("/admin/groups", "Group deleted."),
        Err(e) => super::failure_page(&admin, e),
    }
}
