//! The Org2Org connector's provisioning "To App", spoke → hub over the hub's API (two orgs
//! on one server here; the two-process walkthrough comes with SAML): Test API
//! Credentials, group assignment with initial status, profile push, deactivation and
//! reactivation, unassignment, and retries while the hub is unreachable.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;
use common::*;
use idhub_jobs::{run_once, Handler, WorkerConfig};
use std::sync::Arc;

async fn drain(s: &TestServer) -> usize {
    let handler: Arc<dyn Handler> = Arc::new(idhub_web::provisioning::Org2OrgHandler {
        store: s.db.store.clone(),
        sealing_key: s.sealing_key.clone(),
        clock: Arc::new(idhub_domain::time::SystemClock),
    });
    let cfg = WorkerConfig::new(idhub_web::provisioning::QUEUE);
    let mut total = 0;
    for _ in 0..20 {
        let n = run_once(&s.db.store, &idhub_domain::time::SystemClock, &cfg, &handler).await.unwrap();
        if n == 0 {
            break;
        }
        total += n;
    }
    total
}

#[tokio::test]
async fn spoke_pushes_the_contractors_group_into_the_hub() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        // the hub: another org on the same server, reached as localhost:PORT
        let hub_host = format!("localhost:{}", s.addr.port());
        let hub_url = format!("http://{hub_host}");
        let (_, hub_token) = idhub_testkit::add_org(&s.db.store, "hub", &hub_url).await;
        let hub = |m: Method, p: &str| s.http.request(m, format!("{hub_url}{p}")).header("Authorization", format!("SSWS {hub_token}"));
        // spoke: the Org2Org app and its API integration
        let (_, app) = call(
            s.api(Method::POST, "/api/v1/apps").json(&json!({ "name": "okta_org2org", "settings": { "app": { "baseUrl": hub_url } } })),
        )
        .await;
        let app_id = app["id"].as_str().unwrap().to_string();
        let (st, body) = call(
            s.api(Method::POST, &format!("/api/v1/apps/{app_id}/connections/default?activate=true"))
                .json(&json!({ "profile": { "authScheme": "TOKEN", "token": "00wrongtoken" } })),
        )
        .await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert!(body["errorCauses"][0]["errorSummary"].as_str().unwrap().contains("refused the API token (401)"), "{body}");
        let (st, conn) = call(
            s.api(Method::POST, &format!("/api/v1/apps/{app_id}/connections/default?activate=true"))
                .json(&json!({ "baseUrl": hub_url, "profile": { "authScheme": "TOKEN", "token": hub_token } })),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{conn}");
        assert_eq!(conn["status"], "ENABLED");
        assert!(!conn.to_string().contains(&hub_token), "the token is never shown again");
        let (st, f) = call(s.api(Method::PUT, &format!("/api/v1/apps/{app_id}/features/USER_PROVISIONING")).json(&json!({ "capabilities": { "create": { "lifecycleCreate": { "status": "ENABLED" } }, "update": { "profile": { "status": "ENABLED" }, "lifecycleDeactivate": { "status": "ENABLED" } } } }))).await;
        assert_eq!(st, StatusCode::OK, "{f}");
        assert_eq!(f["capabilities"]["update"]["lifecycleDeactivate"]["status"], "ENABLED");
        // Contractors assigned with initial status active_with_pass; Sarah joins the group
        let (_, g) = call(s.api(Method::POST, "/api/v1/groups").json(&json!({"profile": {"name": "Contractors"}}))).await;
        let gid = g["id"].as_str().unwrap().to_string();
        call(
            s.api(Method::PUT, &format!("/api/v1/apps/{app_id}/groups/{gid}"))
                .json(&json!({"profile": {"initialStatus": "active_with_pass"}})),
        )
        .await;
        let sarah = create_user(&s, "sarah@spoke.example", Some("Str0ngPassw0rd"), true).await;
        let sid = sarah["id"].as_str().unwrap().to_string();
        assert_eq!(s.api(Method::PUT, &format!("/api/v1/groups/{gid}/users/{sid}")).send().await.unwrap().status(), StatusCode::NO_CONTENT);
        assert!(drain(&s).await >= 1);
        let (st, hub_sarah) = call(hub(Method::GET, "/api/v1/users/sarah@spoke.example")).await;
        assert_eq!(st, StatusCode::OK, "created in the hub: {hub_sarah}");
        assert_eq!(hub_sarah["status"], "ACTIVE");
        assert_eq!(hub_sarah["credentials"]["password"], json!({}), "with_pass sets a password");
        let (_, au) = call(s.api(Method::GET, &format!("/api/v1/apps/{app_id}/users"))).await;
        let scopes: Vec<&str> = au.as_array().unwrap().iter().map(|u| u["scope"].as_str().unwrap()).collect();
        assert_eq!(scopes, vec!["GROUP"], "a group assignment, no direct app user");
        // a profile change in the spoke reaches the hub
        call(
            s.api(Method::POST, &format!("/api/v1/users/{sid}"))
                .json(&json!({"profile": {"title": "Contractor", "lastName": "Lee-Smith"}})),
        )
        .await;
        drain(&s).await;
        let (_, hub_sarah) = call(hub(Method::GET, "/api/v1/users/sarah@spoke.example")).await;
        assert_eq!(hub_sarah["profile"]["title"], "Contractor");
        assert_eq!(hub_sarah["profile"]["lastName"], "Lee-Smith");
        // deactivation in the spoke deactivates in the hub; reactivation reactivates
        call(s.api(Method::POST, &format!("/api/v1/users/{sid}/lifecycle/deactivate"))).await;
        drain(&s).await;
        assert_eq!(call(hub(Method::GET, "/api/v1/users/sarah@spoke.example")).await.1["status"], "DEPROVISIONED");
        call(s.api(Method::POST, &format!("/api/v1/users/{sid}/lifecycle/activate?sendEmail=false"))).await;
        drain(&s).await;
        assert_ne!(call(hub(Method::GET, "/api/v1/users/sarah@spoke.example")).await.1["status"], "DEPROVISIONED");
        // leaving the group (unassignment) deactivates again; nothing is duplicated
        s.api(Method::DELETE, &format!("/api/v1/groups/{gid}/users/{sid}")).send().await.unwrap();
        drain(&s).await;
        assert_eq!(call(hub(Method::GET, "/api/v1/users/sarah@spoke.example")).await.1["status"], "DEPROVISIONED");
        let (_, all) = call(hub(Method::GET, "/api/v1/users?search=profile.login%20eq%20%22sarah@spoke.example%22")).await;
        assert_eq!(all.as_array().unwrap().len(), 1, "exactly one hub user");
        // both System Logs tell the story
        let (_, spoke_log) = call(s.api(Method::GET, "/api/v1/logs?filter=eventType%20eq%20%22application.provision.user.sync%22")).await;
        assert!(spoke_log.as_array().unwrap().len() >= 4);
        let (_, hub_log) = call(hub(Method::GET, "/api/v1/logs?filter=eventType%20eq%20%22user.lifecycle.deactivate%22")).await;
        assert_eq!(hub_log.as_array().unwrap().len(), 2);
    }
}

