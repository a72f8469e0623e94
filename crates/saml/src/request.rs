//! The IdP side of SP-initiated sign-on: AuthnRequests decoded from the HTTP-Redirect
//! binding (base64 of raw DEFLATE, inflated with a cap) or the HTTP-POST binding (base64),
//! refused when they carry a DOCTYPE or are too large, then read; and the HTTP-Redirect
//! query signature (`SAMLRequest=…&RelayState=…&SigAlg=…`) checked with the SP's
//! certificate over the parameters exactly as received.
//!
//! A request only ever chooses among what the app has configured (the caller checks the
//! Issuer and the ACS URL against the app); the Response never goes to a URL taken from
//! an unsigned request.

use crate::dom::{self, NS_ASSERTION, NS_PROTOCOL};
use crate::encoding::{decode_base64, inflate_capped, percent_decode, percent_encode, raw_query_pairs, refuse_doctype, utf8};
use crate::error::{clip, Result, SamlError};
use crate::keys::Certificate;
use crate::{ALG_RSA_SHA1, ALG_RSA_SHA256};
use openssl::hash::MessageDigest;

/// Largest decoded (and inflated) request accepted.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;

/// What idhub uses from an AuthnRequest. Nothing here is authenticated unless the
/// query signature was verified; the caller checks each value against the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAuthnRequest {
    /// `ID` (answered as InResponseTo).
    pub id: String,
    /// `Issuer` (the SP's entity id), full text.
    pub issuer: Option<String>,
    /// `AssertionConsumerServiceURL`.
    pub acs_url: Option<String>,
    /// `Destination`.
    pub destination: Option<String>,
    /// `ForceAuthn`.
    pub force_authn: bool,
    /// `IsPassive`.
    pub is_passive: bool,
    /// `NameIDPolicy/@Format`.
    pub name_id_policy_format: Option<String>,
}

/// A request sent with the HTTP-Redirect binding (`SAMLRequest` query parameter, already
/// percent-decoded).
pub fn parse_redirect(saml_request: &str) -> Result<ParsedAuthnRequest> {
    let compressed = decode_base64(saml_request, MAX_REQUEST_BYTES)?;
    let raw = inflate_capped(&compressed, MAX_REQUEST_BYTES)?;
    parse_xml(&utf8(raw)?)
}

/// A request sent with the HTTP-POST binding (`SAMLRequest` form field).
pub fn parse_post(saml_request: &str) -> Result<ParsedAuthnRequest> {
    let raw = decode_base64(saml_request, MAX_REQUEST_BYTES)?;
    parse_xml(&utf8(raw)?)
}

/// A request given as XML.
pub fn parse_xml(xml: &str) -> Result<ParsedAuthnRequest> {
    if xml.len() > MAX_REQUEST_BYTES {
        return Err(SamlError::TooLarge { limit: MAX_REQUEST_BYTES });
    }
    refuse_doctype(xml)?;
    let root = dom::parse(xml)?;
    if !root.is(NS_PROTOCOL, "AuthnRequest") {
        return Err(SamlError::UnexpectedMessage { expected: "AuthnRequest" });
    }
    let id = root.attr("ID").ok_or(SamlError::Missing("AuthnRequest ID"))?;
    if id.is_empty() || id.len() > 256 || id.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(SamlError::MalformedXml(format!("the request ID {:?} is not usable", clip(id))));
    }
    let flag = |name: &str| matches!(root.attr(name).map(str::trim), Some("true") | Some("1"));
    Ok(ParsedAuthnRequest {
        id: id.to_string(),
        issuer: root.child(NS_ASSERTION, "Issuer").map(|i| i.text().trim().to_string()),
        acs_url: root.attr("AssertionConsumerServiceURL").map(str::to_string),
        destination: root.attr("Destination").map(str::to_string),
        force_authn: flag("ForceAuthn"),
        is_passive: flag("IsPassive"),
        name_id_policy_format: root.child(NS_PROTOCOL, "NameIDPolicy").and_then(|p| p.attr("Format")).map(str::to_string),
    })
}

/// Encode a request for the HTTP-Redirect binding: raw DEFLATE, then base64 (not yet
/// percent-encoded).
pub fn encode_redirect(xml: &str) -> Result<String> {
    Ok(crate::encoding::encode_base64(&crate::encoding::deflate(xml.as_bytes())?))
}

/// The XML-DSig URI of RSA-SHA256 (kept for callers of the first version of this API).
pub const SIGALG_RSA_SHA256: &str = ALG_RSA_SHA256;

