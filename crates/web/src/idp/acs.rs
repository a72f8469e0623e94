//! The Assertion Consumer Service: `POST /sso/saml2/{idpId}` (trust-specific) and
//! `POST /sso/saml2` (org-wide). The order of trust (saml-security.md): the IdP must be
//! active → the saml crate parses with its hardened parser and verifies with the
//! configured certificate only, then checks issuer, destination, recipient, audience,
//! times with the configured skew, bearer confirmation, InResponseTo (an unknown one is
//! refused; a known one is consumed) and status → the assertion id must be new (replay
//! store in the database) → the directory effects (filter, match, link, JIT, …) → a
//! sign-in completed like every other (the org's sign-on policy: the hub's own factor
//! unless the IdP's claims are trusted and say MFA; the browser's previous session
//! ends) → a redirect to a same-org RelayState or the dashboard. Every refusal writes
//! `user.authentication.auth_via_IDP` FAILURE with its reason and shows a readable page.

use crate::html::{add_security_headers, error_page};
use crate::org::CurrentOrg;
use crate::request::Client;
use crate::signin::complete::{browser_answer, complete_sign_in, SignIn, Via};
use crate::signin::session::same_org_target;
use crate::AppState;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use idhub_core::federation::{federate, idp_party, FederationError, Refusal};
use idhub_core::idps::{acs_url, settings_of};
use idhub_domain::event::{ClientInfo, NewEvent, Party};
use idhub_domain::idp::{SamlIdp, SignatureScope, Usage};
use idhub_saml::{Certificate, SamlError, TrustPolicy, UnverifiedResponse, VerifiedAssertion};
use idhub_store::idps::Idp;
use idhub_store::orgs::Org;
use idhub_store::StoreError;
use std::collections::HashMap;

/// What the ACS decided, before it is turned into a response.
/// The refusal or failure an ACS step ends with (short-lived, on the error path only).
#[allow(clippy::large_enum_variant)]
pub enum Outcome {
    Refused { reason: &'static str, summary: String, detail: String, user: Option<Party>, idp: Option<Party> },
    Failed(String),
}

fn saml_refusal(e: &SamlError, idp: &Idp) -> Outcome {
    Outcome::Refused { reason: e.reason(), summary: e.summary().to_string(), detail: e.to_string(), user: None, idp: Some(idp_party(idp)) }
}

fn summary_of(reason: &str) -> &'static str {
    match reason {
        "replay" => "This sign-in response was already used. Start the sign-in again.",
        "idp_inactive" => "This identity provider is not active.",
        "no_match" => "No account here matches the account you signed in with.",
        "link_disabled" | "link_restricted" => "Your account here cannot be linked to the account you signed in with.",
        "user_deactivated" => "Your account here is deactivated. Contact your administrator.",
        "user_suspended" => "Your account here is suspended. Contact your administrator.",
        "user_locked" => "Your account here is locked. Contact your administrator.",
        "username_filtered" => "The account you signed in with is not allowed here.",
        "factor_only" => "This identity provider can only be used as a second factor.",
        _ => "You could not be signed in with this identity provider.",
    }
}

fn refusal(r: Refusal, idp: &Idp) -> Outcome {
    Outcome::Refused {
        reason: r.reason,
        summary: summary_of(r.reason).to_string(),
        detail: r.detail,
        user: r.user,
        idp: Some(idp_party(idp)),
    }
}

/// The request id a Response says it answers (read before verification only to look up
/// the outstanding request; the verifier then checks the signed value against it).
fn claimed_in_response_to(xml: &str) -> Option<String> {
    let at = xml.find("InResponseTo")?;
    let rest = xml[at + "InResponseTo".len()..].trim_start().strip_prefix('=')?.trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &rest[1..];
    let end = value.find(quote)?;
    Some(value[..end].to_string()).filter(|v| !v.is_empty() && v.len() <= 256)
}

