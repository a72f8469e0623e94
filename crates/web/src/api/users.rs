//! `/api/v1/users`: create, read, update (partial and full), delete, lifecycle
//! operations, group memberships, listing with `q`/`filter`/`search`.

use super::extract::{ApiCaller, ApiWriter, OktaJson, Params};
use super::paging::link_headers;
use crate::error::ApiError;
use crate::request::Client;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use idhub_core::directory::{self, NewUser, UserUpdate};
use idhub_core::permissions::UserAction;
use idhub_core::Actor;
use idhub_domain::filter::{self, Context};
use idhub_domain::ids::GroupId;
use idhub_domain::lifecycle::{LifecycleOp, UserStatus};
use idhub_domain::time::format_millis;
use idhub_domain::user::{ProviderType, User};
use idhub_store::orgs::Org;
use idhub_store::rows::StoredUser;
use idhub_store::users::{UserQuery, UserSelect};
use serde_json::{json, Map, Value};

/// A user as Okta's API shows it.
pub fn user_json(base_url: &str, u: &User) -> Value {
    let href = format!("{base_url}/api/v1/users/{}", u.id);
    let mut credentials = Map::new();
    if u.password_hash.is_some() {
        credentials.insert("password".into(), json!({}));
    }
    if let Some(q) = &u.recovery_question {
        credentials.insert("recovery_question".into(), json!({ "question": q }));
    }
    credentials.insert("provider".into(), json!({ "type": u.provider.as_str(), "name": u.provider_name }));
    let mut links = Map::new();
    links.insert("self".into(), json!({ "href": href }));
    let op = |name: &str| json!({ "href": format!("{href}/lifecycle/{name}"), "method": "POST" });
    match u.status {
        UserStatus::Staged => {
            links.insert("activate".into(), op("activate"));
        }
        UserStatus::Provisioned => {
            links.insert("reactivate".into(), op("reactivate"));
        }
        UserStatus::Active => {
            links.insert("suspend".into(), op("suspend"));
            links.insert("resetPassword".into(), op("reset_password"));
            links.insert("expirePassword".into(), op("expire_password"));
        }
        UserStatus::Suspended => {
            links.insert("unsuspend".into(), op("unsuspend"));
        }
        UserStatus::LockedOut => {
            links.insert("unlock".into(), op("unlock"));
        }
        UserStatus::Deprovisioned => {
            links.insert("activate".into(), op("activate"));
        }
        UserStatus::Recovery | UserStatus::PasswordExpired => {}
    }
    if u.status != UserStatus::Deprovisioned {
        links.insert("deactivate".into(), op("deactivate"));
    }
    links.insert("type".into(), json!({ "href": format!("{base_url}/api/v1/meta/types/user/{}", u.type_id) }));
    json!({
        "id": u.id,
        "status": u.status.as_str(),
        "created": format_millis(u.created),
        "activated": u.activated.map(format_millis),
        "statusChanged": u.status_changed.map(format_millis),
        "lastLogin": u.last_login.map(format_millis),
        "lastUpdated": format_millis(u.last_updated),
        "passwordChanged": u.password_changed.map(format_millis),
        "type": { "id": u.type_id },
        "profile": u.profile,
        "credentials": credentials,
        "_links": links,
    })
}

fn object_field<'a>(body: &'a Value, key: &str) -> Result<Option<&'a Map<String, Value>>, ApiError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(_) => Err(ApiError::bad_body(format!("{key} must be an object"))),
    }
}

/// The password and recovery question a body carries, if any.
struct CredentialInput {
    password: Option<String>,
    recovery: Option<(String, String)>,
    provider: Option<(ProviderType, String)>,
}

fn credentials_input(body: &Value) -> Result<CredentialInput, ApiError> {
    let Some(creds) = object_field(body, "credentials")? else {
        return Ok(CredentialInput { password: None, recovery: None, provider: None });
    };
    let password = match creds.get("password") {
        None | Some(Value::Null) => None,
        Some(Value::Object(p)) => match p.get("value") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(ApiError::bad_body("credentials.password.value must be a string")),
        },
        Some(_) => return Err(ApiError::bad_body("credentials.password must be an object")),
    };
    let recovery = match creds.get("recovery_question") {
        None | Some(Value::Null) => None,
        Some(Value::Object(r)) => {
            let q = r.get("question").and_then(Value::as_str).unwrap_or_default().trim().to_string();
            let a = r.get("answer").and_then(Value::as_str).unwrap_or_default().to_string();
            if q.len() < 4 || a.chars().count() < 4 {
                return Err(ApiError::validation(
                    "recovery_question",
                    vec!["recovery_question: the question and answer must be at least 4 characters".into()],
                ));
            }
            Some((q, a))
        }
        Some(_) => return Err(ApiError::bad_body("credentials.recovery_question must be an object")),
    };
    let provider = match creds.get("provider") {
        None | Some(Value::Null) => None,
        Some(Value::Object(p)) => {
            let t = p.get("type").and_then(Value::as_str).and_then(ProviderType::parse).ok_or_else(|| {
                ApiError::validation(
                    "provider",
                    vec!["provider.type: must be one of OKTA, ACTIVE_DIRECTORY, LDAP, FEDERATION, SOCIAL, IMPORT".into()],
                )
            })?;
            let name = p.get("name").and_then(Value::as_str).unwrap_or(t.as_str()).to_string();
            Some((t, name))
        }
        Some(_) => return Err(ApiError::bad_body("credentials.provider must be an object")),
    };
    Ok(CredentialInput { password, recovery, provider })
}

