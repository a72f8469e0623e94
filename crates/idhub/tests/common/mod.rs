//! Shared helpers for the server tests.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
#![allow(dead_code)]

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

/// Count users through the API (all statuses).
pub async fn user_count(s: &TestServer) -> usize {
    s.db.store.count_users(&idhub_domain::ids::OrgId(s.org_id.clone())).await.expect("count") as usize
}
