//! Directory > People: list and search, add a person, view and edit a profile, every
//! lifecycle action (with confirmation), reset MFA, and the administrator role.

use super::{done, error_context, field, notice, render, Admin, WriteForm};
use crate::api::extract::Params;
use crate::api::users::user_json;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use idhub_core::directory::{self, NewUser, UserUpdate};
use idhub_core::permissions::{OrgAction, UserAction};
use idhub_domain::event::NewEvent;
use idhub_domain::ids::GroupId;
use idhub_domain::lifecycle::{LifecycleOp, UserStatus};
use idhub_domain::schema::{AttrType, UserSchema};
use idhub_domain::user::{AdminRole, User};
use idhub_store::groups::GroupSelect;
use idhub_store::rows::StoredUser;
use idhub_store::users::{UserQuery, UserSelect};
use idhub_store::StoreError;
use serde_json::{json, Map, Value};

const EDITABLE: [(&str, &str); 8] = [
    ("firstName", "First name"),
    ("lastName", "Last name"),
    ("login", "Username"),
    ("email", "Primary email"),
    ("secondEmail", "Secondary email"),
    ("title", "Title"),
    ("department", "Department"),
    ("mobilePhone", "Mobile phone"),
];

fn fields(schema: &UserSchema, profile: &Map<String, Value>, errors: &Map<String, Value>) -> Vec<Value> {
    let mut out: Vec<Value> = EDITABLE
        .iter()
        .map(|(name, label)| {
            let required = schema.attribute(name).map(|a| a.required).unwrap_or(false);
            json!({ "name": name, "label": label, "value": profile.get(*name).and_then(Value::as_str).unwrap_or_default(), "required": required, "error": errors.get(*name), "type": if name.contains("mail") { "email" } else { "text" } })
        })
        .collect();
    for a in &schema.custom {
        let value = match profile.get(&a.name) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(v) => v.to_string(),
        };
        out.push(json!({ "name": a.name, "label": a.title, "value": value, "required": a.required, "error": errors.get(&a.name) }));
    }
    out
}

/// Read the profile fields of a form (typed by the schema). Empty optional fields unset.
fn profile_from_form(schema: &UserSchema, form: &[(String, String)]) -> Map<String, Value> {
    let mut p = Map::new();
    let names = EDITABLE.iter().map(|(n, _)| n.to_string()).chain(schema.custom.iter().map(|a| a.name.clone()));
    for name in names {
        let Some(raw) = field(form, &name) else {
            continue;
        };
        let raw = raw.trim();
        let kind = schema.attribute(&name).map(|a| a.kind).unwrap_or(AttrType::String);
        let value = if raw.is_empty() {
            Value::Null
        } else {
            match kind {
                AttrType::Integer => raw.parse::<i64>().map(Value::from).unwrap_or(Value::String(raw.into())),
                AttrType::Number => raw.parse::<f64>().map(Value::from).unwrap_or(Value::String(raw.into())),
                AttrType::Boolean => match raw {
                    "true" | "yes" | "on" => Value::Bool(true),
                    "false" | "no" | "off" => Value::Bool(false),
                    other => Value::String(other.into()),
                },
                AttrType::Array => Value::Array(raw.split(',').map(|s| Value::String(s.trim().into())).collect()),
                AttrType::String => Value::String(raw.into()),
            }
        };
        p.insert(name, value);
    }
    p
}

/// `GET /admin/users`
pub async fn list(State(state): State<AppState>, admin: Admin, params: Params) -> Response {
    let q = params.get("q").unwrap_or_default().trim().to_string();
    let select = if q.is_empty() { UserSelect::All } else { UserSelect::Q(q.clone()) };
    let query = UserQuery { select, limit: 50, after: params.get("after").filter(|a| !a.is_empty()).map(str::to_string) };
    let page = match state.store.list_users(&admin.org().id, &query).await {
        Ok(p) => p,
        Err(e) => return super::page_error(&admin, StatusCode::BAD_REQUEST, "Cannot list people", &e.to_string()),
    };
    let users: Vec<Value> = page.items.iter().map(|u| user_json(&admin.org().base_url, &u.user)).collect();
    render(
        &admin,
        "people.html",
        "people",
        "People",
        json!({ "users": users, "q": q, "next": page.next, "notice": notice(&params) }),
        StatusCode::OK,
    )
}

