//! The admin console over HTTP (the browser suite drives the same pages in Chromium):
//! roles, CSRF, people and groups, tokens shown once, the sign-on policy, the System Log,
//! applications and their tabs. Identity providers and routing rules: `console_idps.rs`.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;
use common::browser::{admin_user, Browser, PW};
use common::*;

#[tokio::test]
async fn only_administrators_reach_the_console() {
    let s = TestServer::start(idhub_store::Backend::Sqlite).await;
    let mut anon = Browser::new(&s);
    let (st, _, loc) = anon.get("/admin/dashboard").await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert!(loc.unwrap().starts_with("/login?fromURI="));
    create_user(&s, "plain@example.com", Some(PW), true).await;
    let mut plain = Browser::new(&s);
    plain.sign_in("plain@example.com").await;
    let (st, html, _) = plain.get("/admin/dashboard").await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert!(html.contains("Administrators only"));
    admin_user(&s, "boss@example.com", "SUPER_ADMIN").await;
    let mut boss = Browser::new(&s);
    boss.sign_in("boss@example.com").await;
    for page in [
        "/admin/dashboard",
        "/admin/users",
        "/admin/groups",
        "/admin/access/api/tokens",
        "/admin/access/authenticators",
        "/admin/reports/system-log",
        "/admin/tasks",
        "/admin/apps/active",
        "/admin/access/identity-providers",
    ] {
        let (st, html, _) = boss.get(page).await;
        assert_eq!(st, StatusCode::OK, "{page}");
        assert!(html.contains("aria-label=\"Admin menu\""), "{page} has the menu");
        assert!(!html.contains("<script>"), "{page}: no inline scripts");
    }
}

#[tokio::test]
async fn people_and_groups_through_the_console() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        admin_user(&s, "boss@example.com", "SUPER_ADMIN").await;
        let mut b = Browser::new(&s);
        b.sign_in("boss@example.com").await;
        b.get("/admin/users/new").await;
        // a form without the CSRF token is refused and writes nothing
        let before = user_count(&s).await;
        let r = b
            .http
            .post(format!("{}/admin/users/new", s.base_url))
            .header("Cookie", b.cookie_header())
            .form(&[("login", "x@example.com")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert_eq!(user_count(&s).await, before);
        // validation errors are shown next to the field
        let (st, html, _) = b
            .post(
                "/admin/users/new",
                &[
                    ("firstName", "Sarah"),
                    ("lastName", "Lee"),
                    ("login", "sarah@example.com"),
                    ("email", "not-an-email"),
                    ("password_mode", "set"),
                    ("password", PW),
                    ("activate", "on"),
                ],
            )
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert!(html.contains("id=\"email-error\""), "{html}");
        assert_eq!(user_count(&s).await, before);
        let (st, _, loc) = b
            .post(
                "/admin/users/new",
                &[
                    ("firstName", "Sarah"),
                    ("lastName", "Lee"),
                    ("login", "sarah@example.com"),
                    ("email", "sarah@example.com"),
                    ("password_mode", "set"),
                    ("password", PW),
                    ("activate", "on"),
                ],
            )
            .await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let person = loc.unwrap().split('?').next().unwrap().to_string();
        let (_, html, _) = b.get(&person).await;
        assert!(html.contains("id=\"user-status\">ACTIVE<"));
        let id = person.rsplit('/').next().unwrap().to_string();
        // lifecycle from the console
        let (st, _, _) = b.post(&format!("/admin/user/{id}/lifecycle/suspend"), &[]).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let (_, user) = call(s.api(Method::GET, &format!("/api/v1/users/{id}"))).await;
        assert_eq!(user["status"], "SUSPENDED");
        // profile edit
        let (st, _, _) = b
            .post(
                &format!("/admin/user/{id}/profile"),
                &[
                    ("firstName", "Sara"),
                    ("lastName", "Lee"),
                    ("login", "sarah@example.com"),
                    ("email", "sarah@example.com"),
                    ("title", "Contractor"),
                ],
            )
            .await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let (_, user) = call(s.api(Method::GET, &format!("/api/v1/users/{id}"))).await;
        assert_eq!(user["profile"]["title"], "Contractor");
        assert_eq!(user["profile"]["firstName"], "Sara");
        // an expired password can be reset from the person's page
        for op in ["unsuspend", "expire_password"] {
            let (st, _, _) = b.post(&format!("/admin/user/{id}/lifecycle/{op}"), &[]).await;
            assert_eq!(st, StatusCode::SEE_OTHER, "{op}");
        }
        let (_, html, _) = b.get(&person).await;
        assert!(html.contains("id=\"user-status\">PASSWORD_EXPIRED<") && html.contains("id=\"action-reset_password\""), "{html}");
        assert!(!html.contains("id=\"action-suspend\""));
        // groups
        let (st, _, loc) = b.post("/admin/groups", &[("name", "Contractors"), ("description", "All Contractors")]).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let group = loc.unwrap().split('?').next().unwrap().to_string();
        let (st, html, _) = b.post("/admin/groups", &[("name", "contractors")]).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert!(html.contains("id=\"name-error\""));
        let (st, _, _) = b.post(&format!("{group}/members"), &[("login", "sarah@example.com")]).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let (_, html, _) = b.get(&group).await;
        assert!(html.contains("sarah@example.com"));
        // edit the group: a name taken by another group is refused next to the field
        let (st, _, _) = b.post("/admin/groups", &[("name", "Partners")]).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let (st, html, _) = b.post(&format!("{group}/profile"), &[("name", "partners"), ("description", "x")]).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert!(html.contains("id=\"group-name-error\"") && html.contains("value=\"partners\""), "{html}");
        let (st, _, _) = b.post(&format!("{group}/profile"), &[("name", "Contract staff"), ("description", "All contract staff")]).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let gid = group.rsplit('/').next().unwrap();
        let (_, g) = call(s.api(Method::GET, &format!("/api/v1/groups/{gid}"))).await;
        assert_eq!(
            (g["profile"]["name"].as_str(), g["profile"]["description"].as_str()),
            (Some("Contract staff"), Some("All contract staff"))
        );
        let (st, _, _) = b.post("/admin/group/00gnosuchgroup/profile", &[("name", "x")]).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        // the System Log page shows who did it
        let (st, html, _) = b.get("/admin/reports/system-log?filter=eventType%20eq%20%22group.user_membership.add%22").await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("Add user to group membership"));
        assert!(html.contains("boss@example.com"));
        let (st, html, _) = b.get("/admin/reports/system-log?filter=eventType%20eq").await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert!(html.contains("The filter is not valid"));
    }
}

