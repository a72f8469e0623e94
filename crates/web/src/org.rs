//! Tenant routing: the request's `Host` (host and port) selects the org whose base URL
//! has that origin. Unknown hosts get a plain 404. A short-lived cache keeps the lookup
//! off the database on the hot path; orgs created by the CLI show up on the next miss.
//! Every answer of an org whose base URL is https carries HSTS.

use crate::AppState;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use idhub_store::orgs::{host_key, Org};
use idhub_store::StoreError;
use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

const TTL: Duration = Duration::from_secs(5);

/// Recently resolved orgs by routing host.
#[derive(Debug, Default)]
pub struct OrgCache(RwLock<HashMap<String, (Org, Instant)>>);

impl OrgCache {
    fn get(&self, host: &str) -> Option<Org> {
        let map = self.0.read().ok()?;
        map.get(host).filter(|(_, at)| at.elapsed() < TTL).map(|(o, _)| o.clone())
    }
    /// Forget an org so the next request reads it again (after its settings change).
    pub fn invalidate(&self, host: &str) {
        if let Ok(mut map) = self.0.write() {
            map.remove(host);
        }
    }

    fn put(&self, org: &Org) {
        if let Ok(mut map) = self.0.write() {
            if map.len() > 10_000 {
                map.clear();
            }
            map.insert(org.host.clone(), (org.clone(), Instant::now()));
        }
    }
}

/// The org this request is for.
#[derive(Debug, Clone)]
pub struct CurrentOrg(pub Org);

async fn lookup(state: &AppState, host_header: &str) -> Result<Option<Org>, StoreError> {
    for port in [80u16, 443] {
        let key = host_key(host_header, port);
        if let Some(org) = state.orgs.get(&key) {
            return Ok(Some(org));
        }
        match state.store.org_by_host(&key).await {
            Ok(org) => {
                state.orgs.put(&org);
                return Ok(Some(org));
            }
            Err(StoreError::NotFound) => {}
            Err(e) => return Err(e),
        }
        if host_header.contains(':') && !host_header.ends_with(']') {
            break;
        }
    }
    Ok(None)
}

/// Middleware: find the org for the `Host`, or answer 404.
pub async fn resolve_org(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| req.uri().authority().map(|a| a.to_string()));
    let Some(host) = host else {
        return plain_not_found().await.into_response();
    };
    match lookup(&state, &host).await {
        Ok(Some(org)) => {
            let https = crate::signin::session::is_https(&org);
            req.extensions_mut().insert(CurrentOrg(org));
            let mut resp = next.run(req).await;
            if https {
                // An https org is only ever reached over https: browsers remember that.
                resp.headers_mut().insert(header::STRICT_TRANSPORT_SECURITY, axum::http::HeaderValue::from_static("max-age=31536000"));
            }
            resp
        }
        Ok(None) => plain_not_found().await.into_response(),
        Err(e) => crate::error::ApiError::internal(e.to_string()).into_response(),
    }
}

/// A plain-text 404 (unknown host or page).
pub async fn plain_not_found() -> impl IntoResponse {
    (StatusCode::NOT_FOUND, "Not Found\n")
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentOrg {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<CurrentOrg>().cloned().ok_or_else(|| (StatusCode::NOT_FOUND, "Not Found\n").into_response())
    }
}
