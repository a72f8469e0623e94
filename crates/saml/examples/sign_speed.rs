//! Signs Responses in a loop and prints the rate: how fast the signing step alone is
//! (compare with `openssl speed rsa2048` on one core), and one raw openssl signature with
//! the same key for comparison.
use idhub_saml::keys::{generate, SigningKey};
use idhub_saml::response::{signed_response, ResponseSpec, AC_PASSWORD};

fn main() {
    let Ok((key, cert)) = generate("bench", 30) else { return };
    let Ok(k) = SigningKey::from_pem(&key, &cert) else { return };
    let spec = ResponseSpec {
        issuer: "http://idp/app/x".into(),
        acs_url: "https://sp.example/acs".into(),
        audience: "https://sp.example".into(),
        name_id: "sarah@example.com".into(),
        name_id_format: "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified".into(),
        in_response_to: None,
        session_index: "s".into(),
        authn_context: AC_PASSWORD.into(),
        attributes: vec![],
        now_ms: 1_800_000_000_000,
        validity_ms: 300_000,
        sign_response: false,
        sign_assertion: true,
    };
    let n = 500;
    let t = std::time::Instant::now();
    for _ in 0..n {
        let _ = signed_response(&spec, &k);
    }
    let per = t.elapsed().as_secs_f64() / n as f64;
    println!("one signed Response (assertion signed): {:.3} ms -> {:.0}/s on one core", per * 1000.0, 1.0 / per);
    // the same key, one raw RSA-SHA256 signature of a SignedInfo-sized buffer
    let Ok(pkey) = openssl::pkey::PKey::private_key_from_pem(key.as_bytes()) else { return };
    let data = [b'x'; 700];
    let t = std::time::Instant::now();
    for _ in 0..n {
        if let Ok(mut s) = openssl::sign::Signer::new(openssl::hash::MessageDigest::sha256(), &pkey) {
            let _ = s.update(&data).and_then(|_| s.sign_to_vec());
        }
    }
    let raw = t.elapsed().as_secs_f64() / n as f64;
    println!("one raw RSA-2048 SHA-256 signature (openssl): {:.3} ms -> {:.0}/s on one core", raw * 1000.0, 1.0 / raw);
}
