//! `settings.signOn` of a SAML 2.0 app in Okta's shape: the ACS (Single sign-on URL),
//! audience, recipient and destination, NameID template and format, signing choices,
//! attribute statements and the SP-initiated options. Every URL must be http(s)
//! (saml-security item 12); every expression must parse, with its position on refusal.

use super::{check_template, http_url, Endpoints, SAML_ROOTS};
use crate::DomainError;
use serde_json::{json, Map, Value};

/// NameID format `unspecified`.
pub const NAMEID_UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";
/// NameID format `emailAddress`.
pub const NAMEID_EMAIL: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
/// NameID format `persistent`.
pub const NAMEID_PERSISTENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
/// NameID format `transient`.
pub const NAMEID_TRANSIENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient";
/// NameID formats an app may choose.
pub const NAMEID_FORMATS: [&str; 5] =
    [NAMEID_UNSPECIFIED, NAMEID_EMAIL, "urn:oasis:names:tc:SAML:1.1:nameid-format:x509SubjectName", NAMEID_PERSISTENT, NAMEID_TRANSIENT];

/// Attribute name format `unspecified` (Okta's default).
pub const ATTRNAME_UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified";
/// Attribute name formats (`namespace` of an attribute statement).
pub const ATTRNAME_FORMATS: [&str; 3] =
    [ATTRNAME_UNSPECIFIED, "urn:oasis:names:tc:SAML:2.0:attrname-format:uri", "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"];

/// The default authentication context class.
pub const AUTHN_CONTEXT_PASSWORD_PROTECTED: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport";

/// Most ACS endpoints an app may list (`allowMultipleAcsEndpoints`).
pub const MAX_ACS_ENDPOINTS: usize = 100;
/// Most attribute statements an app may send.
pub const MAX_ATTRIBUTE_STATEMENTS: usize = 100;

fn text<'a>(so: &'a Value, key: &str) -> Option<&'a str> {
    so.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
}

fn flag(so: &Value, key: &str, default: bool) -> Result<bool, DomainError> {
    match so.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(DomainError::invalid(&format!("settings.signOn.{key}"), "must be true or false")),
    }
}

