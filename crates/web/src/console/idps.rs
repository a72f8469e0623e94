//! Security > Identity Providers: the list (activate, deactivate, delete), "Add identity
//! provider > SAML 2.0 IdP" with every field the seeds name, and an IdP's page (its
//! settings, editable; the SAML SP metadata with copy buttons; the linked users).
//! Forms name their inputs by the Okta API's field paths, and every submission goes
//! through the same service as `/api/v1/idps`, so errors land next to the field that
//! caused them and nothing is stored on error.

use super::apps::set_path;
use super::{done, error_context, field, notice, page_error, render, Admin, WriteForm};
use crate::api::extract::Params;
use crate::error::ApiError;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use idhub_core::idps::Caller;
use idhub_core::idps::{acs_url, load_idp, settings_of};
use idhub_core::permissions::OrgAction;
use idhub_domain::time::{format_millis, Millis};
use idhub_saml::keys::Certificate;
use idhub_store::groups::GroupSelect;
use idhub_store::idps::Idp;
use serde_json::{json, Map, Value};

const DAY_MS: Millis = 24 * 3600 * 1000;

/// Checkbox fields of the form (absent from a submission means off).
const CHECKS: [&str; 3] = ["protocol.settings.honorPersistentNameId", "policy.provisioning.profileMaster", "policy.trustClaims"];

/// Plain text or select fields copied as they are into the Okta body.
const PLAIN: [&str; 14] = [
    "name",
    "idhub.usage",
    "policy.subject.userNameTemplate.template",
    "policy.subject.matchType",
    "policy.subject.matchAttribute",
    "policy.accountLink.action",
    "policy.provisioning.action",
    "policy.provisioning.groups.action",
    "policy.provisioning.groups.sourceAttributeName",
    "protocol.credentials.trust.issuer",
    "protocol.endpoints.sso.url",
    "protocol.endpoints.sso.binding",
    "protocol.algorithms.request.signature.algorithm",
    "protocol.algorithms.response.signature.scope",
];

fn all<'a>(form: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    form.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty()).collect()
}

/// What a submitted IdP form means: the Okta body, the certificate pasted or uploaded
/// (parsed), and errors found before the domain's validation (certificate, clock skew).
struct Submitted {
    body: Value,
    cert: Option<Certificate>,
    cert_pem: String,
    errors: Map<String, Value>,
}

