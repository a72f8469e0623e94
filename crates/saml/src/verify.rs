//! The SP side (the hub's ACS): an [`UnverifiedResponse`] becomes a [`VerifiedAssertion`]
//! only through [`UnverifiedResponse::verify`] against a [`TrustPolicy`].
//!
//! Order of the checks: a trusted certificate must be configured (before anything else:
//! the engine fails open without one) → size cap and strict base64 → no DOCTYPE → the
//! document is a Response that carries a signature, with allowed algorithms only →
//! no comment anywhere inside the Response (canonical XML drops comments, so no signature
//! covers them) → libxmlsec1 (through samael's `reduce_xml_to_signed`) verifies every
//! signature with the configured certificates only, and only the content it returns as
//! signed is read (for one signature, the exact canonical bytes that were digested) →
//! exactly one Assertion, each signature enveloping its own Response/Assertion by ID, the
//! signed part the one the policy names → Issuer, Destination, Recipient, Audience,
//! NotBefore/NotOnOrAfter (with clock skew), bearer confirmation, InResponseTo,
//! StatusCode Success.
//!
//! Values are read as the full text of their element (comment injection cannot shorten a
//! NameID). Envelope values of an unsigned Response (Destination, Status, InResponseTo)
//! are only ever used to refuse, never to accept.

use crate::dom::{self, parse_instant, Element, NS_ASSERTION, NS_DSIG, NS_PROTOCOL, NS_XSI};
use crate::encoding::{decode_base64, refuse_doctype, utf8, MAX_RESPONSE_BYTES};
use crate::engine::{Engine, SignatureEngine};
use crate::error::{clip, Result, SamlError};
use crate::keys::Certificate;
use crate::xml::instant_of;
use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeMap;

const STATUS_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
const CM_BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
const DIGEST_SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
const DIGEST_SHA1: &str = "http://www.w3.org/2000/09/xmldsig#sha1";
const TRANSFORMS: [&str; 5] = [
    "http://www.w3.org/2000/09/xmldsig#enveloped-signature",
    "http://www.w3.org/2001/10/xml-exc-c14n#",
    "http://www.w3.org/2001/10/xml-exc-c14n#WithComments",
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments",
];

/// Which signature the IdP's settings require (Okta: RESPONSE, TOKEN, ANY).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureScope {
    /// The Response must be signed.
    Response,
    /// The Assertion must be signed.
    Assertion,
    /// The Response or the Assertion (or both) must be signed.
    Either,
}

/// What a Response must satisfy to be accepted from one IdP.
#[derive(Debug, Clone)]
pub struct TrustPolicy {
    /// The IdP's entity id: both Issuers must equal it.
    pub idp_issuer: String,
    /// Certificates whose keys may sign; verification is refused when empty.
    pub certificates: Vec<Certificate>,
    /// This ACS URL: the Destination and the bearer Recipient must equal it.
    pub acs_url: String,
    /// This SP's entity id: every AudienceRestriction must name it.
    pub audience: String,
    /// Tolerated clock difference with the IdP.
    pub max_clock_skew: Duration,
    /// Which signature is required.
    pub signature_scope: SignatureScope,
    /// Accept RSA-SHA1 signatures and SHA-1 digests (an admin's explicit choice).
    pub allow_sha1: bool,
    /// Accept Responses that answer no request (IdP-initiated sign-on).
    pub allow_idp_initiated: bool,
    /// The request this browser has outstanding (SP-initiated), if any.
    pub request_id: Option<String>,
}

impl TrustPolicy {
    /// A policy with the defaults: two minutes of clock skew, Response or Assertion
    /// signed, RSA-SHA256 only, no IdP-initiated sign-on, no outstanding request.
    pub fn new(
        idp_issuer: impl Into<String>,
        certificates: Vec<Certificate>,
        acs_url: impl Into<String>,
        audience: impl Into<String>,
    ) -> Self {
        TrustPolicy {
            idp_issuer: idp_issuer.into(),
            certificates,
            acs_url: acs_url.into(),
            audience: audience.into(),
            max_clock_skew: Duration::minutes(2),
            signature_scope: SignatureScope::Either,
            allow_sha1: false,
            allow_idp_initiated: false,
            request_id: None,
        }
    }
}

