//! The end user's settings page (`/enduser/settings`): their profile, a password change
//! (the current password first; the org's password policy) and their extra verification:
//! set up a TOTP authenticator, replace it (the old one stops working when the new one
//! has proven itself) or remove it where the org's policy allows. Every change asks for
//! the current password again (or, for users without one, a recent sign-in) and every
//! form is CSRF-protected.

use super::session::SignedIn;
use crate::html::{add_security_headers, escape, page, Csrf, CsrfForm};
use crate::request::Client;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use idhub_core::directory::{update_user, user_party, UserUpdate};
use idhub_core::signin::auth::{factor_attempt_allowed, reverify_password, AuthFailure};
use idhub_core::signin::mfa;
use idhub_core::Actor;
use idhub_store::factors::Factor;
use serde::Deserialize;

/// How long after signing in a user without a local password may change their factors.
const RECENT_SIGN_IN_MS: i64 = 15 * 60 * 1000;

/// An authenticator being set up: its id, setup key and `otpauth://` URI.
struct Setup {
    factor_id: String,
    key: String,
    uri: String,
}

/// What the page shows besides the user's own data.
#[derive(Default)]
struct View<'a> {
    note: Option<&'a str>,
    /// A field's id and the error shown next to it.
    error: Option<(&'a str, &'a str)>,
    setup: Option<Setup>,
}

fn render(view: View<'_>, s: &SignedIn, csrf: &Csrf, totp: bool, status: StatusCode) -> Response {
    let u = &s.user.user;
    let csrf_input = format!("<input type=\"hidden\" name=\"csrf\" value=\"{}\">", escape(&csrf.token));
    let field = |k: &str| u.profile.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
    let err = |f: &str| match view.error {
        Some((ef, msg)) if ef == f => format!("<p class=\"error\" role=\"alert\" id=\"{f}-error\">{}</p>", escape(msg)),
        _ => String::new(),
    };
    let note =
        view.note.map(|n| format!("<p class=\"notice\" role=\"status\" id=\"settings-notice\">{}</p>", escape(n))).unwrap_or_default();
    let has_password = u.password_hash.is_some();
    // The current password, asked again before any change to the account's security.
    let reauth = |id: &str| {
        if has_password {
            format!(
                "<label for=\"{id}\">Current password</label><input id=\"{id}\" name=\"current\" type=\"password\" autocomplete=\"current-password\" required>{}",
                err(id)
            )
        } else {
            err(id)
        }
    };
    let password = if u.provider.is_federated() {
        format!("<p id=\"password-managed\">Your password is managed by {}.</p>", escape(&u.provider_name))
    } else {
        format!(
            "<form method=\"post\" action=\"/enduser/settings/password\">{csrf_input}{}\
<label for=\"new\">New password</label><input id=\"new\" name=\"new\" type=\"password\" autocomplete=\"new-password\" required>{}\
<label for=\"confirm\">Re-enter password</label><input id=\"confirm\" name=\"confirm\" type=\"password\" autocomplete=\"new-password\" required>{}\
<button type=\"submit\" id=\"change-password\">Change Password</button></form>",
            reauth("current"),
            err("new"),
            err("confirm"),
        )
    };
    let verification = match &view.setup {
        Some(setup) => format!(
            "<div id=\"totp-setup\"><p>Add this account to an authenticator app (Google Authenticator, Okta Verify, 1Password…), then enter the 6-digit code it shows.{}</p>\
<p>Setup key: <code id=\"totp-secret\">{}</code></p><p><a id=\"totp-uri\" href=\"{}\">Open in authenticator app</a></p>\
<form method=\"post\" action=\"/enduser/settings/mfa/activate\">{csrf_input}<input type=\"hidden\" name=\"factor\" value=\"{}\">\
<label for=\"totp-code\">Verification code</label><input id=\"totp-code\" name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" pattern=\"[0-9]{{6}}\" maxlength=\"6\" required autofocus>{}\
<button type=\"submit\" id=\"totp-activate\">Verify</button> <a href=\"/enduser/settings\">Cancel</a></form></div>",
            if totp { " Your current authenticator keeps working until this one is verified." } else { "" },
            escape(&setup.key),
            escape(&setup.uri),
            escape(&setup.factor_id),
            err("totp-code"),
        ),
        None => {
            let setup_form = format!(
                "<form method=\"post\" action=\"/enduser/settings/mfa/setup\">{csrf_input}{}<button type=\"submit\" id=\"totp-setup-start\">{}</button></form>",
                reauth("setup-current"),
                if totp { "Replace authenticator" } else { "Set up" }
            );
            let remove_form = if totp {
                format!(
                    "<details{}><summary id=\"totp-remove-open\">Remove</summary><form method=\"post\" action=\"/enduser/settings/mfa/remove\">{csrf_input}\
<p>You will no longer be asked for a code from this authenticator.</p>{}<button type=\"submit\" class=\"danger\" id=\"totp-remove\">Remove authenticator</button></form></details>",
                    // a refusal is read where it was asked, not behind a closed disclosure
                    if matches!(view.error, Some(("remove-current", _))) { " open" } else { "" },
                    reauth("remove-current")
                )
            } else {
                err("remove-current")
            };
            format!("{setup_form}{remove_form}")
        }
    };
    let body = format!(
        "<section class=\"card\"><h1>Settings</h1>{note}<h2>Personal Information</h2>\
<dl><dt>First name</dt><dd>{}</dd><dt>Last name</dt><dd>{}</dd><dt>Username</dt><dd id=\"settings-login\">{}</dd><dt>Primary email</dt><dd>{}</dd></dl>\
<h2>Change Password</h2>{password}<h2>Extra Verification</h2><p id=\"mfa-status\">Google Authenticator (TOTP): {}</p>{verification}\
<p><a href=\"/app/UserHome\">Back to My Apps</a></p></section>",
        escape(&field("firstName")),
        escape(&field("lastName")),
        escape(u.login()),
        escape(&field("email")),
        if totp { "set up" } else { "not set up" },
    );
    let mut r = (status, page("Settings", &s.org.name, &body)).into_response();
    csrf.attach(&mut r);
    add_security_headers(r.headers_mut());
    r
}

