//! Security > API (tokens: created and shown once, revoked) and Security >
//! Authenticators (the sign-on policy: MFA, lockout, session lifetimes).

use super::{done, error_context, field, notice, render, Admin, WriteForm};
use crate::api::extract::Params;
use crate::error::ApiError;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use idhub_core::permissions::{OrgAction, UserAction};
use idhub_domain::event::Party;
use idhub_domain::policy::{MfaRequirement, SignOnPolicy};
use idhub_domain::time::{format_millis, Millis};
use idhub_store::groups::GroupSelect;
use idhub_store::tokens::ApiToken;
use serde_json::{json, Value};

const DAY_MS: Millis = 24 * 3600 * 1000;

/// The org's API token rotation period in days (the seeds' "Rotate API tokens regularly").
pub fn rotation_days(org_settings: &Value) -> i64 {
    org_settings.get("tokenRotationDays").and_then(Value::as_i64).unwrap_or(90)
}

/// Tokens unused for 30 days, or older than the org's rotation period, deserve a look.
pub fn token_warning(org_settings: &Value, t: &ApiToken, now: Millis) -> Option<String> {
    let rotation_days = rotation_days(org_settings);
    if now - t.created > rotation_days * DAY_MS {
        return Some(format!("older than the {rotation_days}-day rotation period: rotate it"));
    }
    let last = t.last_used.unwrap_or(t.created);
    (now - last > 30 * DAY_MS).then(|| "unused for 30 days: revoke it if nothing needs it".to_string())
}

