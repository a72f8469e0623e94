//! The negative set: every class of SAML consumer failure in `saml-security.md`, each
//! refused with its own reason code (unsigned, wrong key, KeyInfo key substitution,
//! signature wrapping, comment injection, SHA-1, times, audience/recipient/destination/
//! issuer, status, InResponseTo, DTDs, size, base64, missing certificate).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use chrono::Duration;
use common::*;
use idhub_saml::verify_response;

/// The first `<tag ...>...</tag>` block (by prefixed name) and where it sits.
fn block(xml: &str, open: &str, close: &str) -> (usize, usize) {
    let start = xml.find(open).unwrap_or_else(|| panic!("no {open}"));
    let end = xml[start..].find(close).unwrap_or_else(|| panic!("no {close}")) + start + close.len();
    (start, end)
}

fn assertion_of(xml: &str) -> &str {
    let (s, e) = block(xml, "<saml2:Assertion", "</saml2:Assertion>");
    &xml[s..e]
}

fn remove_signatures(xml: &str) -> String {
    let mut out = xml.to_string();
    while out.contains("<ds:Signature") {
        let (s, e) = block(&out, "<ds:Signature", "</ds:Signature>");
        out.replace_range(s..e, "");
    }
    out
}

fn attr_value<'a>(xml: &'a str, after: &str, name: &str) -> &'a str {
    let from = xml.find(after).unwrap() + after.len();
    let pat = format!(" {name}=\"");
    let s = xml[from..].find(&pat).unwrap() + from + pat.len();
    let e = xml[s..].find('"').unwrap() + s;
    &xml[s..e]
}

/// An unsigned copy of the Assertion, with a new ID and the NameID of someone else.
fn evil_assertion(signed_assertion: &str, new_id: &str) -> String {
    let old_id = attr_value(signed_assertion, "<saml2:Assertion", "ID");
    remove_signatures(signed_assertion)
        .replacen(&format!("ID=\"{old_id}\""), &format!("ID=\"{new_id}\""), 1)
        .replace("sarah@example.com", "admin@example.com")
}

fn insert_after(xml: &str, marker: &str, what: &str) -> String {
    let at = xml.find(marker).unwrap() + marker.len();
    format!("{}{what}{}", &xml[..at], &xml[at..])
}

#[test]
fn unsigned_is_refused() {
    let idp = Idp::new("spoke");
    let xml = remove_signatures(&signed(&idp, &spec(true, true)));
    assert!(!xml.contains("Signature"));
    assert_eq!(refusal(verify_xml(&xml, &policy(&idp.cert))), "unsigned");
}

#[test]
fn no_trusted_certificate_fails_closed_before_anything_else() {
    let idp = Idp::new("spoke");
    let mut p = policy(&idp.cert);
    p.certificates.clear();
    assert_eq!(refusal(verify_xml(&signed(&idp, &spec(true, true)), &p)), "no_trusted_certificate");
    assert_eq!(refusal(verify_xml(&remove_signatures(&signed(&idp, &spec(true, true))), &p)), "no_trusted_certificate");
    assert_eq!(refusal(verify_response("%%%", &p, now())), "no_trusted_certificate");
}

#[test]
fn wrong_key_and_keyinfo_substitution_are_refused() {
    let idp = Idp::new("spoke");
    let attacker = Idp::new("attacker");
    let p = policy(&idp.cert);
    // signed by the attacker, KeyInfo carrying the attacker's own certificate
    let own = signed(&attacker, &spec(true, true));
    assert!(own.contains(attacker.key.cert_b64()));
    assert_eq!(refusal(verify_xml(&own, &p)), "signature_invalid");
    // signed by the attacker, KeyInfo claiming the trusted certificate
    let lying = own.replace(attacker.key.cert_b64(), idp.key.cert_b64());
    assert_eq!(refusal(verify_xml(&lying, &p)), "signature_invalid");
    // KeyInfo plays no part at all: the genuine signature with the attacker's certificate
    // in KeyInfo still verifies against the configured certificate (one signature only: a
    // Response signature covers the Assertion's KeyInfo)
    let genuine = signed(&idp, &spec(true, false)).replace(idp.key.cert_b64(), attacker.key.cert_b64());
    verify_xml(&genuine, &p).unwrap();
}

#[test]
fn tampering_breaks_the_signature() {
    let idp = Idp::new("spoke");
    for (r, a) in [(true, true), (true, false), (false, true)] {
        let xml = signed(&idp, &spec(r, a)).replace(">sarah@example.com<", ">admin@example.com<");
        assert_eq!(refusal(verify_xml(&xml, &policy(&idp.cert))), "signature_invalid", "{r}/{a}");
    }
}

