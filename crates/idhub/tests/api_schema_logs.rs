//! Server tests for the profile schema, filter/search expressions, API tokens and the
//! System Log.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;
use common::*;

#[tokio::test]
async fn custom_attributes_extend_and_validate_profiles() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let (st, schema) = call(s.api(Method::GET, "/api/v1/meta/schemas/user/default")).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(schema["definitions"]["base"]["properties"]["login"]["type"], "string");
        let (st, schema) = call(s.api(Method::POST, "/api/v1/meta/schemas/user/default").json(
            &json!({"definitions": {"custom": {"id": "#custom", "type": "object", "properties": {
            "employeeLevel": {"title": "Level", "type": "integer"},
            "badge": {"title": "Badge", "type": "string", "maxLength": 4}
        }, "required": []}}}),
        ))
        .await;
        assert_eq!(st, StatusCode::OK, "{schema}");
        assert_eq!(schema["definitions"]["custom"]["properties"]["badge"]["maxLength"], 4);
        let mut p = profile("cust@example.com", "C", "U");
        p["employeeLevel"] = json!(3);
        p["badge"] = json!("AB12");
        let (st, u) = call(s.api(Method::POST, "/api/v1/users?activate=false").json(&json!({"profile": p}))).await;
        assert_eq!(st, StatusCode::OK, "{u}");
        p["login"] = json!("cust2@example.com");
        p["badge"] = json!("TOOLONG");
        let (st, body) = call(s.api(Method::POST, "/api/v1/users?activate=false").json(&json!({"profile": p}))).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert_okta_error(&body, "E0000001");
        // a bad definition is refused
        let (st, body) = call(
            s.api(Method::POST, "/api/v1/meta/schemas/user/default")
                .json(&json!({"definitions": {"custom": {"properties": {"login": {"title": "x", "type": "string"}}}}})),
        )
        .await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert_okta_error(&body, "E0000001");
        // remove it again
        let (st, schema) = call(
            s.api(Method::POST, "/api/v1/meta/schemas/user/default")
                .json(&json!({"definitions": {"custom": {"properties": {"badge": null}}}})),
        )
        .await;
        assert_eq!(st, StatusCode::OK);
        assert!(schema["definitions"]["custom"]["properties"].get("badge").is_none());
        // search on a custom attribute
        let (st, found) = call(s.api(Method::GET, "/api/v1/users?search=profile.employeeLevel%20eq%20%223%22")).await;
        assert!(st == StatusCode::OK || st == StatusCode::BAD_REQUEST, "{found}");
    }
}

#[tokio::test]
async fn filter_and_search_expressions() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        create_user(&s, "f1@example.com", Some("Str0ngPassw0rd"), true).await;
        create_user(&s, "f2@example.com", None, false).await;
        let u3 = create_user(&s, "f3@example.com", None, false).await;
        s.api(Method::POST, &format!("/api/v1/users/{}/lifecycle/deactivate", u3["id"].as_str().unwrap())).send().await.unwrap();
        let q = |p: &str| s.api(Method::GET, &format!("/api/v1/users?{p}"));
        let (st, body) = call(q("filter=status%20eq%20%22ACTIVE%22")).await;
        assert_eq!(st, StatusCode::OK, "{body}");
        assert_eq!(body.as_array().unwrap().len(), 1);
        let (_, body) = call(q("filter=status%20eq%20%22STAGED%22%20or%20status%20eq%20%22ACTIVE%22")).await;
        assert_eq!(body.as_array().unwrap().len(), 2);
        let (_, body) = call(q("filter=profile.login%20eq%20%22f2@example.com%22")).await;
        assert_eq!(body.as_array().unwrap().len(), 1);
        // filter excludes DEPROVISIONED unless asked; search includes them
        let (_, body) = call(q("filter=status%20eq%20%22DEPROVISIONED%22")).await;
        assert_eq!(body.as_array().unwrap().len(), 1);
        let (_, body) = call(q("search=profile.login%20sw%20%22F%22")).await;
        assert_eq!(body.as_array().unwrap().len(), 3, "search ignores value case and includes deprovisioned");
        let (_, body) = call(q("search=profile.email%20co%20%22example%22%20and%20status%20eq%20%22STAGED%22")).await;
        assert_eq!(body.as_array().unwrap().len(), 1);
        let (_, body) = call(q("search=lastUpdated%20gt%20%222000-01-01T00:00:00.000Z%22")).await;
        assert_eq!(body.as_array().unwrap().len(), 3);
        // refusals
        for bad in [
            "filter=status%20eq",
            "filter=profile.title%20eq%20%22x%22",
            "filter=(status%20eq%20%22A%22",
            "search=profile.login%20ne%20%22x%22",
            "search=lastUpdated%20gt%20%22yesterday%22",
        ] {
            let (st, body) = call(q(bad)).await;
            assert_eq!(st, StatusCode::BAD_REQUEST, "{bad}: {body}");
            assert_okta_error(&body, "E0000031");
        }
        let (st, body) = call(q("filter=status%20eq%20%22ACTIVE%22&search=status%20eq%20%22ACTIVE%22")).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert_okta_error(&body, "E0000033");
    }
}

