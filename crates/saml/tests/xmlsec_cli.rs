//! Interop with code nobody here wrote, both ways: the `xmlsec1` CLI verifies idhub-signed
//! Responses with the downloaded certificate (and refuses another certificate), and
//! Responses signed by the `xmlsec1` CLI (committed vectors, and templates signed now) or
//! by python3-saml (committed vector) are accepted by idhub's SP side.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;
use common::*;
use idhub_saml::{verify_response, SignatureScope};

#[test]
fn xmlsec1_verifies_every_signature_scope() {
    if !xmlsec1_available() {
        return;
    }
    let idp = Idp::new("idhub test");
    let other = Idp::new("someone else");
    let mut s = spec(true, true);
    s.name_id = "sarah@example.com<!-- not a comment -->&more".into();
    let both = signed(&idp, &s);
    assert!(xmlsec1_verifies(&both, &idp.cert_pem, RESPONSE_SIG), "response signature");
    assert!(xmlsec1_verifies(&both, &idp.cert_pem, ASSERTION_SIG), "assertion signature");
    assert!(!xmlsec1_verifies(&both, &other.cert_pem, RESPONSE_SIG), "another certificate is refused");
    assert!(!xmlsec1_verifies(&both, &other.cert_pem, ASSERTION_SIG), "another certificate is refused");
    let only_assertion = signed(&idp, &spec(false, true));
    assert!(xmlsec1_verifies(&only_assertion, &idp.cert_pem, ASSERTION_SIG));
    assert_eq!(only_assertion.matches("<ds:Signature xmlns").count(), 1);
    let only_response = signed(&idp, &spec(true, false));
    assert!(xmlsec1_verifies(&only_response, &idp.cert_pem, RESPONSE_SIG));
    assert_eq!(only_response.matches("<ds:Signature xmlns").count(), 1);
    // user data is escaped, never markup
    assert!(both.contains("sarah@example.com&lt;!-- not a comment --&gt;&amp;more"));
    assert!(!both.contains("<!-- not a comment -->"));
    // tampering breaks it
    let tampered = both.replace("Sarah &lt;", "Eve &lt;");
    assert_ne!(tampered, both);
    assert!(!xmlsec1_verifies(&tampered, &idp.cert_pem, ASSERTION_SIG));
    assert!(!xmlsec1_verifies(&tampered, &idp.cert_pem, RESPONSE_SIG));
}

fn vector_policy(idp: &Idp, scope: SignatureScope) -> idhub_saml::TrustPolicy {
    let mut p = policy(&idp.cert);
    p.allow_idp_initiated = false;
    p.request_id = Some("id_vector_request".into());
    p.signature_scope = scope;
    p
}

fn check_vector_assertion(a: &idhub_saml::VerifiedAssertion) {
    assert_eq!(a.assertion_id(), "id_vector_assertion");
    assert_eq!(a.issuer(), IDP_ISSUER);
    assert_eq!(a.name_id().value, "sarah@example.com");
    assert_eq!(a.session_index(), Some("id_vector_session"));
    assert_eq!(a.attribute("email"), Some("sarah@example.com"));
    assert_eq!(a.attributes()["groups"], vec!["Everyone".to_string(), "Engineering & Ops".to_string()]);
    assert_eq!(a.in_response_to(), Some("id_vector_request"));
    assert_eq!(a.not_on_or_after().to_rfc3339(), "2026-11-24T05:05:00+00:00");
}

#[test]
fn committed_vectors_signed_by_other_implementations_are_accepted() {
    let idp = Idp::vector();
    for (file, scope, response_signed, assertion_signed) in [
        ("signed-by-xmlsec1-assertion.xml", SignatureScope::Assertion, false, true),
        ("signed-by-xmlsec1-response.xml", SignatureScope::Response, true, false),
        ("signed-by-xmlsec1-both.xml", SignatureScope::Response, true, true),
        ("signed-by-xmlsec1-both.xml", SignatureScope::Assertion, true, true),
        ("signed-by-python3-saml-response.xml", SignatureScope::Response, true, false),
    ] {
        let a = verify_xml(&vector(file), &vector_policy(&idp, scope)).unwrap_or_else(|e| panic!("{file}: {e}"));
        check_vector_assertion(&a);
        assert_eq!((a.response_signed(), a.assertion_signed()), (response_signed, assertion_signed), "{file}");
    }
    // the same bytes against another certificate, or an hour later, are refused
    let attacker = Idp::attacker();
    let xml = vector("signed-by-xmlsec1-assertion.xml");
    assert_eq!(refusal(verify_xml(&xml, &vector_policy(&attacker, SignatureScope::Either))), "signature_invalid");
    let later = now() + chrono::Duration::hours(1);
    let r = verify_response(&b64(&xml), &vector_policy(&idp, SignatureScope::Either), later);
    assert_eq!(refusal(r), "expired");
}

#[test]
fn templates_signed_by_xmlsec1_now_are_accepted() {
    if !xmlsec1_available() {
        return;
    }
    let idp = Idp::new("spoke signed by the xmlsec1 CLI");
    let a = xmlsec1_sign(&vector("template-assertion-signed.xml"), &idp, ASSERTION_SIG);
    check_vector_assertion(&verify_xml(&a, &vector_policy(&idp, SignatureScope::Assertion)).unwrap());
    let r = xmlsec1_sign(&vector("template-response-signed.xml"), &idp, RESPONSE_SIG);
    check_vector_assertion(&verify_xml(&r, &vector_policy(&idp, SignatureScope::Response)).unwrap());
    let both = xmlsec1_sign(&xmlsec1_sign(&vector("template-both-signed.xml"), &idp, ASSERTION_SIG), &idp, RESPONSE_SIG);
    let v = verify_xml(&both, &vector_policy(&idp, SignatureScope::Either)).unwrap();
    assert!(v.response_signed() && v.assertion_signed());
    // and what idhub signs, xmlsec1 verifies, closing the loop
    assert!(xmlsec1_verifies(&both, &idp.cert_pem, RESPONSE_SIG));
}