/// A NameID: its full text and its Format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameId {
    /// The value (every text node joined, surrounding whitespace trimmed).
    pub value: String,
    /// `Format`, if given.
    pub format: Option<String>,
}

/// An Assertion that passed every check of a [`TrustPolicy`]; it holds only what a
/// verified signature covered. It can only be made by [`UnverifiedResponse::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAssertion {
    assertion_id: String,
    issuer: String,
    name_id: NameId,
    session_index: Option<String>,
    authn_instant: Option<DateTime<Utc>>,
    authn_context_class: Option<String>,
    attributes: BTreeMap<String, Vec<String>>,
    not_on_or_after: DateTime<Utc>,
    remember_until: DateTime<Utc>,
    in_response_to: Option<String>,
    response_signed: bool,
    assertion_signed: bool,
}

impl VerifiedAssertion {
    /// The Assertion's ID (the key of the caller's replay store).
    pub fn assertion_id(&self) -> &str {
        &self.assertion_id
    }
    /// The Assertion's Issuer (equal to the policy's).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }
    /// The subject.
    pub fn name_id(&self) -> &NameId {
        &self.name_id
    }
    /// AuthnStatement `SessionIndex`.
    pub fn session_index(&self) -> Option<&str> {
        self.session_index.as_deref()
    }
    /// AuthnStatement `AuthnInstant`.
    pub fn authn_instant(&self) -> Option<DateTime<Utc>> {
        self.authn_instant
    }
    /// AuthnContextClassRef (e.g. PasswordProtectedTransport, or an MFA class).
    pub fn authn_context_class(&self) -> Option<&str> {
        self.authn_context_class.as_deref()
    }
    /// Attributes: Name → values in document order (full text each; `xsi:nil` values left out).
    pub fn attributes(&self) -> &BTreeMap<String, Vec<String>> {
        &self.attributes
    }
    /// The first value of an attribute.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).and_then(|v| v.first()).map(String::as_str)
    }
    /// The earliest NotOnOrAfter of the Conditions and the bearer confirmation.
    pub fn not_on_or_after(&self) -> DateTime<Utc> {
        self.not_on_or_after
    }
    /// Until when the caller must remember [`Self::assertion_id`] to refuse a replay:
    /// [`Self::not_on_or_after`] plus the policy's clock skew.
    pub fn remember_until(&self) -> DateTime<Utc> {
        self.remember_until
    }
    /// The request this answers (SP-initiated), if a signed InResponseTo says so.
    pub fn in_response_to(&self) -> Option<&str> {
        self.in_response_to.as_deref()
    }
    /// Whether a verified signature covered the whole Response.
    pub fn response_signed(&self) -> bool {
        self.response_signed
    }
    /// Whether the Assertion carried its own verified signature.
    pub fn assertion_signed(&self) -> bool {
        self.assertion_signed
    }
}

/// A Response as received: decoded, size-capped, free of DTDs, nothing trusted yet.
#[derive(Debug, Clone)]
pub struct UnverifiedResponse {
    xml: String,
}

/// Decode and verify the `SAMLResponse` form value of the HTTP-POST binding.
pub fn verify_response(encoded: &str, policy: &TrustPolicy, now: DateTime<Utc>) -> Result<VerifiedAssertion> {
    if policy.certificates.is_empty() {
        return Err(SamlError::NoTrustedCertificate);
    }
    UnverifiedResponse::from_base64(encoded)?.verify(policy, now)
}

impl UnverifiedResponse {
    /// From the `SAMLResponse` form value: strict base64 of at most 256 KiB of UTF-8 XML
    /// without a DOCTYPE.
    pub fn from_base64(encoded: &str) -> Result<UnverifiedResponse> {
        let bytes = decode_base64(encoded, MAX_RESPONSE_BYTES)?;
        UnverifiedResponse::from_xml(&utf8(bytes)?)
    }

