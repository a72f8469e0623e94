//! idhub as a SAML 2.0 IdP for apps: signing keys per app (generated on first use,
//! rotated with overlap, private keys sealed), IdP metadata, and IdP-initiated SSO at
//! `/app/{name}/{id}/sso/saml`: the user signs in first if needed, then receives an
//! auto-POST form to the app's configured ACS (never a URL from the request) with a
//! signed Response whose NameID and attributes come from the app's expressions.

use crate::api::extract::{ApiCaller, ApiWriter, Params};
use crate::error::ApiError;
use crate::html::{add_security_headers, error_page, escape};
use crate::org::CurrentOrg;
use crate::request::Client;
use crate::signin::session::session_of_request;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use idhub_domain::event::{NewEvent, Party};
use idhub_domain::lifecycle::{can_authenticate, UserStatus};
use idhub_domain::time::format_millis;
use idhub_saml::keys::cert_info;
use idhub_store::apps::{App, AppKey};
use idhub_store::orgs::Org;
use serde_json::{json, Value};

/// Routes of the SSO surface.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/app/{name}/{id}/sso/saml", get(idp_initiated).post(sp_initiated_post))
        .route("/app/{name}/{id}/setup/help/SAML_2_0/instructions", get(setup_instructions))
        .route("/app/{name}/{id}/setup/cert.pem", get(certificate_download))
        .route(
            "/static/autopost.js",
            get(|| async {
                ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], "document.forms[0] && document.forms[0].submit();")
            }),
        )
}

/// API routes (mounted under `/api/v1`).
pub fn api_router() -> Router<AppState> {
    Router::new()
        .route("/apps/{id}/sso/saml/metadata", get(metadata))
        .route("/apps/{id}/credentials/keys", get(keys_list))
        .route("/apps/{id}/credentials/keys/generate", post(keys_rotate))
        .route("/apps/{id}/credentials/keys/{kid}", get(key_get))
}

pub use idhub_core::sso::issuer;

fn key_json(org: &Org, app: &App, k: &AppKey) -> Result<Value, ApiError> {
    let info = cert_info(&k.cert_pem).map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(json!({
        "kid": k.kid, "kty": "RSA", "use": "sig", "status": k.status,
        "created": format_millis(k.created), "lastUpdated": format_millis(k.created), "expiresAt": format_millis(info.not_after * 1000),
        "x5c": [info.der_b64], "x5t#S256": info.thumbprint_s256,
        "_links": { "self": { "href": format!("{}/api/v1/apps/{}/credentials/keys/{}", org.base_url, app.id, k.kid) } }
    }))
}

async fn load_saml_app(state: &AppState, org: &Org, id: &str) -> Result<App, ApiError> {
    let app = state.store.get_app(&org.id, id).await.map_err(|_| ApiError::not_found(format!("{id} (App)")))?;
    if app.sign_on_mode != "SAML_2_0" {
        return Err(ApiError::validation("signOnMode", vec!["signOnMode: the app does not sign on with SAML 2.0".into()]));
    }
    Ok(app)
}

/// `GET /api/v1/apps/{id}/credentials/keys`
pub async fn keys_list(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let app = state.store.get_app(&caller.org.id, &id).await.map_err(|_| ApiError::not_found(format!("{id} (App)")))?;
    if app.sign_on_mode == "SAML_2_0" {
        idhub_core::signing_keys::active_key(&state.core, &caller.org, &app).await?;
    }
    let keys = state.store.app_keys(&caller.org.id, &app.id).await?;
    Ok(Json(Value::Array(keys.iter().map(|k| key_json(&caller.org, &app, k)).collect::<Result<Vec<_>, _>>()?)))
}

/// `GET /api/v1/apps/{id}/credentials/keys/{kid}` (`Accept: application/x-pem-file` downloads the certificate)
pub async fn key_get(
    State(state): State<AppState>,
    caller: ApiCaller,
    parts: Parts,
    Path((id, kid)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let app = load_saml_app(&state, &caller.org, &id).await?;
    let key = state
        .store
        .app_keys(&caller.org.id, &app.id)
        .await?
        .into_iter()
        .find(|k| k.kid == kid)
        .ok_or_else(|| ApiError::not_found(format!("{kid} (Key)")))?;
    let wants_pem = parts.headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).map(|a| a.contains("pem")).unwrap_or(false);
    if wants_pem {
        return Ok(([(header::CONTENT_TYPE, "application/x-pem-file")], key.cert_pem).into_response());
    }
    Ok(Json(key_json(&caller.org, &app, &key)?).into_response())
}

