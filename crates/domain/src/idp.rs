//! Inbound SAML identity providers: the configuration in Okta's shape (okta-wire.md §5),
//! parsed into typed settings with Okta's defaults and validated (expressions parse,
//! the username filter is a valid regex, URLs are http(s), enums are Okta's).

use crate::expr::Expression;
use crate::DomainError;
use serde_json::{json, Map, Value};

/// How users of the IdP are evaluated (seeds: "IdP Usage").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    /// The assertion signs the user in.
    Sso,
    /// The assertion is a possession factor only.
    Factor,
}

/// What the transformed username is compared with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatchType {
    Username,
    Email,
    UsernameOrEmail,
    CustomAttribute(String),
}

/// Group actions at sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupAction {
    None,
    /// Add the user to these groups.
    Assign(Vec<String>),
    /// Add groups named in the assertion attribute that are in the allow-list.
    Append {
        source_attribute: String,
        allow: Vec<String>,
    },
    /// Make OKTA_GROUP memberships equal to the asserted groups in the allow-list.
    Sync {
        source_attribute: String,
        allow: Vec<String>,
    },
}

/// Which signature the ACS requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureScope {
    Response,
    /// Okta calls the assertion "TOKEN".
    Assertion,
    Any,
}

/// A SAML 2.0 IdP's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct SamlIdp {
    pub name: String,
    pub usage: Usage,
    pub issuer: String,
    pub sso_url: String,
    /// `HTTP-POST` or `HTTP-Redirect`.
    pub sso_binding: String,
    pub destination: Option<String>,
    pub sign_requests: bool,
    pub request_algorithm: String,
    pub response_scope: SignatureScope,
    pub response_algorithm: String,
    /// Trust-specific (`INSTANCE`) or org-wide (`ORG`) ACS.
    pub acs_instance: bool,
    pub audience: String,
    /// The id of the trusted signing certificate.
    pub trust_kid: Option<String>,
    pub name_format: String,
    pub honor_persistent_name_id: bool,
    pub username_template: String,
    pub username_filter: Option<String>,
    pub match_type: MatchType,
    pub link_auto: bool,
    pub link_groups: Vec<String>,
    pub jit: bool,
    pub profile_master: bool,
    pub reactivate: bool,
    pub unsuspend: bool,
    pub groups: GroupAction,
    pub max_clock_skew_ms: i64,
    /// Okta's "Trust claims from this identity provider" (`policy.trustClaims`): an
    /// assertion whose AuthnContext says the IdP did multifactor authentication
    /// ([`is_mfa_context`]) satisfies this org's MFA requirement. Off by default: the
    /// org's own factor is asked for.
    pub trust_claims: bool,
    /// The IdP user profile: the attribute names the IdP sends besides the subject
    /// ([`SUBJECT_ATTRIBUTES`]), each readable as `idpuser.<name>`.
    pub profile_attributes: Vec<String>,
    /// Profile attribute ← expression over `idpuser`.
    pub profile_mapping: Vec<(String, String)>,
}

/// The AuthnContextClassRef values that say the IdP authenticated the user with more
/// than one factor, for [`SamlIdp::trust_claims`]: the SAML 2.0 classes that require a
/// second factor (`MobileTwoFactorContract`, `MobileTwoFactorUnregistered`,
/// `TimeSyncToken`, `Smartcard`, `SmartcardPKI`, `MultiFactor…` refinements that some
/// IdPs send as suffixes), the REFEDS MFA profile, and the Microsoft/Okta
/// `multipleauthn` claim value.
pub const MFA_CONTEXT_CLASSES: [&str; 8] = [
    "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorUnregistered",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:Smartcard",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI",
    "https://refeds.org/profile/mfa",
    "http://schemas.microsoft.com/claims/multipleauthn",
    "http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/multipleauthn",
];

/// Does this AuthnContextClassRef say the user was authenticated with a second factor?
/// One of [`MFA_CONTEXT_CLASSES`], or a SAML class whose name starts with `MultiFactor`
/// (`urn:oasis:names:tc:SAML:2.0:ac:classes:MultiFactor…`).
pub fn is_mfa_context(class_ref: &str) -> bool {
    let c = class_ref.trim();
    MFA_CONTEXT_CLASSES.contains(&c)
        || c.strip_prefix("urn:oasis:names:tc:SAML:2.0:ac:classes:").is_some_and(|rest| rest.starts_with("MultiFactor"))
}

