//! `/api/v1/apps`: the app catalog's instances in Okta's shape, their lifecycle, and
//! assignments to users and groups; `/api/v1/users/{id}/appLinks` (the dashboard tiles).

use super::extract::{ApiCaller, ApiWriter, OktaJson, Params};
use super::paging::link_headers;
use crate::directory;
use crate::error::ApiError;
use crate::request::Client;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use idhub_domain::application::{template_expression, validate_app, SignOnMode};
use idhub_domain::event::{NewEvent, Party};
use idhub_domain::expr::{Expression, MapContext};
use idhub_domain::ids::new_id;
use idhub_domain::time::format_millis;
use idhub_domain::user::User;
use idhub_store::apps::{App, AppGroup, AppQuery, AppUser, EffectiveAssignment};
use idhub_store::orgs::Org;
use idhub_store::StoreError;
use serde_json::{json, Value};

/// Values Okta accepts for an Org2Org assignment's `initialStatus`.
pub const INITIAL_STATUSES: [&str; 6] =
    ["active", "pending", "active_with_pass", "active_without_pass", "pending_with_pass", "pending_without_pass"];

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
        "credentials": { "userNameTemplate": template, "updateOn": a.username_template.get("updateOn"), "signing": {} },
        "settings": a.settings,
        "_links": links,
    })
}

fn party(a: &App) -> Party {
    Party::new(a.id.clone(), "AppInstance", a.name.clone(), a.label.clone())
}

async fn load(state: &AppState, org: &Org, id: &str) -> Result<App, ApiError> {
    match state.store.get_app(&org.id, id).await {
        Ok(a) => Ok(a),
        Err(StoreError::NotFound) => Err(ApiError::not_found(format!("{id} (App)"))),
        Err(e) => Err(e.into()),
    }
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
    let input = validate_app(&body)?;
    let now = state.now();
    let app = App {
        seq: 0,
        id: new_id("0oa"),
        org_id: caller.org.id.clone(),
        name: input.name,
        label: input.label,
        status: if activate { "ACTIVE".into() } else { "INACTIVE".into() },
        sign_on_mode: input.mode.as_str().into(),
        settings: input.settings,
        username_template: input.username_template,
        visibility: input.visibility,
        accessibility: input.accessibility,
        created: now,
        last_updated: now,
    };
    let mut events =
        vec![NewEvent::success("application.lifecycle.create", "Add application", caller.actor(), vec![party(&app)], client.0.clone())];
    if activate {
        events.push(NewEvent::success(
            "application.lifecycle.activate",
            "Activate application",
            caller.actor(),
            vec![party(&app)],
            client.0,
        ));
    }
    let app = state.store.create_app(&app, &events).await?;
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
    OktaJson(mut body): OktaJson,
) -> Result<Json<Value>, ApiError> {
    let mut app = load(&state, &caller.org, &id).await?;
    if !body.is_object() {
        return Err(ApiError::bad_body("a JSON object describing the app is required"));
    }
    match body.get("name").and_then(Value::as_str) {
        Some(n) if n != app.name => return Err(ApiError::validation("name", vec!["name: an app's catalog name cannot change".into()])),
        _ => body["name"] = json!(app.name),
    }
    let input = validate_app(&body)?;
    app.label = input.label;
    app.settings = input.settings;
    app.username_template = input.username_template;
    app.visibility = input.visibility;
    app.accessibility = input.accessibility;
    app.last_updated = state.now();
    let ev = NewEvent::success("application.lifecycle.update", "Update application", caller.actor(), vec![party(&app)], client.0);
    state.store.update_app(&app, &[ev]).await?;
    Ok(Json(app_json(&caller.org, &app)))
}