async fn totp_enrolled(state: &AppState, s: &SignedIn) -> bool {
    mfa::active_factor(&state.core, &s.org, &s.user.user).await.ok().flatten().is_some()
}

/// Has the user proven, just now, that they are the account's owner? The current
/// password when they have one (checked like a sign-in: throttled, wrong ones counted
/// towards lockout, logged); otherwise a sign-in within the last few minutes. The
/// refusal: its message and status.
async fn reauthenticated(state: &AppState, s: &SignedIn, current: &str, client: &Client) -> Result<(), (&'static str, StatusCode)> {
    if s.user.user.password_hash.is_none() {
        return if state.now() - s.session.created <= RECENT_SIGN_IN_MS {
            Ok(())
        } else {
            Err(("For your security, sign out and sign in again before changing extra verification.", StatusCode::BAD_REQUEST))
        };
    }
    match reverify_password(&state.core, &s.org, &s.user, current, &client.0).await {
        Ok(()) => Ok(()),
        Err(AuthFailure::InvalidCredentials) => Err(("The current password is not correct.", StatusCode::BAD_REQUEST)),
        Err(AuthFailure::Throttled) => Err((TOO_MANY, StatusCode::TOO_MANY_REQUESTS)),
        Err(AuthFailure::LockedOut) => {
            Err(("Your account is locked after too many wrong passwords. Contact your administrator to unlock it.", StatusCode::FORBIDDEN))
        }
        Err(AuthFailure::Internal(e)) => {
            tracing::error!("checking the current password: {e}");
            Err(("Something went wrong. Try again.", StatusCode::INTERNAL_SERVER_ERROR))
        }
    }
}