fn read_form(form: &[(String, String)]) -> Submitted {
    let mut body = json!({ "type": "SAML2" });
    let mut errors = Map::new();
    for name in PLAIN {
        if let Some(v) = field(form, name) {
            set_path(&mut body, name, json!(v.trim()));
        }
    }
    for name in CHECKS {
        set_path(&mut body, name, json!(field(form, name) == Some("on")));
    }
    // Filter: the pattern counts only when the checkbox is ticked.
    let filter = field(form, "policy.subject.filter").map(str::trim).unwrap_or_default();
    if field(form, "filterEnabled") == Some("on") {
        if filter.is_empty() {
            errors.insert("policy.subject.filter".into(), json!("Enter the regular expression usernames must match"));
        }
        set_path(&mut body, "policy.subject.filter", json!(filter));
    }
    let link_groups = all(form, "policy.accountLink.filter.groups.include");
    if !link_groups.is_empty() {
        set_path(&mut body, "policy.accountLink.filter.groups.include", json!(link_groups));
    }
    set_path(&mut body, "policy.provisioning.groups.assignments", json!(all(form, "policy.provisioning.groups.assignments")));
    set_path(&mut body, "policy.provisioning.groups.filter", json!(all(form, "policy.provisioning.groups.filter")));
    let reactivate = field(form, "policy.provisioning.conditions.deprovisioned.action") == Some("on");
    set_path(&mut body, "policy.provisioning.conditions.deprovisioned.action", json!(if reactivate { "REACTIVATE" } else { "NONE" }));
    let unsuspend = field(form, "policy.provisioning.conditions.suspended.action") == Some("on");
    set_path(&mut body, "policy.provisioning.conditions.suspended.action", json!(if unsuspend { "UNSUSPEND" } else { "NONE" }));
    let sign = field(form, "protocol.algorithms.request.signature.scope") == Some("on");
    set_path(&mut body, "protocol.algorithms.request.signature.scope", json!(if sign { "REQUEST" } else { "NONE" }));
    if let Some(a) = field(form, "protocol.algorithms.response.signature.algorithm") {
        set_path(&mut body, "protocol.algorithms.response.signature.algorithm", json!(a));
    }
    let destination = field(form, "protocol.endpoints.sso.destination").map(str::trim).unwrap_or_default();
    if !destination.is_empty() {
        set_path(&mut body, "protocol.endpoints.sso.destination", json!(destination));
    }
    if let Some(t) = field(form, "protocol.endpoints.acs.type") {
        set_path(&mut body, "protocol.endpoints.acs.type", json!(t));
    }
    let unit: i64 = match field(form, "maxClockSkewUnit") {
        Some("seconds") => 1000,
        Some("hours") => 3_600_000,
        _ => 60_000,
    };
    match field(form, "maxClockSkew").map(str::trim).unwrap_or("2").parse::<i64>() {
        Ok(n) if (0..=1_000_000).contains(&n) => set_path(&mut body, "policy.maxClockSkew", json!(n * unit)),
        _ => {
            errors.insert("policy.maxClockSkew".into(), json!("Enter a whole number"));
        }
    }
    // Keep the trusted key unless a new certificate is given.
    if let Some(kid) = field(form, "kid").filter(|k| !k.is_empty()) {
        set_path(&mut body, "protocol.credentials.trust.kid", json!(kid));
    }
    let xml = field(form, "idhub.metadataXml").unwrap_or_default();
    if !xml.trim().is_empty() {
        set_path(&mut body, "idhub.metadataXml", json!(xml));
    }
    let cert_pem = field(form, "certificate").unwrap_or_default().trim().to_string();
    let mut cert = None;
    if !cert_pem.is_empty() {
        match parse_certificate(&cert_pem) {
            Ok(c) => cert = Some(c),
            Err(msg) => {
                errors.insert("certificate".into(), json!(msg));
            }
        }
    }
    Submitted { body, cert, cert_pem, errors }
}

/// A pasted certificate: PEM, or the base64 DER inside it.
fn parse_certificate(text: &str) -> Result<Certificate, String> {
    let r = if text.contains("-----BEGIN") {
        Certificate::from_pem(text)
    } else {
        Certificate::from_base64_der(&text.split_whitespace().collect::<String>())
    };
    r.map_err(|_| "Not a usable X.509 certificate: paste the PEM text (-----BEGIN CERTIFICATE-----) or upload the .crt/.pem file".into())
}

async fn group_choices(state: &AppState, admin: &Admin) -> Vec<Value> {
    match state.store.list_groups(&admin.org().id, &GroupSelect::All, 500, None).await {
        Ok(p) => p.items.iter().map(|g| json!({ "id": g.group.id, "name": g.group.name })).collect(),
        Err(_) => vec![],
    }
}