/// Verify the signature of an HTTP-Redirect message with `certificate`. `query` is the
/// query string as received (or a path-and-query or URL: everything up to `?` is skipped),
/// still percent-encoded. The signed octets are `SAMLRequest=…[&RelayState=…]&SigAlg=…`
/// (or `SAMLResponse=…`) exactly as received; a sender that encoded differently is also
/// accepted when the signature covers the canonical re-encoding of the same values.
/// RSA-SHA256 only, or RSA-SHA1 as well when `allow_sha1`.
pub fn verify_redirect_query(query: &str, certificate: &Certificate, allow_sha1: bool) -> Result<()> {
    let pairs = raw_query_pairs(query)?;
    let one = |name: &str| -> Result<Option<&str>> {
        let mut it = pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| *v);
        let first = it.next();
        if it.next().is_some() {
            return Err(SamlError::MalformedXml(format!("the query has more than one {name}")));
        }
        Ok(first)
    };
    let (message_key, message) = match (one("SAMLRequest")?, one("SAMLResponse")?) {
        (Some(m), None) => ("SAMLRequest", m),
        (None, Some(m)) => ("SAMLResponse", m),
        _ => return Err(SamlError::Missing("SAMLRequest (or SAMLResponse) query parameter")),
    };
    let relay = one("RelayState")?;
    let (Some(sig_alg_raw), Some(signature_raw)) = (one("SigAlg")?, one("Signature")?) else {
        return Err(SamlError::Unsigned("the query carries no SigAlg and Signature".into()));
    };
    let sig_alg = percent_decode(sig_alg_raw)?;
    let digest = match sig_alg.as_str() {
        ALG_RSA_SHA256 => MessageDigest::sha256(),
        ALG_RSA_SHA1 if allow_sha1 => MessageDigest::sha1(),
        other => return Err(SamlError::AlgorithmNotAllowed(clip(other))),
    };
    let signature = decode_base64(&percent_decode(signature_raw)?, 4096)?;
    let as_received = match relay {
        Some(r) => format!("{message_key}={message}&RelayState={r}&SigAlg={sig_alg_raw}"),
        None => format!("{message_key}={message}&SigAlg={sig_alg_raw}"),
    };
    let canonical = {
        let m = percent_encode(&percent_decode(message)?);
        let a = percent_encode(&sig_alg);
        match relay {
            Some(r) => format!("{message_key}={m}&RelayState={}&SigAlg={a}", percent_encode(&percent_decode(r)?)),
            None => format!("{message_key}={m}&SigAlg={a}"),
        }
    };
    let key = certificate.public_key()?;
    for signed in [as_received, canonical] {
        let mut v = openssl::sign::Verifier::new(digest, &key).map_err(|e| SamlError::Key(e.to_string()))?;
        v.update(signed.as_bytes()).map_err(|e| SamlError::Key(e.to_string()))?;
        if v.verify(&signature).unwrap_or(false) {
            return Ok(());
        }
    }
    Err(SamlError::SignatureInvalid("the query signature does not verify".into()))
}

/// Verify the signature of an HTTP-Redirect request with the SP's certificate (PEM);
/// RSA-SHA256 only. `sig_alg` is the decoded `SigAlg` parameter as the caller read it;
/// it must agree with the query.
pub fn verify_redirect_signature(path_and_query: &str, sig_alg: Option<&str>, sp_cert_pem: &str) -> Result<()> {
    match sig_alg {
        Some(ALG_RSA_SHA256) => {}
        None => return Err(SamlError::Unsigned("the request must be signed with RSA-SHA256".into())),
        Some(other) => return Err(SamlError::AlgorithmNotAllowed(clip(other))),
    }
    let cert = Certificate::from_pem(sp_cert_pem)?;
    verify_redirect_query(path_and_query, &cert, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    const REQ: &str = r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_abc123" Version="2.0" IssueInstant="2026-11-24T05:00:00Z" Destination="https://idp/app/x/sso/saml" AssertionConsumerServiceURL="https://sp.example/acs" ForceAuthn="true"><saml:Issuer>https://sp.example</saml:Issuer><samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress" AllowCreate="true"/></samlp:AuthnRequest>"#;

    #[test]
    fn both_bindings_parse() {
        let r = parse_redirect(&encode_redirect(REQ).unwrap()).unwrap();
        assert_eq!(r.id, "_abc123");
        assert_eq!(r.issuer.as_deref(), Some("https://sp.example"));
        assert_eq!(r.acs_url.as_deref(), Some("https://sp.example/acs"));
        assert_eq!(r.destination.as_deref(), Some("https://idp/app/x/sso/saml"));
        assert_eq!(r.name_id_policy_format.as_deref(), Some(crate::NAMEID_EMAIL));
        assert!(r.force_authn && !r.is_passive);
        let p = parse_post(&base64::engine::general_purpose::STANDARD.encode(REQ)).unwrap();
        assert_eq!(p, r);
    }

    #[test]
    fn hostile_requests_are_refused() {
        assert_eq!(parse_redirect("%%%not base64"), Err(SamlError::BadBase64));
        assert_eq!(parse_redirect(&base64::engine::general_purpose::STANDARD.encode(b"not deflate")), Err(SamlError::BadDeflate));
        let doctype = format!("<!DOCTYPE x [<!ENTITY a \"b\">]>{REQ}");
        assert_eq!(parse_post(&base64::engine::general_purpose::STANDARD.encode(doctype)), Err(SamlError::DoctypeForbidden));
        let bomb = encode_redirect(&"A".repeat(MAX_REQUEST_BYTES * 4)).unwrap();
        assert_eq!(parse_redirect(&bomb), Err(SamlError::TooLarge { limit: MAX_REQUEST_BYTES }));
        let other = parse_post(&base64::engine::general_purpose::STANDARD.encode("<Response/>"));
        assert_eq!(other, Err(SamlError::UnexpectedMessage { expected: "AuthnRequest" }));
        let no_id = REQ.replace("ID=\"_abc123\" ", "");
        assert_eq!(parse_xml(&no_id), Err(SamlError::Missing("AuthnRequest ID")));
    }
}
