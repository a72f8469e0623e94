//! idhub's HTTP surfaces. Requests are routed to an org by their `Host`; the Okta-
//! compatible management API lives under `/api/v1`, health checks under `/health`.
//! Later surfaces (sign-in, SSO, console, dashboard) mount beside them.

pub mod api;
pub mod console;
pub mod error;
pub mod force_authn;
pub mod health;
pub mod html;
pub mod idp;
pub mod org;
pub mod ratelimit;
pub mod request;
pub mod signin;
pub mod sso;

use axum::Router;
use idhub_domain::time::Clock;
use idhub_store::Store;
use std::sync::Arc;

/// Settings of the HTTP layer (part of the server's config).
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    pub rate_limit: ratelimit::RateLimitSettings,
    pub password_hashing: idhub_core::passwords::HashParams,
    /// Seals secrets at rest (TOTP seeds, signing keys, provisioning tokens).
    pub sealing_key: idhub_domain::sealed::SealingKey,
    /// The egress rule and the one HTTP client for outbound calls (config `egress.allow`).
    pub egress: idhub_connectors::egress::Egress,
}

impl Default for WebSettings {
    fn default() -> Self {
        WebSettings {
            max_body_bytes: 1024 * 1024,
            rate_limit: Default::default(),
            password_hashing: Default::default(),
            sealing_key: idhub_domain::sealed::SealingKey::from_bytes(&idhub_domain::sealed::SealingKey::generate_bytes()),
            egress: Default::default(),
        }
    }
}

/// Everything a handler may need, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The services' context; `store`, `clock` and `hasher` below are the same objects.
    pub core: idhub_core::Core,
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub settings: Arc<WebSettings>,
    pub limiter: Arc<ratelimit::RateLimiter>,
    pub hasher: Arc<idhub_core::passwords::PasswordHasher>,
    pub orgs: Arc<org::OrgCache>,
}

impl AppState {
    /// State over a store with the given settings and clock.
    pub fn new(store: Store, settings: WebSettings, clock: Arc<dyn Clock>) -> Self {
        let limiter = Arc::new(ratelimit::RateLimiter::new(settings.rate_limit.clone()));
        let core = idhub_core::Core::new(
            store.clone(),
            clock.clone(),
            settings.password_hashing.clone(),
            settings.sealing_key.clone(),
            settings.egress.clone(),
        )
        .with_signin_limits(idhub_core::signin::auth::SignInLimits {
            per_ip_per_minute: settings.rate_limit.signin_per_ip_per_minute,
            per_username_per_minute: settings.rate_limit.signin_per_username_per_minute,
        });
        let hasher = core.hasher.clone();
        AppState { core, store, clock, settings: Arc::new(settings), limiter, hasher, orgs: Arc::new(org::OrgCache::default()) }
    }

    /// Now, from the state's clock.
    pub fn now(&self) -> i64 {
        self.clock.now_millis()
    }
}

/// The whole application router.
pub fn router(state: AppState) -> Router {
    let per_org = Router::new()
        .nest("/api/v1", api::router(state.clone()))
        .merge(signin::router())
        .merge(console::router())
        .merge(sso::router())
        .merge(idp::router())
        .fallback(org::plain_not_found)
        .layer(axum::middleware::from_fn(request::rejections_in_surface_shape))
        .layer(axum::middleware::from_fn(request::refuse_undecodable_path))
        .layer(axum::middleware::from_fn_with_state(state.clone(), org::resolve_org));
    Router::new()
        .merge(health::router())
        .merge(per_org)
        .layer(axum::middleware::from_fn(request::assign_request_id))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(error::panic_response))
        .with_state(state)
}
