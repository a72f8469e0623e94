//! An app's Assignments tab (Assign ▾ to People or to Groups, with the app-user profile;
//! Convert assignments; the search box; the SELF SERVICE panel) and Applications > Self
//! Service, the org setting that lets apps take end-user requests.

use super::app_tabs::{app_page, Tab};
use super::{done, error_context, field, notice, render, Admin, WriteForm};
use crate::api::extract::Params;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use idhub_core::applications::{self, INITIAL_STATUSES};
use idhub_domain::event::Party;
use idhub_store::apps::App;
use idhub_store::groups::GroupSelect;
use idhub_store::orgs::Org;
use serde_json::{json, Value};

/// Does `text` contain the search `q` (ignoring case)? An empty search matches all.
fn matches(q: &str, texts: &[Option<&str>]) -> bool {
    q.is_empty() || texts.iter().flatten().any(|t| t.to_lowercase().contains(q))
}

/// The Assignments tab's context: the people (individual or through a group), the groups,
/// both filtered by `q`; the groups to choose from; the self-service state.
pub async fn context(state: &AppState, org: &Org, app: &App, extra: &Value, ctx: &mut Value) {
    let q = extra.get("q").and_then(Value::as_str).unwrap_or_default().trim().to_lowercase();
    let all_groups = state.store.list_groups(&org.id, &GroupSelect::All, 500, None).await.map(|p| p.items).unwrap_or_default();
    let name_of =
        |gid: &str| all_groups.iter().find(|g| g.group.id.0 == gid).map(|g| g.group.name.clone()).unwrap_or_else(|| gid.to_string());
    let mut people = vec![];
    let mut via_group = 0;
    let mut after = String::new();
    'pages: loop {
        let page = state.store.app_assignments_page(&org.id, &app.id, &after, 200).await.unwrap_or_default();
        let Some(last) = page.last() else { break };
        after = last.user_id.clone();
        for ea in &page {
            if people.len() >= 500 {
                break 'pages;
            }
            let user = state.store.get_user(&org.id, &ea.user_id).await.ok();
            let login = user.as_ref().map(|u| u.user.login().to_string());
            let name = user.as_ref().map(|u| u.user.display_name());
            let (username, profile, group) = match (&ea.direct, &ea.group) {
                (Some(d), _) => (d.username.clone(), d.profile.clone(), None),
                (None, Some(g)) => {
                    via_group += 1;
                    let username = user.as_ref().and_then(|u| idhub_core::applications::app_username(app, &u.user).ok());
                    (username, g.profile.clone(), Some(name_of(&g.group_id)))
                }
                (None, None) => continue,
            };
            if !matches(&q, &[login.as_deref(), name.as_deref(), username.as_deref()]) {
                continue;
            }
            people.push(json!({
                "id": ea.user_id, "username": username, "profile": profile, "login": login, "name": name,
                "direct": ea.direct.is_some(), "group": group,
            }));
        }
    }
    let assigned = state.store.list_app_groups(&org.id, &app.id).await.unwrap_or_default();
    ctx["people"] = json!(people);
    ctx["via_group"] = json!(via_group);
    ctx["groups"] = json!(assigned
        .iter()
        .map(|ag| (ag, name_of(&ag.group_id)))
        .filter(|(_, name)| matches(&q, &[Some(name.as_str())]))
        .map(|(ag, name)| json!({ "id": ag.group_id, "name": name, "profile": ag.profile, "priority": ag.priority }))
        .collect::<Vec<_>>());
    ctx["group_options"] = json!(all_groups.iter().map(|g| json!({ "id": g.group.id, "name": g.group.name, "description": g.group.description, "assigned": assigned.iter().any(|a| a.group_id == g.group.id.0) })).collect::<Vec<_>>());
    ctx["initial_statuses"] = json!(INITIAL_STATUSES);
    ctx["q"] = json!(extra.get("q").and_then(Value::as_str).unwrap_or_default());
    let org_on = applications::self_service_enabled(org);
    let app_on = app.accessibility.get("selfService").and_then(Value::as_bool).unwrap_or(false);
    ctx["self_service"] = json!({ "org": org_on, "app": app_on, "effective": org_on && app_on });
}

/// `GET /admin/app/{id}/assignments` (`q` filters the lists)
pub async fn assignments(State(state): State<AppState>, admin: Admin, params: Params, Path(id): Path<String>) -> Response {
    let extra = json!({ "notice": notice(&params), "q": params.get("q").unwrap_or_default().chars().take(100).collect::<String>() });
    app_page(&state, &admin, &id, Tab::Assignments, extra, StatusCode::OK).await
}

/// The app-user profile of an assignment form (Org2Org's initial status).
fn assignment_profile(form: &[(String, String)]) -> Value {
    let mut profile = json!({});
    if let Some(s) = field(form, "initialStatus").filter(|s| !s.is_empty()) {
        profile["initialStatus"] = json!(s);
    }
    profile
}

