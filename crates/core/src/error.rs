//! The core's one error type. Every service returns it; each surface (the Okta API, the
//! console, the sign-in pages, SAML answers, the workers) maps it to its own shape in
//! one place. A store failure is never read as "absent": lookups that may find nothing
//! return `Option`, so [`CoreError::Store`] always means the store failed.

use crate::permissions::Denied;
use idhub_domain::DomainError;
use idhub_store::StoreError;

/// Why a service refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The object does not exist in this org; the text names it (`"{id} (User)"`).
    #[error("not found: {0}")]
    NotFound(String),
    /// Input failed validation; each cause names its field (`"login: …"`).
    #[error("validation failed: {summary}")]
    Validation { summary: String, causes: Vec<String> },
    /// A unique field already has this value in the org.
    #[error("conflict on {0}")]
    Conflict(String),
    /// A lifecycle or state rule refused (`activate` on an active user, a transition the
    /// current status forbids, a password the policy refuses).
    #[error(transparent)]
    Rule(DomainError),
    /// The permission table refused the caller.
    #[error("forbidden: {0}")]
    Forbidden(Denied),
    /// The operation is not allowed on the object as it is now; `summary` says what was
    /// refused and `causes` what to do about it.
    #[error("{summary}")]
    NotAllowed { kind: NotAllowed, summary: String, causes: Vec<String> },
    /// The object was changed by another request meanwhile; the caller may retry.
    #[error("the object was changed by another request")]
    Stale,
    /// The hub (or another outbound peer) refused or could not be reached.
    #[error("hub: {0}")]
    Hub(String),
    /// The store failed; the cause is logged, never shown.
    #[error("store: {0}")]
    Store(StoreError),
    /// Anything else that should not happen; the cause is logged, never shown.
    #[error("internal: {0}")]
    Internal(String),
}

impl CoreError {
    /// A validation error for one field.
    pub fn invalid(field: &str, message: impl std::fmt::Display) -> Self {
        CoreError::Validation { summary: field.to_string(), causes: vec![format!("{field}: {message}")] }
    }
    /// A validation error with a summary and per-field causes.
    pub fn validation(summary: impl Into<String>, causes: Vec<String>) -> Self {
        CoreError::Validation { summary: summary.into(), causes }
    }
    /// The input is not the shape the service takes (a wire body that parsed but is not
    /// an object where one is needed).
    pub fn bad_body(detail: impl Into<String>) -> Self {
        CoreError::Validation { summary: "body".into(), causes: vec![detail.into()] }
    }
    /// "`what` does not exist", naming the object as Okta's 404 does (`"{id} (User)"`).
    pub fn not_found(what: impl std::fmt::Display) -> Self {
        CoreError::NotFound(what.to_string())
    }
    /// An internal error; `log` is for the log line, never shown.
    pub fn internal(log: impl Into<String>) -> Self {
        CoreError::Internal(log.into())
    }
    /// The per-field causes of a validation error (empty for other errors).
    pub fn causes(&self) -> &[String] {
        match self {
            CoreError::Validation { causes, .. } | CoreError::NotAllowed { causes, .. } => causes,
            _ => &[],
        }
    }
    /// Whether the cause is worth an operator's attention (logged with an error id).
    pub fn is_internal(&self) -> bool {
        matches!(self, CoreError::Store(_) | CoreError::Internal(_))
    }
}

impl From<DomainError> for CoreError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Validation { summary, causes } => CoreError::Validation { summary, causes },
            DomainError::NotFound(what) => CoreError::NotFound(what),
            DomainError::Conflict(field) => CoreError::Conflict(field),
            other => CoreError::Rule(other),
        }
    }
}

impl From<StoreError> for CoreError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => CoreError::NotFound("object".into()),
            StoreError::Conflict(field) => CoreError::Conflict(field.to_string()),
            StoreError::Stale => CoreError::Stale,
            other => CoreError::Store(other),
        }
    }
}

impl From<idhub_store::users::ListError> for CoreError {
    fn from(e: idhub_store::users::ListError) -> Self {
        use idhub_store::users::ListError;
        match e {
            ListError::BadCursor => CoreError::invalid("after", "The cursor is not valid"),
            ListError::Filter(f) => CoreError::invalid("filter", f),
            ListError::Store(s) => s.into(),
        }
    }
}

impl From<Denied> for CoreError {
    fn from(d: Denied) -> Self {
        CoreError::Forbidden(d)
    }
}

/// Why an operation is not allowed on an object as it is now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotAllowed {
    /// Only an inactive object may be deleted (Okta's E0000056).
    DeleteActive,
    /// The profile or credential is mastered by another system (Okta's E0000023).
    MasteredElsewhere,
    /// The group is not the org's own (an app group, Everyone): it cannot be changed
    /// here (Okta's E0000006).
    NotOwnGroup,
    /// An administrator may not take away their own super administrator role (E0000006).
    OwnRole,
}

impl CoreError {
    /// An operation refused for the object's current state.
    pub fn not_allowed(kind: NotAllowed, summary: impl Into<String>, causes: Vec<String>) -> Self {
        CoreError::NotAllowed { kind, summary: summary.into(), causes }
    }
}

/// The core's result.
pub type CoreResult<T> = Result<T, CoreError>;