    /// From XML text (same limits).
    pub fn from_xml(xml: &str) -> Result<UnverifiedResponse> {
        if xml.len() > MAX_RESPONSE_BYTES {
            return Err(SamlError::TooLarge { limit: MAX_RESPONSE_BYTES });
        }
        refuse_doctype(xml)?;
        Ok(UnverifiedResponse { xml: xml.to_string() })
    }

    /// The untrusted document (for diagnostics only).
    pub fn untrusted_xml(&self) -> &str {
        &self.xml
    }

    /// Check everything the policy asks; see the module documentation for the order.
    pub fn verify(&self, policy: &TrustPolicy, now: DateTime<Utc>) -> Result<VerifiedAssertion> {
        if policy.certificates.is_empty() {
            return Err(SamlError::NoTrustedCertificate);
        }
        let (original, comments) = dom::parse_noting_comments(&self.xml)?;
        if !original.is(NS_PROTOCOL, "Response") {
            return Err(SamlError::UnexpectedMessage { expected: "Response" });
        }
        // Canonical XML drops comments, so a comment can sit inside signed text unnoticed by
        // the signature (`user@evil.com<!---->.good.com`). IdPs do not write comments:
        // refuse them rather than guess which text was meant.
        if comments {
            return Err(SamlError::SignatureInvalid("the Response carries XML comments, which its signature does not cover".into()));
        }
        let mut signatures = Vec::new();
        original.descendants(NS_DSIG, "Signature", &mut signatures);
        let mut assertions = Vec::new();
        original.descendants(NS_ASSERTION, "Assertion", &mut assertions);
        let mut encrypted = Vec::new();
        original.descendants(NS_ASSERTION, "EncryptedAssertion", &mut encrypted);
        if assertions.is_empty() && encrypted.is_empty() {
            // A failure answer carries no Assertion; report the IdP's status, else the gap.
            check_status(&original)?;
            return Err(SamlError::NoAssertion);
        }
        if signatures.is_empty() {
            return Err(SamlError::Unsigned("the Response carries no signature".into()));
        }
        for sig in &signatures {
            check_algorithms(sig, policy.allow_sha1)?;
        }
        // With SHA-1 allowed, the check above is the only gate (the engine's allow list has
        // no RSA-SHA1 entry); it admits RSA-SHA256/RSA-SHA1 and SHA-256/SHA-1 only.
        let reduced = Engine::verify_signed_content(&self.xml, &policy.certificates, !policy.allow_sha1, signatures.len())?;

        // Only now, with every signature verified, look at the structure.
        let count = assertions.len() + encrypted.len();
        if count > 1 {
            return Err(SamlError::MultipleAssertions { count });
        }
        if !encrypted.is_empty() {
            return Err(SamlError::EncryptedAssertionUnsupported);
        }
        let original_assertion = original
            .children_named(NS_ASSERTION, "Assertion")
            .next()
            .ok_or_else(|| SamlError::SignatureReferenceInvalid("the Assertion is not a child of the Response".into()))?;
        let (response_signed, assertion_signed) = signature_placement(&original, original_assertion)?;
        match (policy.signature_scope, response_signed, assertion_signed) {
            (SignatureScope::Response, false, _) => return Err(SamlError::Unsigned("the policy requires a signed Response".into())),
            (SignatureScope::Assertion, _, false) => return Err(SamlError::Unsigned("the policy requires a signed Assertion".into())),
            _ => {}
        }

        // Read only what the engine returned as signed.
        let verified = dom::parse(&reduced)?;
        let original_assertion_id = original_assertion.attr("ID").unwrap_or_default();
        let (envelope, assertion) = if response_signed {
            if !verified.is(NS_PROTOCOL, "Response") || verified.attr("ID") != original.attr("ID") {
                return Err(SamlError::SignatureInvalid("the verified content is not the Response".into()));
            }
            let mut inner = Vec::new();
            verified.descendants(NS_ASSERTION, "Assertion", &mut inner);
            match inner.as_slice() {
                [one] if one.attr("ID") == Some(original_assertion_id) => (&verified, *one),
                _ => return Err(SamlError::SignatureInvalid("the verified Response does not hold the one Assertion".into())),
            }
        } else {
            if !verified.is(NS_ASSERTION, "Assertion") || verified.attr("ID") != Some(original_assertion_id) {
                return Err(SamlError::SignatureInvalid("the verified content is not the Assertion".into()));
            }
            (&original, &verified)
        };
        check_assertion(policy, now, envelope, assertion, response_signed, assertion_signed)
    }
}

