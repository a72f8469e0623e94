//! The crate's one error type. Every refusal of a SAML message is its own variant with a
//! stable machine reason code ([`SamlError::reason`]) for the System Log and a fixed,
//! data-free sentence ([`SamlError::summary`]) that is safe to show a user. `Display`
//! is the detailed message for logs and admins: it may quote (clipped) values taken from
//! the refused message, so it is never shown to an end user as-is.

/// What can go wrong in this crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SamlError {
    /// No trusted certificate is configured: verification is refused before the signature
    /// engine runs (it would otherwise accept unsigned documents).
    #[error("no trusted signing certificate is configured for this identity provider")]
    NoTrustedCertificate,
    /// The encoded or decoded message (or the inflated Redirect payload) is over the cap.
    #[error("the message is larger than the {limit} bytes accepted")]
    TooLarge {
        /// The cap, in bytes.
        limit: usize,
    },
    /// Not strict base64 (only line breaks and spaces may separate the characters).
    #[error("the message is not valid base64")]
    BadBase64,
    /// Not raw DEFLATE data (HTTP-Redirect binding).
    #[error("the message is not valid DEFLATE data")]
    BadDeflate,
    /// A DTD was sent; DTDs and entities are never processed.
    #[error("the message contains a DOCTYPE or an entity declaration")]
    DoctypeForbidden,
    /// Not well-formed XML, not UTF-8, too deep, or a value that cannot be read.
    #[error("the message is not usable XML: {0}")]
    MalformedXml(String),
    /// Well-formed, but not the SAML message expected here.
    #[error("the message is not a SAML {expected}")]
    UnexpectedMessage {
        /// What was expected (`Response`, `AuthnRequest`, `EntityDescriptor`).
        expected: &'static str,
    },
    /// No signature where the policy requires one.
    #[error("unsigned: {0}")]
    Unsigned(String),
    /// A signature, digest, canonicalization or transform algorithm outside the policy.
    #[error("algorithm not allowed: {0}")]
    AlgorithmNotAllowed(String),
    /// The signature does not verify with a configured certificate.
    #[error("the signature does not verify with the configured certificate: {0}")]
    SignatureInvalid(String),
    /// A signature that does not cover exactly its enclosing Response or Assertion.
    #[error("the signature does not cover its enclosing Response or Assertion: {0}")]
    SignatureReferenceInvalid(String),
    /// More than one Assertion anywhere in the Response.
    #[error("the Response contains {count} Assertions; exactly one is accepted")]
    MultipleAssertions {
        /// How many were found.
        count: usize,
    },
    /// The Response carries no Assertion.
    #[error("the Response contains no Assertion")]
    NoAssertion,
    /// EncryptedAssertion is not supported.
    #[error("the Response contains an EncryptedAssertion, which is not supported")]
    EncryptedAssertionUnsupported,
    /// The Issuer is not the configured IdP.
    #[error("the Issuer {actual:?} is not the configured identity provider {expected:?}")]
    IssuerMismatch {
        /// Configured.
        expected: String,
        /// Received.
        actual: String,
    },
    /// The Response's Destination is not this ACS.
    #[error("the Destination {actual:?} is not this ACS URL {expected:?}")]
    DestinationMismatch {
        /// Configured.
        expected: String,
        /// Received.
        actual: Option<String>,
    },
    /// The bearer SubjectConfirmationData Recipient is not this ACS.
    #[error("the Recipient {actual:?} is not this ACS URL {expected:?}")]
    RecipientMismatch {
        /// Configured.
        expected: String,
        /// Received.
        actual: Option<String>,
    },
    /// No AudienceRestriction names this SP.
    #[error("the audience {expected:?} is not among {actual:?}")]
    AudienceMismatch {
        /// Configured.
        expected: String,
        /// Received (every Audience of the failing restriction).
        actual: Vec<String>,
    },
    /// Past NotOnOrAfter (after the allowed clock skew).
    #[error("expired: {what} NotOnOrAfter {not_on_or_after} is before {now} (clock skew included)")]
    Expired {
        /// Which element.
        what: &'static str,
        /// The limit in the message.
        not_on_or_after: String,
        /// Our clock.
        now: String,
    },
    /// Before NotBefore or IssueInstant (after the allowed clock skew).
    #[error("not yet valid: {what} {not_before} is after {now} (clock skew included)")]
    NotYetValid {
        /// Which element.
        what: &'static str,
        /// The instant in the message.
        not_before: String,
        /// Our clock.
        now: String,
    },
    /// No SubjectConfirmation with the bearer method.
    #[error("the Assertion has no bearer SubjectConfirmation")]
    NoBearerConfirmation,
    /// InResponseTo names a request this SP did not send (or is missing).
    #[error("InResponseTo {actual:?} does not match the outstanding request {expected:?}")]
    InResponseToMismatch {
        /// The request id outstanding for this sign-in, if any.
        expected: Option<String>,
        /// Received.
        actual: Option<String>,
    },
    /// An unsolicited Response while IdP-initiated sign-on is not allowed.
    #[error("the Response answers no request and IdP-initiated sign-on is not allowed")]
    IdpInitiatedNotAllowed,
    /// The IdP reported a failure.
    #[error("the identity provider answered with status {code:?} ({message:?})")]
    StatusNotSuccess {
        /// Top-level and second-level status codes, space-separated.
        code: String,
        /// StatusMessage, if any.
        message: Option<String>,
    },
    /// A required element or attribute is absent.
    #[error("missing {0}")]
    Missing(&'static str),
    /// An IdP metadata document that cannot be used.
    #[error("unusable metadata: {0}")]
    Metadata(String),
    /// Key or certificate handling failed.
    #[error("key: {0}")]
    Key(String),
    /// Writing XML failed.
    #[error("xml: {0}")]
    Xml(String),
    /// The signature engine failed while signing.
    #[error("signing: {0}")]
    Sign(String),
}

