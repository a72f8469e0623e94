//! Server tests for `/api/v1/users`: every endpoint's success and error paths, on a real
//! loopback server with a fresh database of each backend.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;
use common::*;

const PW: &str = "Str0ngPassw0rd";

#[tokio::test]
async fn create_users_in_every_initial_status() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let u = create_user(&s, "active@example.com", Some(PW), true).await;
        assert_eq!(u["status"], "ACTIVE");
        assert_eq!(u["credentials"]["password"], json!({}));
        assert_eq!(u["credentials"]["provider"]["type"], "OKTA");
        assert!(u["id"].as_str().unwrap().starts_with("00u"));
        let staged = create_user(&s, "staged@example.com", Some(PW), false).await;
        assert_eq!(staged["status"], "STAGED");
        assert!(staged["activated"].is_null());
        let prov = create_user(&s, "nopass@example.com", None, true).await;
        assert_eq!(prov["status"], "PROVISIONED");
        assert!(prov["credentials"].get("password").is_none());
        // provider=true makes a passwordless federated user
        let (st, fed) = call(
            s.api(Method::POST, "/api/v1/users?activate=true&provider=true")
                .json(&json!({"profile": profile("fed@example.com", "F", "U")})),
        )
        .await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(fed["status"], "ACTIVE");
        assert_eq!(fed["credentials"]["provider"]["type"], "FEDERATION");
        // nextLogin=changePassword expires the password at once
        let (st, exp) = call(
            s.api(Method::POST, "/api/v1/users?activate=true&nextLogin=changePassword")
                .json(&json!({"profile": profile("exp@example.com", "E", "U"), "credentials": {"password": {"value": PW}}})),
        )
        .await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(exp["status"], "PASSWORD_EXPIRED");
    }
}

#[tokio::test]
async fn get_by_id_and_login_ignoring_case() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let u = create_user(&s, "Sarah.Lee@Example.com", Some(PW), true).await;
        let id = u["id"].as_str().unwrap();
        let (st, by_id) = call(s.api(Method::GET, &format!("/api/v1/users/{id}"))).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(by_id["profile"]["login"], "Sarah.Lee@Example.com");
        let (st, by_login) = call(s.api(Method::GET, "/api/v1/users/sarah.lee@example.com")).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(by_login["id"], id);
        let (st, body) = call(s.api(Method::GET, "/api/v1/users/nobody@example.com")).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        assert_okta_error(&body, "E0000007");
        // the same login in another case is a duplicate
        let before = user_count(&s).await;
        let (st, body) =
            call(s.api(Method::POST, "/api/v1/users").json(&json!({"profile": profile("SARAH.LEE@example.com", "S", "L")}))).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert_okta_error(&body, "E0000001");
        assert!(body["errorCauses"][0]["errorSummary"].as_str().unwrap().contains("already exists"));
        assert_eq!(user_count(&s).await, before, "nothing written");
    }
}

#[tokio::test]
async fn partial_and_full_updates() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let u = create_user(&s, "upd@example.com", Some(PW), true).await;
        let id = u["id"].as_str().unwrap().to_string();
        let (st, body) =
            call(s.api(Method::POST, &format!("/api/v1/users/{id}")).json(&json!({"profile": {"title": "Engineer", "firstName": "Up"}})))
                .await;
        assert_eq!(st, StatusCode::OK, "{body}");
        assert_eq!(body["profile"]["title"], "Engineer");
        assert_eq!(body["profile"]["lastName"], "User", "partial update keeps the rest");
        // PUT replaces: title is gone
        let (st, body) = call(
            s.api(Method::PUT, &format!("/api/v1/users/{id}")).json(&json!({"profile": profile("upd@example.com", "Full", "Replace")})),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{body}");
        assert!(body["profile"].get("title").is_none(), "PUT removes omitted attributes: {body}");
        assert_eq!(body["profile"]["firstName"], "Full");
        // PUT without required fields is refused and changes nothing
        let (st, body) =
            call(s.api(Method::PUT, &format!("/api/v1/users/{id}")).json(&json!({"profile": {"login": "upd@example.com"}}))).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert_okta_error(&body, "E0000001");
        let (_, now) = call(s.api(Method::GET, &format!("/api/v1/users/{id}"))).await;
        assert_eq!(now["profile"]["firstName"], "Full");
        // unknown attribute, wrong type, too short login
        for bad in [json!({"profile": {"favoriteColor": "red"}}), json!({"profile": {"firstName": 5}}), json!({"profile": {"login": "ab"}})]
        {
            let (st, body) = call(s.api(Method::POST, &format!("/api/v1/users/{id}")).json(&bad)).await;
            assert_eq!(st, StatusCode::BAD_REQUEST, "{bad}");
            assert_okta_error(&body, "E0000001");
        }
        // password change through update; a weak password is refused
        let (st, body) =
            call(s.api(Method::POST, &format!("/api/v1/users/{id}")).json(&json!({"credentials": {"password": {"value": "weak"}}}))).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert_okta_error(&body, "E0000001");
        let (st, _) = call(
            s.api(Method::POST, &format!("/api/v1/users/{id}")).json(&json!({"credentials": {"password": {"value": "An0therGoodOne"}}})),
        )
        .await;
        assert_eq!(st, StatusCode::OK);
    }
}

