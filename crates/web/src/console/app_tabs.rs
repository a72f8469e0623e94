//! An app's page and its tabs beyond General: Sign On (SAML settings, View Setup
//! Instructions, metadata and certificate download, Org2Org's Advanced Sign-on Settings,
//! the application username, key rotation), Provisioning (Integration with Test API
//! Credentials; To App) and Assignments (people and groups, with the app-user profile).

use super::apps::{general_fields, render_fields, save_tab, sign_on_fields};
use super::{done, error_context, field, notice, render, Admin, WriteForm};
use crate::api::applications::{app_json, sign_on_url};
use crate::api::extract::Params;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use idhub_core::applications;
use idhub_core::provisioning::{self, Credentials};
use idhub_domain::application::catalog;
use idhub_domain::time::format_millis;
use idhub_store::groups::GroupSelect;
use serde_json::{json, Map, Value};

const DAY_MS: i64 = 24 * 3600 * 1000;

/// The tabs of an app's page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    General,
    SignOn,
    Provisioning,
    Assignments,
    PushGroups,
    Import,
}

impl Tab {
    /// The tab's URL segment.
    pub fn path(self) -> &'static str {
        match self {
            Tab::General => "general",
            Tab::SignOn => "signon",
            Tab::Provisioning => "provisioning",
            Tab::Assignments => "assignments",
            Tab::PushGroups => "push-groups",
            Tab::Import => "import",
        }
    }
}

pub(super) fn merge(ctx: &mut Value, extra: &Value) {
    if let (Some(o), Some(e)) = (ctx.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            o.insert(k.clone(), v.clone());
        }
    }
}

