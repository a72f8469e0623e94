//! The Org2Org connector's provisioning "To App", spoke → hub over the hub's API (two orgs
//! on one server here; the two-process walkthrough comes with SAML): Test API
//! Credentials, group assignment with initial status, profile push, deactivation and
//! reactivation, unassignment, and retries while the hub is unreachable.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;
use common::*;

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
    // then the hub "moves" (a new origin takes the token again): nothing listens there
    let (st, moved) = call(
        s.api(Method::POST, &format!("/api/v1/apps/{app_id}/connections/default?activate=false"))
            .json(&json!({ "baseUrl": "http://127.0.0.1:1", "profile": { "token": hub_token } })),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{moved}");
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

async fn hub_members(s: &TestServer, hub_url: &str, token: &str, gid: &str) -> Vec<String> {
    let (st, m) = call(s.http.get(format!("{hub_url}/api/v1/groups/{gid}/users")).header("Authorization", format!("SSWS {token}"))).await;
    assert_eq!(st, StatusCode::OK, "{m}");
    let mut logins: Vec<String> = m.as_array().unwrap().iter().map(|u| u["profile"]["login"].as_str().unwrap().to_string()).collect();
    logins.sort();
    logins
}

#[tokio::test]
async fn push_groups_creates_links_syncs_and_unlinks_hub_groups() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let (app_id, hub_url, hub_token) = provisioned_app(&s).await;
        let hub = |m: Method, p: &str| s.http.request(m, format!("{hub_url}{p}")).header("Authorization", format!("SSWS {hub_token}"));
        // Contractors is assigned to the app; Sarah and Bob are in it and provisioned
        let (_, g) =
            call(s.api(Method::POST, "/api/v1/groups").json(&json!({"profile": {"name": "Contractors", "description": "ext"}}))).await;
        let gid = g["id"].as_str().unwrap().to_string();
        call(s.api(Method::PUT, &format!("/api/v1/apps/{app_id}/groups/{gid}")).json(&json!({}))).await;
        let mut ids = vec![];
        for login in ["sarah@spoke.example", "bob@spoke.example", "carol@spoke.example"] {
            let u = create_user(&s, login, None, true).await;
            ids.push(u["id"].as_str().unwrap().to_string());
        }
        for id in &ids[..2] {
            s.api(Method::PUT, &format!("/api/v1/groups/{gid}/users/{id}")).send().await.unwrap();
        }
        drain(&s).await;
        // bad input: nothing pushed, Okta's error shape
        let (st, e) =
            call(s.api(Method::POST, &format!("/api/v1/apps/{app_id}/idhub/group-push")).json(&json!({"groupId": "00gnope"}))).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");
        assert_eq!(e["errorCode"], "E0000001");
        let (st, e) = call(s.api(Method::POST, &format!("/api/v1/apps/{app_id}/idhub/group-push")).json(&json!({}))).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");
        // push by name → the hub group is created with the provisioned members
        let (st, m) =
            call(s.api(Method::POST, &format!("/api/v1/apps/{app_id}/idhub/group-push")).json(&json!({"groupName": "contractors"}))).await;
        assert_eq!(st, StatusCode::OK, "{m}");
        let mid = m[0]["id"].as_str().unwrap().to_string();
        assert_eq!(m[0]["status"], "PENDING");
        let (st, e) = call(s.api(Method::POST, &format!("/api/v1/apps/{app_id}/idhub/group-push")).json(&json!({"groupId": gid}))).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "pushed twice: {e}");
        drain(&s).await;
        let (_, list) = call(s.api(Method::GET, &format!("/api/v1/apps/{app_id}/idhub/group-push"))).await;
        assert_eq!(list[0]["status"], "ACTIVE", "{list}");
        assert!(list[0]["lastPush"].is_string());
        let hub_gid = list[0]["targetGroupId"].as_str().unwrap().to_string();
        let (_, hg) = call(hub(Method::GET, &format!("/api/v1/groups/{hub_gid}"))).await;
        assert_eq!(hg["profile"]["name"], "Contractors");
        assert_eq!(hub_members(&s, &hub_url, &hub_token, &hub_gid).await, vec!["bob@spoke.example", "sarah@spoke.example"]);
        // membership changes and a rename propagate; Carol is provisioned by joining
        s.api(Method::PUT, &format!("/api/v1/groups/{gid}/users/{}", ids[2])).send().await.unwrap();
        s.api(Method::DELETE, &format!("/api/v1/groups/{gid}/users/{}", ids[0])).send().await.unwrap();
        let (st, _) =
            call(s.api(Method::PUT, &format!("/api/v1/groups/{gid}")).json(&json!({"profile": {"name": "Contractors EU"}}))).await;
        assert_eq!(st, StatusCode::OK);
        drain(&s).await;
        drain(&s).await;
        assert_eq!(hub_members(&s, &hub_url, &hub_token, &hub_gid).await, vec!["bob@spoke.example", "carol@spoke.example"]);
        assert_eq!(call(hub(Method::GET, &format!("/api/v1/groups/{hub_gid}"))).await.1["profile"]["name"], "Contractors EU");
        // unlink keeping the hub group
        let st = s
            .api(Method::DELETE, &format!("/api/v1/apps/{app_id}/idhub/group-push/{mid}?deleteTargetGroup=false"))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(st, StatusCode::NO_CONTENT);
        drain(&s).await;
        assert_eq!(call(hub(Method::GET, &format!("/api/v1/groups/{hub_gid}"))).await.0, StatusCode::OK, "kept");
        let st = s.api(Method::DELETE, &format!("/api/v1/apps/{app_id}/idhub/group-push/{mid}")).send().await.unwrap().status();
        assert_eq!(st, StatusCode::NOT_FOUND);
        // a rule pushes the group again: linked to the existing hub group by name
        let (st, m) = call(
            s.api(Method::POST, &format!("/api/v1/apps/{app_id}/idhub/group-push")).json(&json!({"rule": {"nameStartsWith": "contr"}})),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{m}");
        assert_eq!(m.as_array().unwrap().len(), 1);
        assert!(m[0]["ruleId"].is_string());
        let mid = m[0]["id"].as_str().unwrap().to_string();
        drain(&s).await;
        let (_, list) = call(s.api(Method::GET, &format!("/api/v1/apps/{app_id}/idhub/group-push"))).await;
        assert_eq!(list[0]["targetGroupId"], hub_gid.as_str(), "linked by name, not duplicated");
        // a group created later that the rule matches is pushed too
        let (_, apac) = call(s.api(Method::POST, "/api/v1/groups").json(&json!({"profile": {"name": "Contractors APAC"}}))).await;
        drain(&s).await;
        let (_, list) = call(s.api(Method::GET, &format!("/api/v1/apps/{app_id}/idhub/group-push"))).await;
        let later = list.as_array().unwrap().iter().find(|m| m["sourceGroupId"] == apac["id"]).expect("pushed by the rule");
        assert_eq!(later["status"], "ACTIVE", "{list}");
        let (st, _) = call(hub(Method::GET, &format!("/api/v1/groups/{}", later["targetGroupId"].as_str().unwrap()))).await;
        assert_eq!(st, StatusCode::OK);
        // a rename the hub refuses for good (the name is taken there) is an ERROR and a Task
        call(hub(Method::POST, "/api/v1/groups").json(&json!({"profile": {"name": "Taken"}}))).await;
        call(s.api(Method::PUT, &format!("/api/v1/groups/{gid}")).json(&json!({"profile": {"name": "Taken"}}))).await;
        drain(&s).await;
        let (_, list) = call(s.api(Method::GET, &format!("/api/v1/apps/{app_id}/idhub/group-push"))).await;
        let m = list.as_array().unwrap().iter().find(|m| m["id"] == mid.as_str()).unwrap().clone();
        assert_eq!(m["status"], "ERROR", "{m}");
        let (_, tasks) = call(s.api(Method::GET, "/api/v1/idhub/tasks")).await;
        assert!(tasks.as_array().unwrap().iter().any(|t| t["lastError"].as_str().unwrap_or("").contains("400")), "{tasks}");
        call(s.api(Method::PUT, &format!("/api/v1/groups/{gid}")).json(&json!({"profile": {"name": "Contractors EU"}}))).await;
        drain(&s).await;
        // deleting the rule stops it pushing new groups; bad input is refused with Okta's errors
        let (_, rules) = call(s.api(Method::GET, &format!("/api/v1/apps/{app_id}/idhub/group-push/rules"))).await;
        let rule = rules[0]["id"].as_str().unwrap().to_string();
        let st = s.api(Method::DELETE, &format!("/api/v1/apps/{app_id}/idhub/group-push/rules/{rule}")).send().await.unwrap().status();
        assert_eq!(st, StatusCode::NO_CONTENT);
        let st = s.api(Method::DELETE, &format!("/api/v1/apps/{app_id}/idhub/group-push/rules/{rule}")).send().await.unwrap().status();
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (_, later) = call(s.api(Method::POST, "/api/v1/groups").json(&json!({"profile": {"name": "Contractors US"}}))).await;
        let (_, list) = call(s.api(Method::GET, &format!("/api/v1/apps/{app_id}/idhub/group-push"))).await;
        assert!(!list.as_array().unwrap().iter().any(|m| m["sourceGroupId"] == later["id"]), "{list}");
        let push = format!("/api/v1/apps/{app_id}/idhub/group-push");
        let (st, e) = call(s.api(Method::POST, &push).json(&json!({"groupId": 5}))).await;
        assert_eq!((st, e["errorCode"].as_str()), (StatusCode::BAD_REQUEST, Some("E0000001")), "{e}");
        let (st, e) = call(s.api(Method::POST, &push).json(&json!({"rule": {"nameStartsWith": "  "}}))).await;
        assert_eq!((st, e["errorCode"].as_str()), (StatusCode::BAD_REQUEST, Some("E0000001")), "{e}");
        let (st, e) = call(s.api(Method::POST, &push).header("Content-Type", "application/json").body("{not json")).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");
        let (st, _) = call(s.api(Method::GET, "/api/v1/apps/0oanope/idhub/group-push")).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (st, e) = call(s.api(Method::DELETE, &format!("{push}/{mid}?deleteTargetGroup=maybe"))).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");
        // unlink deleting the hub group
        let st = s
            .api(Method::DELETE, &format!("/api/v1/apps/{app_id}/idhub/group-push/{mid}?deleteTargetGroup=true"))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(st, StatusCode::NO_CONTENT);
        drain(&s).await;
        assert_eq!(call(hub(Method::GET, &format!("/api/v1/groups/{hub_gid}"))).await.0, StatusCode::NOT_FOUND, "deleted");
        assert_eq!(call(s.api(Method::GET, &format!("/api/v1/groups/{gid}"))).await.0, StatusCode::OK, "the spoke group stays");
        let (_, log) = call(s.api(Method::GET, "/api/v1/logs?filter=eventType%20eq%20%22application.provision.group_push.pushed%22")).await;
        assert!(log.as_array().unwrap().len() >= 3, "{log}");
    }
}