#[test]
fn wrapping_evil_assertion_before_the_signed_one() {
    let idp = Idp::new("spoke");
    let xml = signed(&idp, &spec(false, true));
    let evil = evil_assertion(assertion_of(&xml), "id_evil");
    let wrapped = insert_after(&xml, "</saml2p:Status>", &evil);
    assert_eq!(refusal(verify_xml(&wrapped, &policy(&idp.cert))), "multiple_assertions");
}

#[test]
fn wrapping_signed_assertion_moved_into_extensions() {
    let idp = Idp::new("spoke");
    let xml = signed(&idp, &spec(false, true));
    let genuine = assertion_of(&xml).to_string();
    // the evil assertion takes the genuine one's place, the genuine one hides in Extensions
    let evil = evil_assertion(&genuine, "id_evil");
    let moved = xml.replace(&genuine, &evil);
    let wrapped = insert_after(&moved, "</saml2:Issuer>", &format!("<saml2p:Extensions>{genuine}</saml2p:Extensions>"));
    assert_eq!(refusal(verify_xml(&wrapped, &policy(&idp.cert))), "multiple_assertions");
    // same with the evil assertion reusing the genuine ID: duplicate IDs are refused by the engine
    let genuine_id = attr_value(&genuine, "<saml2:Assertion", "ID");
    let same_id = evil_assertion(&genuine, genuine_id);
    let wrapped =
        insert_after(&xml.replace(&genuine, &same_id), "</saml2:Issuer>", &format!("<saml2p:Extensions>{genuine}</saml2p:Extensions>"));
    assert_eq!(refusal(verify_xml(&wrapped, &policy(&idp.cert))), "signature_invalid");
}

#[test]
fn wrapping_extra_unsigned_assertion_beside_a_signed_response() {
    let idp = Idp::new("spoke");
    // a signed Response: the extra Assertion changes what the Response signature covers
    let xml = signed(&idp, &spec(true, false));
    let evil = evil_assertion(assertion_of(&xml), "id_evil");
    let wrapped = insert_after(&xml, "</saml2:Assertion>", &evil);
    assert_eq!(refusal(verify_xml(&wrapped, &policy(&idp.cert))), "signature_invalid");
    // a signed Assertion in an unsigned Response: the extra one is refused by count
    let xml = signed(&idp, &spec(false, true));
    let wrapped = insert_after(&xml, "</saml2:Assertion>", &evil_assertion(assertion_of(&xml), "id_evil"));
    assert_eq!(refusal(verify_xml(&wrapped, &policy(&idp.cert))), "multiple_assertions");
}

#[test]
fn wrapping_evil_assertion_inside_the_signature_object() {
    let idp = Idp::new("spoke");
    let xml = signed(&idp, &spec(false, true));
    let evil = evil_assertion(assertion_of(&xml), "id_evil");
    // ds:Object inside the enveloped signature is outside every digest
    let wrapped = insert_after(&xml, "</ds:KeyInfo>", &format!("<ds:Object>{evil}</ds:Object>"));
    assert_eq!(refusal(verify_xml(&wrapped, &policy(&idp.cert))), "multiple_assertions");
}

#[test]
fn a_signature_over_extensions_only_is_not_a_signed_response() {
    let idp = Idp::new("spoke");
    let xml = remove_signatures(&signed(&idp, &spec(true, false)));
    let template = signed(&idp, &spec(true, false));
    let (s, e) = block(&template, "<ds:Signature", "</ds:Signature>");
    // a template of our own shape, re-pointed at the Extensions element
    let sig = template[s..e].to_string();
    let sig = {
        let uri = attr_value(&sig, "<ds:Reference", "URI").to_string();
        let mut t = sig.replacen(&format!("URI=\"{uri}\""), "URI=\"#id_ext\"", 1);
        let (ds, de) = block(&t, "<ds:DigestValue>", "</ds:DigestValue>");
        t.replace_range(ds..de, "<ds:DigestValue></ds:DigestValue>");
        let (ss, se) = block(&t, "<ds:SignatureValue>", "</ds:SignatureValue>");
        t.replace_range(ss..se, "<ds:SignatureValue></ds:SignatureValue>");
        t
    };
    let doc = insert_after(
        &xml,
        "</saml2:Issuer>",
        &format!("{sig}<saml2p:Extensions ID=\"id_ext\"><x xmlns=\"urn:x\">hello</x></saml2p:Extensions>"),
    );
    let signed_ext = sign_template(&doc, &idp);
    assert_eq!(refusal(verify_xml(&signed_ext, &policy(&idp.cert))), "signature_reference_invalid");
}

