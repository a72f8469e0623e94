//! SP-initiated sign-in with an IdP: `GET /sso/idps/{idpId}` (Okta's authorize link),
//! `GET /sso/saml2/{idpId}` and the deep link `/sso/saml2/{idpId}/app/{name}/{appId}/sso/saml`.
//! An AuthnRequest is built, remembered in the database (its ID is the only
//! InResponseTo the ACS will take, once, for ten minutes), and sent by the IdP's binding —
//! signed (RSA-SHA256) when the IdP's settings ask for it.

use crate::html::{add_security_headers, error_page, escape};
use crate::org::CurrentOrg;
use crate::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use idhub_core::idps::{acs_url, settings_of};
use idhub_core::signing_keys::sp_signing_key;
use idhub_saml::authn_request::{build_authn_request, AuthnRequestSpec};
use idhub_store::idps::SamlRequest;
use idhub_store::orgs::Org;
use std::collections::HashMap;

/// How long an AuthnRequest may be answered.
const REQUEST_LIFETIME_MS: i64 = 10 * 60 * 1000;

/// `GET /sso/idps/{idpId}` and `GET /sso/saml2/{idpId}`: `RelayState` or `fromURI` say
/// where to continue after sign-in.
pub async fn start(
    State(state): State<AppState>,
    CurrentOrg(org): CurrentOrg,
    Path(id): Path<String>,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Response {
    // a query that does not decode is no RelayState
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let relay = q.get("RelayState").or_else(|| q.get("fromURI")).cloned();
    send_request(&state, &org, &id, relay).await
}

/// `GET /sso/saml2/{idpId}/app/{name}/{appId}/sso/saml`: sign in with the IdP, then
/// continue straight to the app's sign-on (passing its own RelayState on).
pub async fn start_for_app(
    State(state): State<AppState>,
    CurrentOrg(org): CurrentOrg,
    Path((id, name, app)): Path<(String, String, String)>,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Response {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let enc = |v: &str| percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC).to_string();
    let mut target = format!("/app/{}/{}/sso/saml", enc(&name), enc(&app));
    if let Some(r) = q.get("RelayState") {
        target.push_str("?RelayState=");
        target.push_str(&enc(r));
    }
    send_request(&state, &org, &id, Some(target)).await
}

async fn send_request(state: &AppState, org: &Org, id: &str, relay: Option<String>) -> Response {
    let unavailable = || {
        error_page(
            StatusCode::NOT_FOUND,
            &org.name,
            "Identity provider unavailable",
            "There is no such active identity provider in this organization.",
        )
    };
    let idp = match state.store.get_idp(&org.id, id).await {
        Ok(i) if i.status == "ACTIVE" => i,
        _ => return unavailable(),
    };
    let Ok(settings) = settings_of(&idp) else { return unavailable() };
    let relay = relay.filter(|r| r.len() <= 2048).and_then(|r| crate::signin::session::same_org_target(org, &r));
    let now = state.now();
    let spec = AuthnRequestSpec {
        issuer: settings.audience.clone(),
        destination: settings.destination.clone().unwrap_or_else(|| settings.sso_url.clone()),
        acs_url: acs_url(org, &idp, &settings),
        name_id_format: Some(settings.name_format.clone()),
        force_authn: false,
        now: DateTime::<Utc>::from_timestamp_millis(now).unwrap_or_else(Utc::now),
    };
    let failed = |e: String| {
        tracing::error!("AuthnRequest for IdP {}: {e}", idp.id);
        error_page(
            StatusCode::BAD_GATEWAY,
            &org.name,
            "Sign-in unavailable",
            "The sign-in request to the identity provider could not be made.",
        )
    };
    let request = match build_authn_request(&spec) {
        Ok(r) => r,
        Err(e) => return failed(e.to_string()),
    };
    let key = if settings.sign_requests {
        match sp_signing_key(&state.core, org, &idp).await {
            Ok((_, k)) => Some(k),
            Err(e) => return failed(crate::error::ApiError::from(e).summary),
        }
    } else {
        None
    };
    let saved = SamlRequest {
        id: request.id().to_string(),
        idp_id: idp.id.clone(),
        relay_state: relay.clone(),
        expires: now + REQUEST_LIFETIME_MS,
    };
    if let Err(e) = state.store.save_saml_request(&org.id, &saved).await {
        return failed(e.to_string());
    }
    // The RelayState sent to the IdP is the request id's partner: the ACS finds the
    // destination in the database, so nothing the IdP echoes back is trusted for it.
    if settings.sso_binding == "HTTP-Redirect" {
        match request.redirect_url(relay.as_deref(), key.as_ref()) {
            Ok(url) => Redirect::to(&url).into_response(),
            Err(e) => failed(e.to_string()),
        }
    } else {
        let value = match request.post_form_value(key.as_ref()) {
            Ok(v) => v,
            Err(e) => return failed(e.to_string()),
        };
        let relay_input =
            relay.map(|r| format!("<input type=\"hidden\" name=\"RelayState\" value=\"{}\">", escape(&r))).unwrap_or_default();
        let html = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Signing in with {name}</title><script src=\"/static/autopost.js\" defer></script></head>\
<body><form method=\"post\" action=\"{url}\"><input type=\"hidden\" name=\"SAMLRequest\" value=\"{value}\">{relay_input}\
<p>Sending you to {name}…</p><noscript><button type=\"submit\">Continue</button></noscript></form></body></html>",
            name = escape(&idp.name),
            url = escape(&settings.sso_url),
        );
        let mut r = Html(html).into_response();
        add_security_headers(r.headers_mut());
        r
    }
}

