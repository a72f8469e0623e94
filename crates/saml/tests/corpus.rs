//! The generated negative corpus (`tests/vectors/corpus/`, written by
//! `interop/saml_idp/corpus.py` with the test-vector key: every class of saml-security.md,
//! built from Responses signed by the `xmlsec1` CLI and pysaml2) through the verifier as
//! the ACS receives it: each good file accepted, each other file refused with one of the
//! reason codes its MANIFEST.tsv line names. The hub-level run of the same generator is
//! interop/saml_idp/test_hub_negative.py; these files are also the fuzz seeds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;
use idhub_saml::verify_response;

#[test]
fn every_corpus_file_gets_the_verdict_its_manifest_names() {
    let idp = Idp::vector();
    let mut p = policy(&idp.cert);
    p.request_id = Some("id_vector_request".into());
    let manifest = vector("corpus/MANIFEST.tsv");
    let mut seen = 0;
    let mut wrong = Vec::new();
    for line in manifest.lines().filter(|l| !l.trim().is_empty()) {
        let (file, expect) = line.split_once('\t').unwrap_or_else(|| panic!("bad manifest line {line:?}"));
        let text = vector(&format!("corpus/{file}"));
        // .xml files are posted base64-encoded; .b64 files are the form value itself
        let form = if file.ends_with(".b64") { text.clone() } else { b64(&text) };
        let verdict = verify_response(&form, &p, now());
        let ok = match (&verdict, expect) {
            (Ok(a), "accept") => a.name_id().value == "sarah@example.com",
            (Err(e), codes) => codes.split(',').any(|c| c == e.reason()),
            (Ok(_), _) => false,
        };
        if !ok {
            wrong.push(format!("{file}: expected {expect}, got {:?}", verdict.map(|a| a.name_id().value.clone()).map_err(|e| e.reason())));
        }
        seen += 1;
    }
    assert!(seen >= 35, "the corpus has only {seen} files");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
