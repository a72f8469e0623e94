//! Applications: the app catalog (custom SAML 2.0, Bookmark, Okta Org2Org, Dropbox
//! Business, Google Workspace) and the validation of an app in Okta's shape
//! (`POST/PUT /api/v1/apps`): its `settings.app` per template, its SAML sign-on settings
//! ([`sign_on`]), the application username template and visibility. SAML signing itself
//! lives in the SAML crate; this module only decides what is a valid configuration.

mod sign_on;

pub use sign_on::{
    ATTRNAME_FORMATS, ATTRNAME_UNSPECIFIED, AUTHN_CONTEXT_PASSWORD_PROTECTED, NAMEID_EMAIL, NAMEID_FORMATS, NAMEID_PERSISTENT,
    NAMEID_TRANSIENT, NAMEID_UNSPECIFIED,
};

use crate::expr::Expression;
use crate::DomainError;
use serde_json::{json, Value};

/// How an app signs users on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignOnMode {
    Saml2,
    Bookmark,
}

impl SignOnMode {
    /// Okta's name.
    pub fn as_str(self) -> &'static str {
        match self {
            SignOnMode::Saml2 => "SAML_2_0",
            SignOnMode::Bookmark => "BOOKMARK",
        }
    }

    /// The mode named `s` (Okta's name).
    pub fn parse(s: &str) -> Option<SignOnMode> {
        match s {
            "SAML_2_0" => Some(SignOnMode::Saml2),
            "BOOKMARK" => Some(SignOnMode::Bookmark),
            _ => None,
        }
    }
}

/// Where a template's SAML ACS URL and audience come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoints {
    /// Not a SAML app.
    None,
    /// The admin enters `settings.signOn.ssoAcsUrl` and `audience` (custom SAML 2.0).
    Custom,
    /// Fixed by the service provider; `{domain}` is filled from `settings.app.domain`.
    Pattern { acs: &'static str, audience: &'static str },
    /// The hub IdP's values, entered as `settings.app.acsUrl` and `audRestriction` (Org2Org).
    HubIdp,
}

/// One catalog entry: what an app made from this template looks like by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatalogEntry {
    /// The app's `name` (Okta's catalog key).
    pub name: &'static str,
    pub display_name: &'static str,
    pub description: &'static str,
    pub mode: SignOnMode,
    /// Offers provisioning (the Org2Org connector).
    pub provisioning: bool,
    /// Where the ACS URL and audience come from.
    pub endpoints: Endpoints,
    /// NameID format unless the app chooses one.
    pub default_name_id_format: &'static str,
    /// Attribute statements (name, expression) unless the app sets its own.
    pub default_attributes: &'static [(&'static str, &'static str)],
    /// Application username template unless the app sets one.
    pub default_username_template: &'static str,
    /// The `settings.app` fields the template takes.
    pub app_fields: &'static [&'static str],
}

const ORG2ORG_ATTRIBUTES: &[(&str, &str)] =
    &[("firstName", "user.firstName"), ("lastName", "user.lastName"), ("email", "user.email"), ("login", "user.login")];

