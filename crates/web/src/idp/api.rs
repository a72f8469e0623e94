//! `/api/v1/idps` in Okta's shape: SAML 2.0 identity providers, their lifecycle, the
//! org's trusted IdP certificates (`/idps/credentials/keys`), SP metadata, and the users
//! linked to an IdP.

use super::{acs_url, audience_for_new, idp_json, load_idp, settings_of, sp_signing_key};
use crate::api::extract::{ApiCaller, ApiWriter, OktaJson, Params};
use crate::api::paging::link_headers;
use crate::error::ApiError;
use crate::request::Client;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use idhub_domain::event::{NewEvent, Party};
use idhub_domain::idp::SamlIdp;
use idhub_domain::ids::new_id;
use idhub_domain::time::format_millis;
use idhub_saml::keys::Certificate;
use idhub_saml::metadata::{parse_idp_metadata, sp_metadata, SpMetadataSpec};
use idhub_store::idps::{Idp, IdpKey};
use idhub_store::orgs::Org;
use idhub_store::StoreError;
use serde_json::{json, Value};

fn party(idp: &Idp) -> Party {
    Party::new(idp.id.clone(), "IdentityProvider", idp.name.clone(), idp.name.clone())
}

/// Fill an IdP body's fields from IdP metadata XML given as `idhub.metadataXml` (issuer,
/// SSO URL and binding, and the signing certificate, registered as a trusted key).
async fn apply_metadata(state: &AppState, caller: &ApiCaller, body: &mut Value, client: &Client) -> Result<(), ApiError> {
    let Some(xml) = body.pointer("/idhub/metadataXml").and_then(Value::as_str).map(str::to_string) else {
        return Ok(());
    };
    let md = parse_idp_metadata(&xml).map_err(|e| ApiError::validation("idhub.metadataXml", vec![format!("idhub.metadataXml: {e}")]))?;
    body["protocol"]["credentials"]["trust"]["issuer"] = json!(md.entity_id);
    let (url, binding) = match (&md.sso_post_url, &md.sso_redirect_url) {
        (Some(u), _) => (u.clone(), "HTTP-POST"),
        (None, Some(u)) => (u.clone(), "HTTP-Redirect"),
        (None, None) => return Err(ApiError::validation("idhub.metadataXml", vec!["idhub.metadataXml: the IdP offers no SSO URL".into()])),
    };
    body["protocol"]["endpoints"]["sso"]["url"] = json!(url);
    body["protocol"]["endpoints"]["sso"]["binding"] = json!(binding);
    if let Some(cert) = md.signing_certificates.first() {
        let key = store_key(state, &caller.org, caller.actor(), client, cert).await?;
        body["protocol"]["credentials"]["trust"]["kid"] = json!(key.kid);
    }
    if let Some(o) = body.get_mut("idhub").and_then(Value::as_object_mut) {
        o.remove("metadataXml");
    }
    Ok(())
}