/// Render an app's page on `tab`; `extra` may carry `error`, `field_errors`, `body` (the
/// submitted values to show again), `notice` and tab-specific results.
pub async fn app_page(state: &AppState, admin: &Admin, id: &str, tab: Tab, extra: Value, status: StatusCode) -> Response {
    let org = admin.org();
    let app = match applications::load(&state.core, org, id).await.map_err(crate::error::ApiError::from) {
        Ok(a) => a,
        Err(_) => {
            return super::page_error(admin, StatusCode::NOT_FOUND, "Not found", "There is no such application in this organization.")
        }
    };
    let Some(entry) = catalog(&app.name) else {
        return super::page_error(admin, StatusCode::NOT_FOUND, "Not found", "The app's template is not in the catalog.");
    };
    if matches!(tab, Tab::Provisioning | Tab::PushGroups | Tab::Import) && !entry.provisioning {
        return super::page_error(admin, StatusCode::NOT_FOUND, "Not found", "This app has no provisioning.");
    }
    let aj = app_json(org, &app);
    let body = extra.get("body").cloned().unwrap_or_else(|| aj.clone());
    let errors: Map<String, Value> = extra.get("field_errors").and_then(Value::as_object).cloned().unwrap_or_default();
    let mut ctx = json!({
        "app": aj,
        "tab": tab.path(),
        "entry": { "display_name": entry.display_name, "provisioning": entry.provisioning, "saml": app.sign_on_mode == "SAML_2_0", "hub": app.name == "okta_org2org" },
        "embed_link": sign_on_url(org, &app),
        "field_errors": errors,
    });
    match tab {
        Tab::General => ctx["fields"] = json!(render_fields(&general_fields(entry), &body, &errors)),
        Tab::SignOn => {
            ctx["fields"] = json!(render_fields(&sign_on_fields(entry), &body, &errors));
            if app.sign_on_mode == "SAML_2_0" {
                let now = state.now();
                let keys = state.store.app_keys(&org.id, &app.id).await.unwrap_or_default();
                ctx["keys"] = json!(keys
                    .iter()
                    .map(|k| json!({
                        "kid": k.kid, "status": k.status, "created": format_millis(k.created), "expires": format_millis(k.expires),
                        "expiring": k.status == "ACTIVE" && k.expires - now < 30 * DAY_MS,
                    }))
                    .collect::<Vec<_>>());
                ctx["setup_url"] = json!(format!("/app/{}/{}/setup/help/SAML_2_0/instructions", app.name, app.id));
                ctx["cert_url"] = json!(format!("/app/{}/{}/setup/cert.pem", app.name, app.id));
                ctx["sso_url"] = json!(format!("{}/app/{}/{}/sso/saml", org.base_url, app.name, app.id));
                ctx["issuer"] = json!(crate::sso::issuer(org, &app));
                let mut rows: Vec<Value> = body
                    .pointer("/settings/signOn/attributeStatements")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().map(|st| json!({ "name": st["name"], "value": st.pointer("/values/0") })).collect())
                    .unwrap_or_default();
                rows.extend([json!({}), json!({})]);
                ctx["attributes"] = json!(rows);
            }
        }
        Tab::Provisioning => {
            let conn = state.store.get_connection(&org.id, &app.id).await.ok();
            let Ok(features) = provisioning::features_of(&state.core, org, &app).await.map_err(crate::error::ApiError::from) else {
                return super::page_error(
                    admin,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Error",
                    "The provisioning settings could not be read.",
                );
            };
            let base = conn
                .as_ref()
                .map(|c| c.base_url.clone())
                .or_else(|| app.settings.pointer("/app/baseUrl").and_then(Value::as_str).map(str::to_string));
            ctx["integration"] = json!({
                "configured": conn.is_some(),
                "active": conn.as_ref().is_some_and(|c| c.status == "ENABLED"),
                "enabled": extra.pointer("/integration_form/enabled").and_then(Value::as_bool).unwrap_or(conn.as_ref().is_some_and(|c| c.status == "ENABLED")),
                "base_url": extra.pointer("/integration_form/base_url").cloned().unwrap_or(json!(base)),
                "last_test": conn.as_ref().and_then(|c| c.last_test).map(format_millis),
                "last_test_result": conn.as_ref().and_then(|c| c.last_test_result.clone()),
            });
            ctx["features"] = features;
            // failed pushes of this app (Tasks), each with what the hub answered
            let failed: Vec<Value> = state
                .store
                .list_jobs(&org.id, "FAILED", 1000)
                .await
                .unwrap_or_default()
                .iter()
                .filter(|j| j.payload.get("appId").and_then(Value::as_str) == Some(app.id.as_str()))
                .take(20)
                .map(|j| json!({ "user": j.payload.get("userId").or(j.payload.get("groupId")), "error": j.last_error, "created": format_millis(j.created), "attempts": j.attempts }))
                .collect();
            ctx["failed_pushes"] = json!(failed);
            // progress of this app's pushes (a large assignment or push in flight)
            if let Ok(p) = state.store.batch_progress(&org.id, &app.id).await {
                ctx["progress"] = json!({ "pending": p.pending, "running": p.running, "done": p.done, "failed": p.failed });
            }
        }
        Tab::Assignments => super::app_assign::context(state, org, &app, &extra, &mut ctx).await,
        Tab::PushGroups => {
            let (pushes, rules) =
                match idhub_core::group_push::list_pushes(&state.core, org, &app.id).await.map_err(crate::error::ApiError::from) {
                    Ok((_, p, r)) => (p, r),
                    Err(_) => (vec![], vec![]),
                };
            ctx["pushes"] = json!(pushes
                .iter()
                .map(|v| json!({
                    "id": v.push.id, "group": v.group_name, "group_id": v.push.group_id, "status": v.push.status,
                    "target": v.push.target_group_id, "last_push": v.push.last_push.map(format_millis), "error": v.push.last_error,
                    "by_rule": v.push.rule_id.is_some(),
                }))
                .collect::<Vec<_>>());
            ctx["rules"] = json!(rules.iter().map(|r| json!({ "id": r.id, "starts_with": r.name_starts_with })).collect::<Vec<_>>());
            let all_groups = state.store.list_groups(&org.id, &GroupSelect::All, 500, None).await.map(|p| p.items).unwrap_or_default();
            ctx["group_options"] = json!(all_groups
                .iter()
                .filter(|g| g.group.kind == idhub_domain::group::GroupType::OktaGroup)
                .filter(|g| !pushes.iter().any(|v| v.push.group_id == g.group.id.0))
                .map(|g| json!({ "id": g.group.id, "name": g.group.name }))
                .collect::<Vec<_>>());
            ctx["active"] = json!(state.store.get_connection(&org.id, &app.id).await.is_ok_and(|c| c.status == "ENABLED"));
        }
        Tab::Import => {
            ctx["import"] = match idhub_core::import::import_state(&state.core, org, &app.id).await {
                Ok(s) => crate::api::import::import_state_json(&s),
                Err(e) => return super::failure_page(admin, e),
            };
            ctx["active"] = json!(state.store.get_connection(&org.id, &app.id).await.is_ok_and(|c| c.status == "ENABLED"));
            ctx["schedules"] = json!(idhub_core::import::SCHEDULES.iter().map(|s| s.0).collect::<Vec<_>>());
        }
    }
    merge(&mut ctx, &extra);
    let title = app.label.clone();
    render(admin, "app.html", "apps", &title, ctx, status)
}

