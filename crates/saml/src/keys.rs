//! Signing keys: RSA-2048 keys with self-signed X.509 certificates, PEM in and out,
//! fingerprints and expiry. A [`SigningKey`] holds the parsed key so signing does not
//! parse PEM each time.

use crate::{Result, SamlError};
use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::{X509NameBuilder, X509};

fn err(e: impl std::fmt::Display) -> SamlError {
    SamlError::Key(e.to_string())
}

/// A new key pair: (private key PEM, certificate PEM).
pub fn generate(common_name: &str, valid_days: u32) -> Result<(String, String)> {
    let rsa = Rsa::generate(2048).map_err(err)?;
    let key = PKey::from_rsa(rsa).map_err(err)?;
    let mut name = X509NameBuilder::new().map_err(err)?;
    name.append_entry_by_text("CN", common_name).map_err(err)?;
    name.append_entry_by_text("O", "idhub").map_err(err)?;
    let name = name.build();
    let mut serial = BigNum::new().map_err(err)?;
    serial.rand(127, MsbOption::MAYBE_ZERO, false).map_err(err)?;
    let mut b = X509::builder().map_err(err)?;
    b.set_version(2).map_err(err)?;
    let serial = serial.to_asn1_integer().map_err(err)?;
    b.set_serial_number(&serial).map_err(err)?;
    b.set_subject_name(&name).map_err(err)?;
    b.set_issuer_name(&name).map_err(err)?;
    b.set_pubkey(&key).map_err(err)?;
    let (start, end) = (Asn1Time::days_from_now(0).map_err(err)?, Asn1Time::days_from_now(valid_days).map_err(err)?);
    b.set_not_before(&start).map_err(err)?;
    b.set_not_after(&end).map_err(err)?;
    b.sign(&key, MessageDigest::sha256()).map_err(err)?;
    let cert = b.build();
    let key_pem = String::from_utf8(key.private_key_to_pem_pkcs8().map_err(err)?).map_err(err)?;
    let cert_pem = String::from_utf8(cert.to_pem().map_err(err)?).map_err(err)?;
    Ok((key_pem, cert_pem))
}

/// Facts about a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// Base64 DER (what `x5c` and `ds:X509Certificate` carry).
    pub der_b64: String,
    /// SHA-256 of the DER, base64url (Okta's `x5t#S256`).
    pub thumbprint_s256: String,
    /// Expiry, Unix seconds.
    pub not_after: i64,
}

/// Read a certificate PEM.
pub fn cert_info(cert_pem: &str) -> Result<CertInfo> {
    use base64::Engine;
    let cert = X509::from_pem(cert_pem.as_bytes()).map_err(err)?;
    let der = cert.to_der().map_err(err)?;
    let digest = openssl::sha::sha256(&der);
    let epoch = Asn1Time::from_unix(0).map_err(err)?;
    let diff = epoch.diff(cert.not_after()).map_err(err)?;
    Ok(CertInfo {
        der_b64: base64::engine::general_purpose::STANDARD.encode(&der),
        thumbprint_s256: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest),
        not_after: i64::from(diff.days) * 86_400 + i64::from(diff.secs),
    })
}

/// A private key ready to sign with, and its certificate.
#[derive(Clone)]
pub struct SigningKey {
    pub(crate) key_der: Vec<u8>,
    pub(crate) cert_b64: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(..)")
    }
}

impl SigningKey {
    /// Parse a PEM private key and its certificate once.
    pub fn from_pem(key_pem: &str, cert_pem: &str) -> Result<SigningKey> {
        let key: PKey<Private> = PKey::private_key_from_pem(key_pem.as_bytes()).map_err(err)?;
        let info = cert_info(cert_pem)?;
        Ok(SigningKey { key_der: key.private_key_to_der().map_err(err)?, cert_b64: info.der_b64 })
    }

    /// The certificate as base64 DER.
    pub fn cert_b64(&self) -> &str {
        &self.cert_b64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_rsa_2048_with_a_certificate() {
        let (key, cert) = generate("idhub test", 365).unwrap_or_default();
        assert!(key.starts_with("-----BEGIN PRIVATE KEY-----"));
        let info = cert_info(&cert).unwrap_or_else(|e| panic!("{e}"));
        let now = chrono::Utc::now().timestamp();
        assert!(info.not_after > now + 364 * 86_400 && info.not_after < now + 366 * 86_400);
        assert_eq!(info.thumbprint_s256.len(), 43);
        let k = SigningKey::from_pem(&key, &cert).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(k.cert_b64(), info.der_b64);
        let rsa = openssl::pkey::PKey::private_key_from_pem(key.as_bytes()).ok().and_then(|k| k.rsa().ok()).map(|r| r.size());
        assert_eq!(rsa, Some(256), "2048 bits");
    }
}