/// The policy the IdP's settings ask for.
pub fn trust_policy(org: &Org, idp: &Idp, settings: &SamlIdp, certificates: Vec<Certificate>, request_id: Option<String>) -> TrustPolicy {
    let mut p = TrustPolicy::new(settings.issuer.clone(), certificates, acs_url(org, idp, settings), settings.audience.clone());
    p.max_clock_skew = chrono::Duration::milliseconds(settings.max_clock_skew_ms);
    p.signature_scope = match settings.response_scope {
        SignatureScope::Response => idhub_saml::SignatureScope::Response,
        SignatureScope::Assertion => idhub_saml::SignatureScope::Assertion,
        SignatureScope::Any => idhub_saml::SignatureScope::Either,
    };
    p.allow_sha1 = settings.response_algorithm == "SHA-1";
    p.allow_idp_initiated = true;
    p.request_id = request_id;
    p
}

async fn trusted_certificates(state: &AppState, org: &Org, settings: &SamlIdp) -> Result<Vec<Certificate>, StoreError> {
    let Some(kid) = &settings.trust_kid else { return Ok(vec![]) };
    match state.store.get_idp_key(&org.id, kid).await {
        Ok(k) => Ok(Certificate::from_base64_der(&k.cert_der).into_iter().collect()),
        Err(StoreError::NotFound) => Ok(vec![]),
        Err(e) => Err(e),
    }
}

/// Verify a Response for one IdP: outstanding request, signature and conditions, replay.
/// Returns the verified assertion and the RelayState saved with the request, if any.
pub async fn verify_for_idp(
    state: &AppState,
    org: &Org,
    idp: &Idp,
    settings: &SamlIdp,
    response: &UnverifiedResponse,
    now: DateTime<Utc>,
) -> Result<(VerifiedAssertion, Option<String>), Outcome> {
    let certificates = trusted_certificates(state, org, settings).await.map_err(|e| Outcome::Failed(e.to_string()))?;
    let mut saved_relay = None;
    let mut request_id = None;
    if let Some(irt) = claimed_in_response_to(response.untrusted_xml()) {
        // A known request is consumed here: each AuthnRequest is answered at most once.
        match state.store.take_saml_request(&org.id, &idp.id, &irt, now.timestamp_millis()).await {
            Ok(Some(req)) => {
                saved_relay = req.relay_state;
                request_id = Some(req.id);
            }
            Ok(None) => {}
            Err(e) => return Err(Outcome::Failed(e.to_string())),
        }
    }
    let policy = trust_policy(org, idp, settings, certificates, request_id);
    let verified = response.verify(&policy, now).map_err(|e| saml_refusal(&e, idp))?;
    let fresh = state
        .store
        .remember_assertion(&org.id, &idp.id, verified.assertion_id(), verified.remember_until().timestamp_millis(), now.timestamp_millis())
        .await
        .map_err(|e| Outcome::Failed(e.to_string()))?;
    if !fresh {
        return Err(Outcome::Refused {
            reason: "replay",
            summary: summary_of("replay").into(),
            detail: format!("the assertion {} was already accepted", verified.assertion_id().chars().take(80).collect::<String>()),
            user: None,
            idp: Some(idp_party(idp)),
        });
    }
    Ok((verified, saved_relay))
}

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
            let post = Posted {
                headers: &parts.headers,
                session,
                saml_response: form_value(&form, "SAMLResponse"),
                relay_state: form_value(&form, "RelayState"),
            };
            consume(&state, &org, &idp, &client.0, post).await
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
            let post =
                Posted { headers: &parts.headers, session: session.clone(), saml_response: response.clone(), relay_state: relay.clone() };
            let r = consume(&state, &org, idp, &client.0, post).await;
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