#[tokio::test]
async fn lifecycle_operations() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let staged = create_user(&s, "life@example.com", Some(PW), false).await;
        let id = staged["id"].as_str().unwrap().to_string();
        let lc = |op: &str| s.api(Method::POST, &format!("/api/v1/users/{id}/lifecycle/{op}"));
        let status = || async { call(s.api(Method::GET, &format!("/api/v1/users/{id}"))).await.1["status"].as_str().unwrap().to_string() };
        let (st, body) = call(lc("activate?sendEmail=false")).await;
        assert_eq!(st, StatusCode::OK);
        assert!(body["activationToken"].is_string() && body["activationUrl"].is_string(), "{body}");
        assert_eq!(status().await, "ACTIVE");
        let (st, body) = call(lc("activate")).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        assert_okta_error(&body, "E0000016");
        assert_eq!(call(lc("suspend")).await.0, StatusCode::OK);
        assert_eq!(status().await, "SUSPENDED");
        let (st, body) = call(lc("suspend")).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert_okta_error(&body, "E0000001");
        assert_eq!(call(lc("unsuspend")).await.0, StatusCode::OK);
        assert_eq!(status().await, "ACTIVE");
        let (st, body) = call(lc("unlock")).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
        let (st, body) = call(lc("expire_password")).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(body["status"], "PASSWORD_EXPIRED");
        let (st, body) = call(lc("reset_password?sendEmail=false")).await;
        assert_eq!(st, StatusCode::OK);
        assert!(body["resetPasswordUrl"].is_string());
        assert_eq!(status().await, "RECOVERY");
        assert_eq!(call(lc("reactivate")).await.0, StatusCode::OK);
        assert_eq!(status().await, "PROVISIONED");
        let (st, body) = call(lc("reactivate")).await;
        assert_eq!(st, StatusCode::OK, "{body}");
        assert_eq!(call(lc("deactivate")).await.0, StatusCode::OK);
        assert_eq!(status().await, "DEPROVISIONED");
        let (st, body) = call(lc("reactivate")).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        assert_okta_error(&body, "E0000038");
        let (st, body) = call(lc("bogus")).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        assert_okta_error(&body, "E0000007");
        // lifecycle responses are JSON objects, never an empty body with a JSON type
        let r = lc("activate").send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.text().await.unwrap(), "{}");
        assert_eq!(status().await, "PROVISIONED", "no password was left after reset, so activation provisions");
        // System Log recorded the story
        let (_, logs) = call(s.api(Method::GET, &format!("/api/v1/logs?filter=target.id eq \"{id}\""))).await;
        let types: Vec<&str> = logs.as_array().unwrap().iter().map(|e| e["eventType"].as_str().unwrap()).collect();
        for t in [
            "user.lifecycle.create",
            "user.lifecycle.activate",
            "user.lifecycle.suspend",
            "user.lifecycle.unsuspend",
            "user.account.reset_password",
            "user.lifecycle.deactivate",
        ] {
            assert!(types.contains(&t), "{t} in {types:?}");
        }
    }
}

#[tokio::test]
async fn delete_deactivates_then_deletes() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let u = create_user(&s, "del@example.com", Some(PW), true).await;
        let id = u["id"].as_str().unwrap();
        let r = s.api(Method::DELETE, &format!("/api/v1/users/{id}")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        assert!(r.headers().get("content-type").is_none(), "an empty 2xx has no JSON content type");
        let (_, body) = call(s.api(Method::GET, &format!("/api/v1/users/{id}"))).await;
        assert_eq!(body["status"], "DEPROVISIONED");
        assert_eq!(s.api(Method::DELETE, &format!("/api/v1/users/{id}")).send().await.unwrap().status(), StatusCode::NO_CONTENT);
        let (st, body) = call(s.api(Method::GET, &format!("/api/v1/users/{id}"))).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        assert_okta_error(&body, "E0000007");
    }
}