/// `POST /admin/app/{id}/assignments/{people|groups}`: Assign to People (by username) or
/// Assign to Groups, with the app-user profile.
pub async fn assign(
    State(state): State<AppState>,
    Path((id, kind)): Path<(String, String)>,
    WriteForm { admin, form }: WriteForm,
) -> Response {
    let who = field(&form, "target").unwrap_or_default().trim().to_string();
    let mut body = json!({ "profile": assignment_profile(&form) });
    let result = match kind.as_str() {
        "people" => {
            if let Some(n) = field(&form, "userName").map(str::trim).filter(|n| !n.is_empty()) {
                body["credentials"] = json!({ "userName": n });
            }
            applications::assign_user(&state.core, admin.org(), &admin.actor(), &id, &who, &body)
                .await
                .map_err(crate::error::ApiError::from)
                .map(|_| "Person assigned.")
        }
        "groups" => applications::assign_group(&state.core, admin.org(), &admin.actor(), &id, &who, &body)
            .await
            .map_err(crate::error::ApiError::from)
            .map(|_| "Group assigned."),
        _ => return super::page_error(&admin, StatusCode::NOT_FOUND, "Not found", "No such assignment kind."),
    };
    match result {
        Ok(msg) => done(&format!("/admin/app/{id}/assignments"), msg),
        Err(e) => {
            let (err, mut errors) = error_context(&e);
            if e.status == StatusCode::NOT_FOUND {
                errors.insert(
                    format!("{kind}-target"),
                    json!(if kind == "people" { "No such person in this organization" } else { "No such group" }),
                );
            } else if let Some(m) = errors.remove("initialStatus") {
                errors.insert(format!("{kind}-initialStatus"), m);
            }
            let status = if e.status == StatusCode::NOT_FOUND { StatusCode::BAD_REQUEST } else { e.status };
            app_page(
                &state,
                &admin,
                &id,
                Tab::Assignments,
                json!({ "error": err, "field_errors": errors, "open": kind, "open_target": who }),
                status,
            )
            .await
        }
    }
}

/// `POST /admin/app/{id}/assignments/{people|groups}/{target}/remove` (after confirmation)
pub async fn unassign(
    State(state): State<AppState>,
    Path((id, kind, target)): Path<(String, String, String)>,
    WriteForm { admin, .. }: WriteForm,
) -> Response {
    let result = match kind.as_str() {
        "people" => {
            applications::unassign_user(&state.core, admin.org(), &admin.actor(), &id, &target).await.map_err(crate::error::ApiError::from)
        }
        "groups" => {
            applications::unassign_group(&state.core, admin.org(), &admin.actor(), &id, &target).await.map_err(crate::error::ApiError::from)
        }
        _ => return super::page_error(&admin, StatusCode::NOT_FOUND, "Not found", "No such assignment kind."),
    };
    match result {
        Ok(()) => done(&format!("/admin/app/{id}/assignments"), "Assignment removed."),
        Err(e) => app_page(&state, &admin, &id, Tab::Assignments, json!({ "error": error_context(&e).0 }), e.status).await,
    }
}

/// `POST /admin/app/{id}/assignments/convert` (after confirmation): Convert assignments —
/// everyone reaching the app through a group becomes individually assigned.
pub async fn convert(State(state): State<AppState>, Path(id): Path<String>, WriteForm { admin, .. }: WriteForm) -> Response {
    match applications::convert_assignments(&state.core, admin.org(), &admin.actor(), &id, None).await.map_err(crate::error::ApiError::from)
    {
        Ok(0) => done(&format!("/admin/app/{id}/assignments"), "No group assignments to convert."),
        Ok(n) => done(&format!("/admin/app/{id}/assignments"), &format!("{n} assignment(s) converted to individual assignments.")),
        Err(e) if e.status == StatusCode::NOT_FOUND => {
            super::page_error(&admin, StatusCode::NOT_FOUND, "Not found", "There is no such application in this organization.")
        }
        Err(e) => app_page(&state, &admin, &id, Tab::Assignments, json!({ "error": error_context(&e).0 }), e.status).await,
    }
}

/// `POST /admin/app/{id}/assignments/self-service`: the app's end-user Requests
/// (`accessibility.selfService`); turning them on needs the org setting.
pub async fn save_self_service(State(state): State<AppState>, Path(id): Path<String>, WriteForm { admin, form }: WriteForm) -> Response {
    let app = match applications::load(&state.core, admin.org(), &id).await.map_err(crate::error::ApiError::from) {
        Ok(a) => a,
        Err(_) => {
            return super::page_error(&admin, StatusCode::NOT_FOUND, "Not found", "There is no such application in this organization.")
        }
    };
    let mut body = crate::api::applications::app_json(admin.org(), &app);
    body["accessibility"]["selfService"] = json!(field(&form, "requests") == Some("on"));
    match applications::update(&state.core, admin.org(), &admin.actor(), &id, body).await.map_err(crate::error::ApiError::from) {
        Ok(_) => done(&format!("/admin/app/{id}/assignments"), "Self service saved."),
        Err(e) => {
            let (err, errors) = error_context(&e);
            let extra = json!({ "error": err, "field_errors": errors, "open": "self-service" });
            app_page(&state, &admin, &id, Tab::Assignments, extra, e.status).await
        }
    }
}

/// `GET /admin/apps/self-service`: Applications > Self Service.
pub async fn self_service(admin: Admin, params: Params) -> Response {
    let ctx = json!({ "enabled": applications::self_service_enabled(admin.org()), "notice": notice(&params) });
    render(&admin, "self_service.html", "self-service", "Self Service", ctx, StatusCode::OK)
}

/// `POST /admin/apps/self-service`: enable or disable self service for org-managed apps.
pub async fn save_self_service_settings(State(state): State<AppState>, WriteForm { admin, form }: WriteForm) -> Response {
    let on = field(&form, "orgManagedApps") == Some("on");
    let org = admin.org();
    let change = super::OrgSetting {
        key: "selfService",
        value: json!({ "orgManagedApps": on }),
        event: (
            "system.self_service.update",
            if on { "Enable self service for org managed apps" } else { "Disable self service for org managed apps" },
        ),
        target: Party::new(org.id.as_str(), "Org", org.name.clone(), org.name.clone()),
    };
    let notice = if on { "Self service for org managed apps enabled." } else { "Self service for org managed apps disabled." };
    super::save_org_setting(&state, &admin, change, "/admin/apps/self-service", notice).await
}
