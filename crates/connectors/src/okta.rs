//! A client for Okta's management API (`/api/v1`) authenticated with an `SSWS` token.
//! It reaches the hub only through [`Egress`], and what it reports of a failure never
//! includes the body of a non-Okta answer.

use crate::egress::{self, Egress, EgressError};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Why a call to the hub failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClientError {
    /// No connection (refused, DNS, timeout): a short reason.
    #[error("the hub is unreachable: {0}")]
    Unreachable(String),
    /// The egress rule refused the target: nothing was sent.
    #[error("the call to the hub was not made: {0}")]
    Egress(EgressError),
    /// TLS failed (certificate not trusted, wrong name, protocol).
    #[error("TLS with the hub failed: {0}")]
    Tls(String),
    /// 401: the token is wrong, revoked or expired.
    #[error("the hub refused the API token (401 {code}): {summary}")]
    Unauthorized { code: String, summary: String },
    /// 403: the token is valid but lacks permission (not an admin token).
    #[error("the hub refused the operation (403 {code}): {summary}")]
    Forbidden { code: String, summary: String },
    /// 404.
    #[error("not found on the hub (404 {code}): {summary}")]
    NotFound { code: String, summary: String },
    /// 429: wait until `reset_epoch_ms`.
    #[error("the hub's rate limit was reached (429); it resets at {reset_epoch_ms:?} (epoch ms)")]
    RateLimited { reset_epoch_ms: Option<i64> },
    /// 5xx or an unexpected answer: worth retrying.
    #[error("the hub failed ({status}): {summary}")]
    Server { status: u16, summary: String },
    /// Another 4xx: the request itself is wrong; retrying will not help.
    #[error("the hub rejected the request ({status} {code}): {summary}{}", causes_text(.causes))]
    Rejected { status: u16, code: String, summary: String, causes: Vec<String> },
}

fn causes_text(causes: &[String]) -> String {
    if causes.is_empty() {
        String::new()
    } else {
        format!(" — {}", causes.join("; "))
    }
}

impl ClientError {
    /// Should the job be retried later?
    pub fn is_transient(&self) -> bool {
        matches!(self, ClientError::Unreachable(_) | ClientError::Server { .. } | ClientError::RateLimited { .. })
    }

    /// How long to wait before retrying, when the hub said (429 reset).
    pub fn retry_after_ms(&self, now_ms: i64) -> Option<i64> {
        match self {
            ClientError::RateLimited { reset_epoch_ms: Some(reset) } => Some((reset - now_ms).max(0) + 1_000),
            _ => None,
        }
    }
}

/// The result of "Test API Credentials".
#[derive(Debug, Clone, PartialEq)]
pub struct CredentialCheck {
    /// The token's owner, when the hub tells (`/users/me`).
    pub token_owner: Option<String>,
}

/// A page of a listing and the URL of the next one.
#[derive(Debug, Clone)]
pub struct Page {
    pub items: Vec<Value>,
    pub next: Option<String>,
}

/// A client for one hub.
#[derive(Debug, Clone)]
pub struct OktaClient {
    base_url: String,
    token: String,
    egress: Egress,
}

fn enc(s: &str) -> String {
    utf8_percent_encode(s, NON_ALPHANUMERIC).to_string()
}

impl OktaClient {
    /// A client for the hub at `base_url` (an origin: nothing else is accepted) with an
    /// API token, calling out through `egress` (whose client, shared by its clones, keeps
    /// connections to each hub open between jobs).
    pub fn new(egress: &Egress, base_url: &str, token: &str) -> Result<Self, ClientError> {
        let base_url = egress::parse_origin(base_url).map_err(ClientError::Egress)?;
        Ok(OktaClient { base_url, token: token.to_string(), egress: egress.clone() })
    }

