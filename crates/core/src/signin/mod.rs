//! Signing in: the password check with its throttles and lockout (`auth`), and the second
//! factor (`mfa`: TOTP enrolment, the org's MFA policy, verification). The pages, the
//! authn API and the ACS call these; the session cookie and the redirect stay in the web
//! crate.

pub mod auth;
pub mod mfa;