/// The seeds' advice to monitor certificate expiry: each active SAML signing certificate
/// that expires within 30 days, named by its app (for the dashboard).
pub async fn certificate_warnings(state: &AppState, org: &idhub_store::orgs::Org) -> Vec<String> {
    let now = state.now();
    let query = idhub_store::apps::AppQuery { q: None, status: None, name: None, after_seq: 0, limit: 1000 };
    let mut out = vec![];
    for app in state.store.list_apps(&org.id, &query).await.unwrap_or_default().iter().filter(|a| a.sign_on_mode == "SAML_2_0") {
        for k in state.store.app_keys(&org.id, &app.id).await.unwrap_or_default() {
            if k.status == "ACTIVE" && k.expires - now < 30 * DAY_MS {
                let when = if k.expires <= now { "has expired".to_string() } else { format!("expires {}", format_millis(k.expires)) };
                out.push(format!("The signing certificate of \"{}\" {when}: generate a new one on its Sign On tab.", app.label));
            }
        }
    }
    out
}

/// `GET /admin/app/{id}/signon`
pub async fn sign_on(State(state): State<AppState>, admin: Admin, params: Params, Path(id): Path<String>) -> Response {
    app_page(&state, &admin, &id, Tab::SignOn, json!({ "notice": notice(&params) }), StatusCode::OK).await
}

/// `POST /admin/app/{id}/signon`
pub async fn save_sign_on(State(state): State<AppState>, Path(id): Path<String>, WriteForm { admin, form }: WriteForm) -> Response {
    save_tab(&state, &admin, &id, Tab::SignOn, &form).await
}

/// `POST /admin/app/{id}/keys/rotate`: a new signing certificate (the old one stays listed).
pub async fn rotate_key(State(state): State<AppState>, Path(id): Path<String>, WriteForm { admin, .. }: WriteForm) -> Response {
    match crate::sso::rotate_key(&state, admin.org(), &admin.actor(), &id).await {
        Ok(_) => done(&format!("/admin/app/{id}/signon"), "New signing certificate generated. Give it to the service provider."),
        Err(e) => app_page(&state, &admin, &id, Tab::SignOn, json!({ "error": error_context(&e).0 }), e.status).await,
    }
}

/// `GET /admin/app/{id}/metadata`: the IdP metadata, as a download.
pub async fn metadata(State(state): State<AppState>, admin: Admin, Path(id): Path<String>) -> Response {
    match crate::sso::metadata_xml(&state, admin.org(), &id).await {
        Ok(xml) => {
            ([(header::CONTENT_TYPE, "application/xml"), (header::CONTENT_DISPOSITION, "attachment; filename=\"metadata.xml\"")], xml)
                .into_response()
        }
        Err(e) => super::page_error(&admin, e.status, "No metadata", &e.summary),
    }
}

/// `GET /admin/app/{id}/provisioning`
/// `?configure=1` shows the Integration form before an integration exists ("Configure
/// API Integration"); `?edit=to-app` makes To App editable (it is shown read-only with an
/// Edit link otherwise).
pub async fn provisioning_tab(State(state): State<AppState>, admin: Admin, params: Params, Path(id): Path<String>) -> Response {
    let extra = json!({
        "notice": notice(&params),
        "configure": params.get("configure") == Some("1"),
        "edit_to_app": params.get("edit") == Some("to-app"),
    });
    app_page(&state, &admin, &id, Tab::Provisioning, extra, StatusCode::OK).await
}