#[tokio::test]
async fn a_group_push_waits_out_a_hub_outage() {
    let s = TestServer::start(idhub_store::Backend::Sqlite).await;
    let (app_id, hub_url, hub_token) = provisioned_app(&s).await;
    let org = idhub_domain::ids::OrgId(s.org_id.clone());
    let (_, g) = call(s.api(Method::POST, "/api/v1/groups").json(&json!({"profile": {"name": "Outage"}}))).await;
    // the hub goes away: the connection points at a closed port
    let mut c = s.db.store.get_connection(&org, &app_id).await.unwrap();
    let good = c.base_url.clone();
    c.base_url = "http://127.0.0.1:1".into();
    s.db.store.save_connection(&c, &[]).await.unwrap();
    let (st, m) = call(s.api(Method::POST, &format!("/api/v1/apps/{app_id}/idhub/group-push")).json(&json!({"groupId": g["id"]}))).await;
    assert_eq!(st, StatusCode::OK, "{m}");
    drain(&s).await;
    let pending = s.db.store.list_jobs(&org, "PENDING", 10).await.unwrap();
    assert_eq!(pending.len(), 1, "kept for a retry");
    assert!(pending[0].last_error.as_deref().unwrap().contains("unreachable"));
    assert!(s.db.store.list_jobs(&org, "FAILED", 10).await.unwrap().is_empty(), "not a Task");
    let (_, list) = call(s.api(Method::GET, &format!("/api/v1/apps/{app_id}/idhub/group-push"))).await;
    assert!(list[0]["lastError"].as_str().unwrap().contains("unreachable"), "{list}");
    // the hub is back; the retry (made due now) pushes exactly one group
    c.base_url = good;
    s.db.store.save_connection(&c, &[]).await.unwrap();
    // the first retry is due within the first backoff (at most 1 s)
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    drain(&s).await;
    let (_, list) = call(s.api(Method::GET, &format!("/api/v1/apps/{app_id}/idhub/group-push"))).await;
    assert_eq!(list[0]["status"], "ACTIVE", "{list}");
    let (_, hub_groups) =
        call(s.http.get(format!("{hub_url}/api/v1/groups?q=Outage")).header("Authorization", format!("SSWS {hub_token}"))).await;
    assert_eq!(hub_groups.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn import_proposes_links_and_creates_changes_nothing_before_confirm_and_sources_profiles() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let (app_id, hub_url, hub_token) = provisioned_app(&s).await;
        let hub = |m: Method, p: &str| s.http.request(m, format!("{hub_url}{p}")).header("Authorization", format!("SSWS {hub_token}"));
        // the hub has Linda (also in the spoke, same login) and Nina (only in the hub)
        let mut hub_ids = std::collections::HashMap::new();
        for (login, first) in [("linda@partner.example", "Linda"), ("nina@partner.example", "Nina")] {
            let (st, u) =
                call(hub(Method::POST, "/api/v1/users?activate=true").json(&json!({ "profile": profile(login, first, "Hub") }))).await;
            assert_eq!(st, StatusCode::OK, "{u}");
            hub_ids.insert(login, u["id"].as_str().unwrap().to_string());
        }
        let linda = create_user(&s, "linda@partner.example", None, true).await;
        let linda_id = linda["id"].as_str().unwrap().to_string();
        // settings: exact username match, the app is the profile source
        let (st, f) = call(s.api(Method::PUT, &format!("/api/v1/apps/{app_id}/features/INBOUND_PROVISIONING")).json(&json!({ "capabilities": { "importRules": { "userCreateAndMatch": { "exactMatchCriteria": "USERNAME" } }, "idhub:profileSource": { "status": "ENABLED" } } }))).await;
        assert_eq!(st, StatusCode::OK, "{f}");
        assert_eq!(f["capabilities"]["idhub:profileSource"]["status"], "ENABLED");
        let (st, e) = call(
            s.api(Method::PUT, &format!("/api/v1/apps/{app_id}/features/INBOUND_PROVISIONING"))
                .json(&json!({ "capabilities": { "importRules": { "userCreateAndMatch": { "exactMatchCriteria": "NAME" } } } })),
        )
        .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");
        assert_eq!(e["errorCode"], "E0000001");
        // Import Now: proposals only
        let users_before = user_count(&s).await;
        let (st, j) = call(s.api(Method::POST, &format!("/api/v1/apps/{app_id}/idhub/import"))).await;
        assert_eq!(st, StatusCode::ACCEPTED, "{j}");
        drain(&s).await;
        let (_, state) = call(s.api(Method::GET, &format!("/api/v1/apps/{app_id}/idhub/import"))).await;
        let pending = state["pending"].as_array().unwrap().clone();
        let find = |login: &str| pending.iter().find(|c| c["hubLogin"] == login).unwrap_or_else(|| panic!("{login} in {state}")).clone();
        let (l, n) = (find("linda@partner.example"), find("nina@partner.example"));
        assert_eq!(l["action"], "LINK");
        assert_eq!(l["userId"], linda_id.as_str());
        assert_eq!(n["action"], "CREATE");
        assert!(state["lastImport"].is_string(), "{state}");
        assert_eq!(user_count(&s).await, users_before, "nothing created before confirm");
        let (_, au) = call(s.api(Method::GET, &format!("/api/v1/apps/{app_id}/users"))).await;
        assert!(au.as_array().unwrap().is_empty(), "nothing assigned before confirm");
        // a bad confirmation changes nothing
        let (st, e) =
            call(s.api(Method::POST, &format!("/api/v1/apps/{app_id}/idhub/import/confirm")).json(&json!({ "ids": [l["id"], "impnope"] })))
                .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");
        assert!(call(s.api(Method::GET, &format!("/api/v1/apps/{app_id}/users"))).await.1.as_array().unwrap().is_empty());
        // Confirm Assignments for the two selected
        let (st, done) =
            call(s.api(Method::POST, &format!("/api/v1/apps/{app_id}/idhub/import/confirm")).json(&json!({ "ids": [l["id"], n["id"]] })))
                .await;
        assert_eq!(st, StatusCode::OK, "{done}");
        assert!(done.as_array().unwrap().iter().all(|r| r["status"] == "CONFIRMED"), "{done}");
        let (st, nina) = call(s.api(Method::GET, "/api/v1/users/nina@partner.example")).await;
        assert_eq!(st, StatusCode::OK, "created in the spoke");
        assert_eq!(nina["profile"]["firstName"], "Nina");
        let nina_id = nina["id"].as_str().unwrap().to_string();
        let (_, au) = call(s.api(Method::GET, &format!("/api/v1/apps/{app_id}/users"))).await;
        let mut ext: Vec<(String, String)> = au
            .as_array()
            .unwrap()
            .iter()
            .map(|u| (u["id"].as_str().unwrap().to_string(), u["externalId"].as_str().unwrap_or("").to_string()))
            .collect();
        ext.sort();
        let mut want =
            vec![(linda_id.clone(), hub_ids["linda@partner.example"].clone()), (nina_id.clone(), hub_ids["nina@partner.example"].clone())];
        want.sort();
        assert_eq!(ext, want, "app users carry the hub ids");
        drain(&s).await;
        // Import Groups (on by default): a hub group arrives as an app group with the imported members
        let (_, hg) = call(hub(Method::POST, "/api/v1/groups").json(&json!({ "profile": { "name": "Partner Leads" } }))).await;
        let hg = hg["id"].as_str().unwrap().to_string();
        hub(Method::PUT, &format!("/api/v1/groups/{hg}/users/{}", hub_ids["nina@partner.example"])).send().await.unwrap();
        // profile sourcing: the hub's change arrives on the next import; spoke edits are refused
        let hub_nina = &hub_ids["nina@partner.example"];
        call(
            hub(Method::POST, &format!("/api/v1/users/{hub_nina}"))
                .json(&json!({ "profile": { "title": "Partner lead", "lastName": "Hub-Renamed" } })),
        )
        .await;
        call(s.api(Method::POST, &format!("/api/v1/apps/{app_id}/idhub/import"))).await;
        drain(&s).await;
        let (_, nina) = call(s.api(Method::GET, &format!("/api/v1/users/{nina_id}"))).await;
        assert_eq!(nina["profile"]["title"], "Partner lead");
        let (_, gs) = call(s.api(Method::GET, "/api/v1/groups?q=Partner%20Leads")).await;
        assert_eq!(gs[0]["type"], "APP_GROUP", "{gs}");
        let (_, members) = call(s.api(Method::GET, &format!("/api/v1/groups/{}/users", gs[0]["id"].as_str().unwrap()))).await;
        assert_eq!(members.as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect::<Vec<_>>(), vec![nina_id.as_str()]);
        assert_eq!(nina["profile"]["lastName"], "Hub-Renamed");
        let (st, e) =
            call(s.api(Method::POST, &format!("/api/v1/users/{nina_id}")).json(&json!({ "profile": { "title": "Edited in spoke" } })))
                .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");
        assert_eq!(e["errorCode"], "E0000001");
        assert!(e["errorCauses"][0]["errorSummary"].as_str().unwrap().contains("profile source"), "{e}");
        let (_, still) = call(s.api(Method::GET, &format!("/api/v1/users/{nina_id}"))).await;
        assert_eq!(still["profile"]["title"], "Partner lead", "the refused edit changed nothing");
        let (st, _) = call(s.api(Method::POST, &format!("/api/v1/users/{nina_id}/lifecycle/deactivate"))).await;
        assert_eq!(st, StatusCode::OK, "lifecycle changes are still allowed");
        // the hub kept its own profile (no push back of a sourced profile)
        assert_eq!(call(hub(Method::GET, &format!("/api/v1/users/{hub_nina}"))).await.1["profile"]["title"], "Partner lead");
    }
}

