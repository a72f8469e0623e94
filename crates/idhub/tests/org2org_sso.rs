//! Org2Org single sign-on between two idhub servers with separate databases, configured
//! only through the public API as the seeds do it: the spoke's Org2Org app is the SAML
//! IdP, the hub trusts it as an identity provider (JIT, automatic linking), the spoke is
//! given the hub's ACS and audience; a spoke user follows the Org2Org tile and lands
//! signed in on the hub, just in time created; a RelayState deep link lands on a hub page.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;
use common::*;

const PW: &str = "Str0ngPassw0rd";

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

fn cookie_of(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .find(|c| c.starts_with(&format!("{name}=")) && c.len() > name.len() + 1)
}

fn form_field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    html.split(&marker)
        .nth(1)
        .map(|rest| rest.split('"').next().unwrap().replace("&amp;", "&").replace("&#39;", "'").replace("&quot;", "\""))
}

fn form_action(html: &str) -> String {
    html.split("action=\"").nth(1).unwrap().split('"').next().unwrap().replace("&amp;", "&")
}

/// A session cookie at `s` for `login` (authn API, then sessionCookieRedirect).
async fn spoke_session(s: &TestServer, login: &str) -> String {
    let (st, body) = call(s.http.post(format!("{}/api/v1/authn", s.base_url)).json(&json!({"username": login, "password": PW}))).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let r = no_redirects()
        .get(format!("{}/login/sessionCookieRedirect", s.base_url))
        .query(&[("token", body["sessionToken"].as_str().unwrap()), ("redirectUrl", &format!("{}/app/UserHome", s.base_url))])
        .send()
        .await
        .unwrap();
    cookie_of(&r, "idhub_sid").unwrap()
}

