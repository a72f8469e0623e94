//! Keys and certificates: RSA-2048 keys with self-signed X.509 certificates, PEM in and
//! out, SHA-256 fingerprints and expiry. A [`SigningKey`] is parsed once (key, DER for the
//! signature engine, certificate) so signing never parses PEM; a [`Certificate`] is what
//! the SP side trusts.

use crate::error::{Result, SamlError};
use chrono::{DateTime, Utc};
use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::{X509NameBuilder, X509};

fn err(e: impl std::fmt::Display) -> SamlError {
    SamlError::Key(e.to_string())
}

/// Smallest RSA key accepted for signing.
pub const MIN_RSA_BITS: u32 = 2048;

/// Longest subject common name X.509 allows (`ub-common-name`, in characters).
pub const MAX_COMMON_NAME: usize = 64;

/// A common name X.509 accepts made from `label`: control characters become spaces,
/// and a long label is cut at a character boundary to [`MAX_COMMON_NAME`] characters
/// (the name is only a reminder for people reading the certificate).
pub fn common_name(label: &str) -> String {
    let cn: String =
        label.chars().map(|c| if c.is_control() { ' ' } else { c }).take(MAX_COMMON_NAME).collect::<String>().trim().to_string();
    if cn.is_empty() {
        "idhub".into()
    } else {
        cn
    }
}

/// A new RSA-2048 key and a self-signed certificate (SHA-256) for `label` (its
/// [`common_name`]), valid from now for `valid_days`: (PKCS#8 private key PEM,
/// certificate PEM).
pub fn generate(label: &str, valid_days: u32) -> Result<(String, String)> {
    let rsa = Rsa::generate(2048).map_err(err)?;
    let key = PKey::from_rsa(rsa).map_err(err)?;
    let mut name = X509NameBuilder::new().map_err(err)?;
    name.append_entry_by_text("CN", &common_name(label)).map_err(err)?;
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
    /// SHA-256 of the DER as colon-separated upper-case hex (what consoles show).
    pub fingerprint_sha256: String,
    /// Expiry, Unix seconds.
    pub not_after: i64,
}

/// Read a certificate PEM.
pub fn cert_info(cert_pem: &str) -> Result<CertInfo> {
    Certificate::from_pem(cert_pem).map(|c| c.info())
}

/// An X.509 certificate: a trusted IdP certificate on the SP side, or the public half of
/// a [`SigningKey`].
#[derive(Clone)]
pub struct Certificate {
    x509: X509,
    der: Vec<u8>,
    not_after: DateTime<Utc>,
}

impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Certificate")
            .field("subject_cn", &self.subject_common_name())
            .field("sha256", &self.fingerprint_sha256_hex())
            .field("not_after", &self.not_after)
            .finish()
    }
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}
impl Eq for Certificate {}

impl Certificate {
    fn from_x509(x509: X509) -> Result<Certificate> {
        let der = x509.to_der().map_err(err)?;
        let epoch = Asn1Time::from_unix(0).map_err(err)?;
        let diff = epoch.diff(x509.not_after()).map_err(err)?;
        let secs = i64::from(diff.days) * 86_400 + i64::from(diff.secs);
        let not_after = DateTime::from_timestamp(secs, 0).ok_or_else(|| err("the certificate's expiry is out of range"))?;
        Ok(Certificate { x509, der, not_after })
    }

    /// From PEM (`-----BEGIN CERTIFICATE-----`).
    pub fn from_pem(pem: &str) -> Result<Certificate> {
        Certificate::from_x509(X509::from_pem(pem.as_bytes()).map_err(err)?)
    }

    /// From DER bytes.
    pub fn from_der(der: &[u8]) -> Result<Certificate> {
        Certificate::from_x509(X509::from_der(der).map_err(err)?)
    }

    /// From base64 DER, as `ds:X509Certificate` and `x5c` carry it (whitespace ignored).
    pub fn from_base64_der(b64: &str) -> Result<Certificate> {
        let der = crate::encoding::decode_base64(b64, 64 * 1024).map_err(|_| err("the certificate is not valid base64"))?;
        Certificate::from_der(&der)
    }

    /// PEM text.
    pub fn to_pem(&self) -> Result<String> {
        String::from_utf8(self.x509.to_pem().map_err(err)?).map_err(err)
    }

    /// DER bytes.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// Base64 DER (one line).
    pub fn der_base64(&self) -> String {
        crate::encoding::encode_base64(&self.der)
    }

    /// SHA-256 of the DER.
    pub fn fingerprint_sha256(&self) -> [u8; 32] {
        use sha2::Digest;
        sha2::Sha256::digest(&self.der).into()
    }

    /// SHA-256 of the DER as colon-separated upper-case hex.
    pub fn fingerprint_sha256_hex(&self) -> String {
        self.fingerprint_sha256().iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
    }

    /// When the certificate expires.
    pub fn not_after(&self) -> DateTime<Utc> {
        self.not_after
    }

    /// The subject's common name, if any.
    pub fn subject_common_name(&self) -> Option<String> {
        self.x509.subject_name().entries_by_nid(Nid::COMMONNAME).next().and_then(|e| e.data().to_string().ok())
    }

