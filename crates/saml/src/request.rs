//! AuthnRequests that service providers send (SP-initiated sign-on): decoded from the
//! HTTP-Redirect binding (base64 of raw DEFLATE, inflated with a cap) or the HTTP-POST
//! binding (base64), refused when they carry a DOCTYPE or are too large, then parsed.

use crate::{Result, SamlError};
use base64::Engine;
use samael::schema::AuthnRequest;
use std::io::Read;

/// Largest decoded request accepted.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;

/// What idhub uses from an AuthnRequest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAuthnRequest {
    pub id: String,
    pub issuer: Option<String>,
    pub acs_url: Option<String>,
    pub destination: Option<String>,
    pub force_authn: bool,
}

fn bad(msg: impl Into<String>) -> SamlError {
    SamlError::Xml(msg.into())
}

fn decode_b64(text: &str) -> Result<Vec<u8>> {
    let cleaned: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if cleaned.len() > MAX_REQUEST_BYTES * 2 {
        return Err(bad("the request is too large"));
    }
    base64::engine::general_purpose::STANDARD.decode(cleaned).map_err(|_| bad("the request is not valid base64"))
}

/// A request sent with the HTTP-Redirect binding (`SAMLRequest` query parameter).
pub fn parse_redirect(saml_request: &str) -> Result<ParsedAuthnRequest> {
    let compressed = decode_b64(saml_request)?;
    let mut out = Vec::new();
    flate2::read::DeflateDecoder::new(compressed.as_slice())
        .take(MAX_REQUEST_BYTES as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|_| bad("the request is not valid DEFLATE data"))?;
    if out.len() > MAX_REQUEST_BYTES {
        return Err(bad("the request is too large"));
    }
    parse_xml(&String::from_utf8(out).map_err(|_| bad("the request is not UTF-8"))?)
}

/// A request sent with the HTTP-POST binding (`SAMLRequest` form field).
pub fn parse_post(saml_request: &str) -> Result<ParsedAuthnRequest> {
    let raw = decode_b64(saml_request)?;
    if raw.len() > MAX_REQUEST_BYTES {
        return Err(bad("the request is too large"));
    }
    parse_xml(&String::from_utf8(raw).map_err(|_| bad("the request is not UTF-8"))?)
}

fn parse_xml(xml: &str) -> Result<ParsedAuthnRequest> {
    if xml.contains("<!DOCTYPE") || xml.contains("<!ENTITY") {
        return Err(bad("DTDs and entities are not accepted"));
    }
    let req: AuthnRequest = xml.parse().map_err(|_| bad("the request is not a SAML AuthnRequest"))?;
    if req.id.is_empty() || req.id.len() > 256 {
        return Err(bad("the request has no usable ID"));
    }
    Ok(ParsedAuthnRequest {
        id: req.id,
        issuer: req.issuer.and_then(|i| i.value).map(|v| v.trim().to_string()),
        acs_url: req.assertion_consumer_service_url,
        destination: req.destination,
        force_authn: req.force_authn.unwrap_or(false),
    })
}

/// Encode a request for the HTTP-Redirect binding (for tests and SP tooling).
pub fn encode_redirect(xml: &str) -> Result<String> {
    use std::io::Write;
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(xml.as_bytes()).map_err(|e| bad(e.to_string()))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(enc.finish().map_err(|e| bad(e.to_string()))?))
}

/// The XML-DSig URI of RSA-SHA256, the only query-signature algorithm accepted.
pub const SIGALG_RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";

/// Verify the signature of an HTTP-Redirect request (`SAMLRequest`, `RelayState`,
/// `SigAlg`, `Signature` in `path_and_query`, percent-encoded as received) with the SP's
/// certificate. Only RSA-SHA256 is accepted.
pub fn verify_redirect_signature(path_and_query: &str, sig_alg: Option<&str>, sp_cert_pem: &str) -> Result<()> {
    if sig_alg != Some(SIGALG_RSA_SHA256) {
        return Err(bad("the request must be signed with RSA-SHA256"));
    }
    if !path_and_query.contains("Signature=") {
        return Err(bad("the request is not signed"));
    }
    let verifier =
        samael::crypto::UrlVerifier::from_x509_cert_pem(sp_cert_pem).map_err(|e| bad(format!("the SP certificate cannot be used: {e}")))?;
    match verifier.verify_percent_encoded_request_uri_string(&path_and_query.to_string()) {
        Ok(true) => Ok(()),
        Ok(false) => Err(bad("the request's signature does not verify with the SP certificate")),
        Err(e) => Err(bad(format!("the request's signature cannot be checked: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQ: &str = r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_abc123" Version="2.0" IssueInstant="2026-11-24T05:00:00Z" Destination="https://idp/app/x/sso/saml" AssertionConsumerServiceURL="https://sp.example/acs"><saml:Issuer>https://sp.example</saml:Issuer></samlp:AuthnRequest>"#;

    #[test]
    fn both_bindings_parse() {
        let r = parse_redirect(&encode_redirect(REQ).unwrap_or_default()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.id, "_abc123");
        assert_eq!(r.issuer.as_deref(), Some("https://sp.example"));
        assert_eq!(r.acs_url.as_deref(), Some("https://sp.example/acs"));
        let p = parse_post(&base64::engine::general_purpose::STANDARD.encode(REQ)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p, r);
    }

    #[test]
    fn hostile_requests_are_refused() {
        assert!(parse_redirect("%%%not base64").is_err());
        assert!(parse_redirect(&base64::engine::general_purpose::STANDARD.encode(b"not deflate")).is_err());
        let doctype = format!("<!DOCTYPE x [<!ENTITY a \"b\">]>{REQ}");
        assert!(parse_post(&base64::engine::general_purpose::STANDARD.encode(doctype)).is_err());
        // a deflate bomb: inflates past the cap
        let bomb = encode_redirect(&"A".repeat(MAX_REQUEST_BYTES * 4)).unwrap_or_default();
        assert!(parse_redirect(&bomb).is_err());
        assert!(parse_post(&base64::engine::general_purpose::STANDARD.encode("<Response/>")).is_err());
    }
}