    /// The hub's base URL.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    async fn call(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<(StatusCode, reqwest::header::HeaderMap, Option<Value>), ClientError> {
        let mut rb = self
            .egress
            .request(method.clone(), url)
            .map_err(ClientError::Egress)?
            .header("Authorization", format!("SSWS {}", self.token))
            .header("Accept", "application/json");
        match body {
            Some(b) => rb = rb.json(b),
            None if method == Method::POST || method == Method::PUT => rb = rb.header("Content-Length", "0"),
            None => {}
        }
        let resp = rb.send().await.map_err(classify_transport)?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let text =
            resp.text().await.map_err(|e| ClientError::Server { status: status.as_u16(), summary: format!("reading the answer: {e}") })?;
        let json: Option<Value> = if text.trim().is_empty() { None } else { serde_json::from_str(&text).ok() };
        if status.is_success() {
            return Ok((status, headers, json));
        }
        Err(classify_status(status, &headers, json.as_ref()))
    }

    async fn json(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Value, ClientError> {
        let (_, _, v) = self.call(method, &format!("{}{path}", self.base_url), body).await?;
        Ok(v.unwrap_or(Value::Null))
    }

    /// "Test API Credentials": the token works and may administer users.
    pub async fn test_credentials(&self) -> Result<CredentialCheck, ClientError> {
        let me = match self.json(Method::GET, "/api/v1/users/me", None).await {
            Ok(v) => v.pointer("/profile/login").and_then(Value::as_str).map(str::to_string),
            Err(ClientError::NotFound { .. }) => None,
            Err(e) => return Err(e),
        };
        // Listing users needs an administrator; a plain user's token gets 403 here.
        self.json(Method::GET, "/api/v1/users?limit=1", None).await?;
        Ok(CredentialCheck { token_owner: me })
    }

    /// A user by login (or id); `None` when the hub has no such user.
    pub async fn find_user(&self, login: &str) -> Result<Option<Value>, ClientError> {
        match self.json(Method::GET, &format!("/api/v1/users/{}", enc(login)), None).await {
            Ok(v) => Ok(Some(v)),
            Err(ClientError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Create a user (`activate` and an optional password, as the assignment's initial
    /// status decides).
    pub async fn create_user(&self, profile: &Value, password: Option<&str>, activate: bool) -> Result<Value, ClientError> {
        let mut body = json!({ "profile": profile });
        if let Some(pw) = password {
            body["credentials"] = json!({ "password": { "value": pw } });
        }
        self.json(Method::POST, &format!("/api/v1/users?activate={activate}"), Some(&body)).await
    }

    /// Partial profile update (`POST /users/{id}`): only the given attributes change.
    pub async fn update_profile(&self, id: &str, profile: &Value) -> Result<Value, ClientError> {
        self.json(Method::POST, &format!("/api/v1/users/{}", enc(id)), Some(&json!({ "profile": profile }))).await
    }

    /// Set the user's password.
    pub async fn set_password(&self, id: &str, password: &str) -> Result<Value, ClientError> {
        self.json(
            Method::POST,
            &format!("/api/v1/users/{}", enc(id)),
            Some(&json!({ "credentials": { "password": { "value": password } } })),
        )
        .await
    }

    /// A lifecycle operation (`activate`, `deactivate`, `suspend`, `unsuspend`, …).
    pub async fn lifecycle(&self, id: &str, op: &str, send_email: bool) -> Result<Value, ClientError> {
        self.json(Method::POST, &format!("/api/v1/users/{}/lifecycle/{op}?sendEmail={send_email}", enc(id)), None).await
    }

    /// One page of a listing; pass `next` from the previous page to continue.
    pub async fn page(&self, path_or_next: &str) -> Result<Page, ClientError> {
        let url = if path_or_next.starts_with("http") { path_or_next.to_string() } else { format!("{}{path_or_next}", self.base_url) };
        if !egress::same_origin(&url, &self.base_url) {
            return Err(ClientError::Rejected {
                status: 0,
                code: "idhub".into(),
                summary: format!("the hub sent a next link to another origin: {url}"),
                causes: vec![],
            });
        }
        let (_, headers, body) = self.call(Method::GET, &url, None).await?;
        let items = match body {
            Some(Value::Array(a)) => a,
            _ => vec![],
        };
        Ok(Page { items, next: next_link(&headers) })
    }

    /// A group by exact name (Okta's `q` is a prefix match, so the result is filtered).
    pub async fn find_group(&self, name: &str) -> Result<Option<Value>, ClientError> {
        let mut next = Some(format!("/api/v1/groups?q={}&limit=200", enc(name)));
        while let Some(url) = next {
            let page = self.page(&url).await?;
            if let Some(g) = page.items.into_iter().find(|g| g.pointer("/profile/name").and_then(Value::as_str) == Some(name)) {
                return Ok(Some(g));
            }
            next = page.next;
        }
        Ok(None)
    }

    /// Create a group.
    pub async fn create_group(&self, name: &str, description: Option<&str>) -> Result<Value, ClientError> {
        self.json(Method::POST, "/api/v1/groups", Some(&json!({ "profile": { "name": name, "description": description } }))).await
    }

    /// Rename / redescribe a group.
    pub async fn update_group(&self, id: &str, name: &str, description: Option<&str>) -> Result<Value, ClientError> {
        self.json(
            Method::PUT,
            &format!("/api/v1/groups/{}", enc(id)),
            Some(&json!({ "profile": { "name": name, "description": description } })),
        )
        .await
    }

    /// Delete a group.
    pub async fn delete_group(&self, id: &str) -> Result<(), ClientError> {
        self.call(Method::DELETE, &format!("{}/api/v1/groups/{}", self.base_url, enc(id)), None).await.map(|_| ())
    }

    /// Add a user to a group.
    pub async fn add_member(&self, group: &str, user: &str) -> Result<(), ClientError> {
        self.call(Method::PUT, &format!("{}/api/v1/groups/{}/users/{}", self.base_url, enc(group), enc(user)), None).await.map(|_| ())
    }

    /// Remove a user from a group.
    pub async fn remove_member(&self, group: &str, user: &str) -> Result<(), ClientError> {
        self.call(Method::DELETE, &format!("{}/api/v1/groups/{}/users/{}", self.base_url, enc(group), enc(user)), None).await.map(|_| ())
    }

    /// The hub's user profile schema.
    pub async fn user_schema(&self) -> Result<Value, ClientError> {
        self.json(Method::GET, "/api/v1/meta/schemas/user/default", None).await
    }
}

/// The `rel="next"` URL among the `Link` headers (all of them, whatever their order).
pub fn next_link(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers.get_all("link").iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).find_map(|part| {
        let part = part.trim();
        if !part.contains("rel=\"next\"") {
            return None;
        }
        let start = part.find('<')? + 1;
        let end = part.find('>')?;
        (start < end).then(|| part[start..end].to_string())
    })
}

/// A transport failure as a short reason (the whole chain goes to the log only).
fn classify_transport(e: reqwest::Error) -> ClientError {
    let mut chain = e.to_string();
    let mut innermost = chain.clone();
    let mut refused = false;
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        if let Some(denied) = s.downcast_ref::<EgressError>() {
            return match denied {
                EgressError::Unresolved(_) => ClientError::Unreachable("the host name does not resolve".into()),
                other => ClientError::Egress(other.clone()),
            };
        }
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            refused |= io.kind() == std::io::ErrorKind::ConnectionRefused;
        }
        chain.push_str(": ");
        chain.push_str(&s.to_string());
        innermost = s.to_string();
        src = s.source();
    }
    tracing::info!(error = %chain, "call to the hub failed");
    let lower = chain.to_lowercase();
    if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") || lower.contains("invalid peer") {
        ClientError::Tls(innermost)
    } else if e.is_timeout() {
        ClientError::Unreachable("timed out".into())
    } else if refused {
        ClientError::Unreachable("connection refused".into())
    } else {
        ClientError::Unreachable(innermost)
    }
}

