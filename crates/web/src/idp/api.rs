//! `/api/v1/idps` in Okta's shape: SAML 2.0 identity providers, their lifecycle, the
//! org's trusted IdP certificates (`/idps/credentials/keys`), SP metadata, and the users
//! linked to an IdP.

use super::idp_json;
use crate::api::extract::{ApiCaller, ApiWriter, OktaJson, Params};
use crate::api::paging::link_headers;
use crate::error::ApiError;
use crate::request::Client;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use idhub_core::idps::{self as service, party, Caller};
use idhub_core::idps::{acs_url, load_idp, settings_of};
use idhub_core::signing_keys::sp_signing_key;
use idhub_domain::event::{NewEvent, Party};
use idhub_domain::time::format_millis;
use idhub_saml::keys::Certificate;
use idhub_saml::metadata::{sp_metadata, SpMetadataSpec};
use idhub_store::idps::{Idp, IdpKey};
use idhub_store::orgs::Org;
use idhub_store::StoreError;
use serde_json::{json, Value};

fn caller_of<'a>(caller: &'a ApiCaller, client: &'a Client) -> Caller<'a> {
    Caller { org: &caller.org, actor: caller.actor(), client: &client.0 }
}

/// `POST /api/v1/idps`
pub async fn idps_create(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    params: Params,
    OktaJson(body): OktaJson,
) -> Result<Json<Value>, ApiError> {
    let activate = params.flag("activate", true)? && body.get("status").and_then(Value::as_str) != Some("INACTIVE");
    let idp =
        service::create(&state.core, &caller_of(&caller, &client), body, None, activate).await.map_err(crate::error::ApiError::from)?;
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
    let idp = load_idp(&state.core, &caller.org, &id).await?;
    Ok(Json(idp_json(&state, &caller.org, &idp).await?))
}

/// `PUT /api/v1/idps/{id}`: replace the settings (the audience stays unless given).
pub async fn idps_update(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    Path(id): Path<String>,
    OktaJson(body): OktaJson,
) -> Result<Json<Value>, ApiError> {
    let idp = service::update(&state.core, &caller_of(&caller, &client), &id, body, None).await.map_err(crate::error::ApiError::from)?;
    Ok(Json(idp_json(&state, &caller.org, &idp).await?))
}

/// `DELETE /api/v1/idps/{id}` (Okta: only an inactive IdP can be deleted).
pub async fn idps_delete(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    service::delete(&state.core, &caller_of(&caller, &client), &id).await.map_err(crate::error::ApiError::from)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/idps/{id}/lifecycle/{activate|deactivate}`
pub async fn idps_lifecycle(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    Path((id, op)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let idp = service::set_status(&state.core, &caller_of(&caller, &client), &id, &op).await.map_err(crate::error::ApiError::from)?;
    Ok(Json(idp_json(&state, &caller.org, &idp).await?))
}

/// `GET /api/v1/idps/{id}/metadata.xml`: this org's SP metadata for the IdP.
pub async fn idps_metadata(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Response, ApiError> {
    let idp = load_idp(&state.core, &caller.org, &id).await?;
    let xml = sp_metadata_xml(&state, &caller.org, &idp).await?;
    Ok(([(header::CONTENT_TYPE, "application/xml; charset=utf-8")], xml).into_response())
}

/// The SP metadata document of an IdP (also served to the console).
pub async fn sp_metadata_xml(state: &AppState, org: &Org, idp: &Idp) -> Result<String, ApiError> {
    let settings = settings_of(idp)?;
    let (_, key) = sp_signing_key(&state.core, org, idp).await?;
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
    let key = service::store_key(&state.core, &caller_of(&caller, &client), &cert).await.map_err(crate::error::ApiError::from)?;
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
    let idp = load_idp(&state.core, &caller.org, &id).await?;
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
    let idp = load_idp(&state.core, &caller.org, &id).await?;
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
