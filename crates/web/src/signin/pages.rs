//! Sign-in, sign-out, `sessionCookieRedirect` and the dashboard pages.

use super::complete::{complete_sign_in, SignIn, Via};
use super::session::{clear_session_cookie, current_session, end_session_of_request, org_target, same_org_target, SignedIn, TargetError};
use crate::html::{add_security_headers, error_page, escape, page, Csrf, CsrfForm};
use crate::org::CurrentOrg;
use crate::request::Client;
use crate::AppState;
use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use idhub_core::signin::auth::{password_login, AuthFailure};
use idhub_store::orgs::Org;
use serde::Deserialize;
use std::collections::HashMap;

fn with_headers(mut resp: Response, set_cookies: Vec<axum::http::HeaderValue>) -> Response {
    for c in set_cookies {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    add_security_headers(resp.headers_mut());
    resp
}

/// `GET /`: the dashboard when signed in, else the sign-in page.
pub async fn root() -> Redirect {
    Redirect::to("/app/UserHome")
}

fn render_login(org: &Org, csrf: &Csrf, from_uri: &str, username: &str, error: Option<&str>, status: StatusCode, idps: &str) -> Response {
    let mut error_html =
        error.map(|e| format!("<p class=\"error\" role=\"alert\" id=\"signin-error\">{}</p>", escape(e))).unwrap_or_default();
    if crate::force_authn::is_reauth(from_uri) {
        error_html.insert_str(0, "<p class=\"notice\" role=\"status\" id=\"reauth-notice\">The app you are signing in to asks you to enter your password again.</p>");
    }
    let body = format!(
        "<section class=\"card signin\"><h1>Sign In</h1>{error_html}\
<form method=\"post\" action=\"/login\">\
<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><input type=\"hidden\" name=\"fromURI\" value=\"{from}\">\
<label for=\"username\">Username</label><input id=\"username\" name=\"username\" type=\"text\" autocomplete=\"username\" required value=\"{user}\" autofocus>\
<label for=\"password\">Password</label><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\">\
<button type=\"submit\" id=\"signin-submit\">Sign In</button></form>{idps}</section>",
        csrf = escape(&csrf.token),
        from = escape(from_uri),
        user = escape(username),
    );
    with_headers((status, page("Sign In", &org.name, &body)).into_response(), csrf.cookies())
}

/// The page for a redirect target that is refused outright.
fn invalid_redirect(org: &Org) -> Response {
    with_headers(
        error_page(StatusCode::BAD_REQUEST, &org.name, "Invalid redirect", "The redirect URL is not an address of this organization."),
        vec![],
    )
}

/// A `fromURI` with a control character is refused before anything else happens (no
/// password checked, no session started): a browser would drop some of them and go
/// to another address. Other foreign targets fall back to the dashboard.
fn refuse_control_characters(org: &Org, from_uri: &str) -> Option<Response> {
    (org_target(org, from_uri) == Err(TargetError::ControlCharacter)).then(|| invalid_redirect(org))
}

/// `GET /login`
pub async fn login_form(State(state): State<AppState>, CurrentOrg(org): CurrentOrg, csrf: Csrf, parts: Parts) -> Response {
    let params = query_map(parts.uri.query());
    let from = params.get("fromURI").cloned().unwrap_or_default();
    if let Some(refused) = refuse_control_characters(&org, &from) {
        return refused;
    }
    let mut username = String::new();
    if let Ok(Some(s)) = current_session(&state, &parts).await {
        // a SAML request with ForceAuthn asks a signed-in user for the password again
        if !crate::force_authn::is_reauth(&from) {
            let to = same_org_target(&org, &from).unwrap_or_else(|| "/app/UserHome".into());
            return Redirect::to(&to).into_response();
        }
        username = s.user.user.login().to_string();
    }
    let idps = crate::idp::login::sign_in_buttons(&state, &org, &from).await;
    render_login(&org, &csrf, &from, &username, None, StatusCode::OK, &idps)
}

/// The sign-in form.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default, rename = "fromURI")]
    from_uri: String,
}

