//! Applications: the app catalog (custom SAML 2.0, Bookmark, Okta Org2Org, Dropbox
//! Business, Google Workspace) and the validation of an app in Okta's shape
//! (`POST/PUT /api/v1/apps`), including its SAML sign-on settings, application username
//! template and visibility. SAML signing itself lives in the SAML crate.

use crate::expr::Expression;
use crate::DomainError;
use serde_json::{json, Map, Value};

/// NameID formats.
pub const NAMEID_UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";
/// Email NameID.
pub const NAMEID_EMAIL: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
/// Persistent NameID.
pub const NAMEID_PERSISTENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
const NAMEID_FORMATS: [&str; 4] =
    [NAMEID_UNSPECIFIED, NAMEID_EMAIL, NAMEID_PERSISTENT, "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"];

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
}

/// One catalog entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatalogEntry {
    /// The app's `name` (Okta's catalog key).
    pub name: &'static str,
    pub display_name: &'static str,
    pub description: &'static str,
    pub mode: SignOnMode,
    /// Offers provisioning (the Org2Org connector).
    pub provisioning: bool,
}

/// The catalog, in the order the console lists it.
pub const CATALOG: [CatalogEntry; 5] = [
    CatalogEntry {
        name: "okta_org2org",
        display_name: "Okta Org2Org",
        description: "Authenticate and provision users from a source org into another Okta org",
        mode: SignOnMode::Saml2,
        provisioning: true,
    },
    CatalogEntry {
        name: "dropbox_for_business",
        display_name: "Dropbox Business",
        description: "File sharing for teams, signed in by SAML",
        mode: SignOnMode::Saml2,
        provisioning: false,
    },
    CatalogEntry {
        name: "google",
        display_name: "Google Workspace",
        description: "Gmail, Drive and the rest of Google Workspace, signed in by SAML",
        mode: SignOnMode::Saml2,
        provisioning: false,
    },
    CatalogEntry {
        name: "saml_2_0",
        display_name: "SAML 2.0",
        description: "A custom SAML 2.0 service provider (Create New App)",
        mode: SignOnMode::Saml2,
        provisioning: false,
    },
    CatalogEntry {
        name: "bookmark",
        display_name: "Bookmark App",
        description: "A tile that opens a URL, for example a deep link into an app of another org",
        mode: SignOnMode::Bookmark,
        provisioning: false,
    },
];

/// The catalog entry named `name`.
pub fn catalog(name: &str) -> Option<&'static CatalogEntry> {
    CATALOG.iter().find(|c| c.name == name)
}

fn http_url(field: &str, v: Option<&str>) -> Result<String, DomainError> {
    let url = v.map(str::trim).filter(|u| !u.is_empty()).ok_or_else(|| DomainError::invalid(field, "The field cannot be left blank"))?;
    let lower = url.to_ascii_lowercase();
    if (lower.starts_with("https://") || lower.starts_with("http://"))
        && url.len() > 8
        && url.len() <= 2048
        && !url.contains(char::is_whitespace)
    {
        Ok(url.to_string())
    } else {
        Err(DomainError::invalid(field, "must be an http:// or https:// URL"))
    }
}

/// Check an Okta template (`${source.login}`, `${user.email}`, or a bare expression).
pub fn check_template(field: &str, template: &str) -> Result<(), DomainError> {
    let inner = template.trim().strip_prefix("${").and_then(|t| t.strip_suffix('}')).unwrap_or(template.trim());
    Expression::parse(inner).map(|_| ()).map_err(|e| DomainError::invalid(field, e.to_string()))
}

/// The expression inside an Okta template.
pub fn template_expression(template: &str) -> &str {
    template.trim().strip_prefix("${").and_then(|t| t.strip_suffix('}')).unwrap_or(template.trim())
}

/// Application username formats the console offers.
pub const USERNAME_FORMATS: [(&str, &str); 3] = [
    ("${source.login}", "Okta username"),
    ("${source.email}", "Email"),
    ("${String.substringBefore(source.email, \"@\")}", "Email prefix"),
];

fn default_attribute_statements() -> Value {
    json!([
        { "type": "EXPRESSION", "name": "firstName", "namespace": "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified", "values": ["user.firstName"] },
        { "type": "EXPRESSION", "name": "lastName", "namespace": "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified", "values": ["user.lastName"] },
        { "type": "EXPRESSION", "name": "email", "namespace": "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified", "values": ["user.email"] },
        { "type": "EXPRESSION", "name": "login", "namespace": "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified", "values": ["user.login"] }
    ])
}

