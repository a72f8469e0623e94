//! Okta's authentication API for non-browser clients: `POST /api/v1/authn` trades a
//! username and password for a one-time `sessionToken`; `/api/v1/sessions/me` reads
//! or ends the browser session named by the cookie.

use super::extract::OktaJson;
use crate::error::ApiError;
use crate::org::CurrentOrg;
use crate::request::Client;
use crate::signin::complete::{complete_sign_in, Completed, SignIn, Via, SESSION_TOKEN_TTL_MS};
use crate::signin::session::{clear_session_cookie, current_session};
use crate::AppState;
use axum::extract::Path;
use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use idhub_core::signin::auth::{password_login, AuthFailure};
use idhub_core::signin::mfa::{self, VerifyFailure};
use idhub_domain::event::{NewEvent, Party};
use idhub_domain::time::format_millis;
use idhub_domain::user::User;
use idhub_store::factors::{AuthnTransaction, Factor};
use idhub_store::orgs::Org;
use idhub_store::rows::StoredUser;
use serde_json::{json, Value};

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
pub async fn authn(
    State(state): State<AppState>,
    CurrentOrg(org): CurrentOrg,
    client: Client,
    OktaJson(body): OktaJson,
) -> Result<Response, ApiError> {
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
    match password_login(&state.core, &org, username, password, &client.0).await {
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
            let sign_in = SignIn { user: &auth.user, amr: vec!["pwd".into()], target: None, events: vec![] };
            Ok(Json(answer(&state, &org, u, sign_in, &client).await?).into_response())
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

/// The answer to a finished first or second step: MFA_REQUIRED / MFA_ENROLL, or SUCCESS
/// with a one-time session token.
async fn answer(state: &AppState, org: &Org, u: &User, sign_in: SignIn<'_>, client: &Client) -> Result<Value, ApiError> {
    match complete_sign_in(state, org, Via::Api, &client.0, sign_in).await? {
        Completed::Factor { secret, tx } => mfa_state(state, org, u, &secret, &tx).await,
        Completed::Token { token, expires } => Ok(json!({
            "expiresAt": format_millis(expires),
            "status": "SUCCESS",
            "sessionToken": token,
            "_embedded": { "user": embedded_user(u) },
            "_links": { "cancel": { "href": format!("{}/api/v1/authn/cancel", org.base_url), "hints": { "allow": ["POST"] } } }
        })),
        Completed::Session { .. } => Err(ApiError::internal("an API sign-in ended with a browser session")),
    }
}

fn factor_json(org: &Org, u: &User, f: &Factor) -> Value {
    json!({
        "id": f.id,
        "factorType": f.factor_type,
        "provider": f.provider,
        "vendorName": f.provider,
        "profile": { "credentialId": u.login() },
        "_links": { "verify": { "href": format!("{}/api/v1/authn/factors/{}/verify", org.base_url, f.id), "hints": { "allow": ["POST"] } } }
    })
}

/// The MFA_REQUIRED / MFA_ENROLL answer for a transaction.
async fn mfa_state(state: &AppState, org: &Org, u: &User, state_token: &str, tx: &AuthnTransaction) -> Result<Value, ApiError> {
    let base = &org.base_url;
    let factors = match mfa::active_factor(&state.core, org, u).await? {
        Some(f) => vec![factor_json(org, u, &f)],
        None => vec![json!({
            "factorType": mfa::TOTP_TYPE, "provider": "GOOGLE", "vendorName": "GOOGLE", "status": "NOT_SETUP", "enrollment": "REQUIRED",
            "_links": { "enroll": { "href": format!("{base}/api/v1/authn/factors"), "hints": { "allow": ["POST"] } } }
        })],
    };
    Ok(json!({
        "stateToken": state_token,
        "expiresAt": format_millis(tx.expires),
        "status": tx.status,
        "_embedded": { "user": embedded_user(u), "factors": factors },
        "_links": { "cancel": { "href": format!("{base}/api/v1/authn/cancel"), "hints": { "allow": ["POST"] } } }
    }))
}

/// The transaction named by a body's `stateToken`, with its user.
async fn transaction(state: &AppState, org: &Org, body: &Value) -> Result<(String, AuthnTransaction, StoredUser), ApiError> {
    let invalid = || ApiError::new(StatusCode::FORBIDDEN, "E0000011", "Invalid token provided");
    let token = body.get("stateToken").and_then(Value::as_str).filter(|t| !t.is_empty() && t.len() <= 64).ok_or_else(invalid)?;
    let tx = state.store.get_transaction(&org.id, token, state.now()).await.map_err(|_| invalid())?;
    let user = state.store.get_user(&org.id, tx.user_id.as_str()).await.map_err(|_| invalid())?;
    if !idhub_domain::lifecycle::can_authenticate(user.user.status) {
        return Err(invalid());
    }
    Ok((token.to_string(), tx, user))
}

/// `POST /api/v1/authn/factors/{id}/verify` and `…/lifecycle/activate`: check a TOTP code.
pub async fn authn_factor_verify(
    State(state): State<AppState>,
    CurrentOrg(org): CurrentOrg,
    client: Client,
    Path(params): Path<Vec<(String, String)>>,
    OktaJson(body): OktaJson,
) -> Result<Response, ApiError> {
    let factor_id = params.iter().find(|(k, _)| k == "factor").map(|(_, v)| v.clone()).unwrap_or_default();
    let (token, tx, stored) = transaction(&state, &org, &body).await?;
    let user = stored.user.clone();
    let factor =
        state.store.get_factor(&org.id, &user.id, &factor_id).await.map_err(|_| ApiError::not_found(format!("{factor_id} (Factor)")))?;
    let code = body.get("passCode").and_then(Value::as_str).unwrap_or_default();
    match mfa::verify(&state.core, &org, &user, mfa::Pending { secret: &token, tx: &tx }, &factor, code, &client.0).await? {
        Ok(()) => {
            let mut amr = tx.amr.clone();
            amr.push("otp".into());
            let sign_in = SignIn { user: &stored, amr, target: None, events: vec![] };
            Ok(Json(answer(&state, &org, &user, sign_in, &client).await?).into_response())
        }
        Err(VerifyFailure::InvalidCode) => {
            let mut e = ApiError::new(StatusCode::FORBIDDEN, "E0000068", "Invalid Passcode/Answer");
            e.causes = vec!["Your passcode doesn't match our records. Please try again.".into()];
            Err(e)
        }
        Err(VerifyFailure::TooManyAttempts) => {
            Err(ApiError::new(StatusCode::FORBIDDEN, "E0000069", "User Locked: too many wrong codes; sign in again."))
        }
    }
}

/// `POST /api/v1/authn/factors`: enroll a TOTP factor during sign-in.
pub async fn authn_factor_enroll(
    State(state): State<AppState>,
    CurrentOrg(org): CurrentOrg,
    client: Client,
    OktaJson(body): OktaJson,
) -> Result<Json<Value>, ApiError> {
    let (token, tx, stored) = transaction(&state, &org, &body).await?;
    let user = stored.user;
    if tx.status != "MFA_ENROLL" && tx.status != "MFA_ENROLL_ACTIVATE" {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "E0000038", "This operation is not allowed in the current authentication state."));
    }
    if body.get("factorType").and_then(Value::as_str) != Some(mfa::TOTP_TYPE) {
        return Err(ApiError::validation("factorType", vec![format!("factorType: only {} is supported", mfa::TOTP_TYPE)]));
    }
    let (factor, raw) = mfa::enroll(&state.core, &org, &user, &client.0).await?;
    state.store.update_transaction(&org.id, &token, "MFA_ENROLL_ACTIVATE", Some(&factor.id), false).await?;
    let base = &org.base_url;
    Ok(Json(json!({
        "stateToken": token,
        "expiresAt": format_millis(tx.expires),
        "status": "MFA_ENROLL_ACTIVATE",
        "factorResult": "WAITING",
        "_embedded": {
            "user": embedded_user(&user),
            "factor": {
                "id": factor.id, "factorType": factor.factor_type, "provider": factor.provider, "vendorName": factor.provider,
                "profile": { "credentialId": user.login() },
                "_embedded": { "activation": {
                    "timeStep": 30, "sharedSecret": mfa::base32(&raw), "encoding": "base32", "keyLength": 6,
                    "otpauthUri": mfa::otpauth_uri(&org, user.login(), &raw)
                } }
            }
        },
        "_links": {
            "next": { "name": "activate", "href": format!("{base}/api/v1/authn/factors/{}/lifecycle/activate", factor.id), "hints": { "allow": ["POST"] } },
            "cancel": { "href": format!("{base}/api/v1/authn/cancel"), "hints": { "allow": ["POST"] } }
        }
    })))
}

/// `POST /api/v1/authn/cancel`
pub async fn authn_cancel(
    State(state): State<AppState>,
    CurrentOrg(org): CurrentOrg,
    OktaJson(body): OktaJson,
) -> Result<Json<Value>, ApiError> {
    let (token, _, _) = transaction(&state, &org, &body).await?;
    state.store.delete_transaction(&org.id, &token).await?;
    Ok(Json(json!({ "status": "UNAUTHENTICATED", "_links": {} })))
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
    let ev = NewEvent::success(
        "user.session.end",
        "User logout from Okta",
        Party::new(u.id.0.clone(), "User", u.login(), u.display_name()),
        vec![],
        client.0,
    );
    state.store.delete_session(&s.org.id, &s.session.id, state.now(), &[ev]).await?;
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut().append(header::SET_COOKIE, clear_session_cookie(&s.org));
    Ok(resp)
}
