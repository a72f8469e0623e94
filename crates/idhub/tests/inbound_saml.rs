//! Inbound federation (the hub side of Org2Org): `/api/v1/idps` and the ACS. A partner
//! IdP (idhub's own SAML code with a key made here) signs Responses; the tests show the
//! effect of each IdP policy option in the directory, and that refused Responses change
//! nothing and are logged with their reason.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;
use base64::Engine;
use common::saml::*;
use common::*;
use idhub_saml::response::signed_response;

fn assert_signed_in(p: &Posted) {
    assert!(p.status.is_redirection(), "status {} body {}", p.status, p.body);
    assert!(p.cookie.is_some(), "no session cookie");
}

fn assert_refused(p: &Posted, reason: &str) {
    assert!(p.status.is_client_error(), "expected a refusal ({reason}), got {} {:?}", p.status, p.location);
    assert!(p.cookie.is_none());
    assert!(p.body.contains(&format!("reason: {reason}")), "page does not name {reason}: {}", p.body);
}

async fn user(s: &TestServer, login: &str) -> (StatusCode, Value) {
    call(s.api(Method::GET, &format!("/api/v1/users/{login}"))).await
}

async fn last_idp_event(s: &TestServer) -> Value {
    let (_, logs) = call(
        s.api(Method::GET, "/api/v1/logs?filter=eventType%20eq%20%22user.authentication.auth_via_IDP%22&sortOrder=DESCENDING&limit=1"),
    )
    .await;
    logs[0].clone()
}

#[tokio::test]
async fn jit_creates_a_federated_user_then_links_and_follows_the_profile_source() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let p = partner(&s, json!({ "provisioning": { "profileMaster": true } })).await;
        let posted = post_acs(&p.acs(), &p.response(&person("ann@partner.example", "Ann", "Lee")), None).await;
        assert_signed_in(&posted);
        assert_eq!(posted.location.as_deref(), Some("/app/UserHome"));
        let (st, u) = user(&s, "ann@partner.example").await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(u["status"], "ACTIVE");
        assert_eq!(u["credentials"]["provider"]["type"], "FEDERATION");
        assert_eq!(u["profile"]["lastName"], "Lee");
        // The session works on the dashboard.
        let dash = no_redirects()
            .get(format!("{}/app/UserHome", s.base_url))
            .header("cookie", posted.cookie.clone().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(dash.status(), StatusCode::OK);
        // Linked; the next sign-in updates the profile (the IdP is its source).
        let (_, links) = call(s.api(Method::GET, &format!("/api/v1/idps/{}/users", p.idp["id"].as_str().unwrap()))).await;
        assert_eq!(links.as_array().unwrap().len(), 1);
        assert_eq!(links[0]["externalId"], "ann@partner.example");
        assert_signed_in(&post_acs(&p.acs(), &p.response(&person("ann@partner.example", "Ann", "Park")), None).await);
        let (_, u) = user(&s, "ann@partner.example").await;
        assert_eq!(u["profile"]["lastName"], "Park");
        assert_eq!(user_count(&s).await, 1);
        let ev = last_idp_event(&s).await;
        assert_eq!(ev["outcome"]["result"], "SUCCESS");
        let (_, logs) = call(s.api(Method::GET, "/api/v1/logs?filter=eventType%20eq%20%22user.lifecycle.create%22")).await;
        assert_eq!(logs.as_array().unwrap().len(), 1);
    }
}