/// `POST /login`
pub async fn login_submit(
    State(state): State<AppState>,
    CurrentOrg(org): CurrentOrg,
    client: Client,
    headers: HeaderMap,
    CsrfForm { form, csrf }: CsrfForm<LoginForm>,
) -> Response {
    if let Some(refused) = refuse_control_characters(&org, &form.from_uri) {
        return refused;
    }
    // Routing rules may send this username to an identity provider instead.
    if let Some(to) = crate::idp::login::routed(&state, &org, &form.username, &form.from_uri).await {
        return Redirect::to(&to).into_response();
    }
    // The "Sign in with …" buttons are only needed when the form is shown again.
    let again = |error: &'static str, status: StatusCode| {
        let (state, org, csrf, form) = (&state, &org, &csrf, &form);
        async move {
            let idps = crate::idp::login::sign_in_buttons(state, org, &form.from_uri).await;
            render_login(org, csrf, &form.from_uri, &form.username, Some(error), status, &idps)
        }
    };
    match password_login(&state.core, &org, &form.username, &form.password, &client.0).await {
        Ok(auth) => {
            let sign_in =
                SignIn { user: &auth.user, amr: vec!["pwd".into()], target: same_org_target(&org, &form.from_uri), events: vec![] };
            let done = complete_sign_in(&state, &org, Via::Browser(&headers), &client.0, sign_in).await;
            super::complete::browser_answer(&org, done)
        }
        Err(AuthFailure::InvalidCredentials) => {
            again("Unable to sign in: the username or password is not correct.", StatusCode::UNAUTHORIZED).await
        }
        Err(AuthFailure::LockedOut) => {
            again("Your account is locked. Contact your administrator to unlock it.", StatusCode::FORBIDDEN).await
        }
        Err(AuthFailure::Throttled) => {
            again("Too many sign-in attempts. Wait a minute and try again.", StatusCode::TOO_MANY_REQUESTS).await
        }
        Err(AuthFailure::Internal(e)) => crate::error::ApiError::internal(e).into_response(),
    }
}

/// Base name of the cookie naming the sign-in transaction between password and factor.
pub const TX_COOKIE: &str = "idhub_tx";

/// `GET|POST /login/signout`
pub async fn signout(State(state): State<AppState>, CurrentOrg(org): CurrentOrg, client: Client, headers: HeaderMap) -> Response {
    end_session_of_request(&state, &org, &headers, &client.0).await;
    with_headers(Redirect::to("/login").into_response(), vec![clear_session_cookie(&org)])
}

/// `POST /login/signout`: the Sign out buttons' form, which carries the CSRF token like
/// every form. (`GET` stays, as Okta's sign-out link.)
pub async fn signout_form(
    state: State<AppState>,
    current: CurrentOrg,
    client: Client,
    headers: HeaderMap,
    _form: CsrfForm<Vec<(String, String)>>,
) -> Response {
    signout(state, current, client, headers).await
}

/// `GET /login/sessionCookieRedirect?token=…&redirectUrl=…`: trade a one-time session
/// token (from `/api/v1/authn`) for a session cookie, then continue to a same-org URL.
pub async fn session_cookie_redirect(State(state): State<AppState>, CurrentOrg(org): CurrentOrg, client: Client, parts: Parts) -> Response {
    let params = query_map(parts.uri.query());
    // checked before the token is used up
    let Some(to) = params.get("redirectUrl").and_then(|r| same_org_target(&org, r)) else {
        return invalid_redirect(&org);
    };
    let token = params.get("token").cloned().unwrap_or_default();
    let (user_id, amr) = match state.store.consume_session_token(&org.id, &token, state.now()).await {
        Ok(v) => v,
        Err(_) => {
            return with_headers(
                error_page(
                    StatusCode::UNAUTHORIZED,
                    &org.name,
                    "Sign-in link expired",
                    "This sign-in link is invalid, was already used, or has expired. Sign in again.",
                ),
                vec![],
            )
        }
    };
    let user = match state.store.get_user(&org.id, user_id.as_str()).await {
        Ok(u) if idhub_domain::lifecycle::can_authenticate(u.user.status) => u,
        _ => return with_headers(error_page(StatusCode::FORBIDDEN, &org.name, "Cannot sign in", "This account cannot sign in."), vec![]),
    };
    let sign_in = SignIn { user: &user, amr, target: Some(to), events: vec![] };
    let done = complete_sign_in(&state, &org, Via::Browser(&parts.headers), &client.0, sign_in).await;
    super::complete::browser_answer(&org, done)
}

