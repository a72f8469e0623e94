//! `/api/v1/apps`: catalog templates, validation, lifecycle, assignments to people and
//! groups with effective visibility, appLinks, dashboard tiles, tenant isolation.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;
use common::*;

async fn app(s: &TestServer, body: Value) -> Value {
    let (st, a) = call(s.api(Method::POST, "/api/v1/apps").json(&body)).await;
    assert_eq!(st, StatusCode::OK, "{a}");
    a
}

fn org2org(hub: &str) -> Value {
    json!({ "name": "okta_org2org", "label": "Okta Org2Org", "settings": { "app": { "baseUrl": hub } } })
}

#[tokio::test]
async fn catalog_apps_are_created_in_okta_shape() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let o = app(&s, org2org("https://hub.example")).await;
        assert_eq!(o["signOnMode"], "SAML_2_0");
        assert_eq!(o["status"], "ACTIVE");
        assert!(o["id"].as_str().unwrap().starts_with("0oa"));
        assert_eq!(o["settings"]["app"]["baseUrl"], "https://hub.example");
        let names: Vec<&str> =
            o["settings"]["signOn"]["attributeStatements"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
        assert_eq!(names, vec!["firstName", "lastName", "email", "login"]);
        assert_eq!(o["credentials"]["userNameTemplate"]["template"], "${source.login}");
        assert!(o["_links"]["appLinks"][0]["href"].as_str().unwrap().ends_with("/sso/saml"));
        let d = app(&s, json!({ "name": "dropbox_for_business", "label": "Dropbox Business" })).await;
        assert_eq!(d["settings"]["signOn"]["ssoAcsUrl"], "https://www.dropbox.com/saml_login");
        let b = app(&s, json!({ "name": "bookmark", "label": "Dropbox (via hub)", "settings": { "app": { "url": "https://hub.example/app/x/1/sso/saml" } } })).await;
        assert_eq!(b["signOnMode"], "BOOKMARK");
        // Hub ACS URL and Audience URI filled in later (the seeds' "Advanced Sign-on Settings")
        let mut upd = o.clone();
        upd["settings"]["app"]["acsUrl"] = json!("https://hub.example/sso/saml2/0oaIDP");
        upd["settings"]["app"]["audRestriction"] = json!("https://hub.example/saml2/service-provider/spX");
        let (st, u) = call(s.api(Method::PUT, &format!("/api/v1/apps/{}", o["id"].as_str().unwrap())).json(&upd)).await;
        assert_eq!(st, StatusCode::OK, "{u}");
        assert_eq!(u["settings"]["signOn"]["ssoAcsUrl"], "https://hub.example/sso/saml2/0oaIDP");
        assert_eq!(u["settings"]["signOn"]["audience"], "https://hub.example/saml2/service-provider/spX");
        let (_, list) = call(s.api(Method::GET, "/api/v1/apps?q=okta")).await;
        assert_eq!(list.as_array().unwrap().len(), 1);
    }
}

