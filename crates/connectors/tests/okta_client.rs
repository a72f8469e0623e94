//! The Okta client against a real idhub hub on a loopback port.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use idhub_connectors::okta::{ClientError, OktaClient};
use idhub_testkit::TestServer;
use serde_json::json;

#[tokio::test]
async fn pushes_users_and_groups_to_an_idhub_hub() {
    let hub = TestServer::start(idhub_store::Backend::Sqlite).await;
    let c = OktaClient::new(&hub.egress, &hub.base_url, &hub.token).unwrap();
    assert!(c.test_credentials().await.is_ok());
    // match before create
    assert_eq!(c.find_user("sarah@example.com").await.unwrap(), None);
    let profile = json!({"login": "sarah@example.com", "email": "sarah@example.com", "firstName": "Sarah", "lastName": "Lee"});
    let created = c.create_user(&profile, Some("Temp-Passw0rd"), true).await.unwrap();
    assert_eq!(created["status"], "ACTIVE");
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(c.find_user("SARAH@example.com").await.unwrap().unwrap()["id"], id.as_str());
    // a duplicate create is a permanent rejection naming the cause
    let dup = c.create_user(&profile, None, true).await.unwrap_err();
    assert!(!dup.is_transient());
    assert!(dup.to_string().contains("already exists"), "{dup}");
    let updated = c.update_profile(&id, &json!({"title": "Contractor"})).await.unwrap();
    assert_eq!(updated["profile"]["title"], "Contractor");
    assert_eq!(updated["profile"]["firstName"], "Sarah");
    c.set_password(&id, "Another-Passw0rd").await.unwrap();
    c.lifecycle(&id, "suspend", false).await.unwrap();
    c.lifecycle(&id, "unsuspend", false).await.unwrap();
    c.lifecycle(&id, "deactivate", false).await.unwrap();
    assert_eq!(c.find_user(&id).await.unwrap().unwrap()["status"], "DEPROVISIONED");
    // groups
    assert!(c.find_group("Contractors").await.unwrap().is_none());
    let g = c.create_group("Contractors", Some("All Contractors")).await.unwrap();
    c.create_group("Contractors EU", None).await.unwrap();
    let gid = g["id"].as_str().unwrap();
    assert_eq!(c.find_group("Contractors").await.unwrap().unwrap()["id"], gid, "exact name, not prefix");
    c.add_member(gid, &id).await.unwrap();
    let members = c.page(&format!("/api/v1/groups/{gid}/users")).await.unwrap();
    assert_eq!(members.items.len(), 1);
    c.remove_member(gid, &id).await.unwrap();
    c.update_group(gid, "Contractors (hub)", None).await.unwrap();
    c.delete_group(gid).await.unwrap();
    assert!(c.user_schema().await.unwrap()["definitions"]["base"].is_object());
    // paging follows Link headers to the end
    for i in 0..5 {
        c.create_user(
            &json!({"login": format!("p{i}@example.com"), "email": format!("p{i}@example.com"), "firstName": "P", "lastName": "Q"}),
            None,
            false,
        )
        .await
        .unwrap();
    }
    let mut next = Some("/api/v1/users?limit=2".to_string());
    let mut n = 0;
    while let Some(url) = next {
        let page = c.page(&url).await.unwrap();
        n += page.items.len();
        next = page.next;
    }
    assert_eq!(n, 5, "the deactivated user is not listed");
}

#[tokio::test]
async fn credential_failures_name_their_cause() {
    let hub = TestServer::start(idhub_store::Backend::Sqlite).await;
    let bad = OktaClient::new(&hub.egress, &hub.base_url, "00thisisnotatoken").unwrap();
    let e = bad.test_credentials().await.unwrap_err();
    assert!(matches!(e, ClientError::Unauthorized { ref code, .. } if code == "E0000011"), "{e:?}");
    // nothing listens on port 1
    let gone = OktaClient::new(&hub.egress, "http://127.0.0.1:1", &hub.token).unwrap();
    let e = gone.test_credentials().await.unwrap_err();
    assert!(matches!(e, ClientError::Unreachable(_)), "{e:?}");
    assert!(e.is_transient());
    // https to a plain-http port fails in TLS
    let tls = OktaClient::new(&hub.egress, &hub.base_url.replace("http://", "https://"), &hub.token).unwrap();
    let e = tls.test_credentials().await.unwrap_err();
    assert!(matches!(e, ClientError::Tls(_) | ClientError::Unreachable(_)), "{e:?}");
}
