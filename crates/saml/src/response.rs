//! The IdP side: a SAML 2.0 Response with one Assertion, written with the canonical XML
//! writer and signed as the app's settings say (Response, Assertion or both; RSA-SHA256,
//! SHA-256 digests, exclusive C14N; each signature right after its element's Issuer).

use crate::canonical::{sign_between, C14nWriter, Decl, Part};
use crate::error::{Result, SamlError};
use crate::keys::SigningKey;
use crate::xml::{instant, new_id};

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

const NS_PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
const NS_ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const NS_XS: &str = "http://www.w3.org/2001/XMLSchema";
const NS_XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
const NAMEID_ENTITY: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity";

/// The Assertion, signed when the settings say so. It declares `saml2` itself, so its
/// canonical form is the same alone and inside the Response.
fn assertion(spec: &ResponseSpec, key: &SigningKey, assertion_id: &str, times: &Times) -> Result<Part> {
    let mut head = C14nWriter::within(&[]);
    head.start(
        "saml2:Assertion",
        &[("saml2", NS_ASSERTION, Decl::Both)],
        &[("ID", assertion_id), ("IssueInstant", &times.now), ("Version", "2.0")],
    )?;
    head.leaf("saml2:Issuer", &[], &[("Format", NAMEID_ENTITY)], &spec.issuer)?;
    let head = head.finish(true)?;
    let mut x = C14nWriter::within(&["saml2"]);
    x.start("saml2:Subject", &[], &[])?;
    x.leaf("saml2:NameID", &[], &[("Format", &spec.name_id_format)], &spec.name_id)?;
    x.start("saml2:SubjectConfirmation", &[], &[("Method", "urn:oasis:names:tc:SAML:2.0:cm:bearer")])?;
    let mut scd: Vec<(&str, &str)> = vec![("NotOnOrAfter", &times.not_after), ("Recipient", &spec.acs_url)];
    if let Some(irt) = &spec.in_response_to {
        scd.push(("InResponseTo", irt));
    }
    x.empty("saml2:SubjectConfirmationData", &[], &scd)?;
    x.end("saml2:SubjectConfirmation")?;
    x.end("saml2:Subject")?;
    x.start("saml2:Conditions", &[], &[("NotBefore", &times.not_before), ("NotOnOrAfter", &times.not_after)])?;
    x.start("saml2:AudienceRestriction", &[], &[])?;
    x.leaf("saml2:Audience", &[], &[], &spec.audience)?;
    x.end("saml2:AudienceRestriction")?;
    x.end("saml2:Conditions")?;
    x.start("saml2:AuthnStatement", &[], &[("AuthnInstant", &times.now), ("SessionIndex", &spec.session_index)])?;
    x.start("saml2:AuthnContext", &[], &[])?;
    x.leaf("saml2:AuthnContextClassRef", &[], &[], &spec.authn_context)?;
    x.end("saml2:AuthnContext")?;
    x.end("saml2:AuthnStatement")?;
    if !spec.attributes.is_empty() {
        x.start("saml2:AttributeStatement", &[], &[])?;
        for a in &spec.attributes {
            x.start("saml2:Attribute", &[], &[("Name", &a.name), ("NameFormat", &a.name_format)])?;
            for v in &a.values {
                // `xs` is used only inside the xsi:type value, so exclusive C14N does not
                // render it: it is in the document, not in the digested form.
                x.leaf(
                    "saml2:AttributeValue",
                    &[("xs", NS_XS, Decl::DocOnly), ("xsi", NS_XSI, Decl::Both)],
                    &[("xsi:type", "xs:string")],
                    v,
                )?;
            }
            x.end("saml2:Attribute")?;
        }
        x.end("saml2:AttributeStatement")?;
    }
    // the rest of the Assertion, closed by hand: its start tag is in `head`
    let mut tail = x.finish(false)?;
    tail.doc.push_str("</saml2:Assertion>");
    tail.canon.push_str("</saml2:Assertion>");
    sign_between(head, tail, assertion_id, key, spec.sign_assertion)
}

struct Times {
    now: String,
    not_before: String,
    not_after: String,
}

/// The Response around the (possibly signed) Assertion, signed when the settings say so;
/// its digest then covers the Assertion with the Assertion's signature.
fn response(spec: &ResponseSpec, key: &SigningKey, response_id: &str, assertion_id: &str) -> Result<String> {
    let times =
        Times { now: instant(spec.now_ms), not_before: instant(spec.now_ms - 60_000), not_after: instant(spec.now_ms + spec.validity_ms) };
    let assertion = assertion(spec, key, assertion_id, &times)?;
    let mut head = C14nWriter::within(&[]);
    let mut attrs: Vec<(&str, &str)> =
        vec![("Destination", &spec.acs_url), ("ID", response_id), ("IssueInstant", &times.now), ("Version", "2.0")];
    if let Some(irt) = &spec.in_response_to {
        attrs.push(("InResponseTo", irt));
    }
    head.start("saml2p:Response", &[("saml2p", NS_PROTOCOL, Decl::Both)], &attrs)?;
    head.leaf("saml2:Issuer", &[("saml2", NS_ASSERTION, Decl::Both)], &[("Format", NAMEID_ENTITY)], &spec.issuer)?;
    let head = head.finish(true)?;
    let mut x = C14nWriter::within(&["saml2p"]);
    x.start("saml2p:Status", &[], &[])?;
    x.empty("saml2p:StatusCode", &[], &[("Value", "urn:oasis:names:tc:SAML:2.0:status:Success")])?;
    x.end("saml2p:Status")?;
    x.append(&assertion);
    let mut tail = x.finish(false)?;
    tail.doc.push_str("</saml2p:Response>");
    tail.canon.push_str("</saml2p:Response>");
    Ok(sign_between(head, tail, response_id, key, spec.sign_response)?.doc)
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
/// Response's). The document is written in exclusive canonical form (see `canonical.rs`),
/// so each digest is SHA-256 of bytes written here and each signature is one RSA-SHA256
/// over a canonical `ds:SignedInfo`, with the key parsed once per [`SigningKey`].
pub fn sign_response(spec: &ResponseSpec, key: &SigningKey) -> Result<SignedResponse> {
    if !spec.sign_response && !spec.sign_assertion {
        return Err(SamlError::Sign("sign the Response, the Assertion, or both".into()));
    }
    if spec.validity_ms <= 0 {
        return Err(SamlError::Sign("the assertion's validity must be positive".into()));
    }
    let response_id = new_id();
    let assertion_id = new_id();
    let xml = response(spec, key, &response_id, &assertion_id)?;
    Ok(SignedResponse { xml, response_id, assertion_id })
}

/// [`sign_response`], returning only the document.
pub fn signed_response(spec: &ResponseSpec, key: &SigningKey) -> Result<String> {
    sign_response(spec, key).map(|r| r.xml)
}