/// IdP usage "Factor only": the assertion proves a second factor for the user already
/// signed in here; it must name that same user, and the sign-in completes again with
/// `idp` and `mfa` added to the session's authentication methods (a new session: a
/// raised level of assurance gets a new session id and CSRF token). Nobody is created,
/// linked or changed.
async fn as_factor(
    state: &AppState,
    org: &Org,
    idp: &Idp,
    settings: &SamlIdp,
    verified: &VerifiedAssertion,
    client: &ClientInfo,
    post: Posted<'_>,
) -> Result<Response, Outcome> {
    let Posted { headers, session, relay_state: relay, .. } = post;
    let factor_refusal = |reason: &'static str, detail: &str, user: Option<Party>| Outcome::Refused {
        reason,
        summary: summary_of("factor_only").into(),
        detail: detail.into(),
        user,
        idp: Some(idp_party(idp)),
    };
    let Some(signed_in) = session else {
        return Err(factor_refusal("factor_without_session", "the identity provider is a factor only; sign in here first", None));
    };
    let named = match idhub_core::federation::identify(&state.core, org, idp, settings, verified).await {
        Ok(u) => u,
        Err(FederationError::Refused(r)) => return Err(refusal(*r, idp)),
        Err(FederationError::Internal(e)) => return Err(Outcome::Failed(e.to_string())),
    };
    let me = idhub_core::directory::user_party(&signed_in.user.user);
    if named.as_ref().map(|u| &u.user.id) != Some(&signed_in.user.user.id) {
        return Err(factor_refusal("factor_user_mismatch", "the assertion names another user than the one signed in", Some(me)));
    }
    let ev = NewEvent::success(
        "user.authentication.auth_via_IDP",
        "Authenticate user via IDP (as a factor)",
        me,
        vec![idp_party(idp)],
        client.clone(),
    );
    let mut amr = signed_in.session.amr.clone();
    for m in ["idp", "mfa"] {
        if !amr.iter().any(|a| a == m) {
            amr.push(m.to_string());
        }
    }
    let target = relay.and_then(|r| same_org_target(org, &r));
    let sign_in = SignIn { user: &signed_in.user, amr, target, events: vec![ev] };
    Ok(browser_answer(org, complete_sign_in(state, org, Via::Browser(headers), client, sign_in).await))
}

/// What was posted to the ACS, with the browser it came from.
pub struct Posted<'a> {
    headers: &'a HeaderMap,
    /// The browser's live session here, if any.
    session: Option<crate::signin::session::SignedIn>,
    saml_response: Option<String>,
    relay_state: Option<String>,
}

async fn consume(state: &AppState, org: &Org, idp: &Idp, client: &ClientInfo, post: Posted<'_>) -> Result<Response, Outcome> {
    let settings = settings_of(idp).map_err(|e| Outcome::Failed(format!("{e:?}")))?;
    if idp.status != "ACTIVE" {
        return Err(Outcome::Refused {
            reason: "idp_inactive",
            summary: summary_of("idp_inactive").into(),
            detail: "the identity provider is deactivated".into(),
            user: None,
            idp: Some(idp_party(idp)),
        });
    }
    let Some(encoded) = post.saml_response.clone().filter(|s| !s.is_empty()) else {
        return Err(saml_refusal(&SamlError::Missing("SAMLResponse"), idp));
    };
    let response = UnverifiedResponse::from_base64(&encoded).map_err(|e| saml_refusal(&e, idp))?;
    let now = DateTime::<Utc>::from_timestamp_millis(state.now()).unwrap_or_else(Utc::now);
    let (verified, saved_relay) = verify_for_idp(state, org, idp, &settings, &response, now).await?;
    if settings.usage == Usage::Factor {
        let relay_state = post.relay_state.clone().or(saved_relay);
        return as_factor(state, org, idp, &settings, &verified, client, Posted { relay_state, ..post }).await;
    }
    let user = match federate(&state.core, org, idp, &settings, &verified, client).await {
        Ok(u) => u,
        Err(FederationError::Refused(r)) => return Err(refusal(*r, idp)),
        Err(FederationError::Internal(e)) => return Err(Outcome::Failed(e.to_string())),
    };
    if !idhub_domain::lifecycle::can_authenticate(user.user.status) {
        return Err(refusal(
            Refusal {
                reason: "user_inactive",
                detail: format!("the user's status is {}", user.user.status.as_str()),
                user: Some(idhub_core::directory::user_party(&user.user)),
            },
            idp,
        ));
    }
    // The hub's sign-on policy applies to federated users too; an MFA claim of the IdP
    // counts only where the admin chose to trust its claims.
    let mut amr = vec!["fed".to_string()];
    if settings.trust_claims && verified.authn_context_class().is_some_and(idhub_domain::idp::is_mfa_context) {
        amr.push("mfa".to_string());
    }
    let ev = NewEvent::success(
        "user.authentication.auth_via_IDP",
        "Authenticate user via IDP",
        idhub_core::directory::user_party(&user.user),
        vec![idp_party(idp)],
        client.clone(),
    );
    let target = post.relay_state.or(saved_relay).and_then(|r| same_org_target(org, &r));
    let sign_in = SignIn { user: &user, amr, target, events: vec![ev] };
    Ok(browser_answer(org, complete_sign_in(state, org, Via::Browser(post.headers), client, sign_in).await))
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
