//! Finishing a sign-in: the one function every way of signing in ends with (the hosted
//! sign-in page and its factor step, ForceAuthn re-authentication, `/api/v1/authn`,
//! `sessionCookieRedirect`, the inbound IdP ACS for SSO and as a factor). It applies the
//! org's sign-on policy (a factor, enrolled first if the user has none, when the policy
//! requires one and the sign-in has not proven one), ends the browser's previous
//! session, starts the new one (its CSRF token is derived from it, so it changes too),
//! writes the events, and says where to go.

use super::session::{end_session_of_request, start_session};
use crate::AppState;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use idhub_core::signin::mfa;
use idhub_domain::event::{ClientInfo, NewEvent};
use idhub_store::factors::AuthnTransaction;
use idhub_store::orgs::Org;
use idhub_store::rows::StoredUser;
use idhub_store::StoreError;

/// Lifetime of an `/api/v1/authn` session token.
pub const SESSION_TOKEN_TTL_MS: i64 = 5 * 60 * 1000;

/// Authentication methods (`amr`) that prove a second factor: a code here, or an IdP's
/// multifactor claim this org trusts (or an IdP used as a factor).
pub fn has_second_factor(amr: &[String]) -> bool {
    amr.iter().any(|m| m == "otp" || m == "mfa")
}

/// Where the sign-in happens: a browser (a session cookie) or an API client (a one-time
/// session token to trade at `sessionCookieRedirect`).
#[derive(Debug, Clone, Copy)]
pub enum Via<'a> {
    Browser(&'a HeaderMap),
    Api,
}

/// A user who has proven who they are.
#[derive(Debug)]
pub struct SignIn<'a> {
    pub user: &'a StoredUser,
    /// How (`pwd`, `otp`, `fed`, `mfa`, `idp`).
    pub amr: Vec<String>,
    /// A same-org place to continue to (already checked); the dashboard otherwise.
    pub target: Option<String>,
    /// Events of the proof itself (e.g. `user.authentication.auth_via_IDP`), written
    /// whatever comes next.
    pub events: Vec<NewEvent>,
}

/// What a finished sign-in leads to.
#[derive(Debug)]
pub enum Completed {
    /// The org's policy wants a factor first: the transaction (its secret is the browser's
    /// transaction cookie or the API's `stateToken`).
    Factor { secret: String, tx: AuthnTransaction },
    /// Signed in (browser): the `Set-Cookie` values and where to go.
    Session { cookies: Vec<HeaderValue>, to: String },
    /// Signed in (API): a one-time session token and when it expires.
    Token { token: String, expires: i64 },
}

/// Finish a sign-in: the org's policy, then the session (or token) and the events.
pub async fn complete_sign_in(
    state: &AppState,
    org: &Org,
    via: Via<'_>,
    client: &ClientInfo,
    sign_in: SignIn<'_>,
) -> Result<Completed, StoreError> {
    let SignIn { user, amr, target, events } = sign_in;
    let now = state.now();
    if !events.is_empty() {
        state.store.create_events(&org.id, &events, now).await?;
    }
    if !has_second_factor(&amr) && mfa::mfa_required(&state.core, org, &user.user).await? {
        let (secret, tx) = mfa::begin(&state.core, org, &user.user, amr, target).await?;
        return Ok(Completed::Factor { secret, tx });
    }
    match via {
        Via::Browser(headers) => {
            end_session_of_request(state, org, headers, client).await;
            let (_, cookie) = start_session(state, org, user, amr, client).await?;
            let cookies = vec![
                cookie,
                crate::html::clear_pre_session_cookie(org),
                crate::html::set_cookie_for(org, super::pages::TX_COOKIE, "", Some(0)),
            ];
            Ok(Completed::Session { cookies, to: target.unwrap_or_else(|| "/app/UserHome".into()) })
        }
        Via::Api => {
            let token = format!("20111{}", idhub_domain::ids::random_base62(40));
            let expires = now + SESSION_TOKEN_TTL_MS;
            state.store.create_session_token(&org.id, &user.user.id, &amr, &token, expires).await?;
            let u = &user.user;
            let ev = NewEvent::success(
                "user.authentication.authenticate",
                "User authentication",
                idhub_core::directory::user_party(u),
                vec![],
                client.clone(),
            );
            state.store.create_events(&org.id, &[ev], now).await?;
            Ok(Completed::Token { token, expires })
        }
    }
}

/// The browser's answer to a finished sign-in: to the factor step, or signed in to the
/// target.
pub fn browser_answer(org: &Org, done: Result<Completed, StoreError>) -> Response {
    let (to, cookies) = match done {
        Ok(Completed::Factor { secret, .. }) => {
            ("/login/mfa".to_string(), vec![crate::html::set_cookie_for(org, super::pages::TX_COOKIE, &secret, None)])
        }
        Ok(Completed::Session { cookies, to }) => (to, cookies),
        Ok(Completed::Token { .. }) => return crate::error::ApiError::internal("a browser sign-in ended with a token").into_response(),
        Err(e) => return crate::error::ApiError::internal(e.to_string()).into_response(),
    };
    let mut resp = Redirect::to(&to).into_response();
    for c in cookies {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    crate::html::add_security_headers(resp.headers_mut());
    resp
}