fn profile_input(body: &Value) -> Result<Map<String, Value>, ApiError> {
    Ok(object_field(body, "profile")?.cloned().unwrap_or_default())
}

/// `POST /api/v1/users`
pub async fn users_create(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    params: Params,
    OktaJson(body): OktaJson,
) -> Result<Response, ApiError> {
    if !body.is_object() {
        return Err(ApiError::bad_body("a JSON object with a profile is required"));
    }
    let activate = params.flag("activate", true)?;
    let provider_flag = params.flag("provider", false)?;
    let expire_password = match params.get("nextLogin") {
        None | Some("") => false,
        Some("changePassword") => true,
        Some(_) => return Err(ApiError::validation("nextLogin", vec!["nextLogin: the only supported value is changePassword".into()])),
    };
    let creds = credentials_input(&body)?;
    let provider = match (creds.provider, provider_flag) {
        (Some(p), _) => Some(p),
        (None, true) => Some((ProviderType::Federation, "FEDERATION".to_string())),
        (None, false) => None,
    };
    let type_id = match body.pointer("/type/id") {
        None | Some(Value::Null) => None,
        Some(Value::String(t)) => Some(t.clone()),
        Some(_) => return Err(ApiError::bad_body("type.id must be a string")),
    };
    let group_ids: Vec<GroupId> = match body.get("groupIds") {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().map(|s| GroupId(s.to_string())))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| ApiError::bad_body("groupIds must be an array of strings"))?,
        Some(_) => return Err(ApiError::bad_body("groupIds must be an array of strings")),
    };
    let input = NewUser {
        profile: profile_input(&body)?,
        password: creds.password,
        recovery_question: creds.recovery.map(|(q, _)| q),
        provider,
        group_ids,
        activate,
        expire_password,
        type_id,
    };
    let stored =
        directory::create_user(&state.core, &caller.org, &actor(&caller, client), input).await.map_err(crate::error::ApiError::from)?;
    Ok(Json(user_json(&caller.org.base_url, &stored.user)).into_response())
}

fn actor(caller: &ApiCaller, client: Client) -> Actor {
    Actor { party: caller.actor(), client: client.0 }
}

async fn load(state: &AppState, caller: &ApiCaller, id: &str) -> Result<StoredUser, ApiError> {
    let id =
        if id == "me" { caller.token.user_id.clone().ok_or_else(|| ApiError::not_found("the token has no user"))? } else { id.to_string() };
    directory::load_user(&state.core, &caller.org, &id).await.map_err(crate::error::ApiError::from)
}

/// `GET /api/v1/users/{id|login|me}`
pub async fn users_get(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let u = load(&state, &caller, &id).await?;
    Ok(Json(user_json(&caller.org.base_url, &u.user)))
}

async fn update(state: AppState, caller: ApiCaller, client: Client, id: String, body: Value, full: bool) -> Result<Json<Value>, ApiError> {
    if !body.is_object() {
        return Err(ApiError::bad_body("a JSON object is required"));
    }
    let profile = object_field(&body, "profile")?.cloned();
    if full && profile.is_none() {
        return Err(ApiError::validation("profile", vec!["profile: a full update needs the whole profile".into()]));
    }
    let creds = credentials_input(&body)?;
    if creds.provider.is_some() {
        return Err(ApiError::validation("provider", vec!["credentials.provider: cannot be changed by an update".into()]));
    }
    if let Some(t) = body.pointer("/type/id") {
        if !full {
            return Err(ApiError::validation("type", vec!["type: only a full update (PUT) can change the user type".into()]));
        }
        if t.as_str() != Some(caller.org.user_type_id.as_str()) {
            return Err(ApiError::validation("type", vec!["type.id: no such user type".into()]));
        }
    }
    let existing = load(&state, &caller, &id).await?;
    if profile.is_some() {
        caller.check_user(&state, UserAction::EditProfile, &existing.user).await?;
    }
    if creds.password.is_some() || creds.recovery.is_some() {
        caller.check_user(&state, UserAction::Credentials, &existing.user).await?;
    }
    let upd = UserUpdate { profile, full, password: creds.password, recovery_question: creds.recovery.map(|(q, _)| q), keep_session: None };
    let stored = directory::update_user(&state.core, &caller.org, &actor(&caller, client), existing.user.id.as_str(), upd)
        .await
        .map_err(crate::error::ApiError::from)?;
    Ok(Json(user_json(&caller.org.base_url, &stored.user)))
}

