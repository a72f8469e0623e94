//! The IdP side: a SAML 2.0 Response with one Assertion, written with an XML writer and
//! signed as the app's settings say (Response, Assertion or both; RSA-SHA256, SHA-256
//! digests, exclusive C14N; each signature right after its element's Issuer).

use crate::error::{Result, SamlError};
use crate::keys::SigningKey;
use crate::xml::{instant, new_id, sign_after_first_issuer, sign_first_template, signature_template, Xml};

/// Authentication context for a password sign-in.
pub const AC_PASSWORD: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport";
/// Authentication context when a second factor was used (password + TOTP).
pub const AC_MFA: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorUnregistered";

/// An attribute of the AttributeStatement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// `Name`.
    pub name: String,
    /// `NameFormat` (e.g. `urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified`).
    pub name_format: String,
    /// One `AttributeValue` (`xs:string`) each; an attribute may have several.
    pub values: Vec<String>,
}

/// Everything a Response says. The AttributeStatement is left out when `attributes` is
/// empty (an empty one is refused by some SPs).
#[derive(Debug, Clone)]
pub struct ResponseSpec {
    /// The IdP's entity id (both Issuers).
    pub issuer: String,
    /// The ACS URL (Destination and Recipient).
    pub acs_url: String,
    /// The SP's entity id (the AudienceRestriction).
    pub audience: String,
    /// NameID value.
    pub name_id: String,
    /// NameID `Format`.
    pub name_id_format: String,
    /// The AuthnRequest answered, if SP-initiated (Response and SubjectConfirmationData).
    pub in_response_to: Option<String>,
    /// AuthnStatement `SessionIndex`.
    pub session_index: String,
    /// AuthnContextClassRef: [`AC_PASSWORD`], [`AC_MFA`] or another class.
    pub authn_context: String,
    /// The AttributeStatement.
    pub attributes: Vec<Attribute>,
    /// Now, Unix milliseconds (IssueInstant, AuthnInstant; NotBefore is a minute earlier).
    pub now_ms: i64,
    /// How long the assertion may be used (NotOnOrAfter = now + this).
    pub validity_ms: i64,
    /// Sign the Response.
    pub sign_response: bool,
    /// Sign the Assertion.
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

/// A signed Response, with the IDs it carries (for logs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedResponse {
    /// The document.
    pub xml: String,
    /// The Response's ID.
    pub response_id: String,
    /// The Assertion's ID.
    pub assertion_id: String,
}

impl SignedResponse {
    /// The `SAMLResponse` form value of the HTTP-POST binding.
    pub fn base64(&self) -> String {
        crate::encoding::encode_base64(self.xml.as_bytes())
    }
}

/// Build and sign a Response: the Assertion first (its signature is then covered by the
/// Response's), because the engine signs the first empty `ds:Signature` in the document.
pub fn sign_response(spec: &ResponseSpec, key: &SigningKey) -> Result<SignedResponse> {
    if !spec.sign_response && !spec.sign_assertion {
        return Err(SamlError::Sign("sign the Response, the Assertion, or both".into()));
    }
    if spec.validity_ms <= 0 {
        return Err(SamlError::Sign("the assertion's validity must be positive".into()));
    }
    let response_id = new_id();
    let assertion_id = new_id();
    let xml = if !spec.sign_assertion {
        sign_first_template(&build(spec, key, &response_id, &assertion_id, true, false)?, key)?
    } else {
        let with_assertion = sign_first_template(&build(spec, key, &response_id, &assertion_id, false, true)?, key)?;
        if spec.sign_response {
            // The Response's template goes right after the Response's Issuer, the first
            // Issuer in the document.
            sign_after_first_issuer(&with_assertion, "</saml2:Issuer>", &response_id, key)?
        } else {
            with_assertion
        }
    };
    Ok(SignedResponse { xml, response_id, assertion_id })
}

/// [`sign_response`], returning only the document.
pub fn signed_response(spec: &ResponseSpec, key: &SigningKey) -> Result<String> {
    sign_response(spec, key).map(|r| r.xml)
}