/// "Sign in with …" buttons for the org's active SSO identity providers (HTML).
pub async fn sign_in_buttons(state: &AppState, org: &Org, from_uri: &str) -> String {
    let idps = state.store.list_idps(&org.id, None, 0, 50).await.unwrap_or_default();
    let from = crate::signin::session::same_org_target(org, from_uri);
    let enc = |v: &str| percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC).to_string();
    let buttons: Vec<String> = idps
        .iter()
        .filter(|i| i.status == "ACTIVE" && settings_of(i).map(|s| s.usage == idhub_domain::idp::Usage::Sso).unwrap_or(false))
        .map(|i| {
            let q = from.as_deref().map(|f| format!("?fromURI={}", enc(f))).unwrap_or_default();
            format!("<a class=\"button idp\" href=\"/sso/idps/{}{q}\">Sign in with {}</a>", escape(&i.id), escape(&i.name))
        })
        .collect();
    if buttons.is_empty() {
        String::new()
    } else {
        format!("<div class=\"idps\"><p>Or</p>{}</div>", buttons.join(""))
    }
}

/// The app a sign-in continues to, from a `fromURI` such as `/app/{name}/{id}/sso/saml`.
fn app_of(from_uri: &str) -> Option<&str> {
    let path = from_uri.split(['?', '#']).next()?;
    let path = path.find("/app/").map(|i| &path[i..])?;
    let mut parts = path.trim_start_matches("/app/").split('/');
    let (_name, id) = (parts.next()?, parts.next()?);
    (parts.next() == Some("sso")).then_some(id)
}

/// Where the routing rules send this username (an IdP's sign-in URL), if anywhere
/// other than the org's own password sign-in.
pub async fn routed(state: &AppState, org: &Org, username: &str, from_uri: &str) -> Option<String> {
    if username.trim().is_empty() {
        return None;
    }
    let rules: Vec<idhub_domain::routing::RoutingRule> = state
        .store
        .list_routing_rules(&org.id)
        .await
        .ok()?
        .iter()
        .filter_map(|r| idhub_domain::routing::RoutingRule::from_okta(&r.rule).ok())
        .collect();
    match idhub_domain::routing::route(&rules, username, app_of(from_uri))? {
        idhub_domain::routing::Route::Local => None,
        idhub_domain::routing::Route::Idp(id) => {
            let enc = |v: &str| percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC).to_string();
            let from = crate::signin::session::same_org_target(org, from_uri).map(|f| format!("?fromURI={}", enc(&f))).unwrap_or_default();
            Some(format!("/sso/idps/{}{from}", enc(id)))
        }
    }
}