#[tokio::test]
async fn list_pages_with_link_headers_and_q() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        for i in 0..5 {
            create_user(&s, &format!("page{i}@example.com"), None, false).await;
        }
        let mut url = format!("{}/api/v1/users?limit=2", s.base_url);
        let mut seen = Vec::new();
        let mut pages = 0;
        loop {
            let r = s.http.get(&url).header("Authorization", format!("SSWS {}", s.token)).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            let links: Vec<String> = r.headers().get_all("link").iter().map(|v| v.to_str().unwrap().to_string()).collect();
            assert!(links[0].ends_with("rel=\"self\""));
            let next = links.iter().find(|l| l.ends_with("rel=\"next\"")).cloned();
            if let Some(n) = &next {
                assert_eq!(links.last(), Some(n), "next must be the last Link header");
            }
            let body: Value = r.json().await.unwrap();
            assert!(body.as_array().unwrap().len() <= 2);
            seen.extend(body.as_array().unwrap().iter().map(|u| u["profile"]["login"].as_str().unwrap().to_string()));
            pages += 1;
            match next {
                Some(n) => url = n.trim_start_matches('<').split('>').next().unwrap().to_string(),
                None => break,
            }
        }
        assert_eq!(pages, 3);
        assert_eq!(seen.len(), 5);
        // a bad cursor is a validation error, not a 500
        let (st, body) = call(s.api(Method::GET, "/api/v1/users?after=notacursor")).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert_okta_error(&body, "E0000001");
        let (st, body) = call(s.api(Method::GET, "/api/v1/users?limit=zero")).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert_okta_error(&body, "E0000001");
        // q: startsWith on first name, last name or email
        create_user(&s, "zed@other.org", None, false).await;
        let (_, body) = call(s.api(Method::GET, "/api/v1/users?q=ZED")).await;
        assert_eq!(body.as_array().unwrap().len(), 1);
        let (_, body) = call(s.api(Method::GET, "/api/v1/users?q=page")).await;
        assert_eq!(body.as_array().unwrap().len(), 5);
    }
}

#[tokio::test]
async fn users_me_is_the_token_owner() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        // the test token has no owner
        let (st, body) = call(s.api(Method::GET, "/api/v1/users/me")).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        assert_okta_error(&body, "E0000007");
    }
}

#[tokio::test]
async fn user_groups_include_everyone_and_group_ids_on_create() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let (_, g) = call(
            s.api(Method::POST, "/api/v1/groups").json(&json!({"profile": {"name": "Contractors", "description": "All Contractors"}})),
        )
        .await;
        let gid = g["id"].as_str().unwrap();
        let (st, u) = call(
            s.api(Method::POST, "/api/v1/users?activate=false")
                .json(&json!({"profile": profile("grp@example.com", "G", "U"), "groupIds": [gid]})),
        )
        .await;
        assert_eq!(st, StatusCode::OK);
        let (_, groups) = call(s.api(Method::GET, &format!("/api/v1/users/{}/groups", u["id"].as_str().unwrap()))).await;
        let names: Vec<&str> = groups.as_array().unwrap().iter().map(|g| g["profile"]["name"].as_str().unwrap()).collect();
        assert_eq!(names, vec!["Everyone", "Contractors"]);
        // an unknown group id refuses the whole create
        let before = user_count(&s).await;
        let (st, body) = call(
            s.api(Method::POST, "/api/v1/users").json(&json!({"profile": profile("grp2@example.com", "G", "U"), "groupIds": ["00gnope"]})),
        )
        .await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert_okta_error(&body, "E0000001");
        assert_eq!(user_count(&s).await, before);
    }
}

#[tokio::test]
async fn logins_are_one_login_whatever_their_unicode_spelling() {
    let s = TestServer::start(idhub_store::Backend::Sqlite).await;
    // created with the decomposed spelling: stored composed (NFC)
    let rene = create_user(&s, "rene\u{301}@example.com", Some(PW), true).await;
    assert_eq!(rene["profile"]["login"], "ren\u{e9}@example.com");
    create_user(&s, "sarah@example.com", Some(PW), true).await;
    let before = user_count(&s).await;
    for same in [
        "REN\u{c9}@example.com",
        "RENE\u{301}@example.com",
        "\u{ff53}\u{ff41}\u{ff52}\u{ff41}\u{ff48}@example.com",
        "\u{ff33}ARAH@example.com",
    ] {
        let (st, body) =
            call(s.api(Method::POST, "/api/v1/users?activate=false").json(&json!({ "profile": profile(same, "A", "B") }))).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{same:?}");
        assert_okta_error(&body, "E0000001");
        assert_eq!(body["errorCauses"][0]["errorSummary"], "login: An object with this field already exists in the current organization");
    }
    assert_eq!(user_count(&s).await, before);
    // any spelling finds the user and signs in
    let (st, u) = call(s.api(Method::GET, "/api/v1/users/RENE\u{301}@example.com")).await;
    assert_eq!((st, u["id"].clone()), (StatusCode::OK, rene["id"].clone()));
    let (st, body) =
        call(s.http.post(format!("{}/api/v1/authn", s.base_url)).json(&json!({"username": "\u{ff53}arah@example.com", "password": PW})))
            .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(body["_embedded"]["user"]["profile"]["login"], "sarah@example.com");
    // accents are not folded: jose and josé are two people
    create_user(&s, "jose@example.com", None, false).await;
    create_user(&s, "jos\u{e9}@example.com", None, false).await;
}
