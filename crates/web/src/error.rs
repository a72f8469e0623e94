//! The one place that maps failures to Okta's error JSON (okta-wire.md §4). What the
//! client sees and what is logged are kept apart: internal errors are logged with an
//! `errorId` and the client sees only that id.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use idhub_domain::DomainError;
use idhub_store::users::ListError;
use idhub_store::StoreError;
use serde_json::json;

/// An error as the Okta API reports it.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub summary: String,
    pub causes: Vec<String>,
    /// Logged, never sent.
    pub internal: Option<String>,
    /// Extra response headers (rate limits).
    pub headers: Vec<(&'static str, String)>,
}

impl ApiError {
    /// An error with a status, Okta code and summary.
    pub fn new(status: StatusCode, code: &'static str, summary: impl Into<String>) -> Self {
        ApiError { status, code, summary: summary.into(), causes: vec![], internal: None, headers: vec![] }
    }
    /// 400 E0000001 with causes.
    pub fn validation(summary: impl Into<String>, causes: Vec<String>) -> Self {
        let mut e = ApiError::new(StatusCode::BAD_REQUEST, "E0000001", format!("Api validation failed: {}", summary.into()));
        e.causes = causes;
        e
    }
    /// 400 E0000003: the body is not what the endpoint takes.
    pub fn bad_body(detail: impl Into<String>) -> Self {
        let mut e = ApiError::new(StatusCode::BAD_REQUEST, "E0000003", "The request body was not well-formed.");
        e.causes = vec![detail.into()];
        e
    }
    /// 404 E0000007.
    pub fn not_found(what: impl std::fmt::Display) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "E0000007", format!("Not found: Resource not found: {what}"))
    }
    /// 401 E0000011.
    pub fn invalid_token() -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "E0000011", "Invalid token provided")
    }
    /// 403 E0000006.
    pub fn forbidden() -> Self {
        ApiError::new(StatusCode::FORBIDDEN, "E0000006", "You do not have permission to perform the requested action")
    }
    /// 403 E0000006 naming why the permission table refused.
    pub fn denied(why: idhub_core::permissions::Denied) -> Self {
        let mut e = ApiError::forbidden();
        e.causes = vec![why.to_string()];
        e
    }
    /// 400 E0000031 (bad search/filter expression).
    pub fn bad_search(detail: impl Into<String>) -> Self {
        let mut e = ApiError::new(StatusCode::BAD_REQUEST, "E0000031", "Invalid search criteria.");
        e.causes = vec![detail.into()];
        e
    }
    /// 500 E0000009; `log` is written to the log with the error id, never sent.
    pub fn internal(log: impl Into<String>) -> Self {
        let mut e = ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "E0000009", "Internal Server Error");
        e.internal = Some(log.into());
        e
    }
}

/// A fresh error id (Okta's look: `oae` + 22 characters).
pub fn new_error_id() -> String {
    format!("oae{}", idhub_domain::ids::random_base62(22))
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let error_id = new_error_id();
        if let Some(internal) = &self.internal {
            tracing::error!(error_id = %error_id, code = self.code, "{internal}");
        } else if self.status.is_server_error() {
            tracing::error!(error_id = %error_id, code = self.code, "{}", self.summary);
        }
        let body = json!({
            "errorCode": self.code,
            "errorSummary": self.summary,
            "errorLink": self.code,
            "errorId": error_id,
            "errorCauses": self.causes.iter().map(|c| json!({ "errorSummary": c })).collect::<Vec<_>>(),
        });
        let mut resp = (self.status, axum::Json(body)).into_response();
        for (name, value) in self.headers {
            if let Ok(v) = HeaderValue::from_str(&value) {
                resp.headers_mut().insert(name, v);
            }
        }
        resp
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Validation { summary, causes } => ApiError::validation(summary, causes),
            DomainError::NotFound(what) => ApiError::not_found(what),
            DomainError::Conflict(field) => ApiError::validation(
                field.clone(),
                vec![format!("{field}: An object with this field already exists in the current organization")],
            ),
            DomainError::AlreadyActive => {
                ApiError::new(StatusCode::FORBIDDEN, "E0000016", "Activation failed because the user is already active")
            }
            DomainError::WrongStatus(msg) => {
                let mut e = ApiError::new(StatusCode::FORBIDDEN, "E0000038", "This operation is not allowed in the user's current status.");
                e.causes = vec![msg];
                e
            }
            DomainError::InvalidTransition(msg) => ApiError::validation("status", vec![msg]),
            DomainError::PasswordPolicy(req) => {
                ApiError::validation("password", vec![format!("password: Password requirements were not met. {req}")])
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::not_found("object"),
            StoreError::Conflict(field) => DomainError::Conflict(field.to_string()).into(),
            StoreError::Stale => ApiError::new(StatusCode::CONFLICT, "E0000112", "The object was changed by another request; try again."),
            other => ApiError::internal(other.to_string()),
        }
    }
}

/// The one mapping from the core's errors to Okta's error JSON.
impl From<idhub_core::CoreError> for ApiError {
    fn from(e: idhub_core::CoreError) -> Self {
        use idhub_core::CoreError as C;
        match e {
            C::NotFound(what) => ApiError::not_found(what),
            C::Validation { summary, causes } => ApiError::validation(summary, causes),
            C::Conflict(field) => DomainError::Conflict(field).into(),
            C::Rule(rule) => rule.into(),
            C::Forbidden(why) => ApiError::denied(why),
            C::NotAllowed { kind, summary, causes } => {
                let code = match kind {
                    idhub_core::NotAllowed::DeleteActive => "E0000056",
                    idhub_core::NotAllowed::MasteredElsewhere => "E0000023",
                    idhub_core::NotAllowed::NotOwnGroup | idhub_core::NotAllowed::OwnRole => "E0000006",
                };
                let mut e = ApiError::new(StatusCode::FORBIDDEN, code, summary);
                e.causes = causes;
                e
            }
            C::Stale => StoreError::Stale.into(),
            C::Hub(detail) => {
                let mut e = ApiError::new(StatusCode::BAD_REQUEST, "E0000001", "Api validation failed: the hub refused the request");
                e.causes = vec![detail];
                e
            }
            C::Store(err) => ApiError::internal(err.to_string()),
            C::Internal(detail) => ApiError::internal(detail),
        }
    }
}

impl From<ListError> for ApiError {
    fn from(e: ListError) -> Self {
        match e {
            ListError::BadCursor => ApiError::validation("after", vec!["after: The cursor is not valid".into()]),
            ListError::Filter(f) => ApiError::bad_search(f.to_string()),
            ListError::Store(s) => s.into(),
        }
    }
}

/// A panic becomes an Okta 500 with an error id; the panic text is logged only.
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "panic".into());
    ApiError::internal(format!("handler panicked: {detail}")).into_response()
}
