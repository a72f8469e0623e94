//! Bad input that must be refused in the surface's own shape and change nothing:
//! control characters in profile strings, group names, app labels and IdP names, by
//! the API and the admin console alike.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;
use common::browser::signed_in_admin;
use common::*;

const CONTROLS: &[&str] = &["\u{0}", "\u{b}", "\u{c}", "\u{7f}", "\u{85}"];

fn assert_names(body: &Value, field: &str) {
    assert_okta_error(body, "E0000001");
    let causes: Vec<&str> = body["errorCauses"].as_array().unwrap().iter().filter_map(|c| c["errorSummary"].as_str()).collect();
    assert!(causes.contains(&format!("{field}: Must not contain control characters").as_str()), "{body}");
}

#[tokio::test]
async fn control_characters_in_profiles_are_refused_by_the_api() {
    let s = TestServer::start(idhub_store::Backend::Sqlite).await;
    let sarah = create_user(&s, "sarah@example.com", None, false).await;
    let before = user_count(&s).await;
    for c in CONTROLS {
        for field in ["login", "firstName", "city"] {
            let mut p = profile("new.user@example.com", "New", "User");
            p[field] = json!(format!("{}x{c}y", p[field].as_str().unwrap_or("")));
            let (st, body) = call(s.api(Method::POST, "/api/v1/users?activate=false").json(&json!({ "profile": p }))).await;
            assert_eq!(st, StatusCode::BAD_REQUEST, "{field} {c:?}");
            assert_names(&body, field);
        }
        let (st, body) = call(
            s.api(Method::POST, &format!("/api/v1/users/{}", sarah["id"].as_str().unwrap()))
                .json(&json!({ "profile": { "nickName": format!("a{c}") } })),
        )
        .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{c:?}");
        assert_names(&body, "nickName");
    }
    assert_eq!(user_count(&s).await, before);
    let (_, u) = call(s.api(Method::GET, &format!("/api/v1/users/{}", sarah["id"].as_str().unwrap()))).await;
    assert!(u["profile"].get("nickName").is_none());
}

#[tokio::test]
async fn control_characters_in_names_and_labels_are_refused_by_the_api() {
    let s = TestServer::start(idhub_store::Backend::Sqlite).await;
    for c in CONTROLS {
        let (st, body) = call(s.api(Method::POST, "/api/v1/groups").json(&json!({ "profile": { "name": format!("G{c}x") } }))).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{c:?}");
        assert_names(&body, "name");
        let (st, body) =
            call(s.api(Method::POST, "/api/v1/groups").json(&json!({ "profile": { "name": "G", "description": format!("d{c}") } }))).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{c:?}");
        assert_names(&body, "description");
        let (st, body) = call(s.api(Method::POST, "/api/v1/apps").json(&json!({
            "signOnMode": "SAML_2_0", "label": format!("App{c}x"),
            "settings": { "signOn": { "ssoAcsUrl": "https://sp.example/acs", "audience": "https://sp.example/md" } }
        })))
        .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{c:?}");
        assert_okta_error(&body, "E0000001");
        let (st, body) = call(s.api(Method::POST, "/api/v1/idps").json(&json!({
            "type": "SAML2", "name": format!("Partner{c}x"),
            "protocol": { "type": "SAML2", "endpoints": { "sso": { "url": "http://127.0.0.1:9/sso", "binding": "HTTP-POST" } },
                          "credentials": { "trust": { "issuer": "urn:partner", "kid": "k" } } }
        })))
        .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{c:?}");
        assert_names(&body, "name");
    }
    let (_, groups) = call(s.api(Method::GET, "/api/v1/groups")).await;
    assert_eq!(groups.as_array().unwrap().len(), 1, "only Everyone: {groups}");
    let (_, apps) = call(s.api(Method::GET, "/api/v1/apps")).await;
    assert_eq!(apps.as_array().unwrap().len(), 0);
    let (_, idps) = call(s.api(Method::GET, "/api/v1/idps")).await;
    assert_eq!(idps.as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn the_console_refuses_what_the_api_refuses() {
    let s = TestServer::start(idhub_store::Backend::Sqlite).await;
    let mut b = signed_in_admin(&s, "boss@example.com", "SUPER_ADMIN").await;
    for c in CONTROLS {
        let (st, html, _) = b.post("/admin/groups", &[("name", &format!("a{c}b")), ("description", "")]).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{c:?}");
        assert!(html.contains("Must not contain control characters"), "{html}");
    }
    let (st, _, loc) = b.post("/admin/groups", &[("name", "Contractors")]).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let group = loc.unwrap().split('?').next().unwrap().to_string();
    let (st, html, _) = b.post(&format!("{group}/profile"), &[("name", "Contr\u{0}actors"), ("description", "")]).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(html.contains("Must not contain control characters"), "{html}");
    let (_, groups) = call(s.api(Method::GET, "/api/v1/groups")).await;
    let names: Vec<&str> = groups.as_array().unwrap().iter().map(|g| g["profile"]["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["Everyone", "Contractors"]);
}

#[tokio::test]
async fn forms_that_cannot_be_read_get_a_page_not_framework_text() {
    let s = TestServer::start(idhub_store::Backend::Sqlite).await;
    for (content_type, body) in
        [("application/json", "{\"username\": \"a\"}"), ("text/plain", "x"), ("application/x-www-form-urlencoded", "a=%FF")]
    {
        let r = s.http.post(format!("{}/login", s.base_url)).header("content-type", content_type).body(body).send().await.unwrap();
        assert!(r.status().is_client_error(), "{content_type}");
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"), "{content_type}");
        let html = r.text().await.unwrap();
        assert!(html.contains("<h1>Request refused</h1>"), "{content_type}: {html}");
    }
}