/// The catalog, in the order the console lists it.
pub const CATALOG: [CatalogEntry; 5] = [
    CatalogEntry {
        name: "okta_org2org",
        display_name: "Okta Org2Org",
        description: "Authenticate and provision users from a source org into another Okta org",
        mode: SignOnMode::Saml2,
        provisioning: true,
        endpoints: Endpoints::HubIdp,
        default_name_id_format: NAMEID_UNSPECIFIED,
        default_attributes: ORG2ORG_ATTRIBUTES,
        default_username_template: "${source.login}",
        app_fields: &["baseUrl", "acsUrl", "audRestriction", "preferUsernameOverEmail"],
    },
    CatalogEntry {
        name: "dropbox_for_business",
        display_name: "Dropbox Business",
        description: "File sharing for teams, signed in by SAML",
        mode: SignOnMode::Saml2,
        provisioning: false,
        endpoints: Endpoints::Pattern { acs: "https://www.dropbox.com/saml_login", audience: "Dropbox" },
        default_name_id_format: NAMEID_EMAIL,
        default_attributes: &[],
        default_username_template: "${source.email}",
        app_fields: &[],
    },
    CatalogEntry {
        name: "google",
        display_name: "Google Workspace",
        description: "Gmail, Drive and the rest of Google Workspace, signed in by SAML",
        mode: SignOnMode::Saml2,
        provisioning: false,
        endpoints: Endpoints::Pattern { acs: "https://www.google.com/a/{domain}/acs", audience: "google.com/a/{domain}" },
        default_name_id_format: NAMEID_EMAIL,
        default_attributes: &[],
        default_username_template: "${source.email}",
        app_fields: &["domain"],
    },
    CatalogEntry {
        name: "saml_2_0",
        display_name: "SAML 2.0",
        description: "A custom SAML 2.0 service provider (Create New App)",
        mode: SignOnMode::Saml2,
        provisioning: false,
        endpoints: Endpoints::Custom,
        default_name_id_format: NAMEID_UNSPECIFIED,
        default_attributes: &[],
        default_username_template: "${source.login}",
        app_fields: &[],
    },
    CatalogEntry {
        name: "bookmark",
        display_name: "Bookmark App",
        description: "A tile that opens a URL, for example a deep link into an app of another org",
        mode: SignOnMode::Bookmark,
        provisioning: false,
        endpoints: Endpoints::None,
        default_name_id_format: NAMEID_UNSPECIFIED,
        default_attributes: &[],
        default_username_template: "${source.login}",
        app_fields: &["url", "requestIntegration"],
    },
];

/// The catalog entry named `name`.
pub fn catalog(name: &str) -> Option<&'static CatalogEntry> {
    CATALOG.iter().find(|c| c.name == name)
}

/// Variable roots an application username template may read.
pub const USERNAME_ROOTS: &[&str] = &["source", "user"];
/// Variable roots SAML expressions (NameID, attribute statements) may read.
pub const SAML_ROOTS: &[&str] = &["user", "source", "app"];

/// An http(s) URL of at most 2048 characters without whitespace (`javascript:`, `data:`
/// and the like are refused, saml-security item 12).
pub(crate) fn http_url(field: &str, v: Option<&str>) -> Result<String, DomainError> {
    let url = v.map(str::trim).filter(|u| !u.is_empty()).ok_or_else(|| DomainError::invalid(field, "The field cannot be left blank"))?;
    let lower = url.to_ascii_lowercase();
    let rest = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://")).unwrap_or("");
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if !host.is_empty() && url.len() <= 2048 && !url.contains(char::is_whitespace) && !url.chars().any(char::is_control) {
        Ok(url.to_string())
    } else {
        Err(DomainError::invalid(field, "must be an http:// or https:// URL"))
    }
}

/// [`http_url`] for other crates: `url` must be an http(s) URL (`field` names it in the error).
pub fn check_http_url(field: &str, url: &str) -> Result<String, DomainError> {
    http_url(field, Some(url))
}

/// The expression inside an Okta template (`${source.login}` → `source.login`; a bare
/// expression is returned as is).
pub fn template_expression(template: &str) -> &str {
    let t = template.trim();
    t.strip_prefix("${").and_then(|t| t.strip_suffix('}')).unwrap_or(t)
}

/// The application username of `user` from an app's username template (`None`: the
/// default `${source.login}`). `source` and `user` both name the user's profile (with its
/// `id`); a template that yields nothing gives the login.
pub fn app_username(template: Option<&str>, user: &crate::user::User) -> Result<String, DomainError> {
    let template = template.unwrap_or("${source.login}");
    let expr = Expression::parse(template_expression(template))
        .map_err(|e| DomainError::invalid("userName", format!("the username template does not parse: {e}")))?;
    let mut source = Value::Object(user.profile.clone());
    source["id"] = json!(user.id);
    let ctx = crate::expr::MapContext::new().with_root("source", source.clone()).with_root("user", source);
    let name = expr.evaluate_string(&ctx).map_err(|e| DomainError::invalid("userName", e.to_string()))?;
    Ok(name.unwrap_or_else(|| user.login().to_string()))
}