/// An error answer by its status. Only an Okta error body (`errorCode`, `errorSummary`,
/// `errorCauses`) is read; any other body is never repeated (the status's reason
/// phrase stands in for it), so the hub URL cannot be used to read another service.
fn classify_status(status: StatusCode, headers: &reqwest::header::HeaderMap, body: Option<&Value>) -> ClientError {
    let code = body.and_then(|b| b.get("errorCode")).and_then(Value::as_str).unwrap_or_default().to_string();
    let summary = body
        .and_then(|b| b.get("errorSummary"))
        .and_then(Value::as_str)
        .map(|s| s.chars().take(200).collect())
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("no reason given").to_string());
    let causes = body
        .and_then(|b| b.get("errorCauses"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|c| c.get("errorSummary").and_then(Value::as_str).map(str::to_string)).collect())
        .unwrap_or_default();
    match status.as_u16() {
        401 => ClientError::Unauthorized { code, summary },
        403 => ClientError::Forbidden { code, summary },
        404 => ClientError::NotFound { code, summary },
        429 => {
            let reset = headers
                .get("x-rate-limit-reset")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<i64>().ok())
                .filter(|r| *r > 0);
            ClientError::RateLimited { reset_epoch_ms: reset.map(|r| r * 1000) }
        }
        s if s >= 500 => ClientError::Server { status: s, summary },
        s => ClientError::Rejected { status: s, code, summary, causes },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};

    #[test]
    fn next_link_in_any_order_or_combined() {
        let mut h = HeaderMap::new();
        h.append("link", HeaderValue::from_static("<http://h/api/v1/users?after=a>; rel=\"next\""));
        h.append("link", HeaderValue::from_static("<http://h/api/v1/users>; rel=\"self\""));
        assert_eq!(next_link(&h).as_deref(), Some("http://h/api/v1/users?after=a"));
        let mut h = HeaderMap::new();
        h.insert("link", HeaderValue::from_static("<http://h/x>; rel=\"self\", <http://h/x?after=b>; rel=\"next\""));
        assert_eq!(next_link(&h).as_deref(), Some("http://h/x?after=b"));
        assert_eq!(next_link(&HeaderMap::new()), None);
    }

    #[test]
    fn statuses_are_classified() {
        let mut h = HeaderMap::new();
        h.insert("x-rate-limit-reset", HeaderValue::from_static("1700000000"));
        let e = classify_status(StatusCode::TOO_MANY_REQUESTS, &h, None);
        assert_eq!(e, ClientError::RateLimited { reset_epoch_ms: Some(1_700_000_000_000) });
        assert!(e.is_transient());
        assert_eq!(e.retry_after_ms(1_699_999_990_000), Some(11_000));
        let body = json!({"errorCode": "E0000001", "errorSummary": "Api validation failed: login", "errorCauses": [{"errorSummary": "login: already exists"}]});
        let e = classify_status(StatusCode::BAD_REQUEST, &HeaderMap::new(), Some(&body));
        assert!(!e.is_transient());
        assert!(e.to_string().contains("login: already exists"));
        assert!(classify_status(StatusCode::BAD_GATEWAY, &HeaderMap::new(), None).is_transient());
        assert!(matches!(classify_status(StatusCode::UNAUTHORIZED, &HeaderMap::new(), None), ClientError::Unauthorized { .. }));
    }

    #[test]
    fn a_body_that_is_not_an_okta_error_is_never_repeated() {
        // what `call` passes for a body that is not JSON: nothing of it
        let e = classify_status(StatusCode::NOT_FOUND, &HeaderMap::new(), None);
        assert_eq!(e, ClientError::NotFound { code: String::new(), summary: "Not Found".into() });
        let e = classify_status(StatusCode::INTERNAL_SERVER_ERROR, &HeaderMap::new(), Some(&json!({"secret": "s3cr3t"})));
        assert!(!e.to_string().contains("s3cr3t"), "{e}");
    }
}