#[tokio::test]
async fn replayed_and_forged_responses_are_refused_and_change_nothing() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let p = partner(&s, json!({})).await;
        let good = p.response(&person("bob@partner.example", "Bob", "Ray"));
        assert_signed_in(&post_acs(&p.acs(), &good, None).await);
        let before = user_count(&s).await;
        assert_refused(&post_acs(&p.acs(), &good, None).await, "replay");
        assert_eq!(last_idp_event(&s).await["outcome"]["reason"], "replay");

        let stranger = partner_key();
        let a = person("eve@partner.example", "Eve", "X");
        assert_refused(&post_acs(&p.acs(), &p.encode(&p.spec(&a), &stranger), None).await, "signature_invalid");
        let mut spec = p.spec(&a);
        spec.audience = "https://someone-else.example/sp".into();
        assert_refused(&post_acs(&p.acs(), &p.encode(&spec, &p.key), None).await, "audience_mismatch");
        let mut spec = p.spec(&a);
        spec.now_ms -= 3_600_000;
        assert_refused(&post_acs(&p.acs(), &p.encode(&spec, &p.key), None).await, "expired");
        let mut spec = p.spec(&a);
        spec.issuer = "http://other.example/idp".into();
        assert_refused(&post_acs(&p.acs(), &p.encode(&spec, &p.key), None).await, "issuer_mismatch");
        let mut spec = p.spec(&a);
        spec.in_response_to = Some("id-never-sent".into());
        assert_refused(&post_acs(&p.acs(), &p.encode(&spec, &p.key), None).await, "in_response_to_mismatch");
        // Tampered after signing: the NameID changed.
        let xml = signed_response(&p.spec(&a), &p.key).unwrap().replace("eve@partner.example", "bob@partner.example");
        let tampered = base64::engine::general_purpose::STANDARD.encode(xml);
        let r = post_acs(&p.acs(), &tampered, None).await;
        assert!(r.status.is_client_error() && r.cookie.is_none());
        assert_refused(&post_acs(&p.acs(), "not base64 at all!", None).await, "bad_base64");
        let doctype = base64::engine::general_purpose::STANDARD.encode("<!DOCTYPE x [<!ENTITY a \"b\">]><x/>");
        assert_refused(&post_acs(&p.acs(), &doctype, None).await, "doctype_forbidden");
        assert_eq!(user_count(&s).await, before);
        assert_eq!(user(&s, "eve@partner.example").await.0, StatusCode::NOT_FOUND);
        // The server is still healthy.
        assert_eq!(call(s.api(Method::GET, "/api/v1/org")).await.0, StatusCode::OK);
    }
}

#[tokio::test]
async fn matching_linking_and_the_username_filter() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        create_user(&s, "carl@hub.example", Some("Str0ngPassw0rd"), true).await;
        // Automatic linking of an existing user, matched by username.
        let p = partner(&s, json!({})).await;
        assert_signed_in(&post_acs(&p.acs(), &p.response(&person("carl@hub.example", "Carl", "Hub")), None).await);
        let (_, u) = user(&s, "carl@hub.example").await;
        assert_eq!(u["credentials"]["provider"]["type"], "OKTA", "linking keeps the user's own credentials");
        let (_, logs) = call(s.api(Method::GET, "/api/v1/logs?filter=eventType%20eq%20%22user.account.link%22")).await;
        assert_eq!(logs.as_array().unwrap().len(), 1);

        // Linking disabled: a matching user is refused, not duplicated.
        create_user(&s, "dina@hub.example", Some("Str0ngPassw0rd"), true).await;
        let off = partner(&s, json!({ "accountLink": { "action": "DISABLED" } })).await;
        assert_refused(&post_acs(&off.acs(), &off.response(&person("dina@hub.example", "D", "H")), None).await, "link_disabled");

        // Match on email with a username built from an attribute.
        create_user(&s, "erin@hub.example", Some("Str0ngPassw0rd"), true).await;
        let (st, _) =
            call(s.api(Method::POST, "/api/v1/users/erin@hub.example").json(&json!({"profile": {"email": "erin@partner.example"}}))).await;
        assert_eq!(st, StatusCode::OK);
        let by_mail = partner(
            &s,
            json!({ "subject": { "userNameTemplate": { "template": "idpuser.email" }, "matchType": "EMAIL" }, "provisioning": { "action": "DISABLED" } }),
        )
        .await;
        let mut a = person("opaque-id-17", "Erin", "P");
        a.attrs[2] = ("email", vec!["erin@partner.example"]);
        assert_signed_in(&post_acs(&by_mail.acs(), &by_mail.response(&a), None).await);
        // No match and JIT off: refused.
        assert_refused(&post_acs(&by_mail.acs(), &by_mail.response(&person("nobody@partner.example", "N", "B")), None).await, "no_match");

        // The username filter (whole-username regex).
        let filtered = partner(&s, json!({ "subject": { "filter": ".*@partner\\.example" } })).await;
        assert_refused(
            &post_acs(&filtered.acs(), &filtered.response(&person("mallory@evil.example", "M", "E")), None).await,
            "username_filtered",
        );
        assert_signed_in(&post_acs(&filtered.acs(), &filtered.response(&person("fay@partner.example", "Fay", "P")), None).await);
    }
}