/// Check an Okta template (`${source.login}`, `${user.email}`, or a bare expression): it
/// must parse, and read only the given variable roots. A parse error names its position
/// in the template as written (0-based characters).
pub fn check_template(field: &str, template: &str, roots: &[&str]) -> Result<(), DomainError> {
    let inner = template_expression(template);
    let offset = match (template.find(inner), inner.is_empty()) {
        (Some(byte), false) => template[..byte].chars().count(),
        _ => 0,
    };
    let expr = Expression::parse(inner)
        .map_err(|e| DomainError::invalid(field, format!("Invalid expression at position {}: {}", e.position + offset, e.message)))?;
    if let Some(bad) = expr.roots().into_iter().find(|r| !roots.contains(&r.as_str())) {
        return Err(DomainError::invalid(field, format!("'{bad}' is not available here; use {}", roots.join(", "))));
    }
    Ok(())
}

/// Application username formats the console offers (Okta's built-in choices); any other
/// template is CUSTOM.
pub const USERNAME_FORMATS: [(&str, &str); 4] = [
    ("${source.login}", "Okta username"),
    ("${String.substringBefore(source.login, \"@\")}", "Okta username prefix"),
    ("${source.email}", "Email"),
    ("${String.substringBefore(source.email, \"@\")}", "Email prefix"),
];

/// Catalog apps whose Advanced Sign-on Settings offer "Silent Provisioning" (the seeds'
/// Dropbox Business): stored as `settings.idhub.silentProvisioning`.
pub const SILENT_PROVISIONING_APPS: [&str; 1] = ["dropbox_for_business"];

/// When the application username is (re)computed: idhub's `updateOn`.
pub const USERNAME_UPDATE_ON: [&str; 2] = ["CREATE", "CREATE_AND_UPDATE"];
/// Okta's `userNameTemplate.pushStatus` values.
pub const USERNAME_PUSH_STATUS: [&str; 3] = ["PUSH", "DONT_PUSH", "NOT_CONFIGURED"];

/// A validated app body: what the store keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct AppInput {
    pub name: String,
    pub label: String,
    pub mode: SignOnMode,
    /// `settings` in Okta's shape (`app`, `signOn`, `notifications`).
    pub settings: Value,
    /// `credentials.userNameTemplate` (`template`, `type`, `pushStatus`) plus idhub's
    /// `updateOn` (`CREATE` | `CREATE_AND_UPDATE`) and Okta's `credentials.revealPassword`.
    pub username_template: Value,
    pub visibility: Value,
    pub accessibility: Value,
}

fn resolve_entry(body: &Value) -> Result<&'static CatalogEntry, DomainError> {
    let name = match body.get("name") {
        None | Some(Value::Null) => "",
        Some(Value::String(s)) => s.trim(),
        Some(_) => return Err(DomainError::invalid("name", "must be a string")),
    };
    let mode_str = match body.get("signOnMode") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => return Err(DomainError::invalid("signOnMode", "must be a string")),
    };
    let mode = match mode_str {
        None => None,
        Some(m) => Some(
            SignOnMode::parse(m)
                .ok_or_else(|| DomainError::invalid("signOnMode", format!("'{m}' is not supported; use SAML_2_0 or BOOKMARK")))?,
        ),
    };
    let entry = match (name, mode) {
        ("", Some(SignOnMode::Saml2)) => catalog("saml_2_0"),
        ("", Some(SignOnMode::Bookmark)) => catalog("bookmark"),
        ("", None) => return Err(DomainError::invalid("name", "name or signOnMode (SAML_2_0, BOOKMARK) is required")),
        (n, _) => catalog(n),
    }
    .ok_or_else(|| DomainError::invalid("name", format!("'{name}' is not in the app catalog")))?;
    if mode.is_some_and(|m| m != entry.mode) {
        return Err(DomainError::invalid("signOnMode", format!("{} apps sign on with {}", entry.display_name, entry.mode.as_str())));
    }
    Ok(entry)
}

fn app_bool(app: &Value, key: &str) -> Result<bool, DomainError> {
    match app.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(DomainError::invalid(&format!("settings.app.{key}"), "must be true or false")),
    }
}

fn app_text<'a>(app: &'a Value, key: &str) -> Option<&'a str> {
    app.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
}