async fn group_options(state: &AppState, admin: &Admin) -> Vec<Value> {
    match state.store.list_groups(&admin.org().id, &GroupSelect::All, 500, None).await {
        Ok(p) => p
            .items
            .iter()
            .filter(|g| g.group.kind == idhub_domain::group::GroupType::OktaGroup)
            .map(|g| json!({ "id": g.group.id, "name": g.group.name }))
            .collect(),
        Err(_) => vec![],
    }
}

/// `GET /admin/users/new`
pub async fn new_form(State(state): State<AppState>, admin: Admin) -> Response {
    if let Err(r) = admin.require(OrgAction::ManageDirectory) {
        return r;
    }
    let schema = state.store.user_schema(&admin.org().id).await.unwrap_or_else(|_| UserSchema::with_custom(vec![]));
    let groups = group_options(&state, &admin).await;
    render(
        &admin,
        "person_new.html",
        "people",
        "Add person",
        json!({ "fields": fields(&schema, &Map::new(), &Map::new()), "groups": groups }),
        StatusCode::OK,
    )
}

/// `POST /admin/users/new`
pub async fn create(State(state): State<AppState>, WriteForm { admin, form }: WriteForm) -> Response {
    if let Err(r) = admin.require(OrgAction::ManageDirectory) {
        return r;
    }
    let schema = state.store.user_schema(&admin.org().id).await.unwrap_or_else(|_| UserSchema::with_custom(vec![]));
    let profile = profile_from_form(&schema, &form);
    let set_password = field(&form, "password_mode") != Some("none");
    let password = field(&form, "password").filter(|p| set_password && !p.is_empty()).map(str::to_string);
    let input = NewUser {
        profile: profile.clone(),
        password,
        group_ids: form.iter().filter(|(k, _)| k == "group").map(|(_, v)| GroupId(v.clone())).collect(),
        activate: field(&form, "activate") == Some("on"),
        expire_password: field(&form, "expire") == Some("on"),
        ..Default::default()
    };
    match directory::create_user(&state.core, admin.org(), &admin.actor(), input).await.map_err(crate::error::ApiError::from) {
        Ok(u) => done(&format!("/admin/user/{}", u.user.id), "Person added."),
        Err(e) => {
            let (err, field_errors) = error_context(&e);
            let groups = group_options(&state, &admin).await;
            render(
                &admin,
                "person_new.html",
                "people",
                "Add person",
                json!({ "fields": fields(&schema, &profile, &field_errors), "groups": groups, "error": err }),
                e.status,
            )
        }
    }
}

struct Action {
    op: &'static str,
    label: &'static str,
    confirm: &'static str,
    danger: bool,
}

fn actions(u: &User) -> Vec<Action> {
    let a = |op, label, confirm, danger| Action { op, label, confirm, danger };
    let reset = a("reset_password", "Reset password", "The current password stops working; a one-time reset link is shown once.", false);
    let expire = a("expire_password", "Expire password", "The person must choose a new password at the next sign-in.", false);
    let mut v = match u.status {
        UserStatus::Staged => vec![a("activate", "Activate", "Activate this person's account?", false)],
        UserStatus::Provisioned => vec![a("reactivate", "Reactivate", "Send a new activation to this person?", false)],
        UserStatus::Active => {
            vec![reset, expire, a("suspend", "Suspend", "The person cannot sign in until unsuspended; their data is kept.", true)]
        }
        UserStatus::LockedOut => vec![a("unlock", "Unlock", "Let this person sign in again?", false), reset],
        UserStatus::Suspended => vec![a("unsuspend", "Unsuspend", "Let this person sign in again?", false)],
        UserStatus::Recovery | UserStatus::PasswordExpired => vec![reset],
        UserStatus::Deprovisioned => vec![
            a("activate", "Activate", "Activate this person's account again?", false),
            a("delete", "Delete", "Delete this person permanently? This cannot be undone.", true),
        ],
    };
    // A federated person's password lives at their identity provider.
    if u.provider.is_federated() {
        v.retain(|x| !x.op.ends_with("_password"));
    }
    if u.status != UserStatus::Deprovisioned {
        v.push(a("deactivate", "Deactivate", "The person loses access to every app and their sessions end.", true));
    }
    v
}

