//! Security > Identity Providers > Routing rules: the org's IdP discovery rules in
//! priority order, and a form to add, edit or delete one (user matches, app condition,
//! which identity provider), saved through the same code as the policy-rules API so the
//! domain's `RoutingRule` validation applies.

use super::{done, error_context, field, notice, page_error, render, Admin, WriteForm};
use crate::api::extract::Params;
use crate::error::ApiError;
use crate::idp::routing::{delete_rule, load, save_rule};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use idhub_core::idps::Caller;
use idhub_store::apps::AppQuery;
use idhub_store::idps::RoutingRule;
use serde_json::{json, Map, Value};

const BASE: &str = "/admin/access/identity-providers/routing-rules";

/// A rule body (Okta's shape) from the form, and errors found before validation.
fn read_form(form: &[(String, String)]) -> (Value, Map<String, Value>) {
    let mut errors = Map::new();
    let priority = match field(form, "priority").map(str::trim).unwrap_or("1").parse::<i64>() {
        Ok(p) => p,
        Err(_) => {
            errors.insert("priority".into(), json!("Enter a whole number from 1 to 1000"));
            1
        }
    };
    let patterns = match field(form, "userMatch") {
        Some("PATTERN") => json!([{
            "matchType": field(form, "matchType").unwrap_or("EQUALS"),
            "value": field(form, "matchValue").unwrap_or_default().trim(),
        }]),
        _ => json!([]),
    };
    let apps: Vec<&str> = field(form, "app").filter(|a| !a.is_empty()).into_iter().collect();
    let provider = match field(form, "provider").unwrap_or("OKTA") {
        "OKTA" => json!({ "type": "OKTA" }),
        id => json!({ "type": "SAML2", "id": id }),
    };
    let body = json!({
        "type": "IDP_DISCOVERY",
        "name": field(form, "name").unwrap_or_default().trim(),
        "priority": priority,
        "status": if field(form, "active") == Some("on") { "ACTIVE" } else { "INACTIVE" },
        "conditions": { "userIdentifier": { "type": "IDENTIFIER", "patterns": patterns }, "app": { "include": apps, "exclude": [] } },
        "actions": { "idp": { "providers": [provider] } }
    });
    (body, errors)
}

/// What the form shows for a rule body.
fn form_values(body: &Value) -> Value {
    let pattern = body.pointer("/conditions/userIdentifier/patterns/0");
    let provider = body.pointer("/actions/idp/providers/0");
    json!({
        "name": body.get("name").and_then(Value::as_str).unwrap_or_default(),
        "priority": body.get("priority").and_then(Value::as_i64).unwrap_or(1),
        "active": body.get("status").and_then(Value::as_str).unwrap_or("ACTIVE") == "ACTIVE",
        "user_match": if pattern.is_some() { "PATTERN" } else { "ANY" },
        "match_type": pattern.and_then(|p| p.get("matchType")).and_then(Value::as_str).unwrap_or("SUFFIX"),
        "match_value": pattern.and_then(|p| p.get("value")).and_then(Value::as_str).unwrap_or_default(),
        "app": body.pointer("/conditions/app/include/0").and_then(Value::as_str).unwrap_or_default(),
        "provider": match provider.and_then(|p| p.get("type")).and_then(Value::as_str) {
            Some("SAML2") => provider.and_then(|p| p.get("id")).and_then(Value::as_str).unwrap_or_default(),
            _ => "OKTA",
        },
    })
}

fn describe(r: &RoutingRule, idps: &[Value], apps: &[Value]) -> Value {
    let v = form_values(&r.rule);
    let name_of =
        |list: &[Value], id: &str, key: &str| list.iter().find(|x| x["id"] == id).and_then(|x| x[key].as_str()).unwrap_or(id).to_string();
    let users = if v["user_match"] == "ANY" {
        "Any user".to_string()
    } else {
        format!("Username {} {}", v["match_type"].as_str().unwrap_or_default(), v["match_value"].as_str().unwrap_or_default())
    };
    let app = v["app"].as_str().filter(|a| !a.is_empty()).map(|a| name_of(apps, a, "label")).unwrap_or_else(|| "Any app".into());
    let provider = match v["provider"].as_str() {
        Some("OKTA") | None => "This org's sign-in page".to_string(),
        Some(id) => name_of(idps, id, "name"),
    };
    json!({ "id": r.id, "name": r.name, "priority": r.priority, "status": r.status, "users": users, "app": app, "provider": provider })
}

