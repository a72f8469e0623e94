//! AuthnRequests both ways (the hub builds them as an SP, the IdP side reads them and
//! checks the HTTP-Redirect query signature) and metadata both ways (IdP and SP metadata
//! written, IdP metadata read into a trust policy that then verifies a Response).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;
use idhub_saml::authn_request::{build_authn_request, AuthnRequestSpec};
use idhub_saml::metadata::{idp_metadata, parse_idp_metadata, sp_metadata, SpMetadataSpec};
use idhub_saml::request::{parse_post, parse_redirect, verify_redirect_query, verify_redirect_signature};
use idhub_saml::{TrustPolicy, ALG_RSA_SHA1};
use std::process::Command;

const IDP_SSO: &str = "https://spoke.example/app/okta_org2org/exkSPOKE/sso/saml";

fn request_spec() -> AuthnRequestSpec {
    AuthnRequestSpec {
        issuer: AUDIENCE.into(),
        destination: IDP_SSO.into(),
        acs_url: ACS.into(),
        name_id_format: Some(idhub_saml::NAMEID_UNSPECIFIED.into()),
        force_authn: true,
        now: now(),
    }
}

/// The value of a query parameter, percent-decoded.
fn param(url: &str, name: &str) -> Option<String> {
    let q = url.split_once('?')?.1;
    q.split('&').find_map(|kv| kv.strip_prefix(&format!("{name}="))).map(|v| {
        let bytes = v.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                out.push(u8::from_str_radix(&v[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    })
}

#[test]
fn authn_requests_round_trip_through_both_bindings() {
    let sp = Idp::new("hub sp");
    let req = build_authn_request(&request_spec()).unwrap();
    assert!(req.id().starts_with("id") && req.id().len() > 20);
    // HTTP-POST, unsigned and signed
    for key in [None, Some(&sp.key)] {
        let parsed = parse_post(&req.post_form_value(key).unwrap()).unwrap();
        assert_eq!(parsed.id, req.id());
        assert_eq!(parsed.issuer.as_deref(), Some(AUDIENCE));
        assert_eq!(parsed.acs_url.as_deref(), Some(ACS));
        assert_eq!(parsed.destination.as_deref(), Some(IDP_SSO));
        assert_eq!(parsed.name_id_policy_format.as_deref(), Some(idhub_saml::NAMEID_UNSPECIFIED));
        assert!(parsed.force_authn);
    }
    // HTTP-Redirect, signed: the IdP side parses it and checks the query signature
    let url = req.redirect_url(Some("https://hub.example/app/x?y=1&z=2"), Some(&sp.key)).unwrap();
    assert!(url.starts_with(&format!("{IDP_SSO}?SAMLRequest=")));
    assert_eq!(param(&url, "RelayState").as_deref(), Some("https://hub.example/app/x?y=1&z=2"));
    let parsed = parse_redirect(&param(&url, "SAMLRequest").unwrap()).unwrap();
    assert_eq!(parsed.id, req.id());
    verify_redirect_query(&url, &sp.cert, false).unwrap();
    let path_and_query = &url["https://spoke.example".len()..];
    verify_redirect_signature(path_and_query, Some(idhub_saml::ALG_RSA_SHA256), &sp.cert_pem).unwrap();
    // tampering, another certificate, an unsigned URL
    let tampered = url.replace("RelayState=https", "RelayState=http");
    assert_eq!(verify_redirect_query(&tampered, &sp.cert, false).unwrap_err().reason(), "signature_invalid");
    assert_eq!(verify_redirect_query(&url, &Idp::new("other").cert, false).unwrap_err().reason(), "signature_invalid");
    let unsigned = req.redirect_url(None, None).unwrap();
    assert_eq!(verify_redirect_query(&unsigned, &sp.cert, false).unwrap_err().reason(), "unsigned");
    assert_eq!(verify_redirect_signature(&unsigned, None, &sp.cert_pem).unwrap_err().reason(), "unsigned");
    // a duplicated parameter is never resolved one way or the other
    let doubled = format!("{url}&RelayState=other");
    assert_eq!(verify_redirect_query(&doubled, &sp.cert, false).unwrap_err().reason(), "malformed_xml");
}

#[test]
fn a_signed_post_request_verifies_with_xmlsec1() {
    if !xmlsec1_available() {
        return;
    }
    let sp = Idp::new("hub sp");
    let req = build_authn_request(&request_spec()).unwrap();
    let xml = {
        use base64::Engine;
        String::from_utf8(base64::engine::general_purpose::STANDARD.decode(req.post_form_value(Some(&sp.key)).unwrap()).unwrap()).unwrap()
    };
    let after_issuer = xml.split("</saml:Issuer>").nth(1).unwrap();
    assert!(after_issuer.starts_with("<ds:Signature"), "signature right after Issuer");
    let dir = Scratch::new("authnrequest");
    let out = Command::new("xmlsec1")
        .args(["--verify", "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:protocol:AuthnRequest", "--pubkey-cert-pem"])
        .arg(dir.write("c.pem", &sp.cert_pem))
        .arg(dir.write("r.xml", &xml))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Sign `string` with the `openssl` CLI (an independent signer), base64.
fn openssl_cli_sign(string: &str, key_pem: &str, digest: &str) -> Option<String> {
    let dir = Scratch::new("openssl");
    let key = dir.write("k.pem", key_pem);
    let data = dir.write("d.txt", string);
    let out = Command::new("openssl").args(["dgst", digest, "-sign"]).arg(key).arg(data).output().ok()?;
    out.status.success().then(|| {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(out.stdout)
    })
}

fn enc(s: &str, lower: bool) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => char::from(b).to_string(),
            _ if lower => format!("%{b:02x}"),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn query_signatures_from_another_signer_and_encoding() {
    let sp = Idp::new("python-like sp");
    let saml_request = idhub_saml::request::encode_redirect(build_authn_request(&request_spec()).unwrap().xml()).unwrap();
    // signed over lower-case escapes and sent exactly so: verified as received
    let signed = format!(
        "SAMLRequest={}&RelayState={}&SigAlg={}",
        enc(&saml_request, true),
        enc("a b/c", true),
        enc(idhub_saml::ALG_RSA_SHA256, true)
    );
    let Some(sig) = openssl_cli_sign(&signed, &sp.key_pem, "-sha256") else {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but the openssl CLI is missing");
        return;
    };
    let query = format!("{signed}&Signature={}", enc(&sig, true));
    verify_redirect_query(&query, &sp.cert, false).unwrap();
    // signed over upper-case escapes, rewritten to lower case on the way: the canonical form verifies
    let signed_upper = format!(
        "SAMLRequest={}&RelayState={}&SigAlg={}",
        enc(&saml_request, false),
        enc("a b/c", false),
        enc(idhub_saml::ALG_RSA_SHA256, false)
    );
    let sig = openssl_cli_sign(&signed_upper, &sp.key_pem, "-sha256").unwrap();
    verify_redirect_query(&format!("{signed}&Signature={}", enc(&sig, false)), &sp.cert, false).unwrap();
    // RSA-SHA1 only where allowed
    let signed_sha1 = format!("SAMLRequest={}&SigAlg={}", enc(&saml_request, false), enc(ALG_RSA_SHA1, false));
    let sig = openssl_cli_sign(&signed_sha1, &sp.key_pem, "-sha1").unwrap();
    let query = format!("{signed_sha1}&Signature={}", enc(&sig, false));
    assert_eq!(verify_redirect_query(&query, &sp.cert, false).unwrap_err().reason(), "algorithm_not_allowed");
    verify_redirect_query(&query, &sp.cert, true).unwrap();
    assert_eq!(verify_redirect_signature(&query, Some(ALG_RSA_SHA1), &sp.cert_pem).unwrap_err().reason(), "algorithm_not_allowed");
}

#[test]
fn a_truncated_deflate_stream_is_refused() {
    let full = idhub_saml::request::encode_redirect(build_authn_request(&request_spec()).unwrap().xml()).unwrap();
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD.decode(&full).unwrap();
    let truncated = base64::engine::general_purpose::STANDARD.encode(&bytes[..bytes.len() / 2]);
    let r = parse_redirect(&truncated).unwrap_err();
    assert!(matches!(r.reason(), "bad_deflate" | "malformed_xml"), "{r}");
}

#[test]
fn idp_metadata_round_trips_into_a_trust_policy() {
    let idp = Idp::new("spoke");
    let xml = idp_metadata(IDP_ISSUER, IDP_SSO, idp.key.cert_b64(), &[idhub_saml::NAMEID_UNSPECIFIED]).unwrap();
    let md = parse_idp_metadata(&xml).unwrap();
    assert_eq!(md.entity_id, IDP_ISSUER);
    assert_eq!(md.sso_post_url.as_deref(), Some(IDP_SSO));
    assert_eq!(md.sso_redirect_url.as_deref(), Some(IDP_SSO));
    assert_eq!(md.signing_certificates, vec![idp.cert.clone()]);
    assert_eq!(md.name_id_formats, vec![idhub_saml::NAMEID_UNSPECIFIED.to_string()]);
    let mut p = TrustPolicy::new(md.entity_id, md.signing_certificates, ACS, AUDIENCE);
    p.allow_idp_initiated = true;
    verify_xml(&signed(&idp, &spec(true, true)), &p).unwrap();
}

#[test]
fn partner_metadata_keys_without_use_sign_and_encryption_keys_never_do() {
    let md = parse_idp_metadata(&vector("idp-metadata.xml")).unwrap();
    let vector_idp = Idp::vector();
    assert_eq!(md.signing_certificates, vec![vector_idp.cert.clone()], "the use-less key only; not the encryption key");
    assert!(md.want_authn_requests_signed);
    assert_eq!(md.sso_redirect_url.as_deref(), Some("https://spoke.example/app/okta_org2org/exkSPOKE/sso/saml?binding=redirect"));
    // a Response signed with the encryption key's private key is refused
    let attacker = Idp::attacker();
    let mut p = TrustPolicy::new(md.entity_id.clone(), md.signing_certificates.clone(), ACS, AUDIENCE);
    p.allow_idp_initiated = true;
    assert_eq!(refusal(verify_xml(&signed(&attacker, &spec(true, true)), &p)), "signature_invalid");
    verify_xml(&signed(&vector_idp, &spec(true, true)), &p).unwrap();
    // only an encryption key: no usable metadata
    let only_encryption = vector("idp-metadata.xml").replacen("<md:KeyDescriptor>", "<md:KeyDescriptor use=\"encryption\">", 1);
    assert_eq!(parse_idp_metadata(&only_encryption).unwrap_err().reason(), "metadata_invalid");
}

#[test]
fn hostile_metadata_is_refused() {
    let good = vector("idp-metadata.xml");
    let js = good.replacen("Location=\"https://spoke.example", "Location=\"javascript:alert(1)//", 1);
    assert_eq!(parse_idp_metadata(&js).unwrap_err().reason(), "metadata_invalid");
    let dtd = good.replacen("<md:EntityDescriptor", "<!DOCTYPE x [<!ENTITY e \"e\">]><md:EntityDescriptor", 1);
    assert_eq!(parse_idp_metadata(&dtd).unwrap_err().reason(), "doctype_forbidden");
    let body = good.trim_start_matches("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    let two = format!(
        "<md:EntitiesDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\">{body}{}</md:EntitiesDescriptor>",
        body.replace("exkSPOKE\"", "exkOTHER\"")
    );
    assert_eq!(parse_idp_metadata(&two).unwrap_err().reason(), "metadata_invalid");
    let one = format!("<md:EntitiesDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\">{body}</md:EntitiesDescriptor>");
    assert_eq!(parse_idp_metadata(&one).unwrap().entity_id, IDP_ISSUER);
    let bad_cert = good.replacen("<ds:X509Certificate>\nMII", "<ds:X509Certificate>\nXII", 1);
    assert_ne!(bad_cert, good);
    assert_eq!(parse_idp_metadata(&bad_cert).unwrap_err().reason(), "metadata_invalid");
    assert_eq!(parse_idp_metadata("<nope/>").unwrap_err().reason(), "unexpected_message");
}

#[test]
fn sp_metadata_is_read_by_another_parser() {
    let sp = Idp::new("hub sp");
    let xml = sp_metadata(&SpMetadataSpec {
        entity_id: AUDIENCE,
        acs_url: ACS,
        authn_requests_signed: true,
        want_assertions_signed: true,
        signing_certificate: Some(&sp.cert),
        name_id_format: Some(idhub_saml::NAMEID_UNSPECIFIED),
    })
    .unwrap();
    let ed: samael::metadata::EntityDescriptor = xml.parse().unwrap();
    assert_eq!(ed.entity_id.as_deref(), Some(AUDIENCE));
    let sp_sso = &ed.sp_sso_descriptors.as_ref().unwrap()[0];
    assert_eq!(sp_sso.authn_requests_signed, Some(true));
    assert_eq!(sp_sso.assertion_consumer_services[0].location, ACS);
    assert_eq!(sp_sso.assertion_consumer_services[0].binding, idhub_saml::BINDING_POST);
    let kd = &sp_sso.key_descriptors.as_ref().unwrap()[0];
    assert_eq!(kd.key_use.as_deref(), Some("signing"));
    assert_eq!(kd.key_info.x509_data.as_ref().unwrap().certificates[0], sp.key.cert_b64());
}