#[test]
fn comment_injection_cannot_shorten_the_name_id() {
    let idp = Idp::new("spoke");
    let mut s = spec(true, true);
    s.name_id = "user@evil.com.good.com".into();
    s.attributes[0].values = vec!["admin.not".into()];
    // exclusive C14N drops comments, so the digest still matches; the result must be the
    // full text or a refusal, never the part before the comment
    for (r, a) in [(true, true), (true, false), (false, true)] {
        let mut s = s.clone();
        (s.sign_response, s.sign_assertion) = (r, a);
        let injected = signed(&idp, &s)
            .replace(">user@evil.com.good.com<", ">user@evil.com<!---->.good.com<")
            .replace(">admin.not<", ">admin<!-- x -->.not<");
        assert_eq!(injected.matches("<!--").count(), 2);
        match verify_xml(&injected, &policy(&idp.cert)) {
            Ok(a) => {
                assert_eq!(a.name_id().value, "user@evil.com.good.com");
                assert_eq!(a.attribute("firstName"), Some("admin.not"));
            }
            Err(e) => {
                // what samael does today: the split text no longer matches the signed form
                assert_eq!(e.reason(), "signature_invalid", "{r}/{a}: {e}");
            }
        }
    }
}

/// Replace the Assertion's signature with a SHA-1 one made by the engine.
fn sha1_signed(idp: &Idp) -> String {
    let xml = signed(idp, &spec(false, true));
    let (s, e) = block(&xml, "<ds:Signature", "</ds:Signature>");
    let mut t = xml[s..e]
        .replace("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", "http://www.w3.org/2000/09/xmldsig#rsa-sha1")
        .replace("http://www.w3.org/2001/04/xmlenc#sha256", "http://www.w3.org/2000/09/xmldsig#sha1");
    let (ds, de) = block(&t, "<ds:DigestValue>", "</ds:DigestValue>");
    t.replace_range(ds..de, "<ds:DigestValue></ds:DigestValue>");
    let (ss, se) = block(&t, "<ds:SignatureValue>", "</ds:SignatureValue>");
    t.replace_range(ss..se, "<ds:SignatureValue></ds:SignatureValue>");
    let doc = format!("{}{t}{}", &xml[..s], &xml[e..]);
    sign_template(&doc, idp)
}

#[test]
fn sha1_only_where_explicitly_allowed() {
    let idp = Idp::new("spoke");
    let xml = sha1_signed(&idp);
    assert!(xml.contains("xmldsig#rsa-sha1") && !xml.contains("rsa-sha256"));
    let mut p = policy(&idp.cert);
    assert_eq!(refusal(verify_xml(&xml, &p)), "algorithm_not_allowed");
    p.allow_sha1 = true;
    verify_xml(&xml, &p).unwrap();
}

#[test]
fn unknown_transforms_are_never_run() {
    let idp = Idp::new("spoke");
    let xml = signed(&idp, &spec(false, true))
        .replace("http://www.w3.org/2000/09/xmldsig#enveloped-signature", "http://www.w3.org/TR/1999/REC-xslt-19991116");
    assert_eq!(refusal(verify_xml(&xml, &policy(&idp.cert))), "algorithm_not_allowed");
}

#[test]
fn validity_window_with_clock_skew() {
    let idp = Idp::new("spoke");
    let xml = signed(&idp, &spec(true, true));
    let p = policy(&idp.cert);
    let at = |t| verify_response(&b64(&xml), &p, t);
    // valid 5 minutes from issue, NotBefore one minute before it, 2 minutes of skew
    assert_eq!(refusal(at(issued() + Duration::minutes(8))), "expired");
    assert!(at(issued() + Duration::minutes(6)).is_ok(), "within the skew");
    assert_eq!(refusal(at(issued() - Duration::minutes(4))), "not_yet_valid");
    assert!(at(issued() - Duration::minutes(2)).is_ok(), "within the skew");
    let mut strict = p.clone();
    strict.max_clock_skew = Duration::zero();
    assert_eq!(refusal(verify_response(&b64(&xml), &strict, issued() + Duration::minutes(5))), "expired");
}

#[test]
fn audience_recipient_destination_issuer() {
    let idp = Idp::new("spoke");
    let p = policy(&idp.cert);
    let mut s = spec(true, true);
    s.audience = "https://other-sp.example".into();
    assert_eq!(refusal(verify_xml(&signed(&idp, &s), &p)), "audience_mismatch");
    let mut s = spec(true, true);
    s.acs_url = "https://evil.example/acs".into();
    assert_eq!(refusal(verify_xml(&signed(&idp, &s), &p)), "destination_mismatch");
    let mut s = spec(true, true);
    s.issuer = "http://www.okta.com/exkOTHER".into();
    assert_eq!(refusal(verify_xml(&signed(&idp, &s), &p)), "issuer_mismatch");
    // the Recipient alone: only the Assertion is signed and the (unsigned) Destination fits
    let mut s = spec(false, true);
    s.acs_url = "https://evil.example/acs".into();
    let xml = signed(&idp, &s).replacen("Destination=\"https://evil.example/acs\"", &format!("Destination=\"{ACS}\""), 1);
    assert_eq!(refusal(verify_xml(&xml, &p)), "recipient_mismatch");
    // an unsigned Response may drop Destination; a signed one may not
    let xml = signed(&idp, &spec(false, true)).replacen(&format!(" Destination=\"{ACS}\""), "", 1);
    verify_xml(&xml, &p).unwrap();
}

