//! SAML 2.0 for idhub. Everything that touches the XML-signature engine (samael over
//! libxmlsec1, the same engine as the `xmlsec1` CLI and the Python SPs) is in this crate,
//! behind one narrow internal trait (`engine.rs`).
//!
//! - [`keys`]: RSA keys and X.509 certificates (generate, PEM in/out, fingerprints, expiry).
//! - IdP side: [`response`] builds and signs Responses; [`request`] reads incoming
//!   AuthnRequests (HTTP-POST and HTTP-Redirect, with the query signature checked);
//!   [`metadata::idp_metadata`] describes the IdP.
//! - SP side (the hub's ACS): [`verify`] turns an [`UnverifiedResponse`] into a
//!   [`VerifiedAssertion`] only by checking it against a [`TrustPolicy`];
//!   [`authn_request`] builds AuthnRequests; [`metadata`] writes SP metadata and reads
//!   IdP metadata.
//!
//! Documents are written with an XML writer; no user data is ever concatenated into XML.
//! Verification fails closed: no certificate, no verification; only what the engine
//! returns as signed is read.

#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod authn_request;
mod canonical;
mod dom;
mod encoding;
mod engine;
mod error;
pub mod keys;
pub mod metadata;
pub mod request;
pub mod response;
pub mod verify;
mod xml;

pub use encoding::MAX_RESPONSE_BYTES;
pub use error::{Result, SamlError};
pub use keys::{Certificate, SigningKey};
pub use verify::{verify_response, NameId, SignatureScope, TrustPolicy, UnverifiedResponse, VerifiedAssertion};

/// The HTTP-POST binding URI.
pub const BINDING_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
/// The HTTP-Redirect binding URI.
pub const BINDING_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
/// NameID format `unspecified` (SAML 1.1).
pub const NAMEID_UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";
/// NameID format `emailAddress` (SAML 1.1).
pub const NAMEID_EMAIL: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
/// NameID format `persistent`.
pub const NAMEID_PERSISTENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
/// NameID format `transient`.
pub const NAMEID_TRANSIENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient";
/// The XML-DSig URI of RSA-SHA256.
pub const ALG_RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
/// The XML-DSig URI of RSA-SHA1 (accepted only where an admin allowed SHA-1).
pub const ALG_RSA_SHA1: &str = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