/// `POST /api/v1/users/{id}` (partial update)
pub async fn users_update_partial(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    Path(id): Path<String>,
    OktaJson(body): OktaJson,
) -> Result<Json<Value>, ApiError> {
    update(state, caller, client, id, body, false).await
}

/// `PUT /api/v1/users/{id}` (full replace: omitted profile attributes are removed)
pub async fn users_replace(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    Path(id): Path<String>,
    OktaJson(body): OktaJson,
) -> Result<Json<Value>, ApiError> {
    update(state, caller, client, id, body, true).await
}

/// `DELETE /api/v1/users/{id}`: deactivates; deletes a user already DEPROVISIONED.
pub async fn users_delete(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let existing = load(&state, &caller, &id).await?;
    caller.check_user(&state, UserAction::Lifecycle, &existing.user).await?;
    directory::delete_user(&state.core, &caller.org, &actor(&caller, client), existing.user.id.as_str())
        .await
        .map_err(crate::error::ApiError::from)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/users/{id}/lifecycle/{op}`
pub async fn users_lifecycle(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    params: Params,
    Path((id, op)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let op = LifecycleOp::parse(&op).ok_or_else(|| ApiError::not_found(format!("/api/v1/users/{id}/lifecycle/{op} (POST)")))?;
    let send_email = params.flag("sendEmail", true)?;
    let existing = load(&state, &caller, &id).await?;
    let action = match op {
        LifecycleOp::ResetPassword | LifecycleOp::ExpirePassword => UserAction::ResetPassword,
        LifecycleOp::Unlock => UserAction::Unlock,
        _ => UserAction::Lifecycle,
    };
    caller.check_user(&state, action, &existing.user).await?;
    let stored = directory::apply_lifecycle(&state.core, &caller.org, &actor(&caller, client), existing.user.id.as_str(), op)
        .await
        .map_err(crate::error::ApiError::from)?;
    let base = &caller.org.base_url;
    let body = match op {
        LifecycleOp::Activate | LifecycleOp::Reactivate if !send_email => {
            let token = idhub_domain::ids::random_base62(20);
            json!({ "activationUrl": format!("{base}/welcome/{token}"), "activationToken": token })
        }
        LifecycleOp::ResetPassword if !send_email => {
            let token = idhub_domain::ids::random_base62(20);
            json!({ "resetPasswordUrl": format!("{base}/reset_password/{token}") })
        }
        LifecycleOp::ExpirePassword => user_json(base, &stored.user),
        _ => json!({}),
    };
    Ok(Json(body).into_response())
}

/// `GET /api/v1/users/{id}/groups`
pub async fn users_groups(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let u = load(&state, &caller, &id).await?;
    let groups = state.store.user_groups(&caller.org.id, &u.user.id).await?;
    Ok(Json(Value::Array(groups.iter().map(|g| super::groups::group_json(&caller.org.base_url, &g.group)).collect())))
}

fn parse_expr(text: &str, ctx: Context) -> Result<filter::Expr, ApiError> {
    let e = filter::parse(text).map_err(|e| ApiError::bad_search(e.to_string()))?;
    filter::validate(&e, ctx).map_err(|e| ApiError::bad_search(e.to_string()))?;
    Ok(e)
}

/// `GET /api/v1/users`
pub async fn users_list(State(state): State<AppState>, caller: ApiCaller, params: Params) -> Result<Response, ApiError> {
    list(&state, &caller.org, &params).await
}

async fn list(state: &AppState, org: &Org, params: &Params) -> Result<Response, ApiError> {
    let q = params.get("q").filter(|s| !s.is_empty());
    let f = params.get("filter").filter(|s| !s.is_empty());
    let s = params.get("search").filter(|s| !s.is_empty());
    if f.is_some() && s.is_some() {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "E0000033", "Search and filter cannot be used together."));
    }
    let select = match (q, f, s) {
        (_, Some(f), _) => UserSelect::Filter(parse_expr(f, Context::UserFilter)?),
        (_, _, Some(s)) => UserSelect::Search(parse_expr(s, Context::UserSearch)?),
        (Some(q), _, _) => UserSelect::Q(q.to_string()),
        _ => UserSelect::All,
    };
    let default_limit = if q.is_some() && f.is_none() && s.is_none() { 10 } else { 200 };
    let limit = params.limit(default_limit, 200)?;
    let after = params.get("after").filter(|a| !a.is_empty()).map(str::to_string);
    let page = state.store.list_users(&org.id, &UserQuery { select, limit, after }).await?;
    let mut keep: Vec<(&str, String)> = vec![];
    for k in ["q", "filter", "search", "sortBy", "sortOrder"] {
        if let Some(v) = params.get(k) {
            keep.push((k, v.to_string()));
        }
    }
    keep.push(("limit", limit.to_string()));
    let headers: HeaderMap = link_headers(&org.base_url, "/api/v1/users", &keep, page.next.as_deref());
    let body: Vec<Value> = page.items.iter().map(|u| user_json(&org.base_url, &u.user)).collect();
    Ok((headers, Json(Value::Array(body))).into_response())
}