/// `POST /api/v1/apps/{id}/credentials/keys/generate`: rotate; the old key stays listed.
pub async fn keys_rotate(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    client: Client,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let actor = idhub_core::Actor { party: caller.actor(), client: client.0 };
    let (app, key) = rotate_key(&state, &caller.org, &actor, &id).await?;
    Ok(Json(key_json(&caller.org, &app, &key)?))
}

/// Key rotation: a new active signing key for a SAML app; the old certificate stays listed.
pub async fn rotate_key(state: &AppState, org: &Org, actor: &idhub_core::Actor, id: &str) -> Result<(App, AppKey), ApiError> {
    let app = load_saml_app(state, org, id).await?;
    let key = idhub_core::signing_keys::new_key(&state.core, org, &app, actor.party.clone(), actor.client.clone()).await?;
    Ok((app, key))
}

/// `GET /api/v1/apps/{id}/sso/saml/metadata`
pub async fn metadata(State(state): State<AppState>, caller: ApiCaller, Path(id): Path<String>) -> Result<Response, ApiError> {
    let xml = metadata_xml(&state, &caller.org, &id).await?;
    Ok(([(header::CONTENT_TYPE, "application/xml")], xml).into_response())
}

/// The IdP metadata of a SAML app (its signing key generated on first use).
pub async fn metadata_xml(state: &AppState, org: &Org, id: &str) -> Result<String, ApiError> {
    let app = load_saml_app(state, org, id).await?;
    let key = idhub_core::signing_keys::active_key(&state.core, org, &app).await?;
    let info = cert_info(&key.cert_pem).map_err(|e| ApiError::internal(e.to_string()))?;
    let sso = format!("{}/app/{}/{}/sso/saml", org.base_url, app.name, app.id);
    let format = app
        .settings
        .pointer("/signOn/subjectNameIdFormat")
        .and_then(Value::as_str)
        .unwrap_or(idhub_domain::application::NAMEID_UNSPECIFIED);
    idhub_saml::metadata::idp_metadata(&issuer(org, &app), &sso, &info.der_b64, &[format]).map_err(|e| ApiError::internal(e.to_string()))
}

fn page_refusal(org: &Org, status: StatusCode, title: &str, message: &str) -> Response {
    let mut r = error_page(status, &org.name, title, message);
    add_security_headers(r.headers_mut());
    r
}

/// `POST /app/{name}/{id}/sso/saml`: an AuthnRequest with the HTTP-POST binding.
pub async fn sp_initiated_post(
    State(state): State<AppState>,
    CurrentOrg(org): CurrentOrg,
    client: Client,
    parts: Parts,
    Path((name, id)): Path<(String, String)>,
    axum::extract::Form(form): axum::extract::Form<Vec<(String, String)>>,
) -> Response {
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let mut params = Params::default();
    if let Some(r) = get("SAMLRequest") {
        params.0.insert("SAMLRequestPost".into(), r);
    }
    if let Some(r) = get("RelayState") {
        params.0.insert("RelayState".into(), r);
    }
    idp_initiated(State(state), CurrentOrg(org), client, params, parts, Path((name, id))).await
}

