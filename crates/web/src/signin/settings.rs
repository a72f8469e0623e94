//! The end user's settings page (`/enduser/settings`): their profile, a password change
//! (the current password first; the org's password policy; CSRF-protected), and their
//! extra verification (TOTP) status.

use super::session::SignedIn;
use crate::directory::{update_user, user_party, Actor, UserUpdate};
use crate::html::{add_security_headers, csrf_ok, csrf_token, escape, page, set_cookie, CSRF_COOKIE};
use crate::request::Client;
use crate::AppState;
use axum::extract::{Form, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

fn render(
    state_note: Option<&str>,
    error: Option<(&str, &str)>,
    s: &SignedIn,
    headers: &HeaderMap,
    totp: bool,
    status: StatusCode,
) -> Response {
    let u = &s.user.user;
    let (csrf, new) = csrf_token(headers);
    let field = |k: &str| u.profile.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
    let err = |f: &str| match error {
        Some((ef, msg)) if ef == f => format!("<p class=\"error\" role=\"alert\" id=\"{f}-error\">{}</p>", escape(msg)),
        _ => String::new(),
    };
    let note =
        state_note.map(|n| format!("<p class=\"notice\" role=\"status\" id=\"settings-notice\">{}</p>", escape(n))).unwrap_or_default();
    let password = if u.provider.is_federated() {
        format!("<p id=\"password-managed\">Your password is managed by {}.</p>", escape(&u.provider_name))
    } else {
        format!(
            "<form method=\"post\" action=\"/enduser/settings/password\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<label for=\"current\">Current password</label><input id=\"current\" name=\"current\" type=\"password\" autocomplete=\"current-password\" required>{}\
<label for=\"new\">New password</label><input id=\"new\" name=\"new\" type=\"password\" autocomplete=\"new-password\" required>{}\
<label for=\"confirm\">Re-enter password</label><input id=\"confirm\" name=\"confirm\" type=\"password\" autocomplete=\"new-password\" required>{}\
<button type=\"submit\" id=\"change-password\">Change Password</button></form>",
            err("current"),
            err("new"),
            err("confirm"),
            csrf = escape(&csrf),
        )
    };
    let body = format!(
        "<section class=\"card\"><h1>Settings</h1>{note}<h2>Personal Information</h2>\
<dl><dt>First name</dt><dd>{}</dd><dt>Last name</dt><dd>{}</dd><dt>Username</dt><dd id=\"settings-login\">{}</dd><dt>Primary email</dt><dd>{}</dd></dl>\
<h2>Change Password</h2>{password}<h2>Extra Verification</h2><p id=\"mfa-status\">Google Authenticator (TOTP): {}</p>\
<p><a href=\"/app/UserHome\">Back to My Apps</a></p></section>",
        escape(&field("firstName")),
        escape(&field("lastName")),
        escape(u.login()),
        escape(&field("email")),
        if totp { "set up" } else { "not set up (you are asked to set it up at sign-in when your organization requires it)" },
    );
    let mut r = (status, page("Settings", &s.org.name, &body)).into_response();
    if new {
        r.headers_mut().append(header::SET_COOKIE, set_cookie(CSRF_COOKIE, &csrf, super::session::is_https(&s.org), None));
    }
    add_security_headers(r.headers_mut());
    r
}

async fn totp_enrolled(state: &AppState, s: &SignedIn) -> bool {
    super::mfa::active_factor(state, &s.org, &s.user.user).await.ok().flatten().is_some()
}

/// `GET /enduser/settings`
pub async fn settings(State(state): State<AppState>, signed_in: SignedIn, headers: HeaderMap, parts: axum::http::Uri) -> Response {
    let note = parts.query().filter(|q| q.contains("changed=1")).map(|_| "Your password was changed.");
    let totp = totp_enrolled(&state, &signed_in).await;
    render(note, None, &signed_in, &headers, totp, StatusCode::OK)
}

/// The password form.
#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
}

/// `POST /enduser/settings/password`
pub async fn change_password(
    State(state): State<AppState>,
    signed_in: SignedIn,
    client: Client,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Response {
    let totp = totp_enrolled(&state, &signed_in).await;
    let refuse = |f: &str, msg: &str, status| render(None, Some((f, msg)), &signed_in, &headers, totp, status);
    if !csrf_ok(&headers, Some(&form.csrf)) {
        return refuse(
            "current",
            "The form has expired or did not come from this site. Reload the page and try again.",
            StatusCode::FORBIDDEN,
        );
    }
    let u = &signed_in.user.user;
    let current_ok = match &u.password_hash {
        Some(h) => state.hasher.verify(form.current.clone(), h.clone()).await,
        None => false,
    };
    if !current_ok {
        return refuse("current", "The current password is not correct.", StatusCode::BAD_REQUEST);
    }
    if form.new != form.confirm {
        return refuse("confirm", "The new passwords do not match.", StatusCode::BAD_REQUEST);
    }
    let actor = Actor { party: user_party(u), client: client.0.clone() };
    let upd = UserUpdate { password: Some(form.new.clone()), ..Default::default() };
    match update_user(&state, &signed_in.org, &actor, u.id.as_str(), upd).await {
        Ok(_) => Redirect::to("/enduser/settings?changed=1").into_response(),
        Err(e) => {
            let why = e.causes.first().cloned().unwrap_or(e.summary);
            refuse("new", why.trim_start_matches("password: "), StatusCode::BAD_REQUEST)
        }
    }
}
