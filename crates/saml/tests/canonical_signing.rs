//! The IdP writes its Responses directly in exclusive canonical form and signs the bytes
//! it wrote. These tests prove that against code nobody here wrote: libxmlsec1 (through
//! idhub's SP side and through the `xmlsec1` CLI) accepts Responses whose values carry
//! every character that escaping and canonicalization treat specially, and the digest
//! idhub emits is SHA-256 of libxml2's own exclusive C14N of the referenced element
//! (`xmlsec1 --verify --store-references` prints that canonical form).
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;
use base64::Engine;
use common::*;
use idhub_saml::response::Attribute;
use sha2::Digest;

/// Every character that escaping or canonicalization treats specially, line breaks of
/// each kind, a tab, non-ASCII from several planes and markup look-alikes.
const HOSTILE: &str = "a&b<c>d\"e'f\rg\r\nh\ti\nj ]]> &amp; <!-- x --> Zoë Łódź 日本語 😀 \u{a0}end";

fn hostile_spec(sign_response: bool, sign_assertion: bool) -> idhub_saml::response::ResponseSpec {
    let mut s = spec(sign_response, sign_assertion);
    s.name_id = format!("sarah{HOSTILE}@example.com");
    s.session_index = format!("id_session{HOSTILE}");
    s.attributes.push(Attribute {
        name: format!("weird{HOSTILE}"),
        name_format: "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified".into(),
        values: vec![HOSTILE.into(), format!("  {HOSTILE}\n"), "plain".into()],
    });
    s
}

const SCOPES: [(bool, bool); 3] = [(true, true), (false, true), (true, false)];

#[test]
fn libxmlsec1_accepts_hostile_values_in_every_signature_scope() {
    let idp = Idp::new("idhub test");
    for (rs, asg) in SCOPES {
        let s = hostile_spec(rs, asg);
        let xml = signed(&idp, &s);
        let a = verify_xml(&xml, &policy(&idp.cert)).unwrap_or_else(|e| panic!("({rs}, {asg}): {e}\n{xml}"));
        assert_eq!((a.response_signed(), a.assertion_signed()), (rs, asg));
        // values come back exactly (NameID is trimmed by the SP side, by design)
        assert_eq!(a.name_id().value, s.name_id.trim());
        let weird = &a.attributes()[&format!("weird{HOSTILE}")];
        assert_eq!(weird, &vec![HOSTILE.to_string(), format!("  {HOSTILE}\n"), "plain".to_string()]);
        assert_eq!(a.attribute("firstName"), Some("Sarah <\"Lee\"> & co"));
        // a changed character breaks it
        let tampered = xml.replacen("Zoë", "Zoe", 1);
        assert_ne!(tampered, xml);
        assert_eq!(refusal(verify_xml(&tampered, &policy(&idp.cert))), "signature_invalid", "({rs}, {asg})");
    }
}

#[test]
fn xmlsec1_cli_verifies_hostile_values_in_every_signature_scope() {
    if !xmlsec1_available() {
        return;
    }
    let idp = Idp::new("idhub test");
    let other = Idp::new("someone else");
    for (rs, asg) in SCOPES {
        let xml = signed(&idp, &hostile_spec(rs, asg));
        if rs {
            assert!(xmlsec1_verifies(&xml, &idp.cert_pem, RESPONSE_SIG), "response signature ({rs}, {asg})");
            assert!(!xmlsec1_verifies(&xml, &other.cert_pem, RESPONSE_SIG));
        }
        if asg {
            assert!(xmlsec1_verifies(&xml, &idp.cert_pem, ASSERTION_SIG), "assertion signature ({rs}, {asg})");
            assert!(!xmlsec1_verifies(&xml, &other.cert_pem, ASSERTION_SIG));
        }
    }
}

/// The canonical octets libxml2 produced for the one Reference of the signature at
/// `node_xpath` (what `--store-references` prints between its markers).
fn libxml2_reference_octets(xml: &str, cert_pem: &str, node_xpath: &str) -> Vec<u8> {
    let out = xmlsec1_verify_output(xml, cert_pem, node_xpath, &["--store-references", "--print-debug"]);
    assert!(out.status.success(), "xmlsec1: {}", String::from_utf8_lossy(&out.stderr));
    let text = out.stdout;
    let start_marker = b"== PreDigest data - start buffer:\n";
    let end_marker = b"\n== PreDigest data - end buffer";
    let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
    let start =
        find(&text, start_marker).unwrap_or_else(|| panic!("no PreDigest data in {}", String::from_utf8_lossy(&text))) + start_marker.len();
    let len = find(&text[start..], end_marker).expect("end of the PreDigest data");
    text[start..start + len].to_vec()
}

fn digest_values(xml: &str) -> Vec<String> {
    xml.match_indices("<ds:DigestValue>")
        .map(|(i, m)| {
            let rest = &xml[i + m.len()..];
            rest[..rest.find('<').unwrap()].to_string()
        })
        .collect()
}

#[test]
fn emitted_digests_equal_libxml2_exclusive_c14n_of_the_element() {
    if !xmlsec1_available() {
        return;
    }
    let idp = Idp::new("idhub test");
    for hostile in [false, true] {
        for (rs, asg) in SCOPES {
            let s = if hostile { hostile_spec(rs, asg) } else { spec(rs, asg) };
            let xml = signed(&idp, &s);
            // document order: the Response's signature (after the Response's Issuer) comes
            // before the Assertion's
            let digests = digest_values(&xml);
            let mut expected = vec![];
            if rs {
                expected.push(libxml2_reference_octets(&xml, &idp.cert_pem, RESPONSE_SIG));
            }
            if asg {
                expected.push(libxml2_reference_octets(&xml, &idp.cert_pem, ASSERTION_SIG));
            }
            assert_eq!(digests.len(), expected.len());
            for (emitted, octets) in digests.iter().zip(&expected) {
                let theirs = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(octets));
                assert_eq!(emitted, &theirs, "hostile={hostile} ({rs}, {asg})");
                // and the canonical form is the document's own bytes, minus what exclusive
                // C14N leaves out (the enveloped signature, the unused `xmlns:xs`)
                let octets = String::from_utf8(octets.clone()).unwrap();
                assert!(!octets.contains("xmlns:xs="));
            }
            if asg {
                let octets = String::from_utf8(expected.last().unwrap().clone()).unwrap();
                let start = xml.find("<saml2:Assertion ").unwrap();
                let end = xml.find("</saml2:Assertion>").unwrap() + "</saml2:Assertion>".len();
                let mut assertion = xml[start..end].replace(" xmlns:xs=\"http://www.w3.org/2001/XMLSchema\"", "");
                let sig_start = assertion.find("<ds:Signature ").unwrap();
                let sig_end = assertion.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
                assertion.replace_range(sig_start..sig_end, "");
                assert_eq!(assertion, octets, "the emitted Assertion is in libxml2's canonical form");
            }
        }
    }
}

#[test]
fn values_xml_cannot_carry_are_refused() {
    let idp = Idp::new("idhub test");
    let mut s = spec(false, true);
    s.name_id = "bell\u{7}".into();
    assert!(idhub_saml::response::sign_response(&s, &idp.key).is_err());
}