#[tokio::test]
async fn reactivation_and_unsuspension_follow_the_policy() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let strict = partner(&s, json!({})).await;
        let lenient = partner(
            &s,
            json!({ "provisioning": { "conditions": { "deprovisioned": { "action": "REACTIVATE" }, "suspended": { "action": "UNSUSPEND" } } } }),
        )
        .await;
        let u = create_user(&s, "gil@hub.example", Some("Str0ngPassw0rd"), true).await;
        let id = u["id"].as_str().unwrap();
        assert_eq!(call(s.api(Method::POST, &format!("/api/v1/users/{id}/lifecycle/suspend"))).await.0, StatusCode::OK);
        assert_refused(&post_acs(&strict.acs(), &strict.response(&person("gil@hub.example", "G", "H")), None).await, "user_suspended");
        assert_eq!(user(&s, id).await.1["status"], "SUSPENDED");
        assert_signed_in(&post_acs(&lenient.acs(), &lenient.response(&person("gil@hub.example", "G", "H")), None).await);
        assert_eq!(user(&s, id).await.1["status"], "ACTIVE");
        assert_eq!(call(s.api(Method::POST, &format!("/api/v1/users/{id}/lifecycle/deactivate"))).await.0, StatusCode::OK);
        assert_refused(&post_acs(&strict.acs(), &strict.response(&person("gil@hub.example", "G", "H")), None).await, "user_deactivated");
        assert_eq!(user(&s, id).await.1["status"], "DEPROVISIONED");
        assert_signed_in(&post_acs(&lenient.acs(), &lenient.response(&person("gil@hub.example", "G", "H")), None).await);
        assert_eq!(user(&s, id).await.1["status"], "ACTIVE");
        let (_, logs) = call(s.api(Method::GET, "/api/v1/logs?filter=eventType%20eq%20%22user.lifecycle.reactivate%22")).await;
        assert_eq!(logs.as_array().unwrap().len(), 1);
    }
}

async fn group(s: &TestServer, name: &str) -> String {
    let (st, g) = call(s.api(Method::POST, "/api/v1/groups").json(&json!({ "profile": { "name": name } }))).await;
    assert_eq!(st, StatusCode::OK, "{g}");
    g["id"].as_str().unwrap().to_string()
}

async fn group_names(s: &TestServer, login: &str) -> Vec<String> {
    let (_, u) = user(s, login).await;
    let (_, gs) = call(s.api(Method::GET, &format!("/api/v1/users/{}/groups", u["id"].as_str().unwrap()))).await;
    let mut names: Vec<String> =
        gs.as_array().unwrap().iter().map(|g| g["profile"]["name"].as_str().unwrap().to_string()).filter(|n| n != "Everyone").collect();
    names.sort();
    names
}

#[tokio::test]
async fn group_actions_assign_append_and_sync() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let contractors = group(&s, "Contractors").await;
        group(&s, "Sales").await;
        group(&s, "Engineering").await;
        let local = group(&s, "Local only").await;
        let assign = partner(&s, json!({ "provisioning": { "groups": { "action": "ASSIGN", "assignments": [contractors] } } })).await;
        assert_signed_in(&post_acs(&assign.acs(), &assign.response(&person("hal@p.example", "H", "L")), None).await);
        assert_eq!(group_names(&s, "hal@p.example").await, vec!["Contractors"]);

        let append = partner(
            &s,
            json!({ "provisioning": { "groups": { "action": "APPEND", "sourceAttributeName": "groups", "filter": ["Sales", "Engineering"] } } }),
        )
        .await;
        let mut a = person("ida@p.example", "I", "D");
        a.attrs.push(("groups", vec!["Sales", "Local only", "Nope"]));
        assert_signed_in(&post_acs(&append.acs(), &append.response(&a), None).await);
        assert_eq!(group_names(&s, "ida@p.example").await, vec!["Sales"], "only allow-listed groups are appended");

        // SYNC: memberships become exactly the asserted (allowed) groups.
        let (_, ida) = user(&s, "ida@p.example").await;
        let ida_id = ida["id"].as_str().unwrap().to_string();
        assert_eq!(call(s.api(Method::PUT, &format!("/api/v1/groups/{local}/users/{ida_id}"))).await.0, StatusCode::NO_CONTENT);
        let sync =
            partner(&s, json!({ "provisioning": { "groups": { "action": "SYNC", "sourceAttributeName": "groups", "filter": [] } } })).await;
        let mut a = person("ida@p.example", "I", "D");
        a.attrs.push(("groups", vec!["Engineering"]));
        assert_signed_in(&post_acs(&sync.acs(), &sync.response(&a), None).await);
        assert_eq!(group_names(&s, "ida@p.example").await, vec!["Engineering"]);
        let (_, logs) = call(s.api(Method::GET, "/api/v1/logs?filter=eventType%20eq%20%22group.user_membership.remove%22")).await;
        assert_eq!(logs.as_array().unwrap().len(), 2, "Sales and Local only removed");
    }
}

