//! The Assertion Consumer Service over HTTP: `POST /sso/saml2/{idpId}` (trust-specific)
//! and `POST /sso/saml2` (org-wide). The form goes to the core's decision
//! (`idhub_core::acs::accept`: the order of trust, the replay store, the directory
//! effects); an accepted Response is a sign-in completed like every other (the org's
//! sign-on policy: the hub's own factor unless the IdP's claims are trusted and say MFA;
//! the browser's previous session ends) → a redirect to a same-org RelayState or the
//! dashboard. Every refusal writes `user.authentication.auth_via_IDP` FAILURE with its
//! reason and shows a readable page.

use crate::html::{add_security_headers, error_page};
use crate::org::CurrentOrg;
use crate::request::Client;
use crate::signin::complete::{browser_answer, complete_sign_in, SignIn, Via};
use crate::signin::session::{same_org_target, SignedIn};
use crate::AppState;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use idhub_core::acs::{accept, Accepted, Outcome, Posted};
use idhub_core::idps::settings_of;
use idhub_domain::event::{ClientInfo, NewEvent, Party};
use idhub_saml::UnverifiedResponse;
use idhub_store::idps::Idp;
use idhub_store::orgs::Org;
use idhub_store::StoreError;
use std::collections::HashMap;

fn form_value(form: &Result<Form<HashMap<String, String>>, FormRejection>, key: &str) -> Option<String> {
    form.as_ref().ok().and_then(|f| f.0.get(key).cloned())
}

/// `POST /sso/saml2/{idpId}`
pub async fn acs_instance(
    State(state): State<AppState>,
    CurrentOrg(org): CurrentOrg,
    client: Client,
    Path(id): Path<String>,
    parts: axum::http::request::Parts,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let outcome = match state.store.get_idp(&org.id, &id).await {
        Ok(idp) => {
            let session = crate::signin::session::current_session(&state, &parts).await.ok().flatten();
            let saml_response = form_value(&form, "SAMLResponse");
            let relay_state = form_value(&form, "RelayState");
            consume(&state, &org, &idp, &client.0, &parts.headers, session.as_ref(), saml_response.as_deref(), relay_state).await
        }
        Err(StoreError::NotFound) => {
            return error_page(
                StatusCode::NOT_FOUND,
                &org.name,
                "Unknown identity provider",
                "There is no such identity provider in this organization.",
            )
        }
        Err(e) => Err(Outcome::Failed(e.to_string())),
    };
    finish(&state, &org, &client.0, outcome).await
}

/// `POST /sso/saml2`: the org-wide ACS; the Response is tried against each active IdP
/// that uses it (each with its own certificate).
pub async fn acs_org(
    State(state): State<AppState>,
    CurrentOrg(org): CurrentOrg,
    client: Client,
    parts: axum::http::request::Parts,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let session = crate::signin::session::current_session(&state, &parts).await.ok().flatten();
    let idps = match state.store.list_idps(&org.id, None, 0, 1000).await {
        Ok(v) => v,
        Err(e) => return finish(&state, &org, &client.0, Err(Outcome::Failed(e.to_string()))).await,
    };
    let candidates: Vec<Idp> =
        idps.into_iter().filter(|i| i.status == "ACTIVE" && settings_of(i).map(|s| !s.acs_instance).unwrap_or(false)).collect();
    let (response, relay) = (form_value(&form, "SAMLResponse"), form_value(&form, "RelayState"));
    // Decoded once, only to pick which IdP's policy verifies it (the verifier checks the
    // Issuer again from the signed content).
    let untrusted = response.as_deref().and_then(|r| UnverifiedResponse::from_base64(r).ok());
    for idp in &candidates {
        let issuer_matches = match (&untrusted, settings_of(idp)) {
            (Some(u), Ok(s)) => u.untrusted_xml().contains(&s.issuer),
            _ => false,
        };
        if issuer_matches {
            let r = consume(&state, &org, idp, &client.0, &parts.headers, session.as_ref(), response.as_deref(), relay.clone()).await;
            return finish(&state, &org, &client.0, r).await;
        }
    }
    let unknown = Outcome::Refused {
        reason: "unknown_idp",
        summary: "The sign-in response comes from an identity provider this organization does not trust.".into(),
        detail: "no active identity provider using the org-wide ACS has this issuer".into(),
        user: None,
        idp: None,
    };
    finish(&state, &org, &client.0, Err(unknown)).await
}

/// Turn an accepted Response into a completed sign-in (the org's policy, the session,
/// the redirect to a same-org target).
async fn sign_in(state: &AppState, org: &Org, client: &ClientInfo, headers: &HeaderMap, accepted: Accepted) -> Response {
    let Accepted { user, amr, relay_state, events } = accepted;
    let target = relay_state.and_then(|r| same_org_target(org, &r));
    let sign_in = SignIn { user: &user, amr, target, events };
    browser_answer(org, complete_sign_in(state, org, Via::Browser(headers), client, sign_in).await)
}

/// Decide the posted Response and sign the user in, or say why not.
#[allow(clippy::too_many_arguments)]
async fn consume(
    state: &AppState,
    org: &Org,
    idp: &Idp,
    client: &ClientInfo,
    headers: &HeaderMap,
    session: Option<&SignedIn>,
    saml_response: Option<&str>,
    relay_state: Option<String>,
) -> Result<Response, Outcome> {
    let post = Posted { session: session.map(|s| (&s.session, &s.user)), saml_response, relay_state };
    let accepted = accept(&state.core, org, idp, client, post).await?;
    Ok(sign_in(state, org, client, headers, accepted).await)
}

async fn finish(state: &AppState, org: &Org, client: &ClientInfo, outcome: Result<Response, Outcome>) -> Response {
    match outcome {
        Ok(r) => r,
        Err(Outcome::Refused { reason, summary, detail, user, idp }) => {
            let actor = user.clone().unwrap_or_else(|| Party::new("unknown", "User", "unknown", "Unknown user"));
            let targets = idp.into_iter().collect();
            let ev = NewEvent::failure(
                "user.authentication.auth_via_IDP",
                format!("Authenticate user via IDP: {detail}"),
                actor,
                targets,
                client.clone(),
                reason,
            );
            if let Err(e) = state.store.create_events(&org.id, &[ev], state.now()).await {
                tracing::warn!("could not record auth_via_IDP failure: {e}");
            }
            tracing::info!(reason, detail = %detail, "inbound SAML refused");
            let status = if matches!(reason, "idp_inactive" | "user_deactivated" | "user_suspended" | "user_locked" | "user_inactive") {
                StatusCode::FORBIDDEN
            } else {
                StatusCode::BAD_REQUEST
            };
            let mut r = error_page(status, &org.name, "Sign-in failed", &format!("{summary} (reason: {reason})"));
            add_security_headers(r.headers_mut());
            r
        }
        Err(Outcome::Failed(log)) => {
            let id = crate::error::new_error_id();
            tracing::error!(error_id = %id, "ACS failed: {log}");
            error_page(StatusCode::INTERNAL_SERVER_ERROR, &org.name, "Something went wrong", &format!("Please try again. (error id {id})"))
        }
    }
}
