//! Inbound federation: the org as a SAML service provider for identity providers it
//! trusts (the hub side of Org2Org). `api` is `/api/v1/idps`; `acs` receives Responses;
//! `federate` turns a verified assertion into a directory user (match, link, JIT, profile
//! source, reactivation, groups); `login` starts SP-initiated sign-in and routing.

pub mod acs;
pub mod api;
pub mod federate;
pub mod login;
pub mod routing;
pub mod service;

use crate::error::ApiError;
use crate::AppState;
use axum::routing::{delete, get, post};
use axum::Router;
use idhub_domain::event::Party;
use idhub_domain::idp::SamlIdp;
use idhub_domain::time::format_millis;
use idhub_saml::keys::SigningKey;
use idhub_store::apps::AppKey;
use idhub_store::idps::Idp;
use idhub_store::orgs::Org;
use idhub_store::StoreError;
use serde_json::{json, Value};

/// `/api/v1` routes.
pub fn api_router() -> Router<AppState> {
    Router::new()
        .route("/idps", get(api::idps_list).post(api::idps_create))
        .route("/idps/credentials/keys", get(api::keys_list).post(api::keys_create))
        .route("/idps/credentials/keys/{kid}", get(api::keys_get).delete(api::keys_delete))
        .route("/idps/{id}", get(api::idps_get).put(api::idps_update).delete(api::idps_delete))
        .route("/idps/{id}/lifecycle/{op}", post(api::idps_lifecycle))
        .route("/idps/{id}/metadata.xml", get(api::idps_metadata))
        .route("/idps/{id}/users", get(api::idps_users))
        .route("/idps/{id}/users/{uid}", delete(api::idps_user_unlink))
        .route("/policies", get(routing::policies_list))
        .route("/policies/{id}", get(routing::policy_get))
        .route("/policies/{id}/rules", get(routing::rules_list).post(routing::rules_create))
        .route("/policies/{id}/rules/{rid}", get(routing::rules_get).put(routing::rules_update).delete(routing::rules_delete))
}

/// Browser routes (ACS and SP-initiated sign-in).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sso/saml2", post(acs::acs_org))
        .route("/sso/saml2/{id}", post(acs::acs_instance).get(login::start))
        .route("/sso/idps/{id}", get(login::start))
        .route("/sso/saml2/{id}/app/{name}/{app}/sso/saml", get(login::start_for_app))
}

/// An IdP of the org, or Okta's 404.
pub async fn load_idp(state: &AppState, org: &Org, id: &str) -> Result<Idp, ApiError> {
    match state.store.get_idp(&org.id, id).await {
        Ok(i) => Ok(i),
        Err(StoreError::NotFound) => Err(ApiError::not_found(format!("{id} (IdentityProvider)"))),
        Err(e) => Err(e.into()),
    }
}

/// The typed settings of a stored IdP.
pub fn settings_of(idp: &Idp) -> Result<SamlIdp, ApiError> {
    SamlIdp::from_okta(&idp.config, "").map_err(|e| ApiError::internal(format!("stored IdP {} does not parse: {e}", idp.id)))
}

/// A new SP entity id (the audience the IdP must put in its assertions).
pub fn audience_for_new(org: &Org) -> String {
    format!("{}/saml2/service-provider/sp{}", org.base_url, idhub_domain::ids::random_base62(18))
}

/// Where this IdP's Responses are posted.
pub fn acs_url(org: &Org, idp: &Idp, settings: &SamlIdp) -> String {
    if settings.acs_instance {
        format!("{}/sso/saml2/{}", org.base_url, idp.id)
    } else {
        format!("{}/sso/saml2", org.base_url)
    }
}

/// The IdP in Okta's shape with server fields and links.
pub async fn idp_json(state: &AppState, org: &Org, idp: &Idp) -> Result<Value, ApiError> {
    let settings = settings_of(idp)?;
    let (key, _) = sp_signing_key(state, org, idp).await?;
    let base = format!("{}/api/v1/idps/{}", org.base_url, idp.id);
    let mut v = idp.config.clone();
    v["id"] = json!(idp.id);
    v["status"] = json!(idp.status);
    v["created"] = json!(format_millis(idp.created));
    v["lastUpdated"] = json!(format_millis(idp.last_updated));
    v["protocol"]["credentials"]["signing"] = json!({ "kid": key.kid });
    v["protocol"]["endpoints"]["acs"]["url"] = json!(acs_url(org, idp, &settings));
    v["_links"] = json!({
        "self": { "href": base },
        "metadata": { "href": format!("{base}/metadata.xml"), "type": "application/xml" },
        "acs": { "href": acs_url(org, idp, &settings), "type": "application/xml", "hints": { "allow": ["POST"] } },
        "users": { "href": format!("{base}/users") },
        "authorize": { "href": format!("{}/sso/idps/{}", org.base_url, idp.id), "templated": false },
        if idp.status == "ACTIVE" { "deactivate" } else { "activate" }: {
            "href": format!("{base}/lifecycle/{}", if idp.status == "ACTIVE" { "deactivate" } else { "activate" })
        }
    });
    Ok(v)
}

fn sealing_purpose(org: &Org, kid: &str) -> String {
    format!("idp-sp-signing-key:{}:{kid}", org.id)
}

/// This org's SP signing key for an IdP (signs AuthnRequests; its certificate is in the
/// SP metadata), generated on first use and sealed at rest.
pub async fn sp_signing_key(state: &AppState, org: &Org, idp: &Idp) -> Result<(AppKey, SigningKey), ApiError> {
    let key = match state.store.app_keys(&org.id, &idp.id).await?.into_iter().find(|k| k.status == "ACTIVE") {
        Some(k) => k,
        None => {
            let label = format!("{} SP for {}", org.name, idp.name);
            let key = crate::sso::generate_sealed_key(state, &idp.id, label, 365 * 5, |kid| sealing_purpose(org, kid)).await?;
            let ev = idhub_domain::event::NewEvent::success(
                "system.idp.key.generate",
                "Generate SP signing key for identity provider",
                Party::system(),
                vec![Party::new(idp.id.clone(), "IdentityProvider", idp.name.clone(), idp.name.clone())],
                Default::default(),
            );
            state.store.add_active_app_key(&org.id, &key, &[ev]).await?;
            key
        }
    };
    let signing = crate::sso::open_signing_key(state, &key, &sealing_purpose(org, &key.kid))?;
    Ok((key, signing))
}
