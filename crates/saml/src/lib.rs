//! SAML 2.0 for idhub. Everything that touches the XML-signature engine (samael over
//! libxmlsec1, the same engine as the `xmlsec1` CLI and the Python SPs) is in this crate:
//! [`keys`] makes and reads RSA keys and X.509 certificates, [`response`] builds and
//! signs Responses as an IdP (exclusive C14N, RSA-SHA256, SHA-256 digests, the
//! signature right after `Issuer`, the Assertion signed before the Response), and
//! [`metadata`] writes IdP metadata. Documents are written with an XML writer; no user
//! data is ever concatenated into XML.

pub mod keys;
pub mod metadata;
pub mod request;
pub mod response;
mod xml;

/// What can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
pub enum SamlError {
    /// Key or certificate handling failed.
    #[error("key: {0}")]
    Key(String),
    /// Building the XML failed.
    #[error("xml: {0}")]
    Xml(String),
    /// The signature engine failed.
    #[error("signing: {0}")]
    Sign(String),
}

/// Result alias.
pub type Result<T> = std::result::Result<T, SamlError>;
