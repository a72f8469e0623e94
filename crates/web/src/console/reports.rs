//! The dashboard (counts, security warnings, recent events), Reports > System Log
//! (time range, filter, keyword search, event detail) and Tasks (failed provisioning
//! with retry and dismiss).

use super::{done, notice, render, Admin, WriteForm};
use crate::api::extract::Params;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use idhub_domain::filter::{self, Context};
use idhub_domain::lifecycle::UserStatus;
use idhub_domain::time::{format_millis, parse_timestamp};
use idhub_store::apps::AppQuery;
use idhub_store::events::LogQuery;
use serde_json::{json, Value};
use std::collections::HashMap;

/// `GET /admin/dashboard`
pub async fn dashboard(State(state): State<AppState>, admin: Admin, params: Params) -> Response {
    let org = &admin.org().id;
    let now = state.now();
    let users = state.store.count_users(org).await.unwrap_or(0);
    let active = state.store.count_users_with_status(org, UserStatus::Active).await.unwrap_or(0);
    let locked = state.store.count_users_with_status(org, UserStatus::LockedOut).await.unwrap_or(0);
    let tasks = state.store.list_jobs(org, "FAILED", 1000).await.map(|t| t.len()).unwrap_or(0);
    let running = state.store.work_in_progress(org).await.map(|w| w.len()).unwrap_or(0);
    let mut warnings: Vec<String> = state
        .store
        .list_tokens(org)
        .await
        .unwrap_or_default()
        .iter()
        .filter_map(|t| super::security::token_warning(&admin.org().settings, t, now).map(|w| format!("API token \"{}\" is {w}.", t.name)))
        .collect();
    warnings.extend(super::app_tabs::certificate_warnings(&state, admin.org()).await);
    warnings.extend(super::idps::certificate_warnings(&state, admin.org()).await);
    if locked > 0 {
        warnings.push(format!("{locked} locked-out account(s) need an administrator to unlock them."));
    }
    let q = LogQuery {
        since: now - 7 * 24 * 3600 * 1000,
        until: None,
        filter: None,
        q: vec![],
        limit: 15,
        after: None,
        descending: true,
        always_next: false,
    };
    let events = state.store.list_events(org, &q).await.map(|p| p.items).unwrap_or_default();
    render(
        &admin,
        "dashboard.html",
        "dashboard",
        "Dashboard",
        json!({ "counts": { "users": users, "active": active, "locked": locked, "tasks": tasks, "running": running }, "warnings": warnings, "events": events, "notice": notice(&params) }),
        StatusCode::OK,
    )
}

/// `GET /admin/reports/system-log`
pub async fn system_log(State(state): State<AppState>, admin: Admin, params: Params) -> Response {
    let now = state.now();
    let text = |k: &str| params.get(k).unwrap_or_default().trim().to_string();
    let (since_t, until_t, filter_t, q_t) = (text("since"), text("until"), text("filter"), text("q"));
    let mut error: Option<Value> = None;
    let since = if since_t.is_empty() { Some(now - 7 * 24 * 3600 * 1000) } else { parse_timestamp(&since_t) };
    let until = if until_t.is_empty() { Some(None) } else { parse_timestamp(&until_t).map(Some) };
    let filter = if filter_t.is_empty() {
        Ok(None)
    } else {
        filter::parse(&filter_t).and_then(|e| filter::validate(&e, Context::LogFilter).map(|_| Some(e)))
    };
    let events = match (since, until, filter) {
        (Some(since), Some(until), Ok(filter)) => {
            let q = LogQuery {
                since,
                until,
                filter,
                q: q_t.split_whitespace().take(10).map(str::to_string).collect(),
                limit: 100,
                after: params.get("after").filter(|a| !a.is_empty()).map(str::to_string),
                descending: true,
                always_next: false,
            };
            match state.store.list_events(&admin.org().id, &q).await {
                Ok(p) => {
                    let next = p.next.map(|n| {
                        format!(
                            "/admin/reports/system-log?after={n}&since={}&until={}&filter={}&q={}",
                            enc(&since_t),
                            enc(&until_t),
                            enc(&filter_t),
                            enc(&q_t)
                        )
                    });
                    (p.items, next)
                }
                Err(e) => {
                    error = Some(json!({ "summary": "The search could not run.", "causes": [e.to_string()] }));
                    (vec![], None)
                }
            }
        }
        (None, _, _) | (_, None, _) => {
            error = Some(json!({ "summary": "Dates must look like 2026-01-31T00:00:00Z.", "causes": [] }));
            (vec![], None)
        }
        (_, _, Err(e)) => {
            error = Some(json!({ "summary": "The filter is not valid.", "causes": [e.to_string()] }));
            (vec![], None)
        }
    };
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    render(
        &admin,
        "system_log.html",
        "syslog",
        "System Log",
        json!({ "checks": checks_of(&events.0), "events": events.0, "next": events.1, "since": since_t, "until": until_t, "filter": filter_t, "q": q_t, "error": error }),
        status,
    )
}

