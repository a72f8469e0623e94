//! Routing rules in Okta's shape: the org's one `IDP_DISCOVERY` policy
//! (`GET /api/v1/policies?type=IDP_DISCOVERY`) and its rules
//! (`/api/v1/policies/{policyId}/rules[/{ruleId}]`).

use crate::api::extract::{ApiCaller, ApiWriter, OktaJson, Params};
use crate::error::ApiError;
use crate::request::Client;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use idhub_core::idps::Caller;
use idhub_domain::event::{NewEvent, Party};
use idhub_domain::routing::{Route, RoutingRule as Rule};
use idhub_domain::time::format_millis;
use idhub_store::idps::RoutingRule;
use idhub_store::orgs::Org;
use idhub_store::StoreError;
use serde_json::{json, Value};

/// The id of every org's IdP discovery policy.
pub const POLICY_ID: &str = "00pIdpDiscovery";

fn policy_json(org: &Org) -> Value {
    json!({
        "id": POLICY_ID, "type": "IDP_DISCOVERY", "name": "Idp Discovery Policy", "status": "ACTIVE",
        "system": true, "priority": 1, "conditions": null,
        "_links": { "self": { "href": format!("{}/api/v1/policies/{POLICY_ID}", org.base_url) },
                    "rules": { "href": format!("{}/api/v1/policies/{POLICY_ID}/rules", org.base_url) } }
    })
}

fn check_policy(id: &str) -> Result<(), ApiError> {
    if id == POLICY_ID {
        Ok(())
    } else {
        Err(ApiError::not_found(format!("{id} (Policy)")))
    }
}

fn rule_json(org: &Org, r: &RoutingRule) -> Value {
    let mut v = r.rule.clone();
    v["id"] = json!(r.id);
    v["created"] = json!(format_millis(r.created));
    v["lastUpdated"] = json!(format_millis(r.last_updated));
    v["_links"] = json!({ "self": { "href": format!("{}/api/v1/policies/{POLICY_ID}/rules/{}", org.base_url, r.id) } });
    v
}

/// `GET /api/v1/policies?type=IDP_DISCOVERY`
pub async fn policies_list(caller: ApiCaller, params: Params) -> Result<Json<Value>, ApiError> {
    match params.get("type") {
        Some("IDP_DISCOVERY") => Ok(Json(json!([policy_json(&caller.org)]))),
        Some(t) => Err(ApiError::validation("type", vec![format!("type: {t} policies are not supported here; IDP_DISCOVERY is")])),
        None => Err(ApiError::validation("type", vec!["type: the policy type is required".into()])),
    }
}

/// `GET /api/v1/policies/{policyId}`
pub async fn policy_get(caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    check_policy(&id)?;
    Ok(Json(policy_json(&caller.org)))
}

/// `GET /api/v1/policies/{policyId}/rules`
pub async fn rules_list(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    check_policy(&id)?;
    let rules = state.store.list_routing_rules(&caller.org.id).await?;
    Ok(Json(Value::Array(rules.iter().map(|r| rule_json(&caller.org, r)).collect())))
}

/// A stored routing rule of the org, or Okta's 404.
pub async fn load(state: &AppState, org: &Org, id: &str) -> Result<RoutingRule, ApiError> {
    state
        .store
        .list_routing_rules(&org.id)
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(|| ApiError::not_found(format!("{id} (PolicyRule)")))
}

async fn validated(state: &AppState, org: &Org, body: &Value) -> Result<Rule, ApiError> {
    let rule = Rule::from_okta(body)?;
    if let Route::Idp(idp) = &rule.route {
        match state.store.get_idp(&org.id, idp).await {
            Ok(_) => {}
            Err(StoreError::NotFound) => {
                return Err(ApiError::validation(
                    "actions.idp.providers",
                    vec![format!("actions.idp.providers: no identity provider {idp}")],
                ))
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(rule)
}

/// Add a rule or replace `existing`, through the domain's validation (shared by the API
/// and the console).
pub async fn save_rule(
    state: &AppState,
    caller: &Caller<'_>,
    existing: Option<RoutingRule>,
    body: &Value,
) -> Result<RoutingRule, ApiError> {
    let rule = validated(state, caller.org, body).await?;
    let now = state.now();
    let (stored, event, message) = match existing {
        Some(existing) => (
            RoutingRule {
                name: rule.name.clone(),
                priority: rule.priority,
                status: status(&rule),
                rule: rule.to_okta(),
                last_updated: now,
                ..existing
            },
            "policy.rule.update",
            "Update policy rule",
        ),
        None => (
            RoutingRule {
                seq: 0,
                id: idhub_domain::ids::new_id("0pr"),
                org_id: caller.org.id.clone(),
                name: rule.name.clone(),
                priority: rule.priority,
                status: status(&rule),
                rule: rule.to_okta(),
                created: now,
                last_updated: now,
            },
            "policy.rule.add",
            "Add policy rule",
        ),
    };
    let ev = NewEvent::success(
        event,
        message,
        caller.actor.clone(),
        vec![Party::new(stored.id.clone(), "PolicyRule", stored.name.clone(), stored.name.clone())],
        caller.client.clone(),
    );
    state.store.save_routing_rule(&stored, &[ev]).await?;
    Ok(stored)
}

/// Delete a rule (shared by the API and the console).
pub async fn delete_rule(state: &AppState, caller: &Caller<'_>, id: &str) -> Result<(), ApiError> {
    let existing = load(state, caller.org, id).await?;
    let ev = NewEvent::success(
        "policy.rule.delete",
        "Delete policy rule",
        caller.actor.clone(),
        vec![Party::new(existing.id.clone(), "PolicyRule", existing.name.clone(), existing.name.clone())],
        caller.client.clone(),
    );
    state.store.delete_routing_rule(&caller.org.id, id, state.now(), &[ev]).await?;
    Ok(())
}

fn caller_of<'a>(caller: &'a ApiCaller, client: &'a Client) -> Caller<'a> {
    Caller { org: &caller.org, actor: caller.actor(), client: &client.0 }
}

fn status(rule: &Rule) -> String {
    if rule.active { "ACTIVE" } else { "INACTIVE" }.to_string()
}

/// `POST /api/v1/policies/{policyId}/rules`
pub async fn rules_create(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    Path(id): Path<String>,
    OktaJson(body): OktaJson,
) -> Result<Json<Value>, ApiError> {
    check_policy(&id)?;
    let stored = save_rule(&state, &caller_of(&caller, &client), None, &body).await?;
    Ok(Json(rule_json(&caller.org, &stored)))
}

/// `GET /api/v1/policies/{policyId}/rules/{ruleId}`
pub async fn rules_get(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, rid)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    check_policy(&id)?;
    Ok(Json(rule_json(&caller.org, &load(&state, &caller.org, &rid).await?)))
}

/// `PUT /api/v1/policies/{policyId}/rules/{ruleId}`
pub async fn rules_update(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    Path((id, rid)): Path<(String, String)>,
    OktaJson(body): OktaJson,
) -> Result<Json<Value>, ApiError> {
    check_policy(&id)?;
    let existing = load(&state, &caller.org, &rid).await?;
    let stored = save_rule(&state, &caller_of(&caller, &client), Some(existing), &body).await?;
    Ok(Json(rule_json(&caller.org, &stored)))
}

/// `DELETE /api/v1/policies/{policyId}/rules/{ruleId}`
pub async fn rules_delete(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    Path((id, rid)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    check_policy(&id)?;
    delete_rule(&state, &caller_of(&caller, &client), &rid).await?;
    Ok(StatusCode::NO_CONTENT)
}