/// The values the form shows, from an Okta body (saved or submitted).
fn form_values(body: &Value) -> Value {
    let skew = body.pointer("/policy/maxClockSkew").and_then(Value::as_i64).unwrap_or(120_000);
    let (n, unit) = if skew % 3_600_000 == 0 && skew > 0 {
        (skew / 3_600_000, "hours")
    } else if skew % 60_000 == 0 {
        (skew / 60_000, "minutes")
    } else {
        (skew / 1000, "seconds")
    };
    let text = |p: &str, d: &str| body.pointer(p).and_then(Value::as_str).filter(|s| !s.is_empty()).unwrap_or(d).to_string();
    let list = |p: &str| body.pointer(p).and_then(Value::as_array).cloned().unwrap_or_default();
    json!({
        "name": text("/name", ""),
        "usage": text("/idhub/usage", "SSO"),
        "persistent": body.pointer("/protocol/settings/honorPersistentNameId").and_then(Value::as_bool).unwrap_or(false),
        "template": text("/policy/subject/userNameTemplate/template", "idpuser.subjectNameId"),
        "filter": text("/policy/subject/filter", ""),
        "match_type": text("/policy/subject/matchType", "USERNAME"),
        "match_attribute": text("/policy/subject/matchAttribute", ""),
        "link": text("/policy/accountLink/action", "DISABLED"),
        "link_groups": list("/policy/accountLink/filter/groups/include"),
        "jit": text("/policy/provisioning/action", "DISABLED"),
        "profile_master": body.pointer("/policy/provisioning/profileMaster").and_then(Value::as_bool).unwrap_or(false),
        "trust_claims": body.pointer("/policy/trustClaims").and_then(Value::as_bool).unwrap_or(false),
        "reactivate": text("/policy/provisioning/conditions/deprovisioned/action", "NONE") == "REACTIVATE",
        "unsuspend": text("/policy/provisioning/conditions/suspended/action", "NONE") == "UNSUSPEND",
        "group_action": text("/policy/provisioning/groups/action", "NONE"),
        "group_assignments": list("/policy/provisioning/groups/assignments"),
        "group_source": text("/policy/provisioning/groups/sourceAttributeName", ""),
        "group_filter": list("/policy/provisioning/groups/filter"),
        "issuer": text("/protocol/credentials/trust/issuer", ""),
        "sso_url": text("/protocol/endpoints/sso/url", ""),
        "kid": text("/protocol/credentials/trust/kid", ""),
        "binding": text("/protocol/endpoints/sso/binding", "HTTP-POST"),
        "sign_requests": text("/protocol/algorithms/request/signature/scope", "REQUEST") == "REQUEST",
        "request_algorithm": text("/protocol/algorithms/request/signature/algorithm", "SHA-256"),
        "response_scope": text("/protocol/algorithms/response/signature/scope", "ANY"),
        "response_algorithm": text("/protocol/algorithms/response/signature/algorithm", "SHA-256"),
        "destination": text("/protocol/endpoints/sso/destination", ""),
        "acs_type": text("/protocol/endpoints/acs/type", "INSTANCE"),
        "skew": n, "skew_unit": unit,
    })
}

/// The seeds' defaults for a new SAML 2.0 IdP.
fn new_defaults() -> Value {
    json!({
        "idhub": { "usage": "SSO" },
        "protocol": {
            "endpoints": { "sso": { "binding": "HTTP-POST" }, "acs": { "type": "INSTANCE" } },
            "algorithms": { "request": { "signature": { "algorithm": "SHA-256", "scope": "REQUEST" } }, "response": { "signature": { "algorithm": "SHA-256", "scope": "ANY" } } }
        },
        "policy": { "subject": { "userNameTemplate": { "template": "idpuser.subjectNameId" }, "matchType": "USERNAME" }, "accountLink": { "action": "DISABLED" }, "provisioning": { "action": "DISABLED" }, "maxClockSkew": 120000 }
    })
}

/// The trusted certificate of an IdP as the page shows it, with a warning near expiry.
async fn trusted_cert(state: &AppState, admin: &Admin, kid: Option<&str>) -> Value {
    let Some(kid) = kid.filter(|k| !k.is_empty()) else { return Value::Null };
    let Ok(key) = state.store.get_idp_key(&admin.org().id, kid).await else { return Value::Null };
    let cert = Certificate::from_base64_der(&key.cert_der).ok();
    json!({
        "kid": key.kid,
        "subject": cert.as_ref().and_then(Certificate::subject_common_name),
        "expires": format_millis(key.expires),
        "warning": cert_warning(key.expires, state.now()),
    })
}

/// A certificate expiring within 30 days (or expired) deserves a warning.
pub fn cert_warning(expires: Millis, now: Millis) -> Option<String> {
    if expires <= now {
        Some("The IdP signature certificate has expired: sign-ins from this IdP fail until a new one is uploaded.".into())
    } else if expires - now <= 30 * DAY_MS {
        Some(format!("The IdP signature certificate expires in {} days: upload the IdP's new certificate.", (expires - now) / DAY_MS))
    } else {
        None
    }
}

