//! The application core: the services and rules that every entry point (the Okta API, the
//! console, the sign-in pages, SAML, the workers) must apply the same way, written once,
//! typed, and free of HTTP. The web crate extracts a request, calls one service here and
//! maps the result (or the [`CoreError`]) to its surface's shape.

pub mod acs;
pub mod applications;
pub mod context;
pub mod directory;
pub mod error;
pub mod federation;
pub mod group_push;
pub mod groups;
pub mod idps;
pub mod import;
pub mod org_settings;
pub mod passwords;
pub mod permissions;
pub mod provisioning;
pub mod roles;
pub mod signin;
pub mod signing_keys;
pub mod sso;
pub mod tasks;
pub mod tokens;

pub use context::{Actor, Core};
pub use error::{CoreError, CoreResult, NotAllowed};