async fn view_page(state: &AppState, admin: &Admin, id: &str, status: StatusCode, extra: Value) -> Response {
    let u = match directory::load_user(&state.core, admin.org(), id).await.map_err(crate::error::ApiError::from) {
        Ok(u) => u,
        Err(_) => return super::page_error(admin, StatusCode::NOT_FOUND, "Not found", "There is no such person in this organization."),
    };
    let schema = state.store.user_schema(&admin.org().id).await.unwrap_or_else(|_| UserSchema::with_custom(vec![]));
    let groups = state.store.user_groups(&admin.org().id, &u.user.id).await.unwrap_or_default();
    let factors = state.store.list_factors(&admin.org().id, &u.user.id).await.unwrap_or_default();
    let field_errors = extra.get("field_errors").and_then(Value::as_object).cloned().unwrap_or_default();
    let profile = extra.get("profile").and_then(Value::as_object).cloned().unwrap_or_else(|| u.user.profile.clone());
    let held = u.user.admin_role.map(AdminRole::as_str).unwrap_or("");
    let roles: Vec<Value> = std::iter::once(("", "None"))
        .chain(AdminRole::ALL.iter().map(|r| (r.as_str(), r.label())))
        .map(|(v, l)| json!({ "value": v, "label": l, "selected": held == v }))
        .collect();
    let mut ctx = json!({
        "user": user_json(&admin.org().base_url, &u.user),
        "fields": fields(&schema, &profile, &field_errors),
        "actions": actions(&u.user).iter().map(|a| json!({ "op": a.op, "label": a.label, "confirm": a.confirm, "danger": a.danger })).collect::<Vec<_>>(),
        "groups": groups.iter().map(|g| crate::api::groups::group_json(&admin.org().base_url, &g.group)).collect::<Vec<_>>(),
        "factors": factors.iter().map(|f| json!({ "factor_type": f.factor_type, "status": f.status })).collect::<Vec<_>>(),
        "roles": roles,
        "may_profile": admin.may(UserAction::EditProfile, u.user.admin_role),
        "may_lifecycle": admin.may(UserAction::Lifecycle, u.user.admin_role),
        "may_factors": admin.may(UserAction::Factors, u.user.admin_role),
        "may_role": admin.may(UserAction::RevokeRole, u.user.admin_role),
    });
    if let (Some(obj), Some(extra)) = (ctx.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            obj.insert(k.clone(), v.clone());
        }
    }
    let title = u.user.display_name();
    render(admin, "person.html", "people", &title, ctx, status)
}

/// The person `id`, once the permission table allows `action` on them (else the page
/// that says why, or that there is no such person).
async fn target(state: &AppState, admin: &Admin, id: &str, action: UserAction) -> Result<StoredUser, Response> {
    let u = match state.store.get_user(&admin.org().id, id).await {
        Ok(u) => u,
        Err(StoreError::NotFound) => {
            return Err(super::page_error(admin, StatusCode::NOT_FOUND, "Not found", "There is no such person in this organization."))
        }
        Err(e) => {
            let e = crate::error::ApiError::from(e);
            tracing::error!(cause = ?e.internal, "console: reading a person failed");
            return Err(super::page_error(admin, e.status, "Failed", &e.summary));
        }
    };
    admin.require_user(action, u.user.admin_role)?;
    Ok(u)
}

/// `GET /admin/user/{id}`
pub async fn view(State(state): State<AppState>, admin: Admin, params: Params, Path(id): Path<String>) -> Response {
    view_page(&state, &admin, &id, StatusCode::OK, json!({ "notice": notice(&params) })).await
}

/// `POST /admin/user/{id}/profile`
pub async fn save_profile(State(state): State<AppState>, Path(id): Path<String>, WriteForm { admin, form }: WriteForm) -> Response {
    if let Err(r) = target(&state, &admin, &id, UserAction::EditProfile).await {
        return r;
    }
    let schema = state.store.user_schema(&admin.org().id).await.unwrap_or_else(|_| UserSchema::with_custom(vec![]));
    let profile = profile_from_form(&schema, &form);
    match directory::update_user(
        &state.core,
        admin.org(),
        &admin.actor(),
        &id,
        UserUpdate { profile: Some(profile.clone()), ..Default::default() },
    )
    .await
    .map_err(crate::error::ApiError::from)
    {
        Ok(_) => done(&format!("/admin/user/{id}"), "Profile saved."),
        Err(e) => {
            let (err, field_errors) = error_context(&e);
            view_page(&state, &admin, &id, e.status, json!({ "error": err, "field_errors": field_errors, "profile": profile })).await
        }
    }
}

