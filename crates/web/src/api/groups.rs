//! `/api/v1/groups`: CRUD for OKTA_GROUPs, listing with `q`/`filter`/`search`, members.

use super::extract::{ApiCaller, ApiWriter, OktaJson, Params};
use super::paging::link_headers;
use super::users::user_json;
use crate::error::ApiError;
use crate::request::Client;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use idhub_core::groups::{self, GroupProfile, Membership};
use idhub_core::Actor;
use idhub_domain::filter::{self, Context};
use idhub_domain::group::Group;
use idhub_domain::time::format_millis;
use idhub_store::groups::GroupSelect;
use idhub_store::rows::StoredGroup;
use serde_json::{json, Value};

/// A group as Okta's API shows it.
pub fn group_json(base_url: &str, g: &Group) -> Value {
    let href = format!("{base_url}/api/v1/groups/{}", g.id);
    json!({
        "id": g.id,
        "created": format_millis(g.created),
        "lastUpdated": format_millis(g.last_updated),
        "lastMembershipUpdated": format_millis(g.last_membership_updated),
        "objectClass": ["okta:user_group"],
        "type": g.kind.as_str(),
        "profile": { "name": g.name, "description": g.description },
        "_links": {
            "self": { "href": href },
            "users": { "href": format!("{href}/users") },
            "apps": { "href": format!("{href}/apps") }
        }
    })
}

fn profile_fields(body: &Value) -> Result<GroupProfile, ApiError> {
    let profile = body
        .get("profile")
        .and_then(Value::as_object)
        .ok_or_else(|| ApiError::validation("profile", vec!["profile: The field cannot be left blank".into()]))?;
    let name = match profile.get("name") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.trim().to_string()),
        Some(_) => return Err(ApiError::bad_body("profile.name must be a string")),
    };
    let description = match profile.get("description") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(ApiError::bad_body("profile.description must be a string")),
    };
    if let Some(unknown) = profile.keys().find(|k| *k != "name" && *k != "description") {
        return Err(ApiError::validation(unknown.clone(), vec![format!("{unknown}: Property name '{unknown}' is not defined in profile")]));
    }
    Ok(GroupProfile { name: name.unwrap_or_default(), description })
}

async fn load(state: &AppState, caller: &ApiCaller, id: &str) -> Result<StoredGroup, ApiError> {
    Ok(groups::load_group(&state.core, &caller.org, id).await?)
}

/// `POST /api/v1/groups`
pub async fn groups_create(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    OktaJson(body): OktaJson,
) -> Result<Json<Value>, ApiError> {
    let actor = Actor { party: caller.actor(), client: client.0 };
    let stored = groups::create_group(&state.core, &caller.org, &actor, profile_fields(&body)?).await?;
    Ok(Json(group_json(&caller.org.base_url, &stored.group)))
}

/// `GET /api/v1/groups/{id}`
pub async fn groups_get(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let g = load(&state, &caller, &id).await?;
    Ok(Json(group_json(&caller.org.base_url, &g.group)))
}

/// `PUT /api/v1/groups/{id}`
pub async fn groups_update(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    Path(id): Path<String>,
    OktaJson(body): OktaJson,
) -> Result<Json<Value>, ApiError> {
    let actor = Actor { party: caller.actor(), client: client.0 };
    let g = groups::update_group(&state.core, &caller.org, &actor, &id, profile_fields(&body)?).await?;
    Ok(Json(group_json(&caller.org.base_url, &g)))
}

/// `DELETE /api/v1/groups/{id}`
pub async fn groups_delete(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    groups::delete_group(&state.core, &caller.org, &Actor { party: caller.actor(), client: client.0 }, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /api/v1/groups/{g}/users/{u}`
pub async fn groups_member_add(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    Path((group, user)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let actor = Actor { party: caller.actor(), client: client.0 };
    groups::set_membership(&state.core, &caller.org, &actor, &group, &user, Membership::Add).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/v1/groups/{g}/users/{u}`
pub async fn groups_member_remove(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    Path((group, user)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let actor = Actor { party: caller.actor(), client: client.0 };
    groups::set_membership(&state.core, &caller.org, &actor, &group, &user, Membership::Remove).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn parse_expr(text: &str, ctx: Context) -> Result<filter::Expr, ApiError> {
    let e = filter::parse(text).map_err(|e| ApiError::bad_search(e.to_string()))?;
    filter::validate(&e, ctx).map_err(|e| ApiError::bad_search(e.to_string()))?;
    Ok(e)
}

/// `GET /api/v1/groups`
pub async fn groups_list(State(state): State<AppState>, caller: ApiCaller, params: Params) -> Result<Response, ApiError> {
    let q = params.get("q").filter(|s| !s.is_empty());
    let f = params.get("filter").filter(|s| !s.is_empty());
    let s = params.get("search").filter(|s| !s.is_empty());
    if f.is_some() && s.is_some() {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "E0000033", "Search and filter cannot be used together."));
    }
    let select = match (q, f, s) {
        (_, Some(f), _) => GroupSelect::Filter(parse_expr(f, Context::GroupFilter)?),
        (_, _, Some(s)) => GroupSelect::Search(parse_expr(s, Context::GroupSearch)?),
        (Some(q), _, _) => GroupSelect::Q(q.to_string()),
        _ => GroupSelect::All,
    };
    let limit = params.limit(10_000, 10_000)?;
    let page = state.store.list_groups(&caller.org.id, &select, limit, params.get("after").filter(|a| !a.is_empty())).await?;
    let mut keep: Vec<(&str, String)> = vec![];
    for k in ["q", "filter", "search"] {
        if let Some(v) = params.get(k) {
            keep.push((k, v.to_string()));
        }
    }
    keep.push(("limit", limit.to_string()));
    let headers = link_headers(&caller.org.base_url, "/api/v1/groups", &keep, page.next.as_deref());
    let body: Vec<Value> = page.items.iter().map(|g| group_json(&caller.org.base_url, &g.group)).collect();
    Ok((headers, Json(Value::Array(body))).into_response())
}

/// `GET /api/v1/groups/{id}/users`
pub async fn groups_members(
    State(state): State<AppState>,
    caller: ApiCaller,
    params: Params,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let g = load(&state, &caller, &id).await?;
    let limit = params.limit(1000, 10_000)?;
    let page = state.store.list_group_members(&caller.org.id, &g, limit, params.get("after").filter(|a| !a.is_empty())).await?;
    let headers =
        link_headers(&caller.org.base_url, &format!("/api/v1/groups/{id}/users"), &[("limit", limit.to_string())], page.next.as_deref());
    let body: Vec<Value> = page.items.iter().map(|u| user_json(&caller.org.base_url, &u.user)).collect();
    Ok((headers, Json(Value::Array(body))).into_response())
}