/// The IdP user profile attributes every SAML IdP has: they come from the Subject.
pub const SUBJECT_ATTRIBUTES: [&str; 2] = ["subjectNameId", "subjectNameIdFormat"];

/// Most attributes an IdP user profile may declare.
const MAX_PROFILE_ATTRIBUTES: usize = 200;

fn s<'a>(v: &'a Value, ptr: &str) -> Option<&'a str> {
    v.pointer(ptr).and_then(Value::as_str).filter(|x| !x.is_empty())
}

fn http_url(field: &str, url: &str) -> Result<(), DomainError> {
    let lower = url.to_ascii_lowercase();
    if (lower.starts_with("https://") || lower.starts_with("http://")) && url.len() <= 2048 && !url.contains(char::is_whitespace) {
        Ok(())
    } else {
        Err(DomainError::invalid(field, "must be an http:// or https:// URL"))
    }
}

/// Why an expression over the IdP user cannot be used: it does not parse, reads another
/// root than `idpuser`, or (when the IdP user profile is given) an attribute it lacks.
fn idpuser_expr_problem(src: &str, known: Option<&[String]>) -> Option<String> {
    let e = match Expression::parse(src) {
        Ok(e) => e,
        Err(e) => return Some(e.to_string()),
    };
    for (root, path) in e.variables() {
        if root != "idpuser" {
            return Some(format!("'{root}' is not available here: IdP expressions read idpuser.<attribute>"));
        }
        let Some(attr) = path.first() else { return Some("name an attribute: idpuser.<attribute>".into()) };
        if let Some(known) = known {
            if !SUBJECT_ATTRIBUTES.contains(&attr.as_str()) && !known.contains(attr) {
                return Some(format!(
                    "idpuser.{attr} is not an attribute of the IdP user profile: add {attr} to the IdP user profile first"
                ));
            }
        }
    }
    None
}

/// The `idpuser` attributes an expression reads (none when it does not parse).
fn idpuser_attributes(src: &str) -> Vec<String> {
    let Ok(e) = Expression::parse(src) else { return vec![] };
    let vars = e.variables();
    vars.into_iter().filter(|(root, _)| *root == "idpuser").filter_map(|(_, path)| path.first().cloned()).collect()
}

/// Can `name` be read as `idpuser.<name>` (or be a profile attribute name)?
pub fn valid_attribute_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 100
}

/// The declared IdP user profile (`idhub.profileAttributes`): names in order, without
/// duplicates or the subject attributes (which every profile has).
fn declared_attributes(v: &Value) -> Result<Vec<String>, DomainError> {
    const FIELD: &str = "idhub.profileAttributes";
    let items = v.as_array().ok_or_else(|| DomainError::invalid(FIELD, "must be a list of attribute names"))?;
    if items.len() > MAX_PROFILE_ATTRIBUTES {
        return Err(DomainError::invalid(FIELD, format!("at most {MAX_PROFILE_ATTRIBUTES} attributes")));
    }
    let mut out: Vec<String> = Vec::new();
    for item in items {
        let name = item.as_str().map(str::trim).unwrap_or_default();
        if !valid_attribute_name(name) {
            return Err(DomainError::invalid(
                FIELD,
                format!("{name:?} is not an attribute name: use letters, digits and _ (it is read as idpuser.<name>)"),
            ));
        }
        if !SUBJECT_ATTRIBUTES.contains(&name) && !out.iter().any(|n| n == name) {
            out.push(name.to_string());
        }
    }
    Ok(out)
}

/// The IdP user profile attributes assumed when none are declared: what the seeds' spoke
/// sends (okta-wire.md §5).
pub fn default_profile_attributes() -> Vec<String> {
    ["firstName", "lastName", "email", "mobilePhone", "displayName"].map(String::from).to_vec()
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect()).unwrap_or_default()
}

