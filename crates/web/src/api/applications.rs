//! `/api/v1/apps`: the app catalog's instances in Okta's shape, their lifecycle, and
//! assignments to users and groups; `/api/v1/users/{id}/appLinks` (the dashboard tiles).

use super::extract::{ApiCaller, ApiWriter, OktaJson, Params};
use super::paging::link_headers;
use crate::error::ApiError;
use crate::request::Client;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use idhub_core::applications;
use idhub_core::directory;
use idhub_core::Actor;
use idhub_domain::application::SignOnMode;
use idhub_domain::time::format_millis;
use idhub_domain::user::User;
use idhub_store::apps::{App, AppGroup, AppQuery, AppUser, EffectiveAssignment};
use idhub_store::orgs::Org;
use idhub_store::StoreError;
use serde_json::{json, Value};

pub use idhub_core::applications::INITIAL_STATUSES;

/// Where a user starts this app's sign-on (the tile's link).
pub fn sign_on_url(org: &Org, app: &App) -> String {
    if app.sign_on_mode == SignOnMode::Bookmark.as_str() {
        app.settings.pointer("/app/url").and_then(Value::as_str).unwrap_or("#").to_string()
    } else {
        format!("{}/app/{}/{}/sso/saml", org.base_url, app.name, app.id)
    }
}

/// An app as Okta's API shows it.
pub fn app_json(org: &Org, a: &App) -> Value {
    let base = format!("{}/api/v1/apps/{}", org.base_url, a.id);
    let mut template = a.username_template.clone();
    if let Some(o) = template.as_object_mut() {
        o.remove("updateOn");
        o.remove("revealPassword");
    }
    let mut links = json!({
        "self": { "href": base },
        "appLinks": [{ "name": a.name, "href": sign_on_url(org, a), "type": "text/html" }],
        "users": { "href": format!("{base}/users") },
        "groups": { "href": format!("{base}/groups") },
        "deactivate": { "href": format!("{base}/lifecycle/deactivate") },
    });
    if a.sign_on_mode == SignOnMode::Saml2.as_str() {
        links["metadata"] = json!({ "href": format!("{base}/sso/saml/metadata"), "type": "application/xml" });
    }
    json!({
        "id": a.id,
        "name": a.name,
        "label": a.label,
        "status": a.status,
        "created": format_millis(a.created),
        "lastUpdated": format_millis(a.last_updated),
        "accessibility": a.accessibility,
        "visibility": a.visibility,
        "features": [],
        "signOnMode": a.sign_on_mode,
        "credentials": { "userNameTemplate": template, "updateOn": a.username_template.get("updateOn"),
            "revealPassword": a.username_template.get("revealPassword").cloned().unwrap_or(json!(true)), "signing": {} },
        "settings": a.settings,
        "_links": links,
    })
}

fn actor(caller: &ApiCaller, client: Client) -> Actor {
    Actor { party: caller.actor(), client: client.0 }
}

async fn load(state: &AppState, org: &Org, id: &str) -> Result<App, ApiError> {
    applications::load(&state.core, org, id).await.map_err(crate::error::ApiError::from)
}

/// `POST /api/v1/apps`
pub async fn apps_create(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    params: Params,
    OktaJson(body): OktaJson,
) -> Result<Json<Value>, ApiError> {
    if !body.is_object() {
        return Err(ApiError::bad_body("a JSON object describing the app is required"));
    }
    let activate = params.flag("activate", true)?;
    let app = applications::create(&state.core, &caller.org, &actor(&caller, client), &body, activate)
        .await
        .map_err(crate::error::ApiError::from)?;
    Ok(Json(app_json(&caller.org, &app)))
}