/// Which check an inbound SAML refusal (`user.authentication.auth_via_IDP` FAILURE) failed,
/// and what an administrator can do about it, by the event's `outcome.reason`.
pub fn failed_check(reason: &str) -> (&'static str, &'static str) {
    match reason {
        "issuer_mismatch" => ("Issuer", "The Issuer in the Response is not the IdP Issuer URI configured on the identity provider."),
        "no_trusted_certificate" | "signature_invalid" | "signature_reference_invalid" | "unsigned" | "algorithm_not_allowed" => (
            "Certificate / signature",
            "The Response was not signed as required by the IdP Signature Certificate and the Response Signature settings: upload the IdP's current certificate.",
        ),
        "audience_mismatch" => ("Audience", "The assertion's Audience is not this identity provider's Audience URI: copy it into the IdP's app again."),
        "destination_mismatch" | "recipient_mismatch" => (
            "Destination / recipient",
            "The Response was sent for another Assertion Consumer Service URL: copy the ACS URL into the IdP's app again.",
        ),
        "expired" | "not_yet_valid" => ("Time", "The assertion is outside its validity window: check both clocks or raise Max Clock Skew."),
        "replay" => ("Replay", "This assertion had already been used."),
        "in_response_to_mismatch" | "idp_initiated_not_allowed" => ("Request", "The Response does not answer a sign-in request this org sent."),
        "status_not_success" => ("IdP status", "The identity provider itself reported a failure."),
        "no_match" | "link_disabled" | "link_restricted" | "username_filtered" => (
            "User match",
            "No user could be matched or linked: check IdP username, Filter, Match against, Account Link Policy and If no match is found.",
        ),
        "user_deactivated" | "user_suspended" | "user_locked" | "user_inactive" => {
            ("User status", "The matched user cannot sign in in their current status: see Reactivation Settings.")
        }
        "idp_inactive" | "unknown_idp" | "factor_only" => ("Identity provider", "The identity provider is inactive, unknown or set to Factor only."),
        _ => ("Message", "The SAML message could not be read or was refused before any other check."),
    }
}

/// The failed check of each `auth_via_IDP` failure, keyed by event uuid.
fn checks_of(events: &[Value]) -> serde_json::Map<String, Value> {
    events
        .iter()
        .filter(|e| e["eventType"] == "user.authentication.auth_via_IDP" && e["outcome"]["result"] == "FAILURE")
        .filter_map(|e| {
            let reason = e["outcome"]["reason"].as_str()?;
            let (check, advice) = failed_check(reason);
            Some((e["uuid"].as_str()?.to_string(), json!({ "check": check, "advice": advice })))
        })
        .collect()
}

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// What a job kind does, as the Tasks page says it, and the app tab that shows it.
fn work_of(kind: &str) -> (&'static str, &'static str) {
    match kind {
        idhub_core::import::KIND => ("Import from the hub", "import"),
        idhub_core::group_push::KIND => ("Push Groups", "push-groups"),
        _ => ("Provisioning to App", "provisioning"),
    }
}

/// `GET /admin/tasks`: imports and pushes under way, and failed provisioning (Tasks)
/// with what the hub answered, to retry or dismiss.
pub async fn tasks(State(state): State<AppState>, admin: Admin, params: Params) -> Response {
    let org = &admin.org().id;
    let query = AppQuery { q: None, status: None, name: None, after_seq: 0, limit: 500 };
    let labels: HashMap<String, String> =
        state.store.list_apps(org, &query).await.unwrap_or_default().into_iter().map(|a| (a.id, a.label)).collect();
    let label = |id: &str| labels.get(id).cloned().unwrap_or_else(|| id.to_string());
    let running: Vec<Value> = state
        .store
        .work_in_progress(org)
        .await
        .unwrap_or_default()
        .iter()
        .map(|w| {
            let app_id = w.batch.split(':').next().unwrap_or_default();
            let (work, tab) = work_of(&w.kind);
            let p = &w.progress;
            json!({ "app_id": app_id, "app": label(app_id), "kind_id": tab, "work": work, "tab": tab, "since": format_millis(w.since),
                    "pending": p.pending, "running": p.running, "done": p.done, "failed": p.failed })
        })
        .collect();
    let failed = state.store.list_jobs(org, "FAILED", 500).await.unwrap_or_default();
    // The people the Tasks are about, by login (each looked up once).
    let mut logins: HashMap<String, String> = HashMap::new();
    for id in failed.iter().filter_map(|j| j.payload.get("userId").and_then(Value::as_str)) {
        if !logins.contains_key(id) {
            if let Ok(u) = state.store.get_user(org, id).await {
                logins.insert(id.to_string(), u.user.login().to_string());
            }
        }
    }
    let tasks: Vec<Value> = failed
        .iter()
        .map(|j| {
            let app_id = j.payload.get("appId").and_then(Value::as_str);
            let user_id = j.payload.get("userId").and_then(Value::as_str);
            json!({ "id": j.id, "created": format_millis(j.created), "kind": j.kind, "work": work_of(&j.kind).0, "attempts": j.attempts,
                    "error": j.last_error, "app_id": app_id, "app": app_id.map(label), "user_id": user_id,
                    "user": user_id.map(|u| logins.get(u).cloned().unwrap_or_else(|| u.to_string())) })
        })
        .collect();
    render(&admin, "tasks.html", "tasks", "Tasks", json!({ "running": running, "tasks": tasks, "notice": notice(&params) }), StatusCode::OK)
}

/// `POST /admin/tasks/{id}/{retry|dismiss}`
pub async fn task_action(
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    WriteForm { admin, form: _ }: WriteForm,
) -> Response {
    let Some(action) = idhub_core::tasks::TaskAction::parse(&action) else {
        return super::page_error(&admin, StatusCode::NOT_FOUND, "Not found", "No such action.");
    };
    match idhub_core::tasks::resolve(&state.core, admin.org(), &admin.actor(), &id, action).await {
        Ok(_) if action == idhub_core::tasks::TaskAction::Retry => done("/admin/tasks", "Task queued again."),
        Ok(_) => done("/admin/tasks", "Task dismissed."),
        Err(idhub_core::CoreError::NotFound(_)) => {
            super::page_error(&admin, StatusCode::NOT_FOUND, "Not found", "There is no such open task.")
        }
        Err(e) => super::failure_page(&admin, e),
    }
}