/// Validate and complete `settings.signOn`. `endpoints` says where the ACS and audience
/// come from: for a custom app the admin's `ssoAcsUrl`/`audience`; for catalog apps the
/// `acs`/`audience` given here (fixed by the SP or taken from `settings.app`), which
/// then also serve as recipient and destination.
pub(super) fn saml_sign_on(
    so: &Value,
    endpoints: Endpoints,
    acs: Option<String>,
    audience: Option<String>,
    default_format: &str,
    default_attributes: &[(&str, &str)],
) -> Result<Value, DomainError> {
    if !so.is_object() && !so.is_null() {
        return Err(DomainError::invalid("settings.signOn", "must be an object"));
    }
    let custom = endpoints == Endpoints::Custom;
    let (acs, audience, recipient, destination) = if custom {
        let acs = http_url("settings.signOn.ssoAcsUrl", text(so, "ssoAcsUrl"))?;
        let audience = text(so, "audience")
            .ok_or_else(|| DomainError::invalid("settings.signOn.audience", "The Audience URI (SP Entity ID) cannot be left blank"))?
            .to_string();
        if audience.chars().count() > 1024 {
            return Err(DomainError::invalid("settings.signOn.audience", "must be at most 1024 characters"));
        }
        let recipient = match text(so, "recipient") {
            Some(r) => http_url("settings.signOn.recipient", Some(r))?,
            None => acs.clone(),
        };
        let destination = match text(so, "destination") {
            Some(d) => http_url("settings.signOn.destination", Some(d))?,
            None => acs.clone(),
        };
        (Some(acs), Some(audience), Some(recipient), Some(destination))
    } else {
        (acs.clone(), audience, acs.clone(), acs)
    };

    let name_id_template = text(so, "subjectNameIdTemplate").unwrap_or("${user.userName}").to_string();
    check_template("settings.signOn.subjectNameIdTemplate", &name_id_template, SAML_ROOTS)?;
    let format = text(so, "subjectNameIdFormat").unwrap_or(default_format).to_string();
    if !NAMEID_FORMATS.contains(&format.as_str()) {
        return Err(DomainError::invalid(
            "settings.signOn.subjectNameIdFormat",
            "must be a SAML NameID format URN (unspecified, emailAddress, x509SubjectName, persistent, transient)",
        ));
    }
    if text(so, "signatureAlgorithm").is_some_and(|s| s != "RSA_SHA256") {
        return Err(DomainError::invalid("settings.signOn.signatureAlgorithm", "idhub signs with RSA_SHA256 only"));
    }
    if text(so, "digestAlgorithm").is_some_and(|d| d != "SHA256") {
        return Err(DomainError::invalid("settings.signOn.digestAlgorithm", "idhub digests with SHA256 only"));
    }
    let response_signed = flag(so, "responseSigned", true)?;
    let assertion_signed = flag(so, "assertionSigned", true)?;
    if !response_signed && !assertion_signed {
        return Err(DomainError::invalid("settings.signOn.assertionSigned", "sign the Response, the Assertion, or both"));
    }
    let statements = match so.get("attributeStatements") {
        None | Some(Value::Null) => Value::Array(
            default_attributes
                .iter()
                .map(|(name, expr)| json!({ "type": "EXPRESSION", "name": name, "namespace": ATTRNAME_UNSPECIFIED, "values": [expr] }))
                .collect(),
        ),
        Some(Value::Array(items)) => attribute_statements(items)?,
        Some(_) => return Err(DomainError::invalid("settings.signOn.attributeStatements", "must be an array")),
    };
    let relay = so.get("defaultRelayState").and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty());
    if relay.is_some_and(|r| r.chars().count() > 2048) {
        return Err(DomainError::invalid("settings.signOn.defaultRelayState", "must be at most 2048 characters"));
    }
    let allow_multiple = custom && flag(so, "allowMultipleAcsEndpoints", false)?;
    let acs_endpoints = if allow_multiple { acs_endpoints(so.get("acsEndpoints"))? } else { json!([]) };
    let sp_issuer = if custom { text(so, "spIssuer").map(str::to_string) } else { None };
    if sp_issuer.as_deref().is_some_and(|i| i.chars().count() > 1024) {
        return Err(DomainError::invalid("settings.signOn.spIssuer", "must be at most 1024 characters"));
    }
    // Signed AuthnRequests (HTTP-Redirect query signatures) are verified with the SP's certificate.
    let request_signed = match so.get("requestSigned") {
        None | Some(Value::Null) => flag(so, "samlSignedRequestEnabled", false)?,
        Some(_) => flag(so, "requestSigned", false)?,
    };
    let sp_certificate = sp_certificate(so.get("spCertificate"))?;
    if request_signed && sp_certificate.is_none() {
        return Err(DomainError::invalid(
            "settings.signOn.spCertificate",
            "the service provider's signing certificate is required to verify signed requests",
        ));
    }
    let class_ref = text(so, "authnContextClassRef").unwrap_or(AUTHN_CONTEXT_PASSWORD_PROTECTED);
    if !class_ref.starts_with("urn:") {
        return Err(DomainError::invalid("settings.signOn.authnContextClassRef", "must be a URN"));
    }

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
    out.insert("honorForceAuthn".into(), json!(flag(so, "honorForceAuthn", true)?));
    out.insert("authnContextClassRef".into(), json!(class_ref));
    out.insert("spIssuer".into(), json!(sp_issuer));
    out.insert("requestCompressed".into(), json!(custom && flag(so, "requestCompressed", false)?));
    out.insert("allowMultipleAcsEndpoints".into(), json!(allow_multiple));
    out.insert("acsEndpoints".into(), acs_endpoints);
    out.insert("requestSigned".into(), json!(request_signed));
    out.insert("spCertificate".into(), json!(sp_certificate));
    out.insert("attributeStatements".into(), statements);
    Ok(Value::Object(out))
}

/// `acsEndpoints: [{url, index}]`: http(s) URLs with distinct indexes (0–65535).
fn acs_endpoints(v: Option<&Value>) -> Result<Value, DomainError> {
    const FIELD: &str = "settings.signOn.acsEndpoints";
    let items = match v {
        Some(Value::Array(a)) if !a.is_empty() => a,
        Some(Value::Array(_)) | None | Some(Value::Null) => {
            return Err(DomainError::invalid(FIELD, "list at least one ACS URL when allowMultipleAcsEndpoints is true"))
        }
        Some(_) => return Err(DomainError::invalid(FIELD, "must be an array of {url, index}")),
    };
    if items.len() > MAX_ACS_ENDPOINTS {
        return Err(DomainError::invalid(FIELD, format!("at most {MAX_ACS_ENDPOINTS} ACS URLs")));
    }
    let mut out = Vec::with_capacity(items.len());
    let mut seen = Vec::with_capacity(items.len());
    for (i, e) in items.iter().enumerate() {
        let url = http_url(&format!("{FIELD}[{i}].url"), e.get("url").and_then(Value::as_str))?;
        let index = match e.get("index") {
            None | Some(Value::Null) => i as u64,
            Some(v) => v
                .as_u64()
                .filter(|n| *n <= 65535)
                .ok_or_else(|| DomainError::invalid(&format!("{FIELD}[{i}].index"), "must be a whole number from 0 to 65535"))?,
        };
        if seen.contains(&index) {
            return Err(DomainError::invalid(&format!("{FIELD}[{i}].index"), format!("index {index} is used twice")));
        }
        seen.push(index);
        out.push(json!({ "url": url, "index": index }));
    }
    Ok(Value::Array(out))
}

