//! `GET /api/v1/org` (the org's settings, a cheap authenticated call connectors use to
//! test credentials) and small endpoints that belong to later surfaces.

use super::extract::ApiCaller;
use axum::Json;
use idhub_domain::time::format_millis;
use serde_json::{json, Value};

/// `GET /api/v1/org`
pub async fn org_get(caller: ApiCaller) -> Json<Value> {
    let o = &caller.org;
    Json(json!({
        "id": o.id,
        "companyName": o.name,
        "subdomain": o.name.to_lowercase().replace(' ', "-"),
        "website": o.base_url,
        "status": "ACTIVE",
        "created": format_millis(o.created),
        "lastUpdated": format_millis(o.created),
        "_links": { "self": { "href": format!("{}/api/v1/org", o.base_url) } }
    }))
}

/// `GET /api/v1/health`: authenticated liveness for API clients.
pub async fn api_health(_caller: ApiCaller) -> Json<Value> {
    Json(json!({ "status": "ok" }))
}