/// Dashboard warnings: IdP signature certificates expired or expiring within 30 days.
pub async fn certificate_warnings(state: &AppState, org: &idhub_store::orgs::Org) -> Vec<String> {
    let now = state.now();
    let mut out = vec![];
    for idp in state.store.list_idps(&org.id, None, 0, 500).await.unwrap_or_default() {
        let Some(kid) = settings_of(&idp).ok().and_then(|s| s.trust_kid) else { continue };
        if let Ok(k) = state.store.get_idp_key(&org.id, &kid).await {
            if let Some(w) = cert_warning(k.expires, now) {
                out.push(format!("Identity provider \"{}\": {w}", idp.name));
            }
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
async fn form_page(
    state: &AppState,
    admin: &Admin,
    idp: Option<&Idp>,
    body: &Value,
    cert_pem: &str,
    error: Value,
    fields: Map<String, Value>,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let values = form_values(body);
    let mut ctx = json!({
        "notice": notice, "v": values, "groups": group_choices(state, admin).await, "errors": fields, "error": error, "cert_pem": cert_pem,
        "trusted": trusted_cert(state, admin, values["kid"].as_str()).await,
    });
    match idp {
        None => render(admin, "idp_new.html", "idps", "Add Identity Provider", ctx, status),
        Some(idp) => {
            let extra = detail_context(state, admin, idp).await;
            if let (Some(o), Some(e)) = (ctx.as_object_mut(), extra.as_object()) {
                o.extend(e.clone());
            }
            render(admin, "idp.html", "idps", &format!("Identity provider {}", idp.name), ctx, status)
        }
    }
}

async fn detail_context(state: &AppState, admin: &Admin, idp: &Idp) -> Value {
    let org = admin.org();
    let (acs, audience) = match settings_of(idp) {
        Ok(s) => (acs_url(org, idp, &s), s.audience),
        Err(_) => (String::new(), String::new()),
    };
    let mut users = vec![];
    for l in state.store.list_idp_links(&org.id, &idp.id).await.unwrap_or_default() {
        let login = match state.store.get_user(&org.id, &l.user_id).await {
            Ok(u) => u.user.login().to_string(),
            Err(_) => l.user_id.clone(),
        };
        users.push(json!({ "id": l.user_id, "login": login, "external_id": l.external_id, "linked": format_millis(l.created) }));
    }
    json!({
        "idp": { "id": idp.id, "name": idp.name, "status": idp.status },
        "acs_url": acs, "audience": audience, "users": users,
    })
}

fn caller<'a>(admin: &'a Admin) -> Caller<'a> {
    Caller { org: admin.org(), actor: admin.actor().party, client: &admin.client }
}

/// `GET /admin/access/identity-providers?q=`: the list, searched by the start of the name
/// (as `/api/v1/idps?q=`).
pub async fn list(State(state): State<AppState>, admin: Admin, params: Params) -> Response {
    let q = params.get("q").map(str::trim).filter(|q| !q.is_empty()).map(|q| q.chars().take(100).collect::<String>());
    let idps = match state.store.list_idps(&admin.org().id, q.as_deref(), 0, 500).await {
        Ok(i) => i,
        Err(e) => {
            return page_error(&admin, StatusCode::INTERNAL_SERVER_ERROR, "Cannot list identity providers", &ApiError::from(e).summary)
        }
    };
    let now = state.now();
    let mut rows = vec![];
    for i in &idps {
        let settings = settings_of(i).ok();
        let mut warning = None;
        if let Some(kid) = settings.as_ref().and_then(|s| s.trust_kid.clone()) {
            if let Ok(k) = state.store.get_idp_key(&admin.org().id, &kid).await {
                warning = cert_warning(k.expires, now);
            }
        }
        rows.push(json!({
            "id": i.id, "name": i.name, "status": i.status,
            "acs_url": settings.as_ref().map(|s| acs_url(admin.org(), i, s)),
            "audience": settings.as_ref().map(|s| s.audience.clone()),
            "jit": settings.as_ref().is_some_and(|s| s.jit),
            "profile_master": settings.as_ref().is_some_and(|s| s.profile_master),
            "warning": warning,
        }));
    }
    let ctx = json!({ "idps": rows, "q": q, "notice": notice(&params) });
    render(&admin, "idps.html", "idps", "Identity Providers", ctx, StatusCode::OK)
}

/// The IdP types of Okta's "Add identity provider" step: only SAML 2.0 is available here;
/// the others are shown so that an admin following Okta's guides sees where they stand.
const IDP_TYPES: [(&str, &str, bool); 5] = [
    ("SAML2", "SAML 2.0 IdP", true),
    ("SALESFORCE", "Salesforce IdP", false),
    ("XERO", "Xero IdP", false),
    ("YAHOO", "Yahoo IdP", false),
    ("YAHOO_JAPAN", "Yahoo Japan IdP", false),
];

fn type_picker(admin: &Admin, error: Option<&str>, status: StatusCode) -> Response {
    let types: Vec<Value> = IDP_TYPES.iter().map(|(id, name, ok)| json!({ "id": id, "name": name, "available": ok })).collect();
    let ctx = json!({ "types": types, "type_error": error });
    render(admin, "idp_type.html", "idps", "Add identity provider", ctx, status)
}

/// `GET /admin/access/identity-providers/add`: step 1 of Add identity provider, the type.
pub async fn add(admin: Admin) -> Response {
    if let Err(r) = admin.require(OrgAction::ManageIdentityProviders) {
        return r;
    }
    type_picker(&admin, None, StatusCode::OK)
}

/// `GET /admin/access/identity-providers/new[?type=SAML2]`: Add identity provider > SAML
/// 2.0 IdP (the picker's Next); any other type goes back to the picker with the reason.
pub async fn new_form(State(state): State<AppState>, admin: Admin, params: Params) -> Response {
    if let Err(r) = admin.require(OrgAction::ManageIdentityProviders) {
        return r;
    }
    match (params.get("type"), params.get("step")) {
        (Some("SAML2"), _) | (None, None) => {}
        (None, Some(_)) => return type_picker(&admin, Some("Select an identity provider type."), StatusCode::BAD_REQUEST),
        (Some(_), _) => return type_picker(&admin, Some("Only SAML 2.0 IdP is available in idhub."), StatusCode::BAD_REQUEST),
    }
    form_page(&state, &admin, None, &new_defaults(), "", Value::Null, Map::new(), None, StatusCode::OK).await
}

async fn refuse(state: &AppState, admin: &Admin, idp: Option<&Idp>, s: &Submitted, e: Option<ApiError>) -> Response {
    let (error, mut fields) = match &e {
        Some(e) => error_context(e),
        None => (json!({ "summary": "Correct the fields marked below.", "causes": [] }), Map::new()),
    };
    for (k, v) in &s.errors {
        fields.entry(k.clone()).or_insert(v.clone());
    }
    // A certificate refused by the service (expired) belongs to the certificate field.
    if let Some(v) = fields.get("protocol.credentials.trust.kid").cloned() {
        fields.entry("certificate".to_string()).or_insert(v);
    }
    form_page(state, admin, idp, &s.body, &s.cert_pem, error, fields, None, StatusCode::BAD_REQUEST).await
}

/// `POST /admin/access/identity-providers/new` ("Finish").
pub async fn create(State(state): State<AppState>, WriteForm { admin, form }: WriteForm) -> Response {
    let s = read_form(&form);
    if !s.errors.is_empty() {
        return refuse(&state, &admin, None, &s, None).await;
    }
    match idhub_core::idps::create(&state.core, &caller(&admin), s.body.clone(), s.cert.clone(), true)
        .await
        .map_err(crate::error::ApiError::from)
    {
        Ok(idp) => done(&format!("/admin/idp/{}", idp.id), "Identity provider added."),
        Err(e) if e.status == StatusCode::BAD_REQUEST => refuse(&state, &admin, None, &s, Some(e)).await,
        Err(e) => page_error(&admin, e.status, "Cannot add the identity provider", &e.summary),
    }
}

/// `GET /admin/idp/{id}`: the IdP's settings, SAML SP metadata and linked users.
pub async fn view(State(state): State<AppState>, admin: Admin, Path(id): Path<String>, params: Params) -> Response {
    let idp = match load_idp(&state.core, admin.org(), &id).await {
        Ok(i) => i,
        Err(_) => return page_error(&admin, StatusCode::NOT_FOUND, "Not found", "There is no such identity provider."),
    };
    form_page(&state, &admin, Some(&idp), &idp.config, "", Value::Null, Map::new(), notice(&params), StatusCode::OK).await
}

/// `POST /admin/idp/{id}`: save the edited settings.
pub async fn save(State(state): State<AppState>, Path(id): Path<String>, WriteForm { admin, form }: WriteForm) -> Response {
    let idp = match load_idp(&state.core, admin.org(), &id).await {
        Ok(i) => i,
        Err(_) => return page_error(&admin, StatusCode::NOT_FOUND, "Not found", "There is no such identity provider."),
    };
    let mut s = read_form(&form);
    // Settings the form does not show are kept (the IdP user profile and its JIT mapping,
    // the NameID format).
    for p in ["/idhub/profileAttributes", "/idhub/profileMapping", "/protocol/settings/nameFormat"] {
        if let Some(v) = idp.config.pointer(p) {
            set_path(&mut s.body, &p[1..].replace('/', "."), v.clone());
        }
    }
    if !s.errors.is_empty() {
        return refuse(&state, &admin, Some(&idp), &s, None).await;
    }
    match idhub_core::idps::update(&state.core, &caller(&admin), &id, s.body.clone(), s.cert.clone())
        .await
        .map_err(crate::error::ApiError::from)
    {
        Ok(idp) => done(&format!("/admin/idp/{}", idp.id), "Identity provider saved."),
        Err(e) if e.status == StatusCode::BAD_REQUEST => refuse(&state, &admin, Some(&idp), &s, Some(e)).await,
        Err(e) => page_error(&admin, e.status, "Cannot save the identity provider", &e.summary),
    }
}

/// `POST /admin/idp/{id}/lifecycle/{activate|deactivate}`
pub async fn lifecycle(
    State(state): State<AppState>,
    Path((id, op)): Path<(String, String)>,
    WriteForm { admin, .. }: WriteForm,
) -> Response {
    match idhub_core::idps::set_status(&state.core, &caller(&admin), &id, &op).await.map_err(crate::error::ApiError::from) {
        Ok(idp) => done(
            "/admin/access/identity-providers",
            &format!("{} {}.", idp.name, if idp.status == "ACTIVE" { "activated" } else { "deactivated" }),
        ),
        Err(e) => page_error(&admin, e.status, "Cannot change the identity provider", &e.causes.first().cloned().unwrap_or(e.summary)),
    }
}

/// `POST /admin/idp/{id}/delete` (only an inactive IdP).
pub async fn delete(State(state): State<AppState>, Path(id): Path<String>, WriteForm { admin, .. }: WriteForm) -> Response {
    match idhub_core::idps::delete(&state.core, &caller(&admin), &id).await.map_err(crate::error::ApiError::from) {
        Ok(()) => done("/admin/access/identity-providers", "Identity provider deleted."),
        Err(e) => page_error(&admin, e.status, "Cannot delete the identity provider", &e.causes.first().cloned().unwrap_or(e.summary)),
    }
}

/// `GET /admin/idp/{id}/metadata`: the SP metadata XML, as a download.
pub async fn metadata(State(state): State<AppState>, admin: Admin, Path(id): Path<String>) -> Response {
    let idp = match load_idp(&state.core, admin.org(), &id).await {
        Ok(i) => i,
        Err(_) => return page_error(&admin, StatusCode::NOT_FOUND, "Not found", "There is no such identity provider."),
    };
    match crate::idp::api::sp_metadata_xml(&state, admin.org(), &idp).await {
        Ok(xml) => (
            [
                (header::CONTENT_TYPE, "application/xml; charset=utf-8".to_string()),
                (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{}-sp-metadata.xml\"", idp.id)),
            ],
            xml,
        )
            .into_response(),
        Err(e) => page_error(&admin, StatusCode::INTERNAL_SERVER_ERROR, "Cannot build the metadata", &e.summary),
    }
}
