//! Password hashing with argon2id, off the async threads. Parameters are configurable;
//! the defaults follow OWASP's argon2id recommendation (19 MiB, 2 passes, 1 lane),
//! which keeps a sign-in around 20–30 ms of one core.

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use serde::Deserialize;

/// argon2id cost parameters.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct HashParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for HashParams {
    fn default() -> Self {
        HashParams {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// Hashes and verifies passwords.
#[derive(Debug)]
pub struct PasswordHasher {
    params: HashParams,
    dummy: std::sync::OnceLock<String>,
}

/// Hashing failed (bad parameters, or the blocking pool is gone).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

impl PasswordHasher {
    /// A hasher with these parameters.
    pub fn new(params: HashParams) -> Self {
        PasswordHasher {
            params,
            dummy: std::sync::OnceLock::new(),
        }
    }

    /// A hash of a random password with these parameters, for checking against when a
    /// login does not exist (so the answer takes as long as for a real user).
    pub fn dummy_hash(&self) -> &str {
        self.dummy.get_or_init(|| {
            self.hash_blocking(&idhub_domain::ids::random_base62(16))
                .unwrap_or_default()
        })
    }

    fn argon(&self) -> Result<Argon2<'static>, HashError> {
        let p = Params::new(
            self.params.memory_kib,
            self.params.iterations,
            self.params.parallelism,
            None,
        )
        .map_err(|e| HashError(e.to_string()))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, p))
    }

    /// Hash synchronously (for the CLI and benchmarks).
    pub fn hash_blocking(&self, password: &str) -> Result<String, HashError> {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        Ok(self
            .argon()?
            .hash_password(password.as_bytes(), &salt)
            .map_err(|e| HashError(e.to_string()))?
            .to_string())
    }

    /// Hash on the blocking pool.
    pub async fn hash(&self, password: String) -> Result<String, HashError> {
        let argon = self.argon()?;
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut rand::rngs::OsRng);
            argon
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| HashError(e.to_string()))
        })
        .await
        .map_err(|e| HashError(e.to_string()))?
    }

    /// Verify on the blocking pool. A malformed stored hash verifies as false.
    pub async fn verify(&self, password: String, stored: String) -> bool {
        tokio::task::spawn_blocking(move || match PasswordHash::new(&stored) {
            // The parameters come from the stored hash itself.
            Ok(parsed) => Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
            Err(_) => false,
        })
        .await
        .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() {
        let h = PasswordHasher::new(HashParams {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        });
        let stored = h.hash("Secr3tPass".into()).await.unwrap_or_default();
        assert!(stored.starts_with("$argon2id$"));
        assert!(h.verify("Secr3tPass".into(), stored.clone()).await);
        assert!(!h.verify("wrong".into(), stored).await);
        assert!(!h.verify("x".into(), "not a hash".into()).await);
    }
}
