//! The XML-signature engine behind a narrow trait, so that a second real implementation
//! (one of the pure-Rust crates, once re-evaluated) can be added beside it. Today there is
//! one: samael over libxmlsec1, the engine of the `xmlsec1` CLI and the Python SPs. This
//! file is the only code in idhub that calls samael's crypto.
//!
//! Both operations fail closed; there is no implementation, feature or flag that skips
//! verification.

use crate::error::{clip, Result, SamlError};
use crate::keys::{Certificate, SigningKey};
use samael::crypto::{AllowedSignatureAlgorithm, CertificateDer, Crypto, CryptoProvider, ReduceMode};

/// What idhub needs from an XML-signature engine.
pub(crate) trait SignatureEngine {
    /// Fill in the first empty `ds:Signature` template in document order (enveloped,
    /// algorithms as the template says) and return the signed document.
    fn sign_first_template(xml: &str, key: &SigningKey) -> Result<String>;

    /// Verify every `ds:Signature` in the document with `certificates` only (never a key
    /// from KeyInfo) and return a document holding only the signed content. With
    /// `sha256_only`, anything but RSA-SHA256 with SHA-256 digests is refused by the engine
    /// itself; otherwise the caller's algorithm check is the gate. `signatures` is how
    /// many `ds:Signature` elements the caller counted in the document.
    fn verify_signed_content(xml: &str, certificates: &[Certificate], sha256_only: bool, signatures: usize) -> Result<String>;
}

/// samael 0.0.22 over libxmlsec1.
pub(crate) struct Samael;

impl SignatureEngine for Samael {
    fn sign_first_template(xml: &str, key: &SigningKey) -> Result<String> {
        Crypto::sign_xml(xml, &key.key_der).map_err(|e| SamlError::Sign(e.to_string()))
    }

    fn verify_signed_content(xml: &str, certificates: &[Certificate], sha256_only: bool, signatures: usize) -> Result<String> {
        // samael fails open without certificates (it then accepts unsigned documents).
        if certificates.is_empty() {
            return Err(SamlError::NoTrustedCertificate);
        }
        let certs: Vec<CertificateDer> = certificates.iter().map(|c| CertificateDer::from(c.der().to_vec())).collect();
        let only = [AllowedSignatureAlgorithm::RsaSha256];
        let allowed = if sha256_only { Some(&only[..]) } else { None };
        // One signature (the usual Response-only or Assertion-only shape): the exact bytes
        // that were digested, canonical, with the signature removed by its enveloped
        // transform. Two (Response and Assertion): only verified content, without unsigned
        // ancestors; the Response is then the root of what is kept. Either way, never
        // samael's re-rooting of a tree at an inner element, which leaks the old root and a
        // namespace list in libxml 0.3 (fuzz/README.md) on every Assertion-only Response.
        let mode = if signatures == 1 { ReduceMode::PreDigest } else { ReduceMode::ValidateAndMarkNoAncestors };
        Crypto::reduce_xml_to_signed_with_allowed_algorithms(xml, &certs, mode, allowed).map_err(|e| {
            let detail = match std::error::Error::source(&e) {
                Some(s) => format!("{e}: {s}"),
                None => e.to_string(),
            };
            SamlError::SignatureInvalid(clip(&detail))
        })
    }
}

/// The engine in use.
pub(crate) type Engine = Samael;
