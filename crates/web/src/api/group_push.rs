//! Push Groups over the API (`/api/v1/apps/{id}/idhub/group-push…`): the wire shapes of
//! [`idhub_core::group_push`].

use crate::api::extract::{ApiCaller, ApiWriter, OktaJson, Params};
use crate::error::ApiError;
use crate::request::Client;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use idhub_core::group_push::*;
use idhub_core::Actor;
use idhub_domain::time::format_millis;
use idhub_store::group_push::GroupPush;
use idhub_store::orgs::Org;
use serde_json::{json, Value};

fn mapping_json(org: &Org, p: &GroupPush, group_name: Option<&str>) -> Value {
    json!({
        "id": p.id,
        "appId": p.app_id,
        "status": p.status,
        "sourceGroupId": p.group_id,
        "sourceGroupName": group_name,
        "targetGroupId": p.target_group_id,
        "ruleId": p.rule_id,
        "created": format_millis(p.created),
        "lastPush": p.last_push.map(format_millis),
        "lastError": p.last_error,
        "_links": {
            "app": { "href": format!("{}/api/v1/apps/{}", org.base_url, p.app_id) },
            "group": { "href": format!("{}/api/v1/groups/{}", org.base_url, p.group_id) }
        }
    })
}

/// `GET /api/v1/apps/{id}/idhub/group-push/rules`
pub async fn group_push_rules(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let (_, _, rules) = list_pushes(&state.core, &caller.org, &id).await?;
    Ok(Json(Value::Array(
        rules.iter().map(|r| json!({ "id": r.id, "nameStartsWith": r.name_starts_with, "created": format_millis(r.created) })).collect(),
    )))
}

/// `DELETE /api/v1/apps/{id}/idhub/group-push/rules/{ruleId}`
pub async fn group_push_rule_delete(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    Path((id, rule)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    remove_rule(&state.core, &caller.org, &Actor { party: caller.actor(), client: client.0 }, &id, &rule).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/apps/{id}/idhub/group-push`
pub async fn group_push_list(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let (_, pushes, _) = list_pushes(&state.core, &caller.org, &id).await?;
    Ok(Json(Value::Array(pushes.iter().map(|v| mapping_json(&caller.org, &v.push, Some(&v.group_name))).collect())))
}

/// `POST /api/v1/apps/{id}/idhub/group-push` with `{"groupId": id-or-name}` or
/// `{"rule": {"nameStartsWith": text}}`: the mappings created.
pub async fn group_push_create(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    Path(id): Path<String>,
    OktaJson(body): OktaJson,
) -> Result<Json<Value>, ApiError> {
    let req = match (body.get("groupId").or(body.get("groupName")), body.pointer("/rule/nameStartsWith")) {
        (Some(Value::String(g)), None) => PushRequest::Group(g.clone()),
        (None, Some(Value::String(p))) => PushRequest::NameStartsWith(p.clone()),
        _ => {
            return Err(ApiError::validation(
                "groupId",
                vec!["groupId: give either groupId (or groupName) or rule.nameStartsWith, as a string".into()],
            ))
        }
    };
    let actor = Actor { party: caller.actor(), client: client.0 };
    let added = push_groups(&state.core, &caller.org, &actor, &id, req).await?;
    Ok(Json(Value::Array(added.iter().map(|v| mapping_json(&caller.org, &v.push, Some(&v.group_name))).collect())))
}

/// `DELETE /api/v1/apps/{id}/idhub/group-push/{mappingId}?deleteTargetGroup=true|false`
pub async fn group_push_delete(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    params: Params,
    Path((id, mapping)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let delete = params.flag("deleteTargetGroup", false)?;
    unlink(&state.core, &caller.org, &Actor { party: caller.actor(), client: client.0 }, &id, &mapping, delete).await?;
    Ok(StatusCode::NO_CONTENT)
}