/// `GET /app/UserHome`: the end user's dashboard of app tiles.
pub async fn dashboard(State(state): State<AppState>, signed_in: SignedIn, csrf: Csrf) -> Response {
    let u = &signed_in.user.user;
    let org = &signed_in.org;
    let apps = match state.store.apps_for_user(&org.id, u.id.as_str(), true).await {
        Ok(a) => a,
        Err(e) => return crate::error::ApiError::internal(e.to_string()).into_response(),
    };
    let tiles: Vec<String> = apps
        .iter()
        .filter(|a| !a.visibility.pointer("/hide/web").and_then(serde_json::Value::as_bool).unwrap_or(false))
        .map(|a| {
            format!(
                "<li class=\"tile\"><a href=\"{}\" id=\"tile-{}\" data-app=\"{}\">{}</a></li>",
                escape(&crate::api::applications::sign_on_url(org, a)),
                escape(&a.id),
                escape(&a.name),
                escape(&a.label)
            )
        })
        .collect();
    let list = if tiles.is_empty() {
        "<p class=\"empty\">No apps are assigned to you yet.</p>".to_string()
    } else {
        format!("<ul class=\"tiles\" id=\"app-tiles\">{}</ul>", tiles.join(""))
    };
    let admin = if u.admin_role.is_some() { "<p><a href=\"/admin/dashboard\" id=\"admin-link\">Admin</a></p>" } else { "" };
    let admin = format!("<p><a href=\"/enduser/settings\" id=\"settings-link\">Settings</a></p>{admin}");
    let body = format!(
        "<section class=\"card\"><h1>My Apps</h1><p>Signed in as <strong id=\"current-user\">{}</strong></p>{list}{admin}\
<form method=\"post\" action=\"/login/signout\"><input type=\"hidden\" name=\"csrf\" value=\"{}\"><button type=\"submit\" id=\"sign-out\">Sign out</button></form></section>",
        escape(u.login()),
        escape(&csrf.token)
    );
    with_headers(page("My Apps", &org.name, &body).into_response(), csrf.cookies())
}

/// `GET /static/idhub.css`
pub async fn stylesheet() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")], STYLESHEET).into_response()
}

const STYLESHEET: &str = "body{font-family:system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d1d21}\
.top{background:#1d1d21;color:#fff;padding:.75rem 1rem}.brand{font-weight:600}\
main{max-width:960px;margin:2rem auto;padding:0 1rem}.card{background:#fff;border-radius:8px;padding:1.5rem;box-shadow:0 1px 3px rgba(0,0,0,.1)}\
.signin{max-width:360px;margin:auto}label{display:block;margin-top:1rem;font-weight:600}\
input{width:100%;box-sizing:border-box;padding:.5rem;margin-top:.25rem;font-size:1rem}\
button{margin-top:1.25rem;padding:.6rem 1.2rem;font-size:1rem;background:#1662dd;color:#fff;border:0;border-radius:4px;cursor:pointer}\
.error{color:#b00020;background:#fdecea;padding:.5rem;border-radius:4px}.tiles{display:flex;flex-wrap:wrap;gap:1rem;list-style:none;padding:0}\
.tile a{display:block;width:140px;padding:1.5rem .75rem;text-align:center;background:#fff;border:1px solid #dcdce0;border-radius:8px;text-decoration:none;color:#1d1d21;font-weight:600}";

fn query_map(q: Option<&str>) -> HashMap<String, String> {
    let mut m = HashMap::new();
    for pair in q.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let dec =
            |s: &str| percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8().map(|c| c.into_owned()).unwrap_or_default();
        m.insert(dec(k), dec(v));
    }
    m
}
