//! idhub as a SAML IdP: the Response for one sign-on of a signed-in user to a SAML app.
//! The app's sign-on settings give the ACS, the audience, the NameID and the attribute
//! statements (Okta expressions over the user's profile and app username); the
//! AuthnContext says whether the session proved a second factor; the Response and/or the
//! Assertion are signed with the app's active key (parsed once, kept in memory). The web
//! crate decides whether the sign-on may happen (session, status, assignment, ForceAuthn)
//! and writes the auto-POST page.

use crate::{Core, CoreError};
use idhub_domain::application::template_expression;
use idhub_domain::expr::{Expression, MapContext};
use idhub_saml::response::{signed_response, Attribute, ResponseSpec, AC_MFA, AC_PASSWORD};
use idhub_store::apps::App;
use idhub_store::orgs::Org;
use idhub_store::rows::StoredUser;
use idhub_store::sessions::Session;
use serde_json::{json, Value};

/// The IdP entity id of an app.
pub fn issuer(org: &Org, app: &App) -> String {
    format!("{}/app/{}", org.base_url, app.id)
}

/// What the browser posts to the app.
#[derive(Debug, Clone)]
pub struct SignedResponse {
    /// The app's ACS (the form's action).
    pub acs: String,
    /// The signed Response, base64.
    pub saml_response: String,
    /// The relay state given, else the app's default; none when empty or over 4 KiB.
    pub relay_state: Option<String>,
}

/// What a sign-on is for: who, in which session, under which app username, in answer
/// to which AuthnRequest (none when IdP-initiated), continuing to which relay state.
#[derive(Debug)]
pub struct SignOn<'a> {
    pub session: &'a Session,
    pub user: &'a StoredUser,
    /// The app username read with the assignment (`None`: from the app's template).
    pub app_username: Option<String>,
    pub relay_state: Option<&'a str>,
    pub in_response_to: Option<String>,
}

/// The signed Response for `sign_on` to `app`. An app whose settings cannot make one (no
/// ACS, no audience, an expression that does not evaluate) is a validation error naming
/// the setting; a signing failure is internal.
pub async fn respond(core: &Core, org: &Org, app: &App, sign_on: SignOn<'_>) -> Result<SignedResponse, CoreError> {
    let so = app.settings.get("signOn").cloned().unwrap_or(Value::Null);
    let setting = |k: &str| so.get(k).and_then(Value::as_str).filter(|v| !v.is_empty());
    let acs = setting("ssoAcsUrl").ok_or_else(|| CoreError::invalid("ssoAcsUrl", "the Single Sign-On URL (ACS) is not set"))?.to_string();
    let audience = setting("audience").ok_or_else(|| CoreError::invalid("audience", "the Audience URI is not set"))?.to_string();
    let user = &sign_on.user.user;
    let username = match sign_on.app_username {
        Some(u) => u,
        None => crate::applications::app_username(app, user)?,
    };
    let mut uctx = Value::Object(user.profile.clone());
    uctx["userName"] = json!(username);
    uctx["id"] = json!(user.id);
    let ctx = MapContext::new()
        .with_root("user", uctx.clone())
        .with_root("source", uctx)
        .with_root("app", json!({ "id": app.id, "name": app.name }));
    let eval = |src: &str| -> Result<Option<String>, CoreError> {
        let e = Expression::parse(template_expression(src)).map_err(|e| CoreError::invalid("expression", e))?;
        e.evaluate_string(&ctx).map_err(|e| CoreError::invalid("expression", e))
    };
    let name_id = eval(setting("subjectNameIdTemplate").unwrap_or("${user.userName}"))?.unwrap_or(username.clone());
    let mut attributes = vec![];
    for st in so.get("attributeStatements").and_then(Value::as_array).cloned().unwrap_or_default() {
        let mut values = vec![];
        for v in st.get("values").and_then(Value::as_array).cloned().unwrap_or_default() {
            if let Some(val) = v.as_str().map(eval).transpose()?.flatten() {
                values.push(val);
            }
        }
        if !values.is_empty() {
            attributes.push(Attribute {
                name: st.get("name").and_then(Value::as_str).unwrap_or_default().to_string(),
                name_format: st
                    .get("namespace")
                    .and_then(Value::as_str)
                    .unwrap_or("urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified")
                    .to_string(),
                values,
            });
        }
    }
    let signing = crate::signing_keys::active_signing_key(core, org, app).await?;
    let spec = ResponseSpec {
        issuer: issuer(org, app),
        acs_url: acs.clone(),
        audience,
        name_id,
        name_id_format: setting("subjectNameIdFormat").unwrap_or(idhub_domain::application::NAMEID_UNSPECIFIED).to_string(),
        in_response_to: sign_on.in_response_to,
        session_index: sign_on.session.id.clone(),
        authn_context: if sign_on.session.amr.iter().any(|m| m == "otp") { AC_MFA.into() } else { AC_PASSWORD.into() },
        attributes,
        now_ms: core.now(),
        validity_ms: 5 * 60 * 1000,
        sign_response: so.get("responseSigned").and_then(Value::as_bool).unwrap_or(true),
        sign_assertion: so.get("assertionSigned").and_then(Value::as_bool).unwrap_or(true),
    };
    let xml = tokio::task::spawn_blocking(move || signed_response(&spec, &signing))
        .await
        .map_err(|e| CoreError::internal(e.to_string()))?
        .map_err(|e| CoreError::internal(e.to_string()))?;
    let relay_state = sign_on
        .relay_state
        .map(str::to_string)
        .or_else(|| setting("defaultRelayState").map(str::to_string))
        .filter(|r| !r.is_empty() && r.len() <= 4096);
    Ok(SignedResponse { acs, saml_response: base64_encode(xml.as_bytes()), relay_state })
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