async fn tokens_page(state: &AppState, admin: &Admin, extra: Value, status: StatusCode) -> Response {
    let now = state.now();
    let tokens: Vec<Value> = state
        .store
        .list_tokens(&admin.org().id)
        .await
        .unwrap_or_default()
        .iter()
        .map(|t| {
            json!({
                "id": t.id, "name": t.name, "window": t.token_window, "role": t.role.as_str(),
                "created": format_millis(t.created), "last_used": t.last_used.map(format_millis),
                "warning": token_warning(&admin.org().settings, t, now),
            })
        })
        .collect();
    let mut ctx = json!({ "tokens": tokens, "rotation_days": rotation_days(&admin.org().settings) });
    if let (Some(o), Some(e)) = (ctx.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    render(admin, "tokens.html", "api", "API Tokens", ctx, status)
}

/// `GET /admin/access/api/tokens`
pub async fn tokens(State(state): State<AppState>, admin: Admin, params: Params) -> Response {
    tokens_page(&state, &admin, json!({ "notice": notice(&params) }), StatusCode::OK).await
}

/// `POST /admin/access/api/tokens/rotation`: the rotation period after which the
/// dashboard and this page flag a token (1 to 3650 days).
pub async fn save_rotation(State(state): State<AppState>, WriteForm { admin, form }: WriteForm) -> Response {
    if let Err(r) = admin.require(OrgAction::ManageSecurity) {
        return r;
    }
    let days = match field(&form, "rotationDays").map(str::trim).and_then(|d| d.parse::<i64>().ok()) {
        Some(d) if (1..=3650).contains(&d) => d,
        _ => {
            let extra = json!({ "rotation_error": "Enter a whole number of days from 1 to 3650." });
            return tokens_page(&state, &admin, extra, StatusCode::BAD_REQUEST).await;
        }
    };
    let org = admin.org();
    let target = Party::new(org.id.as_str(), "Org", &org.name, &org.name);
    let change = super::OrgSetting {
        key: "tokenRotationDays",
        value: json!(days),
        event: ("system.org.update", "Update API token rotation period"),
        target,
    };
    super::save_org_setting(&state, &admin, change, "/admin/access/api/tokens", "Rotation period saved.").await
}

/// `POST /admin/access/api/tokens`: the new token is in this response only.
pub async fn create_token(State(state): State<AppState>, WriteForm { admin, form }: WriteForm) -> Response {
    if let Err(r) = admin.require(OrgAction::ManageTokens) {
        return r;
    }
    let name = field(&form, "name").unwrap_or_default();
    if let Err(e) = idhub_core::tokens::check_name(name) {
        let message = e.causes().first().and_then(|c| c.split_once(": ")).map(|(_, m)| m.to_string()).unwrap_or_default();
        return tokens_page(&state, &admin, json!({ "form_error": message }), StatusCode::BAD_REQUEST).await;
    }
    let owner = admin.signed_in.user.clone();
    match idhub_core::tokens::create_token(&state.core, admin.org(), &admin.actor(), name, Some(&owner), admin.role).await {
        Ok((_, secret)) => tokens_page(&state, &admin, json!({ "new_token": secret, "notice": "Token created." }), StatusCode::OK).await,
        Err(e) => super::failure_page(&admin, e),
    }
}

/// `POST /admin/access/api/tokens/{id}/revoke`
pub async fn revoke_token(State(state): State<AppState>, Path(id): Path<String>, WriteForm { admin, form: _ }: WriteForm) -> Response {
    let t = match idhub_core::tokens::load_token(&state.core, admin.org(), &id).await {
        Ok(t) => t,
        Err(e) => return super::failure_page(&admin, e),
    };
    let owner_role = match idhub_core::tokens::owner_role(&state.core, &t).await {
        Ok(r) => r,
        Err(e) => return super::failure_page(&admin, e),
    };
    if let Err(r) = admin.require_user(UserAction::RevokeToken, owner_role) {
        return r;
    }
    match idhub_core::tokens::revoke_token(&state.core, admin.org(), &admin.actor(), &t).await {
        Ok(()) => done("/admin/access/api/tokens", "Token revoked."),
        Err(e) => super::failure_page(&admin, e),
    }
}

async fn authenticators_page(state: &AppState, admin: &Admin, policy: &SignOnPolicy, extra: Value, status: StatusCode) -> Response {
    let groups: Vec<Value> = match state.store.list_groups(&admin.org().id, &GroupSelect::All, 500, None).await {
        Ok(p) => p.items.iter().map(|g| json!({ "id": g.group.id, "name": g.group.name })).collect(),
        Err(_) => vec![],
    };
    let mut ctx = json!({ "policy": policy, "groups": groups, "field_errors": {} });
    if let (Some(o), Some(e)) = (ctx.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    render(admin, "authenticators.html", "authenticators", "Authenticators", ctx, status)
}

/// `GET /admin/access/authenticators`
pub async fn authenticators(State(state): State<AppState>, admin: Admin, params: Params) -> Response {
    let policy = SignOnPolicy::from_settings(&admin.org().settings);
    authenticators_page(&state, &admin, &policy, json!({ "notice": notice(&params) }), StatusCode::OK).await
}

/// `POST /admin/access/authenticators`
pub async fn save_authenticators(State(state): State<AppState>, WriteForm { admin, form }: WriteForm) -> Response {
    if let Err(r) = admin.require(OrgAction::ManageSecurity) {
        return r;
    }
    let num = |k: &str, d: i64| field(&form, k).and_then(|v| v.trim().parse::<i64>().ok()).unwrap_or(d);
    let defaults = SignOnPolicy::default();
    let policy = SignOnPolicy {
        max_attempts: num("maxAttempts", defaults.max_attempts),
        session_idle_minutes: num("sessionIdleMinutes", defaults.session_idle_minutes),
        session_lifetime_minutes: num("sessionLifetimeMinutes", defaults.session_lifetime_minutes),
        mfa: match field(&form, "mfa") {
            Some("ALWAYS") => MfaRequirement::Always,
            Some("GROUP") => MfaRequirement::Group,
            _ => MfaRequirement::Off,
        },
        mfa_group_id: field(&form, "mfaGroupId").filter(|g| !g.is_empty()).map(str::to_string),
    };
    match idhub_core::org_settings::save_sign_on_policy(&state.core, admin.org(), &admin.actor(), &policy).await {
        Ok(()) => {
            state.orgs.invalidate(&admin.org().host);
            done("/admin/access/authenticators", "Sign-on policy saved.")
        }
        Err(e) if e.is_internal() => super::failure_page(&admin, e),
        Err(e) => {
            let e = ApiError::from(e);
            let (err, fields) = error_context(&e);
            authenticators_page(&state, &admin, &policy, json!({ "error": err, "field_errors": fields }), StatusCode::BAD_REQUEST).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use idhub_domain::ids::{OrgId, TokenId};
    use idhub_domain::user::AdminRole;

    #[test]
    fn tokens_are_flagged_past_the_rotation_period_or_when_unused() {
        let t = |created: Millis, last_used: Option<Millis>| ApiToken {
            id: TokenId("00T1".into()),
            org_id: OrgId("org".into()),
            name: "n".into(),
            token_window: "00ab".into(),
            user_id: None,
            role: AdminRole::SuperAdmin,
            created,
            last_used,
            expires: None,
        };
        let now = 400 * DAY_MS;
        let default = json!({});
        let short = json!({ "tokenRotationDays": 10 });
        assert_eq!(token_warning(&default, &t(now - 5 * DAY_MS, Some(now)), now), None);
        assert!(token_warning(&short, &t(now - 11 * DAY_MS, Some(now)), now).unwrap().contains("10-day rotation period"));
        assert!(token_warning(&default, &t(now - 91 * DAY_MS, Some(now)), now).unwrap().contains("90-day"));
        assert!(token_warning(&default, &t(now - 40 * DAY_MS, Some(now - 31 * DAY_MS)), now).unwrap().contains("unused for 30 days"));
    }
}