fn form_field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    html.split(&marker)
        .nth(1)
        .map(|rest| rest.split('"').next().unwrap().replace("&amp;", "&").replace("&#39;", "'").replace("&quot;", "\""))
}

#[tokio::test]
async fn sp_initiated_sign_in_answers_the_request_once_and_continues_to_the_relay_state() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let p = partner(&s, json!({})).await;
        let id = p.idp["id"].as_str().unwrap();
        let page = no_redirects().get(format!("{}/sso/idps/{id}?fromURI=%2Fapp%2FUserHome%3Fx%3D1", s.base_url)).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(html.contains("action=\"http://127.0.0.1:9/sso\""), "{html}");
        let request = base64::engine::general_purpose::STANDARD.decode(form_field(&html, "SAMLRequest").unwrap()).unwrap();
        let request = String::from_utf8(request).unwrap();
        assert!(request.contains("SignatureValue>"), "signed as the IdP asks: {request}");
        let req_id = request.split("ID=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
        let mut a = person("jo@p.example", "Jo", "P");
        a.in_response_to = Some(req_id);
        let answer = p.response(&a);
        let posted = post_acs(&p.acs(), &answer, None).await;
        assert_signed_in(&posted);
        assert_eq!(posted.location.as_deref(), Some("/app/UserHome?x=1"), "the saved RelayState");
        // The same request cannot be answered twice (even by a fresh assertion).
        assert_refused(&post_acs(&p.acs(), &p.response(&a), None).await, "in_response_to_mismatch");
        // A foreign RelayState is never followed.
        let posted = post_acs(&p.acs(), &p.response(&person("jo@p.example", "Jo", "P")), Some("https://evil.example/")).await;
        assert_signed_in(&posted);
        assert_eq!(posted.location.as_deref(), Some("/app/UserHome"));
    }
}

#[tokio::test]
async fn the_idp_api_validates_generates_the_audience_and_serves_sp_metadata() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let p = partner(&s, json!({})).await;
        let id = p.idp["id"].as_str().unwrap();
        assert!(id.starts_with("0oa"));
        let audience = p.idp["protocol"]["credentials"]["trust"]["audience"].as_str().unwrap();
        assert!(audience.starts_with(&format!("{}/saml2/service-provider/", s.base_url)));
        assert_eq!(p.idp["_links"]["acs"]["href"], format!("{}/sso/saml2/{id}", s.base_url));
        let md = s.api(Method::GET, &format!("/api/v1/idps/{id}/metadata.xml")).send().await.unwrap();
        assert_eq!(md.status(), StatusCode::OK);
        let md = md.text().await.unwrap();
        assert!(md.contains(&format!("entityID=\"{audience}\"")) && md.contains(&format!("{}/sso/saml2/{id}", s.base_url)), "{md}");
        assert!(md.contains("AuthnRequestsSigned=\"true\""));

        // Bad bodies: Okta's validation error naming the field; nothing created.
        let (_, before) = call(s.api(Method::GET, "/api/v1/idps")).await;
        let mut bad = p.idp.clone();
        bad["policy"]["subject"]["userNameTemplate"]["template"] = json!("String.nope(idpuser.email");
        bad["name"] = json!("Another");
        let (st, e) = call(s.api(Method::POST, "/api/v1/idps").json(&bad)).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert_okta_error(&e, "E0000001");
        let mut bad = p.idp.clone();
        bad["name"] = json!("Third");
        bad["protocol"]["credentials"]["trust"]["kid"] = json!("no-such-kid");
        assert_eq!(call(s.api(Method::POST, "/api/v1/idps").json(&bad)).await.0, StatusCode::BAD_REQUEST);
        let (st, e) = call(s.api(Method::POST, "/api/v1/idps/credentials/keys").json(&json!({ "x5c": ["bm90IGEgY2VydA=="] }))).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert_okta_error(&e, "E0000001");
        let (_, after) = call(s.api(Method::GET, "/api/v1/idps")).await;
        assert_eq!(before, after);

        // Lifecycle: an active IdP cannot be deleted; an inactive one refuses sign-ins.
        assert_eq!(call(s.api(Method::DELETE, &format!("/api/v1/idps/{id}"))).await.0, StatusCode::FORBIDDEN);
        let (st, v) = call(s.api(Method::POST, &format!("/api/v1/idps/{id}/lifecycle/deactivate"))).await;
        assert_eq!((st, v["status"].as_str()), (StatusCode::OK, Some("INACTIVE")));
        assert_refused(&post_acs(&p.acs(), &p.response(&person("kim@p.example", "K", "P")), None).await, "idp_inactive");
        assert_eq!(call(s.api(Method::DELETE, &format!("/api/v1/idps/{id}"))).await.0, StatusCode::NO_CONTENT);
        assert_eq!(call(s.api(Method::GET, &format!("/api/v1/idps/{id}"))).await.0, StatusCode::NOT_FOUND);
        // A key in use cannot be deleted; an unused one can.
        let kid = p.idp["protocol"]["credentials"]["trust"]["kid"].as_str().unwrap();
        assert_eq!(call(s.api(Method::DELETE, &format!("/api/v1/idps/credentials/keys/{kid}"))).await.0, StatusCode::NO_CONTENT);
    }
}