#[tokio::test]
async fn an_unreachable_hub_means_retries_not_losses() {
    let s = TestServer::start(idhub_store::Backend::Sqlite).await;
    let hub_url = format!("http://localhost:{}", s.addr.port());
    let (_, hub_token) = idhub_testkit::add_org(&s.db.store, "hub", &hub_url).await;
    let (_, app) =
        call(s.api(Method::POST, "/api/v1/apps").json(&json!({ "name": "okta_org2org", "settings": { "app": { "baseUrl": hub_url } } })))
            .await;
    let app_id = app["id"].as_str().unwrap().to_string();
    call(
        s.api(Method::POST, &format!("/api/v1/apps/{app_id}/connections/default?activate=true"))
            .json(&json!({ "profile": { "token": hub_token } })),
    )
    .await;
    // then the hub "moves": nothing listens at the connection's URL any more
    call(
        s.api(Method::POST, &format!("/api/v1/apps/{app_id}/connections/default?activate=false"))
            .json(&json!({ "baseUrl": "http://127.0.0.1:1" })),
    )
    .await;
    s.db.store
        .save_connection(
            &{
                let mut c = s.db.store.get_connection(&idhub_domain::ids::OrgId(s.org_id.clone()), &app_id).await.unwrap();
                c.status = "ENABLED".into();
                c
            },
            &[],
        )
        .await
        .unwrap();
    let u = create_user(&s, "waiting@spoke.example", None, true).await;
    call(s.api(Method::POST, &format!("/api/v1/apps/{app_id}/users")).json(&json!({ "id": u["id"] }))).await;
    drain(&s).await;
    let org = idhub_domain::ids::OrgId(s.org_id.clone());
    let pending = s.db.store.list_jobs(&org, "PENDING", 10).await.unwrap();
    assert_eq!(pending.len(), 1, "kept for a retry with backoff");
    assert!(pending[0].last_error.as_deref().unwrap().contains("unreachable"), "{:?}", pending[0].last_error);
    assert!(s.db.store.list_jobs(&org, "FAILED", 10).await.unwrap().is_empty(), "a network error is not a Task");
}

