//! The domain's error type. Each variant names what went wrong in terms an API client
//! understands; the web layer maps them to Okta's error codes in one place.

/// A rule of the domain was broken. Carries no storage or transport types.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DomainError {
    /// Input failed validation; `causes` are per-field messages (Okta's `errorCauses`).
    #[error("Api validation failed: {summary}")]
    Validation { summary: String, causes: Vec<String> },
    /// The object does not exist (or is not visible to this org).
    #[error("Not found: {0}")]
    NotFound(String),
    /// A unique field already has this value (login, group name).
    #[error("An object with this field already exists: {0}")]
    Conflict(String),
    /// `activate` on a user that is already active.
    #[error("Activation failed because the user is already active")]
    AlreadyActive,
    /// A lifecycle operation that the user's current status does not allow.
    #[error("{0}")]
    WrongStatus(String),
    /// A lifecycle operation refused as a validation error (Okta answers 400 for these).
    #[error("{0}")]
    InvalidTransition(String),
    /// The password does not meet the org's password policy.
    #[error("Password requirements were not met: {0}")]
    PasswordPolicy(String),
}

impl DomainError {
    /// A validation error for one field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        DomainError::Validation { summary: field.to_string(), causes: vec![format!("{field}: {message}")] }
    }
}