/// The `filter` of `GET /api/v1/apps`: `status eq "…"` and `name eq "…"`, joined by `and`.
fn app_filter(f: &str) -> Result<(Option<String>, Option<String>), ApiError> {
    use idhub_domain::filter::{parse, Expr, Op, Value as FV};
    let expr = parse(f).map_err(|e| ApiError::bad_search(e.to_string()))?;
    let (mut status, mut name) = (None, None);
    let mut todo = vec![expr];
    while let Some(e) = todo.pop() {
        match e {
            Expr::And(a, b) => {
                todo.push(*a);
                todo.push(*b);
            }
            Expr::Cmp { attr, op: Op::Eq, value: FV::Str(v) } if attr == "status" && (v == "ACTIVE" || v == "INACTIVE") => status = Some(v),
            Expr::Cmp { attr, op: Op::Eq, value: FV::Str(v) } if attr == "name" => name = Some(v),
            _ => {
                return Err(ApiError::bad_search(
                    "apps can be filtered by status eq \"ACTIVE\" | \"INACTIVE\" and name eq \"…\", joined by and",
                ))
            }
        }
    }
    Ok((status, name))
}

/// `GET /api/v1/apps`
pub async fn apps_list(State(state): State<AppState>, caller: ApiCaller, params: Params) -> Result<Response, ApiError> {
    let limit = params.limit(20, 200)?;
    let after = match params.get("after").filter(|a| !a.is_empty()) {
        Some(a) => {
            idhub_store::decode_cursor(a).ok_or_else(|| ApiError::validation("after", vec!["after: The cursor is not valid".into()]))?
        }
        None => 0,
    };
    let (status, name) = match params.get("filter").filter(|f| !f.is_empty()) {
        None => (None, None),
        Some(f) => app_filter(f)?,
    };
    let query = AppQuery {
        q: params.get("q").filter(|q| !q.is_empty()),
        status: status.as_deref(),
        name: name.as_deref(),
        after_seq: after,
        limit: limit + 1,
    };
    let apps = state.store.list_apps(&caller.org.id, &query).await?;
    let more = apps.len() as i64 > limit;
    let page: Vec<&App> = apps.iter().take(limit as usize).collect();
    let next = if more { page.last().map(|a| idhub_store::encode_cursor(a.seq)) } else { None };
    let mut keep: Vec<(&str, String)> = vec![];
    for k in ["q", "filter"] {
        if let Some(v) = params.get(k) {
            keep.push((k, v.to_string()));
        }
    }
    keep.push(("limit", limit.to_string()));
    let headers = link_headers(&caller.org.base_url, "/api/v1/apps", &keep, next.as_deref());
    Ok((headers, Json(Value::Array(page.iter().map(|a| app_json(&caller.org, a)).collect()))).into_response())
}

/// `GET /api/v1/apps/{id}`
pub async fn apps_get(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    Ok(Json(app_json(&caller.org, &load(&state, &caller.org, &id).await?)))
}

/// `PUT /api/v1/apps/{id}`: replace the app's settings (its catalog name cannot change).
pub async fn apps_update(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    Path(id): Path<String>,
    OktaJson(body): OktaJson,
) -> Result<Json<Value>, ApiError> {
    let app =
        applications::update(&state.core, &caller.org, &actor(&caller, client), &id, body).await.map_err(crate::error::ApiError::from)?;
    Ok(Json(app_json(&caller.org, &app)))
}

