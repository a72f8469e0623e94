//! The Applications area of the console as the seeds walk it: the top bar's global
//! search, the Sign On tab's Disable Force Authentication (and ForceAuthn honoured by the
//! IdP), Credentials Details, Dropbox's Silent Provisioning, the Provisioning tab's
//! Configure API Integration and To App Edit, and the Assignments tab's Convert
//! assignments, search and SELF SERVICE panel with Applications > Self Service.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;
use base64::Engine;
use common::browser::{admin_user, Browser, PW};
use common::*;

async fn signed_in_admin(s: &TestServer, login: &str, role: &str) -> Browser {
    admin_user(s, login, role).await;
    let mut b = Browser::new(s);
    b.sign_in(login).await;
    b
}

async fn new_app(s: &TestServer, body: Value) -> String {
    let (st, app) = call(s.api(Method::POST, "/api/v1/apps").json(&body)).await;
    assert_eq!(st, StatusCode::OK, "{app}");
    app["id"].as_str().unwrap().to_string()
}

async fn get_app(s: &TestServer, id: &str) -> Value {
    call(s.api(Method::GET, &format!("/api/v1/apps/{id}"))).await.1
}

/// A POST without the CSRF token (a cross-site form).
async fn post_without_csrf(b: &Browser, path: &str, form: &[(&str, &str)]) -> StatusCode {
    b.http.post(format!("{}{path}", b.base)).header("Cookie", b.cookie_header()).form(form).send().await.unwrap().status()
}

#[tokio::test]
async fn global_search_finds_this_orgs_people_apps_and_groups_only() {
    let s = TestServer::start(idhub_store::Backend::Sqlite).await;
    let mut b = signed_in_admin(&s, "boss@example.com", "SUPER_ADMIN").await;
    let sarah = create_user(&s, "sarah.lee@example.com", Some(PW), true).await;
    let (_, g) = call(
        s.api(Method::POST, "/api/v1/groups").json(&json!({ "profile": { "name": "Contractors", "description": "All Contractors" } })),
    )
    .await;
    let app = new_app(&s, json!({ "name": "dropbox_for_business", "label": "Dropbox" })).await;
    // another org on the same server with a look-alike person, group and app
    let other_url = format!("http://localhost:{}", s.addr.port());
    let (_, other_token) = idhub_testkit::add_org(&s.db.store, "other", &other_url).await;
    let other = |m: Method, p: &str| s.http.request(m, format!("{other_url}{p}")).header("Authorization", format!("SSWS {other_token}"));
    let (st, stranger) = call(
        other(Method::POST, "/api/v1/users?activate=true")
            .json(&json!({ "profile": profile("sarah.stranger@other.example", "Sarah", "Stranger") })),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{stranger}");
    let (_, og) = call(other(Method::POST, "/api/v1/groups").json(&json!({ "profile": { "name": "Contractors elsewhere" } }))).await;
    // the search box is on every page, labelled
    for page in ["/admin/dashboard", "/admin/users", &format!("/admin/app/{app}/signon"), "/admin/apps/self-service"] {
        let (_, html, _) = b.get(page).await;
        assert!(html.contains("<label for=\"global-search\" class=\"sr\">Search for people, apps and groups</label>"), "{page}");
        assert!(html.contains("action=\"/admin/search\""), "{page}");
    }
    let (st, html, _) = b.get("/admin/search?q=Sarah").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains(&format!("href=\"/admin/user/{}\"", sarah["id"].as_str().unwrap())), "{html}");
    assert!(!html.contains("sarah.stranger") && !html.contains(stranger["id"].as_str().unwrap()), "tenant isolation: {html}");
    let (_, html, _) = b.get("/admin/search?q=contr").await;
    assert!(html.contains(&format!("href=\"/admin/group/{}\"", g["id"].as_str().unwrap())), "{html}");
    assert!(!html.contains(og["id"].as_str().unwrap()) && !html.contains("Contractors elsewhere"));
    let (_, html, _) = b.get("/admin/search?q=drop").await;
    assert!(html.contains(&format!("href=\"/admin/app/{app}/general\"")), "{html}");
    let org2org = new_app(
        &s,
        json!({ "name": "okta_org2org", "label": "Okta Org2Org", "settings": { "app": { "baseUrl": "https://hub.example" } } }),
    )
    .await;
    let (_, html, _) = b.get("/admin/search?q=org2").await;
    assert!(html.contains(&format!("href=\"/admin/app/{org2org}/general\"")), "any word of the label: {html}");
    assert!(!html.contains(&format!("href=\"/admin/app/{app}/general\"")));
    let (_, html, _) = b.get("/admin/search?q=").await;
    assert!(html.contains("id=\"search-empty\""));
    let (_, html, _) = b.get("/admin/search?q=zzzz%25_%3Cscript%3E").await;
    assert!(html.contains("id=\"no-results\"") && !html.contains("<script>"), "{html}");
}