/// `POST /admin/user/{id}/lifecycle/{op}`
pub async fn lifecycle(
    State(state): State<AppState>,
    Path((id, op)): Path<(String, String)>,
    WriteForm { admin, form: _ }: WriteForm,
) -> Response {
    let action = match LifecycleOp::parse(&op) {
        Some(LifecycleOp::ResetPassword | LifecycleOp::ExpirePassword) => UserAction::ResetPassword,
        Some(LifecycleOp::Unlock) => UserAction::Unlock,
        _ => UserAction::Lifecycle,
    };
    if let Err(r) = target(&state, &admin, &id, action).await {
        return r;
    }
    if op == "delete" {
        return match directory::delete_user(&state.core, admin.org(), &admin.actor(), &id).await.map_err(crate::error::ApiError::from) {
            Ok(()) => done("/admin/users", "Person deleted."),
            Err(e) => view_page(&state, &admin, &id, e.status, json!({ "error": error_context(&e).0 })).await,
        };
    }
    let Some(op) = LifecycleOp::parse(&op) else {
        return super::page_error(&admin, StatusCode::NOT_FOUND, "Not found", "No such action.");
    };
    match directory::apply_lifecycle(&state.core, admin.org(), &admin.actor(), &id, op).await.map_err(crate::error::ApiError::from) {
        Ok(_) if op == LifecycleOp::ResetPassword => {
            let link = format!("{}/reset_password/{}", admin.org().base_url, idhub_domain::ids::random_base62(20));
            view_page(&state, &admin, &id, StatusCode::OK, json!({ "notice": "Password reset.", "reset_link": link })).await
        }
        Ok(_) => done(&format!("/admin/user/{id}"), "Done."),
        Err(e) => view_page(&state, &admin, &id, e.status, json!({ "error": error_context(&e).0 })).await,
    }
}

/// `POST /admin/user/{id}/reset-factors`
pub async fn reset_factors(State(state): State<AppState>, Path(id): Path<String>, WriteForm { admin, form: _ }: WriteForm) -> Response {
    let u = match target(&state, &admin, &id, UserAction::Factors).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let actor = admin.actor();
    let ev = NewEvent::success(
        "user.mfa.factor.reset_all",
        "Reset all factors for user",
        actor.party,
        vec![directory::user_party(&u.user)],
        actor.client,
    );
    match directory::reset_factors(&state.core, admin.org(), &u.user, None, ev, None).await.map_err(crate::error::ApiError::from) {
        Ok(_) => done(&format!("/admin/user/{id}"), "Multifactor reset."),
        Err(e) => super::page_error(&admin, StatusCode::INTERNAL_SERVER_ERROR, "Failed", &e.summary),
    }
}

/// `POST /admin/user/{id}/role` (super administrators only)
pub async fn set_role(State(state): State<AppState>, Path(id): Path<String>, WriteForm { admin, form }: WriteForm) -> Response {
    if let Err(r) = admin.require(OrgAction::ManageRoles) {
        return r;
    }
    let role = match field(&form, "role").unwrap_or_default() {
        "" => None,
        r => match AdminRole::parse(r) {
            Some(r) => Some(r),
            None => return super::page_error(&admin, StatusCode::BAD_REQUEST, "Invalid role", "Choose one of the listed roles."),
        },
    };
    let action = role.map(UserAction::GrantRole).unwrap_or(UserAction::RevokeRole);
    if let Err(r) = target(&state, &admin, &id, action).await {
        return r;
    }
    match idhub_core::roles::set_role(&state.core, admin.org(), &admin.actor(), &id, role).await {
        Ok(_) => done(&format!("/admin/user/{id}"), "Role saved."),
        Err(e) if e.is_internal() => super::failure_page(&admin, e),
        Err(e) => {
            let e = crate::error::ApiError::from(e);
            view_page(&state, &admin, &id, e.status, json!({ "error": error_context(&e).0 })).await
        }
    }
}