/// The default JIT profile mapping (seeds: the spoke sends firstName, lastName, email).
pub fn default_mapping() -> Vec<(String, String)> {
    vec![
        ("firstName".into(), "idpuser.firstName".into()),
        ("lastName".into(), "idpuser.lastName".into()),
        ("email".into(), "idpuser.email".into()),
        ("mobilePhone".into(), "idpuser.mobilePhone".into()),
    ]
}

impl SamlIdp {
    /// Parse and validate an Okta IdP body (`POST/PUT /api/v1/idps`). `audience` is
    /// used when the body names none (the caller generates one).
    pub fn from_okta(body: &Value, default_audience: &str) -> Result<SamlIdp, DomainError> {
        if body.get("type").and_then(Value::as_str).unwrap_or("SAML2") != "SAML2" {
            return Err(DomainError::invalid("type", "only SAML2 identity providers are supported"));
        }
        let name = s(body, "/name").ok_or_else(|| DomainError::invalid("name", "The field cannot be left blank"))?.trim().to_string();
        if name.chars().count() > 100 {
            return Err(DomainError::invalid("name", "Must be at most 100 characters"));
        }
        crate::text::refuse_control("name", &name)?;
        let issuer = s(body, "/protocol/credentials/trust/issuer")
            .ok_or_else(|| DomainError::invalid("protocol.credentials.trust.issuer", "The IdP Issuer URI is required"))?
            .to_string();
        let sso_url = s(body, "/protocol/endpoints/sso/url")
            .ok_or_else(|| DomainError::invalid("protocol.endpoints.sso.url", "The IdP Single Sign-On URL is required"))?
            .to_string();
        http_url("protocol.endpoints.sso.url", &sso_url)?;
        let sso_binding = s(body, "/protocol/endpoints/sso/binding").unwrap_or("HTTP-POST").to_string();
        if sso_binding != "HTTP-POST" && sso_binding != "HTTP-Redirect" {
            return Err(DomainError::invalid("protocol.endpoints.sso.binding", "must be HTTP-POST or HTTP-Redirect"));
        }
        let destination = s(body, "/protocol/endpoints/sso/destination").map(str::to_string);
        if let Some(d) = &destination {
            http_url("protocol.endpoints.sso.destination", d)?;
        }
        let req_scope = s(body, "/protocol/algorithms/request/signature/scope").unwrap_or("REQUEST");
        let request_algorithm = s(body, "/protocol/algorithms/request/signature/algorithm").unwrap_or("SHA-256").to_string();
        let response_algorithm = s(body, "/protocol/algorithms/response/signature/algorithm").unwrap_or("SHA-256").to_string();
        for (f, a) in [
            ("protocol.algorithms.request.signature.algorithm", &request_algorithm),
            ("protocol.algorithms.response.signature.algorithm", &response_algorithm),
        ] {
            if a != "SHA-256" && a != "SHA-1" {
                return Err(DomainError::invalid(f, "must be SHA-256 or SHA-1"));
            }
        }
        let response_scope = match s(body, "/protocol/algorithms/response/signature/scope").unwrap_or("ANY") {
            "RESPONSE" => SignatureScope::Response,
            "TOKEN" => SignatureScope::Assertion,
            "ANY" => SignatureScope::Any,
            _ => return Err(DomainError::invalid("protocol.algorithms.response.signature.scope", "must be RESPONSE, TOKEN or ANY")),
        };
        let acs_instance = match s(body, "/protocol/endpoints/acs/type").unwrap_or("INSTANCE") {
            "INSTANCE" => true,
            "ORG" => false,
            _ => return Err(DomainError::invalid("protocol.endpoints.acs.type", "must be INSTANCE or ORG")),
        };
        let username_template = s(body, "/policy/subject/userNameTemplate/template").unwrap_or("idpuser.subjectNameId").to_string();
        if let Some(problem) = idpuser_expr_problem(&username_template, None) {
            return Err(DomainError::invalid("policy.subject.userNameTemplate.template", problem));
        }
        let username_filter = s(body, "/policy/subject/filter").map(str::to_string);
        if let Some(f) = &username_filter {
            regex::RegexBuilder::new(f)
                .size_limit(1 << 20)
                .build()
                .map_err(|e| DomainError::invalid("policy.subject.filter", format!("not a valid regular expression: {e}")))?;
        }
        let match_type = match s(body, "/policy/subject/matchType").unwrap_or("USERNAME") {
            "USERNAME" => MatchType::Username,
            "EMAIL" => MatchType::Email,
            "USERNAME_OR_EMAIL" => MatchType::UsernameOrEmail,
            "CUSTOM_ATTRIBUTE" => MatchType::CustomAttribute(
                s(body, "/policy/subject/matchAttribute")
                    .ok_or_else(|| DomainError::invalid("policy.subject.matchAttribute", "required when matchType is CUSTOM_ATTRIBUTE"))?
                    .to_string(),
            ),
            _ => {
                return Err(DomainError::invalid(
                    "policy.subject.matchType",
                    "must be USERNAME, EMAIL, USERNAME_OR_EMAIL or CUSTOM_ATTRIBUTE",
                ))
            }
        };
        let link_auto = match s(body, "/policy/accountLink/action").unwrap_or("DISABLED") {
            "AUTO" => true,
            "DISABLED" => false,
            _ => return Err(DomainError::invalid("policy.accountLink.action", "must be AUTO or DISABLED")),
        };
        let jit = match s(body, "/policy/provisioning/action").unwrap_or("DISABLED") {
            "AUTO" => true,
            "DISABLED" => false,
            _ => return Err(DomainError::invalid("policy.provisioning.action", "must be AUTO or DISABLED")),
        };
        let groups = match s(body, "/policy/provisioning/groups/action").unwrap_or("NONE") {
            "NONE" => GroupAction::None,
            "ASSIGN" => GroupAction::Assign(strings(body.pointer("/policy/provisioning/groups/assignments"))),
            action @ ("APPEND" | "SYNC") => {
                let source_attribute = s(body, "/policy/provisioning/groups/sourceAttributeName")
                    .ok_or_else(|| DomainError::invalid("policy.provisioning.groups.sourceAttributeName", "required for APPEND and SYNC"))?
                    .to_string();
                let allow = strings(body.pointer("/policy/provisioning/groups/filter"));
                if action == "APPEND" {
                    GroupAction::Append { source_attribute, allow }
                } else {
                    GroupAction::Sync { source_attribute, allow }
                }
            }
            _ => return Err(DomainError::invalid("policy.provisioning.groups.action", "must be NONE, ASSIGN, APPEND or SYNC")),
        };
        let max_clock_skew_ms = body.pointer("/policy/maxClockSkew").and_then(Value::as_i64).unwrap_or(120_000);
        if !(0..=3_600_000).contains(&max_clock_skew_ms) {
            return Err(DomainError::invalid("policy.maxClockSkew", "must be between 0 and 3600000 milliseconds"));
        }
        let usage = match s(body, "/idhub/usage").unwrap_or("SSO") {
            "SSO" => Usage::Sso,
            "FACTOR" => Usage::Factor,
            _ => return Err(DomainError::invalid("idhub.usage", "must be SSO or FACTOR")),
        };
        let profile_mapping = match body.pointer("/idhub/profileMapping").and_then(Value::as_object) {
            Some(m) => {
                let mut v = Vec::new();
                for (attr, e) in m {
                    let src = e.as_str().ok_or_else(|| {
                        DomainError::invalid("idhub.profileMapping", format!("{attr}: the mapping must be an expression string"))
                    })?;
                    if !valid_attribute_name(attr) {
                        return Err(DomainError::invalid("idhub.profileMapping", format!("{attr:?} is not a profile attribute name")));
                    }
                    v.push((attr.clone(), src.to_string()));
                }
                v
            }
            None => default_mapping(),
        };
        // The IdP user profile: as declared, else the defaults and whatever the expressions read.
        let profile_attributes = match body.pointer("/idhub/profileAttributes").filter(|v| !v.is_null()) {
            Some(v) => declared_attributes(v)?,
            None => {
                let mut attrs = default_profile_attributes();
                let sources = profile_mapping.iter().map(|(_, src)| src.as_str()).chain([username_template.as_str()]);
                for a in sources.flat_map(idpuser_attributes) {
                    if !SUBJECT_ATTRIBUTES.contains(&a.as_str()) && !attrs.contains(&a) {
                        attrs.push(a);
                    }
                }
                attrs
            }
        };
        // Every mapping is checked, so that each bad expression is reported with its attribute.
        let mut causes = vec![];
        if let Some(problem) = idpuser_expr_problem(&username_template, Some(&profile_attributes)) {
            causes.push(format!("policy.subject.userNameTemplate.template: {problem}"));
        }
        for (attr, src) in &profile_mapping {
            if let Some(problem) = idpuser_expr_problem(src, Some(&profile_attributes)) {
                causes.push(format!("idhub.profileMapping.{attr}: {problem}"));
            }
        }
        if let Some(first) = causes.first() {
            let summary = first.split(": ").next().unwrap_or("idhub.profileMapping").to_string();
            return Err(DomainError::Validation { summary, causes });
        }
        Ok(SamlIdp {
            name,
            usage,
            issuer,
            sso_url,
            sso_binding,
            destination,
            sign_requests: req_scope == "REQUEST",
            request_algorithm,
            response_scope,
            response_algorithm,
            acs_instance,
            audience: s(body, "/protocol/credentials/trust/audience").unwrap_or(default_audience).to_string(),
            trust_kid: s(body, "/protocol/credentials/trust/kid").map(str::to_string),
            name_format: s(body, "/protocol/settings/nameFormat")
                .unwrap_or("urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified")
                .to_string(),
            honor_persistent_name_id: body.pointer("/protocol/settings/honorPersistentNameId").and_then(Value::as_bool).unwrap_or(false),
            username_template,
            username_filter,
            match_type,
            link_auto,
            link_groups: strings(body.pointer("/policy/accountLink/filter/groups/include")),
            jit,
            profile_master: body.pointer("/policy/provisioning/profileMaster").and_then(Value::as_bool).unwrap_or(false),
            reactivate: s(body, "/policy/provisioning/conditions/deprovisioned/action") == Some("REACTIVATE"),
            unsuspend: s(body, "/policy/provisioning/conditions/suspended/action") == Some("UNSUSPEND"),
            groups,
            max_clock_skew_ms,
            trust_claims: body.pointer("/policy/trustClaims").and_then(Value::as_bool).unwrap_or(false),
            profile_attributes,
            profile_mapping,
        })
    }