#[tokio::test]
async fn tokens_are_shown_once_and_read_only_admins_change_nothing() {
    let s = TestServer::start(idhub_store::Backend::Sqlite).await;
    admin_user(&s, "boss@example.com", "SUPER_ADMIN").await;
    admin_user(&s, "viewer@example.com", "READ_ONLY_ADMIN").await;
    let mut b = Browser::new(&s);
    b.sign_in("boss@example.com").await;
    b.get("/admin/access/api/tokens").await;
    let (st, html, _) = b.post("/admin/access/api/tokens", &[("name", "Org2Org provisioning")]).await;
    assert_eq!(st, StatusCode::OK);
    let token = html.split("<code id=\"new-token\">").nth(1).unwrap().split('<').next().unwrap().to_string();
    assert_eq!(token.len(), 42);
    // the token works, and is never rendered again
    let (st, _) = call(s.http.get(format!("{}/api/v1/users", s.base_url)).header("Authorization", format!("SSWS {token}"))).await;
    assert_eq!(st, StatusCode::OK);
    let (_, html, _) = b.get("/admin/access/api/tokens").await;
    assert!(!html.contains(&token));
    assert!(html.contains("Org2Org provisioning"));
    // the rotation period: validated next to the field, then saved
    let (st, html, _) = b.post("/admin/access/api/tokens/rotation", &[("rotationDays", "0")]).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(html.contains("id=\"rotation-days-error\""), "{html}");
    let (st, _, _) = b.post("/admin/access/api/tokens/rotation", &[("rotationDays", "30")]).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, html, _) = b.get("/admin/access/api/tokens").await;
    assert!(html.contains("name=\"rotationDays\" type=\"number\" min=\"1\" max=\"3650\" required value=\"30\""), "{html}");
    // read-only
    let mut v = Browser::new(&s);
    v.sign_in("viewer@example.com").await;
    let (st, html, _) = v.get("/admin/users").await;
    assert_eq!(st, StatusCode::OK);
    assert!(!html.contains("id=\"add-person\""));
    let (st, _, _) = v.post("/admin/groups", &[("name", "Sneaky")]).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _, _) = v.post("/admin/access/api/tokens", &[("name", "Sneaky")]).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _, _) = v.post("/admin/access/api/tokens/rotation", &[("rotationDays", "1")]).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (_, groups) = call(s.api(Method::GET, "/api/v1/groups?q=Sneaky")).await;
    assert_eq!(groups.as_array().unwrap().len(), 0);
    // the sign-on policy page
    let (st, _, _) = b
        .post(
            "/admin/access/authenticators",
            &[("mfa", "GROUP"), ("maxAttempts", "5"), ("sessionIdleMinutes", "60"), ("sessionLifetimeMinutes", "600")],
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "a group is required for GROUP");
    let (st, _, _) = b
        .post(
            "/admin/access/authenticators",
            &[("mfa", "ALWAYS"), ("maxAttempts", "5"), ("sessionIdleMinutes", "60"), ("sessionLifetimeMinutes", "600")],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, p) = call(s.api(Method::GET, "/api/v1/idhub/policies/sign-on")).await;
    assert_eq!(p["mfa"], "ALWAYS");
    assert_eq!(p["maxAttempts"], 5);
}

fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    html.split(start).nth(1).and_then(|r| r.split(end).next()).unwrap_or("")
}

async fn app_count(s: &TestServer) -> usize {
    let (_, apps) = call(s.api(Method::GET, "/api/v1/apps")).await;
    apps.as_array().unwrap().len()
}

#[tokio::test]
async fn applications_catalog_wizard_tabs_provisioning_and_assignments() {
    let s = TestServer::start(idhub_store::Backend::Sqlite).await;
    admin_user(&s, "boss@example.com", "SUPER_ADMIN").await;
    admin_user(&s, "viewer@example.com", "READ_ONLY_ADMIN").await;
    let mut b = Browser::new(&s);
    b.sign_in("boss@example.com").await;
    // the catalog is searchable
    let (st, html, _) = b.get("/admin/apps/catalog?q=dropbox").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("id=\"add-dropbox_for_business\"") && !html.contains("Google Workspace"), "{html}");
    let (_, html, _) = b.get("/admin/apps/catalog?q=Okta%20Org2Org").await;
    assert!(html.contains("id=\"add-okta_org2org\""));
    // Dropbox Business through the two wizard steps
    let (st, html, _) = b.get("/admin/apps/new/dropbox_for_business").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("General settings") && html.contains("Do not display application icon to users"));
    let (st, html, _) = b.post("/admin/apps/new/dropbox_for_business", &[("step", "1"), ("label", "Dropbox")]).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("id=\"wizard-done\"") && html.contains("Application username format"), "{html}");
    let (st, _, loc) = b
        .post(
            "/admin/apps/new/dropbox_for_business",
            &[
                ("step", "2"),
                ("label", "Dropbox"),
                ("credentials.userNameTemplate.template", "${source.email}"),
                ("credentials.updateOn", "CREATE_AND_UPDATE"),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert!(loc.unwrap().starts_with("/admin/app/0oa"));
    // a bad Base Url is shown next to its field and nothing is written
    let before = app_count(&s).await;
    let (st, html, _) = b
        .post("/admin/apps/new/okta_org2org", &[("step", "1"), ("label", "Okta Org2Org"), ("settings.app.baseUrl", "javascript:alert(1)")])
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(html.contains("id=\"settings-app-baseUrl-error\""), "{html}");
    assert_eq!(app_count(&s).await, before);
    // the hub: a second org on the same server
    let hub_url = format!("http://localhost:{}", s.addr.port());
    let (_, hub_token) = idhub_testkit::add_org(&s.db.store, "hub", &hub_url).await;
    let (st, _, loc) = b
        .post(
            "/admin/apps/new/okta_org2org",
            &[
                ("step", "2"),
                ("label", "Okta Org2Org"),
                ("settings.app.baseUrl", &hub_url),
                ("visibility.autoSubmitToolbar", "on"),
                ("settings.app.acsUrl", &format!("{hub_url}/sso/saml2/0oaHUB")),
                ("settings.app.audRestriction", "https://www.okta.com/saml2/service-provider/spoke"),
                ("credentials.userNameTemplate.template", "${source.login}"),
                ("credentials.updateOn", "CREATE_AND_UPDATE"),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let app_page = loc.unwrap().split('?').next().unwrap().to_string();
    let id = app_page.split('/').nth(3).unwrap().to_string();
    let (_, app) = call(s.api(Method::GET, &format!("/api/v1/apps/{id}"))).await;
    assert_eq!(app["settings"]["app"]["audRestriction"], "https://www.okta.com/saml2/service-provider/spoke");
    assert_eq!(app["visibility"]["autoSubmitToolbar"], true);
    // Sign On tab: setup instructions, metadata, certificate, Advanced Sign-on Settings
    let (st, html, _) = b.get(&format!("/admin/app/{id}/signon")).await;
    assert_eq!(st, StatusCode::OK);
    let html = html.replace("&#x2f;", "/");
    assert!(html.contains(&format!("href=\"/app/okta_org2org/{id}/setup/help/SAML_2_0/instructions\"")));
    assert!(html.contains("Advanced Sign-on Settings") && html.contains("Hub ACS URL"));
    let (st, xml, _) = b.get(&format!("/admin/app/{id}/metadata")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(xml.contains("EntityDescriptor"));
    let (st, html, _) =
        b.post(&format!("/admin/app/{id}/signon"), &[("settings.app.acsUrl", "ftp://nope"), ("settings.app.audRestriction", "x")]).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(html.contains("id=\"settings-app-acsUrl-error\""));
    let (st, _, _) = b.post(&format!("/admin/app/{id}/keys/rotate"), &[]).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, keys) = call(s.api(Method::GET, &format!("/api/v1/apps/{id}/credentials/keys"))).await;
    assert_eq!(keys.as_array().unwrap().len(), 2);
    // Provisioning: Test API Credentials says what the hub answered
    let integration = format!("/admin/app/{id}/provisioning/integration");
    let (st, html, _) = b.post(&integration, &[("action", "test"), ("baseUrl", &hub_url), ("token", "not-a-token")]).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(html.contains("refused the API token (401)"), "{html}");
    let (st, html, _) = b.post(&integration, &[("action", "test"), ("baseUrl", &hub_url), ("token", &hub_token)]).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("verified successfully"), "{html}");
    assert!(!html.contains(&hub_token), "the token is never rendered");
    let (st, _, _) =
        b.post(&integration, &[("action", "save"), ("enabled", "on"), ("baseUrl", &hub_url), ("token", ""), ("importGroups", "on")]).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, conn) = call(s.api(Method::GET, &format!("/api/v1/apps/{id}/connections/default"))).await;
    assert_eq!(conn["status"], "ENABLED");
    let (_, html, _) = b.get(&format!("/admin/app/{id}/provisioning")).await;
    assert!(!html.contains(&hub_token));
    let (st, _, _) =
        b.post(&format!("/admin/app/{id}/provisioning/to-app"), &[("create", "on"), ("update", "on"), ("deactivate", "on")]).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, f) = call(s.api(Method::GET, &format!("/api/v1/apps/{id}/features/USER_PROVISIONING"))).await;
    assert_eq!(f["capabilities"]["update"]["password"]["status"], "DISABLED");
    assert_eq!(f["capabilities"]["create"]["lifecycleCreate"]["status"], "ENABLED");
    // a push the hub refused shows on the Provisioning tab with what the hub answered
    let org = idhub_domain::ids::OrgId(s.org_id.clone());
    let now = idhub_domain::time::Clock::now_millis(&idhub_domain::time::SystemClock);
    let job = idhub_core::provisioning::sync_job(&org, &id, "00uSOMEONE");
    s.db.store.enqueue_jobs(&[job], now, &[]).await.unwrap();
    let leased = s.db.store.lease_jobs("provisioning", "test", 10, 60_000, now).await.unwrap();
    assert_eq!(leased.len(), 1);
    s.db.store.fail_job(&leased[0], "test", "hub answered 400 E0000001: login already exists", now, &[]).await.unwrap();
    let (_, html, _) = b.get(&format!("/admin/app/{id}/provisioning")).await;
    assert!(html.contains("id=\"failed-pushes\"") && html.contains("login already exists"), "{html}");
    assert!(html.contains("id=\"push-progress\"") && html.contains("<strong>1</strong> failed"), "progress counts: {html}");
    // Assignments: a group with its initial status
    let (_, g) = call(s.api(Method::POST, "/api/v1/groups").json(&json!({ "profile": { "name": "Contractors" } }))).await;
    let gid = g["id"].as_str().unwrap();
    let (st, html, _) = b.post(&format!("/admin/app/{id}/assignments/groups"), &[("target", gid), ("initialStatus", "sideways")]).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(html.contains("id=\"groups-initialStatus-error\""), "{html}");
    let (st, _, _) =
        b.post(&format!("/admin/app/{id}/assignments/groups"), &[("target", gid), ("initialStatus", "active_with_pass")]).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, ag) = call(s.api(Method::GET, &format!("/api/v1/apps/{id}/groups/{gid}"))).await;
    assert_eq!(ag["profile"]["initialStatus"], "active_with_pass");
    let (st, html, _) = b.post(&format!("/admin/app/{id}/assignments/people"), &[("target", "nobody@example.com")]).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(html.contains("id=\"people-target-error\""));
    let (_, html, _) = b.get(&format!("/admin/app/{id}/assignments")).await;
    assert_eq!(between(&html, "<td class=\"initial-status\">", "<"), "active_with_pass");
    // Assign to People with the app-user profile and a username, then remove it
    let sarah = create_user(&s, "sarah@example.com", Some(PW), true).await;
    let uid = sarah["id"].as_str().unwrap();
    let (st, _, _) = b
        .post(
            &format!("/admin/app/{id}/assignments/people"),
            &[("target", "sarah@example.com"), ("userName", "sarah.lee"), ("initialStatus", "pending")],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, au) = call(s.api(Method::GET, &format!("/api/v1/apps/{id}/users/{uid}"))).await;
    assert_eq!((au["credentials"]["userName"].as_str(), au["profile"]["initialStatus"].as_str()), (Some("sarah.lee"), Some("pending")));
    let (st, _, _) = b.post(&format!("/admin/app/{id}/assignments/people/{uid}/remove"), &[]).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (st, _) = call(s.api(Method::GET, &format!("/api/v1/apps/{id}/users/{uid}"))).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // a form without the CSRF token is refused
    let r = b
        .http
        .post(format!("{}/admin/app/{id}/general", s.base_url))
        .header("Cookie", b.cookie_header())
        .form(&[("label", "Hijacked")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // a read-only admin sees every tab and changes nothing
    let mut v = Browser::new(&s);
    v.sign_in("viewer@example.com").await;
    for tab in ["general", "signon", "provisioning", "assignments"] {
        let (st, html, _) = v.get(&format!("/admin/app/{id}/{tab}")).await;
        assert_eq!(st, StatusCode::OK, "{tab}");
        assert!(!html.contains("type=\"submit\" id=\"save-") && !html.contains("id=\"assign-groups\""), "{tab}: {html}");
    }
    for (path, form) in [
        (format!("/admin/app/{id}/general"), vec![("label", "Hijacked")]),
        (format!("/admin/app/{id}/lifecycle/deactivate"), vec![]),
        (integration.clone(), vec![("action", "save"), ("baseUrl", "http://127.0.0.1:1")]),
        (format!("/admin/app/{id}/assignments/groups/{gid}/remove"), vec![]),
        ("/admin/apps/new/bookmark".to_string(), vec![("step", "2"), ("label", "Sneaky"), ("settings.app.url", "https://example.com")]),
    ] {
        let (st, _, _) = v.post(&path, &form).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{path}");
    }
    let (_, app) = call(s.api(Method::GET, &format!("/api/v1/apps/{id}"))).await;
    assert_eq!((app["label"].as_str(), app["status"].as_str()), (Some("Okta Org2Org"), Some("ACTIVE")));
    // General: label and visibility; delete needs deactivation first
    let (st, _, _) = b
        .post(&format!("/admin/app/{id}/general"), &[("label", "Hub"), ("settings.app.baseUrl", &hub_url), ("visibility.hide.web", "on")])
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, app) = call(s.api(Method::GET, &format!("/api/v1/apps/{id}"))).await;
    assert_eq!(app["label"], "Hub");
    assert_eq!(app["visibility"]["hide"]["web"], true);
    assert_eq!(app["visibility"]["autoSubmitToolbar"], false);
    let (st, html, _) = b.post(&format!("/admin/app/{id}/delete"), &[]).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert!(html.contains("deactivate the application first"));
    let (st, _, _) = b.post(&format!("/admin/app/{id}/lifecycle/deactivate"), &[]).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (st, _, loc) = b.post(&format!("/admin/app/{id}/delete"), &[]).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert!(loc.unwrap().starts_with("/admin/apps/active"));
    let (st, _) = call(s.api(Method::GET, &format!("/api/v1/apps/{id}"))).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, html, _) = b.get("/admin/apps/active").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains(">Dropbox</a>"));
}

