//! Secrets at rest (TOTP seeds, signing keys, provisioning tokens) are sealed with
//! XChaCha20-Poly1305 under the server's key. Each sealed value is bound to what it is
//! for (`purpose`, e.g. `totp:{org}:{factor}`), so a ciphertext copied into another row
//! does not open.

use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;

const PREFIX: &str = "v1:";

/// The server's sealing key.
#[derive(Clone)]
pub struct SealingKey(XChaCha20Poly1305);

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey(..)")
    }
}

/// Opening a sealed value failed (wrong key, wrong purpose, or damaged text).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("sealed value cannot be opened")]
pub struct SealError;

impl SealingKey {
    /// A key from 32 bytes.
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        SealingKey(XChaCha20Poly1305::new(bytes.into()))
    }

    /// A new random key's bytes (to be saved by the caller).
    pub fn generate_bytes() -> [u8; 32] {
        let mut b = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut b);
        b
    }

    /// Seal `plain` for `purpose`.
    pub fn seal(&self, purpose: &str, plain: &[u8]) -> Result<String, SealError> {
        let mut nonce = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ct = self.0.encrypt(XNonce::from_slice(&nonce), Payload { msg: plain, aad: purpose.as_bytes() }).map_err(|_| SealError)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Ok(format!("{PREFIX}{}", base64::engine::general_purpose::STANDARD_NO_PAD.encode(out)))
    }

    /// Open a value sealed for `purpose`.
    pub fn open(&self, purpose: &str, sealed: &str) -> Result<Vec<u8>, SealError> {
        let b64 = sealed.strip_prefix(PREFIX).ok_or(SealError)?;
        let raw = base64::engine::general_purpose::STANDARD_NO_PAD.decode(b64).map_err(|_| SealError)?;
        if raw.len() < 24 + 16 {
            return Err(SealError);
        }
        let (nonce, ct) = raw.split_at(24);
        self.0.decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad: purpose.as_bytes() }).map_err(|_| SealError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_and_binding() {
        let k = SealingKey::from_bytes(&SealingKey::generate_bytes());
        let s = k.seal("totp:o:f", b"secret").unwrap_or_default();
        assert!(s.starts_with("v1:"));
        assert!(!s.contains("secret"));
        assert_eq!(k.open("totp:o:f", &s).ok(), Some(b"secret".to_vec()));
        assert!(k.open("totp:o:other", &s).is_err(), "bound to its purpose");
        let other = SealingKey::from_bytes(&SealingKey::generate_bytes());
        assert!(other.open("totp:o:f", &s).is_err(), "bound to the key");
        assert!(k.open("totp:o:f", "v1:AAAA").is_err());
        assert!(k.open("totp:o:f", "garbage").is_err());
    }
}