/// Check an AuthnRequest against the app: the issuer must be the app's audience (SP
/// entity id) and a requested ACS must be the configured one; the Response never goes
/// anywhere else.
fn check_request(
    params: &Params,
    app: &App,
    path_and_query: &str,
) -> Result<Option<idhub_saml::request::ParsedAuthnRequest>, (&'static str, String)> {
    let so_early = app.settings.get("signOn").cloned().unwrap_or(Value::Null);
    if so_early.get("requestSigned").and_then(Value::as_bool).unwrap_or(false) {
        let cert = so_early.get("spCertificate").and_then(Value::as_str).unwrap_or_default();
        match (params.get("SAMLRequest"), params.get("SAMLRequestPost")) {
            (Some(_), _) => {
                // RSA-SHA256 only; the signed octets are the query exactly as received
                let cert = idhub_saml::Certificate::from_pem(cert)
                    .map_err(|e| ("CONFIGURATION", format!("this app's SP certificate cannot be read: {e}")))?;
                idhub_saml::request::verify_redirect_query(path_and_query, &cert, false)
                    .map_err(|e| ("SIGNATURE_INVALID", e.to_string()))?
            }
            (None, Some(_)) => {
                return Err(("SIGNATURE_INVALID", "this app requires signed requests: send them with the HTTP-Redirect binding".into()))
            }
            (None, None) => {}
        }
    }
    let parsed = match (params.get("SAMLRequest"), params.get("SAMLRequestPost")) {
        (Some(r), _) => idhub_saml::request::parse_redirect(r),
        (None, Some(r)) => idhub_saml::request::parse_post(r),
        (None, None) => return Ok(None),
    }
    .map_err(|e| ("INVALID_REQUEST", e.to_string()))?;
    let so = app.settings.get("signOn").cloned().unwrap_or(Value::Null);
    let audience = so.get("audience").and_then(Value::as_str).unwrap_or_default();
    let acs = so.get("ssoAcsUrl").and_then(Value::as_str).unwrap_or_default();
    if let Some(issuer) = &parsed.issuer {
        if issuer != audience {
            return Err(("ISSUER_MISMATCH", format!("the request's Issuer {issuer} is not this app's Audience URI")));
        }
    }
    if let Some(requested) = &parsed.acs_url {
        if requested != acs {
            return Err((
                "ACS_NOT_REGISTERED",
                format!("the Assertion Consumer Service URL {requested} is not the one configured for this app"),
            ));
        }
    }
    Ok(Some(parsed))
}

/// Why a user whose session is still live may not sign on (suspended or deactivated
/// since the session began; the sessions of such users are ended, but a request may
/// race with that, or reach another node first).
fn status_refusal(status: UserStatus) -> (&'static str, &'static str) {
    match status {
        UserStatus::Suspended => ("USER_SUSPENDED", "Your account is suspended. Contact your administrator."),
        UserStatus::Deprovisioned => ("USER_DEACTIVATED", "Your account is deactivated. Contact your administrator."),
        UserStatus::LockedOut => ("USER_LOCKED_OUT", "Your account is locked. Contact your administrator."),
        _ => ("USER_NOT_ACTIVE", "Your account is not active. Contact your administrator."),
    }
}