const TOO_MANY: &str = "Too many attempts. Wait a minute and try again.";

/// `GET /enduser/settings`
pub async fn settings(State(state): State<AppState>, signed_in: SignedIn, csrf: Csrf, uri: axum::http::Uri) -> Response {
    let query = uri.query().unwrap_or("");
    let note = [
        ("changed=1", "Your password was changed."),
        ("mfa=set", "Your authenticator is set up."),
        ("mfa=removed", "Your authenticator was removed."),
    ]
    .into_iter()
    .find(|(q, _)| query.split('&').any(|p| p == *q))
    .map(|(_, n)| n);
    let totp = totp_enrolled(&state, &signed_in).await;
    render(View { note, ..Default::default() }, &signed_in, &csrf, totp, StatusCode::OK)
}

/// The password form.
#[derive(Debug, Deserialize)]
pub struct PasswordForm {
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
    CsrfForm { form, csrf }: CsrfForm<PasswordForm>,
) -> Response {
    let totp = totp_enrolled(&state, &signed_in).await;
    let refuse = |f: &str, msg: &str, status| render(View { error: Some((f, msg)), ..Default::default() }, &signed_in, &csrf, totp, status);
    let u = &signed_in.user.user;
    if u.password_hash.is_none() {
        return refuse("current", "The current password is not correct.", StatusCode::BAD_REQUEST);
    }
    if let Err((why, status)) = reauthenticated(&state, &signed_in, &form.current, &client).await {
        return refuse("current", why, status);
    }
    if form.new != form.confirm {
        return refuse("confirm", "The new passwords do not match.", StatusCode::BAD_REQUEST);
    }
    let actor = Actor { party: user_party(u), client: client.0.clone() };
    let upd = UserUpdate { password: Some(form.new.clone()), keep_session: Some(signed_in.session.id.clone()), ..Default::default() };
    match update_user(&state.core, &signed_in.org, &actor, u.id.as_str(), upd).await {
        Ok(_) => Redirect::to("/enduser/settings?changed=1").into_response(),
        Err(e) => {
            let why = e.causes().first().cloned().unwrap_or_else(|| e.to_string());
            refuse("new", why.trim_start_matches("password: "), StatusCode::BAD_REQUEST)
        }
    }
}

/// The forms that change extra verification.
#[derive(Debug, Deserialize)]
pub struct FactorForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    factor: String,
    #[serde(default)]
    code: String,
}

fn setup_of(state: &AppState, s: &SignedIn, f: &Factor) -> Option<Setup> {
    let raw = mfa::factor_secret(&state.core, &s.org, f)?;
    Some(Setup { factor_id: f.id.clone(), key: mfa::base32(&raw), uri: mfa::otpauth_uri(&s.org, s.user.user.login(), &raw) })
}

/// The checks before a change to extra verification: the form came from this site and
/// the user proved again who they are. Returns whether TOTP is set up, or the refusal
/// page with its reason next to `field`.
#[allow(clippy::result_large_err)] // the refusal is a whole page
async fn confirmed(state: &AppState, s: &SignedIn, client: &Client, csrf: &Csrf, form: &FactorForm, field: &str) -> Result<bool, Response> {
    let totp = totp_enrolled(state, s).await;
    let refuse = |msg: &str, status| Err(render(View { error: Some((field, msg)), ..Default::default() }, s, csrf, totp, status));
    if let Err((why, status)) = reauthenticated(state, s, &form.current, client).await {
        return refuse(why, status);
    }
    Ok(totp)
}

fn failed(e: impl std::fmt::Display) -> Response {
    crate::error::ApiError::internal(e.to_string()).into_response()
}

