//! Secrets at rest (TOTP seeds, signing keys, provisioning tokens) are sealed with
//! XChaCha20-Poly1305 under the server's key. Each sealed value is bound to what it is
//! for (`purpose`, e.g. `totp:{org}:{factor}`), so a ciphertext copied into another row
//! does not open. The same key also makes keyed MACs (HMAC-SHA-256 under a key derived
//! from it), e.g. for CSRF tokens bound to a session.

use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

const PREFIX: &str = "v1:";

/// The server's sealing key.
#[derive(Clone)]
pub struct SealingKey {
    aead: XChaCha20Poly1305,
    /// A key for MACs only, derived from the sealing key (never used to seal).
    mac_key: [u8; 32],
}

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey(..)")
    }
}

/// HMAC-SHA-256 under a 32-byte key (zero-padded to the block size, as HMAC defines it,
/// so this is the plain HMAC of that key and cannot fail).
fn hmac_sha256(key: &[u8; 32]) -> Hmac<Sha256> {
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(key);
    <Hmac<Sha256> as hmac::digest::KeyInit>::new(&block.into())
}

/// Opening a sealed value failed (wrong key, wrong purpose, or damaged text).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("sealed value cannot be opened")]
pub struct SealError;

impl SealingKey {
    /// A key from 32 bytes.
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        let mut derive = hmac_sha256(bytes);
        derive.update(b"idhub mac key v1");
        let mac_key: [u8; 32] = derive.finalize().into_bytes().into();
        SealingKey { aead: XChaCha20Poly1305::new(bytes.into()), mac_key }
    }

    /// A keyed MAC (HMAC-SHA-256, base64url) of `message` for `purpose`: the same inputs
    /// always give the same text, and nobody without the server key can make one.
    pub fn mac(&self, purpose: &str, message: &[u8]) -> String {
        let mut m = hmac_sha256(&self.mac_key);
        m.update(&(purpose.len() as u64).to_be_bytes());
        m.update(purpose.as_bytes());
        m.update(message);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(m.finalize().into_bytes())
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
        let ct = self.aead.encrypt(XNonce::from_slice(&nonce), Payload { msg: plain, aad: purpose.as_bytes() }).map_err(|_| SealError)?;
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
        self.aead.decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad: purpose.as_bytes() }).map_err(|_| SealError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_are_keyed_and_bound_to_their_purpose() {
        let k = SealingKey::from_bytes(&[7u8; 32]);
        assert_eq!(k.mac("csrf:o1", b"s1"), k.mac("csrf:o1", b"s1"));
        assert_ne!(k.mac("csrf:o1", b"s1"), k.mac("csrf:o2", b"s1"));
        assert_ne!(k.mac("csrf:o1", b"s1"), k.mac("csrf:o1", b"s2"));
        assert_ne!(k.mac("csrf:o1", b"s1"), SealingKey::from_bytes(&[8u8; 32]).mac("csrf:o1", b"s1"));
        // RFC 4231 test case 2 shape: HMAC of a short key equals the padded-key HMAC.
        let mut m = hmac_sha256(&[0u8; 32]);
        m.update(b"x");
        let mut n = <Hmac<Sha256> as Mac>::new_from_slice(&[0u8; 32]).unwrap();
        n.update(b"x");
        assert_eq!(m.finalize().into_bytes(), n.finalize().into_bytes());
    }

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