/// `GET /app/{name}/{id}/sso/saml`: IdP-initiated sign-on into the app, or SP-initiated
/// with an AuthnRequest (`SAMLRequest`, HTTP-Redirect binding).
pub async fn idp_initiated(
    State(state): State<AppState>,
    CurrentOrg(org): CurrentOrg,
    client: Client,
    params: Params,
    parts: Parts,
    Path((name, id)): Path<(String, String)>,
) -> Response {
    // the session and its user, then the app with the user's assignment: two reads
    let session = match session_of_request(&state, &parts).await {
        Ok(s) => s,
        Err(e) => return ApiError::internal(e.to_string()).into_response(),
    };
    let (app, assignment) = match &session {
        Some(s) => match state.store.app_for_sign_on(&org.id, &id, s.user.user.id.as_str()).await {
            Ok((app, assignment)) => (Some(app), assignment),
            Err(_) => (None, None),
        },
        None => (state.store.get_app(&org.id, &id).await.ok(), None),
    };
    let app = app.filter(|a| a.name == name);
    let app_party = |app: &App| Party::new(app.id.clone(), "AppInstance", app.name.clone(), app.label.clone());
    let request = match &app {
        Some(app) => match check_request(&params, app, parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("")) {
            Ok(r) => r,
            Err((reason, message)) => {
                let ev = NewEvent::failure(
                    "user.authentication.sso",
                    "User single sign on to app",
                    Party::new("unknown", "User", "unknown", "unknown"),
                    vec![app_party(app)],
                    client.0.clone(),
                    reason,
                );
                log_sso(&state, &org, ev).await;
                return page_refusal(&org, StatusCode::BAD_REQUEST, "Invalid sign-on request", &message);
            }
        },
        None => None,
    };
    let Some(signed_in) = session else {
        // A POSTed request continues as a GET after sign-in.
        let from = crate::force_authn::continue_uri(&parts, &params);
        return Redirect::to(&format!(
            "/login?fromURI={}",
            percent_encoding::utf8_percent_encode(&from, percent_encoding::NON_ALPHANUMERIC)
        ))
        .into_response();
    };
    let user = &signed_in.user.user;
    let refuse = |reason: &str, status: StatusCode, title: &str, message: &str| {
        let ev = NewEvent::failure(
            "user.authentication.sso",
            "User single sign on to app",
            Party::new(user.id.0.clone(), "User", user.login(), user.display_name()),
            vec![Party::new(id.clone(), "AppInstance", name.clone(), name.clone())],
            client.0.clone(),
            reason,
        );
        (ev, page_refusal(&org, status, title, message))
    };
    let app = match app {
        Some(a) if a.sign_on_mode == "SAML_2_0" => a,
        _ => return page_refusal(&org, StatusCode::NOT_FOUND, "App not found", "There is no such app in this organization."),
    };
    let (ev, page) = if !can_authenticate(user.status) {
        let (reason, message) = status_refusal(user.status);
        refuse(reason, StatusCode::FORBIDDEN, "Account unavailable", message)
    } else if app.status != "ACTIVE" {
        refuse("APP_INACTIVE", StatusCode::FORBIDDEN, "App unavailable", "This app is not active. Contact your administrator.")
    } else {
        // read with the app at this sign-on: an unassignment takes effect on the next one
        match assignment {
            None => refuse(
                "NOT_ASSIGNED",
                StatusCode::FORBIDDEN,
                "App not assigned",
                "You are not assigned to this app. Ask your administrator for access.",
            ),
            Some(app_username) => {
                // ForceAuthn: the password again first, unless the app disables it
                if let Some(r) = request.as_ref().filter(|r| r.force_authn && crate::force_authn::honoured(&app)) {
                    if !crate::force_authn::satisfied(&state, &org, &app, &r.id, &params, &signed_in.session) {
                        return match crate::force_authn::ask(&state, &org, &app, &r.id, &parts, &params, &signed_in.session) {
                            Some(to) => Redirect::to(&to).into_response(),
                            None => ApiError::internal("sealing the re-authentication token failed").into_response(),
                        };
                    }
                }
                if let Err(e) = state.store.touch_session(&signed_in.session, state.now()).await {
                    return ApiError::internal(e.to_string()).into_response();
                }
                let sign_on = idhub_core::sso::SignOn {
                    session: &signed_in.session,
                    user: &signed_in.user,
                    app_username,
                    relay_state: params.get("RelayState"),
                    in_response_to: request.map(|r| r.id),
                };
                match idhub_core::sso::respond(&state.core, &org, &app, sign_on).await {
                    Ok(response) => {
                        let html = post_page(&app, &response);
                        let ev = NewEvent::success(
                            "user.authentication.sso",
                            "User single sign on to app",
                            Party::new(user.id.0.clone(), "User", user.login(), user.display_name()),
                            vec![app_party(&app)],
                            client.0.clone(),
                        );
                        log_sso(&state, &org, ev).await;
                        let mut r = Html(html).into_response();
                        add_security_headers(r.headers_mut());
                        return r;
                    }
                    Err(e) if e.is_internal() => {
                        // logged with an error id that the page shows; the detail stays in the log
                        let error_id = crate::error::new_error_id();
                        tracing::error!(error_id = %error_id, "SAML sign-on: {e}");
                        refuse(
                            "INTERNAL_ERROR",
                            StatusCode::INTERNAL_SERVER_ERROR,
                            "Sign-on failed",
                            &format!("Something went wrong. Try again later, or give your administrator this error id: {error_id}"),
                        )
                    }
                    Err(e) => refuse(
                        "CONFIGURATION",
                        StatusCode::BAD_REQUEST,
                        "Sign-on failed",
                        &format!(
                            "This app's sign-on settings cannot be used: {}",
                            e.causes().first().cloned().unwrap_or_else(|| e.to_string())
                        ),
                    ),
                }
            }
        }
    };
    log_sso(&state, &org, ev).await;
    page
}

