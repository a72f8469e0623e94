//! Server tests for the API's error contract: Okta's error JSON for auth failures,
//! malformed or oversized bodies, wrong content types, unknown routes and methods,
//! rate limits, read-only tokens; health checks and unknown hosts.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;
use common::*;
use idhub_web::ratelimit::RateLimitSettings;

#[tokio::test]
async fn tokens_are_required_and_checked() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let url = format!("{}/api/v1/users", s.base_url);
        for auth in [None, Some("SSWS nope"), Some("Bearer abc"), Some("SSWS")] {
            let mut rb = s.http.get(&url);
            if let Some(a) = auth {
                rb = rb.header("Authorization", a);
            }
            let (st, body) = call(rb).await;
            assert_eq!(st, StatusCode::UNAUTHORIZED, "{auth:?}");
            assert_okta_error(&body, "E0000011");
        }
        // the okta SDK sends no space after SSWS
        let (st, _) = call(s.http.get(&url).header("Authorization", format!("SSWS{}", s.token))).await;
        assert_eq!(st, StatusCode::OK);
    }
}

#[tokio::test]
async fn bodies_are_checked_and_nothing_is_written() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let before = user_count(&s).await;
        let post = || s.api(Method::POST, "/api/v1/users");
        let (st, body) = call(post().header("content-type", "application/json").body("{\"profile\": ")).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert_okta_error(&body, "E0000003");
        let (st, body) = call(post().header("content-type", "text/plain").body("{}")).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert_okta_error(&body, "E0000021");
        let big = format!("{{\"profile\": {{\"login\": \"{}\"}}}}", "x".repeat(1024 * 1024 + 10));
        let (st, body) = call(post().header("content-type", "application/json").body(big)).await;
        assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE);
        assert_okta_error(&body, "E0000003");
        let (st, body) = call(post().json(&json!(["not", "an", "object"]))).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert_okta_error(&body, "E0000003");
        let (st, body) = call(post().json(&json!({"profile": "string"}))).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert_okta_error(&body, "E0000003");
        let (st, body) = call(post().json(&json!({"profile": profile("x@example.com", "", "L")}))).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert_okta_error(&body, "E0000001");
        let (st, body) =
            call(s.api(Method::POST, "/api/v1/users?activate=maybe").json(&json!({"profile": profile("y@example.com", "F", "L")}))).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert_okta_error(&body, "E0000001");
        assert_eq!(user_count(&s).await, before, "no error wrote anything");
    }
}

#[tokio::test]
async fn unknown_routes_and_methods() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let (st, body) = call(s.api(Method::GET, "/api/v1/nothing/here")).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        assert_okta_error(&body, "E0000007");
        let (st, body) = call(s.api(Method::PATCH, "/api/v1/users")).await;
        assert_eq!(st, StatusCode::METHOD_NOT_ALLOWED);
        assert_okta_error(&body, "E0000022");
        // every API response carries rate-limit headers, errors included
        let r = s.api(Method::GET, "/api/v1/nothing").send().await.unwrap();
        for h in ["x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset"] {
            assert!(r.headers().get(h).is_some(), "{h}");
        }
    }
}

#[tokio::test]
async fn health_and_unknown_hosts() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        assert_eq!(s.http.get(format!("{}/health/ready", s.base_url)).send().await.unwrap().status(), StatusCode::OK);
        assert_eq!(s.http.get(format!("{}/health/live", s.base_url)).send().await.unwrap().status(), StatusCode::OK);
        // same server, a Host no org has: plain 404, not JSON
        let r = s
            .http
            .get(format!("{}/api/v1/users", s.base_url))
            .header("Host", "unknown.example:1")
            .header("Authorization", format!("SSWS {}", s.token))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert!(!r.text().await.unwrap().contains("errorCode"));
    }
}

#[tokio::test]
async fn rate_limit_answers_429_with_reset_and_date() {
    let mut settings = idhub_testkit::test_settings();
    settings.rate_limit = RateLimitSettings { org_per_minute: 1000, token_per_minute: 3, ..Default::default() };
    let s = TestServer::start_with(idhub_store::Backend::Sqlite, settings).await;
    let mut last = None;
    for _ in 0..4 {
        last = Some(s.api(Method::GET, "/api/v1/users").send().await.unwrap());
    }
    let r = last.unwrap();
    // the 4th request in the same minute (the window may roll over once; allow it)
    if r.status() == StatusCode::TOO_MANY_REQUESTS {
        let reset: i64 = r.headers()["x-rate-limit-reset"].to_str().unwrap().parse().unwrap();
        assert!(reset > 0);
        assert!(r.headers().get("date").is_some());
        assert_eq!(r.headers()["x-rate-limit-remaining"], "0");
        let body: Value = r.json().await.unwrap();
        assert_okta_error(&body, "E0000047");
    } else {
        let remaining: i64 = r.headers()["x-rate-limit-remaining"].to_str().unwrap().parse().unwrap();
        assert!(remaining >= 0);
    }
}

#[tokio::test]
async fn read_only_tokens_cannot_write() {
    let s = TestServer::start(idhub_store::Backend::Sqlite).await;
    let org = idhub_domain::ids::OrgId(s.org_id.clone());
    let secret = idhub_store::tokens::new_token_secret();
    s.db.store.create_token(&org, "ro", &secret, None, idhub_domain::user::AdminRole::ReadOnlyAdmin, 0, &[]).await.unwrap();
    let ro = |m: Method, p: &str| s.http.request(m, format!("{}{p}", s.base_url)).header("Authorization", format!("SSWS {secret}"));
    assert_eq!(call(ro(Method::GET, "/api/v1/users")).await.0, StatusCode::OK);
    let (st, body) = call(ro(Method::POST, "/api/v1/groups").json(&json!({"profile": {"name": "x"}}))).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_okta_error(&body, "E0000006");
}

#[tokio::test]
async fn paths_that_are_not_utf8_get_the_surface_s_own_not_found() {
    let s = TestServer::start(idhub_store::Backend::Sqlite).await;
    for path in ["/api/v1/users/%FF", "/api/v1/groups/%C3%28/users", "/api/v1/apps/%80/users/x"] {
        let (st, body) = call(s.api(Method::GET, path)).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{path}");
        assert_okta_error(&body, "E0000007");
    }
    for path in ["/admin/user/%FF", "/app/x/%FF/sso/saml", "/sso/idps/%FF"] {
        let r = s.http.get(format!("{}{path}", s.base_url)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"), "{path}");
        assert!(r.text().await.unwrap().contains("<h1>Page not found</h1>"), "{path}");
    }
    // a query that does not decode is no RelayState (not a plain-text refusal)
    let r = s.http.get(format!("{}/sso/idps/nope?fromURI=%FF", s.base_url)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.text().await.unwrap().contains("Identity provider unavailable"));
}
