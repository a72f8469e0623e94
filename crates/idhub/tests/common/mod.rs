//! Shared helpers for the server tests.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
#![allow(dead_code)]

pub mod browser;
pub mod saml;

#[allow(unused_imports)]
pub use idhub_testkit::{backends, TestServer};
pub use reqwest::{Method, StatusCode};
pub use serde_json::{json, Value};

/// A valid profile for `login`.
pub fn profile(login: &str, first: &str, last: &str) -> Value {
    json!({ "login": login, "email": login, "firstName": first, "lastName": last })
}

/// Create a user; returns the response JSON (panics on failure).
pub async fn create_user(s: &TestServer, login: &str, password: Option<&str>, activate: bool) -> Value {
    let mut body = json!({ "profile": profile(login, "Test", "User") });
    if let Some(pw) = password {
        body["credentials"] = json!({ "password": { "value": pw } });
    }
    let r = s.api(Method::POST, &format!("/api/v1/users?activate={activate}")).json(&body).send().await.expect("send");
    assert_eq!(r.status(), StatusCode::OK, "create {login}");
    r.json().await.expect("json")
}

/// Send and return (status, json body or Null).
pub async fn call(rb: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let r = rb.send().await.expect("send");
    let status = r.status();
    let text = r.text().await.expect("text");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Assert an Okta error body with this code.
pub fn assert_okta_error(body: &Value, code: &str) {
    assert_eq!(body["errorCode"], code, "body: {body}");
    assert!(body["errorSummary"].is_string(), "body: {body}");
    assert!(body["errorId"].as_str().map(|s| s.starts_with("oae")).unwrap_or(false), "body: {body}");
    assert!(body["errorCauses"].is_array(), "body: {body}");
}

/// The CSRF token a page's forms carry (the `csrf` hidden field).
pub fn csrf_of(html: &str) -> String {
    html.split("name=\"csrf\" value=\"").nth(1).and_then(|r| r.split('"').next()).expect("a form with a CSRF token").to_string()
}

/// Count users through the API (all statuses).
pub async fn user_count(s: &TestServer) -> usize {
    s.db.store.count_users(&idhub_domain::ids::OrgId(s.org_id.clone())).await.expect("count") as usize
}

/// Run the provisioning queue of `s` until it is empty (or 20 rounds); returns the jobs run.
pub async fn drain(s: &TestServer) -> usize {
    let handler: std::sync::Arc<dyn idhub_jobs::Handler> = std::sync::Arc::new(idhub_core::provisioning::Org2OrgHandler {
        store: s.db.store.clone(),
        sealing_key: s.sealing_key.clone(),
        clock: std::sync::Arc::new(idhub_domain::time::SystemClock),
        egress: s.egress.clone(),
    });
    let cfg = idhub_jobs::WorkerConfig::new(idhub_core::provisioning::QUEUE);
    let mut total = 0;
    for _ in 0..20 {
        let n = idhub_jobs::run_once(&s.db.store, &idhub_domain::time::SystemClock, &cfg, &handler).await.unwrap();
        if n == 0 {
            break;
        }
        total += n;
    }
    total
}

/// A spoke org with an enabled Org2Org app whose hub is another org on the same server:
/// (app id, hub base URL, hub token).
pub async fn provisioned_app(s: &TestServer) -> (String, String, String) {
    let hub_url = format!("http://localhost:{}", s.addr.port());
    let (_, hub_token) = idhub_testkit::add_org(&s.db.store, "hub", &hub_url).await;
    let (_, app) =
        call(s.api(Method::POST, "/api/v1/apps").json(&json!({ "name": "okta_org2org", "settings": { "app": { "baseUrl": hub_url } } })))
            .await;
    let app_id = app["id"].as_str().unwrap().to_string();
    let (st, conn) = call(
        s.api(Method::POST, &format!("/api/v1/apps/{app_id}/connections/default?activate=true"))
            .json(&json!({ "baseUrl": hub_url, "profile": { "authScheme": "TOKEN", "token": hub_token } })),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{conn}");
    (app_id, hub_url, hub_token)
}
