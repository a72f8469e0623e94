//! idhub's signed Responses are verified by code nobody here wrote: the `xmlsec1` CLI,
//! with the downloaded certificate; a different certificate is refused.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use idhub_saml::keys::{generate, SigningKey};
use idhub_saml::response::{signed_response, Attribute, ResponseSpec, AC_PASSWORD};
use std::process::Command;

fn xmlsec1_available() -> bool {
    let ok = Command::new("xmlsec1").arg("--version").output().map(|o| o.status.success()).unwrap_or(false);
    if !ok {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but xmlsec1 is missing");
        eprintln!("\n*** SKIPPED: xmlsec1 CLI not installed (apt-get install xmlsec1) ***\n");
    }
    ok
}

fn spec(sign_response: bool, sign_assertion: bool) -> ResponseSpec {
    ResponseSpec {
        issuer: "http://127.0.0.1:9/app/0oaTEST".into(),
        acs_url: "https://sp.example/acs".into(),
        audience: "https://sp.example".into(),
        name_id: "sarah@example.com<!-- not a comment -->&more".into(),
        name_id_format: "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified".into(),
        in_response_to: None,
        session_index: "_s1".into(),
        authn_context: AC_PASSWORD.into(),
        attributes: vec![Attribute {
            name: "firstName".into(),
            name_format: "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified".into(),
            values: vec!["Sarah <\"Lee\">".into()],
        }],
        now_ms: chrono::Utc::now().timestamp_millis(),
        validity_ms: 300_000,
        sign_response,
        sign_assertion,
    }
}

fn verify(xml: &str, cert_pem: &str, node: &str) -> bool {
    let dir = std::env::temp_dir().join(format!("idhub-xmlsec-{}", rand_suffix()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("r.xml"), xml).unwrap();
    std::fs::write(dir.join("c.pem"), cert_pem).unwrap();
    let out = Command::new("xmlsec1")
        .args([
            "--verify",
            "--enabled-reference-uris",
            "same-doc",
            "--id-attr:ID",
            "urn:oasis:names:tc:SAML:2.0:protocol:Response",
            "--id-attr:ID",
            "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
        ])
        .args(["--node-xpath", node, "--pubkey-cert-pem"])
        .arg(dir.join("c.pem"))
        .arg(dir.join("r.xml"))
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    out.status.success()
}

fn rand_suffix() -> String {
    format!("{}-{:?}", std::process::id(), std::thread::current().id()).replace(['(', ')'], "")
}

const RESPONSE_SIG: &str = "/*[local-name()='Response']/*[local-name()='Signature']";
const ASSERTION_SIG: &str = "//*[local-name()='Assertion']/*[local-name()='Signature']";

#[test]
fn xmlsec1_verifies_every_signature_scope() {
    if !xmlsec1_available() {
        return;
    }
    let (key, cert) = generate("idhub test", 30).unwrap();
    let (_, other_cert) = generate("someone else", 30).unwrap();
    let k = SigningKey::from_pem(&key, &cert).unwrap();
    let both = signed_response(&spec(true, true), &k).unwrap();
    assert!(verify(&both, &cert, RESPONSE_SIG), "response signature");
    assert!(verify(&both, &cert, ASSERTION_SIG), "assertion signature");
    assert!(!verify(&both, &other_cert, RESPONSE_SIG), "another certificate is refused");
    // the signature sits right after Issuer
    let after_issuer = both.split("</saml2:Issuer>").nth(1).unwrap();
    assert!(after_issuer.starts_with("<ds:Signature"));
    let only_assertion = signed_response(&spec(false, true), &k).unwrap();
    assert!(verify(&only_assertion, &cert, ASSERTION_SIG));
    assert_eq!(only_assertion.matches("<ds:Signature xmlns").count(), 1);
    let only_response = signed_response(&spec(true, false), &k).unwrap();
    assert!(verify(&only_response, &cert, RESPONSE_SIG));
    // user data is escaped, never markup
    assert!(both.contains("sarah@example.com&lt;!-- not a comment --&gt;&amp;more"));
    assert!(!both.contains("<!-- not a comment -->"));
    // tampering breaks it
    let tampered = both.replace("Sarah &lt;", "Eve &lt;");
    assert!(!verify(&tampered, &cert, ASSERTION_SIG));
    assert!(signed_response(&spec(false, false), &k).is_err());
}
