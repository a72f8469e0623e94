//! Tenant isolation: a token, an id or a login of org A is refused or invisible on
//! org B, on the same server and database.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;
use common::*;

#[tokio::test]
async fn nothing_crosses_orgs() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let host_b = format!("localhost:{}", s.addr.port());
        let (_, token_b) = idhub_testkit::add_org(&s.db.store, "other", &format!("http://{host_b}")).await;
        let b = |m: Method, p: &str, token: &str| {
            s.http.request(m, format!("{}{p}", s.base_url)).header("Host", &host_b).header("Authorization", format!("SSWS {token}"))
        };
        // A's user, A's group
        let ua = create_user(&s, "alice@a.example", None, false).await;
        let (_, ga) = call(s.api(Method::POST, "/api/v1/groups").json(&json!({"profile": {"name": "A team"}}))).await;
        let ua_id = ua["id"].as_str().unwrap();
        let ga_id = ga["id"].as_str().unwrap();
        // A's token on B: 401
        let (st, body) = call(b(Method::GET, "/api/v1/users", &s.token)).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
        assert_okta_error(&body, "E0000011");
        // B's token on A: 401
        let (st, _) = call(s.http.get(format!("{}/api/v1/users", s.base_url)).header("Authorization", format!("SSWS {token_b}"))).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
        // A's ids and login are invisible on B
        assert_eq!(call(b(Method::GET, &format!("/api/v1/users/{ua_id}"), &token_b)).await.0, StatusCode::NOT_FOUND);
        assert_eq!(call(b(Method::GET, "/api/v1/users/alice@a.example", &token_b)).await.0, StatusCode::NOT_FOUND);
        assert_eq!(call(b(Method::GET, &format!("/api/v1/groups/{ga_id}"), &token_b)).await.0, StatusCode::NOT_FOUND);
        assert_eq!(call(b(Method::POST, &format!("/api/v1/users/{ua_id}/lifecycle/activate"), &token_b)).await.0, StatusCode::NOT_FOUND);
        assert_eq!(call(b(Method::DELETE, &format!("/api/v1/users/{ua_id}"), &token_b)).await.0, StatusCode::NOT_FOUND);
        // B's own group cannot take A's user
        let (_, gb) = call(b(Method::POST, "/api/v1/groups", &token_b).json(&json!({"profile": {"name": "B team"}}))).await;
        let (st, _) = call(b(Method::PUT, &format!("/api/v1/groups/{}/users/{ua_id}", gb["id"].as_str().unwrap()), &token_b)).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        // B lists only its own; the same login may exist in both orgs
        let (_, list_b) = call(b(Method::GET, "/api/v1/users", &token_b)).await;
        assert_eq!(list_b.as_array().unwrap().len(), 0);
        let (st, _) = call(
            b(Method::POST, "/api/v1/users?activate=false", &token_b).json(&json!({"profile": profile("alice@a.example", "Alice", "B")})),
        )
        .await;
        assert_eq!(st, StatusCode::OK);
        let (_, logs_b) = call(b(Method::GET, "/api/v1/logs", &token_b)).await;
        assert!(logs_b.as_array().unwrap().iter().all(|e| e["target"].as_array().unwrap().iter().all(|t| t["id"] != ua_id)));
        // A still sees exactly its own user
        let (_, list_a) = call(s.api(Method::GET, "/api/v1/users")).await;
        assert_eq!(list_a.as_array().unwrap().len(), 1);
        assert_eq!(list_a[0]["profile"]["lastName"], "User");
    }
}
