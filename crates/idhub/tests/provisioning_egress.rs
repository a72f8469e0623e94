//! The Org2Org connection's hub URL under the egress rule, as an org admin meets it in
//! the API and the console: only an origin is accepted; an internal address (loopback
//! here, the only network tests may touch) is refused before any connection unless the
//! server's allow-list names it; Test API Credentials never repeats what the far end
//! answered; a new hub origin needs the API token again.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;
use common::browser::signed_in_admin;
use common::*;
use idhub_connectors::egress::{Egress, EgressPolicy};
use idhub_testkit::Bait;

async fn server_with_egress(allow: &[&str]) -> TestServer {
    let settings = idhub_web::WebSettings { egress: Egress::new(EgressPolicy::new(allow).unwrap()), ..idhub_testkit::test_settings() };
    TestServer::start_with(idhub_store::Backend::Sqlite, settings).await
}

async fn org2org_app(s: &TestServer) -> String {
    let sso = json!({ "name": "okta_org2org", "settings": { "app": { "baseUrl": format!("http://localhost:{}", s.addr.port()) } } });
    let (st, app) = call(s.api(Method::POST, "/api/v1/apps").json(&sso)).await;
    assert_eq!(st, StatusCode::OK, "{app}");
    app["id"].as_str().unwrap().to_string()
}

async fn save_connection(s: &TestServer, app: &str, activate: bool, body: Value) -> (StatusCode, Value) {
    call(s.api(Method::POST, &format!("/api/v1/apps/{app}/connections/default?activate={activate}")).json(&body)).await
}

/// A refusal of `field` with Okta's E0000001, the cause naming the field.
fn assert_refused(st: StatusCode, body: &Value, field: &str) {
    assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
    assert_okta_error(body, "E0000001");
    let cause = body["errorCauses"][0]["errorSummary"].as_str().unwrap_or_default();
    assert!(cause.starts_with(&format!("{field}: ")), "{body}");
}

#[tokio::test]
async fn a_hub_url_with_a_path_query_or_user_info_is_refused() {
    let s = TestServer::start(idhub_store::Backend::Sqlite).await;
    let app = org2org_app(&s).await;
    let hub = format!("http://localhost:{}", s.addr.port());
    for bad in [
        format!("{hub}/api/v1/users"),
        format!("{hub}/?limit=1"),
        format!("{hub}?"),
        format!("{hub}/#top"),
        format!("http://admin:pw@localhost:{}", s.addr.port()),
        "ftp://localhost/".to_string(),
    ] {
        for activate in [false, true] {
            let (st, body) = save_connection(&s, &app, activate, json!({ "baseUrl": bad, "profile": { "token": s.token } })).await;
            assert_refused(st, &body, "baseUrl");
        }
    }
    let (_, conn) = call(s.api(Method::GET, &format!("/api/v1/apps/{app}/connections/default"))).await;
    assert_eq!(conn["baseUrl"], Value::Null, "nothing was saved: {conn}");
    // the origin itself (a trailing slash is fine) is accepted and stored as the origin
    let (st, conn) = save_connection(&s, &app, false, json!({ "baseUrl": format!("{hub}/"), "profile": { "token": s.token } })).await;
    assert_eq!(st, StatusCode::OK, "{conn}");
    assert_eq!(conn["baseUrl"], hub.as_str());
}

/// Every spelling of a loopback address, with no allow-list: refused when saved, when
/// activated and by the console's Test API Credentials, and nothing is ever connected to.
#[tokio::test]
async fn loopback_is_refused_without_an_allow_list_before_any_connection() {
    let s = server_with_egress(&[]).await;
    let app = org2org_app(&s).await;
    let bait = Bait::on("127.0.0.1");
    let p = bait.port();
    let mut b = signed_in_admin(&s, "boss@example.com", "SUPER_ADMIN").await;
    for url in [
        format!("http://127.0.0.1:{p}"),
        format!("http://localhost:{p}"),
        format!("http://2130706433:{p}"),
        format!("http://0x7f000001:{p}"),
        format!("http://[::ffff:127.0.0.1]:{p}"),
        format!("http://[::1]:{p}"),
        format!("http://0.0.0.0:{p}"),
    ] {
        for activate in [false, true] {
            let (st, body) = save_connection(&s, &app, activate, json!({ "baseUrl": url, "profile": { "token": "00token" } })).await;
            assert_refused(st, &body, "baseUrl");
            assert!(body["errorCauses"][0]["errorSummary"].as_str().unwrap().contains("not allowed by the egress rule"), "{body}");
        }
        let form = [("action", "test"), ("baseUrl", url.as_str()), ("token", "00token")];
        let (st, html, _) = b.post(&format!("/admin/app/{app}/provisioning/integration"), &form).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert!(html.contains("id=\"baseUrl-error\"") && html.contains("not allowed by the egress rule"), "{html}");
    }
    bait.assert_untouched();
}