#[tokio::test]
async fn sign_on_tab_credentials_details_and_silent_provisioning_persist() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let mut b = signed_in_admin(&s, "boss@example.com", "SUPER_ADMIN").await;
        let id = new_app(&s, json!({ "name": "dropbox_for_business", "label": "Dropbox" })).await;
        let app = get_app(&s, &id).await;
        assert_eq!(app["settings"]["signOn"]["honorForceAuthn"], true);
        assert_eq!(app["credentials"]["revealPassword"], true);
        assert_eq!(app["settings"]["idhub"]["silentProvisioning"], false);
        let signon = format!("/admin/app/{id}/signon");
        let (st, html, _) = b.get(&signon).await;
        assert_eq!(st, StatusCode::OK);
        for text in [
            "Disable Force Authentication",
            "Never prompt user to re-authenticate.",
            "Advanced Sign-on Settings",
            "Silent Provisioning",
            "Credentials Details",
            "Application username format",
            "Update application username on",
            ">Create only<",
            "Password reveal",
            "Allow users to securely see their password (Recommended)",
        ] {
            assert!(html.contains(text), "{text}");
        }
        assert!(html.contains("id=\"credentials-revealPassword\" name=\"credentials.revealPassword\" value=\"on\" checked"), "{html}");
        // the seeds' Dropbox settings: Silent Provisioning enabled, Create and update; force authentication disabled
        let (st, _, _) = b
            .post(
                &signon,
                &[
                    ("settings.signOn.honorForceAuthn", "on"),
                    ("settings.idhub.silentProvisioning", "on"),
                    ("credentials.userNameTemplate.template", "${source.login}"),
                    ("credentials.updateOn", "CREATE"),
                ],
            )
            .await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let app = get_app(&s, &id).await;
        assert_eq!(app["settings"]["signOn"]["honorForceAuthn"], false, "Disable Force Authentication checked");
        assert_eq!(app["settings"]["idhub"]["silentProvisioning"], true);
        assert_eq!(app["credentials"]["revealPassword"], false, "Password reveal unchecked");
        assert_eq!(app["credentials"]["updateOn"], "CREATE");
        assert!(app["credentials"]["userNameTemplate"].get("revealPassword").is_none());
        let (_, html, _) = b.get(&signon).await;
        assert!(html.contains("id=\"settings-signOn-honorForceAuthn\" name=\"settings.signOn.honorForceAuthn\" value=\"on\" checked"));
        assert!(html.contains("id=\"settings-idhub-silentProvisioning\" name=\"settings.idhub.silentProvisioning\" value=\"on\" checked"));
        assert!(html.contains("<option value=\"CREATE\" selected>Create only</option>"));
        // unchecking turns them back
        let (st, _, _) = b.post(&signon, &[("credentials.revealPassword", "on")]).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let app = get_app(&s, &id).await;
        assert_eq!(app["settings"]["signOn"]["honorForceAuthn"], true);
        assert_eq!(app["settings"]["idhub"]["silentProvisioning"], false);
        assert_eq!(app["credentials"]["revealPassword"], true);
        // an app without it has no Silent Provisioning; the API refuses a non-boolean
        let other = new_app(&s, json!({ "name": "okta_org2org", "settings": { "app": { "baseUrl": "https://hub.example" } } })).await;
        let (_, html, _) = b.get(&format!("/admin/app/{other}/signon")).await;
        assert!(!html.contains("Silent Provisioning") && html.contains("Disable Force Authentication"));
        let mut bad = get_app(&s, &id).await;
        bad["credentials"]["revealPassword"] = json!("yes");
        let (st, body) = call(s.api(Method::PUT, &format!("/api/v1/apps/{id}")).json(&bad)).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
        // a read-only admin sees the page but cannot save; a form without CSRF is refused
        let mut ro = signed_in_admin(&s, "viewer@example.com", "READ_ONLY_ADMIN").await;
        let (st, html, _) = ro.get(&signon).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("Disable Force Authentication") && !html.contains("id=\"save-signon\""));
        let (st, _, _) = ro.post(&signon, &[("settings.signOn.honorForceAuthn", "on")]).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        assert_eq!(post_without_csrf(&b, &signon, &[("settings.signOn.honorForceAuthn", "on")]).await, StatusCode::FORBIDDEN);
        assert_eq!(get_app(&s, &id).await["settings"]["signOn"]["honorForceAuthn"], true, "nothing changed");
    }
}