#[tokio::test]
async fn bad_apps_are_refused_and_nothing_is_written() {
    let s = TestServer::start(idhub_store::Backend::Sqlite).await;
    let bad = [
        json!({ "name": "okta_org2org" }),
        json!({ "name": "no_such_app" }),
        json!({ "signOnMode": "SAML_2_0", "label": "x", "settings": { "signOn": { "ssoAcsUrl": "javascript:alert(1)", "audience": "a" } } }),
        json!({ "signOnMode": "SAML_2_0", "label": "x", "settings": { "signOn": { "ssoAcsUrl": "https://sp/acs", "audience": "a", "subjectNameIdTemplate": "${String.nope(user.email)}" } } }),
    ];
    for b in bad {
        let (st, body) = call(s.api(Method::POST, "/api/v1/apps").json(&b)).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
        assert_okta_error(&body, "E0000001");
    }
    let (_, list) = call(s.api(Method::GET, "/api/v1/apps")).await;
    assert_eq!(list.as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn lifecycle_and_delete_rules() {
    let s = TestServer::start(idhub_store::Backend::Sqlite).await;
    let a = app(&s, json!({ "name": "dropbox_for_business" })).await;
    let id = a["id"].as_str().unwrap();
    let (st, body) = call(s.api(Method::DELETE, &format!("/api/v1/apps/{id}"))).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_okta_error(&body, "E0000056");
    assert_eq!(call(s.api(Method::POST, &format!("/api/v1/apps/{id}/lifecycle/deactivate"))).await.0, StatusCode::OK);
    let (_, got) = call(s.api(Method::GET, &format!("/api/v1/apps/{id}"))).await;
    assert_eq!(got["status"], "INACTIVE");
    assert_eq!(s.api(Method::DELETE, &format!("/api/v1/apps/{id}")).send().await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(call(s.api(Method::GET, &format!("/api/v1/apps/{id}"))).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn assignments_direct_and_through_groups() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let o = app(&s, org2org("https://hub.example")).await;
        let d = app(&s, json!({ "name": "dropbox_for_business" })).await;
        let hidden = app(&s, json!({ "name": "bookmark", "label": "Hidden", "visibility": { "hide": { "web": true } }, "settings": { "app": { "url": "https://x.example" } } })).await;
        let sarah = create_user(&s, "sarah@example.com", Some("Str0ngPassw0rd"), true).await;
        let bob = create_user(&s, "bob@example.com", None, false).await;
        let (_, g) = call(s.api(Method::POST, "/api/v1/groups").json(&json!({"profile": {"name": "Contractors"}}))).await;
        let gid = g["id"].as_str().unwrap();
        s.api(Method::PUT, &format!("/api/v1/groups/{gid}/users/{}", sarah["id"].as_str().unwrap())).send().await.unwrap();
        // the seeds: Contractors assigned to Org2Org with initial status active_with_pass
        let (st, ag) = call(
            s.api(Method::PUT, &format!("/api/v1/apps/{}/groups/{gid}", o["id"].as_str().unwrap()))
                .json(&json!({"profile": {"initialStatus": "active_with_pass"}})),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{ag}");
        assert_eq!(ag["profile"]["initialStatus"], "active_with_pass");
        let (st, body) = call(
            s.api(Method::PUT, &format!("/api/v1/apps/{}/groups/{gid}", o["id"].as_str().unwrap()))
                .json(&json!({"profile": {"initialStatus": "sometimes"}})),
        )
        .await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert_okta_error(&body, "E0000001");
        // a direct assignment with the app username from the template
        let (st, au) =
            call(s.api(Method::POST, &format!("/api/v1/apps/{}/users", d["id"].as_str().unwrap())).json(&json!({"id": bob["id"]}))).await;
        assert_eq!(st, StatusCode::OK, "{au}");
        assert_eq!(au["credentials"]["userName"], "bob@example.com");
        assert_eq!(au["scope"], "USER");
        s.api(Method::POST, &format!("/api/v1/apps/{}/users", hidden["id"].as_str().unwrap()))
            .json(&json!({"id": sarah["id"]}))
            .send()
            .await
            .unwrap();
        // appLinks: sarah sees Org2Org (through the group) and the hidden bookmark flagged hidden; bob sees Dropbox
        let (_, links) = call(s.api(Method::GET, &format!("/api/v1/users/{}/appLinks", sarah["id"].as_str().unwrap()))).await;
        let labels: Vec<&str> = links.as_array().unwrap().iter().map(|l| l["label"].as_str().unwrap()).collect();
        assert_eq!(labels, vec!["Hidden", "Okta Org2Org"]);
        let (_, links) = call(s.api(Method::GET, &format!("/api/v1/users/{}/appLinks", bob["id"].as_str().unwrap()))).await;
        assert_eq!(links.as_array().unwrap().len(), 1);
        // removal takes effect at once
        assert_eq!(
            s.api(Method::DELETE, &format!("/api/v1/apps/{}/groups/{gid}", o["id"].as_str().unwrap())).send().await.unwrap().status(),
            StatusCode::NO_CONTENT
        );
        let (_, links) = call(s.api(Method::GET, &format!("/api/v1/users/{}/appLinks", sarah["id"].as_str().unwrap()))).await;
        assert_eq!(links.as_array().unwrap().len(), 1);
        assert_eq!(
            s.api(Method::DELETE, &format!("/api/v1/apps/{}/users/{}", d["id"].as_str().unwrap(), bob["id"].as_str().unwrap()))
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::NO_CONTENT
        );
        let (_, logs) = call(s.api(Method::GET, "/api/v1/logs?filter=eventType%20eq%20%22group.application_assignment.add%22")).await;
        assert_eq!(logs.as_array().unwrap().len(), 1);
    }
}

#[tokio::test]
async fn dashboard_shows_assigned_tiles_only() {
    let s = TestServer::start(idhub_store::Backend::Sqlite).await;
    let o = app(&s, org2org("https://hub.example")).await;
    let hidden = app(&s, json!({ "name": "bookmark", "label": "Hidden", "visibility": { "hide": { "web": true } }, "settings": { "app": { "url": "https://x.example" } } })).await;
    let _unassigned = app(&s, json!({ "name": "dropbox_for_business" })).await;
    let sarah = create_user(&s, "sarah@example.com", Some("Str0ngPassw0rd"), true).await;
    let (_, groups) = call(s.api(Method::GET, "/api/v1/groups?q=Everyone")).await;
    let everyone = groups[0]["id"].as_str().unwrap();
    s.api(Method::PUT, &format!("/api/v1/apps/{}/groups/{everyone}", o["id"].as_str().unwrap())).json(&json!({})).send().await.unwrap();
    s.api(Method::POST, &format!("/api/v1/apps/{}/users", hidden["id"].as_str().unwrap()))
        .json(&json!({"id": sarah["id"]}))
        .send()
        .await
        .unwrap();
    let (st, body) = call(
        s.http.post(format!("{}/api/v1/authn", s.base_url)).json(&json!({"username": "sarah@example.com", "password": "Str0ngPassw0rd"})),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let target = format!("{}/app/UserHome", s.base_url);
    let r = http
        .get(format!("{}/login/sessionCookieRedirect", s.base_url))
        .query(&[("token", body["sessionToken"].as_str().unwrap()), ("redirectUrl", &target)])
        .send()
        .await
        .unwrap();
    let sid = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .find(|c| c.starts_with("idhub_sid="))
        .unwrap();
    let html = http.get(&target).header("Cookie", sid).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(&format!("id=\"tile-{}\"", o["id"].as_str().unwrap())), "Org2Org through Everyone: {html}");
    assert!(html.contains("/app/okta_org2org/"));
    assert!(!html.contains("Hidden"), "hidden apps get no tile");
    assert!(!html.contains("Dropbox"), "unassigned apps get no tile");
}

#[tokio::test]
async fn apps_do_not_cross_orgs() {
    let s = TestServer::start(idhub_store::Backend::Sqlite).await;
    let a = app(&s, json!({ "name": "dropbox_for_business" })).await;
    let host_b = format!("localhost:{}", s.addr.port());
    let (_, token_b) = idhub_testkit::add_org(&s.db.store, "other", &format!("http://{host_b}")).await;
    let r = s
        .http
        .get(format!("{}/api/v1/apps/{}", s.base_url, a["id"].as_str().unwrap()))
        .header("Host", &host_b)
        .header("Authorization", format!("SSWS {token_b}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}