/// Attribute statements of type EXPRESSION with distinct names, a known name format,
/// and values that parse.
fn attribute_statements(items: &[Value]) -> Result<Value, DomainError> {
    const FIELD: &str = "settings.signOn.attributeStatements";
    if items.len() > MAX_ATTRIBUTE_STATEMENTS {
        return Err(DomainError::invalid(FIELD, format!("at most {MAX_ATTRIBUTE_STATEMENTS} attribute statements")));
    }
    let mut out = Vec::with_capacity(items.len());
    let mut names: Vec<&str> = Vec::with_capacity(items.len());
    for (i, st) in items.iter().enumerate() {
        let name = st
            .get("name")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| DomainError::invalid(&format!("{FIELD}[{i}].name"), "The attribute name cannot be left blank"))?;
        if names.contains(&name) {
            return Err(DomainError::invalid(&format!("{FIELD}[{i}].name"), format!("'{name}' is already used by another statement")));
        }
        names.push(name);
        match st.get("type").and_then(Value::as_str) {
            None | Some("EXPRESSION") => {}
            Some(other) => {
                return Err(DomainError::invalid(
                    &format!("{FIELD}[{i}].type"),
                    format!("'{other}' is not supported; use EXPRESSION (isMemberOfGroupName covers group attributes)"),
                ))
            }
        }
        let namespace = st.get("namespace").and_then(Value::as_str).filter(|n| !n.is_empty()).unwrap_or(ATTRNAME_UNSPECIFIED);
        if !ATTRNAME_FORMATS.contains(&namespace) {
            return Err(DomainError::invalid(
                &format!("{FIELD}[{i}].namespace"),
                "must be an attrname-format URN (unspecified, uri, basic)",
            ));
        }
        let values = match st.get("values") {
            None | Some(Value::Null) => vec![],
            Some(Value::Array(vs)) => {
                let mut values = Vec::with_capacity(vs.len());
                for (j, v) in vs.iter().enumerate() {
                    let v = v.as_str().ok_or_else(|| DomainError::invalid(&format!("{FIELD}[{i}].values[{j}]"), "must be a string"))?;
                    check_template(&format!("{FIELD}[{i}].values[{j}]"), v, SAML_ROOTS)?;
                    values.push(v.to_string());
                }
                values
            }
            Some(_) => return Err(DomainError::invalid(&format!("{FIELD}[{i}].values"), "must be an array of expressions")),
        };
        out.push(json!({ "type": "EXPRESSION", "name": name, "namespace": namespace, "values": values }));
    }
    Ok(Value::Array(out))
}

/// Longest accepted SP certificate (PEM), in bytes.
const MAX_CERT_PEM: usize = 16 * 1024;

/// The SP's certificate as PEM, from a PEM string or Okta's `{x5c: [base64 DER]}`. Only
/// the framing and base64 are checked here; the SAML crate parses it when it verifies.
fn sp_certificate(v: Option<&Value>) -> Result<Option<String>, DomainError> {
    use base64::Engine as _;
    const FIELD: &str = "settings.signOn.spCertificate";
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let b64 = base64::engine::general_purpose::STANDARD;
    let bad = || DomainError::invalid(FIELD, "must be a PEM certificate (-----BEGIN CERTIFICATE-----) or {\"x5c\": [base64 DER]}");
    let der = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
        Some(Value::String(pem)) => {
            if pem.len() > MAX_CERT_PEM {
                return Err(bad());
            }
            let body = pem.trim().strip_prefix(BEGIN).and_then(|r| r.strip_suffix(END)).ok_or_else(bad)?;
            let body: String = body.chars().filter(|c| !c.is_whitespace()).collect();
            b64.decode(body).map_err(|_| bad())?
        }
        Some(obj @ Value::Object(_)) => {
            let first = obj.pointer("/x5c/0").and_then(Value::as_str).ok_or_else(bad)?;
            if first.len() > MAX_CERT_PEM {
                return Err(bad());
            }
            let body: String = first.chars().filter(|c| !c.is_whitespace()).collect();
            b64.decode(body).map_err(|_| bad())?
        }
        Some(_) => return Err(bad()),
    };
    // A DER certificate is a SEQUENCE.
    if der.len() < 64 || der.first() != Some(&0x30) {
        return Err(bad());
    }
    let encoded = b64.encode(&der);
    let lines: Vec<&str> = encoded.as_bytes().chunks(64).filter_map(|c| std::str::from_utf8(c).ok()).collect();
    Ok(Some(format!("{BEGIN}\n{}\n{END}\n", lines.join("\n"))))
}