/// `POST /api/v1/apps/{id}/lifecycle/{activate|deactivate}`
pub async fn apps_lifecycle(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    Path((id, op)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    applications::set_status(&state.core, &caller.org, &actor(&caller, client), &id, &op).await.map_err(crate::error::ApiError::from)?;
    Ok(Json(json!({})))
}

/// `DELETE /api/v1/apps/{id}`: only an INACTIVE app can be deleted (as in Okta).
pub async fn apps_delete(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    applications::delete(&state.core, &caller.org, &actor(&caller, client), &id).await.map_err(crate::error::ApiError::from)?;
    Ok(StatusCode::NO_CONTENT)
}

fn app_user_json(org: &Org, au: &AppUser) -> Value {
    json!({
        "id": au.user_id,
        "externalId": au.external_id,
        "created": format_millis(au.created),
        "lastUpdated": format_millis(au.last_updated),
        "scope": au.scope,
        "status": au.status,
        "statusChanged": format_millis(au.last_updated),
        "passwordChanged": null,
        "syncState": au.sync_state,
        "lastSync": au.last_sync.map(format_millis),
        "credentials": { "userName": au.username },
        "profile": au.profile,
        "_links": {
            "app": { "href": format!("{}/api/v1/apps/{}", org.base_url, au.app_id) },
            "user": { "href": format!("{}/api/v1/users/{}", org.base_url, au.user_id) }
        }
    })
}

/// An effective assignment as an app user: the direct one as stored, or one of scope
/// GROUP made from the best group assignment (its profile, the username from the template,
/// and `pushed_as`, the hub id a provisioning push linked it to).
fn effective_app_user(app: &App, ea: &EffectiveAssignment, user: Option<&User>, pushed_as: Option<String>) -> Result<AppUser, ApiError> {
    if let Some(d) = &ea.direct {
        return Ok(d.clone());
    }
    let g = ea.group.as_ref().ok_or_else(|| ApiError::internal("effective assignment without a source"))?;
    let username = match user {
        Some(u) => Some(idhub_core::applications::app_username(app, u)?),
        None => None,
    };
    Ok(AppUser {
        app_id: app.id.clone(),
        user_id: ea.user_id.clone(),
        scope: "GROUP".into(),
        status: "ACTIVE".into(),
        username,
        sync_state: if pushed_as.is_some() { "SYNCHRONIZED" } else { "DISABLED" }.into(),
        external_id: pushed_as,
        profile: g.profile.clone(),
        created: g.created,
        last_updated: g.last_updated,
        last_sync: None,
    })
}

/// `POST /api/v1/apps/{id}/users` and `POST /api/v1/apps/{id}/users/{uid}`: assign or update.
pub async fn apps_user_assign(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    Path(params): Path<Vec<(String, String)>>,
    OktaJson(body): OktaJson,
) -> Result<Json<Value>, ApiError> {
    if !body.is_object() {
        return Err(ApiError::bad_body("a JSON object describing the assignment is required"));
    }
    let app_id = params.iter().find(|(k, _)| k == "id").map(|(_, v)| v.clone()).unwrap_or_default();
    let uid = params
        .iter()
        .find(|(k, _)| k == "uid")
        .map(|(_, v)| v.clone())
        .or_else(|| body.get("id").and_then(Value::as_str).map(str::to_string))
        .ok_or_else(|| ApiError::validation("id", vec!["id: the user to assign is required".into()]))?;
    let au = applications::assign_user(&state.core, &caller.org, &actor(&caller, client), &app_id, &uid, &body)
        .await
        .map_err(crate::error::ApiError::from)?;
    Ok(Json(app_user_json(&caller.org, &au)))
}

/// `GET /api/v1/apps/{id}/users`: everyone who reaches the app, directly (scope USER) or
/// through a group (scope GROUP), in user-id order, paged with `limit` and `after`.
pub async fn apps_users_list(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let app = load(&state, &caller.org, &id).await?;
    let limit = params.limit(50, 500)?;
    let after = params.get("after").unwrap_or_default();
    if after.len() > 64 || !after.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(ApiError::validation("after", vec!["after: The cursor is not valid".into()]));
    }
    let mut page = state.store.app_assignments_page(&caller.org.id, &app.id, after, limit + 1).await?;
    let more = page.len() as i64 > limit;
    page.truncate(limit as usize);
    let mut out = Vec::with_capacity(page.len());
    let mut links = match (page.first(), page.last()) {
        (Some(first), Some(last)) => state.store.push_links_between(&caller.org.id, &app.id, &first.user_id, &last.user_id).await?,
        _ => Default::default(),
    };
    for ea in &page {
        let (user, pushed_as) = if ea.direct.is_none() {
            match state.store.get_user(&caller.org.id, &ea.user_id).await {
                Ok(u) => (Some(u.user), links.remove(&ea.user_id)),
                Err(StoreError::NotFound) => continue,
                Err(e) => return Err(e.into()),
            }
        } else {
            (None, None)
        };
        out.push(app_user_json(&caller.org, &effective_app_user(&app, ea, user.as_ref(), pushed_as)?));
    }
    let next = if more { page.last().map(|ea| ea.user_id.clone()) } else { None };
    let headers =
        link_headers(&caller.org.base_url, &format!("/api/v1/apps/{}/users", app.id), &[("limit", limit.to_string())], next.as_deref());
    Ok((headers, Json(Value::Array(out))).into_response())
}