#[tokio::test]
async fn the_sign_in_page_offers_the_idp_and_routing_rules_send_usernames_to_it() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let p = partner(&s, json!({})).await;
        let id = p.idp["id"].as_str().unwrap();
        let page = no_redirects().get(format!("{}/login", s.base_url)).send().await.unwrap();
        let cookie = page
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
            .find(|c| c.starts_with("idhub_csrf="))
            .unwrap();
        let html = page.text().await.unwrap();
        let token = csrf_of(&html);
        assert!(html.contains(&format!("href=\"/sso/idps/{id}\"")) && html.contains("Sign in with Partner"), "{html}");

        // A rule: usernames ending in @partner.example go to the partner IdP.
        let (st, policies) = call(s.api(Method::GET, "/api/v1/policies?type=IDP_DISCOVERY")).await;
        assert_eq!(st, StatusCode::OK);
        let pid = policies[0]["id"].as_str().unwrap().to_string();
        let rule = json!({
            "type": "IDP_DISCOVERY", "name": "Partner users", "priority": 1,
            "conditions": { "userIdentifier": { "type": "IDENTIFIER", "patterns": [{ "matchType": "SUFFIX", "value": "@partner.example" }] } },
            "actions": { "idp": { "providers": [{ "type": "SAML2", "id": id }] } }
        });
        let (st, created) = call(s.api(Method::POST, &format!("/api/v1/policies/{pid}/rules")).json(&rule)).await;
        assert_eq!(st, StatusCode::OK, "{created}");
        let mut bad = rule.clone();
        bad["actions"]["idp"]["providers"][0]["id"] = json!("0oaNoSuchIdp");
        let (st, e) = call(s.api(Method::POST, &format!("/api/v1/policies/{pid}/rules")).json(&bad)).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert_okta_error(&e, "E0000001");

        let login = |user: &'static str| {
            no_redirects()
                .post(format!("{}/login", s.base_url))
                .header("Cookie", cookie.clone())
                .form(&[("username", user), ("password", ""), ("csrf", token.as_str()), ("fromURI", "/app/UserHome")])
                .send()
        };
        let r = login("lee@partner.example").await.unwrap();
        assert!(r.status().is_redirection());
        assert_eq!(r.headers()["location"].to_str().unwrap(), format!("/sso/idps/{id}?fromURI=%2Fapp%2FUserHome"));
        // Others still get the password sign-in.
        let r = login("lee@hub.example").await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        // Deleting the rule stops the routing.
        let rid = created["id"].as_str().unwrap();
        assert_eq!(call(s.api(Method::DELETE, &format!("/api/v1/policies/{pid}/rules/{rid}"))).await.0, StatusCode::NO_CONTENT);
        assert_eq!(login("lee@partner.example").await.unwrap().status(), StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn a_factor_only_idp_adds_a_factor_to_the_signed_in_user_and_signs_nobody_in() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        create_user(&s, "uma@hub.example", Some("Str0ngPassw0rd"), true).await;
        create_user(&s, "vic@hub.example", Some("Str0ngPassw0rd"), true).await;
        let p = partner(&s, json!({})).await;
        let mut body = p.idp.clone();
        body["idhub"]["usage"] = json!("FACTOR");
        let id = p.idp["id"].as_str().unwrap();
        let (st, v) = call(s.api(Method::PUT, &format!("/api/v1/idps/{id}")).json(&body)).await;
        assert_eq!((st, v["idhub"]["usage"].as_str()), (StatusCode::OK, Some("FACTOR")), "{v}");
        // Without a session here: refused, nobody created.
        let before = user_count(&s).await;
        assert_refused(&post_acs(&p.acs(), &p.response(&person("uma@hub.example", "U", "H")), None).await, "factor_without_session");
        assert_refused(&post_acs(&p.acs(), &p.response(&person("new@p.example", "N", "P")), None).await, "factor_without_session");
        assert_eq!(user_count(&s).await, before);
        // Signed in as Uma: an assertion for Uma adds the factor; one for Vic is refused.
        let (_, authn) = call(
            s.http.post(format!("{}/api/v1/authn", s.base_url)).json(&json!({"username": "uma@hub.example", "password": "Str0ngPassw0rd"})),
        )
        .await;
        let r = no_redirects()
            .get(format!("{}/login/sessionCookieRedirect", s.base_url))
            .query(&[("token", authn["sessionToken"].as_str().unwrap()), ("redirectUrl", &format!("{}/app/UserHome", s.base_url))])
            .send()
            .await
            .unwrap();
        let cookie = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
            .find(|c| c.starts_with("idhub_sid="))
            .unwrap();
        let post = |saml: String| no_redirects().post(p.acs()).header("cookie", cookie.clone()).form(&[("SAMLResponse", saml)]).send();
        let r = post(p.response(&person("vic@hub.example", "V", "H"))).await.unwrap();
        assert!(r.status().is_client_error());
        assert!(r.text().await.unwrap().contains("reason: factor_user_mismatch"));
        let r = post(p.response(&person("uma@hub.example", "U", "H"))).await.unwrap();
        assert!(r.status().is_redirection(), "{}", r.status());
        // The raised assurance is a new session; the one before it is over.
        let raised = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
            .find(|c| c.starts_with("idhub_sid=") && c.len() > "idhub_sid=".len())
            .expect("a new session");
        let (_, me) = call(s.http.get(format!("{}/api/v1/sessions/me", s.base_url)).header("cookie", raised)).await;
        assert!(me["amr"].as_array().unwrap().iter().any(|m| m == "idp"), "{me}");
        let (st, _) = call(s.http.get(format!("{}/api/v1/sessions/me", s.base_url)).header("cookie", cookie.clone())).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "the previous session ended");
        let (_, links) = call(s.api(Method::GET, &format!("/api/v1/idps/{id}/users"))).await;
        assert_eq!(links, json!([]), "a factor links nobody");
    }
}

