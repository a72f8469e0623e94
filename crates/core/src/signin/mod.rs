//! Signing in: the password check with its throttles and lockout (`auth`), the second
//! factor (`mfa`: TOTP enrolment, the org's MFA policy, verification), sessions, and the
//! one function every sign-in ends with (`complete`). The pages, the authn API and the
//! ACS call these; the session cookie and the redirect stay in the web crate.

pub mod auth;
pub mod complete;
pub mod mfa;
pub mod sessions;