#[test]
fn status_must_be_success() {
    let idp = Idp::new("spoke");
    let p = policy(&idp.cert);
    // the status of an unsigned Response around a signed Assertion
    let xml = signed(&idp, &spec(false, true))
        .replace("urn:oasis:names:tc:SAML:2.0:status:Success", "urn:oasis:names:tc:SAML:2.0:status:Responder");
    assert_eq!(refusal(verify_xml(&xml, &p)), "status_not_success");
    // a failure answer with no Assertion at all
    let failure = r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="id_f" Version="2.0" IssueInstant="2026-11-24T05:00:00Z"><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Requester"><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:RequestDenied"/></samlp:StatusCode><samlp:StatusMessage>no</samlp:StatusMessage></samlp:Status></samlp:Response>"#;
    let e = verify_xml(failure, &p).unwrap_err();
    assert_eq!(e.reason(), "status_not_success");
    assert!(e.to_string().contains("RequestDenied"), "{e}");
}

#[test]
fn in_response_to_and_idp_initiated() {
    let idp = Idp::new("spoke");
    let mut s = spec(true, true);
    s.in_response_to = Some("id_unknown".into());
    let mut p = policy(&idp.cert);
    p.request_id = Some("id_sent".into());
    assert_eq!(refusal(verify_xml(&signed(&idp, &s), &p)), "in_response_to_mismatch");
    p.request_id = None;
    assert_eq!(refusal(verify_xml(&signed(&idp, &s), &p)), "in_response_to_mismatch", "answers nothing we sent");
    // unsolicited: only when IdP-initiated sign-on is allowed
    let unsolicited = signed(&idp, &spec(true, true));
    p.allow_idp_initiated = false;
    assert_eq!(refusal(verify_xml(&unsolicited, &p)), "idp_initiated_not_allowed");
    p.request_id = Some("id_sent".into());
    assert_eq!(refusal(verify_xml(&unsolicited, &p)), "in_response_to_mismatch");
    // an unsigned InResponseTo on the Response never makes a signed IdP-initiated Assertion solicited
    let bolted_on = signed(&idp, &spec(false, true)).replacen("<saml2p:Response ", "<saml2p:Response InResponseTo=\"id_sent\" ", 1);
    assert!(bolted_on.contains("InResponseTo=\"id_sent\""));
    assert_eq!(refusal(verify_xml(&bolted_on, &p)), "in_response_to_mismatch");
    p.allow_idp_initiated = true;
    assert_eq!(verify_xml(&bolted_on, &p).unwrap().in_response_to(), None);
}

#[test]
fn doctype_and_entities_are_refused() {
    let idp = Idp::new("spoke");
    let xml = signed(&idp, &spec(true, true));
    let body = xml.trim_start_matches("<?xml version=\"1.0\"?>");
    let doctype = format!("<!DOCTYPE r [<!ENTITY e \"sarah@example.com\">]>{body}");
    assert_eq!(refusal(verify_xml(&doctype, &policy(&idp.cert))), "doctype_forbidden");
    let xxe = format!("<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>{body}");
    assert_eq!(refusal(verify_xml(&xxe, &policy(&idp.cert))), "doctype_forbidden");
    let undefined = xml.replace(">sarah@example.com<", ">&x;<");
    assert_eq!(refusal(verify_xml(&undefined, &policy(&idp.cert))), "malformed_xml");
}

#[test]
fn size_and_encoding() {
    let idp = Idp::new("spoke");
    let p = policy(&idp.cert);
    let xml = signed(&idp, &spec(true, true));
    let padded = insert_after(&xml, "</saml2:Issuer>", &format!("<!--{}-->", "x".repeat(300 * 1024)));
    assert_eq!(refusal(verify_xml(&padded, &p)), "too_large");
    assert_eq!(refusal(verify_response("not*base64!", &p, now())), "bad_base64");
    assert_eq!(refusal(verify_response(&b64(&xml)[1..], &p, now())), "bad_base64");
    // line-wrapped base64 (as some senders post it) is fine
    let enc = b64(&xml);
    let wrapped: Vec<&str> = enc.as_bytes().chunks(76).map(|c| std::str::from_utf8(c).unwrap()).collect();
    verify_response(&wrapped.join("\r\n"), &p, now()).unwrap();
}