#[allow(clippy::too_many_arguments)]
async fn page(
    state: &AppState,
    admin: &Admin,
    editing: Option<&str>,
    body: &Value,
    error: Value,
    fields: Map<String, Value>,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let org = &admin.org().id;
    let idps: Vec<Value> = state
        .store
        .list_idps(org, None, 0, 500)
        .await
        .unwrap_or_default()
        .iter()
        .map(|i| json!({ "id": i.id, "name": i.name, "status": i.status }))
        .collect();
    let query = AppQuery { q: None, status: None, name: None, after_seq: 0, limit: 500 };
    let apps: Vec<Value> =
        state.store.list_apps(org, &query).await.unwrap_or_default().iter().map(|a| json!({ "id": a.id, "label": a.label })).collect();
    let mut rules = state.store.list_routing_rules(org).await.unwrap_or_default();
    rules.sort_by_key(|r| (r.priority, r.seq));
    let rows: Vec<Value> = rules.iter().map(|r| describe(r, &idps, &apps)).collect();
    let ctx = json!({
        "rules": rows, "idps": idps, "apps": apps, "v": form_values(body), "editing": editing,
        "error": error, "errors": fields, "notice": notice,
    });
    render(admin, "routing.html", "idps", "Routing rules", ctx, status)
}

fn caller(admin: &Admin) -> Caller<'_> {
    Caller { org: admin.org(), actor: admin.actor().party, client: &admin.client }
}

fn new_rule() -> Value {
    json!({ "priority": 1, "status": "ACTIVE" })
}

/// `GET /admin/access/identity-providers/routing-rules`
pub async fn list(State(state): State<AppState>, admin: Admin, params: Params) -> Response {
    page(&state, &admin, None, &new_rule(), Value::Null, Map::new(), notice(&params), StatusCode::OK).await
}

/// `GET /admin/access/identity-providers/routing-rules/{id}`: the rule in the form.
pub async fn edit(State(state): State<AppState>, admin: Admin, Path(id): Path<String>) -> Response {
    match load(&state, admin.org(), &id).await {
        Ok(r) => page(&state, &admin, Some(&id), &r.rule, Value::Null, Map::new(), None, StatusCode::OK).await,
        Err(_) => page_error(&admin, StatusCode::NOT_FOUND, "Not found", "There is no such routing rule."),
    }
}

async fn submit(state: &AppState, admin: &Admin, id: Option<&str>, form: &[(String, String)]) -> Response {
    let (body, errors) = read_form(form);
    let refuse = |e: Option<ApiError>, body: Value, errors: Map<String, Value>| async move {
        let (error, mut fields) = match &e {
            Some(e) => error_context(e),
            None => (json!({ "summary": "Correct the fields marked below.", "causes": [] }), Map::new()),
        };
        for (k, v) in errors {
            fields.entry(k).or_insert(v);
        }
        // Pattern errors belong to the pattern's value.
        for k in [
            "conditions.userIdentifier.patterns",
            "conditions.userIdentifier.patterns.value",
            "conditions.userIdentifier.patterns.matchType",
        ] {
            if let Some(v) = fields.get(k).cloned() {
                fields.entry("matchValue".to_string()).or_insert(v);
            }
        }
        page(state, admin, id, &body, error, fields, None, StatusCode::BAD_REQUEST).await
    };
    if !errors.is_empty() {
        return refuse(None, body, errors).await;
    }
    let existing = match id {
        Some(id) => match load(state, admin.org(), id).await {
            Ok(r) => Some(r),
            Err(_) => return page_error(admin, StatusCode::NOT_FOUND, "Not found", "There is no such routing rule."),
        },
        None => None,
    };
    match save_rule(state, &caller(admin), existing, &body).await {
        Ok(r) => done(BASE, &format!("Routing rule {} saved.", r.name)),
        Err(e) if e.status == StatusCode::BAD_REQUEST => refuse(Some(e), body, errors).await,
        Err(e) => page_error(admin, e.status, "Cannot save the routing rule", &e.summary),
    }
}

/// `POST /admin/access/identity-providers/routing-rules`: add a rule.
pub async fn create(State(state): State<AppState>, WriteForm { admin, form }: WriteForm) -> Response {
    submit(&state, &admin, None, &form).await
}

/// `POST /admin/access/identity-providers/routing-rules/{id}`: save an edited rule.
pub async fn save(State(state): State<AppState>, Path(id): Path<String>, WriteForm { admin, form }: WriteForm) -> Response {
    submit(&state, &admin, Some(&id), &form).await
}

/// `POST /admin/access/identity-providers/routing-rules/{id}/delete`
pub async fn delete(State(state): State<AppState>, Path(id): Path<String>, WriteForm { admin, .. }: WriteForm) -> Response {
    match delete_rule(&state, &caller(&admin), &id).await {
        Ok(()) => done(BASE, "Routing rule deleted."),
        Err(e) => page_error(&admin, e.status, "Cannot delete the routing rule", &e.summary),
    }
}
