//! idhub's IdP side signs, idhub's SP side verifies: every signature scope the IdP can
//! produce is accepted under the matching policy, and the values come out exactly as they
//! went in (escaping included).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;
use idhub_saml::response::{sign_response, AC_MFA};
use idhub_saml::{SignatureScope, UnverifiedResponse};

#[test]
fn every_scope_round_trips() {
    let idp = Idp::new("spoke");
    for (sign_response, sign_assertion) in [(true, true), (true, false), (false, true)] {
        let xml = signed(&idp, &spec(sign_response, sign_assertion));
        for scope in [SignatureScope::Response, SignatureScope::Assertion, SignatureScope::Either] {
            let mut p = policy(&idp.cert);
            p.signature_scope = scope;
            let r = verify_xml(&xml, &p);
            let covered = match scope {
                SignatureScope::Response => sign_response,
                SignatureScope::Assertion => sign_assertion,
                SignatureScope::Either => true,
            };
            if covered {
                let a = r.unwrap_or_else(|e| panic!("{sign_response}/{sign_assertion} under {scope:?}: {e}"));
                assert_eq!(a.response_signed(), sign_response);
                assert_eq!(a.assertion_signed(), sign_assertion);
            } else {
                assert_eq!(refusal(r), "unsigned", "{sign_response}/{sign_assertion} under {scope:?}");
            }
        }
    }
}

#[test]
fn values_come_out_as_they_went_in() {
    let idp = Idp::new("spoke");
    let mut s = spec(true, true);
    s.name_id = "sarah+<tag>&\"x\"@example.com".into();
    s.authn_context = AC_MFA.into();
    let signed = sign_response(&s, &idp.key).unwrap();
    let a = idhub_saml::verify_response(&signed.base64(), &policy(&idp.cert), now()).unwrap();
    assert_eq!(a.assertion_id(), signed.assertion_id);
    assert_eq!(a.issuer(), IDP_ISSUER);
    assert_eq!(a.name_id().value, "sarah+<tag>&\"x\"@example.com");
    assert_eq!(a.name_id().format.as_deref(), Some(idhub_saml::NAMEID_UNSPECIFIED));
    assert_eq!(a.session_index(), Some("id_session_1"));
    assert_eq!(a.authn_context_class(), Some(AC_MFA));
    assert_eq!(a.authn_instant(), Some(issued()));
    assert_eq!(a.attribute("firstName"), Some("Sarah <\"Lee\"> & co"));
    assert_eq!(a.attributes()["groups"], vec!["Everyone".to_string(), "Engineering".to_string()]);
    assert_eq!(a.not_on_or_after(), issued() + chrono::Duration::minutes(5));
    assert_eq!(a.remember_until(), a.not_on_or_after() + chrono::Duration::minutes(2));
    assert_eq!(a.in_response_to(), None);
}

#[test]
fn sp_initiated_answers_the_outstanding_request() {
    let idp = Idp::new("spoke");
    let mut s = spec(true, true);
    s.in_response_to = Some("id_req_42".into());
    let xml = signed(&idp, &s);
    let mut p = policy(&idp.cert);
    p.allow_idp_initiated = false;
    p.request_id = Some("id_req_42".into());
    assert_eq!(verify_xml(&xml, &p).unwrap().in_response_to(), Some("id_req_42"));
    // with IdP-initiated allowed, a Response that answers a request is still checked
    p.allow_idp_initiated = true;
    p.request_id = Some("id_req_other".into());
    assert_eq!(refusal(verify_xml(&xml, &p)), "in_response_to_mismatch");
}

#[test]
fn no_attributes_means_no_attribute_statement() {
    let idp = Idp::new("spoke");
    let mut s = spec(false, true);
    s.attributes.clear();
    let xml = signed(&idp, &s);
    assert!(!xml.contains("AttributeStatement"));
    let a = verify_xml(&xml, &policy(&idp.cert)).unwrap();
    assert!(a.attributes().is_empty());
}

#[test]
fn the_signature_sits_right_after_issuer_with_the_required_algorithms() {
    let idp = Idp::new("spoke");
    let xml = signed(&idp, &spec(true, true));
    for part in xml.split("</saml2:Issuer>").skip(1) {
        assert!(part.starts_with("<ds:Signature"), "{part:.80}");
    }
    assert_eq!(xml.matches("xmldsig-more#rsa-sha256").count(), 2);
    assert_eq!(xml.matches("xmlenc#sha256").count(), 2);
    assert_eq!(xml.matches("<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"").count(), 2);
    assert!(xml.contains("Destination=\"https://hub.example/sso/saml2/0oaSPOKE\""));
    assert!(sign_response(&spec(false, false), &idp.key).is_err());
}

#[test]
fn a_rotated_certificate_list_accepts_either_key() {
    let (old, new) = (Idp::new("old"), Idp::new("new"));
    let mut p = policy(&old.cert);
    p.certificates.push(new.cert.clone());
    for idp in [&old, &new] {
        verify_xml(&signed(idp, &spec(true, true)), &p).unwrap();
    }
}

#[test]
fn the_typed_path_and_the_function_agree() {
    let idp = Idp::new("spoke");
    let xml = signed(&idp, &spec(true, false));
    let via_type = UnverifiedResponse::from_xml(&xml).unwrap().verify(&policy(&idp.cert), now()).unwrap();
    assert_eq!(via_type, verify_xml(&xml, &policy(&idp.cert)).unwrap());
}