/// A validated app body: what the store keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct AppInput {
    pub name: String,
    pub label: String,
    pub mode: SignOnMode,
    /// `settings` in Okta's shape (`app`, `signOn`, `notifications`).
    pub settings: Value,
    /// `credentials.userNameTemplate` plus idhub's `updateOn` (`CREATE` | `CREATE_AND_UPDATE`).
    pub username_template: Value,
    pub visibility: Value,
    pub accessibility: Value,
}

/// Validate an app body, filling a template's defaults.
pub fn validate_app(body: &Value) -> Result<AppInput, DomainError> {
    let name = body.get("name").and_then(Value::as_str).unwrap_or("").trim();
    let mode_str = body.get("signOnMode").and_then(Value::as_str);
    let entry = match (name, mode_str) {
        ("", Some("SAML_2_0")) => catalog("saml_2_0"),
        ("", Some("BOOKMARK")) => catalog("bookmark"),
        ("", _) => return Err(DomainError::invalid("name", "name or signOnMode (SAML_2_0, BOOKMARK) is required")),
        (n, _) => catalog(n),
    }
    .ok_or_else(|| DomainError::invalid("name", format!("'{name}' is not in the app catalog")))?;
    if let Some(m) = mode_str {
        if m != entry.mode.as_str() {
            return Err(DomainError::invalid("signOnMode", format!("{} apps sign on with {}", entry.display_name, entry.mode.as_str())));
        }
    }
    let label =
        body.get("label").and_then(Value::as_str).map(str::trim).filter(|l| !l.is_empty()).unwrap_or(entry.display_name).to_string();
    if label.chars().count() > 100 {
        return Err(DomainError::invalid("label", "Must be at most 100 characters"));
    }
    let mut settings = body.get("settings").cloned().unwrap_or_else(|| json!({}));
    if !settings.is_object() {
        return Err(DomainError::invalid("settings", "must be an object"));
    }
    let app = settings.get("app").cloned().unwrap_or_else(|| json!({}));
    let sign_on = settings.get("signOn").cloned().unwrap_or_else(|| json!({}));
    let (app, sign_on) = match entry.name {
        "bookmark" => {
            let url = http_url("settings.app.url", app.get("url").and_then(Value::as_str))?;
            (
                json!({ "url": url, "requestIntegration": app.get("requestIntegration").and_then(Value::as_bool).unwrap_or(false) }),
                json!({}),
            )
        }
        "okta_org2org" => {
            let base = http_url("settings.app.baseUrl", app.get("baseUrl").and_then(Value::as_str))?;
            let acs = app
                .get("acsUrl")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(|a| http_url("settings.app.acsUrl", Some(a)))
                .transpose()?;
            let aud = app.get("audRestriction").and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
            let app = json!({
                "baseUrl": base, "acsUrl": acs, "audRestriction": aud,
                "preferUsernameOverEmail": app.get("preferUsernameOverEmail").and_then(Value::as_bool).unwrap_or(false),
            });
            let mut so = saml_sign_on(&sign_on, acs.as_deref(), aud.as_deref(), NAMEID_UNSPECIFIED, false)?;
            if sign_on.get("attributeStatements").is_none() {
                so["attributeStatements"] = default_attribute_statements();
            }
            (app, so)
        }
        "dropbox_for_business" => {
            (json!({}), saml_sign_on(&sign_on, Some("https://www.dropbox.com/saml_login"), Some("Dropbox"), NAMEID_EMAIL, true)?)
        }
        "google" => {
            let domain = app
                .get("domain")
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'))
                .ok_or_else(|| DomainError::invalid("settings.app.domain", "the Google Workspace domain is required (e.g. example.com)"))?;
            let acs = format!("https://www.google.com/a/{domain}/acs");
            let aud = format!("google.com/a/{domain}");
            (json!({ "domain": domain }), saml_sign_on(&sign_on, Some(&acs), Some(&aud), NAMEID_EMAIL, true)?)
        }
        _ => {
            let acs = sign_on.get("ssoAcsUrl").and_then(Value::as_str);
            let aud = sign_on.get("audience").and_then(Value::as_str);
            http_url("settings.signOn.ssoAcsUrl", acs)?;
            if aud.map(str::trim).unwrap_or("").is_empty() {
                return Err(DomainError::invalid("settings.signOn.audience", "The Audience URI (SP Entity ID) cannot be left blank"));
            }
            (json!({}), saml_sign_on(&sign_on, acs, aud, NAMEID_UNSPECIFIED, false)?)
        }
    };
    if let Some(obj) = settings.as_object_mut() {
        obj.insert("app".into(), app);
        obj.insert("signOn".into(), sign_on);
        obj.entry("notifications").or_insert(json!({}));
    }
    let default_template = if matches!(entry.name, "dropbox_for_business" | "google") { "${source.email}" } else { "${source.login}" };
    let template = body.pointer("/credentials/userNameTemplate/template").and_then(Value::as_str).unwrap_or(default_template).to_string();
    check_template("credentials.userNameTemplate.template", &template)?;
    let update_on = body.pointer("/credentials/userNameTemplate/updateOn").and_then(Value::as_str).unwrap_or("CREATE_AND_UPDATE");
    if update_on != "CREATE" && update_on != "CREATE_AND_UPDATE" {
        return Err(DomainError::invalid("credentials.userNameTemplate.updateOn", "must be CREATE or CREATE_AND_UPDATE"));
    }
    let kind = if USERNAME_FORMATS.iter().any(|(t, _)| *t == template) { "BUILT_IN" } else { "CUSTOM" };
    let visibility = json!({
        "autoSubmitToolbar": body.pointer("/visibility/autoSubmitToolbar").and_then(Value::as_bool).unwrap_or(false),
        "hide": {
            "iOS": body.pointer("/visibility/hide/iOS").and_then(Value::as_bool).unwrap_or(false),
            "web": body.pointer("/visibility/hide/web").and_then(Value::as_bool).unwrap_or(false),
        },
        "appLinks": { "login": true }
    });
    Ok(AppInput {
        name: entry.name.to_string(),
        label,
        mode: entry.mode,
        settings,
        username_template: json!({ "template": template, "type": kind, "updateOn": update_on }),
        visibility,
        accessibility: json!({ "selfService": false, "errorRedirectUrl": null, "loginRedirectUrl": null }),
    })
}