#[tokio::test]
async fn sync_password_pushes_a_changed_password_to_the_hub_only_when_on() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let hub_url = format!("http://localhost:{}", s.addr.port());
        let (_, hub_token) = idhub_testkit::add_org(&s.db.store, "hub", &hub_url).await;
        let (_, app) = call(
            s.api(Method::POST, "/api/v1/apps").json(&json!({ "name": "okta_org2org", "settings": { "app": { "baseUrl": hub_url } } })),
        )
        .await;
        let app_id = app["id"].as_str().unwrap().to_string();
        let (st, _) = call(
            s.api(Method::POST, &format!("/api/v1/apps/{app_id}/connections/default?activate=true"))
                .json(&json!({ "baseUrl": hub_url, "profile": { "authScheme": "TOKEN", "token": hub_token } })),
        )
        .await;
        assert_eq!(st, StatusCode::OK);
        let features = |password: &str| {
            json!({ "capabilities": { "create": { "lifecycleCreate": { "status": "ENABLED" } },
                "update": { "profile": { "status": "ENABLED" }, "password": { "status": password, "seed": "RANDOM", "change": "CHANGE" } } } })
        };
        let (st, f) =
            call(s.api(Method::PUT, &format!("/api/v1/apps/{app_id}/features/USER_PROVISIONING")).json(&features("DISABLED"))).await;
        assert_eq!(st, StatusCode::OK, "{f}");
        let u = create_user(&s, "pat@spoke.example", Some("First-Passw0rd"), true).await;
        let uid = u["id"].as_str().unwrap().to_string();
        assert_eq!(
            call(
                s.api(Method::POST, &format!("/api/v1/apps/{app_id}/users"))
                    .json(&json!({ "id": uid, "profile": { "initialStatus": "active_with_pass" } }))
            )
            .await
            .0,
            StatusCode::OK
        );
        drain(&s).await;
        let hub_authn = |pw: &'static str| {
            s.http.post(format!("{hub_url}/api/v1/authn")).json(&json!({ "username": "pat@spoke.example", "password": pw }))
        };
        // Sync Password off: a new spoke password stays in the spoke.
        let (st, _) = call(
            s.api(Method::POST, &format!("/api/v1/users/{uid}"))
                .json(&json!({ "credentials": { "password": { "value": "Second-Passw0rd" } } })),
        )
        .await;
        assert_eq!(st, StatusCode::OK);
        drain(&s).await;
        assert_eq!(call(hub_authn("Second-Passw0rd")).await.0, StatusCode::UNAUTHORIZED);
        // Sync Password on: the next change is pushed; the queued copy is scrubbed after use.
        let (st, f) =
            call(s.api(Method::PUT, &format!("/api/v1/apps/{app_id}/features/USER_PROVISIONING")).json(&features("ENABLED"))).await;
        assert_eq!((st, f["capabilities"]["update"]["password"]["status"].as_str()), (StatusCode::OK, Some("ENABLED")), "{f}");
        let (st, _) = call(
            s.api(Method::POST, &format!("/api/v1/users/{uid}"))
                .json(&json!({ "credentials": { "password": { "value": "Third-Passw0rd" } } })),
        )
        .await;
        assert_eq!(st, StatusCode::OK);
        drain(&s).await;
        let (st, body) = call(hub_authn("Third-Passw0rd")).await;
        assert_eq!((st, body["status"].as_str()), (StatusCode::OK, Some("SUCCESS")), "{body}");
        let org = idhub_domain::ids::OrgId(s.org_id.clone());
        let done = s.db.store.list_jobs(&org, "DONE", 100).await.unwrap();
        assert!(done.iter().all(|j| j.payload.get("password").is_none()), "no sealed password left in the queue");
    }
}