/// Every algorithm in a signature must be one the policy allows; no other transforms
/// (XPath, XSLT) are ever run.
fn check_algorithms(sig: &Element, allow_sha1: bool) -> Result<()> {
    let signed_info = sig.child(NS_DSIG, "SignedInfo").ok_or(SamlError::Missing("ds:SignedInfo"))?;
    let alg = |e: Option<&Element>| e.and_then(|e| e.attr("Algorithm")).unwrap_or_default().to_string();
    let method = alg(signed_info.child(NS_DSIG, "SignatureMethod"));
    let sha1_ok = allow_sha1 && method == crate::ALG_RSA_SHA1;
    if method != crate::ALG_RSA_SHA256 && !sha1_ok {
        return Err(SamlError::AlgorithmNotAllowed(format!("signature method {:?}", clip(&method))));
    }
    let c14n = alg(signed_info.child(NS_DSIG, "CanonicalizationMethod"));
    if !TRANSFORMS[1..].contains(&c14n.as_str()) {
        return Err(SamlError::AlgorithmNotAllowed(format!("canonicalization {:?}", clip(&c14n))));
    }
    for r in signed_info.children_named(NS_DSIG, "Reference") {
        let digest = alg(r.child(NS_DSIG, "DigestMethod"));
        if digest != DIGEST_SHA256 && !(allow_sha1 && digest == DIGEST_SHA1) {
            return Err(SamlError::AlgorithmNotAllowed(format!("digest {:?}", clip(&digest))));
        }
        for t in r.child(NS_DSIG, "Transforms").into_iter().flat_map(|t| t.children_named(NS_DSIG, "Transform")) {
            let a = t.attr("Algorithm").unwrap_or_default();
            if !TRANSFORMS.contains(&a) {
                return Err(SamlError::AlgorithmNotAllowed(format!("transform {:?}", clip(a))));
            }
        }
    }
    Ok(())
}

/// Each signature must be a child of the Response or of its one Assertion and carry
/// exactly one Reference, to its parent's ID. Returns (Response signed, Assertion signed).
fn signature_placement(response: &Element, assertion: &Element) -> Result<(bool, bool)> {
    let mut all = Vec::new();
    response.descendants(NS_DSIG, "Signature", &mut all);
    let on_response: Vec<&Element> = response.children_named(NS_DSIG, "Signature").collect();
    let on_assertion: Vec<&Element> = assertion.children_named(NS_DSIG, "Signature").collect();
    if on_response.len() + on_assertion.len() != all.len() {
        return Err(SamlError::SignatureReferenceInvalid("a signature is neither on the Response nor on the Assertion".into()));
    }
    if on_response.len() > 1 || on_assertion.len() > 1 {
        return Err(SamlError::SignatureReferenceInvalid("an element carries more than one signature".into()));
    }
    for (sigs, parent, what) in [(&on_response, response, "Response"), (&on_assertion, assertion, "Assertion")] {
        for sig in sigs.iter() {
            let refs: Vec<&Element> =
                sig.child(NS_DSIG, "SignedInfo").into_iter().flat_map(|si| si.children_named(NS_DSIG, "Reference")).collect();
            let id = parent.attr("ID").unwrap_or_default();
            match refs.as_slice() {
                [r] if !id.is_empty() && r.attr("URI") == Some(format!("#{id}").as_str()) => {}
                [_] => return Err(SamlError::SignatureReferenceInvalid(format!("the {what}'s signature references another element"))),
                _ => return Err(SamlError::SignatureReferenceInvalid(format!("the {what}'s signature has {} references", refs.len()))),
            }
        }
    }
    Ok((!on_response.is_empty(), !on_assertion.is_empty()))
}