/// The allow-list narrowed to one loopback address: its neighbours stay refused.
#[tokio::test]
async fn a_narrowed_allow_list_refuses_the_rest_of_loopback() {
    let s = server_with_egress(&["127.0.0.1/32"]).await;
    let app = org2org_app(&s).await;
    let bait = Bait::on("127.0.0.2");
    let p = bait.port();
    for url in [
        format!("http://127.0.0.2:{p}"),
        format!("http://2130706434:{p}"),
        format!("http://0x7f000002:{p}"),
        format!("http://[::ffff:127.0.0.2]:{p}"),
    ] {
        let (st, body) = save_connection(&s, &app, true, json!({ "baseUrl": url, "profile": { "token": "00token" } })).await;
        assert_refused(st, &body, "baseUrl");
    }
    bait.assert_untouched();
}

#[tokio::test]
async fn test_api_credentials_never_repeats_what_the_far_end_answered() {
    const SECRET: &str = "internal-admin-password-hunter2";
    let far = axum::Router::new().fallback(|| async { (axum::http::StatusCode::NOT_FOUND, format!("<html>{SECRET}</html>")) });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let far_url = format!("http://{}", listener.local_addr().unwrap());
    let far_task = tokio::spawn(async move { axum::serve(listener, far).await });
    // loopback is allowed on test servers: the call is made, its answer is not repeated
    let s = TestServer::start(idhub_store::Backend::Sqlite).await;
    let app = org2org_app(&s).await;
    let (st, body) = save_connection(&s, &app, true, json!({ "baseUrl": far_url, "profile": { "token": "00token" } })).await;
    assert_refused(st, &body, "token");
    assert!(body.to_string().contains("404 Not Found"), "the status is named: {body}");
    assert!(!body.to_string().contains(SECRET), "{body}");
    let mut b = signed_in_admin(&s, "boss@example.com", "SUPER_ADMIN").await;
    let form = [("action", "test"), ("baseUrl", far_url.as_str()), ("token", "00token")];
    let (st, html, _) = b.post(&format!("/admin/app/{app}/provisioning/integration"), &form).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(html.contains("404 Not Found") && !html.contains(SECRET), "{html}");
    far_task.abort();
}

#[tokio::test]
async fn a_new_hub_origin_needs_the_token_again() {
    let s = TestServer::start(idhub_store::Backend::Sqlite).await;
    let (app, hub_url, _) = provisioned_app(&s).await;
    // another origin (the spoke org's own, on the same server, with its own token)
    let moved = s.base_url.clone();
    for activate in [false, true] {
        let (st, body) = save_connection(&s, &app, activate, json!({ "baseUrl": moved })).await;
        assert_refused(st, &body, "token");
        assert!(body["errorCauses"][0]["errorSummary"].as_str().unwrap().contains("required again"), "{body}");
    }
    let (_, conn) = call(s.api(Method::GET, &format!("/api/v1/apps/{app}/connections/default"))).await;
    assert_eq!(conn["baseUrl"], hub_url.as_str(), "nothing changed: {conn}");
    assert_eq!(conn["status"], "ENABLED");
    // the console form shows the refusal next to the token field
    let mut b = signed_in_admin(&s, "boss@example.com", "SUPER_ADMIN").await;
    let integration = format!("/admin/app/{app}/provisioning/integration");
    for action in ["save", "test"] {
        let (st, html, _) = b.post(&integration, &[("action", action), ("enabled", "on"), ("baseUrl", &moved), ("token", "")]).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{action}");
        assert!(html.contains("id=\"token-error\"") && html.contains("required again"), "{html}");
    }
    // the same origin keeps the stored token (the form comes back without it)
    let (st, html, _) =
        b.post(&integration, &[("action", "save"), ("enabled", "on"), ("baseUrl", &format!("{hub_url}/")), ("token", "")]).await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{html}");
    // with the token, the new origin is accepted
    let (st, conn) = save_connection(&s, &app, true, json!({ "baseUrl": moved, "profile": { "token": s.token } })).await;
    assert_eq!(st, StatusCode::OK, "{conn}");
    assert_eq!(conn["baseUrl"], moved.as_str());
    assert_eq!(conn["status"], "ENABLED");
}