#[tokio::test]
async fn a_spoke_user_follows_the_org2org_tile_and_lands_signed_in_on_the_hub() {
    for backend in backends() {
        let hub = TestServer::start(backend).await;
        let spoke = TestServer::start(backend).await;

        // Spoke: the user, the Contractors group, the Org2Org app.
        let sarah = create_user(&spoke, "sarah@spoke.example", Some(PW), true).await;
        let (_, g) = call(spoke.api(Method::POST, "/api/v1/groups").json(&json!({"profile": {"name": "Contractors"}}))).await;
        let gid = g["id"].as_str().unwrap();
        let sid = sarah["id"].as_str().unwrap();
        assert_eq!(call(spoke.api(Method::PUT, &format!("/api/v1/groups/{gid}/users/{sid}"))).await.0, StatusCode::NO_CONTENT);
        let (st, app) = call(
            spoke
                .api(Method::POST, "/api/v1/apps")
                .json(&json!({ "name": "okta_org2org", "label": "Hub", "settings": { "app": { "baseUrl": hub.base_url } } })),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{app}");
        let app_id = app["id"].as_str().unwrap().to_string();
        let metadata =
            spoke.api(Method::GET, &format!("/api/v1/apps/{app_id}/sso/saml/metadata")).send().await.unwrap().text().await.unwrap();
        let issuer = metadata.split("entityID=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
        let (_, keys) = call(spoke.api(Method::GET, &format!("/api/v1/apps/{app_id}/credentials/keys"))).await;
        let x5c = keys[0]["x5c"][0].as_str().unwrap().to_string();
        let sso_url = format!("{}/app/okta_org2org/{app_id}/sso/saml", spoke.base_url);

        // Hub: trust the spoke (its certificate and issuer) as a SAML IdP with JIT and auto-linking.
        let (_, key) = call(hub.api(Method::POST, "/api/v1/idps/credentials/keys").json(&json!({ "x5c": [x5c] }))).await;
        let (st, idp) = call(hub.api(Method::POST, "/api/v1/idps").json(&json!({
            "type": "SAML2", "name": "Spoke org",
            "protocol": {
                "type": "SAML2",
                "endpoints": { "sso": { "url": sso_url, "binding": "HTTP-POST" }, "acs": { "binding": "HTTP-POST", "type": "INSTANCE" } },
                "algorithms": { "request": { "signature": { "algorithm": "SHA-256", "scope": "REQUEST" } }, "response": { "signature": { "algorithm": "SHA-256", "scope": "ANY" } } },
                "settings": { "nameFormat": "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified", "honorPersistentNameId": true },
                "credentials": { "trust": { "issuer": issuer, "kid": key["kid"] } }
            },
            "policy": {
                "provisioning": { "action": "AUTO", "profileMaster": true, "groups": { "action": "NONE" },
                                  "conditions": { "deprovisioned": { "action": "NONE" }, "suspended": { "action": "NONE" } } },
                "accountLink": { "action": "AUTO", "filter": null },
                "subject": { "userNameTemplate": { "template": "idpuser.subjectNameId" }, "matchType": "USERNAME" },
                "maxClockSkew": 120000
            }
        })))
        .await;
        assert_eq!(st, StatusCode::OK, "{idp}");
        let acs = idp["_links"]["acs"]["href"].as_str().unwrap().to_string();
        let audience = idp["protocol"]["credentials"]["trust"]["audience"].as_str().unwrap().to_string();

        // Spoke: the hub's ACS and audience in the app's Advanced Sign-on Settings; assign Contractors.
        let mut body = app.clone();
        body["settings"]["app"]["acsUrl"] = json!(acs);
        body["settings"]["app"]["audRestriction"] = json!(audience);
        let (st, updated) = call(spoke.api(Method::PUT, &format!("/api/v1/apps/{app_id}")).json(&body)).await;
        assert_eq!(st, StatusCode::OK, "{updated}");
        assert_eq!(call(spoke.api(Method::PUT, &format!("/api/v1/apps/{app_id}/groups/{gid}")).json(&json!({}))).await.0, StatusCode::OK);

        // Sarah signs in at the spoke and follows the tile.
        let cookie = spoke_session(&spoke, "sarah@spoke.example").await;
        let tile = no_redirects().get(&sso_url).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(tile.status(), StatusCode::OK);
        let html = tile.text().await.unwrap();
        assert_eq!(form_action(&html), acs);
        let posted = no_redirects().post(&acs).form(&[("SAMLResponse", form_field(&html, "SAMLResponse").unwrap())]).send().await.unwrap();
        assert!(posted.status().is_redirection(), "{}", posted.status());
        assert_eq!(posted.headers()["location"], "/app/UserHome");
        let hub_cookie = cookie_of(&posted, "idhub_sid").expect("a hub session");
        let dash = no_redirects().get(format!("{}/app/UserHome", hub.base_url)).header("cookie", &hub_cookie).send().await.unwrap();
        assert_eq!(dash.status(), StatusCode::OK);

        // The hub user was created just in time from the spoke's attributes.
        let (st, u) = call(hub.api(Method::GET, "/api/v1/users/sarah@spoke.example")).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(u["credentials"]["provider"]["type"], "FEDERATION");
        assert_eq!(u["profile"]["firstName"], "Test");
        assert_eq!(u["profile"]["email"], "sarah@spoke.example");

        // A deep link: the spoke tile with a RelayState of a hub page lands there.
        let deep = format!("{}/app/UserHome?from=spoke", hub.base_url);
        let tile = no_redirects().get(&sso_url).query(&[("RelayState", deep.as_str())]).header("cookie", &cookie).send().await.unwrap();
        let html = tile.text().await.unwrap();
        let relay = form_field(&html, "RelayState").unwrap();
        assert_eq!(relay, deep);
        let posted = no_redirects()
            .post(&acs)
            .form(&[("SAMLResponse", form_field(&html, "SAMLResponse").unwrap()), ("RelayState", relay)])
            .send()
            .await
            .unwrap();
        assert_eq!(posted.headers()["location"].to_str().unwrap(), deep);

        // Both System Logs tell the story.
        let (_, hub_log) = call(hub.api(Method::GET, "/api/v1/logs?filter=eventType%20eq%20%22user.authentication.auth_via_IDP%22")).await;
        assert_eq!(hub_log.as_array().unwrap().len(), 2);
        assert!(hub_log.as_array().unwrap().iter().all(|e| e["outcome"]["result"] == "SUCCESS"));
        let (_, spoke_log) = call(spoke.api(Method::GET, "/api/v1/logs?filter=eventType%20eq%20%22user.authentication.sso%22")).await;
        assert_eq!(spoke_log.as_array().unwrap().len(), 2);

        // Deactivated in the hub (no reactivation): the next SSO is refused there.
        let hub_uid = u["id"].as_str().unwrap();
        assert_eq!(call(hub.api(Method::POST, &format!("/api/v1/users/{hub_uid}/lifecycle/deactivate"))).await.0, StatusCode::OK);
        let tile = no_redirects().get(&sso_url).header("cookie", &cookie).send().await.unwrap();
        let html = tile.text().await.unwrap();
        let refused = no_redirects().post(&acs).form(&[("SAMLResponse", form_field(&html, "SAMLResponse").unwrap())]).send().await.unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        assert!(refused.text().await.unwrap().contains("reason: user_deactivated"));
    }
}