    /// Does the transformed username pass the IdP's filter (the whole username must match
    /// the pattern)? Always true without a filter.
    pub fn username_allowed(&self, username: &str) -> Result<bool, DomainError> {
        let Some(f) = &self.username_filter else { return Ok(true) };
        let re = regex::RegexBuilder::new(&format!("^(?:{f})$"))
            .size_limit(1 << 20)
            .build()
            .map_err(|e| DomainError::invalid("policy.subject.filter", format!("not a valid regular expression: {e}")))?;
        Ok(re.is_match(username))
    }

    /// The IdP in Okta's JSON shape (without the server-assigned fields and links).
    pub fn to_okta(&self) -> Value {
        let (group_action, assignments, source, filter) = match &self.groups {
            GroupAction::None => ("NONE", vec![], None, vec![]),
            GroupAction::Assign(g) => ("ASSIGN", g.clone(), None, vec![]),
            GroupAction::Append { source_attribute, allow } => ("APPEND", vec![], Some(source_attribute.clone()), allow.clone()),
            GroupAction::Sync { source_attribute, allow } => ("SYNC", vec![], Some(source_attribute.clone()), allow.clone()),
        };
        let (match_type, match_attribute) = match &self.match_type {
            MatchType::Username => ("USERNAME", None),
            MatchType::Email => ("EMAIL", None),
            MatchType::UsernameOrEmail => ("USERNAME_OR_EMAIL", None),
            MatchType::CustomAttribute(a) => ("CUSTOM_ATTRIBUTE", Some(a.clone())),
        };
        let mapping: Map<String, Value> = self.profile_mapping.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
        json!({
            "type": "SAML2",
            "name": self.name,
            "issuerMode": "ORG_URL",
            "protocol": {
                "type": "SAML2",
                "endpoints": {
                    "sso": { "url": self.sso_url, "binding": self.sso_binding, "destination": self.destination },
                    "acs": { "binding": "HTTP-POST", "type": if self.acs_instance { "INSTANCE" } else { "ORG" } }
                },
                "algorithms": {
                    "request": { "signature": { "algorithm": self.request_algorithm, "scope": if self.sign_requests { "REQUEST" } else { "NONE" } } },
                    "response": { "signature": { "algorithm": self.response_algorithm, "scope": match self.response_scope { SignatureScope::Response => "RESPONSE", SignatureScope::Assertion => "TOKEN", SignatureScope::Any => "ANY" } } }
                },
                "settings": { "nameFormat": self.name_format, "honorPersistentNameId": self.honor_persistent_name_id },
                "credentials": { "trust": { "issuer": self.issuer, "audience": self.audience, "kid": self.trust_kid, "revocation": null, "revocationCacheLifetime": 0 } }
            },
            "policy": {
                "provisioning": {
                    "action": if self.jit { "AUTO" } else { "DISABLED" },
                    "profileMaster": self.profile_master,
                    "groups": { "action": group_action, "assignments": assignments, "sourceAttributeName": source, "filter": filter },
                    "conditions": {
                        "deprovisioned": { "action": if self.reactivate { "REACTIVATE" } else { "NONE" } },
                        "suspended": { "action": if self.unsuspend { "UNSUSPEND" } else { "NONE" } }
                    }
                },
                "accountLink": {
                    "filter": if self.link_groups.is_empty() { Value::Null } else { json!({ "groups": { "include": self.link_groups } }) },
                    "action": if self.link_auto { "AUTO" } else { "DISABLED" }
                },
                "subject": {
                    "userNameTemplate": { "template": self.username_template },
                    "filter": self.username_filter,
                    "matchType": match_type,
                    "matchAttribute": match_attribute
                },
                "maxClockSkew": self.max_clock_skew_ms,
                "trustClaims": self.trust_claims
            },
            "idhub": { "usage": match self.usage { Usage::Sso => "SSO", Usage::Factor => "FACTOR" }, "profileAttributes": self.profile_attributes, "profileMapping": mapping }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mfa_contexts_are_the_documented_set() {
        assert!(is_mfa_context("urn:oasis:names:tc:SAML:2.0:ac:classes:MultiFactorUnregistered"));
        assert!(is_mfa_context("urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract"));
        assert!(is_mfa_context("http://schemas.microsoft.com/claims/multipleauthn"));
        assert!(is_mfa_context("https://refeds.org/profile/mfa"));
        assert!(!is_mfa_context("urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"));
        assert!(!is_mfa_context("urn:oasis:names:tc:SAML:2.0:ac:classes:Password"));
        assert!(!is_mfa_context("urn:example:MultiFactor"));
        assert!(!is_mfa_context(""));
    }

    fn seed_idp() -> Value {
        // The seeds' hub-side IdP: JIT, automatic linking, Okta username, profile source.
        json!({
            "type": "SAML2",
            "name": "Org1 IdP",
            "protocol": {
                "type": "SAML2",
                "endpoints": { "sso": { "url": "https://org1.example/app/okta_org2org/exk1/sso/saml", "binding": "HTTP-POST" }, "acs": { "binding": "HTTP-POST", "type": "INSTANCE" } },
                "algorithms": { "request": { "signature": { "algorithm": "SHA-256", "scope": "REQUEST" } }, "response": { "signature": { "algorithm": "SHA-256", "scope": "ANY" } } },
                "credentials": { "trust": { "issuer": "http://www.okta.com/exk1", "kid": "k1" } }
            },
            "policy": {
                "provisioning": { "action": "AUTO", "profileMaster": true, "groups": { "action": "NONE" }, "conditions": { "deprovisioned": { "action": "REACTIVATE" }, "suspended": { "action": "UNSUSPEND" } } },
                "accountLink": { "filter": null, "action": "AUTO" },
                "subject": { "userNameTemplate": { "template": "idpuser.subjectNameId" }, "matchType": "USERNAME" },
                "maxClockSkew": 120000
            }
        })
    }

    #[test]
    fn the_seed_configuration_round_trips() {
        let idp = SamlIdp::from_okta(&seed_idp(), "https://hub/saml2/service-provider/sp1").unwrap_or_else(|e| panic!("{e}"));
        assert!(idp.jit && idp.link_auto && idp.profile_master && idp.reactivate && idp.unsuspend);
        assert_eq!(idp.match_type, MatchType::Username);
        assert_eq!(idp.audience, "https://hub/saml2/service-provider/sp1");
        let again = SamlIdp::from_okta(&idp.to_okta(), "other").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(again, idp);
    }

    #[test]
    fn bad_settings_are_refused_with_the_field() {
        let cases: Vec<(&str, Value, &str)> = vec![
            ("/name", json!(""), "name"),
            ("/protocol/endpoints/sso/url", json!("javascript:alert(1)"), "protocol.endpoints.sso.url"),
            ("/policy/subject/userNameTemplate/template", json!("String.nope(idpuser.x)"), "policy.subject.userNameTemplate.template"),
            ("/policy/subject/filter", json!("(unclosed"), "policy.subject.filter"),
            ("/policy/subject/matchType", json!("CUSTOM_ATTRIBUTE"), "policy.subject.matchAttribute"),
            ("/policy/provisioning/groups/action", json!("APPEND"), "policy.provisioning.groups.sourceAttributeName"),
            ("/policy/maxClockSkew", json!(-5), "policy.maxClockSkew"),
            ("/protocol/algorithms/response/signature/scope", json!("BOTH"), "protocol.algorithms.response.signature.scope"),
        ];
        for (ptr, value, field) in cases {
            let mut body = seed_idp();
            if let Some(slot) = body.pointer_mut(ptr) {
                *slot = value;
            } else if ptr == "/policy/subject/filter" {
                body["policy"]["subject"]["filter"] = value;
            }
            match SamlIdp::from_okta(&body, "aud") {
                Err(DomainError::Validation { summary, .. }) => assert_eq!(summary, field, "{ptr}"),
                other => panic!("{ptr}: expected a validation error, got {other:?}"),
            }
        }
    }

    #[test]
    fn every_bad_mapping_is_reported_with_its_attribute() {
        let mut body = seed_idp();
        body["idhub"] = json!({
            "profileAttributes": ["firstName", "email"],
            "profileMapping": {
                "firstName": "idpuser.firstName",
                "lastName": "String.nope(idpuser.lastName)",
                "nickName": "user.firstName",
                "title": "idpuser.title",
                "email": "String.toLowerCase(idpuser.email)"
            }
        });
        match SamlIdp::from_okta(&body, "aud") {
            Err(DomainError::Validation { causes, .. }) => {
                let fields: Vec<&str> = causes.iter().filter_map(|c| c.split(": ").next()).collect();
                assert_eq!(fields, ["idhub.profileMapping.lastName", "idhub.profileMapping.nickName", "idhub.profileMapping.title"]);
                assert!(causes[2].contains("add title to the IdP user profile"), "{causes:?}");
            }
            other => panic!("expected a validation error, got {other:?}"),
        }
        // declaring the attribute and fixing the expressions makes it valid
        body["idhub"]["profileAttributes"] = json!(["firstName", "email", "title", "lastName", "subjectNameId"]);
        body["idhub"]["profileMapping"]["lastName"] = json!("String.toUpperCase(idpuser.lastName)");
        body["idhub"]["profileMapping"]["nickName"] = json!(r#"String.substringBefore(idpuser.subjectNameId, "@")"#);
        let idp = SamlIdp::from_okta(&body, "aud").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(idp.profile_attributes, ["firstName", "email", "title", "lastName"], "the subject attributes are built in");
        assert_eq!(SamlIdp::from_okta(&idp.to_okta(), "aud").unwrap_or_else(|e| panic!("{e}")), idp);
    }

    #[test]
    fn without_a_declared_profile_the_expressions_name_the_attributes() {
        let mut body = seed_idp();
        body["idhub"] = json!({ "profileMapping": { "department": "idpuser.dept ?: \"none\"" } });
        let idp = SamlIdp::from_okta(&body, "aud").unwrap_or_else(|e| panic!("{e}"));
        assert!(idp.profile_attributes.contains(&"dept".to_string()), "{:?}", idp.profile_attributes);
        body["idhub"]["profileAttributes"] = json!(["bad name"]);
        assert!(
            matches!(SamlIdp::from_okta(&body, "aud"), Err(DomainError::Validation { summary, .. }) if summary == "idhub.profileAttributes")
        );
    }
}