fn check_status(envelope: &Element) -> Result<()> {
    let status = envelope.child(NS_PROTOCOL, "Status");
    let code = status.and_then(|s| s.child(NS_PROTOCOL, "StatusCode"));
    let top = code.and_then(|c| c.attr("Value")).unwrap_or_default();
    if top == STATUS_SUCCESS {
        return Ok(());
    }
    let second = code.and_then(|c| c.child(NS_PROTOCOL, "StatusCode")).and_then(|c| c.attr("Value"));
    let code = match second {
        Some(s) => format!("{} {}", clip(top), clip(s)),
        None if top.is_empty() => "(none)".to_string(),
        None => clip(top),
    };
    let message = status.and_then(|s| s.child(NS_PROTOCOL, "StatusMessage")).map(|m| clip(m.text().trim()));
    Err(SamlError::StatusNotSuccess { code, message })
}

fn instant_attr(e: &Element, name: &str) -> Result<Option<DateTime<Utc>>> {
    e.attr(name).map(parse_instant).transpose()
}

fn check_assertion(
    policy: &TrustPolicy,
    now: DateTime<Utc>,
    envelope: &Element,
    assertion: &Element,
    response_signed: bool,
    assertion_signed: bool,
) -> Result<VerifiedAssertion> {
    let skew = policy.max_clock_skew;
    let now_s = instant_of(&now);
    let expected_issuer = policy.idp_issuer.trim();

    // Issuer (the Assertion's is required; the Response's, when present, must agree).
    let issuer =
        assertion.child(NS_ASSERTION, "Issuer").map(|i| i.text().trim().to_string()).ok_or(SamlError::Missing("Assertion Issuer"))?;
    if issuer != expected_issuer {
        return Err(SamlError::IssuerMismatch { expected: expected_issuer.to_string(), actual: clip(&issuer) });
    }
    if let Some(ri) = envelope.child(NS_ASSERTION, "Issuer").map(|i| i.text().trim().to_string()) {
        if ri != expected_issuer {
            return Err(SamlError::IssuerMismatch { expected: expected_issuer.to_string(), actual: clip(&ri) });
        }
    }

    // Destination: required on a signed Response, and this ACS whenever present.
    match envelope.attr("Destination") {
        Some(d) if d == policy.acs_url => {}
        None if !response_signed => {}
        other => return Err(SamlError::DestinationMismatch { expected: policy.acs_url.clone(), actual: other.map(clip) }),
    }

    // Bearer confirmation addressed to this ACS.
    let subject = assertion.child(NS_ASSERTION, "Subject").ok_or(SamlError::Missing("Subject"))?;
    let bearers: Vec<&Element> =
        subject.children_named(NS_ASSERTION, "SubjectConfirmation").filter(|c| c.attr("Method") == Some(CM_BEARER)).collect();
    if bearers.is_empty() {
        return Err(SamlError::NoBearerConfirmation);
    }
    let datas: Vec<Option<&Element>> = bearers.iter().map(|b| b.child(NS_ASSERTION, "SubjectConfirmationData")).collect();
    let scd = datas.iter().flatten().find(|d| d.attr("Recipient") == Some(policy.acs_url.as_str())).copied().ok_or_else(|| {
        SamlError::RecipientMismatch {
            expected: policy.acs_url.clone(),
            actual: datas.iter().flatten().find_map(|d| d.attr("Recipient")).map(clip),
        }
    })?;

    // Audience: every AudienceRestriction must name this SP, and there must be one.
    let conditions = assertion.child(NS_ASSERTION, "Conditions").ok_or(SamlError::Missing("Conditions"))?;
    let restrictions: Vec<&Element> = conditions.children_named(NS_ASSERTION, "AudienceRestriction").collect();
    if restrictions.is_empty() {
        return Err(SamlError::AudienceMismatch { expected: policy.audience.clone(), actual: vec![] });
    }
    for r in restrictions {
        let audiences: Vec<String> = r.children_named(NS_ASSERTION, "Audience").map(|a| a.text().trim().to_string()).collect();
        if !audiences.iter().any(|a| a == &policy.audience) {
            return Err(SamlError::AudienceMismatch {
                expected: policy.audience.clone(),
                actual: audiences.iter().take(10).map(|a| clip(a)).collect(),
            });
        }
    }

    // Time, with the allowed skew either way.
    let not_yet = |what: &'static str, t: DateTime<Utc>| -> Result<()> {
        if now + skew < t {
            return Err(SamlError::NotYetValid { what, not_before: instant_of(&t), now: now_s.clone() });
        }
        Ok(())
    };
    let expired = |what: &'static str, t: DateTime<Utc>| -> Result<()> {
        if now - skew >= t {
            return Err(SamlError::Expired { what, not_on_or_after: instant_of(&t), now: now_s.clone() });
        }
        Ok(())
    };
    if let Some(t) = instant_attr(assertion, "IssueInstant")? {
        not_yet("Assertion IssueInstant", t)?;
    }
    if let Some(t) = instant_attr(conditions, "NotBefore")? {
        not_yet("Conditions NotBefore", t)?;
    }
    if let Some(t) = instant_attr(scd, "NotBefore")? {
        not_yet("SubjectConfirmationData NotBefore", t)?;
    }
    let cond_end = instant_attr(conditions, "NotOnOrAfter")?;
    if let Some(t) = cond_end {
        expired("Conditions", t)?;
    }
    let scd_end = instant_attr(scd, "NotOnOrAfter")?.ok_or(SamlError::Missing("SubjectConfirmationData NotOnOrAfter"))?;
    expired("SubjectConfirmationData", scd_end)?;
    let not_on_or_after = cond_end.map_or(scd_end, |c| c.min(scd_end));

    // InResponseTo: the outstanding request, or none at all when IdP-initiated is allowed.
    // Any value present must match; only a signed one makes the Response solicited.
    let (envelope_irt, scd_irt) = (envelope.attr("InResponseTo"), scd.attr("InResponseTo"));
    for got in [envelope_irt, scd_irt].into_iter().flatten() {
        if policy.request_id.as_deref() != Some(got) {
            return Err(SamlError::InResponseToMismatch { expected: policy.request_id.clone(), actual: Some(clip(got)) });
        }
    }
    let signed_irt = scd_irt.or(if response_signed { envelope_irt } else { None });
    if signed_irt.is_none() && !policy.allow_idp_initiated {
        return match &policy.request_id {
            Some(_) => Err(SamlError::InResponseToMismatch { expected: policy.request_id.clone(), actual: None }),
            None => Err(SamlError::IdpInitiatedNotAllowed),
        };
    }

    check_status(envelope)?;

    let id = assertion.attr("ID").filter(|s| !s.is_empty()).ok_or(SamlError::Missing("Assertion ID"))?;
    let name_id = subject.child(NS_ASSERTION, "NameID").ok_or(SamlError::Missing("NameID"))?;
    let name_id = NameId { value: name_id.text().trim().to_string(), format: name_id.attr("Format").map(str::to_string) };
    if name_id.value.is_empty() {
        return Err(SamlError::Missing("NameID value"));
    }
    let authn = assertion.child(NS_ASSERTION, "AuthnStatement");
    let mut attributes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for st in assertion.children_named(NS_ASSERTION, "AttributeStatement") {
        for a in st.children_named(NS_ASSERTION, "Attribute") {
            let name = a.attr("Name").ok_or(SamlError::Missing("Attribute Name"))?;
            let values = attributes.entry(name.to_string()).or_default();
            for v in a.children_named(NS_ASSERTION, "AttributeValue") {
                if !matches!(v.attr_ns(NS_XSI, "nil"), Some("true") | Some("1")) {
                    values.push(v.text());
                }
            }
        }
    }
    Ok(VerifiedAssertion {
        assertion_id: id.to_string(),
        issuer,
        name_id,
        session_index: authn.and_then(|a| a.attr("SessionIndex")).map(str::to_string),
        authn_instant: authn.map(|a| instant_attr(a, "AuthnInstant")).transpose()?.flatten(),
        authn_context_class: authn
            .and_then(|a| a.child(NS_ASSERTION, "AuthnContext"))
            .and_then(|c| c.child(NS_ASSERTION, "AuthnContextClassRef"))
            .map(|r| r.text().trim().to_string()),
        attributes,
        not_on_or_after,
        remember_until: not_on_or_after + skew,
        in_response_to: signed_irt.map(str::to_string),
        response_signed,
        assertion_signed,
    })
}
