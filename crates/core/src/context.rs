//! What every service runs with: the store, the clock, the password hasher, the sealing
//! key and the egress rule. Built once at start-up; cheap to clone. Tests build it over a
//! fresh store with a clock they control ([`idhub_domain::time::ManualClock`]-style
//! clocks implement [`Clock`]).

use crate::passwords::{HashParams, PasswordHasher};
use idhub_connectors::egress::Egress;
use idhub_domain::event::{ClientInfo, Party};
use idhub_domain::sealed::SealingKey;
use idhub_domain::time::Clock;
use idhub_store::Store;
use std::sync::Arc;

/// The services' context.
#[derive(Clone)]
pub struct Core {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub hasher: Arc<PasswordHasher>,
    /// Seals secrets at rest (TOTP seeds, signing keys, provisioning tokens, passwords
    /// waiting to be pushed).
    pub sealing_key: Arc<SealingKey>,
    /// The one outbound client and its rule (config `egress.allow`).
    pub egress: Egress,
    /// Signing keys parsed once, and each SAML app's active key id.
    pub keys: Arc<crate::signing_keys::KeyCache>,
    /// Sign-in throttles (per client address and per username) and their limits.
    pub signin: Arc<crate::signin::auth::SignInGuard>,
}

impl Core {
    /// A core over `store`.
    pub fn new(store: Store, clock: Arc<dyn Clock>, hashing: HashParams, sealing_key: SealingKey, egress: Egress) -> Self {
        Core {
            store,
            clock,
            hasher: Arc::new(PasswordHasher::new(hashing)),
            sealing_key: Arc::new(sealing_key),
            egress,
            keys: Default::default(),
            signin: Default::default(),
        }
    }

    /// The same core with other sign-in throttle limits.
    pub fn with_signin_limits(mut self, limits: crate::signin::auth::SignInLimits) -> Self {
        self.signin = Arc::new(crate::signin::auth::SignInGuard { throttle: Default::default(), limits });
        self
    }

    /// Now, in milliseconds since the epoch, from the core's clock.
    pub fn now(&self) -> i64 {
        self.clock.now_millis()
    }
}

/// Who makes a change, as the System Log records it: the acting party and the request
/// it came with (empty for background work).
#[derive(Debug, Clone)]
pub struct Actor {
    pub party: Party,
    pub client: ClientInfo,
}

impl Actor {
    /// idhub itself (the CLI, a worker, a schedule).
    pub fn system() -> Self {
        Actor { party: Party::system(), client: ClientInfo::default() }
    }
}
