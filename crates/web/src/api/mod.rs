//! The Okta-compatible management API (`/api/v1`): authentication by `SSWS` token,
//! rate limits, Okta's JSON errors for every failure, and one module per resource.

pub mod applications;
pub mod authn;
pub mod extract;
pub mod factors;
pub mod group_push;
pub mod groups;
pub mod import;
pub mod integration;
pub mod logs;
pub mod org;
pub mod paging;
pub mod roles;
pub mod schemas;
pub mod tasks;
pub mod tokens;
pub mod users;

use crate::error::ApiError;
use crate::org::CurrentOrg;
use crate::AppState;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;

/// The `/api/v1` router.
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/users", get(users::users_list).post(users::users_create))
        .route("/users/{id}", get(users::users_get).post(users::users_update_partial).put(users::users_replace).delete(users::users_delete))
        .route("/users/{id}/lifecycle/{op}", post(users::users_lifecycle))
        .route("/users/{id}/groups", get(users::users_groups))
        .route("/users/{id}/lifecycle/reset_factors", post(factors::factors_reset))
        .route("/users/{id}/factors", get(factors::factors_list))
        .route("/users/{id}/roles", get(roles::roles_list).post(roles::roles_assign))
        .route("/users/{id}/roles/{role}", axum::routing::delete(roles::roles_unassign))
        .route("/users/{id}/roles/{role}/targets/groups", get(roles::group_targets_list))
        .route("/users/{id}/roles/{role}/targets/groups/{group}", put(roles::group_target_put).delete(roles::group_target_delete))
        .route("/users/{id}/roles/{role}/targets/catalog/apps", get(roles::app_targets_list))
        .route("/users/{id}/roles/{role}/targets/catalog/apps/{name}/{app}", put(roles::app_target_put).delete(roles::app_target_delete))
        .route("/users/{id}/factors/{factor}", axum::routing::delete(factors::factors_delete))
        .route("/idhub/policies/sign-on", get(factors::sign_on_policy_get).put(factors::sign_on_policy_put))
        .route("/apps", get(applications::apps_list).post(applications::apps_create))
        .route("/apps/{id}", get(applications::apps_get).put(applications::apps_update).delete(applications::apps_delete))
        .route("/apps/{id}/lifecycle/{op}", post(applications::apps_lifecycle))
        .route("/apps/{id}/users", get(applications::apps_users_list).post(applications::apps_user_assign))
        .route(
            "/apps/{id}/users/{uid}",
            get(applications::apps_user_get).post(applications::apps_user_assign).delete(applications::apps_user_unassign),
        )
        .route("/apps/{id}/groups", get(applications::apps_groups_list))
        .route(
            "/apps/{id}/groups/{gid}",
            get(applications::apps_group_get).put(applications::apps_group_assign).delete(applications::apps_group_unassign),
        )
        .route("/apps/{id}/connections/default", get(integration::connection_get).post(integration::connection_save))
        .route("/apps/{id}/connections/default/lifecycle/{op}", post(integration::connection_lifecycle))
        .route("/apps/{id}/features", get(integration::features_get))
        .route("/apps/{id}/idhub/group-push", get(group_push::group_push_list).post(group_push::group_push_create))
        .route("/apps/{id}/idhub/import", get(import::import_get).post(import::import_post))
        .route("/apps/{id}/idhub/import/confirm", post(import::import_confirm))
        .route("/apps/{id}/idhub/group-push/rules", get(group_push::group_push_rules))
        .route("/apps/{id}/idhub/group-push/rules/{rule}", axum::routing::delete(group_push::group_push_rule_delete))
        .route("/apps/{id}/idhub/group-push/{mapping}", axum::routing::delete(group_push::group_push_delete))
        .route("/apps/{id}/features/{feature}", get(integration::features_get).put(integration::features_put))
        .route("/users/{id}/appLinks", get(applications::user_app_links))
        .route("/apps/{id}/idhub/provisioning/progress", get(tasks::provisioning_progress))
        .route("/idhub/tasks", get(tasks::tasks_list))
        .route("/idhub/tasks/{id}/lifecycle/{op}", post(tasks::tasks_lifecycle))
        .route("/groups", get(groups::groups_list).post(groups::groups_create))
        .route("/groups/{id}", get(groups::groups_get).put(groups::groups_update).delete(groups::groups_delete))
        .route("/groups/{id}/users", get(groups::groups_members))
        .route("/groups/{id}/users/{user}", put(groups::groups_member_add).delete(groups::groups_member_remove))
        .route("/meta/schemas/user/{schema}", get(schemas::schemas_get).post(schemas::schemas_update))
        .route("/api-tokens", get(tokens::tokens_list))
        .route("/api-tokens/{id}", get(tokens::tokens_get).delete(tokens::tokens_revoke))
        .route("/logs", get(logs::logs_list))
        .route("/org", get(org::org_get))
        .route("/health", get(org::api_health))
        .route("/authn", post(authn::authn))
        .route("/authn/cancel", post(authn::authn_cancel))
        .route("/authn/factors", post(authn::authn_factor_enroll))
        .route("/authn/factors/{factor}/verify", post(authn::authn_factor_verify))
        .route("/authn/factors/{factor}/lifecycle/activate", post(authn::authn_factor_verify))
        .route("/sessions/me", get(authn::sessions_me).delete(authn::sessions_me_delete))
        .merge(crate::sso::api_router())
        .merge(crate::idp::api_router())
        .fallback(api_not_found)
        .method_not_allowed_fallback(api_method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state, rate_limit))
}

async fn api_not_found(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!("{} ({method})", uri.path()))
}

async fn api_method_not_allowed(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "E0000022",
        format!("The endpoint does not support the provided HTTP method: {} {}", method, uri.path()),
    )
}

/// The token in an `Authorization: SSWS <token>` header (the space is optional, as the
/// okta SDK sends none).
pub fn ssws_token(value: &str) -> Option<&str> {
    let rest = value.strip_prefix("SSWS").or_else(|| value.strip_prefix("ssws"))?;
    let token = rest.trim_start();
    (!token.is_empty() && token.len() <= 256 && !token.contains(char::is_whitespace)).then_some(token)
}

/// Count the request against the org's and the token's limits; add Okta's headers.
async fn rate_limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let org = req.extensions().get::<CurrentOrg>().map(|o| o.0.id.0.clone()).unwrap_or_default();
    let token_key =
        req.headers().get("authorization").and_then(|v| v.to_str().ok()).and_then(ssws_token).map(idhub_store::tokens::token_hash);
    let decision = state.limiter.check(&org, token_key.as_deref(), state.now());
    let mut resp = if decision.allowed {
        next.run(req).await
    } else {
        let mut e =
            ApiError::new(axum::http::StatusCode::TOO_MANY_REQUESTS, "E0000047", "API call exceeded rate limit due to too many requests.");
        e.headers = decision.headers();
        e.into_response()
    };
    for (name, value) in decision.headers() {
        if let Ok(v) = HeaderValue::from_str(&value) {
            resp.headers_mut().insert(name, v);
        }
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssws_with_and_without_space() {
        assert_eq!(ssws_token("SSWS abc"), Some("abc"));
        assert_eq!(ssws_token("SSWSabc"), Some("abc"));
        assert_eq!(ssws_token("SSWS   abc"), Some("abc"));
        assert_eq!(ssws_token("Bearer abc"), None);
        assert_eq!(ssws_token("SSWS "), None);
        assert_eq!(ssws_token("SSWS a b"), None);
    }
}
