//! The application core: rules that every entry point (the Okta API, the console, the
//! sign-in pages, the workers) must apply the same way, written once and free of HTTP.
//!
//! It starts with the administrator permission table ([`permissions`]); the services now
//! in `idhub-web` move here as they are given typed inputs and outputs.

pub mod permissions;
