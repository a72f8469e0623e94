//! Shared test helpers: fresh IdP keys, a Response spec and a trust policy that fit each
//! other at a fixed instant, the committed vectors, and the `xmlsec1` CLI.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{DateTime, Utc};
use idhub_saml::keys::{generate, Certificate, SigningKey};
use idhub_saml::response::{sign_response, Attribute, ResponseSpec, AC_PASSWORD};
use idhub_saml::{SamlError, SignatureScope, TrustPolicy, VerifiedAssertion};
use std::path::PathBuf;
use std::process::Command;

pub const IDP_ISSUER: &str = "http://www.okta.com/exkSPOKE";
pub const ACS: &str = "https://hub.example/sso/saml2/0oaSPOKE";
pub const AUDIENCE: &str = "https://www.okta.com/saml2/service-provider/sphub";

/// The instant every generated Response is issued at.
pub fn issued() -> DateTime<Utc> {
    "2026-11-24T05:00:00Z".parse().unwrap()
}

/// When the hub receives it (30 s later).
pub fn now() -> DateTime<Utc> {
    "2026-11-24T05:00:30Z".parse().unwrap()
}

/// An IdP key pair.
pub struct Idp {
    pub key_pem: String,
    pub cert_pem: String,
    pub key: SigningKey,
    pub cert: Certificate,
}

impl Idp {
    pub fn new(cn: &str) -> Idp {
        let (key_pem, cert_pem) = generate(cn, 30).unwrap();
        Idp::from_pem(key_pem, cert_pem)
    }

    pub fn from_pem(key_pem: String, cert_pem: String) -> Idp {
        let key = SigningKey::from_pem(&key_pem, &cert_pem).unwrap();
        let cert = key.certificate().clone();
        Idp { key_pem, cert_pem, key, cert }
    }

    /// The committed test-vector IdP (the key that signed `signed-by-xmlsec1-*.xml`).
    pub fn vector() -> Idp {
        Idp::from_pem(vector("test-idp.key.pem"), vector("test-idp.cert.pem"))
    }

    /// The committed attacker key.
    pub fn attacker() -> Idp {
        Idp::from_pem(vector("attacker.key.pem"), vector("attacker.cert.pem"))
    }
}

pub fn vector_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors").join(name)
}

pub fn vector(name: &str) -> String {
    std::fs::read_to_string(vector_path(name)).unwrap()
}

/// A Response the policy below accepts (IdP-initiated unless `in_response_to` is set).
pub fn spec(sign_response: bool, sign_assertion: bool) -> ResponseSpec {
    ResponseSpec {
        issuer: IDP_ISSUER.into(),
        acs_url: ACS.into(),
        audience: AUDIENCE.into(),
        name_id: "sarah@example.com".into(),
        name_id_format: idhub_saml::NAMEID_UNSPECIFIED.into(),
        in_response_to: None,
        session_index: "id_session_1".into(),
        authn_context: AC_PASSWORD.into(),
        attributes: vec![
            Attribute {
                name: "firstName".into(),
                name_format: "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified".into(),
                values: vec!["Sarah <\"Lee\"> & co".into()],
            },
            Attribute {
                name: "groups".into(),
                name_format: "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified".into(),
                values: vec!["Everyone".into(), "Engineering".into()],
            },
        ],
        now_ms: issued().timestamp_millis(),
        validity_ms: 5 * 60 * 1000,
        sign_response,
        sign_assertion,
    }
}

/// Signed Response XML from idhub's IdP side.
pub fn signed(idp: &Idp, spec: &ResponseSpec) -> String {
    sign_response(spec, &idp.key).unwrap().xml
}

/// The policy of the hub for this spoke, trusting `cert`.
pub fn policy(cert: &Certificate) -> TrustPolicy {
    let mut p = TrustPolicy::new(IDP_ISSUER, vec![cert.clone()], ACS, AUDIENCE);
    p.allow_idp_initiated = true;
    p.signature_scope = SignatureScope::Either;
    p
}

pub fn b64(xml: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(xml.as_bytes())
}

