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

fn id_of(v: &Value) -> &str {
    v["id"].as_str().unwrap()
}

fn links(r: &reqwest::Response) -> Vec<String> {
    r.headers().get_all("link").iter().map(|v| v.to_str().unwrap().to_string()).collect()
}

async fn event_count(s: &TestServer, event_type: &str) -> usize {
    let (st, logs) = call(s.api(Method::GET, &format!("/api/v1/logs?filter=eventType%20eq%20%22{event_type}%22"))).await;
    assert_eq!(st, StatusCode::OK, "{logs}");
    logs.as_array().unwrap().len()
}

#[tokio::test]
async fn templates_activation_filters_and_paging() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let g = app(&s, json!({ "name": "google", "label": "Google Workspace", "settings": { "app": { "domain": "example.com" } } })).await;
        assert_eq!(g["settings"]["signOn"]["ssoAcsUrl"], "https://www.google.com/a/example.com/acs");
        assert_eq!(g["settings"]["signOn"]["audience"], "google.com/a/example.com");
        assert_eq!(g["credentials"]["userNameTemplate"], json!({ "template": "${source.email}", "type": "BUILT_IN" }));
        assert_eq!(g["_links"]["metadata"]["href"], format!("{}/api/v1/apps/{}/sso/saml/metadata", s.base_url, id_of(&g)));
        // activate=false: INACTIVE, one create event and no activate event for it
        let (st, c) = call(s.api(Method::POST, "/api/v1/apps?activate=false").json(&json!({
            "signOnMode": "SAML_2_0", "label": "Custom SP",
            "settings": { "signOn": { "ssoAcsUrl": "https://sp.example/acs", "audience": "https://sp.example",
                "allowMultipleAcsEndpoints": true, "acsEndpoints": [{ "url": "https://sp.example/acs", "index": 0 }, { "url": "https://sp.example/acs2", "index": 1 }] } }
        })))
        .await;
        assert_eq!(st, StatusCode::OK, "{c}");
        assert_eq!(c["status"], "INACTIVE");
        assert_eq!(c["name"], "saml_2_0");
        assert_eq!(c["settings"]["signOn"]["acsEndpoints"][1]["url"], "https://sp.example/acs2");
        assert_eq!(event_count(&s, "application.lifecycle.create").await, 2);
        assert_eq!(event_count(&s, "application.lifecycle.activate").await, 1);
        app(&s, json!({ "name": "dropbox_for_business" })).await;
        // filters
        let (_, inactive) = call(s.api(Method::GET, "/api/v1/apps?filter=status%20eq%20%22INACTIVE%22")).await;
        assert_eq!(inactive.as_array().unwrap().iter().map(|a| a["label"].as_str().unwrap()).collect::<Vec<_>>(), vec!["Custom SP"]);
        let (_, named) = call(s.api(Method::GET, "/api/v1/apps?filter=name%20eq%20%22google%22%20and%20status%20eq%20%22ACTIVE%22")).await;
        assert_eq!(named.as_array().unwrap().len(), 1);
        let (st, bad) = call(s.api(Method::GET, "/api/v1/apps?filter=label%20sw%20%22G%22")).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert_okta_error(&bad, "E0000031");
        let (_, q) = call(s.api(Method::GET, "/api/v1/apps?q=drop")).await;
        assert_eq!(q.as_array().unwrap().len(), 1);
        // paging: self then next; the next page holds the rest
        let r = s.api(Method::GET, "/api/v1/apps?limit=2").send().await.unwrap();
        let l = links(&r);
        assert_eq!(l.len(), 2, "{l:?}");
        assert!(l[0].ends_with("rel=\"self\"") && l[1].ends_with("rel=\"next\""));
        let first: Value = r.json().await.unwrap();
        assert_eq!(first.as_array().unwrap().len(), 2);
        let next = l[1].trim_start_matches('<').split('>').next().unwrap().to_string();
        let r = s.http.get(&next).header("Authorization", format!("SSWS {}", s.token)).send().await.unwrap();
        assert_eq!(links(&r).len(), 1);
        let rest: Value = r.json().await.unwrap();
        assert_eq!(rest.as_array().unwrap().len(), 1);
        assert_ne!(rest[0]["id"], first[0]["id"]);
        assert_ne!(rest[0]["id"], first[1]["id"]);
    }
}