    /// The certificate's public key.
    pub(crate) fn public_key(&self) -> Result<PKey<openssl::pkey::Public>> {
        self.x509.public_key().map_err(err)
    }

    /// The summary used by the management API.
    pub fn info(&self) -> CertInfo {
        use base64::Engine;
        let digest = self.fingerprint_sha256();
        CertInfo {
            der_b64: self.der_base64(),
            thumbprint_s256: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest),
            fingerprint_sha256: self.fingerprint_sha256_hex(),
            not_after: self.not_after.timestamp(),
        }
    }
}

/// A private key ready to sign with, and its certificate; parsed once.
#[derive(Clone)]
pub struct SigningKey {
    pub(crate) key_der: Vec<u8>,
    pub(crate) pkey: PKey<Private>,
    pub(crate) cert: Certificate,
    pub(crate) cert_b64: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(..)")
    }
}

impl SigningKey {
    /// Parse a PEM private key (PKCS#8 or PKCS#1) and its certificate once. The key must be
    /// RSA of at least [`MIN_RSA_BITS`] and belong to the certificate.
    pub fn from_pem(key_pem: &str, cert_pem: &str) -> Result<SigningKey> {
        let pkey: PKey<Private> = PKey::private_key_from_pem(key_pem.as_bytes()).map_err(err)?;
        let cert = Certificate::from_pem(cert_pem)?;
        let rsa = pkey.rsa().map_err(|_| err("the signing key is not an RSA key"))?;
        if rsa.size() * 8 < MIN_RSA_BITS {
            return Err(err(format!("the signing key has {} bits; at least {MIN_RSA_BITS} are required", rsa.size() * 8)));
        }
        if !cert.public_key()?.public_eq(&pkey) {
            return Err(err("the private key does not belong to the certificate"));
        }
        let key_der = pkey.private_key_to_der().map_err(err)?;
        let cert_b64 = cert.der_base64();
        Ok(SigningKey { key_der, pkey, cert, cert_b64 })
    }

    /// The certificate as base64 DER.
    pub fn cert_b64(&self) -> &str {
        &self.cert_b64
    }

    /// The certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.cert
    }

    /// The private key as PKCS#8 PEM (for storing it encrypted).
    pub fn private_key_pem(&self) -> Result<String> {
        String::from_utf8(self.pkey.private_key_to_pem_pkcs8().map_err(err)?).map_err(err)
    }

    /// An RSA PKCS#1 v1.5 signature over `data` (query-string signatures).
    pub(crate) fn sign_bytes(&self, digest: MessageDigest, data: &[u8]) -> Result<Vec<u8>> {
        let mut signer = openssl::sign::Signer::new(digest, &self.pkey).map_err(err)?;
        signer.update(data).map_err(err)?;
        signer.sign_to_vec().map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_rsa_2048_with_a_certificate() {
        let (key, cert) = generate("idhub test", 365).unwrap();
        assert!(key.starts_with("-----BEGIN PRIVATE KEY-----"));
        let info = cert_info(&cert).unwrap();
        let now = chrono::Utc::now().timestamp();
        assert!(info.not_after > now + 364 * 86_400 && info.not_after < now + 366 * 86_400);
        assert_eq!(info.thumbprint_s256.len(), 43);
        assert_eq!(info.fingerprint_sha256.len(), 32 * 3 - 1);
        let k = SigningKey::from_pem(&key, &cert).unwrap();
        assert_eq!(k.cert_b64(), info.der_b64);
        assert_eq!(k.certificate().subject_common_name().as_deref(), Some("idhub test"));
        let rsa = PKey::private_key_from_pem(key.as_bytes()).ok().and_then(|k| k.rsa().ok()).map(|r| r.size());
        assert_eq!(rsa, Some(256), "2048 bits");
        // PEM out and back in
        let again = SigningKey::from_pem(&k.private_key_pem().unwrap(), &k.certificate().to_pem().unwrap()).unwrap();
        assert_eq!(again.certificate(), k.certificate());
        let b64 = Certificate::from_base64_der(&format!("\n  {}\n", info.der_b64)).unwrap();
        assert_eq!(&b64, k.certificate());
    }

    #[test]
    fn long_labels_make_a_valid_common_name() {
        let label = format!("test {}", "É".repeat(100));
        let (_, cert) = generate(&label, 1).unwrap();
        let cn = Certificate::from_pem(&cert).unwrap().subject_common_name().unwrap();
        assert_eq!(cn.chars().count(), MAX_COMMON_NAME);
        assert_eq!(common_name("a\u{0}b\tc"), "a b c");
        assert_eq!(common_name(" \n "), "idhub");
    }

    #[test]
    fn a_key_must_match_its_certificate_and_be_large_enough() {
        let (key, _) = generate("a", 1).unwrap();
        let (_, other_cert) = generate("b", 1).unwrap();
        assert!(SigningKey::from_pem(&key, &other_cert).is_err());
        let small = PKey::from_rsa(Rsa::generate(1024).unwrap()).unwrap();
        let small_pem = String::from_utf8(small.private_key_to_pem_pkcs8().unwrap()).unwrap();
        assert!(SigningKey::from_pem(&small_pem, &other_cert).is_err());
        assert!(Certificate::from_pem("not a cert").is_err());
    }
}
