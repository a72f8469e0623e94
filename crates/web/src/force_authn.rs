//! SAML `ForceAuthn`: when a service provider's AuthnRequest asks for fresh
//! authentication, the signed-in user enters their password again on the sign-in page
//! before the IdP answers — unless the app has "Disable Force Authentication" checked
//! (Okta's `settings.signOn.honorForceAuthn: false`).
//!
//! The IdP sends the user to `/login` with the request to continue to, plus a token it
//! sealed with the server key: the AuthnRequest it is for, when it asked and which
//! session asked. The request then succeeds only in a session begun after the asking by
//! a new sign-in (a different session), within ten minutes; the token cannot be forged
//! or moved to another request, and the old session cannot satisfy it.

use crate::api::extract::Params;
use crate::AppState;
use axum::http::request::Parts;
use idhub_store::apps::App;
use idhub_store::orgs::Org;
use idhub_store::sessions::Session;
use serde_json::Value;

/// The query parameter carrying the sealed token back to the SSO endpoint.
pub const PARAM: &str = "idhubReauth";
const TTL_MS: i64 = 10 * 60 * 1000;

fn purpose(org: &Org, app: &App, request_id: &str) -> String {
    format!("reauth:{}:{}:{request_id}", org.id.as_str(), app.id)
}

/// Does the app honour `ForceAuthn` (the default; "Disable Force Authentication" off)?
pub fn honoured(app: &App) -> bool {
    app.settings.pointer("/signOn/honorForceAuthn").and_then(Value::as_bool).unwrap_or(true)
}

/// Has the user signed in again for AuthnRequest `request_id` since it was asked?
pub fn satisfied(state: &AppState, org: &Org, app: &App, request_id: &str, params: &Params, session: &Session) -> bool {
    let Some(token) = params.get(PARAM) else { return false };
    let Ok(plain) = state.settings.sealing_key.open(&purpose(org, app, request_id), token) else { return false };
    let plain = String::from_utf8_lossy(&plain);
    let Some((at, asking_session)) = plain.split_once(':') else { return false };
    let Ok(at) = at.parse::<i64>() else { return false };
    session.id != asking_session && session.created >= at && state.now() - at <= TTL_MS
}

/// Where the request continues after a sign-in: this URL as a GET (a POSTed request
/// travels as `SAMLRequestPost`), without a previous token.
pub fn continue_uri(parts: &Parts, params: &Params) -> String {
    let enc = |v: &str| percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC).to_string();
    match params.get("SAMLRequestPost") {
        Some(r) => {
            let relay = params.get("RelayState").map(|rs| format!("&RelayState={}", enc(rs))).unwrap_or_default();
            format!("{}?SAMLRequestPost={}{relay}", parts.uri.path(), enc(r))
        }
        None => {
            let kept: Vec<&str> = parts
                .uri
                .query()
                .unwrap_or_default()
                .split('&')
                .filter(|p| !p.is_empty() && !p.starts_with(&format!("{PARAM}=")))
                .collect();
            if kept.is_empty() {
                parts.uri.path().to_string()
            } else {
                format!("{}?{}", parts.uri.path(), kept.join("&"))
            }
        }
    }
}

/// The sign-in page URL that asks for the password again, then continues the request.
pub fn ask(state: &AppState, org: &Org, app: &App, request_id: &str, parts: &Parts, params: &Params, session: &Session) -> Option<String> {
    let token =
        state.settings.sealing_key.seal(&purpose(org, app, request_id), format!("{}:{}", state.now(), session.id).as_bytes()).ok()?;
    let enc = |v: &str| percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC).to_string();
    let from = continue_uri(parts, params);
    let sep = if from.contains('?') { '&' } else { '?' };
    Some(format!("/login?fromURI={}", enc(&format!("{from}{sep}{PARAM}={}", enc(&token)))))
}

/// Is this sign-in URL one that re-authenticates for a request?
pub fn is_reauth(from_uri: &str) -> bool {
    from_uri.contains(&format!("{PARAM}="))
}