/// `POST /api/v1/apps/{id}/lifecycle/{activate|deactivate}`
pub async fn apps_lifecycle(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    Path((id, op)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let mut app = load(&state, &caller.org, &id).await?;
    let (status, event, message) = match op.as_str() {
        "activate" => ("ACTIVE", "application.lifecycle.activate", "Activate application"),
        "deactivate" => ("INACTIVE", "application.lifecycle.deactivate", "Deactivate application"),
        _ => return Err(ApiError::not_found(format!("/api/v1/apps/{id}/lifecycle/{op} (POST)"))),
    };
    if app.status != status {
        app.status = status.into();
        app.last_updated = state.now();
        let ev = NewEvent::success(event, message, caller.actor(), vec![party(&app)], client.0);
        state.store.update_app(&app, &[ev]).await?;
    }
    Ok(Json(json!({})))
}

/// `DELETE /api/v1/apps/{id}`: only an INACTIVE app can be deleted (as in Okta).
pub async fn apps_delete(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let app = load(&state, &caller.org, &id).await?;
    if app.status == "ACTIVE" {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "E0000056", "Delete application forbidden: deactivate the application first."));
    }
    let ev = NewEvent::success("application.lifecycle.delete", "Delete application", caller.actor(), vec![party(&app)], client.0);
    state.store.delete_app(&caller.org.id, &app.id, state.now(), &[ev]).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The application username of `user` for `app`, from the app's template.
