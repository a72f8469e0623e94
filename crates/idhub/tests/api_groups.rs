//! Server tests for `/api/v1/groups` and memberships.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;
use common::*;

#[tokio::test]
async fn group_crud_members_and_search() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let (st, g) = call(
            s.api(Method::POST, "/api/v1/groups").json(&json!({"profile": {"name": "Contractors", "description": "All Contractors"}})),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{g}");
        assert_eq!(g["type"], "OKTA_GROUP");
        assert_eq!(g["objectClass"], json!(["okta:user_group"]));
        let gid = g["id"].as_str().unwrap().to_string();
        let (st, body) = call(s.api(Method::POST, "/api/v1/groups").json(&json!({"profile": {"name": "contractors"}}))).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "names are unique ignoring case");
        assert_okta_error(&body, "E0000001");
        let (st, body) = call(s.api(Method::POST, "/api/v1/groups").json(&json!({"profile": {"description": "no name"}}))).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert_okta_error(&body, "E0000001");
        // rename
        let (st, g2) = call(
            s.api(Method::PUT, &format!("/api/v1/groups/{gid}")).json(&json!({"profile": {"name": "Contractors EU", "description": "d"}})),
        )
        .await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(g2["profile"]["name"], "Contractors EU");
        // members
        let u1 = create_user(&s, "m1@example.com", None, false).await;
        let u2 = create_user(&s, "m2@example.com", None, false).await;
        for u in [&u1, &u2] {
            let r = s.api(Method::PUT, &format!("/api/v1/groups/{gid}/users/{}", u["id"].as_str().unwrap())).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::NO_CONTENT);
        }
        // adding twice is fine
        assert_eq!(
            s.api(Method::PUT, &format!("/api/v1/groups/{gid}/users/{}", u1["id"].as_str().unwrap())).send().await.unwrap().status(),
            StatusCode::NO_CONTENT
        );
        let (_, members) = call(s.api(Method::GET, &format!("/api/v1/groups/{gid}/users"))).await;
        assert_eq!(members.as_array().unwrap().len(), 2);
        let (_, page) = call(s.api(Method::GET, &format!("/api/v1/groups/{gid}/users?limit=1"))).await;
        assert_eq!(page.as_array().unwrap().len(), 1);
        assert_eq!(
            s.api(Method::DELETE, &format!("/api/v1/groups/{gid}/users/{}", u1["id"].as_str().unwrap())).send().await.unwrap().status(),
            StatusCode::NO_CONTENT
        );
        let (_, members) = call(s.api(Method::GET, &format!("/api/v1/groups/{gid}/users"))).await;
        assert_eq!(members.as_array().unwrap().len(), 1);
        let (st, body) = call(s.api(Method::PUT, &format!("/api/v1/groups/{gid}/users/00unope"))).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        assert_okta_error(&body, "E0000007");
        // q and listing; Everyone is built in and cannot be changed
        let (_, list) = call(s.api(Method::GET, "/api/v1/groups?q=contr")).await;
        assert_eq!(list.as_array().unwrap().len(), 1);
        let (_, all) = call(s.api(Method::GET, "/api/v1/groups")).await;
        let everyone = all.as_array().unwrap().iter().find(|g| g["profile"]["name"] == "Everyone").unwrap().clone();
        assert_eq!(everyone["type"], "BUILT_IN");
        let eid = everyone["id"].as_str().unwrap();
        assert_eq!(call(s.api(Method::DELETE, &format!("/api/v1/groups/{eid}"))).await.0, StatusCode::FORBIDDEN);
        let (_, everyone_members) = call(s.api(Method::GET, &format!("/api/v1/groups/{eid}/users"))).await;
        assert_eq!(everyone_members.as_array().unwrap().len(), 2);
        // delete
        assert_eq!(s.api(Method::DELETE, &format!("/api/v1/groups/{gid}")).send().await.unwrap().status(), StatusCode::NO_CONTENT);
        assert_eq!(call(s.api(Method::GET, &format!("/api/v1/groups/{gid}"))).await.0, StatusCode::NOT_FOUND);
        // events
        let (_, logs) = call(s.api(Method::GET, "/api/v1/logs?filter=eventType eq \"group.user_membership.add\"")).await;
        assert_eq!(logs.as_array().unwrap().len(), 2, "{logs}");
    }
}
