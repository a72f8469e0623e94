//! The ACS's parse-and-verify entry point under libFuzzer: `UnverifiedResponse::from_xml`
//! (input that looks like XML) or `::from_base64` (anything else, as the `SAMLResponse`
//! form value), then `verify` against a fixed TrustPolicy that trusts only the committed
//! test-vector IdP certificate, at a fixed instant inside the vectors' validity window.
//!
//! Oracles: no panic, no sanitizer report, no hang (libFuzzer's timeouts); and an accepted
//! input must name a subject the trusted key really signed in the seeds (the vectors'
//! `sarah@example.com`, and the comment-injection seeds' `admin@example.com.evil.test`):
//! any other accepted NameID, `admin@example.com` above all, would be a forgery.
//!
//! Seeds: `crates/saml/tests/vectors` (signed by the xmlsec1 CLI and python3-saml) and
//! `crates/saml/tests/vectors/corpus` (every attack class, from interop/saml_idp/corpus.py).
#![no_main]

use chrono::{DateTime, Utc};
use idhub_saml::{Certificate, SignatureScope, TrustPolicy, UnverifiedResponse};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

const ISSUER: &str = "http://www.okta.com/exkSPOKE";
const ACS: &str = "https://hub.example/sso/saml2/0oaSPOKE";
const AUDIENCE: &str = "https://www.okta.com/saml2/service-provider/sphub";
const SIGNED_SUBJECTS: [&str; 2] = ["sarah@example.com", "admin@example.com.evil.test"];
const CERT: &str = include_str!("../../crates/saml/tests/vectors/test-idp.cert.pem");

fn policy() -> &'static (TrustPolicy, DateTime<Utc>) {
    static P: OnceLock<(TrustPolicy, DateTime<Utc>)> = OnceLock::new();
    P.get_or_init(|| {
        let cert = Certificate::from_pem(CERT).expect("the committed test certificate parses");
        let mut p = TrustPolicy::new(ISSUER, vec![cert], ACS, AUDIENCE);
        p.signature_scope = SignatureScope::Either;
        // The committed vectors and the generated corpus answer this request.
        p.request_id = Some("id_vector_request".into());
        p.allow_idp_initiated = true;
        let now = "2026-11-24T05:00:30Z".parse().expect("a fixed instant");
        (p, now)
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed =
        if text.trim_start().starts_with('<') { UnverifiedResponse::from_xml(text) } else { UnverifiedResponse::from_base64(text) };
    let Ok(unverified) = parsed else {
        return;
    };
    let (policy, now) = policy();
    match unverified.verify(policy, *now) {
        Ok(a) => {
            assert_eq!(a.issuer(), ISSUER, "accepted an assertion from another issuer");
            assert!(SIGNED_SUBJECTS.contains(&a.name_id().value.as_str()), "accepted a subject no trusted key signed: {:?}", a.name_id());
            assert!(a.response_signed() || a.assertion_signed(), "accepted an unsigned assertion");
        }
        Err(e) => {
            // every refusal has a stable reason code and a fixed summary
            assert!(!e.reason().is_empty() && !e.summary().is_empty());
        }
    }
});