pub fn app_username(app: &App, user: &User) -> Result<String, ApiError> {
    let template = app.username_template.get("template").and_then(Value::as_str).unwrap_or("${source.login}");
    let expr =
        Expression::parse(template_expression(template)).map_err(|e| ApiError::internal(format!("stored username template: {e}")))?;
    let mut source = Value::Object(user.profile.clone());
    source["id"] = json!(user.id);
    let ctx = MapContext::new().with_root("source", source.clone()).with_root("user", source);
    let name = expr.evaluate_string(&ctx).map_err(|e| ApiError::validation("userName", vec![format!("userName: {e}")]))?;
    Ok(name.unwrap_or_else(|| user.login().to_string()))
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
/// GROUP made from the best group assignment (its profile, the username from the template).
fn effective_app_user(app: &App, ea: &EffectiveAssignment, user: Option<&User>) -> Result<AppUser, ApiError> {
    if let Some(d) = &ea.direct {
        return Ok(d.clone());
    }
    let g = ea.group.as_ref().ok_or_else(|| ApiError::internal("effective assignment without a source"))?;
    let username = match user {
        Some(u) => Some(app_username(app, u)?),
        None => None,
    };
    Ok(AppUser {
        app_id: app.id.clone(),
        user_id: ea.user_id.clone(),
        scope: "GROUP".into(),
        status: "ACTIVE".into(),
        username,
        external_id: None,
        profile: g.profile.clone(),
        sync_state: "DISABLED".into(),
        created: g.created,
        last_updated: g.last_updated,
        last_sync: None,
    })
}

/// Values an assignment `profile` may hold: an object; Org2Org's `initialStatus` must be
/// one of Okta's values.
fn check_profile(profile: &Value) -> Result<(), ApiError> {
    if !profile.is_object() && !profile.is_null() {
        return Err(ApiError::validation("profile", vec!["profile: must be an object".into()]));
    }
    if let Some(s) = profile.get("initialStatus") {
        let ok = s.is_null() || s.as_str().map(|v| INITIAL_STATUSES.contains(&v)).unwrap_or(false);
        if !ok {
            return Err(ApiError::validation(
                "initialStatus",
                vec![format!("initialStatus: Does not match required pattern: one of {}", INITIAL_STATUSES.join(", "))],
            ));
        }
    }
    if profile.to_string().len() > 65536 {
        return Err(ApiError::validation("profile", vec!["profile: must be at most 64 KiB".into()]));
    }
    Ok(())
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
    let app = load(&state, &caller.org, &app_id).await?;
    let user = directory::load_user(&state, &caller.org, &uid).await?;
    let profile = body.get("profile").cloned().unwrap_or_else(|| json!({}));
    check_profile(&profile)?;
    let now = state.now();
    let existing = match state.store.get_app_user(&caller.org.id, &app.id, user.user.id.as_str()).await {
        Ok(e) => Some(e),
        Err(StoreError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    let username = match body.pointer("/credentials/userName") {
        Some(Value::String(n)) if !n.trim().is_empty() => {
            let n = n.trim();
            if n.chars().count() > 100 || n.chars().any(char::is_control) {
                return Err(ApiError::validation(
                    "userName",
                    vec!["userName: must be at most 100 characters, without control characters".into()],
                ));
            }
            n.to_string()
        }
        None | Some(Value::Null) | Some(Value::String(_)) => {
            existing.as_ref().and_then(|e| e.username.clone()).map(Ok).unwrap_or_else(|| app_username(&app, &user.user))?
        }
        Some(_) => return Err(ApiError::validation("userName", vec!["userName: must be a string".into()])),
    };
    let au = AppUser {
        app_id: app.id.clone(),
        user_id: user.user.id.0.clone(),
        scope: "USER".into(),
        status: "ACTIVE".into(),
        username: Some(username.clone()),
        external_id: existing.as_ref().and_then(|e| e.external_id.clone()),
        profile: if profile.is_null() { json!({}) } else { profile },
        sync_state: existing.as_ref().map(|e| e.sync_state.clone()).unwrap_or_else(|| "DISABLED".into()),
        created: existing.as_ref().map(|e| e.created).unwrap_or(now),
        last_updated: now,
        last_sync: existing.as_ref().and_then(|e| e.last_sync),
    };
    let targets = vec![directory::user_party(&user.user), party(&app)];
    let mut events = vec![];
    match &existing {
        None => events.push(NewEvent::success(
            "application.user_membership.add",
            "Add user to application membership",
            caller.actor(),
            targets,
            client.0,
        )),
        Some(prev) => {
            if prev.username.as_deref() != Some(username.as_str()) {
                events.push(NewEvent::success(
                    "application.user_membership.change_username",
                    "Change user's application username",
                    caller.actor(),
                    targets.clone(),
                    client.0.clone(),
                ));
            }
            events.push(NewEvent::success(
                "application.user_membership.update",
                "Update user's application assignment",
                caller.actor(),
                targets,
                client.0,
            ));
        }
    }
    let jobs = crate::provisioning::jobs_for_user(&state, &caller.org.id, user.user.id.as_str(), &[&app.id]).await?;
    state.store.upsert_app_user(&caller.org.id, &au, &events, &jobs).await?;
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
    for ea in &page {
        let user = if ea.direct.is_none() {
            match state.store.get_user(&caller.org.id, &ea.user_id).await {
                Ok(u) => Some(u.user),
                Err(StoreError::NotFound) => continue,
                Err(e) => return Err(e.into()),
            }
        } else {
            None
        };
        out.push(app_user_json(&caller.org, &effective_app_user(&app, ea, user.as_ref())?));
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
    let user = directory::load_user(&state, &caller.org, &uid).await?;
    match state.store.app_assignment_for(&caller.org.id, &app.id, user.user.id.as_str()).await? {
        Some(ea) => Ok(Json(app_user_json(&caller.org, &effective_app_user(&app, &ea, Some(&user.user))?))),
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
    let app = load(&state, &caller.org, &id).await?;
    let user = directory::load_user(&state, &caller.org, &uid).await?;
    let ea = state.store.app_assignment_for(&caller.org.id, &app.id, user.user.id.as_str()).await?;
    match &ea {
        None => return Err(ApiError::not_found(format!("{uid} (AppUser)"))),
        Some(ea) if ea.direct.is_none() => {
            return Err(ApiError::validation(
                "scope",
                vec!["scope: the user is assigned to this app through a group; remove the group assignment instead".into()],
            ))
        }
        Some(_) => {}
    }
    let ev = NewEvent::success(
        "application.user_membership.remove",
        "Remove user from application membership",
        caller.actor(),
        vec![directory::user_party(&user.user), party(&app)],
        client.0,
    );
    let jobs = crate::provisioning::jobs_for_user(&state, &caller.org.id, user.user.id.as_str(), &[&app.id]).await?;
    match state.store.delete_app_user(&caller.org.id, &app.id, user.user.id.as_str(), state.now(), &[ev], &jobs).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(StoreError::NotFound) => Err(ApiError::not_found(format!("{uid} (AppUser)"))),
        Err(e) => Err(e.into()),
    }
}

async fn load_group(state: &AppState, org: &Org, id: &str) -> Result<idhub_store::rows::StoredGroup, ApiError> {
    match state.store.get_group(&org.id, id).await {
        Ok(g) => Ok(g),
        Err(StoreError::NotFound) => Err(ApiError::not_found(format!("{id} (UserGroup)"))),
        Err(e) => Err(e.into()),
    }
}

fn group_party(g: &idhub_domain::group::Group) -> Party {
    Party::new(g.id.0.clone(), "UserGroup", g.name.clone(), g.name.clone())
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
    let app = load(&state, &caller.org, &id).await?;
    let group = load_group(&state, &caller.org, &gid).await?;
    if !body.is_object() && !body.is_null() {
        return Err(ApiError::bad_body("a JSON object describing the group assignment is required"));
    }
    let profile = body.get("profile").cloned().unwrap_or_else(|| json!({}));
    check_profile(&profile)?;
    let priority = match body.get("priority") {
        None | Some(Value::Null) => None,
        Some(p) => Some(
            p.as_i64()
                .filter(|p| (0..=100_000).contains(p))
                .ok_or_else(|| ApiError::validation("priority", vec!["priority: must be a whole number from 0 to 100000".into()]))?,
        ),
    };
    let existing = state.store.list_app_groups(&caller.org.id, &app.id).await?;
    let now = state.now();
    let prior = existing.iter().find(|g| g.group_id == group.group.id.as_str());
    let ag = AppGroup {
        app_id: app.id.clone(),
        group_id: group.group.id.0.clone(),
        priority: priority.or(prior.map(|p| p.priority)).unwrap_or(existing.len() as i64),
        profile: if profile.is_null() { json!({}) } else { profile },
        created: prior.map(|p| p.created).unwrap_or(now),
        last_updated: now,
    };
    let (event, message) = if prior.is_some() {
        ("group.application_assignment.update", "Update assigned application in group")
    } else {
        ("group.application_assignment.add", "Add assigned application to group")
    };
    let ev = NewEvent::success(event, message, caller.actor(), vec![group_party(&group.group), party(&app)], client.0);
    let jobs = crate::provisioning::jobs_for_group(&state, &caller.org.id, &app.id, group.group.id.as_str()).await?;
    state.store.upsert_app_group(&caller.org.id, &ag, &[ev], &jobs).await?;
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
    let app = load(&state, &caller.org, &id).await?;
    let group = load_group(&state, &caller.org, &gid).await?;
    let ev = NewEvent::success(
        "group.application_assignment.remove",
        "Remove assigned application from group",
        caller.actor(),
        vec![group_party(&group.group), party(&app)],
        client.0,
    );
    let jobs = crate::provisioning::jobs_for_group(&state, &caller.org.id, &app.id, &gid).await?;
    match state.store.delete_app_group(&caller.org.id, &app.id, &gid, state.now(), &[ev], &jobs).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(StoreError::NotFound) => Err(ApiError::not_found(format!("{gid} (ApplicationGroupAssignment)"))),
        Err(e) => Err(e.into()),
    }
}

/// `GET /api/v1/users/{id}/appLinks`
pub async fn user_app_links(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let user = directory::load_user(&state, &caller.org, &id).await?;
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