/// `POST /admin/app/{id}/provisioning/integration`: `action=test` runs Test API
/// Credentials; `action=save` saves (and, with Enable API integration, tests first). The
/// token is write-only: it is never put back into the page.
pub async fn save_integration(State(state): State<AppState>, Path(id): Path<String>, WriteForm { admin, form }: WriteForm) -> Response {
    let creds = Credentials { app_id: &id, base_url: field(&form, "baseUrl"), token: field(&form, "token") };
    let actor = admin.actor();
    // what the admin entered comes back (never the token)
    let kept = json!({ "integration_form": { "base_url": field(&form, "baseUrl"), "enabled": field(&form, "enabled") == Some("on") } });
    let failed = |e: crate::error::ApiError| {
        let (err, errors) = error_context(&e);
        let mut extra = json!({ "error": err, "field_errors": errors });
        merge(&mut extra, &kept);
        (extra, e.status)
    };
    if field(&form, "action") == Some("test") {
        let (mut extra, status) =
            match provisioning::test_integration(&state.core, admin.org(), &actor, creds).await.map_err(crate::error::ApiError::from) {
                Ok(Ok(msg)) => (json!({ "test_ok": msg }), StatusCode::OK),
                Ok(Err(msg)) => (json!({ "test_failed": msg }), StatusCode::BAD_REQUEST),
                Err(e) => failed(e),
            };
        merge(&mut extra, &kept);
        return app_page(&state, &admin, &id, Tab::Provisioning, extra, status).await;
    }
    let enable = field(&form, "enabled") == Some("on");
    let saved = provisioning::save_integration(&state.core, admin.org(), &actor, creds, enable).await.map_err(crate::error::ApiError::from);
    let flags = [
        ("importGroups", field(&form, "importGroups") == Some("on")),
        ("preferUsernameOverEmail", field(&form, "preferUsernameOverEmail") == Some("on")),
    ];
    let saved = match saved {
        Ok(_) => provisioning::set_features(&state.core, admin.org(), &actor, &id, &flags).await.map_err(crate::error::ApiError::from),
        Err(e) => Err(e),
    };
    match saved {
        Ok(_) => done(
            &format!("/admin/app/{id}/provisioning"),
            if enable { "API integration enabled." } else { "API integration saved (disabled)." },
        ),
        Err(e) => {
            let (extra, status) = failed(e);
            app_page(&state, &admin, &id, Tab::Provisioning, extra, status).await
        }
    }
}

/// `POST /admin/app/{id}/provisioning/to-app`: Create Users, Update User Attributes,
/// Deactivate Users, Sync Password.
pub async fn save_to_app(State(state): State<AppState>, Path(id): Path<String>, WriteForm { admin, form }: WriteForm) -> Response {
    let flags: Vec<(&str, bool)> =
        ["create", "update", "deactivate", "password"].iter().map(|k| (*k, field(&form, k) == Some("on"))).collect();
    match provisioning::set_features(&state.core, admin.org(), &admin.actor(), &id, &flags).await.map_err(crate::error::ApiError::from) {
        Ok(_) => done(&format!("/admin/app/{id}/provisioning"), "Provisioning to App saved."),
        Err(e) => {
            app_page(&state, &admin, &id, Tab::Provisioning, json!({ "error": error_context(&e).0, "edit_to_app": true }), e.status).await
        }
    }
}

/// `GET /admin/app/{id}/push-groups`
pub async fn push_groups_tab(State(state): State<AppState>, admin: Admin, params: Params, Path(id): Path<String>) -> Response {
    app_page(&state, &admin, &id, Tab::PushGroups, json!({ "notice": notice(&params) }), StatusCode::OK).await
}

/// `POST /admin/app/{id}/push-groups`: `mode=group` pushes the group chosen (`group`, an id
/// or a name); `mode=rule` pushes every group whose name starts with `startsWith`.
pub async fn push_groups(State(state): State<AppState>, Path(id): Path<String>, WriteForm { admin, form }: WriteForm) -> Response {
    use idhub_core::group_push::PushRequest;
    let req = match field(&form, "mode") {
        Some("rule") => PushRequest::NameStartsWith(field(&form, "startsWith").unwrap_or_default().to_string()),
        _ => PushRequest::Group(field(&form, "group").unwrap_or_default().to_string()),
    };
    match idhub_core::group_push::push_groups(&state.core, admin.org(), &admin.actor(), &id, req)
        .await
        .map_err(crate::error::ApiError::from)
    {
        Ok(added) => done(
            &format!("/admin/app/{id}/push-groups"),
            &match added.len() {
                0 => "Rule saved. No group matches it yet.".to_string(),
                1 => format!("Pushing {}.", added[0].group_name),
                n => format!("Pushing {n} groups."),
            },
        ),
        Err(e) => {
            let (err, errors) = error_context(&e);
            app_page(&state, &admin, &id, Tab::PushGroups, json!({ "error": err, "field_errors": errors }), e.status).await
        }
    }
}