#[tokio::test]
async fn scheduled_imports_run_and_reschedule_until_the_schedule_changes() {
    let s = TestServer::start(idhub_store::Backend::Sqlite).await;
    let (app_id, _, _) = provisioned_app(&s).await;
    let org = idhub_domain::ids::OrgId(s.org_id.clone());
    let put = |interval: &str| {
        s.api(Method::PUT, &format!("/api/v1/apps/{app_id}/features/INBOUND_PROVISIONING"))
            .json(&json!({ "capabilities": { "importSettings": { "schedule": { "interval": interval } } } }))
    };
    let (st, f) = call(put("WEEKLY")).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{f}");
    let (st, f) = call(put("HOURLY")).await;
    assert_eq!(st, StatusCode::OK, "{f}");
    assert_eq!(f["capabilities"]["importSettings"]["schedule"]["interval"], "HOURLY");
    use idhub_domain::time::Clock;
    let before = idhub_domain::time::SystemClock.now_millis();
    drain(&s).await;
    let (_, state) = call(s.api(Method::GET, &format!("/api/v1/apps/{app_id}/idhub/import"))).await;
    assert!(state["lastImport"].is_string(), "the first scheduled run happened: {state}");
    let next = s.db.store.list_jobs(&org, "PENDING", 10).await.unwrap();
    assert_eq!(next.len(), 1, "the next run is queued");
    assert!(next[0].run_after >= before + 3_600_000 - 5_000, "an hour later");
    // a new schedule ends the old chain: its queued run (two hours on) does nothing and
    // queues nothing
    call(put("NONE")).await;
    let later = idhub_domain::time::ManualClock::at(before + 2 * 3_600_000);
    let handler: std::sync::Arc<dyn idhub_jobs::Handler> = std::sync::Arc::new(idhub_core::provisioning::Org2OrgHandler {
        store: s.db.store.clone(),
        sealing_key: s.sealing_key.clone(),
        clock: std::sync::Arc::new(later.clone()),
        egress: s.egress.clone(),
    });
    let cfg = idhub_jobs::WorkerConfig::new(idhub_core::provisioning::QUEUE);
    assert_eq!(idhub_jobs::run_once(&s.db.store, &later, &cfg, &handler).await.unwrap(), 1);
    assert!(s.db.store.list_jobs(&org, "PENDING", 10).await.unwrap().is_empty(), "the chain ended");
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

#[tokio::test]
async fn a_login_change_in_the_spoke_renames_the_hub_user_instead_of_making_another() {
    for (update_on, expect_renamed, via_group) in
        [("CREATE_AND_UPDATE", true, false), ("CREATE", false, false), ("CREATE_AND_UPDATE", true, true), ("CREATE", false, true)]
    {
        let s = TestServer::start(idhub_store::Backend::Sqlite).await;
        let (app_id, hub_url, hub_token) = provisioned_app(&s).await;
        let hub = |m: Method, p: &str| s.http.request(m, format!("{hub_url}{p}")).header("Authorization", format!("SSWS {hub_token}"));
        let (_, app) = call(s.api(Method::GET, &format!("/api/v1/apps/{app_id}"))).await;
        let mut body = app.clone();
        body["credentials"]["userNameTemplate"]["updateOn"] = json!(update_on);
        let (st, v) = call(s.api(Method::PUT, &format!("/api/v1/apps/{app_id}")).json(&body)).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        call(s.api(Method::PUT, &format!("/api/v1/apps/{app_id}/features/USER_PROVISIONING")).json(&json!({ "capabilities": { "create": { "lifecycleCreate": { "status": "ENABLED" } }, "update": { "profile": { "status": "ENABLED" }, "lifecycleDeactivate": { "status": "ENABLED" } } } }))).await;
        let u = create_user(&s, "kim@spoke.example", Some("Str0ngPassw0rd"), true).await;
        let uid = u["id"].as_str().unwrap().to_string();
        if via_group {
            let (_, g) = call(s.api(Method::POST, "/api/v1/groups").json(&json!({"profile": {"name": "Contractors"}}))).await;
            let gid = g["id"].as_str().unwrap();
            call(s.api(Method::PUT, &format!("/api/v1/apps/{app_id}/groups/{gid}")).json(&json!({}))).await;
            s.api(Method::PUT, &format!("/api/v1/groups/{gid}/users/{uid}")).send().await.unwrap();
        } else {
            let (st, v) =
                call(s.api(Method::POST, &format!("/api/v1/apps/{app_id}/users")).json(&json!({ "id": uid, "scope": "USER" }))).await;
            assert_eq!(st, StatusCode::OK, "{v}");
        }
        drain(&s).await;
        let (st, first) = call(hub(Method::GET, "/api/v1/users/kim@spoke.example")).await;
        assert_eq!(st, StatusCode::OK, "{first}");
        // Kim's login changes in the spoke
        let (st, v) = call(
            s.api(Method::POST, &format!("/api/v1/users/{uid}"))
                .json(&json!({ "profile": { "login": "kim.lee@spoke.example", "email": "kim.lee@spoke.example", "title": "Lead" } })),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        drain(&s).await;
        let (_, all) = call(hub(Method::GET, "/api/v1/users?limit=200")).await;
        let kims: Vec<&Value> = all
            .as_array()
            .unwrap()
            .iter()
            .filter(|h| {
                h["profile"]["firstName"] == u["profile"]["firstName"] && h["profile"]["login"].as_str().unwrap().starts_with("kim")
            })
            .collect();
        assert_eq!(kims.len(), 1, "{update_on} (group: {via_group}): one hub user, not a second one: {all}");
        let expected = if expect_renamed { "kim.lee@spoke.example" } else { "kim@spoke.example" };
        assert_eq!(kims[0]["id"], first["id"]);
        assert_eq!(kims[0]["profile"]["login"], expected, "{update_on}");
        assert_eq!(kims[0]["profile"]["title"], "Lead", "{update_on}: the rest of the profile follows either way");
        let (_, au) = call(s.api(Method::GET, &format!("/api/v1/apps/{app_id}/users/{uid}"))).await;
        assert_eq!(au["externalId"], first["id"], "the spoke's app user names the hub user it was pushed as: {au}");
        assert_eq!(au["syncState"], "SYNCHRONIZED");
        let (_, listed) = call(s.api(Method::GET, &format!("/api/v1/apps/{app_id}/users"))).await;
        let listed = listed.as_array().unwrap().iter().find(|a| a["id"] == uid.as_str()).cloned().unwrap_or_default();
        assert_eq!(listed["externalId"], first["id"], "the list says the same: {listed}");
        if !via_group {
            assert_eq!(au["credentials"]["userName"], expected, "{update_on}: the spoke's app username says the same: {au}");
        }
    }
}

/// A hub user by login: (HTTP status, body).
async fn hub_user(s: &TestServer, hub_url: &str, token: &str, login: &str) -> (StatusCode, Value) {
    call(s.http.get(format!("{hub_url}/api/v1/users/{login}")).header("Authorization", format!("SSWS {token}"))).await
}

/// A group of the spoke assigned to the app; returns its id.
async fn assigned_group(s: &TestServer, app_id: &str, name: &str) -> String {
    let (st, g) = call(s.api(Method::POST, "/api/v1/groups").json(&json!({"profile": {"name": name}}))).await;
    assert_eq!(st, StatusCode::OK, "{g}");
    let gid = g["id"].as_str().unwrap().to_string();
    let (st, a) = call(s.api(Method::PUT, &format!("/api/v1/apps/{app_id}/groups/{gid}")).json(&json!({}))).await;
    assert_eq!(st, StatusCode::OK, "{a}");
    gid
}

#[tokio::test]
async fn a_user_created_straight_into_an_assigned_group_is_pushed() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let (app_id, hub_url, hub_token) = provisioned_app(&s).await;
        let gid = assigned_group(&s, &app_id, "Contractors").await;
        let (st, u) = call(
            s.api(Method::POST, "/api/v1/users?activate=true")
                .json(&json!({ "profile": profile("nia@spoke.example", "Nia", "Long"), "groupIds": [gid] })),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{u}");
        drain(&s).await;
        let (st, h) = hub_user(&s, &hub_url, &hub_token, "nia@spoke.example").await;
        assert_eq!(st, StatusCode::OK, "created with groupIds of an assigned group: pushed to the hub: {h}");
        assert_eq!(h["status"], "PROVISIONED", "activated, without a password: {h}");
        assert_eq!(h["profile"]["lastName"], "Long");
        // a user created into an unassigned group is not
        let (_, other) = call(s.api(Method::POST, "/api/v1/groups").json(&json!({"profile": {"name": "Visitors"}}))).await;
        call(
            s.api(Method::POST, "/api/v1/users?activate=true")
                .json(&json!({ "profile": profile("vic@spoke.example", "Vic", "Short"), "groupIds": [other["id"]] })),
        )
        .await;
        drain(&s).await;
        assert_eq!(hub_user(&s, &hub_url, &hub_token, "vic@spoke.example").await.0, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn deleting_an_assigned_group_deactivates_its_members_in_the_hub() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let (app_id, hub_url, hub_token) = provisioned_app(&s).await;
        let contractors = assigned_group(&s, &app_id, "Contractors").await;
        let staff = assigned_group(&s, &app_id, "Staff").await;
        let mut ids = vec![];
        for login in ["ann@spoke.example", "ben@spoke.example"] {
            let u = create_user(&s, login, None, true).await;
            let id = u["id"].as_str().unwrap().to_string();
            assert_eq!(
                s.api(Method::PUT, &format!("/api/v1/groups/{contractors}/users/{id}")).send().await.unwrap().status(),
                StatusCode::NO_CONTENT
            );
            ids.push(id);
        }
        // Ben is also in Staff: he keeps the app
        s.api(Method::PUT, &format!("/api/v1/groups/{staff}/users/{}", ids[1])).send().await.unwrap();
        drain(&s).await;
        for login in ["ann@spoke.example", "ben@spoke.example"] {
            assert_eq!(hub_user(&s, &hub_url, &hub_token, login).await.1["status"], "PROVISIONED", "{login}");
        }
        let st = s.api(Method::DELETE, &format!("/api/v1/groups/{contractors}")).send().await.unwrap().status();
        assert_eq!(st, StatusCode::NO_CONTENT);
        drain(&s).await;
        assert_eq!(
            hub_user(&s, &hub_url, &hub_token, "ann@spoke.example").await.1["status"],
            "DEPROVISIONED",
            "Ann lost the app with the group"
        );
        assert_eq!(hub_user(&s, &hub_url, &hub_token, "ben@spoke.example").await.1["status"], "PROVISIONED", "Ben still reaches it");
        // and back: Ann joins Staff, she is reactivated (the same hub user)
        s.api(Method::PUT, &format!("/api/v1/groups/{staff}/users/{}", ids[0])).send().await.unwrap();
        drain(&s).await;
        assert_ne!(hub_user(&s, &hub_url, &hub_token, "ann@spoke.example").await.1["status"], "DEPROVISIONED");
    }
}

#[tokio::test]
async fn a_directly_assigned_user_renamed_while_suspended_or_deactivated_reaches_the_hub_with_the_new_login() {
    for (off, on) in [("suspend", "unsuspend"), ("deactivate", "activate?sendEmail=false")] {
        let s = TestServer::start(idhub_store::Backend::Sqlite).await;
        let (app_id, hub_url, hub_token) = provisioned_app(&s).await;
        let u = create_user(&s, "old@spoke.example", Some("Str0ngPassw0rd"), true).await;
        let uid = u["id"].as_str().unwrap().to_string();
        let (st, v) = call(s.api(Method::POST, &format!("/api/v1/users/{uid}/lifecycle/{off}"))).await;
        assert_eq!(st, StatusCode::OK, "{off}: {v}");
        let (st, v) = call(s.api(Method::POST, &format!("/api/v1/apps/{app_id}/users")).json(&json!({ "id": uid }))).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        drain(&s).await;
        assert_eq!(hub_user(&s, &hub_url, &hub_token, "old@spoke.example").await.0, StatusCode::NOT_FOUND, "{off}: not pushed yet");
        let (st, v) = call(
            s.api(Method::POST, &format!("/api/v1/users/{uid}"))
                .json(&json!({ "profile": { "login": "new@spoke.example", "email": "new@spoke.example" } })),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        drain(&s).await;
        let (st, v) = call(s.api(Method::POST, &format!("/api/v1/users/{uid}/lifecycle/{on}"))).await;
        assert_eq!(st, StatusCode::OK, "{on}: {v}");
        drain(&s).await;
        let (st, h) = hub_user(&s, &hub_url, &hub_token, "new@spoke.example").await;
        assert_eq!(st, StatusCode::OK, "{off}/{on}: the hub user has the current login: {h}");
        assert_eq!(hub_user(&s, &hub_url, &hub_token, "old@spoke.example").await.0, StatusCode::NOT_FOUND, "{off}: never the old one");
        let (_, au) = call(s.api(Method::GET, &format!("/api/v1/apps/{app_id}/users/{uid}"))).await;
        assert_eq!(au["credentials"]["userName"], "new@spoke.example", "the spoke's app username says the same: {au}");
    }
}

#[tokio::test]
async fn a_login_still_held_in_the_hub_by_another_spoke_user_is_not_taken_over() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let (app_id, hub_url, hub_token) = provisioned_app(&s).await;
        // "Update application username on: Create": the hub keeps Pat's first login
        let (_, mut app) = call(s.api(Method::GET, &format!("/api/v1/apps/{app_id}"))).await;
        app["credentials"]["userNameTemplate"]["updateOn"] = json!("CREATE");
        assert_eq!(call(s.api(Method::PUT, &format!("/api/v1/apps/{app_id}")).json(&app)).await.0, StatusCode::OK);
        call(s.api(Method::PUT, &format!("/api/v1/apps/{app_id}/features/USER_PROVISIONING")).json(&json!({ "capabilities": { "create": { "lifecycleCreate": { "status": "ENABLED" } }, "update": { "profile": { "status": "ENABLED" }, "lifecycleDeactivate": { "status": "ENABLED" } } } }))).await;
        let assign = |id: &Value| s.api(Method::POST, &format!("/api/v1/apps/{app_id}/users")).json(&json!({ "id": id }));
        let (_, pat) = call(
            s.api(Method::POST, "/api/v1/users?activate=true").json(&json!({ "profile": profile("pat@spoke.example", "Pat", "Old") })),
        )
        .await;
        assert_eq!(call(assign(&pat["id"])).await.0, StatusCode::OK);
        drain(&s).await;
        let (_, first) = hub_user(&s, &hub_url, &hub_token, "pat@spoke.example").await;
        assert_eq!(first["status"], "PROVISIONED", "{first}");
        // Pat's spoke login changes; Sam takes the old one and is assigned too
        let pid = pat["id"].as_str().unwrap();
        let rename = json!({ "profile": { "login": "pat.old@spoke.example", "email": "pat.old@spoke.example" } });
        assert_eq!(call(s.api(Method::POST, &format!("/api/v1/users/{pid}")).json(&rename)).await.0, StatusCode::OK);
        drain(&s).await;
        let (st, sam) = call(
            s.api(Method::POST, "/api/v1/users?activate=true").json(&json!({ "profile": profile("pat@spoke.example", "Sam", "New") })),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{sam}");
        let sid = sam["id"].as_str().unwrap();
        assert_eq!(call(assign(&sam["id"])).await.0, StatusCode::OK);
        drain(&s).await;
        let (_, hub) = hub_user(&s, &hub_url, &hub_token, "pat@spoke.example").await;
        assert_eq!(
            (&hub["id"], &hub["profile"]["firstName"], &hub["status"]),
            (&first["id"], &json!("Pat"), &json!("PROVISIONED")),
            "Pat's hub user stays Pat's: {hub}"
        );
        let (_, au) = call(s.api(Method::GET, &format!("/api/v1/apps/{app_id}/users/{sid}"))).await;
        assert!(au["externalId"].is_null(), "Sam is not linked to Pat's hub user: {au}");
        let (_, tasks) = call(s.api(Method::GET, "/api/v1/idhub/tasks")).await;
        assert!(
            tasks.as_array().unwrap().iter().any(|t| t["lastError"].as_str().unwrap_or("").contains("another spoke user")),
            "the admin is told: {tasks}"
        );
        // Sam's unassignment does not deactivate Pat's hub user either
        let st = s.api(Method::DELETE, &format!("/api/v1/apps/{app_id}/users/{sid}")).send().await.unwrap().status();
        assert_eq!(st, StatusCode::NO_CONTENT);
        drain(&s).await;
        assert_eq!(hub_user(&s, &hub_url, &hub_token, "pat@spoke.example").await.1["status"], "PROVISIONED");
        // and Pat's own changes still reach it
        call(s.api(Method::POST, &format!("/api/v1/users/{pid}")).json(&json!({ "profile": { "lastName": "Still" } }))).await;
        drain(&s).await;
        assert_eq!(hub_user(&s, &hub_url, &hub_token, "pat@spoke.example").await.1["profile"]["lastName"], "Still");
    }
}

#[tokio::test]
async fn an_inactive_app_keeps_its_users_in_the_hub_through_their_changes() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let (app_id, hub_url, hub_token) = provisioned_app(&s).await;
        call(s.api(Method::PUT, &format!("/api/v1/apps/{app_id}/features/USER_PROVISIONING")).json(&json!({ "capabilities": { "create": { "lifecycleCreate": { "status": "ENABLED" } }, "update": { "profile": { "status": "ENABLED" }, "lifecycleDeactivate": { "status": "ENABLED" } } } }))).await;
        let mut ids = vec![];
        for login in ["ada@spoke.example", "bo@spoke.example"] {
            let u = create_user(&s, login, None, true).await;
            assert_eq!(
                call(s.api(Method::POST, &format!("/api/v1/apps/{app_id}/users")).json(&json!({ "id": u["id"] }))).await.0,
                StatusCode::OK
            );
            ids.push(u["id"].as_str().unwrap().to_string());
        }
        drain(&s).await;
        assert_eq!(call(s.api(Method::POST, &format!("/api/v1/apps/{app_id}/lifecycle/deactivate"))).await.0, StatusCode::OK);
        // Ada's profile changes while the app is inactive: she stays in the hub, changed
        let (st, _) =
            call(s.api(Method::POST, &format!("/api/v1/users/{}", ids[0])).json(&json!({ "profile": { "title": "Lead" } }))).await;
        assert_eq!(st, StatusCode::OK);
        drain(&s).await;
        let (_, ada) = hub_user(&s, &hub_url, &hub_token, "ada@spoke.example").await;
        assert_eq!((&ada["status"], &ada["profile"]["title"]), (&json!("PROVISIONED"), &json!("Lead")), "not deprovisioned: {ada}");
        // an unassignment still deprovisions (as Okta does for an inactive app)
        let st = s.api(Method::DELETE, &format!("/api/v1/apps/{app_id}/users/{}", ids[1])).send().await.unwrap().status();
        assert_eq!(st, StatusCode::NO_CONTENT);
        drain(&s).await;
        assert_eq!(hub_user(&s, &hub_url, &hub_token, "bo@spoke.example").await.1["status"], "DEPROVISIONED");
        // active again: Ada is still there as she was
        assert_eq!(call(s.api(Method::POST, &format!("/api/v1/apps/{app_id}/lifecycle/activate"))).await.0, StatusCode::OK);
        drain(&s).await;
        assert_eq!(hub_user(&s, &hub_url, &hub_token, "ada@spoke.example").await.1["status"], "PROVISIONED");
    }
}
