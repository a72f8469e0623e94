//! Finishing a sign-in over HTTP: the browser's previous session cookie goes to the
//! core's one completion (`idhub_core::signin::complete`: the org's sign-on policy, the
//! previous session ended, the new one started, the events), and its answer becomes
//! cookies and a redirect (the CSRF token is derived from the new session, so it changes
//! too).

use super::session::SESSION_COOKIE;
use crate::AppState;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};
use idhub_core::signin::complete as core_complete;
pub use idhub_core::signin::complete::{has_second_factor, Completed, SignIn, SESSION_TOKEN_TTL_MS};
use idhub_domain::event::ClientInfo;
use idhub_store::orgs::Org;
use idhub_store::StoreError;

/// Where the sign-in happens: a browser (its headers carry the previous session's
/// cookie, if any) or an API client.
#[derive(Debug, Clone, Copy)]
pub enum Via<'a> {
    Browser(&'a HeaderMap),
    Api,
}

/// Finish a sign-in ([`idhub_core::signin::complete::complete`]) for this request.
pub async fn complete_sign_in(
    state: &AppState,
    org: &Org,
    via: Via<'_>,
    client: &ClientInfo,
    sign_in: SignIn<'_>,
) -> Result<Completed, StoreError> {
    let previous = match via {
        Via::Browser(headers) => Some(crate::html::org_cookie(org, headers, SESSION_COOKIE)),
        Via::Api => None,
    };
    let via = match &previous {
        Some(cookie) => core_complete::Via::Browser { previous: cookie.as_deref() },
        None => core_complete::Via::Api,
    };
    core_complete::complete(&state.core, org, via, client, sign_in).await
}

/// The browser's answer to a finished sign-in: to the factor step, or signed in to the
/// target (the session cookie set, the pre-session and transaction cookies cleared).
pub fn browser_answer(org: &Org, done: Result<Completed, StoreError>) -> Response {
    let (to, cookies) = match done {
        Ok(Completed::Factor { secret, .. }) => {
            ("/login/mfa".to_string(), vec![crate::html::set_cookie_for(org, super::pages::TX_COOKIE, &secret, None)])
        }
        Ok(Completed::Session { secret, to, .. }) => (
            to,
            vec![
                crate::html::set_cookie_for(org, SESSION_COOKIE, &secret, None),
                crate::html::clear_pre_session_cookie(org),
                crate::html::set_cookie_for(org, super::pages::TX_COOKIE, "", Some(0)),
            ],
        ),
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