fn saml_field(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\" value=\""))? + name.len() + 15;
    Some(html[at..].split('"').next()?.to_string())
}

#[tokio::test]
async fn force_authn_asks_for_the_password_again_unless_disabled() {
    let s = TestServer::start(idhub_store::Backend::Sqlite).await;
    let id = new_app(
        &s,
        json!({ "signOnMode": "SAML_2_0", "label": "SP", "settings": { "signOn": { "ssoAcsUrl": "https://sp.example/acs", "audience": "https://sp.example" } } }),
    )
    .await;
    let sarah = create_user(&s, "sarah@example.com", Some(PW), true).await;
    call(s.api(Method::POST, &format!("/api/v1/apps/{id}/users")).json(&json!({ "id": sarah["id"] }))).await;
    let mut b = Browser::new(&s);
    b.sign_in("sarah@example.com").await;
    let request_with_id = |force: bool, req_id: &str| {
        let xml = format!(
            r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{req_id}" Version="2.0" IssueInstant="2026-11-24T05:00:00Z" ForceAuthn="{force}" AssertionConsumerServiceURL="https://sp.example/acs"><saml:Issuer>https://sp.example</saml:Issuer></samlp:AuthnRequest>"#
        );
        let enc = idhub_saml::request::encode_redirect(&xml).unwrap();
        let url = reqwest::Url::parse_with_params(
            &format!("{}/app/saml_2_0/{id}/sso/saml", s.base_url),
            &[("SAMLRequest", enc.as_str()), ("RelayState", "rs1")],
        )
        .unwrap();
        format!("{}?{}", url.path(), url.query().unwrap())
    };
    let request = |force: bool| request_with_id(force, "_force1");
    let answered = |html: &str| {
        saml_field(html, "SAMLResponse")
            .and_then(|r| base64::engine::general_purpose::STANDARD.decode(r).ok())
            .is_some_and(|x| String::from_utf8_lossy(&x).contains("InResponseTo=\"_force1\""))
    };
    // without ForceAuthn the live session is enough
    let (st, html, _) = b.get(&request(false)).await;
    assert_eq!(st, StatusCode::OK);
    assert!(answered(&html));
    // with it, the sign-in page asks again, even though the session is live
    let (st, _, loc) = b.get(&request(true)).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let login = loc.unwrap();
    assert!(login.starts_with("/login?fromURI="), "{login}");
    let from = reqwest::Url::parse(&format!("http://x{login}"))
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "fromURI")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    assert!(from.contains("idhubReauth="), "{from}");
    // following the token back without signing in again does not count
    let (st, html, loc) = b.get(&from).await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{html}");
    assert!(loc.unwrap().starts_with("/login?fromURI="));
    // a forged token does not count either
    let forged = from.replace("idhubReauth=", "idhubReauth=v1%3AAAAA");
    let (st, _, _) = b.get(&forged).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (st, html, _) = b.get(&login).await;
    assert_eq!(st, StatusCode::OK, "the sign-in page is shown to a signed-in user here");
    assert!(html.contains("id=\"reauth-notice\"") && html.contains("value=\"sarah@example.com\""), "{html}");
    // a wrong password is refused on the same page
    let (st, html, _) = b.post("/login", &[("username", "sarah@example.com"), ("password", "wrong-password"), ("fromURI", &from)]).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert!(html.contains("id=\"reauth-notice\""));
    // the password again, then the request is answered
    let (st, _, loc) = b.post("/login", &[("username", "sarah@example.com"), ("password", PW), ("fromURI", &from)]).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let back = loc.unwrap();
    let (st, html, _) = b.get(&back).await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert!(answered(&html));
    assert_eq!(saml_field(&html, "RelayState").as_deref(), Some("rs1"));
    // a token is for its request only: another request with ForceAuthn asks again
    let other = request_with_id(true, "_force2");
    let (st, _, _) = b.get(&format!("{other}&idhubReauth={}", back.split("idhubReauth=").nth(1).unwrap())).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    // Disable Force Authentication: the live session is enough again
    let mut app = get_app(&s, &id).await;
    app["settings"]["signOn"]["honorForceAuthn"] = json!(false);
    let (st, body) = call(s.api(Method::PUT, &format!("/api/v1/apps/{id}")).json(&app)).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let (st, html, _) = b.get(&request(true)).await;
    assert_eq!(st, StatusCode::OK);
    assert!(answered(&html));
}