#[tokio::test]
async fn refusals_name_field_and_position_and_write_nothing() {
    let s = TestServer::start(idhub_store::Backend::Sqlite).await;
    let (st, body) = call(s.api(Method::POST, "/api/v1/apps").json(&json!({
        "signOnMode": "SAML_2_0", "label": "x",
        "settings": { "signOn": { "ssoAcsUrl": "https://sp.example/acs", "audience": "a", "subjectNameIdTemplate": "${user.email +}" } }
    })))
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_okta_error(&body, "E0000001");
    assert_eq!(body["errorSummary"], "Api validation failed: settings.signOn.subjectNameIdTemplate");
    assert!(body["errorCauses"][0]["errorSummary"].as_str().unwrap().contains("position 14"), "{body}");
    for (b, field) in [
        (json!({ "signOnMode": "SAML_2_0", "label": "x", "settings": { "signOn": { "audience": "a" } } }), "settings.signOn.ssoAcsUrl"),
        (
            json!({ "signOnMode": "SAML_2_0", "label": "x", "settings": { "signOn": { "ssoAcsUrl": "JavaScript:alert(1)", "audience": "a" } } }),
            "settings.signOn.ssoAcsUrl",
        ),
        (json!({ "name": "salesforce" }), "name"),
        (json!({ "name": "google", "settings": { "app": {} } }), "settings.app.domain"),
        (
            json!({ "name": "dropbox_for_business", "credentials": { "userNameTemplate": { "template": "${String.substringBefore(source.email, }" } } }),
            "credentials.userNameTemplate.template",
        ),
    ] {
        let (st, body) = call(s.api(Method::POST, "/api/v1/apps").json(&b)).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
        assert_eq!(body["errorSummary"], format!("Api validation failed: {field}"), "{body}");
    }
    let (st, body) = call(s.api(Method::POST, "/api/v1/apps").header("Content-Type", "application/json").body("{\"name\":")).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_okta_error(&body, "E0000003");
    let (_, list) = call(s.api(Method::GET, "/api/v1/apps")).await;
    assert_eq!(list, json!([]));
    assert_eq!(event_count(&s, "application.lifecycle.create").await, 0);
    // a refused update leaves the app as it was
    let a = app(&s, json!({ "name": "bookmark", "label": "Wiki", "settings": { "app": { "url": "https://wiki.example" } } })).await;
    let mut bad = a.clone();
    bad["settings"]["app"]["url"] = json!("javascript:alert(1)");
    let (st, _) = call(s.api(Method::PUT, &format!("/api/v1/apps/{}", id_of(&a))).json(&bad)).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (_, got) = call(s.api(Method::GET, &format!("/api/v1/apps/{}", id_of(&a)))).await;
    assert_eq!(got["settings"]["app"]["url"], "https://wiki.example");
    assert_eq!(event_count(&s, "application.lifecycle.update").await, 0);
}