/// Verify XML text as the ACS would receive it.
pub fn verify_xml(xml: &str, policy: &TrustPolicy) -> Result<VerifiedAssertion, SamlError> {
    idhub_saml::verify_response(&b64(xml), policy, now())
}

/// The reason code of a refusal (panics when it was accepted).
pub fn refusal(r: Result<VerifiedAssertion, SamlError>) -> &'static str {
    match r {
        Ok(a) => panic!("accepted, but should have been refused: {a:?}"),
        Err(e) => e.reason(),
    }
}

/// Sign the first empty `ds:Signature` template of `xml` with `idp`'s key, using the
/// signature engine directly (for documents idhub's IdP side would never produce).
pub fn sign_template(xml: &str, idp: &Idp) -> String {
    use samael::crypto::{Crypto, CryptoProvider};
    let der = openssl::pkey::PKey::private_key_from_pem(idp.key_pem.as_bytes()).unwrap().private_key_to_der().unwrap();
    Crypto::sign_xml(xml, &der).unwrap()
}

/// Is the `xmlsec1` CLI here? (Under CI=true it must be.)
pub fn xmlsec1_available() -> bool {
    let ok = Command::new("xmlsec1").arg("--version").output().map(|o| o.status.success()).unwrap_or(false);
    if !ok {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but xmlsec1 is missing");
        eprintln!("\n*** SKIPPED: xmlsec1 CLI not installed (apt-get install xmlsec1) ***\n");
    }
    ok
}

pub const ID_ATTRS: [&str; 4] =
    ["--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:protocol:Response", "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion"];

/// A scratch directory of this test's own, removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        use rand::RngCore;
        let dir = std::env::temp_dir().join(format!("idhub-saml-{tag}-{}-{:016x}", std::process::id(), rand::thread_rng().next_u64()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    pub fn write(&self, name: &str, content: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, content).unwrap();
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `xmlsec1 --verify` of the signature at `node_xpath` with `cert_pem`.
pub fn xmlsec1_verifies(xml: &str, cert_pem: &str, node_xpath: &str) -> bool {
    xmlsec1_verify_output(xml, cert_pem, node_xpath, &[]).status.success()
}

/// `xmlsec1 --verify [extra…]` of the signature at `node_xpath` with `cert_pem`: its output.
pub fn xmlsec1_verify_output(xml: &str, cert_pem: &str, node_xpath: &str, extra: &[&str]) -> std::process::Output {
    let dir = Scratch::new("verify");
    let doc = dir.write("r.xml", xml);
    let cert = dir.write("c.pem", cert_pem);
    Command::new("xmlsec1")
        .arg("--verify")
        .args(["--enabled-reference-uris", "same-doc"])
        .args(extra)
        .args(ID_ATTRS)
        .args(["--node-xpath", node_xpath, "--pubkey-cert-pem"])
        .arg(cert)
        .arg(doc)
        .output()
        .unwrap()
}

/// `xmlsec1 --sign` of the template at `node_xpath` with `idp`'s key.
pub fn xmlsec1_sign(template: &str, idp: &Idp, node_xpath: &str) -> String {
    let dir = Scratch::new("sign");
    let doc = dir.write("t.xml", template);
    let key = dir.write("k.pem", &idp.key_pem);
    let cert = dir.write("c.pem", &idp.cert_pem);
    let out_path = dir.0.join("out.xml");
    let out = Command::new("xmlsec1")
        .arg("--sign")
        .args(ID_ATTRS)
        .args(["--node-xpath", node_xpath, "--privkey-pem"])
        .arg(format!("{},{}", key.display(), cert.display()))
        .arg("--output")
        .arg(&out_path)
        .arg(doc)
        .output()
        .unwrap();
    assert!(out.status.success(), "xmlsec1 --sign failed: {}", String::from_utf8_lossy(&out.stderr));
    std::fs::read_to_string(out_path).unwrap()
}

pub const RESPONSE_SIG: &str = "/*[local-name()='Response']/*[local-name()='Signature']";
pub const ASSERTION_SIG: &str = "//*[local-name()='Assertion']/*[local-name()='Signature']";
