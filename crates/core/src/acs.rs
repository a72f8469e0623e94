//! The Assertion Consumer Service's decisions, HTTP aside. The order of trust
//! (saml-security.md): the IdP must be active → the saml crate parses with its hardened
//! parser and verifies with the configured certificate only, then checks issuer,
//! destination, recipient, audience, times with the configured skew, bearer
//! confirmation, InResponseTo (an unknown one is refused; a known one is consumed) and
//! status → the assertion id must be new (replay store) → the directory effects
//! ([`crate::federation`]: filter, match, link, JIT, …) → who signs in, with which
//! authentication methods, to where. The web crate then completes the sign-in like
//! every other ([`crate::signin::complete`]) and turns a refusal into a page and a
//! `user.authentication.auth_via_IDP` FAILURE event.

use crate::federation::{federate, idp_party, FederationError, Refusal};
use crate::idps::{acs_url, settings_of};
use crate::Core;
use chrono::{DateTime, Utc};
use idhub_domain::event::{ClientInfo, NewEvent, Party};
use idhub_domain::idp::{SamlIdp, SignatureScope, Usage};
use idhub_saml::{Certificate, SamlError, TrustPolicy, UnverifiedResponse, VerifiedAssertion};
use idhub_store::idps::Idp;
use idhub_store::orgs::Org;
use idhub_store::rows::StoredUser;
use idhub_store::sessions::Session;
use idhub_store::{Optional, StoreError};

