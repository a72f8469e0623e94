//! Per-request context: a request id (`X-Okta-Request-Id`), the client's address and
//! user agent, for System Log events and error correlation.

use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use idhub_domain::event::ClientInfo;
use std::net::SocketAddr;

/// The id of the current request.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Give every request an id and echo it in the response.
pub async fn assign_request_id(mut req: Request, next: Next) -> Response {
    let id = idhub_domain::ids::random_base62(24);
    req.extensions_mut().insert(RequestId(id.clone()));
    let mut resp = next.run(req).await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-okta-request-id", v);
    }
    resp
}

/// A path whose percent-escapes do not decode to UTF-8 names nothing here. Refused
/// before routing, in the surface's shape (axum's path extractor would answer plain
/// text): Okta's 404 JSON under `/api/v1`, a readable page elsewhere.
pub async fn refuse_undecodable_path(req: Request, next: Next) -> Response {
    let decoded = percent_encoding::percent_decode_str(req.uri().path());
    if decoded.clone().decode_utf8().is_ok() {
        return next.run(req).await;
    }
    let shown = decoded.decode_utf8_lossy().into_owned();
    if shown == "/api/v1" || shown.starts_with("/api/v1/") {
        return crate::error::ApiError::not_found(format!("{shown} ({})", req.method())).into_response();
    }
    let org = req.extensions().get::<crate::org::CurrentOrg>().map(|o| o.0.name.clone()).unwrap_or_default();
    let mut resp = crate::html::error_page(StatusCode::NOT_FOUND, &org, "Page not found", "There is no page at this address.");
    crate::html::add_security_headers(resp.headers_mut());
    resp
}

/// An extractor's rejection (axum answers a form, query or path it cannot read with a
/// plain-text 4xx) in the surface's shape: Okta's E0000003 JSON under `/api/v1`, a
/// readable page elsewhere. The framework's text (which names Rust types) is not sent.
pub async fn rejections_in_surface_shape(req: Request, next: Next) -> Response {
    let api = req.uri().path() == "/api/v1" || req.uri().path().starts_with("/api/v1/");
    let org = req.extensions().get::<crate::org::CurrentOrg>().map(|o| o.0.name.clone()).unwrap_or_default();
    let resp = next.run(req).await;
    let status = resp.status();
    let plain =
        resp.headers().get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/plain"));
    let rejection = matches!(
        status,
        StatusCode::BAD_REQUEST | StatusCode::PAYLOAD_TOO_LARGE | StatusCode::UNSUPPORTED_MEDIA_TYPE | StatusCode::UNPROCESSABLE_ENTITY
    );
    if !(plain && rejection) {
        return resp;
    }
    if api {
        let mut e = crate::error::ApiError::bad_body("The request could not be read.");
        e.status = status;
        return e.into_response();
    }
    let mut page =
        crate::html::error_page(status, &org, "Request refused", "The request could not be read. Go back, reload the page and try again.");
    crate::html::add_security_headers(page.headers_mut());
    page
}

/// Who is calling, for the System Log.
#[derive(Debug, Clone)]
pub struct Client(pub ClientInfo);

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let ip = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
        let ua = parts.headers.get("user-agent").and_then(|v| v.to_str().ok()).map(|s| s.chars().take(512).collect());
        let rid = parts.extensions.get::<RequestId>().map(|r| r.0.clone());
        Ok(Client(ClientInfo { ip_address: ip, user_agent: ua, request_id: rid, request_uri: Some(parts.uri.path().to_string()) }))
    }
}
