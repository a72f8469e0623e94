//! The IdP side: a SAML 2.0 Response with one Assertion, signed as the app's settings say.

use crate::keys::SigningKey;
use crate::xml::{instant, new_id, signature_template, Xml};
use crate::{Result, SamlError};
use samael::crypto::{Crypto, CryptoProvider};

/// Authentication context for a password sign-in.
pub const AC_PASSWORD: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport";
/// Authentication context when a second factor was used (password + TOTP).
pub const AC_MFA: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorUnregistered";

/// An attribute of the AttributeStatement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    pub name: String,
    pub name_format: String,
    pub values: Vec<String>,
}

/// Everything a Response says.
#[derive(Debug, Clone)]
pub struct ResponseSpec {
    pub issuer: String,
    /// The ACS URL (Destination and Recipient).
    pub acs_url: String,
    pub audience: String,
    pub name_id: String,
    pub name_id_format: String,
    pub in_response_to: Option<String>,
    pub session_index: String,
    pub authn_context: String,
    pub attributes: Vec<Attribute>,
    /// Now, Unix milliseconds.
    pub now_ms: i64,
    /// How long the assertion may be used.
    pub validity_ms: i64,
    pub sign_response: bool,
    pub sign_assertion: bool,
}

fn build(
    spec: &ResponseSpec,
    key: &SigningKey,
    response_id: &str,
    assertion_id: &str,
    response_template: bool,
    assertion_template: bool,
) -> Result<String> {
    let now = instant(spec.now_ms);
    let not_before = instant(spec.now_ms - 60_000);
    let not_after = instant(spec.now_ms + spec.validity_ms);
    let mut x = Xml::new();
    let mut attrs: Vec<(&str, &str)> = vec![
        ("xmlns:saml2p", "urn:oasis:names:tc:SAML:2.0:protocol"),
        ("Destination", spec.acs_url.as_str()),
        ("ID", response_id),
        ("IssueInstant", now.as_str()),
        ("Version", "2.0"),
    ];
    if let Some(irt) = &spec.in_response_to {
        attrs.push(("InResponseTo", irt.as_str()));
    }
    x.open("saml2p:Response", &attrs)?;
    x.leaf(
        "saml2:Issuer",
        &[("xmlns:saml2", "urn:oasis:names:tc:SAML:2.0:assertion"), ("Format", "urn:oasis:names:tc:SAML:2.0:nameid-format:entity")],
        &spec.issuer,
    )?;
    if response_template {
        signature_template(&mut x, response_id, key.cert_b64())?;
    }
    x.open("saml2p:Status", &[])?;
    x.empty("saml2p:StatusCode", &[("Value", "urn:oasis:names:tc:SAML:2.0:status:Success")])?;
    x.close("saml2p:Status")?;
    x.open(
        "saml2:Assertion",
        &[
            ("xmlns:saml2", "urn:oasis:names:tc:SAML:2.0:assertion"),
            ("ID", assertion_id),
            ("IssueInstant", now.as_str()),
            ("Version", "2.0"),
        ],
    )?;
    x.leaf("saml2:Issuer", &[("Format", "urn:oasis:names:tc:SAML:2.0:nameid-format:entity")], &spec.issuer)?;
    if assertion_template {
        signature_template(&mut x, assertion_id, key.cert_b64())?;
    }
    x.open("saml2:Subject", &[])?;
    x.leaf("saml2:NameID", &[("Format", spec.name_id_format.as_str())], &spec.name_id)?;
    x.open("saml2:SubjectConfirmation", &[("Method", "urn:oasis:names:tc:SAML:2.0:cm:bearer")])?;
    let mut scd: Vec<(&str, &str)> = vec![("NotOnOrAfter", not_after.as_str()), ("Recipient", spec.acs_url.as_str())];
    if let Some(irt) = &spec.in_response_to {
        scd.push(("InResponseTo", irt.as_str()));
    }
    x.empty("saml2:SubjectConfirmationData", &scd)?;
    x.close("saml2:SubjectConfirmation")?;
    x.close("saml2:Subject")?;
    x.open("saml2:Conditions", &[("NotBefore", not_before.as_str()), ("NotOnOrAfter", not_after.as_str())])?;
    x.open("saml2:AudienceRestriction", &[])?;
    x.leaf("saml2:Audience", &[], &spec.audience)?;
    x.close("saml2:AudienceRestriction")?;
    x.close("saml2:Conditions")?;
    x.open("saml2:AuthnStatement", &[("AuthnInstant", now.as_str()), ("SessionIndex", spec.session_index.as_str())])?;
    x.open("saml2:AuthnContext", &[])?;
    x.leaf("saml2:AuthnContextClassRef", &[], &spec.authn_context)?;
    x.close("saml2:AuthnContext")?;
    x.close("saml2:AuthnStatement")?;
    if !spec.attributes.is_empty() {
        x.open("saml2:AttributeStatement", &[])?;
        for a in &spec.attributes {
            x.open("saml2:Attribute", &[("Name", a.name.as_str()), ("NameFormat", a.name_format.as_str())])?;
            for v in &a.values {
                x.leaf(
                    "saml2:AttributeValue",
                    &[
                        ("xmlns:xs", "http://www.w3.org/2001/XMLSchema"),
                        ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
                        ("xsi:type", "xs:string"),
                    ],
                    v,
                )?;
            }
            x.close("saml2:Attribute")?;
        }
        x.close("saml2:AttributeStatement")?;
    }
    x.close("saml2:Assertion")?;
    x.close("saml2p:Response")?;
    x.finish()
}

fn sign(xml: &str, key: &SigningKey) -> Result<String> {
    Crypto::sign_xml(xml, &key.key_der).map_err(|e| SamlError::Sign(e.to_string()))
}

/// Build and sign a Response: the Assertion first (its signature is then covered by the
/// Response's), because the engine signs the first empty `ds:Signature` in the document.
pub fn signed_response(spec: &ResponseSpec, key: &SigningKey) -> Result<String> {
    if !spec.sign_response && !spec.sign_assertion {
        return Err(SamlError::Sign("sign the Response, the Assertion, or both".into()));
    }
    let response_id = new_id();
    let assertion_id = new_id();
    if !spec.sign_assertion {
        return sign(&build(spec, key, &response_id, &assertion_id, true, false)?, key);
    }
    let with_assertion = sign(&build(spec, key, &response_id, &assertion_id, false, true)?, key)?;
    if !spec.sign_response {
        return Ok(with_assertion);
    }
    // Insert the Response's template right after the Response's Issuer (the first
    // Issuer in the document): a fixed string of our own, no user data.
    let mut t = Xml::new();
    signature_template(&mut t, &response_id, key.cert_b64())?;
    let template = t.finish()?;
    let marker = "</saml2:Issuer>";
    let at = with_assertion.find(marker).ok_or_else(|| SamlError::Xml("no Issuer in the signed document".into()))? + marker.len();
    let mut doc = String::with_capacity(with_assertion.len() + template.len());
    doc.push_str(&with_assertion[..at]);
    doc.push_str(&template);
    doc.push_str(&with_assertion[at..]);
    sign(&doc, key)
}