/// `settings.app` of a template, validated, with the template's ACS URL and audience
/// (for SAML templates whose endpoints do not come from `settings.signOn`).
fn app_settings(entry: &CatalogEntry, app: &Value) -> Result<(Value, Option<String>, Option<String>), DomainError> {
    if !app.is_object() && !app.is_null() {
        return Err(DomainError::invalid("settings.app", "must be an object"));
    }
    match entry.name {
        "bookmark" => {
            let url = http_url("settings.app.url", app_text(app, "url"))?;
            Ok((json!({ "url": url, "requestIntegration": app_bool(app, "requestIntegration")? }), None, None))
        }
        "okta_org2org" => {
            let base = http_url("settings.app.baseUrl", app_text(app, "baseUrl"))?;
            let acs = app_text(app, "acsUrl").map(|a| http_url("settings.app.acsUrl", Some(a))).transpose()?;
            let aud = app_text(app, "audRestriction").map(str::to_string);
            if aud.as_deref().is_some_and(|a| a.chars().count() > 1024) {
                return Err(DomainError::invalid("settings.app.audRestriction", "must be at most 1024 characters"));
            }
            let settings = json!({
                "baseUrl": base.trim_end_matches('/'), "acsUrl": acs, "audRestriction": aud,
                "preferUsernameOverEmail": app_bool(app, "preferUsernameOverEmail")?,
            });
            Ok((settings, acs, aud))
        }
        "google" => {
            let domain = app_text(app, "domain")
                .filter(|d| {
                    d.len() <= 253
                        && d.contains('.')
                        && d.split('.').all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
                })
                .ok_or_else(|| DomainError::invalid("settings.app.domain", "the Google Workspace domain is required (e.g. example.com)"))?
                .to_ascii_lowercase();
            let (acs, aud) = match entry.endpoints {
                Endpoints::Pattern { acs, audience } => (acs.replace("{domain}", &domain), audience.replace("{domain}", &domain)),
                _ => return Err(DomainError::invalid("name", "catalog entry without endpoints")),
            };
            Ok((json!({ "domain": domain }), Some(acs), Some(aud)))
        }
        _ => match entry.endpoints {
            Endpoints::Pattern { acs, audience } => Ok((json!({}), Some(acs.to_string()), Some(audience.to_string()))),
            _ => Ok((json!({}), None, None)),
        },
    }
}

fn username_template(entry: &CatalogEntry, body: &Value) -> Result<Value, DomainError> {
    let t = body.pointer("/credentials/userNameTemplate").cloned().unwrap_or(Value::Null);
    if !t.is_object() && !t.is_null() {
        return Err(DomainError::invalid("credentials.userNameTemplate", "must be an object"));
    }
    let template =
        t.get("template").and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).unwrap_or(entry.default_username_template);
    check_template("credentials.userNameTemplate.template", template, USERNAME_ROOTS)?;
    let kind = if USERNAME_FORMATS.iter().any(|(f, _)| *f == template) { "BUILT_IN" } else { "CUSTOM" };
    match t.get("type").and_then(Value::as_str) {
        None | Some("CUSTOM") => {}
        Some("BUILT_IN") if kind == "BUILT_IN" => {}
        Some(_) => {
            return Err(DomainError::invalid(
                "credentials.userNameTemplate.type",
                "must be BUILT_IN (Okta username, its prefix, email or email prefix) or CUSTOM",
            ))
        }
    }
    let update_on =
        t.get("updateOn").or_else(|| body.pointer("/credentials/updateOn")).and_then(Value::as_str).unwrap_or("CREATE_AND_UPDATE");
    if !USERNAME_UPDATE_ON.contains(&update_on) {
        return Err(DomainError::invalid("credentials.userNameTemplate.updateOn", "must be CREATE or CREATE_AND_UPDATE"));
    }
    // Okta's `credentials.revealPassword` ("Password reveal"), kept beside the template
    let reveal = match body.pointer("/credentials/revealPassword") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(DomainError::invalid("credentials.revealPassword", "must be true or false")),
    };
    let mut out = json!({ "template": template, "type": kind, "updateOn": update_on, "revealPassword": reveal });
    match t.get("pushStatus") {
        None | Some(Value::Null) => {}
        Some(Value::String(p)) if USERNAME_PUSH_STATUS.contains(&p.as_str()) => out["pushStatus"] = json!(p),
        Some(_) => {
            return Err(DomainError::invalid("credentials.userNameTemplate.pushStatus", "must be PUSH, DONT_PUSH or NOT_CONFIGURED"))
        }
    }
    Ok(out)
}