/// The refusal or failure an ACS step ends with (short-lived, on the error path only).
#[allow(clippy::large_enum_variant)]
pub enum Outcome {
    Refused { reason: &'static str, summary: String, detail: String, user: Option<Party>, idp: Option<Party> },
    Failed(String),
}

fn saml_refusal(e: &SamlError, idp: &Idp) -> Outcome {
    Outcome::Refused { reason: e.reason(), summary: e.summary().to_string(), detail: e.to_string(), user: None, idp: Some(idp_party(idp)) }
}

pub fn summary_of(reason: &str) -> &'static str {
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

async fn trusted_certificates(core: &Core, org: &Org, settings: &SamlIdp) -> Result<Vec<Certificate>, StoreError> {
    let Some(kid) = &settings.trust_kid else { return Ok(vec![]) };
    Ok(core.store.get_idp_key(&org.id, kid).await.optional()?.into_iter().flat_map(|k| Certificate::from_base64_der(&k.cert_der)).collect())
}

/// Verify a Response for one IdP: outstanding request, signature and conditions, replay.
/// Returns the verified assertion and the RelayState saved with the request, if any.
pub async fn verify_for_idp(
    core: &Core,
    org: &Org,
    idp: &Idp,
    settings: &SamlIdp,
    response: &UnverifiedResponse,
    now: DateTime<Utc>,
) -> Result<(VerifiedAssertion, Option<String>), Outcome> {
    let certificates = trusted_certificates(core, org, settings).await.map_err(|e| Outcome::Failed(e.to_string()))?;
    let mut saved_relay = None;
    let mut request_id = None;
    if let Some(irt) = claimed_in_response_to(response.untrusted_xml()) {
        // A known request is consumed here: each AuthnRequest is answered at most once.
        match core.store.take_saml_request(&org.id, &idp.id, &irt, now.timestamp_millis()).await {
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
    let fresh = core
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

/// Who the ACS signs in: the user, how (`fed`, plus `mfa` for a trusted MFA claim; `idp`
/// and `mfa` added to the session's when the IdP is a factor only), where to (the
/// RelayState posted or saved with the request, not yet checked against the org), and the
/// events of the proof.
#[derive(Debug)]
pub struct Accepted {
    pub user: StoredUser,
    pub amr: Vec<String>,
    pub relay_state: Option<String>,
    pub events: Vec<NewEvent>,
}

/// What was posted to the ACS, with the browser's live session here, if any.
#[derive(Debug)]
pub struct Posted<'a> {
    pub session: Option<(&'a Session, &'a StoredUser)>,
    pub saml_response: Option<&'a str>,
    pub relay_state: Option<String>,
}

/// Decide a Response posted for `idp`: verified, fresh, and the user it signs in.
pub async fn accept(core: &Core, org: &Org, idp: &Idp, client: &ClientInfo, post: Posted<'_>) -> Result<Accepted, Outcome> {
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
    let Some(encoded) = post.saml_response.filter(|s| !s.is_empty()) else {
        return Err(saml_refusal(&SamlError::Missing("SAMLResponse"), idp));
    };
    let response = UnverifiedResponse::from_base64(encoded).map_err(|e| saml_refusal(&e, idp))?;
    let now = DateTime::<Utc>::from_timestamp_millis(core.now()).unwrap_or_else(Utc::now);
    let (verified, saved_relay) = verify_for_idp(core, org, idp, &settings, &response, now).await?;
    let relay_state = post.relay_state.clone().or(saved_relay);
    if settings.usage == Usage::Factor {
        return as_factor(core, org, idp, &settings, &verified, client, post.session, relay_state).await;
    }
    let user = match federate(core, org, idp, &settings, &verified, client).await {
        Ok(u) => u,
        Err(FederationError::Refused(r)) => return Err(refusal(*r, idp)),
        Err(FederationError::Internal(e)) => return Err(Outcome::Failed(e.to_string())),
    };
    if !idhub_domain::lifecycle::can_authenticate(user.user.status) {
        return Err(refusal(
            Refusal {
                reason: "user_inactive",
                detail: format!("the user's status is {}", user.user.status.as_str()),
                user: Some(crate::directory::user_party(&user.user)),
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
        crate::directory::user_party(&user.user),
        vec![idp_party(idp)],
        client.clone(),
    );
    Ok(Accepted { user, amr, relay_state, events: vec![ev] })
}

/// IdP usage "Factor only": the assertion proves a second factor for the user already
/// signed in here; it must name that same user, and the sign-in completes again with
/// `idp` and `mfa` added to the session's authentication methods (a new session: a
/// raised level of assurance gets a new session id and CSRF token). Nobody is created,
/// linked or changed.
#[allow(clippy::too_many_arguments)]
async fn as_factor(
    core: &Core,
    org: &Org,
    idp: &Idp,
    settings: &SamlIdp,
    verified: &VerifiedAssertion,
    client: &ClientInfo,
    session: Option<(&Session, &StoredUser)>,
    relay_state: Option<String>,
) -> Result<Accepted, Outcome> {
    let factor_refusal = |reason: &'static str, detail: &str, user: Option<Party>| Outcome::Refused {
        reason,
        summary: summary_of("factor_only").into(),
        detail: detail.into(),
        user,
        idp: Some(idp_party(idp)),
    };
    let Some((session, signed_in)) = session else {
        return Err(factor_refusal("factor_without_session", "the identity provider is a factor only; sign in here first", None));
    };
    let named = match crate::federation::identify(core, org, idp, settings, verified).await {
        Ok(u) => u,
        Err(FederationError::Refused(r)) => return Err(refusal(*r, idp)),
        Err(FederationError::Internal(e)) => return Err(Outcome::Failed(e.to_string())),
    };
    let me = crate::directory::user_party(&signed_in.user);
    if named.as_ref().map(|u| &u.user.id) != Some(&signed_in.user.id) {
        return Err(factor_refusal("factor_user_mismatch", "the assertion names another user than the one signed in", Some(me)));
    }
    let ev = NewEvent::success(
        "user.authentication.auth_via_IDP",
        "Authenticate user via IDP (as a factor)",
        me,
        vec![idp_party(idp)],
        client.clone(),
    );
    let mut amr = session.amr.clone();
    for m in ["idp", "mfa"] {
        if !amr.iter().any(|a| a == m) {
            amr.push(m.to_string());
        }
    }
    Ok(Accepted { user: signed_in.clone(), amr, relay_state, events: vec![ev] })
}