fn set_cookies(r: &reqwest::Response) -> Vec<String> {
    r.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string()).collect()
}

fn live_cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    set_cookies(r).into_iter().find(|c| c.starts_with(&format!("{name}=")) && c.len() > name.len() + 1)
}

#[tokio::test]
async fn a_federated_sign_in_meets_the_hubs_mfa_policy_unless_the_idps_mfa_claim_is_trusted() {
    use idhub_saml::response::AC_MFA;
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let (st, body) = call(s.api(Method::PUT, "/api/v1/idhub/policies/sign-on").json(&json!({"mfa": "ALWAYS"}))).await;
        assert_eq!(st, StatusCode::OK, "{body}");
        // Claims not trusted (the default): even an MFA AuthnContext leads to the hub's
        // factor, enrolled first as the user has none; no session yet.
        let p = partner(&s, json!({})).await;
        assert_eq!(p.idp["policy"]["trustClaims"], json!(false));
        let mut spec = p.spec(&person("mia@partner.example", "Mia", "P"));
        spec.authn_context = AC_MFA.into();
        let r = no_redirects().post(p.acs()).form(&[("SAMLResponse", p.encode(&spec, &p.key))]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(r.headers()["location"], "/login/mfa");
        assert!(live_cookie(&r, "idhub_sid").is_none(), "no session before the hub's factor");
        let tx = live_cookie(&r, "idhub_tx").expect("a factor transaction");
        let page = no_redirects().get(format!("{}/login/mfa", s.base_url)).header("cookie", tx).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        assert!(page.text().await.unwrap().contains("Set up multifactor authentication"));
        assert_eq!(last_idp_event(&s).await["outcome"]["result"], "SUCCESS", "the IdP step itself is logged");

        // Claims trusted: a password AuthnContext still needs the hub's factor …
        let trusting = partner(&s, json!({ "trustClaims": true })).await;
        assert_eq!(trusting.idp["policy"]["trustClaims"], json!(true));
        let r = no_redirects()
            .post(trusting.acs())
            .form(&[("SAMLResponse", trusting.response(&person("ned@partner.example", "Ned", "P")))])
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["location"], "/login/mfa");
        assert!(live_cookie(&r, "idhub_sid").is_none());
        // … an MFA one satisfies the policy.
        let mut spec = trusting.spec(&person("ned@partner.example", "Ned", "P"));
        spec.authn_context = AC_MFA.into();
        let r = no_redirects().post(trusting.acs()).form(&[("SAMLResponse", trusting.encode(&spec, &trusting.key))]).send().await.unwrap();
        assert_eq!(r.headers()["location"], "/app/UserHome");
        let first = live_cookie(&r, "idhub_sid").expect("signed in");
        let (_, me) = call(s.http.get(format!("{}/api/v1/sessions/me", s.base_url)).header("cookie", &first)).await;
        assert_eq!(me["amr"], json!(["fed", "mfa"]));

        // A federated sign-in in a browser that holds a session replaces it.
        let mut spec = trusting.spec(&person("ned@partner.example", "Ned", "P"));
        spec.authn_context = AC_MFA.into();
        let r = no_redirects()
            .post(trusting.acs())
            .header("cookie", &first)
            .form(&[("SAMLResponse", trusting.encode(&spec, &trusting.key))])
            .send()
            .await
            .unwrap();
        let second = live_cookie(&r, "idhub_sid").expect("signed in again");
        assert_ne!(first, second);
        let (st, _) = call(s.http.get(format!("{}/api/v1/sessions/me", s.base_url)).header("cookie", &first)).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "the previous session ended");
        let (st, _) = call(s.http.get(format!("{}/api/v1/sessions/me", s.base_url)).header("cookie", &second)).await;
        assert_eq!(st, StatusCode::OK);
        let (_, ends) = call(s.api(Method::GET, "/api/v1/logs?filter=eventType%20eq%20%22user.session.end%22")).await;
        assert_eq!(ends.as_array().unwrap().len(), 1);
    }
}

