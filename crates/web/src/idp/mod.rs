//! Inbound federation: the org as a SAML service provider for identity providers it
//! trusts (the hub side of Org2Org). `api` is `/api/v1/idps`; `acs` receives Responses;
//! `federate` turns a verified assertion into a directory user (match, link, JIT, profile
//! source, reactivation, groups); `login` starts SP-initiated sign-in and routing.

pub mod acs;
pub mod api;
pub mod login;
pub mod routing;

use crate::error::ApiError;
use crate::AppState;
use axum::routing::{delete, get, post};
use axum::Router;
use idhub_domain::time::format_millis;
use idhub_store::idps::Idp;
use idhub_store::orgs::Org;
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

/// The IdP in Okta's shape with server fields and links.
pub async fn idp_json(state: &AppState, org: &Org, idp: &Idp) -> Result<Value, ApiError> {
    let settings = idhub_core::idps::settings_of(idp)?;
    let (key, _) = idhub_core::signing_keys::sp_signing_key(&state.core, org, idp).await?;
    let base = format!("{}/api/v1/idps/{}", org.base_url, idp.id);
    let mut v = idp.config.clone();
    v["id"] = json!(idp.id);
    v["status"] = json!(idp.status);
    v["created"] = json!(format_millis(idp.created));
    v["lastUpdated"] = json!(format_millis(idp.last_updated));
    v["protocol"]["credentials"]["signing"] = json!({ "kid": key.kid });
    v["protocol"]["endpoints"]["acs"]["url"] = json!(idhub_core::idps::acs_url(org, idp, &settings));
    v["_links"] = json!({
        "self": { "href": base },
        "metadata": { "href": format!("{base}/metadata.xml"), "type": "application/xml" },
        "acs": { "href": idhub_core::idps::acs_url(org, idp, &settings), "type": "application/xml", "hints": { "allow": ["POST"] } },
        "users": { "href": format!("{base}/users") },
        "authorize": { "href": format!("{}/sso/idps/{}", org.base_url, idp.id), "templated": false },
        if idp.status == "ACTIVE" { "deactivate" } else { "activate" }: {
            "href": format!("{base}/lifecycle/{}", if idp.status == "ACTIVE" { "deactivate" } else { "activate" })
        }
    });
    Ok(v)
}
