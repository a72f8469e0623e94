//! The top bar's "Search for people, apps and groups": one query over this org's people
//! (first name, last name or email starting with it), apps (a word of the label starting
//! with it) and groups (name starting with it), each result linking to its page.

use super::{render, Admin};
use crate::api::extract::Params;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use idhub_domain::application::catalog;
use idhub_store::apps::AppQuery;
use idhub_store::groups::GroupSelect;
use idhub_store::users::{UserQuery, UserSelect};
use serde_json::{json, Value};

const LIMIT: usize = 20;

/// `GET /admin/search?q=`
pub async fn search(State(state): State<AppState>, admin: Admin, params: Params) -> Response {
    let q: String = params.get("q").unwrap_or_default().trim().chars().take(100).collect();
    let mut ctx = json!({ "q": q });
    if !q.is_empty() {
        let org = &admin.org().id;
        let query = UserQuery { select: UserSelect::Q(q.clone()), limit: LIMIT as i64, after: None };
        let people: Vec<Value> = state
            .store
            .list_users(org, &query)
            .await
            .map(|p| p.items)
            .unwrap_or_default()
            .iter()
            .map(|u| json!({ "id": u.user.id, "name": u.user.display_name(), "login": u.user.login() }))
            .collect();
        // An org has few apps: match any word of the label ("Org2Org" finds "Okta Org2Org").
        let app_query = AppQuery { q: None, status: None, name: None, after_seq: 0, limit: 1000 };
        let needle = q.to_lowercase();
        let apps: Vec<Value> = state
            .store
            .list_apps(org, &app_query)
            .await
            .unwrap_or_default()
            .iter()
            .filter(|a| {
                a.label.to_lowercase().split_whitespace().any(|w| w.starts_with(&needle)) || a.label.to_lowercase().starts_with(&needle)
            })
            .take(LIMIT)
            .map(|a| json!({ "id": a.id, "label": a.label, "kind": catalog(&a.name).map(|c| c.display_name).unwrap_or(a.name.as_str()) }))
            .collect();
        let groups: Vec<Value> = state
            .store
            .list_groups(org, &GroupSelect::Q(q.clone()), LIMIT as i64, None)
            .await
            .map(|p| p.items)
            .unwrap_or_default()
            .iter()
            .map(|g| json!({ "id": g.group.id, "name": g.group.name, "description": g.group.description }))
            .collect();
        ctx["people"] = json!(people);
        ctx["apps"] = json!(apps);
        ctx["groups"] = json!(groups);
        ctx["searched"] = json!(true);
    }
    render(&admin, "search.html", "search", "Search", ctx, StatusCode::OK)
}
