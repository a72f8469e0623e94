//! The factor step of the hosted sign-in: enroll a TOTP authenticator at the first
//! sign-in where the policy requires MFA, or enter a code.

use super::complete::{complete_sign_in, SignIn, Via};
use super::pages::TX_COOKIE;
use crate::html::{add_security_headers, error_page, escape, org_cookie, page, set_cookie_for, Csrf, CsrfForm};
use crate::org::CurrentOrg;
use crate::request::Client;
use crate::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use idhub_core::signin::mfa::{self, VerifyFailure};
use idhub_store::factors::{AuthnTransaction, Factor};
use idhub_store::orgs::Org;
use idhub_store::rows::StoredUser;
use serde::Deserialize;

fn finish(mut resp: Response, cookies: Vec<axum::http::HeaderValue>) -> Response {
    for c in cookies {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    add_security_headers(resp.headers_mut());
    resp
}

fn expired(org: &Org) -> Response {
    finish(
        error_page(
            StatusCode::UNAUTHORIZED,
            &org.name,
            "Sign-in expired",
            "This sign-in attempt has expired or was cancelled. Sign in again.",
        ),
        vec![set_cookie_for(org, TX_COOKIE, "", Some(0))],
    )
}

async fn load(state: &AppState, org: &Org, headers: &HeaderMap) -> Option<(String, AuthnTransaction, StoredUser)> {
    let secret = org_cookie(org, headers, TX_COOKIE).filter(|s| !s.is_empty() && s.len() <= 64)?;
    let tx = state.store.get_transaction(&org.id, &secret, state.now()).await.ok()?;
    let user = state.store.get_user(&org.id, tx.user_id.as_str()).await.ok()?;
    idhub_domain::lifecycle::can_authenticate(user.user.status).then_some((secret, tx, user))
}

/// The factor to verify: the enrolled one, or the pending one being enrolled.
async fn current_factor(state: &AppState, org: &Org, user: &StoredUser, client: &Client) -> Option<(Factor, bool)> {
    let factors = state.store.list_factors(&org.id, &user.user.id).await.ok()?;
    if let Some(f) = factors.iter().find(|f| f.factor_type == mfa::TOTP_TYPE && f.status == "ACTIVE") {
        return Some((f.clone(), false));
    }
    if let Some(f) = factors.iter().rev().find(|f| f.factor_type == mfa::TOTP_TYPE && f.status == "PENDING_ACTIVATION") {
        return Some((f.clone(), true));
    }
    mfa::enroll(&state.core, org, &user.user, &client.0).await.ok().map(|(f, _)| (f, true))
}

fn render(org: &Org, csrf: &Csrf, enroll: Option<(String, String)>, error: Option<&str>, status: StatusCode) -> Response {
    let intro = match &enroll {
        Some((key, uri)) => format!(
            "<h1>Set up multifactor authentication</h1><p>Your organization requires a second factor. Add this account to an authenticator app (Google Authenticator, Okta Verify, 1Password…), then enter the 6-digit code it shows.</p>\
<p>Setup key: <code id=\"totp-secret\">{}</code></p><p><a id=\"totp-uri\" href=\"{}\">Open in authenticator app</a></p>",
            escape(key),
            escape(uri)
        ),
        None => "<h1>Verify it's you</h1><p>Enter the 6-digit code from your authenticator app.</p>".to_string(),
    };
    let error_html = error.map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e))).unwrap_or_default();
    let body = format!(
        "<section class=\"card signin\">{intro}{error_html}<form method=\"post\" action=\"/login/mfa\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
<label for=\"code\">Verification code</label><input id=\"code\" name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" pattern=\"[0-9]{{6}}\" maxlength=\"6\" required autofocus>\
<button type=\"submit\" id=\"mfa-submit\">Verify</button></form></section>",
        escape(&csrf.token)
    );
    finish((status, page("Multifactor authentication", &org.name, &body)).into_response(), csrf.cookies())
}

fn enroll_details(state: &AppState, org: &Org, user: &StoredUser, f: &Factor) -> Option<(String, String)> {
    let raw = mfa::factor_secret(&state.core, org, f)?;
    Some((mfa::base32(&raw), mfa::otpauth_uri(org, user.user.login(), &raw)))
}

/// `GET /login/mfa`
pub async fn mfa_form(
    State(state): State<AppState>,
    CurrentOrg(org): CurrentOrg,
    client: Client,
    csrf: Csrf,
    headers: HeaderMap,
) -> Response {
    let Some((_, _, user)) = load(&state, &org, &headers).await else {
        return expired(&org);
    };
    let Some((factor, enrolling)) = current_factor(&state, &org, &user, &client).await else {
        return expired(&org);
    };
    let details = if enrolling { enroll_details(&state, &org, &user, &factor) } else { None };
    render(&org, &csrf, details, None, StatusCode::OK)
}

/// The code form.
#[derive(Debug, Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
}

/// `POST /login/mfa`
pub async fn mfa_submit(
    State(state): State<AppState>,
    CurrentOrg(org): CurrentOrg,
    client: Client,
    headers: HeaderMap,
    CsrfForm { form, csrf }: CsrfForm<CodeForm>,
) -> Response {
    let Some((secret, tx, user)) = load(&state, &org, &headers).await else {
        return expired(&org);
    };
    let Some((factor, enrolling)) = current_factor(&state, &org, &user, &client).await else {
        return expired(&org);
    };
    match mfa::verify(&state.core, &org, &user.user, mfa::Pending { secret: &secret, tx: &tx }, &factor, &form.code, &client.0).await {
        Ok(Ok(())) => {
            let mut amr = tx.amr.clone();
            amr.push("otp".into());
            let sign_in = SignIn { user: &user, amr, target: tx.from_uri.clone(), events: vec![] };
            let done = complete_sign_in(&state, &org, Via::Browser(&headers), &client.0, sign_in).await;
            super::complete::browser_answer(&org, done)
        }
        Ok(Err(VerifyFailure::InvalidCode)) => {
            let details = if enrolling { enroll_details(&state, &org, &user, &factor) } else { None };
            render(
                &org,
                &csrf,
                details,
                Some("That code is not correct. Enter the current code from your authenticator app."),
                StatusCode::UNAUTHORIZED,
            )
        }
        Ok(Err(VerifyFailure::TooManyAttempts)) => expired(&org),
        Err(e) => crate::error::ApiError::internal(e.to_string()).into_response(),
    }
}