#[tokio::test]
async fn update_round_trips_and_lifecycle_events() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let a = app(&s, json!({ "name": "dropbox_for_business", "credentials": {
            "userNameTemplate": { "template": "${String.substringBefore(source.email, \"@\")}", "pushStatus": "PUSH", "updateOn": "CREATE" } } }))
        .await;
        assert_eq!(a["credentials"]["userNameTemplate"]["type"], "BUILT_IN");
        assert_eq!(a["credentials"]["updateOn"], "CREATE");
        let id = id_of(&a);
        // PUT what GET shows: nothing changes but lastUpdated
        let (st, u) = call(s.api(Method::PUT, &format!("/api/v1/apps/{id}")).json(&a)).await;
        assert_eq!(st, StatusCode::OK, "{u}");
        for k in ["settings", "credentials", "visibility", "accessibility", "label", "status", "signOnMode"] {
            assert_eq!(u[k], a[k], "{k}");
        }
        let mut renamed = u.clone();
        renamed["label"] = json!("Dropbox (Sales)");
        renamed["name"] = json!("google");
        let (st, body) = call(s.api(Method::PUT, &format!("/api/v1/apps/{id}")).json(&renamed)).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
        renamed["name"] = a["name"].clone();
        let (_, u) = call(s.api(Method::PUT, &format!("/api/v1/apps/{id}")).json(&renamed)).await;
        assert_eq!(u["label"], "Dropbox (Sales)");
        for op in ["deactivate", "deactivate", "activate", "deactivate"] {
            let (st, body) = call(s.api(Method::POST, &format!("/api/v1/apps/{id}/lifecycle/{op}"))).await;
            assert_eq!((st, body), (StatusCode::OK, json!({})));
        }
        assert_eq!(call(s.api(Method::POST, &format!("/api/v1/apps/{id}/lifecycle/explode"))).await.0, StatusCode::NOT_FOUND);
        assert_eq!(event_count(&s, "application.lifecycle.update").await, 2);
        assert_eq!(event_count(&s, "application.lifecycle.deactivate").await, 2);
        assert_eq!(event_count(&s, "application.lifecycle.activate").await, 2);
        assert_eq!(s.api(Method::DELETE, &format!("/api/v1/apps/{id}")).send().await.unwrap().status(), StatusCode::NO_CONTENT);
        assert_eq!(event_count(&s, "application.lifecycle.delete").await, 1);
        assert_eq!(call(s.api(Method::DELETE, &format!("/api/v1/apps/{id}"))).await.0, StatusCode::NOT_FOUND);
        let (_, keys) = call(s.api(Method::GET, "/api/v1/apps/0oaNOPE/credentials/keys")).await;
        assert_okta_error(&keys, "E0000007");
    }
}

#[tokio::test]
async fn app_users_show_direct_and_group_scope() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let d = app(&s, json!({ "name": "dropbox_for_business" })).await;
        let did = id_of(&d);
        let ann = create_user(&s, "ann@example.com", None, false).await;
        let bob = create_user(&s, "bob@example.com", None, false).await;
        let cat = create_user(&s, "cat@example.com", None, false).await;
        let (_, g) = call(s.api(Method::POST, "/api/v1/groups").json(&json!({"profile": {"name": "Sales"}}))).await;
        let gid = id_of(&g);
        for u in [&ann, &bob] {
            s.api(Method::PUT, &format!("/api/v1/groups/{gid}/users/{}", id_of(u))).send().await.unwrap();
        }
        let (st, ag) = call(
            s.api(Method::PUT, &format!("/api/v1/apps/{did}/groups/{gid}")).json(&json!({ "priority": 0, "profile": { "role": "sales" } })),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{ag}");
        let (st, _) = call(s.api(Method::PUT, &format!("/api/v1/apps/{did}/groups/{gid}")).json(&json!({ "priority": -1 }))).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert_eq!(call(s.api(Method::PUT, &format!("/api/v1/apps/{did}/groups/00gNOPE")).json(&json!({}))).await.0, StatusCode::NOT_FOUND);
        // bob directly as well, with a chosen username; cat directly only
        let (_, au) = call(
            s.api(Method::POST, &format!("/api/v1/apps/{did}/users"))
                .json(&json!({ "id": id_of(&bob), "credentials": { "userName": "bobby" } })),
        )
        .await;
        assert_eq!(au["credentials"]["userName"], "bobby");
        call(s.api(Method::POST, &format!("/api/v1/apps/{did}/users")).json(&json!({ "id": id_of(&cat) }))).await;
        let (_, users) = call(s.api(Method::GET, &format!("/api/v1/apps/{did}/users"))).await;
        let mut seen: Vec<(String, String, String)> = users
            .as_array()
            .unwrap()
            .iter()
            .map(|u| {
                (
                    u["id"].as_str().unwrap().into(),
                    u["scope"].as_str().unwrap().into(),
                    u["credentials"]["userName"].as_str().unwrap().into(),
                )
            })
            .collect();
        seen.sort();
        let mut want = vec![
            (id_of(&ann).to_string(), "GROUP".to_string(), "ann@example.com".to_string()),
            (id_of(&bob).to_string(), "USER".to_string(), "bobby".to_string()),
            (id_of(&cat).to_string(), "USER".to_string(), "cat@example.com".to_string()),
        ];
        want.sort();
        assert_eq!(seen, want);
        let (st, ann_au) = call(s.api(Method::GET, &format!("/api/v1/apps/{did}/users/{}", id_of(&ann)))).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!((ann_au["scope"].as_str(), ann_au["profile"]["role"].as_str()), (Some("GROUP"), Some("sales")));
        // paging by one
        let r = s.api(Method::GET, &format!("/api/v1/apps/{did}/users?limit=1")).send().await.unwrap();
        assert!(links(&r).last().unwrap().ends_with("rel=\"next\""));
        let (st, _) = call(s.api(Method::GET, &format!("/api/v1/apps/{did}/users?after=x%27y"))).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        // renaming bob's app username is logged
        call(
            s.api(Method::POST, &format!("/api/v1/apps/{did}/users/{}", id_of(&bob)))
                .json(&json!({ "credentials": { "userName": "robert" } })),
        )
        .await;
        assert_eq!(event_count(&s, "application.user_membership.change_username").await, 1);
        // a group-only user cannot be unassigned directly; bob falls back to the group
        let (st, body) = call(s.api(Method::DELETE, &format!("/api/v1/apps/{did}/users/{}", id_of(&ann)))).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert_okta_error(&body, "E0000001");
        assert_eq!(
            s.api(Method::DELETE, &format!("/api/v1/apps/{did}/users/{}", id_of(&bob))).send().await.unwrap().status(),
            StatusCode::NO_CONTENT
        );
        let (_, bob_au) = call(s.api(Method::GET, &format!("/api/v1/apps/{did}/users/{}", id_of(&bob)))).await;
        assert_eq!(bob_au["scope"], "GROUP");
        // removing the group leaves cat only
        assert_eq!(
            s.api(Method::DELETE, &format!("/api/v1/apps/{did}/groups/{gid}")).send().await.unwrap().status(),
            StatusCode::NO_CONTENT
        );
        let (_, users) = call(s.api(Method::GET, &format!("/api/v1/apps/{did}/users"))).await;
        assert_eq!(users.as_array().unwrap().iter().map(|u| u["id"].clone()).collect::<Vec<_>>(), vec![cat["id"].clone()]);
        assert_eq!(call(s.api(Method::GET, &format!("/api/v1/apps/{did}/users/{}", id_of(&ann)))).await.0, StatusCode::NOT_FOUND);
        assert_eq!(event_count(&s, "group.application_assignment.remove").await, 1);
        assert_eq!(event_count(&s, "application.user_membership.remove").await, 1);
    }
}

