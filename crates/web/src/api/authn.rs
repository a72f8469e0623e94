//! Okta's authentication API for non-browser clients: `POST /api/v1/authn` trades a
//! username and password for a one-time `sessionToken`; `/api/v1/sessions/me` reads
//! or ends the browser session named by the cookie.

use super::extract::OktaJson;
use crate::error::ApiError;
use crate::org::CurrentOrg;
use crate::request::Client;
use crate::signin::auth::{password_login, AuthFailure};
use crate::signin::session::{clear_session_cookie, current_session};
use crate::AppState;
use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use idhub_domain::event::{NewEvent, Party};
use idhub_domain::time::format_millis;
use serde_json::{json, Value};

/// Lifetime of a session token.
const SESSION_TOKEN_TTL_MS: i64 = 5 * 60 * 1000;

fn embedded_user(u: &idhub_domain::user::User) -> Value {
    json!({
        "id": u.id,
        "passwordChanged": u.password_changed.map(format_millis),
        "profile": {
            "login": u.login(),
            "firstName": u.attr("firstName"),
            "lastName": u.attr("lastName"),
            "locale": u.attr("locale").unwrap_or("en"),
            "timeZone": u.attr("timezone").unwrap_or("America/Los_Angeles"),
        }
    })
}

/// `POST /api/v1/authn`
pub async fn authn(State(state): State<AppState>, CurrentOrg(org): CurrentOrg, client: Client, OktaJson(body): OktaJson) -> Result<Response, ApiError> {
    let username = body.get("username").and_then(Value::as_str);
    let password = body.get("password").and_then(Value::as_str);
    let (Some(username), Some(password)) = (username, password) else {
        let mut e = ApiError::validation("username, password", vec![]);
        if username.is_none() {
            e.causes.push("username: The field cannot be left blank".into());
        }
        if password.is_none() {
            e.causes.push("password: The field cannot be left blank".into());
        }
        return Err(e);
    };
    let now = state.now();
    match password_login(&state, &org, username, password, &client.0).await {
        Ok(auth) => {
            let u = &auth.user.user;
            if auth.password_expired {
                let state_token = idhub_domain::ids::random_base62(32);
                return Ok(Json(json!({
                    "stateToken": state_token,
                    "expiresAt": format_millis(now + SESSION_TOKEN_TTL_MS),
                    "status": "PASSWORD_EXPIRED",
                    "_embedded": { "user": embedded_user(u), "policy": { "complexity": { "minLength": 8, "minLowerCase": 1, "minUpperCase": 1, "minNumber": 1, "excludeUsername": true } } },
                    "_links": {}
                }))
                .into_response());
            }
            let token = format!("20111{}", idhub_domain::ids::random_base62(40));
            let amr = vec!["pwd".to_string()];
            state.store.create_session_token(&org.id, &u.id, &amr, &token, now + SESSION_TOKEN_TTL_MS).await?;
            let ev = NewEvent::success("user.authentication.authenticate", "User authentication", Party::new(u.id.0.clone(), "User", u.login(), u.display_name()), vec![], client.0);
            state.store.create_events(&org.id, &[ev], now).await?;
            Ok(Json(json!({
                "expiresAt": format_millis(now + SESSION_TOKEN_TTL_MS),
                "status": "SUCCESS",
                "sessionToken": token,
                "_embedded": { "user": embedded_user(u) },
                "_links": { "cancel": { "href": format!("{}/api/v1/authn/cancel", org.base_url), "hints": { "allow": ["POST"] } } }
            }))
            .into_response())
        }
        Err(AuthFailure::LockedOut) => Ok(Json(json!({ "status": "LOCKED_OUT", "_links": {} })).into_response()),
        Err(AuthFailure::InvalidCredentials) => Err(ApiError::new(StatusCode::UNAUTHORIZED, "E0000004", "Authentication failed")),
        Err(AuthFailure::Throttled) => {
            let mut e = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "E0000047", "API call exceeded rate limit due to too many requests.");
            e.headers.push(("x-rate-limit-reset", ((now / 60_000 + 1) * 60).to_string()));
            Err(e)
        }
        Err(AuthFailure::Internal(detail)) => Err(ApiError::internal(detail)),
    }
}

/// `GET /api/v1/sessions/me`
pub async fn sessions_me(State(state): State<AppState>, parts: Parts) -> Result<Json<Value>, ApiError> {
    let s = current_session(&state, &parts).await?.ok_or_else(|| ApiError::not_found("me (Session)"))?;
    let base = &s.org.base_url;
    Ok(Json(json!({
        "id": s.session.id,
        "userId": s.user.user.id,
        "login": s.user.user.login(),
        "createdAt": format_millis(s.session.created),
        "expiresAt": format_millis(s.session.effective_expiry()),
        "status": "ACTIVE",
        "lastPasswordVerification": format_millis(s.session.created),
        "lastFactorVerification": if s.session.amr.iter().any(|m| m == "otp") { Value::String(format_millis(s.session.created)) } else { Value::Null },
        "amr": s.session.amr,
        "idp": { "id": s.org.id, "type": "OKTA" },
        "mfaActive": s.session.amr.iter().any(|m| m == "otp"),
        "_links": {
            "self": { "href": format!("{base}/api/v1/sessions/me"), "hints": { "allow": ["GET", "DELETE"] } },
            "user": { "name": s.user.user.display_name(), "href": format!("{base}/api/v1/users/me") }
        }
    })))
}

/// `DELETE /api/v1/sessions/me`
pub async fn sessions_me_delete(State(state): State<AppState>, client: Client, parts: Parts) -> Result<Response, ApiError> {
    let s = current_session(&state, &parts).await?.ok_or_else(|| ApiError::not_found("me (Session)"))?;
    let u = &s.user.user;
    let ev = NewEvent::success("user.session.end", "User logout from Okta", Party::new(u.id.0.clone(), "User", u.login(), u.display_name()), vec![], client.0);
    state.store.delete_session(&s.org.id, &s.session.id, state.now(), &[ev]).await?;
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut().append(header::SET_COOKIE, clear_session_cookie(&s.org));
    Ok(resp)
}