/// Validate and complete `settings.signOn` for a SAML app.
fn saml_sign_on(
    so: &Value,
    acs: Option<&str>,
    audience: Option<&str>,
    default_format: &str,
    fixed_endpoints: bool,
) -> Result<Value, DomainError> {
    let get = |k: &str| so.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
    let acs = if fixed_endpoints { acs.map(str::to_string) } else { get("ssoAcsUrl").or(acs).map(str::to_string) };
    let audience = if fixed_endpoints { audience.map(str::to_string) } else { get("audience").or(audience).map(str::to_string) };
    let recipient = get("recipient").map(str::to_string).or_else(|| acs.clone());
    let destination = get("destination").map(str::to_string).or_else(|| acs.clone());
    for (f, v) in [("settings.signOn.recipient", &recipient), ("settings.signOn.destination", &destination)] {
        if let Some(u) = v {
            http_url(f, Some(u))?;
        }
    }
    let name_id_template = get("subjectNameIdTemplate").unwrap_or("${user.userName}").to_string();
    check_template("settings.signOn.subjectNameIdTemplate", &name_id_template)?;
    let format = get("subjectNameIdFormat").unwrap_or(default_format).to_string();
    if !NAMEID_FORMATS.contains(&format.as_str()) {
        return Err(DomainError::invalid(
            "settings.signOn.subjectNameIdFormat",
            "must be a SAML NameID format URN (unspecified, emailAddress, persistent, transient)",
        ));
    }
    let sig = get("signatureAlgorithm").unwrap_or("RSA_SHA256");
    if sig != "RSA_SHA256" {
        return Err(DomainError::invalid("settings.signOn.signatureAlgorithm", "idhub signs with RSA_SHA256 only"));
    }
    let digest = get("digestAlgorithm").unwrap_or("SHA256");
    if digest != "SHA256" {
        return Err(DomainError::invalid("settings.signOn.digestAlgorithm", "idhub digests with SHA256 only"));
    }
    let response_signed = so.get("responseSigned").and_then(Value::as_bool).unwrap_or(true);
    let assertion_signed = so.get("assertionSigned").and_then(Value::as_bool).unwrap_or(true);
    if !response_signed && !assertion_signed {
        return Err(DomainError::invalid("settings.signOn.assertionSigned", "sign the Response, the Assertion, or both"));
    }
    let statements = match so.get("attributeStatements") {
        None | Some(Value::Null) => json!([]),
        Some(Value::Array(a)) => {
            let mut out = Vec::new();
            for (i, st) in a.iter().enumerate() {
                let name = st
                    .get("name")
                    .and_then(Value::as_str)
                    .filter(|n| !n.trim().is_empty())
                    .ok_or_else(|| DomainError::invalid("settings.signOn.attributeStatements", format!("statement {i} has no name")))?;
                let values: Vec<String> = st
                    .get("values")
                    .and_then(Value::as_array)
                    .map(|v| v.iter().filter_map(Value::as_str).map(str::to_string).collect())
                    .unwrap_or_default();
                for v in &values {
                    check_template(&format!("settings.signOn.attributeStatements.{name}"), v)?;
                }
                out.push(json!({ "type": "EXPRESSION", "name": name, "namespace": st.get("namespace").and_then(Value::as_str).unwrap_or("urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified"), "values": values }));
            }
            Value::Array(out)
        }
        Some(_) => return Err(DomainError::invalid("settings.signOn.attributeStatements", "must be an array")),
    };
    let relay = get("defaultRelayState").map(str::to_string);
    let mut out = Map::new();
    out.insert("defaultRelayState".into(), json!(relay));
    out.insert("ssoAcsUrl".into(), json!(acs));
    out.insert("audience".into(), json!(audience));
    out.insert("recipient".into(), json!(recipient));
    out.insert("destination".into(), json!(destination));
    out.insert("subjectNameIdTemplate".into(), json!(name_id_template));
    out.insert("subjectNameIdFormat".into(), json!(format));
    out.insert("responseSigned".into(), json!(response_signed));
    out.insert("assertionSigned".into(), json!(assertion_signed));
    out.insert("signatureAlgorithm".into(), json!("RSA_SHA256"));
    out.insert("digestAlgorithm".into(), json!("SHA256"));
    out.insert("honorForceAuthn".into(), json!(so.get("honorForceAuthn").and_then(Value::as_bool).unwrap_or(true)));
    out.insert(
        "authnContextClassRef".into(),
        json!(get("authnContextClassRef").unwrap_or("urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport")),
    );
    out.insert("requestCompressed".into(), json!(false));
    out.insert("allowMultipleAcsEndpoints".into(), json!(false));
    out.insert("attributeStatements".into(), statements);
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(r: Result<AppInput, DomainError>) -> String {
        match r {
            Err(DomainError::Validation { summary, .. }) => summary,
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn templates_fill_their_defaults() {
        let o = validate_app(
            &json!({ "name": "okta_org2org", "label": "Okta Org2Org", "settings": { "app": { "baseUrl": "https://org2.example" } } }),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(o.settings["signOn"]["attributeStatements"].as_array().map(Vec::len), Some(4));
        assert_eq!(o.username_template["template"], "${source.login}");
        let d = validate_app(&json!({ "name": "dropbox_for_business" })).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d.settings["signOn"]["ssoAcsUrl"], "https://www.dropbox.com/saml_login");
        assert_eq!(d.settings["signOn"]["subjectNameIdFormat"], NAMEID_EMAIL);
        let g = validate_app(&json!({ "name": "google", "settings": { "app": { "domain": "example.com" } } }))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(g.settings["signOn"]["audience"], "google.com/a/example.com");
        let b = validate_app(&json!({ "name": "bookmark", "label": "Dropbox via hub", "settings": { "app": { "url": "https://hub.example/app/x/sso/saml?RelayState=y" } } })).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(b.mode, SignOnMode::Bookmark);
        let c = validate_app(&json!({ "signOnMode": "SAML_2_0", "label": "SP", "settings": { "signOn": { "ssoAcsUrl": "https://sp.example/acs", "audience": "https://sp.example" } } })).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.name, "saml_2_0");
        assert_eq!(c.settings["signOn"]["recipient"], "https://sp.example/acs");
    }

    #[test]
    fn refusals_name_the_field() {
        assert_eq!(field_of(validate_app(&json!({ "name": "okta_org2org" }))), "settings.app.baseUrl");
        assert_eq!(field_of(validate_app(&json!({ "name": "nope" }))), "name");
        assert_eq!(
            field_of(validate_app(
                &json!({ "signOnMode": "SAML_2_0", "settings": { "signOn": { "ssoAcsUrl": "javascript:alert(1)", "audience": "a" } } })
            )),
            "settings.signOn.ssoAcsUrl"
        );
        assert_eq!(
            field_of(validate_app(&json!({ "signOnMode": "SAML_2_0", "settings": { "signOn": { "ssoAcsUrl": "https://a/acs" } } }))),
            "settings.signOn.audience"
        );
        assert_eq!(
            field_of(validate_app(
                &json!({ "signOnMode": "SAML_2_0", "settings": { "signOn": { "ssoAcsUrl": "https://a/acs", "audience": "a", "subjectNameIdTemplate": "${String.nope(user.email)}" } } })
            )),
            "settings.signOn.subjectNameIdTemplate"
        );
        assert_eq!(field_of(validate_app(&json!({ "name": "bookmark", "settings": { "app": { "url": "ftp://x" } } }))), "settings.app.url");
        assert_eq!(field_of(validate_app(&json!({ "name": "google" }))), "settings.app.domain");
        assert_eq!(
            field_of(validate_app(
                &json!({ "name": "bookmark", "signOnMode": "SAML_2_0", "settings": { "app": { "url": "https://x.example" } } })
            )),
            "signOnMode"
        );
    }
}