/// Record an SSO outcome through the batching System Log writer (a listing waits for it).
async fn log_sso(state: &AppState, org: &Org, ev: NewEvent) {
    if let Err(e) = state.store.log_event_batched(&org.id, ev, state.now()).await {
        tracing::warn!("System Log event not written: {e}");
    }
}

/// The auto-POST page that carries a signed Response to the app's ACS.
fn post_page(app: &App, r: &idhub_core::sso::SignedResponse) -> String {
    let relay_input =
        r.relay_state.as_ref().map(|v| format!("<input type=\"hidden\" name=\"RelayState\" value=\"{}\">", escape(v))).unwrap_or_default();
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Signing in to {label}</title><script src=\"/static/autopost.js\" defer></script></head>\
<body><form method=\"post\" action=\"{acs}\" id=\"saml-post\"><input type=\"hidden\" name=\"SAMLResponse\" value=\"{b64}\">{relay_input}\
<p>Signing you in to {label}…</p><noscript><button type=\"submit\">Continue</button></noscript></form></body></html>",
        label = escape(&app.label),
        acs = escape(&r.acs),
        b64 = r.saml_response,
    )
}

/// "View Setup Instructions": what the service provider's administrator copies — the
/// IdP Single Sign-On URL, the IdP Issuer and the X.509 certificate (with a download).
pub async fn setup_instructions(
    State(state): State<AppState>,
    admin: crate::console::Admin,
    Path((name, id)): Path<(String, String)>,
) -> Response {
    let org = admin.org().clone();
    let app = match state.store.get_app(&org.id, &id).await {
        Ok(a) if a.name == name && a.sign_on_mode == "SAML_2_0" => a,
        _ => return page_refusal(&org, StatusCode::NOT_FOUND, "App not found", "There is no such SAML app in this organization."),
    };
    let key = match idhub_core::signing_keys::active_key(&state.core, &org, &app).await {
        Ok(k) => k,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let sso = format!("{}/app/{}/{}/sso/saml", org.base_url, app.name, app.id);
    let html = format!(
        "<p>Give these to the service provider ({label}).</p><dl class=\"setup\">\
<dt>Identity Provider Single Sign-On URL</dt><dd><code id=\"idp-sso-url\">{sso}</code> <button type=\"button\" class=\"copy\" data-copy=\"idp-sso-url\">Copy</button></dd>\
<dt>Identity Provider Issuer</dt><dd><code id=\"idp-issuer\">{issuer}</code> <button type=\"button\" class=\"copy\" data-copy=\"idp-issuer\">Copy</button></dd>\
<dt>X.509 Certificate</dt><dd><pre id=\"idp-cert\">{cert}</pre><a class=\"button\" href=\"/app/{name}/{id}/setup/cert.pem\" id=\"download-cert\">Download certificate</a> \
<a href=\"/admin/app/{id}/metadata\" id=\"download-metadata\">Identity Provider metadata</a></dd></dl>",
        label = escape(&app.label),
        sso = escape(&sso),
        issuer = escape(&issuer(&org, &app)),
        cert = escape(&key.cert_pem),
        name = escape(&app.name),
        id = escape(&app.id),
    );
    crate::console::render(
        &admin,
        "placeholder.html",
        "apps",
        &format!("How to configure SAML 2.0 for {}", app.label),
        json!({ "message": "", "html": html }),
        StatusCode::OK,
    )
}

/// `GET /app/{name}/{id}/setup/cert.pem`: the active signing certificate (administrators).
pub async fn certificate_download(
    State(state): State<AppState>,
    admin: crate::console::Admin,
    Path((name, id)): Path<(String, String)>,
) -> Response {
    let org = admin.org().clone();
    let app = match state.store.get_app(&org.id, &id).await {
        Ok(a) if a.name == name && a.sign_on_mode == "SAML_2_0" => a,
        _ => return page_refusal(&org, StatusCode::NOT_FOUND, "App not found", "There is no such SAML app in this organization."),
    };
    match idhub_core::signing_keys::active_key(&state.core, &org, &app).await {
        Ok(k) => (
            [(header::CONTENT_TYPE, "application/x-pem-file"), (header::CONTENT_DISPOSITION, "attachment; filename=\"okta.cert\"")],
            k.cert_pem,
        )
            .into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}