#[tokio::test]
async fn create_new_saml_app_and_expiring_certificates_are_flagged() {
    let s = TestServer::start(idhub_store::Backend::Sqlite).await;
    admin_user(&s, "boss@example.com", "SUPER_ADMIN").await;
    let mut b = Browser::new(&s);
    b.sign_in("boss@example.com").await;
    // Create New App: step 1 has only the label; the SAML settings are checked on step 2
    let (st, html, _) = b.post("/admin/apps/new/saml_2_0", &[("step", "1"), ("label", "Wiki")]).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("Single sign-on URL") && !html.contains("field-error"), "{html}");
    let before = app_count(&s).await;
    let step2 = |acs: &'static str| {
        vec![
            ("step", "2"),
            ("label", "Wiki"),
            ("settings.signOn.ssoAcsUrl", acs),
            ("settings.signOn.audience", "https://wiki.example/saml"),
            ("settings.signOn.subjectNameIdFormat", "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"),
            ("credentials.userNameTemplate.template", "${source.email}"),
            ("credentials.updateOn", "CREATE"),
        ]
    };
    let (st, html, _) = b.post("/admin/apps/new/saml_2_0", &step2("data:text/html,x")).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(html.contains("id=\"settings-signOn-ssoAcsUrl-error\"") && html.contains("id=\"wizard-done\""), "{html}");
    assert_eq!(app_count(&s).await, before);
    let (st, _, loc) = b.post("/admin/apps/new/saml_2_0", &step2("https://wiki.example/saml/acs")).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let id = loc.unwrap().split('/').nth(3).unwrap().to_string();
    let (_, app) = call(s.api(Method::GET, &format!("/api/v1/apps/{id}"))).await;
    assert_eq!(app["settings"]["signOn"]["ssoAcsUrl"], "https://wiki.example/saml/acs");
    assert_eq!(app["credentials"]["updateOn"], "CREATE");
    // Attributes (Optional): a bad expression is refused next to its row
    let signon = format!("/admin/app/{id}/signon");
    let (st, html, _) = b
        .post(
            &signon,
            &[
                ("attributes", "1"),
                ("attr-name-0", "FirstName"),
                ("attr-value-0", "user.firstName"),
                ("attr-name-1", "Broken"),
                ("attr-value-1", "user.("),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(html.contains("id=\"attr-value-1-error\""), "{html}");
    let (st, _, _) = b
        .post(
            &signon,
            &[
                ("attributes", "1"),
                ("attr-name-0", ""),
                ("attr-value-0", ""),
                ("attr-name-1", "FirstName"),
                ("attr-value-1", "user.firstName"),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, app) = call(s.api(Method::GET, &format!("/api/v1/apps/{id}"))).await;
    assert_eq!(app["settings"]["signOn"]["attributeStatements"][0]["name"], "FirstName");
    assert_eq!(app["settings"]["signOn"]["attributeStatements"].as_array().unwrap().len(), 1);
    assert_eq!(app["settings"]["signOn"]["ssoAcsUrl"], "https://wiki.example/saml/acs", "fields not in the form are kept");
    // a signing certificate that expires within 30 days shows on the dashboard and the tab
    let (_, html, _) = b.get("/admin/dashboard").await;
    assert!(!html.contains("signing certificate of"));
    let org = idhub_domain::ids::OrgId(s.org_id.clone());
    let now = idhub_domain::time::Clock::now_millis(&idhub_domain::time::SystemClock);
    let key = idhub_store::apps::AppKey {
        kid: "soon".into(),
        app_id: id.clone(),
        cert_pem: "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n".into(),
        key_sealed: "x".into(),
        status: "ACTIVE".into(),
        created: now,
        expires: now + 5 * 24 * 3600 * 1000,
    };
    s.db.store.add_active_app_key(&org, &key, &[]).await.unwrap();
    let (_, html, _) = b.get("/admin/dashboard").await;
    assert!(html.contains("The signing certificate of &quot;Wiki&quot; expires"), "{html}");
    let (_, html, _) = b.get(&format!("/admin/app/{id}/signon")).await;
    assert!(html.contains("expires within 30 days"));
}

#[tokio::test]
async fn push_groups_and_import_tabs() {
    let s = TestServer::start(idhub_store::Backend::Sqlite).await;
    admin_user(&s, "admin@spoke.example", "SUPER_ADMIN").await;
    let (app_id, hub_url, hub_token) = provisioned_app(&s).await;
    let hub = |m: Method, p: &str| s.http.request(m, format!("{hub_url}{p}")).header("Authorization", format!("SSWS {hub_token}"));
    let (_, g) = call(s.api(Method::POST, "/api/v1/groups").json(&json!({"profile": {"name": "Partners"}}))).await;
    let gid = g["id"].as_str().unwrap().to_string();
    let mut b = Browser::new(&s);
    b.sign_in("admin@spoke.example").await;
    // Push Groups: by name, listed with its status, unlinked after choosing keep/delete
    let (st, html, _) = b.get(&format!("/admin/app/{app_id}/push-groups")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("id=\"tab-push-groups\"") && html.contains("No groups pushed."), "{html}");
    let (st, html, _) = b.post(&format!("/admin/app/{app_id}/push-groups"), &[("mode", "group"), ("group", "00gnope")]).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "a readable refusal");
    assert!(html.contains("no group 00gnope"), "{html}");
    let (st, _, loc) = b.post(&format!("/admin/app/{app_id}/push-groups"), &[("mode", "group"), ("group", &gid)]).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert!(loc.unwrap().contains("notice="));
    // Tasks: the push is in progress until the worker has run it
    let (_, html, _) = b.get("/admin/tasks").await;
    assert!(html.contains(&format!("id=\"progress-{app_id}-push-groups\"")) && html.contains("Push Groups"), "{html}");
    drain(&s).await;
    let (_, html, _) = b.get(&format!("/admin/app/{app_id}/push-groups")).await;
    assert!(html.contains("s-ACTIVE") && html.contains("Partners"), "{html}");
    let (_, list) = call(s.api(Method::GET, &format!("/api/v1/apps/{app_id}/idhub/group-push"))).await;
    let (mid, hub_gid) = (list[0]["id"].as_str().unwrap().to_string(), list[0]["targetGroupId"].as_str().unwrap().to_string());
    let (st, _, _) = b.post(&format!("/admin/app/{app_id}/push-groups/{mid}/unlink"), &[]).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "the keep/delete choice is required");
    let (st, _, _) = b.post(&format!("/admin/app/{app_id}/push-groups/{mid}/unlink"), &[("target", "delete")]).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    drain(&s).await;
    assert_eq!(call(hub(Method::GET, &format!("/api/v1/groups/{hub_gid}"))).await.0, StatusCode::NOT_FOUND);
    // Import: Import Now, results pending, Confirm Assignments for the one selected
    call(hub(Method::POST, "/api/v1/users?activate=true").json(&json!({ "profile": profile("omar@partner.example", "Omar", "Hub") })))
        .await;
    let (st, _, _) = b.post(&format!("/admin/app/{app_id}/import/settings"), &[("matchBy", "EMAIL"), ("schedule", "NONE")]).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (st, html, _) = b.post(&format!("/admin/app/{app_id}/import/settings"), &[("matchBy", "NAME")]).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{html}");
    let (st, _, _) = b.post(&format!("/admin/app/{app_id}/import/now"), &[]).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, html, _) = b.get(&format!("/admin/app/{app_id}/import")).await;
    assert!(html.contains("id=\"import-running\""), "{html}");
    let (_, html, _) = b.get("/admin/tasks").await;
    assert!(html.contains(&format!("id=\"progress-{app_id}-import\"")) && html.contains("Import from the hub"), "{html}");
    drain(&s).await;
    let (_, html, _) = b.get("/admin/tasks").await;
    assert!(html.contains("id=\"nothing-running\""), "{html}");
    let (_, html, _) = b.get(&format!("/admin/app/{app_id}/import")).await;
    assert!(!html.contains("id=\"import-running\""));
    let (_, html, _) = b.get(&format!("/admin/app/{app_id}/import")).await;
    assert!(html.contains("omar@partner.example") && html.contains("Create new user"), "{html}");
    let (_, state) = call(s.api(Method::GET, &format!("/api/v1/apps/{app_id}/idhub/import"))).await;
    let omar = state["pending"].as_array().unwrap().iter().find(|c| c["hubLogin"] == "omar@partner.example").unwrap()["id"].clone();
    let (st, _, _) = b.post(&format!("/admin/app/{app_id}/import/confirm"), &[]).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "nothing selected");
    assert_eq!(call(s.api(Method::GET, "/api/v1/users/omar@partner.example")).await.0, StatusCode::NOT_FOUND);
    let (st, _, loc) = b.post(&format!("/admin/app/{app_id}/import/confirm"), &[("id", omar.as_str().unwrap())]).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert!(loc.unwrap().contains("confirmed"));
    let (_, omar) = call(s.api(Method::GET, "/api/v1/users/omar@partner.example")).await;
    let omar_id = omar["id"].as_str().unwrap().to_string();
    // with the app as profile source, the person's profile is read-only here: a readable refusal
    let (st, _, _) = b
        .post(&format!("/admin/app/{app_id}/import/settings"), &[("matchBy", "EMAIL"), ("schedule", "NONE"), ("profileSource", "on")])
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (st, html, _) = b
        .post(
            &format!("/admin/user/{omar_id}/profile"),
            &[("login", "omar@partner.example"), ("email", "omar@partner.example"), ("firstName", "Edited"), ("lastName", "Hub")],
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(html.contains("profile source"), "{html}");
    assert_eq!(call(s.api(Method::GET, &format!("/api/v1/users/{omar_id}"))).await.1["profile"]["firstName"], "Omar");
    let (st, _, _) = b.post(&format!("/admin/user/{omar_id}/lifecycle/deactivate"), &[]).await;
    assert_eq!(st, StatusCode::SEE_OTHER, "lifecycle changes are still allowed");
    // The hub revokes the spoke's token: the deactivation becomes a Task that says what the
    // hub answered, dismissed from the Tasks page after a confirmation.
    let (_, tokens) = call(hub(Method::GET, "/api/v1/api-tokens")).await;
    for t in tokens.as_array().unwrap() {
        call(hub(Method::DELETE, &format!("/api/v1/api-tokens/{}", t["id"].as_str().unwrap()))).await;
    }
    drain(&s).await;
    let (_, html, _) = b.get("/admin/tasks").await;
    assert!(html.contains("401 E0000011") && html.contains(">omar@partner.example</a>"), "{html}");
    let tasks: Vec<String> = html.split("id=\"dismiss-job").skip(1).map(|t| format!("job{}", t.split('"').next().unwrap())).collect();
    assert!(!tasks.is_empty(), "{html}");
    for task in tasks {
        assert!(html.contains(&format!("id=\"dismiss-open-{task}\"")), "a confirmation first");
        let (st, _, _) = b.post(&format!("/admin/tasks/{task}/dismiss"), &[]).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
    }
    let (_, html, _) = b.get("/admin/tasks").await;
    assert!(html.contains("id=\"no-tasks\""), "{html}");
}