#[tokio::test]
async fn concurrent_first_sign_ins_of_a_new_person_all_succeed_as_one_user() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let p = partner(&s, json!({})).await;
        let before = user_count(&s).await;
        let acs = p.acs();
        let posts: Vec<_> = (0..8)
            .map(|_| {
                let (acs, saml) = (acs.clone(), p.response(&person("rae@partner.example", "Rae", "P")));
                tokio::spawn(async move { post_acs(&acs, &saml, None).await })
            })
            .collect();
        for post in posts {
            let posted = post.await.unwrap();
            assert_signed_in(&posted);
            assert_eq!(posted.location.as_deref(), Some("/app/UserHome"));
        }
        assert_eq!(user_count(&s).await, before + 1, "one user");
        let (_, links) = call(s.api(Method::GET, &format!("/api/v1/idps/{}/users", p.idp["id"].as_str().unwrap()))).await;
        assert_eq!(links.as_array().unwrap().len(), 1);
        let (_, refused) =
            call(s.api(Method::GET, "/api/v1/logs").query(&[
                ("filter", "eventType eq \"user.authentication.auth_via_IDP\" and outcome.result eq \"FAILURE\""),
                ("limit", "50"),
            ]))
            .await;
        assert_eq!(refused, json!([]), "none refused");
    }
}