#[tokio::test]
async fn form_sign_in_dashboard_tiles_in_order_escaped_active_and_visible_only() {
    let s = TestServer::start(idhub_store::Backend::Sqlite).await;
    let pw = "Str0ngPassw0rd";
    let sarah = create_user(&s, "sarah@example.com", Some(pw), true).await;
    let bookmark = app(
        &s,
        json!({ "name": "bookmark", "label": "<b>Wiki</b> & co", "settings": { "app": { "url": "https://wiki.example/?a=1&b=2" } } }),
    )
    .await;
    let custom = app(&s, json!({ "signOnMode": "SAML_2_0", "label": "Atlas", "settings": { "signOn": { "ssoAcsUrl": "https://sp.example/acs", "audience": "sp" } } })).await;
    let inactive = app(&s, json!({ "name": "dropbox_for_business", "label": "Dormant" })).await;
    let hidden = app(&s, json!({ "name": "bookmark", "label": "Secret", "visibility": { "hide": { "web": true } }, "settings": { "app": { "url": "https://x.example" } } })).await;
    for a in [&bookmark, &custom, &inactive, &hidden] {
        call(s.api(Method::POST, &format!("/api/v1/apps/{}/users", id_of(a))).json(&json!({ "id": sarah["id"] }))).await;
    }
    call(s.api(Method::POST, &format!("/api/v1/apps/{}/lifecycle/deactivate", id_of(&inactive)))).await;
    // the hosted sign-in form
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = http.get(format!("{}/login", s.base_url)).send().await.unwrap();
    let csrf_cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .find(|c| c.starts_with("idhub_csrf="))
        .unwrap();
    let csrf = csrf_of(&r.text().await.unwrap());
    let r = http
        .post(format!("{}/login", s.base_url))
        .header("Cookie", &csrf_cookie)
        .form(&[("username", "sarah@example.com"), ("password", pw), ("csrf", &csrf), ("fromURI", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let sid = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .find(|c| c.starts_with("idhub_sid="))
        .unwrap();
    let html = http.get(format!("{}/app/UserHome", s.base_url)).header("Cookie", &sid).send().await.unwrap().text().await.unwrap();
    let b = html.find(&format!("id=\"tile-{}\"", id_of(&bookmark))).expect("bookmark tile");
    let c = html.find(&format!("id=\"tile-{}\"", id_of(&custom))).expect("custom SAML tile");
    assert!(b < c, "tiles in label order");
    assert!(html.contains("&lt;b&gt;Wiki&lt;/b&gt; &amp; co"), "labels are escaped: {html}");
    assert!(!html.contains("<b>Wiki"));
    assert!(html.contains("href=\"https://wiki.example/?a=1&amp;b=2\""), "bookmarks link to their URL");
    assert!(html.contains(&format!("href=\"{}/app/saml_2_0/{}/sso/saml\"", s.base_url, id_of(&custom))));
    assert!(!html.contains("Dormant"), "inactive apps get no tile");
    assert!(!html.contains("Secret"), "hidden apps get no tile");
    // appLinks lists the active ones, hidden flagged
    let (_, al) = call(s.api(Method::GET, &format!("/api/v1/users/{}/appLinks", id_of(&sarah)))).await;
    let got: Vec<(String, bool, u64)> = al
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["label"].as_str().unwrap().to_string(), l["hidden"].as_bool().unwrap(), l["sortOrder"].as_u64().unwrap()))
        .collect();
    assert_eq!(got, vec![("<b>Wiki</b> & co".into(), false, 0), ("Atlas".into(), false, 1), ("Secret".into(), true, 2)]);
    assert_eq!(al[1]["linkUrl"], format!("{}/app/saml_2_0/{}/sso/saml", s.base_url, id_of(&custom)));
}

#[tokio::test]
async fn assignments_do_not_cross_orgs() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let a = app(&s, json!({ "name": "dropbox_for_business" })).await;
        let ann = create_user(&s, "ann@example.com", None, false).await;
        call(s.api(Method::POST, &format!("/api/v1/apps/{}/users", id_of(&a))).json(&json!({ "id": ann["id"] }))).await;
        let host_b = format!("localhost:{}", s.addr.port());
        let (_, token_b) = idhub_testkit::add_org(&s.db.store, "other", &format!("http://{host_b}")).await;
        let b = |m: Method, path: &str| {
            s.http.request(m, format!("{}{path}", s.base_url)).header("Host", &host_b).header("Authorization", format!("SSWS {token_b}"))
        };
        let (_, list) = call(b(Method::GET, "/api/v1/apps")).await;
        assert_eq!(list, json!([]));
        for (m, path) in [
            (Method::GET, format!("/api/v1/apps/{}/users", id_of(&a))),
            (Method::GET, format!("/api/v1/apps/{}/users/{}", id_of(&a), id_of(&ann))),
            (Method::DELETE, format!("/api/v1/apps/{}/users/{}", id_of(&a), id_of(&ann))),
            (Method::POST, format!("/api/v1/apps/{}/lifecycle/deactivate", id_of(&a))),
            (Method::GET, format!("/api/v1/users/{}/appLinks", id_of(&ann))),
        ] {
            let (st, body) = call(b(m, &path)).await;
            assert_eq!(st, StatusCode::NOT_FOUND, "{path}");
            assert_okta_error(&body, "E0000007");
        }
        // org B's own app cannot take org A's user
        let (_, mine) = call(b(Method::POST, "/api/v1/apps").json(&json!({ "name": "dropbox_for_business" }))).await;
        let (st, _) = call(b(Method::POST, &format!("/api/v1/apps/{}/users", id_of(&mine))).json(&json!({ "id": ann["id"] }))).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (_, got) = call(s.api(Method::GET, &format!("/api/v1/apps/{}", id_of(&a)))).await;
        assert_eq!(got["status"], "ACTIVE");
        let (_, users) = call(s.api(Method::GET, &format!("/api/v1/apps/{}/users", id_of(&a)))).await;
        assert_eq!(users.as_array().unwrap().len(), 1);
    }
}