#[tokio::test]
async fn api_tokens_list_and_revoke() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let (st, list) = call(s.api(Method::GET, "/api/v1/api-tokens")).await;
        assert_eq!(st, StatusCode::OK);
        let tokens = list.as_array().unwrap();
        assert_eq!(tokens.len(), 1);
        assert!(!list.to_string().contains(&s.token), "the secret is never shown again");
        let (_, current) = call(s.api(Method::GET, "/api/v1/api-tokens/current")).await;
        assert_eq!(current["id"], tokens[0]["id"]);
        assert!(current["lastUsed"].is_string(), "last use is recorded");
        let r = s.api(Method::DELETE, "/api/v1/api-tokens/current").send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        let (st, body) = call(s.api(Method::GET, "/api/v1/users")).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
        assert_okta_error(&body, "E0000011");
        // the revocation is in the log
        let events =
            s.db.store
                .list_events(
                    &idhub_domain::ids::OrgId(s.org_id.clone()),
                    &idhub_store::events::LogQuery {
                        since: 0,
                        until: None,
                        filter: None,
                        q: vec!["revoke".into()],
                        limit: 10,
                        after: None,
                        descending: false,
                        always_next: false,
                    },
                )
                .await
                .unwrap();
        assert_eq!(events.items.len(), 1);
        assert_eq!(events.items[0]["eventType"], "system.api_token.revoke");
    }
}

#[tokio::test]
async fn system_log_queries() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        for i in 0..3 {
            create_user(&s, &format!("log{i}@example.com"), None, false).await;
        }
        let (st, all) = call(s.api(Method::GET, "/api/v1/logs?filter=eventType%20eq%20%22user.lifecycle.create%22")).await;
        assert_eq!(st, StatusCode::OK);
        let all = all.as_array().unwrap().clone();
        assert_eq!(all.len(), 3);
        let e = &all[0];
        for field in [
            "uuid",
            "published",
            "eventType",
            "severity",
            "displayMessage",
            "actor",
            "client",
            "outcome",
            "target",
            "transaction",
            "debugContext",
        ] {
            assert!(e.get(field).is_some(), "{field} in {e}");
        }
        assert_eq!(e["outcome"]["result"], "SUCCESS");
        assert_eq!(e["target"][0]["alternateId"], "log0@example.com");
        // q, sortOrder, limit + polling next link
        let (_, found) = call(s.api(Method::GET, "/api/v1/logs?q=log2@example.com")).await;
        assert_eq!(found.as_array().unwrap().len(), 1);
        let (_, desc) = call(s.api(
            Method::GET,
            "/api/v1/logs?filter=eventType%20eq%20%22user.lifecycle.create%22&sortOrder=DESCENDING&until=2999-01-01T00:00:00.000Z",
        ))
        .await;
        assert_eq!(desc[0]["target"][0]["alternateId"], "log2@example.com");
        let r = s.api(Method::GET, "/api/v1/logs?limit=1").send().await.unwrap();
        let links: Vec<String> = r.headers().get_all("link").iter().map(|v| v.to_str().unwrap().to_string()).collect();
        assert!(links.last().unwrap().ends_with("rel=\"next\""), "a polling query always has next");
        // time bounds
        let (_, none) = call(s.api(Method::GET, "/api/v1/logs?since=2999-01-01T00:00:00.000Z")).await;
        assert_eq!(none.as_array().unwrap().len(), 0);
        let (st, body) = call(s.api(Method::GET, "/api/v1/logs?since=last-tuesday")).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert_okta_error(&body, "E0000030");
        let (st, body) = call(s.api(Method::GET, "/api/v1/logs?filter=bogus%20eq%20%22x%22")).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert_okta_error(&body, "E0000031");
    }
}