#[tokio::test]
async fn provisioning_tab_configure_api_integration_and_to_app_edit() {
    let s = TestServer::start(idhub_store::Backend::Sqlite).await;
    let mut b = signed_in_admin(&s, "boss@example.com", "SUPER_ADMIN").await;
    let id = new_app(&s, json!({ "name": "okta_org2org", "settings": { "app": { "baseUrl": "https://hub.example" } } })).await;
    let tab = format!("/admin/app/{id}/provisioning");
    let (_, html, _) = b.get(&tab).await;
    assert!(html.contains("id=\"configure-api-integration\"") && !html.contains("id=\"baseUrl\""), "{html}");
    let (_, html, _) = b.get(&format!("{tab}?configure=1")).await;
    assert!(html.contains("id=\"baseUrl\"") && html.contains("id=\"test-api-credentials\"") && html.contains("id=\"cancel-integration\""));
    // a read-only admin sees neither the button nor a form to fill
    let mut ro = signed_in_admin(&s, "viewer@example.com", "READ_ONLY_ADMIN").await;
    let (_, html, _) = ro.get(&tab).await;
    assert!(!html.contains("id=\"configure-api-integration\""));
    // once configured: To App read-only with Edit, editable with Save and Cancel
    let (id, _, _) = provisioned_app(&s).await;
    let tab = format!("/admin/app/{id}/provisioning");
    let (_, html, _) = b.get(&tab).await;
    assert!(html.contains("id=\"baseUrl\""), "the form shows once an integration exists");
    assert!(html.contains("id=\"edit-to-app\"") && !html.contains("id=\"save-to-app\""));
    assert!(html.contains("id=\"feature-create\" name=\"create\" value=\"on\" checked disabled"), "read-only until Edit: {html}");
    let (_, html, _) = b.get(&format!("{tab}?edit=to-app")).await;
    assert!(html.contains("id=\"save-to-app\"") && html.contains("id=\"cancel-to-app\"") && !html.contains("id=\"edit-to-app\""));
    let (_, html, _) = ro.get(&format!("{tab}?edit=to-app")).await;
    assert!(!html.contains("id=\"save-to-app\"") && !html.contains("id=\"edit-to-app\""), "read-only admins never edit");
    let (st, _, loc) = b.post(&format!("{tab}/to-app"), &[("create", "on"), ("deactivate", "on")]).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert!(loc.unwrap().starts_with(&tab));
    let (_, html, _) = b.get(&tab).await;
    assert!(html.contains("id=\"feature-create\" name=\"create\" value=\"on\" checked disabled"), "{html}");
    assert!(html.contains("id=\"feature-update\" name=\"update\" value=\"on\"  disabled"), "{html}");
    let (st, _, _) = ro.post(&format!("{tab}/to-app"), &[("update", "on")]).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn convert_assignments_makes_group_members_individual() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let mut b = signed_in_admin(&s, "boss@example.com", "SUPER_ADMIN").await;
        let id = new_app(&s, json!({ "name": "okta_org2org", "settings": { "app": { "baseUrl": "https://hub.example" } } })).await;
        let (_, g) = call(s.api(Method::POST, "/api/v1/groups").json(&json!({ "profile": { "name": "Contractors" } }))).await;
        let gid = g["id"].as_str().unwrap().to_string();
        let ann = create_user(&s, "ann@example.com", Some(PW), true).await;
        let bob = create_user(&s, "bob@example.com", Some(PW), true).await;
        let cat = create_user(&s, "cat@example.com", Some(PW), true).await;
        for u in [&ann, &bob] {
            call(s.api(Method::PUT, &format!("/api/v1/groups/{gid}/users/{}", u["id"].as_str().unwrap()))).await;
        }
        let (st, _) = call(
            s.api(Method::PUT, &format!("/api/v1/apps/{id}/groups/{gid}"))
                .json(&json!({ "profile": { "initialStatus": "active_with_pass" } })),
        )
        .await;
        assert_eq!(st, StatusCode::OK);
        call(s.api(Method::POST, &format!("/api/v1/apps/{id}/users")).json(&json!({ "id": cat["id"] }))).await;
        let tab = format!("/admin/app/{id}/assignments");
        let (_, html, _) = b.get(&tab).await;
        for text in [
            "id=\"assign-menu\"",
            "Assign to People",
            "Assign to Groups",
            "id=\"convert-assignments\"",
            "id=\"assignment-search\"",
            "Group: Contractors",
            "SELF SERVICE",
        ] {
            assert!(html.contains(text), "{text}");
        }
        assert!(html.contains("Convert the 2 group-based assignment(s)"), "{html}");
        assert!(html.contains("id=\"assignment-search\" name=\"q\" value=\"\""), "an empty search box: {html}");
        let scopes = |s: &TestServer| {
            let url = format!("/api/v1/apps/{id}/users");
            let rb = s.api(Method::GET, &url);
            async move {
                let (_, users) = call(rb).await;
                let mut v: Vec<(String, String)> = users
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|u| {
                        (u["credentials"]["userName"].as_str().unwrap_or_default().to_string(), u["scope"].as_str().unwrap().to_string())
                    })
                    .collect();
                v.sort();
                v
            }
        };
        assert_eq!(
            scopes(&s).await,
            vec![
                ("ann@example.com".into(), "GROUP".into()),
                ("bob@example.com".into(), "GROUP".into()),
                ("cat@example.com".into(), "USER".into())
            ]
        );
        // refused without CSRF and for a read-only admin
        assert_eq!(post_without_csrf(&b, &format!("{tab}/convert"), &[]).await, StatusCode::FORBIDDEN);
        let mut ro = signed_in_admin(&s, "viewer@example.com", "READ_ONLY_ADMIN").await;
        let (st, _, _) = ro.post(&format!("{tab}/convert"), &[]).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        assert_eq!(scopes(&s).await[0].1, "GROUP");
        // convert: everyone individual, with the group's app profile; the group stays assigned
        let (st, _, loc) = b.post(&format!("{tab}/convert"), &[]).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        assert!(loc.unwrap().contains("2%20assignment"));
        assert!(scopes(&s).await.iter().all(|(_, scope)| scope == "USER"));
        let (_, au) = call(s.api(Method::GET, &format!("/api/v1/apps/{id}/users/{}", ann["id"].as_str().unwrap()))).await;
        assert_eq!(au["profile"]["initialStatus"], "active_with_pass");
        let (st, _) = call(s.api(Method::GET, &format!("/api/v1/apps/{id}/groups/{gid}"))).await;
        assert_eq!(st, StatusCode::OK);
        let (_, logs) = call(s.api(Method::GET, "/api/v1/logs?filter=eventType%20eq%20%22application.user_membership.add%22")).await;
        let converted =
            logs.as_array().unwrap().iter().filter(|e| e["displayMessage"].as_str().unwrap_or_default().contains("converted")).count();
        assert_eq!(converted, 2);
        // a direct assignment can now be removed on its own
        let (_, html, _) = b.get(&tab).await;
        assert!(html.contains(&format!("id=\"remove-person-{}\"", ann["id"].as_str().unwrap())));
        assert!(html.contains("Nobody is assigned to"), "nothing left to convert");
        // the search box filters both lists
        let (_, html, _) = b.get(&format!("{tab}?q=bob")).await;
        assert!(html.contains("bob@example.com") && !html.contains("ann@example.com") && html.contains("No groups match"));
        // another org's app, or none: the 404 page
        let (st, _, _) = b.post("/admin/app/0oaNOPE/assignments/convert", &[]).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn self_service_needs_the_org_setting() {
    let s = TestServer::start(idhub_store::Backend::Sqlite).await;
    let mut b = signed_in_admin(&s, "boss@example.com", "SUPER_ADMIN").await;
    let id = new_app(&s, json!({ "name": "dropbox_for_business", "label": "Dropbox" })).await;
    let tab = format!("/admin/app/{id}/assignments");
    let (_, html, _) = b.get(&tab).await;
    assert!(html.contains("You need to enable self service for org managed apps before you can use self service for this app."));
    assert!(html.contains("href=\"/admin/apps/self-service\" id=\"go-to-self-service-settings\">Go to self service settings</a>"));
    assert!(html.contains("id=\"self-service-requests\">Disabled<") && html.contains("id=\"edit-self-service\">Edit<"));
    // Requests cannot be enabled while the org setting is off: the reason is next to the field
    let (st, html, _) = b.post(&format!("{tab}/self-service"), &[("requests", "on")]).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(html.contains("id=\"self-service-requests-error\"") && html.contains("enable self service for org managed apps"), "{html}");
    assert_eq!(get_app(&s, &id).await["accessibility"]["selfService"], false);
    // Applications > Self Service, in the menu; read-only admins cannot change it
    let (_, html, _) = b.get("/admin/apps/self-service").await;
    assert!(html.contains("id=\"nav-self-service\"") && html.contains("Enable self service for org managed apps"));
    let mut ro = signed_in_admin(&s, "viewer@example.com", "READ_ONLY_ADMIN").await;
    let (st, _, _) = ro.post("/admin/apps/self-service", &[("orgManagedApps", "on")]).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_eq!(post_without_csrf(&b, "/admin/apps/self-service", &[("orgManagedApps", "on")]).await, StatusCode::FORBIDDEN);
    let (st, _, _) = b.post("/admin/apps/self-service", &[("orgManagedApps", "on")]).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, html, _) = b.get("/admin/apps/self-service").await;
    assert!(html.contains("id=\"self-service-status\">Enabled<"));
    // now the app's Requests can be enabled, and show as such; the API sees accessibility.selfService
    let (st, _, _) = b.post(&format!("{tab}/self-service"), &[("requests", "on")]).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert_eq!(get_app(&s, &id).await["accessibility"]["selfService"], true);
    let (_, html, _) = b.get(&tab).await;
    assert!(html.contains("id=\"self-service-requests\">Enabled<") && !html.contains("id=\"go-to-self-service-settings\""));
    // the org setting off again: the app's requests are not in effect
    b.post("/admin/apps/self-service", &[]).await;
    let (_, html, _) = b.get(&tab).await;
    assert!(html.contains("id=\"self-service-requests\">Disabled<"));
}
