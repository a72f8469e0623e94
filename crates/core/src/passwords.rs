//! Password hashing with argon2id, off the async threads. Parameters are configurable;
//! the defaults follow OWASP's argon2id recommendation (19 MiB, 2 passes, 1 lane),
//! which keeps a sign-in around 20–30 ms of one core.

use argon2::password_hash::{Output, PasswordHash, PasswordHasher as _, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
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
        HashParams { memory_kib: 19 * 1024, iterations: 2, parallelism: 1 }
    }
}

/// Hashes and verifies passwords.
#[derive(Debug)]
pub struct PasswordHasher {
    params: HashParams,
    dummy: std::sync::OnceLock<String>,
    pool: HashPool,
}

/// Hashing failed (bad parameters, or the hashing threads are gone).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

type Job = Box<dyn FnOnce() + Send>;

/// A few dedicated threads (one per core) that run every argon2id computation. More
/// concurrent hashes would only queue CPU work, and each holds 19 MiB while it runs;
/// keeping them on the same few threads also keeps that memory in a few allocator
/// arenas instead of one per blocking thread, so the server's footprint stays small.
#[derive(Debug)]
struct HashPool {
    tx: std::sync::Mutex<std::sync::mpsc::Sender<Job>>,
}

impl HashPool {
    fn new() -> HashPool {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        for i in 0..threads {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new().name(format!("idhub-argon2-{i}")).spawn(move || loop {
                let job = match rx.lock() {
                    Ok(r) => r.recv(),
                    Err(_) => return,
                };
                match job {
                    Ok(job) => job(),
                    Err(_) => return,
                }
            });
            if let Err(e) = spawned {
                tracing::error!("cannot start a password hashing thread: {e}");
            }
        }
        HashPool { tx: std::sync::Mutex::new(tx) }
    }

    async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T, HashError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
        });
        self.tx.lock().map_err(|e| HashError(e.to_string()))?.send(job).map_err(|e| HashError(e.to_string()))?;
        rx.await.map_err(|e| HashError(e.to_string()))
    }
}

impl PasswordHasher {
    /// A hasher with these parameters.
    pub fn new(params: HashParams) -> Self {
        PasswordHasher { params, dummy: std::sync::OnceLock::new(), pool: HashPool::new() }
    }

    /// A hash of a random password with these parameters, for checking against when a
    /// login does not exist (so the answer takes as long as for a real user).
    pub fn dummy_hash(&self) -> &str {
        self.dummy.get_or_init(|| self.hash_blocking(&idhub_domain::ids::random_base62(16)).unwrap_or_default())
    }

    fn argon(&self) -> Result<Argon2<'static>, HashError> {
        let p = Params::new(self.params.memory_kib, self.params.iterations, self.params.parallelism, None)
            .map_err(|e| HashError(e.to_string()))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, p))
    }

    /// Hash synchronously (for the CLI and benchmarks).
    pub fn hash_blocking(&self, password: &str) -> Result<String, HashError> {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        Ok(self.argon()?.hash_password(password.as_bytes(), &salt).map_err(|e| HashError(e.to_string()))?.to_string())
    }

    /// Hash on the hashing threads.
    pub async fn hash(&self, password: String) -> Result<String, HashError> {
        let argon = self.argon()?;
        self.pool.run(move || hash_reusing_memory(&argon, password.as_bytes())).await?
    }

    /// Verify on the hashing threads. A malformed stored hash verifies as false.
    pub async fn verify(&self, password: String, stored: String) -> bool {
        self.pool.run(move || verify_reusing_memory(password.as_bytes(), &stored)).await.unwrap_or(false)
    }
}

/// Run `f` with this thread's argon2 working memory (kept between hashes: allocating
/// and freeing 19 MiB per sign-in makes the allocator hold on to far more than that).
fn with_blocks<R>(count: usize, f: impl FnOnce(&mut [Block]) -> R) -> R {
    thread_local!(static BLOCKS: std::cell::RefCell<Vec<Block>> = const { std::cell::RefCell::new(Vec::new()) });
    BLOCKS.with(|cell| {
        let mut blocks = cell.borrow_mut();
        if blocks.len() < count {
            blocks.resize(count, Block::default());
        }
        f(&mut blocks[..count])
    })
}

fn hash_reusing_memory(argon: &Argon2<'_>, password: &[u8]) -> Result<String, HashError> {
    let err = |e: &dyn std::fmt::Display| HashError(e.to_string());
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    let mut salt_buf = [0u8; 64];
    let salt_raw = salt.decode_b64(&mut salt_buf).map_err(|e| err(&e))?;
    let mut out = [0u8; 32];
    with_blocks(argon.params().block_count(), |blocks| argon.hash_password_into_with_memory(password, salt_raw, &mut out, blocks))
        .map_err(|e| err(&e))?;
    let phc = PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: argon.params().try_into().map_err(|e: argon2::password_hash::Error| err(&e))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| err(&e))?),
    };
    Ok(phc.to_string())
}

fn verify_reusing_memory(password: &[u8], stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let (Ok(algorithm), Ok(params), Some(salt), Some(expected)) =
        (Algorithm::try_from(parsed.algorithm), Params::try_from(&parsed), parsed.salt, parsed.hash)
    else {
        return false;
    };
    let version = parsed.version.and_then(|v| Version::try_from(v).ok()).unwrap_or(Version::V0x13);
    let argon = Argon2::new(algorithm, version, params);
    let mut salt_buf = [0u8; 64];
    let Ok(salt_raw) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    if with_blocks(argon.params().block_count(), |blocks| argon.hash_password_into_with_memory(password, salt_raw, &mut out, blocks))
        .is_err()
    {
        return false;
    }
    // Output compares in constant time.
    Output::new(&out).map(|o| o == expected).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() {
        let h = PasswordHasher::new(HashParams { memory_kib: 1024, iterations: 1, parallelism: 1 });
        let stored = h.hash("Secr3tPass".into()).await.unwrap_or_default();
        assert!(stored.starts_with("$argon2id$"));
        assert!(h.verify("Secr3tPass".into(), stored.clone()).await);
        assert!(!h.verify("wrong".into(), stored).await);
        assert!(!h.verify("x".into(), "not a hash".into()).await);
        // Hashes made by the argon2 crate's own API (and by earlier releases) still verify.
        let classic = h.hash_blocking("Classic1").unwrap_or_default();
        assert!(h.verify("Classic1".into(), classic).await);
    }
}