fn flag_at(body: &Value, pointer: &str, field: &str) -> Result<bool, DomainError> {
    match body.pointer(pointer) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(DomainError::invalid(field, "must be true or false")),
    }
}

/// Validate an app body, filling its template's defaults.
pub fn validate_app(body: &Value) -> Result<AppInput, DomainError> {
    if !body.is_object() {
        return Err(DomainError::invalid("app", "a JSON object describing the app is required"));
    }
    let entry = resolve_entry(body)?;
    let label = match body.get("label") {
        None | Some(Value::Null) => entry.display_name.to_string(),
        Some(Value::String(l)) if !l.trim().is_empty() => l.trim().to_string(),
        Some(Value::String(_)) => return Err(DomainError::invalid("label", "The field cannot be left blank")),
        Some(_) => return Err(DomainError::invalid("label", "must be a string")),
    };
    if label.chars().count() > 100 || label.chars().any(char::is_control) {
        return Err(DomainError::invalid("label", "Must be at most 100 characters, without control characters"));
    }
    let settings = match body.get("settings") {
        None | Some(Value::Null) => json!({}),
        Some(s) => s.clone(),
    };
    if !settings.is_object() {
        return Err(DomainError::invalid("settings", "must be an object"));
    }
    let app_in = settings.get("app").cloned().unwrap_or(Value::Null);
    let so_in = settings.get("signOn").cloned().unwrap_or(Value::Null);
    let (app, acs, audience) = app_settings(entry, &app_in)?;
    let sign_on = match entry.endpoints {
        Endpoints::None => json!({}),
        endpoints => sign_on::saml_sign_on(&so_in, endpoints, acs, audience, entry.default_name_id_format, entry.default_attributes)?,
    };
    let notifications = settings.get("notifications").filter(|n| n.is_object()).cloned().unwrap_or_else(|| json!({}));
    let mut settings = json!({ "app": app, "notifications": notifications, "signOn": sign_on });
    if SILENT_PROVISIONING_APPS.contains(&entry.name) {
        // Okta has no API field for Dropbox's "Silent Provisioning": idhub's own namespace
        settings["idhub"] =
            json!({ "silentProvisioning": flag_at(body, "/settings/idhub/silentProvisioning", "settings.idhub.silentProvisioning")? });
    }
    if let Some(notes) = body.pointer("/settings/notes").filter(|n| n.is_object()) {
        let note = |k: &str| notes.get(k).and_then(Value::as_str).map(|s| s.chars().take(4096).collect::<String>());
        settings["notes"] = json!({ "admin": note("admin"), "enduser": note("enduser") });
    }
    let visibility = json!({
        "autoSubmitToolbar": flag_at(body, "/visibility/autoSubmitToolbar", "visibility.autoSubmitToolbar")?,
        "hide": {
            "iOS": flag_at(body, "/visibility/hide/iOS", "visibility.hide.iOS")?,
            "web": flag_at(body, "/visibility/hide/web", "visibility.hide.web")?,
        },
        "appLinks": { "login": true }
    });
    let self_service = flag_at(body, "/accessibility/selfService", "accessibility.selfService")?;
    let mut accessibility = json!({ "selfService": self_service, "errorRedirectUrl": null, "loginRedirectUrl": null });
    for key in ["errorRedirectUrl", "loginRedirectUrl"] {
        if let Some(u) = body.pointer(&format!("/accessibility/{key}")).and_then(Value::as_str).filter(|u| !u.trim().is_empty()) {
            accessibility[key] = json!(http_url(&format!("accessibility.{key}"), Some(u))?);
        }
    }
    Ok(AppInput {
        name: entry.name.to_string(),
        label,
        mode: entry.mode,
        settings,
        username_template: username_template(entry, body)?,
        visibility,
        accessibility,
    })
}

#[cfg(test)]
mod tests;