/// The trusted key must exist in the org.
async fn check_trust_kid(state: &AppState, org: &Org, settings: &SamlIdp) -> Result<(), ApiError> {
    if let Some(kid) = &settings.trust_kid {
        match state.store.get_idp_key(&org.id, kid).await {
            Ok(_) => {}
            Err(StoreError::NotFound) => {
                return Err(ApiError::validation(
                    "protocol.credentials.trust.kid",
                    vec![format!("protocol.credentials.trust.kid: no IdP key with kid {kid}")],
                ))
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// `POST /api/v1/idps`
pub async fn idps_create(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    params: Params,
    OktaJson(mut body): OktaJson,
) -> Result<Json<Value>, ApiError> {
    if !body.is_object() {
        return Err(ApiError::bad_body("a JSON object describing the identity provider is required"));
    }
    apply_metadata(&state, &caller, &mut body, &client).await?;
    let settings = SamlIdp::from_okta(&body, &audience_for_new(&caller.org))?;
    check_trust_kid(&state, &caller.org, &settings).await?;
    let activate = params.flag("activate", true)? && body.get("status").and_then(Value::as_str) != Some("INACTIVE");
    let now = state.now();
    let idp = Idp {
        seq: 0,
        id: new_id("0oa"),
        org_id: caller.org.id.clone(),
        name: settings.name.clone(),
        status: if activate { "ACTIVE".into() } else { "INACTIVE".into() },
        config: settings.to_okta(),
        created: now,
        last_updated: now,
    };
    let ev =
        NewEvent::success("system.idp.lifecycle.create", "Create identity provider", caller.actor(), vec![party(&idp)], client.0.clone());
    let idp = state.store.create_idp(&idp, &[ev]).await.map_err(|e| match e {
        StoreError::Conflict(_) => ApiError::validation("name", vec!["name: An identity provider with this name already exists".into()]),
        e => e.into(),
    })?;
    // The SP signing key (for signed AuthnRequests and the SP metadata) exists from the start.
    sp_signing_key(&state, &caller.org, &idp).await?;
    Ok(Json(idp_json(&state, &caller.org, &idp).await?))
}

/// `GET /api/v1/idps`
pub async fn idps_list(State(state): State<AppState>, caller: ApiCaller, params: Params) -> Result<Response, ApiError> {
    let limit = params.limit(20, 200)?;
    if let Some(t) = params.get("type").filter(|t| !t.is_empty() && *t != "SAML2") {
        return Err(ApiError::validation("type", vec![format!("type: {t} identity providers are not supported; only SAML2")]));
    }
    let after = match params.get("after").filter(|a| !a.is_empty()) {
        Some(a) => {
            idhub_store::decode_cursor(a).ok_or_else(|| ApiError::validation("after", vec!["after: The cursor is not valid".into()]))?
        }
        None => 0,
    };
    let idps = state.store.list_idps(&caller.org.id, params.get("q").filter(|q| !q.is_empty()), after, limit + 1).await?;
    let more = idps.len() as i64 > limit;
    let page: Vec<&Idp> = idps.iter().take(limit as usize).collect();
    let next = if more { page.last().map(|i| idhub_store::encode_cursor(i.seq)) } else { None };
    let mut keep: Vec<(&str, String)> = params.get("q").map(|q| vec![("q", q.to_string())]).unwrap_or_default();
    keep.push(("limit", limit.to_string()));
    let headers = link_headers(&caller.org.base_url, "/api/v1/idps", &keep, next.as_deref());
    let mut out = Vec::with_capacity(page.len());
    for i in page {
        out.push(idp_json(&state, &caller.org, i).await?);
    }
    Ok((headers, Json(Value::Array(out))).into_response())
}

/// `GET /api/v1/idps/{id}`
pub async fn idps_get(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let idp = load_idp(&state, &caller.org, &id).await?;
    Ok(Json(idp_json(&state, &caller.org, &idp).await?))
}

/// `PUT /api/v1/idps/{id}`: replace the settings (the audience stays unless given).
pub async fn idps_update(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    Path(id): Path<String>,
    OktaJson(mut body): OktaJson,
) -> Result<Json<Value>, ApiError> {
    if !body.is_object() {
        return Err(ApiError::bad_body("a JSON object describing the identity provider is required"));
    }
    let mut idp = load_idp(&state, &caller.org, &id).await?;
    apply_metadata(&state, &caller, &mut body, &client).await?;
    let current = settings_of(&idp)?;
    let settings = SamlIdp::from_okta(&body, &current.audience)?;
    check_trust_kid(&state, &caller.org, &settings).await?;
    idp.name = settings.name.clone();
    idp.config = settings.to_okta();
    idp.last_updated = state.now();
    let ev =
        NewEvent::success("system.idp.lifecycle.update", "Update identity provider", caller.actor(), vec![party(&idp)], client.0.clone());
    state.store.update_idp(&idp, &[ev]).await.map_err(|e| match e {
        StoreError::Conflict(_) => ApiError::validation("name", vec!["name: An identity provider with this name already exists".into()]),
        e => e.into(),
    })?;
    Ok(Json(idp_json(&state, &caller.org, &idp).await?))
}

/// `DELETE /api/v1/idps/{id}` (Okta: only an inactive IdP can be deleted).
pub async fn idps_delete(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let idp = load_idp(&state, &caller.org, &id).await?;
    if idp.status == "ACTIVE" {
        let mut e = ApiError::new(StatusCode::FORBIDDEN, "E0000056", "Delete identity provider forbidden.");
        e.causes.push("Deactivate the identity provider before deleting it.".into());
        return Err(e);
    }
    let ev =
        NewEvent::success("system.idp.lifecycle.delete", "Delete identity provider", caller.actor(), vec![party(&idp)], client.0.clone());
    state.store.delete_idp(&caller.org.id, &idp.id, state.now(), &[ev]).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/idps/{id}/lifecycle/{activate|deactivate}`
pub async fn idps_lifecycle(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    Path((id, op)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let mut idp = load_idp(&state, &caller.org, &id).await?;
    let (status, event, message) = match op.as_str() {
        "activate" => ("ACTIVE", "system.idp.lifecycle.activate", "Activate identity provider"),
        "deactivate" => ("INACTIVE", "system.idp.lifecycle.deactivate", "Deactivate identity provider"),
        _ => return Err(ApiError::not_found(format!("/api/v1/idps/{id}/lifecycle/{op} (POST)"))),
    };
    if idp.status != status {
        idp.status = status.into();
        idp.last_updated = state.now();
        let ev = NewEvent::success(event, message, caller.actor(), vec![party(&idp)], client.0.clone());
        state.store.update_idp(&idp, &[ev]).await?;
    }
    Ok(Json(idp_json(&state, &caller.org, &idp).await?))
}

/// `GET /api/v1/idps/{id}/metadata.xml`: this org's SP metadata for the IdP.
pub async fn idps_metadata(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Response, ApiError> {
    let idp = load_idp(&state, &caller.org, &id).await?;
    let xml = sp_metadata_xml(&state, &caller.org, &idp).await?;
    Ok(([(header::CONTENT_TYPE, "application/xml; charset=utf-8")], xml).into_response())
}

/// The SP metadata document of an IdP (also served to the console).
pub async fn sp_metadata_xml(state: &AppState, org: &Org, idp: &Idp) -> Result<String, ApiError> {
    let settings = settings_of(idp)?;
    let (_, key) = sp_signing_key(state, org, idp).await?;
    let acs = acs_url(org, idp, &settings);
    sp_metadata(&SpMetadataSpec {
        entity_id: &settings.audience,
        acs_url: &acs,
        authn_requests_signed: settings.sign_requests,
        want_assertions_signed: settings.response_scope != idhub_domain::idp::SignatureScope::Response,
        signing_certificate: Some(key.certificate()),
        name_id_format: Some(&settings.name_format),
    })
    .map_err(|e| ApiError::internal(e.to_string()))
}

fn key_json(k: &IdpKey) -> Value {
    let cert = Certificate::from_base64_der(&k.cert_der).ok();
    let info = cert.as_ref().map(Certificate::info);
    json!({
        "kid": k.kid,
        "kty": "RSA",
        "use": "sig",
        "created": format_millis(k.created),
        "lastUpdated": format_millis(k.created),
        "expiresAt": format_millis(k.expires),
        "x5c": [k.cert_der],
        "x5t#S256": info.map(|i| i.thumbprint_s256),
    })
}

async fn store_key(state: &AppState, org: &Org, actor: Party, client: &Client, cert: &Certificate) -> Result<IdpKey, ApiError> {
    let now = state.now();
    if cert.not_after().timestamp_millis() <= now {
        return Err(ApiError::validation("x5c", vec!["x5c: the certificate has expired".into()]));
    }
    // The same certificate registered twice is the same key.
    let der = cert.der_base64();
    if let Some(k) = state.store.list_idp_keys(&org.id).await?.into_iter().find(|k| k.cert_der == der) {
        return Ok(k);
    }
    let key =
        IdpKey { kid: uuid_like(), org_id: org.id.clone(), cert_der: der, created: now, expires: cert.not_after().timestamp_millis() };
    let ev = NewEvent::success(
        "system.idp.key.create",
        "Add identity provider signing key",
        actor,
        vec![Party::new(key.kid.clone(), "Key", key.kid.clone(), cert.subject_common_name().unwrap_or_default())],
        client.0.clone(),
    );
    state.store.create_idp_key(&key, &[ev]).await?;
    Ok(key)
}

fn uuid_like() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    let r: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &r[0..8], &r[8..12], &r[12..16], &r[16..20], &r[20..32])
}

/// `POST /api/v1/idps/credentials/keys` with `{"x5c": ["<base64 DER>"]}`.
pub async fn keys_create(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    OktaJson(body): OktaJson,
) -> Result<Json<Value>, ApiError> {
    let x5c = body
        .get("x5c")
        .and_then(Value::as_array)
        .filter(|a| a.len() == 1)
        .and_then(|a| a[0].as_str())
        .ok_or_else(|| ApiError::validation("x5c", vec!["x5c: exactly one base64-encoded DER X.509 certificate is required".into()]))?;
    let cert = Certificate::from_base64_der(x5c)
        .map_err(|e| ApiError::validation("x5c", vec![format!("x5c: not a usable X.509 certificate ({e})")]))?;
    let key = store_key(&state, &caller.org, caller.actor(), &client, &cert).await?;
    Ok(Json(key_json(&key)))
}

/// `GET /api/v1/idps/credentials/keys`
pub async fn keys_list(State(state): State<AppState>, caller: ApiCaller) -> Result<Json<Value>, ApiError> {
    let keys = state.store.list_idp_keys(&caller.org.id).await?;
    Ok(Json(Value::Array(keys.iter().map(key_json).collect())))
}

/// `GET /api/v1/idps/credentials/keys/{kid}`
pub async fn keys_get(State(state): State<AppState>, caller: ApiCaller, Path(kid): Path<String>) -> Result<Json<Value>, ApiError> {
    match state.store.get_idp_key(&caller.org.id, &kid).await {
        Ok(k) => Ok(Json(key_json(&k))),
        Err(StoreError::NotFound) => Err(ApiError::not_found(format!("{kid} (Key)"))),
        Err(e) => Err(e.into()),
    }
}

/// `DELETE /api/v1/idps/credentials/keys/{kid}`: refused while an IdP trusts the key.
pub async fn keys_delete(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    Path(kid): Path<String>,
) -> Result<StatusCode, ApiError> {
    let idps = state.store.list_idps(&caller.org.id, None, 0, i64::MAX).await?;
    if let Some(user) =
        idps.iter().find(|i| i.config.pointer("/protocol/credentials/trust/kid").and_then(Value::as_str) == Some(kid.as_str()))
    {
        return Err(ApiError::validation("kid", vec![format!("kid: the key is in use by the identity provider {}", user.name)]));
    }
    let ev = NewEvent::success(
        "system.idp.key.delete",
        "Delete identity provider signing key",
        caller.actor(),
        vec![Party::new(kid.clone(), "Key", kid.clone(), kid.clone())],
        client.0.clone(),
    );
    match state.store.delete_idp_key(&caller.org.id, &kid, state.now(), &[ev]).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(StoreError::NotFound) => Err(ApiError::not_found(format!("{kid} (Key)"))),
        Err(e) => Err(e.into()),
    }
}

/// `GET /api/v1/idps/{id}/users`: the users linked to the IdP.
pub async fn idps_users(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let idp = load_idp(&state, &caller.org, &id).await?;
    let links = state.store.list_idp_links(&caller.org.id, &idp.id).await?;
    let base = &caller.org.base_url;
    Ok(Json(Value::Array(
        links
            .iter()
            .map(|l| {
                json!({
                    "id": l.user_id,
                    "externalId": l.external_id,
                    "created": format_millis(l.created),
                    "lastUpdated": format_millis(l.last_updated),
                    "profile": {},
                    "_links": {
                        "idp": { "href": format!("{base}/api/v1/idps/{}", idp.id) },
                        "user": { "href": format!("{base}/api/v1/users/{}", l.user_id) }
                    }
                })
            })
            .collect(),
    )))
}

/// `DELETE /api/v1/idps/{id}/users/{userId}`: unlink.
pub async fn idps_user_unlink(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    Path((id, uid)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let idp = load_idp(&state, &caller.org, &id).await?;
    let ev = NewEvent::success(
        "user.account.unlink",
        "Unlink user from identity provider",
        caller.actor(),
        vec![party(&idp), Party::new(uid.clone(), "User", uid.clone(), uid.clone())],
        client.0.clone(),
    );
    match state.store.unlink_idp_user(&caller.org.id, &idp.id, &uid, state.now(), &[ev]).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(StoreError::NotFound) => Err(ApiError::not_found(format!("{uid} (IdpUser)"))),
        Err(e) => Err(e.into()),
    }
}