/// `POST /enduser/settings/mfa/setup`: a new authenticator, shown for the user to add.
pub async fn start_setup(
    State(state): State<AppState>,
    signed_in: SignedIn,
    client: Client,
    CsrfForm { form, csrf }: CsrfForm<FactorForm>,
) -> Response {
    let totp = match confirmed(&state, &signed_in, &client, &csrf, &form, "setup-current").await {
        Ok(totp) => totp,
        Err(refused) => return refused,
    };
    let factor = match mfa::enroll(&state.core, &signed_in.org, &signed_in.user.user, &client.0).await {
        Ok((f, _)) => f,
        Err(e) => return failed(e),
    };
    let Some(setup) = setup_of(&state, &signed_in, &factor) else {
        return failed("factor secret cannot be opened");
    };
    render(View { setup: Some(setup), ..Default::default() }, &signed_in, &csrf, totp, StatusCode::OK)
}

/// `POST /enduser/settings/mfa/activate`: the new authenticator's first code.
pub async fn activate(
    State(state): State<AppState>,
    signed_in: SignedIn,
    client: Client,
    CsrfForm { form, csrf }: CsrfForm<FactorForm>,
) -> Response {
    let totp = totp_enrolled(&state, &signed_in).await;
    let (org, user) = (&signed_in.org, &signed_in.user.user);
    if !factor_attempt_allowed(&state.core, org, user, &client.0).await {
        let view = View { error: Some(("setup-current", TOO_MANY)), ..Default::default() };
        return render(view, &signed_in, &csrf, totp, StatusCode::TOO_MANY_REQUESTS);
    }
    let pending = match state.store.get_factor(&org.id, &user.id, form.factor.trim()).await {
        Ok(f) if f.status == "PENDING_ACTIVATION" && f.factor_type == mfa::TOTP_TYPE => f,
        Ok(_) | Err(idhub_store::StoreError::NotFound) => {
            let view = View { error: Some(("setup-current", "That setup has expired. Start again.")), ..Default::default() };
            return render(view, &signed_in, &csrf, totp, StatusCode::BAD_REQUEST);
        }
        Err(e) => return failed(e),
    };
    match mfa::activate_replacing(&state.core, org, user, &pending, &form.code, &client.0).await {
        Ok(true) => Redirect::to("/enduser/settings?mfa=set").into_response(),
        Ok(false) => {
            let view = View {
                error: Some(("totp-code", "That code is not correct. Enter the current code from your authenticator app.")),
                setup: setup_of(&state, &signed_in, &pending),
                ..Default::default()
            };
            render(view, &signed_in, &csrf, totp, StatusCode::BAD_REQUEST)
        }
        Err(e) => failed(e),
    }
}

/// `POST /enduser/settings/mfa/remove`: where the org's policy does not require a second
/// factor of this user.
pub async fn remove(
    State(state): State<AppState>,
    signed_in: SignedIn,
    client: Client,
    CsrfForm { form, csrf }: CsrfForm<FactorForm>,
) -> Response {
    let totp = match confirmed(&state, &signed_in, &client, &csrf, &form, "remove-current").await {
        Ok(totp) => totp,
        Err(refused) => return refused,
    };
    let refuse =
        |msg: &str, status| render(View { error: Some(("remove-current", msg)), ..Default::default() }, &signed_in, &csrf, totp, status);
    let (org, user) = (&signed_in.org, &signed_in.user.user);
    match mfa::mfa_required(&state.core, org, user).await {
        Ok(true) => return refuse(
            "Your organization requires extra verification, so it cannot be removed. Use Replace authenticator to move it to a new device.",
            StatusCode::CONFLICT,
        ),
        Ok(false) => {}
        Err(e) => return failed(e),
    }
    match mfa::remove_all(&state.core, org, user, &signed_in.session.id, &client.0).await {
        Ok(_) => Redirect::to("/enduser/settings?mfa=removed").into_response(),
        Err(e) => crate::error::ApiError::from(e).into_response(),
    }
}