impl SamlError {
    /// A stable machine code (snake_case) naming the refusal, for logs and tests.
    pub fn reason(&self) -> &'static str {
        match self {
            SamlError::NoTrustedCertificate => "no_trusted_certificate",
            SamlError::TooLarge { .. } => "too_large",
            SamlError::BadBase64 => "bad_base64",
            SamlError::BadDeflate => "bad_deflate",
            SamlError::DoctypeForbidden => "doctype_forbidden",
            SamlError::MalformedXml(_) => "malformed_xml",
            SamlError::UnexpectedMessage { .. } => "unexpected_message",
            SamlError::Unsigned(_) => "unsigned",
            SamlError::AlgorithmNotAllowed(_) => "algorithm_not_allowed",
            SamlError::SignatureInvalid(_) => "signature_invalid",
            SamlError::SignatureReferenceInvalid(_) => "signature_reference_invalid",
            SamlError::MultipleAssertions { .. } => "multiple_assertions",
            SamlError::NoAssertion => "no_assertion",
            SamlError::EncryptedAssertionUnsupported => "encrypted_assertion_unsupported",
            SamlError::IssuerMismatch { .. } => "issuer_mismatch",
            SamlError::DestinationMismatch { .. } => "destination_mismatch",
            SamlError::RecipientMismatch { .. } => "recipient_mismatch",
            SamlError::AudienceMismatch { .. } => "audience_mismatch",
            SamlError::Expired { .. } => "expired",
            SamlError::NotYetValid { .. } => "not_yet_valid",
            SamlError::NoBearerConfirmation => "no_bearer_confirmation",
            SamlError::InResponseToMismatch { .. } => "in_response_to_mismatch",
            SamlError::IdpInitiatedNotAllowed => "idp_initiated_not_allowed",
            SamlError::StatusNotSuccess { .. } => "status_not_success",
            SamlError::Missing(_) => "missing_element",
            SamlError::Metadata(_) => "metadata_invalid",
            SamlError::Key(_) => "key_error",
            SamlError::Xml(_) => "xml_error",
            SamlError::Sign(_) => "signing_failed",
        }
    }

    /// A fixed sentence, free of message data, that may be shown to the person signing in.
    pub fn summary(&self) -> &'static str {
        match self {
            SamlError::NoTrustedCertificate => "This identity provider has no signing certificate configured.",
            SamlError::TooLarge { .. } => "The SAML message is too large.",
            SamlError::BadBase64 | SamlError::BadDeflate | SamlError::MalformedXml(_) | SamlError::UnexpectedMessage { .. } => {
                "The SAML message could not be read."
            }
            SamlError::DoctypeForbidden => "The SAML message contains a document type declaration, which is not accepted.",
            SamlError::Unsigned(_) => "The SAML message is not signed as required.",
            SamlError::AlgorithmNotAllowed(_) => "The SAML message uses a signature algorithm that is not allowed.",
            SamlError::SignatureInvalid(_) | SamlError::SignatureReferenceInvalid(_) => {
                "The SAML message's signature is not valid for this identity provider."
            }
            SamlError::MultipleAssertions { .. } | SamlError::NoAssertion | SamlError::EncryptedAssertionUnsupported => {
                "The SAML response does not contain exactly one usable assertion."
            }
            SamlError::IssuerMismatch { .. } => "The SAML response comes from an unexpected issuer.",
            SamlError::DestinationMismatch { .. } | SamlError::RecipientMismatch { .. } => {
                "The SAML response was sent to a different address."
            }
            SamlError::AudienceMismatch { .. } => "The SAML response is meant for a different service provider.",
            SamlError::Expired { .. } => "The SAML response has expired.",
            SamlError::NotYetValid { .. } => "The SAML response is not valid yet; check the clocks.",
            SamlError::NoBearerConfirmation => "The SAML response cannot be used for web sign-on.",
            SamlError::InResponseToMismatch { .. } => "The SAML response does not answer this sign-in request.",
            SamlError::IdpInitiatedNotAllowed => "Sign-ins started at the identity provider are not allowed.",
            SamlError::StatusNotSuccess { .. } => "The identity provider could not sign you in.",
            SamlError::Missing(_) => "The SAML message is incomplete.",
            SamlError::Metadata(_) => "The identity provider metadata cannot be used.",
            SamlError::Key(_) | SamlError::Xml(_) | SamlError::Sign(_) => "Something went wrong.",
        }
    }
}

/// Result alias.
pub type Result<T> = std::result::Result<T, SamlError>;

/// At most 200 characters of a value taken from a message, for error text.
pub(crate) fn clip(s: &str) -> String {
    const MAX: usize = 200;
    match s.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_string(),
    }
}