/// `POST /admin/app/{id}/push-groups/{mapping}/unlink` (after confirmation): `target=delete`
/// deletes the hub group, `target=keep` keeps it.
pub async fn unlink_push(
    State(state): State<AppState>,
    Path((id, mapping)): Path<(String, String)>,
    WriteForm { admin, form }: WriteForm,
) -> Response {
    let delete = match field(&form, "target") {
        Some("delete") => true,
        Some("keep") => false,
        _ => {
            return app_page(
                &state,
                &admin,
                &id,
                Tab::PushGroups,
                json!({ "error": "Choose whether to delete the group in the hub or keep it." }),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
    };
    match idhub_core::group_push::unlink(&state.core, admin.org(), &admin.actor(), &id, &mapping, delete)
        .await
        .map_err(crate::error::ApiError::from)
    {
        Ok(()) => done(
            &format!("/admin/app/{id}/push-groups"),
            if delete { "Group unlinked; the hub group will be deleted." } else { "Group unlinked; the hub group is kept." },
        ),
        Err(e) => app_page(&state, &admin, &id, Tab::PushGroups, json!({ "error": error_context(&e).0 }), e.status).await,
    }
}

/// `GET /admin/app/{id}/import`
pub async fn import_tab(State(state): State<AppState>, admin: Admin, params: Params, Path(id): Path<String>) -> Response {
    app_page(&state, &admin, &id, Tab::Import, json!({ "notice": notice(&params) }), StatusCode::OK).await
}

/// `POST /admin/app/{id}/import/{now|confirm|settings}`: Import Now; Confirm Assignments
/// (`all=on`, or the checked `id`s); the import settings (match rule, schedule, profile
/// source).
pub async fn import_action(
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    WriteForm { admin, form }: WriteForm,
) -> Response {
    let actor = admin.actor();
    let result = match action.as_str() {
        "now" => idhub_core::import::import_now(&state.core, admin.org(), &actor, &id)
            .await
            .map_err(crate::error::ApiError::from)
            .map(|_| "Import started. Its results appear below for confirmation.".to_string()),
        "confirm" => {
            let ids: Vec<String> = form.iter().filter(|(k, _)| k == "id").map(|(_, v)| v.clone()).collect();
            if field(&form, "all") != Some("on") && ids.is_empty() {
                Err(crate::error::ApiError::validation("ids", vec!["ids: select the results to confirm".into()]))
            } else {
                let ids = if field(&form, "all") == Some("on") { None } else { Some(ids) };
                idhub_core::import::confirm(&state.core, admin.org(), &actor, &id, ids).await.map_err(crate::error::ApiError::from).map(
                    |out| {
                        let failed = out.iter().filter(|r| r.result.is_err()).count();
                        format!("{} assignment(s) confirmed, {failed} failed.", out.len() - failed)
                    },
                )
            }
        }
        "settings" => {
            let settings = idhub_core::import::ImportSettings {
                match_by: field(&form, "matchBy").map(str::to_string),
                schedule: field(&form, "schedule").map(str::to_string),
                profile_source: Some(field(&form, "profileSource") == Some("on")),
            };
            idhub_core::import::save_settings(&state.core, admin.org(), &actor, &id, settings)
                .await
                .map_err(crate::error::ApiError::from)
                .map(|_| "Import settings saved.".to_string())
        }
        _ => return super::page_error(&admin, StatusCode::NOT_FOUND, "Not found", "No such import action."),
    };
    match result {
        Ok(msg) => done(&format!("/admin/app/{id}/import"), &msg),
        Err(e) => {
            let (err, errors) = error_context(&e);
            app_page(&state, &admin, &id, Tab::Import, json!({ "error": err, "field_errors": errors }), e.status).await
        }
    }
}

/// `POST /admin/app/{id}/push-groups/rules/{rule}/delete` (after confirmation)
pub async fn delete_push_rule(
    State(state): State<AppState>,
    Path((id, rule)): Path<(String, String)>,
    WriteForm { admin, .. }: WriteForm,
) -> Response {
    match idhub_core::group_push::remove_rule(&state.core, admin.org(), &admin.actor(), &id, &rule)
        .await
        .map_err(crate::error::ApiError::from)
    {
        Ok(()) => done(&format!("/admin/app/{id}/push-groups"), "Rule deleted. The groups it pushed stay linked."),
        Err(e) => app_page(&state, &admin, &id, Tab::PushGroups, json!({ "error": error_context(&e).0 }), e.status).await,
    }
}