/// `GET /api/v1/apps/{id}/users/{uid}`: the user's direct or group assignment.
pub async fn apps_user_get(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, uid)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let app = load(&state, &caller.org, &id).await?;
    let user = directory::load_user(&state.core, &caller.org, &uid).await.map_err(crate::error::ApiError::from)?;
    match state.store.app_assignment_for(&caller.org.id, &app.id, user.user.id.as_str()).await? {
        Some(ea) => {
            let pushed_as = match ea.direct {
                Some(_) => None,
                None => state.store.push_link(&caller.org.id, &app.id, user.user.id.as_str()).await?,
            };
            Ok(Json(app_user_json(&caller.org, &effective_app_user(&app, &ea, Some(&user.user), pushed_as)?)))
        }
        None => Err(ApiError::not_found(format!("{uid} (AppUser)"))),
    }
}

/// `DELETE /api/v1/apps/{id}/users/{uid}`: removes a direct assignment. A user who
/// reaches the app only through a group keeps it until the group assignment goes.
pub async fn apps_user_unassign(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    Path((id, uid)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    applications::unassign_user(&state.core, &caller.org, &actor(&caller, client), &id, &uid)
        .await
        .map_err(crate::error::ApiError::from)?;
    Ok(StatusCode::NO_CONTENT)
}

fn app_group_json(org: &Org, ag: &AppGroup) -> Value {
    json!({
        "id": ag.group_id,
        "lastUpdated": format_millis(ag.last_updated),
        "priority": ag.priority,
        "profile": ag.profile,
        "_links": {
            "app": { "href": format!("{}/api/v1/apps/{}", org.base_url, ag.app_id) },
            "group": { "href": format!("{}/api/v1/groups/{}", org.base_url, ag.group_id) }
        }
    })
}

/// `PUT /api/v1/apps/{id}/groups/{gid}`
pub async fn apps_group_assign(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    Path((id, gid)): Path<(String, String)>,
    OktaJson(body): OktaJson,
) -> Result<Json<Value>, ApiError> {
    let ag = applications::assign_group(&state.core, &caller.org, &actor(&caller, client), &id, &gid, &body)
        .await
        .map_err(crate::error::ApiError::from)?;
    Ok(Json(app_group_json(&caller.org, &ag)))
}

/// `GET /api/v1/apps/{id}/groups`
pub async fn apps_groups_list(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let app = load(&state, &caller.org, &id).await?;
    let groups = state.store.list_app_groups(&caller.org.id, &app.id).await?;
    Ok(Json(Value::Array(groups.iter().map(|g| app_group_json(&caller.org, g)).collect())))
}

/// `GET /api/v1/apps/{id}/groups/{gid}`
pub async fn apps_group_get(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, gid)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let app = load(&state, &caller.org, &id).await?;
    let groups = state.store.list_app_groups(&caller.org.id, &app.id).await?;
    groups
        .iter()
        .find(|g| g.group_id == gid)
        .map(|g| Json(app_group_json(&caller.org, g)))
        .ok_or_else(|| ApiError::not_found(format!("{gid} (ApplicationGroupAssignment)")))
}

/// `DELETE /api/v1/apps/{id}/groups/{gid}`
pub async fn apps_group_unassign(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    Path((id, gid)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    applications::unassign_group(&state.core, &caller.org, &actor(&caller, client), &id, &gid)
        .await
        .map_err(crate::error::ApiError::from)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/users/{id}/appLinks`
pub async fn user_app_links(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let user = directory::load_user(&state.core, &caller.org, &id).await.map_err(crate::error::ApiError::from)?;
    let apps = state.store.apps_for_user(&caller.org.id, user.user.id.as_str(), true).await?;
    Ok(Json(Value::Array(
        apps.iter()
            .enumerate()
            .map(|(i, a)| {
                json!({
                    "id": format!("0oe{}", a.id.get(3..).unwrap_or_default()), "label": a.label, "linkUrl": sign_on_url(&caller.org, a),
                    "logoUrl": null, "appName": a.name, "appInstanceId": a.id, "appAssignmentId": a.id, "credentialsSetup": false,
                    "hidden": a.visibility.pointer("/hide/web").and_then(Value::as_bool).unwrap_or(false), "sortOrder": i
                })
            })
            .collect(),
    )))
}
