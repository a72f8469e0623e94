//! Security > Identity Providers and Routing rules in the admin console over HTTP: the
//! Add SAML 2.0 IdP form validated like the API, the IdP page, metadata import, routing
//! rules, read-only admins and CSRF.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;
use common::browser::{admin_user, Browser};
use common::*;

async fn idp_count(s: &TestServer) -> usize {
    let (_, idps) = call(s.api(Method::GET, "/api/v1/idps")).await;
    idps.as_array().unwrap().len()
}

async fn idp_key_count(s: &TestServer) -> usize {
    let (_, keys) = call(s.api(Method::GET, "/api/v1/idps/credentials/keys")).await;
    keys.as_array().unwrap().len()
}

/// The seeds' "Add identity provider > SAML 2.0 IdP" form, filled as the seeds fill it.
fn idp_form<'a>(name: &'a str, sso_url: &'a str, cert: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("idhub.usage", "SSO"),
        ("policy.subject.userNameTemplate.template", "idpuser.subjectNameId"),
        ("policy.subject.matchType", "USERNAME"),
        ("policy.subject.matchAttribute", ""),
        ("policy.accountLink.action", "AUTO"),
        ("policy.provisioning.action", "AUTO"),
        ("policy.provisioning.profileMaster", "on"),
        ("policy.provisioning.conditions.deprovisioned.action", "on"),
        ("policy.provisioning.groups.action", "NONE"),
        ("policy.provisioning.groups.sourceAttributeName", ""),
        ("protocol.credentials.trust.issuer", "http://www.okta.com/exk8reff4u1hLcTj0x7"),
        ("protocol.endpoints.sso.url", sso_url),
        ("certificate", cert),
        ("protocol.endpoints.sso.binding", "HTTP-POST"),
        ("protocol.algorithms.request.signature.scope", "on"),
        ("protocol.algorithms.request.signature.algorithm", "SHA-256"),
        ("protocol.algorithms.response.signature.scope", "ANY"),
        ("protocol.algorithms.response.signature.algorithm", "SHA-256"),
        ("protocol.endpoints.sso.destination", ""),
        ("protocol.endpoints.acs.type", "INSTANCE"),
        ("maxClockSkew", "2"),
        ("maxClockSkewUnit", "minutes"),
    ]
}

#[tokio::test]
async fn identity_providers_and_routing_rules_through_the_console() {
    let s = TestServer::start(idhub_store::Backend::Sqlite).await;
    admin_user(&s, "boss@example.com", "SUPER_ADMIN").await;
    let mut b = Browser::new(&s);
    b.sign_in("boss@example.com").await;
    let (st, html, _) = b.get("/admin/access/identity-providers/new").await;
    assert_eq!(st, StatusCode::OK);
    for label in [
        "IdP Usage",
        "IdP username",
        "Only allow usernames that match defined RegEx Pattern",
        "Match against",
        "Account Link Policy",
        "Auto-Link Restrictions",
        "Create new user (JIT)",
        "Redirect to Okta sign-in page",
        "Update attributes for existing users",
        "Reactivate users who are deactivated in Okta",
        "Unsuspend users who are suspended in Okta",
        "Full sync of groups",
        "IdP Issuer URI",
        "IdP Single Sign-On URL",
        "IdP Signature Certificate",
        "Request Binding",
        "Sign SAML Authentication Requests",
        "Request Signature Algorithm",
        "Response Signature Verification",
        "Response Signature Algorithm",
        "Destination",
        "Okta Assertion Consumer Service URL",
        "Trust-specific",
        "Max Clock Skew",
    ] {
        assert!(html.contains(label), "the form names {label}");
    }
    // the certificate expires within 30 days: accepted, and flagged on the dashboard
    let (_, cert_pem) = idhub_saml::keys::generate("spoke idp", 20).unwrap();
    // a form without the CSRF token is refused and writes nothing
    let r = b
        .http
        .post(format!("{}/admin/access/identity-providers/new", s.base_url))
        .header("Cookie", b.cookie_header())
        .form(&idp_form("Spoke", "https://spoke.example/sso", &cert_pem))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(idp_count(&s).await, 0);
    // a bad SSO URL is refused next to its field, with nothing saved (not even the certificate)
    let (st, html, _) = b.post("/admin/access/identity-providers/new", &idp_form("Spoke", "javascript:alert(1)", &cert_pem)).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(html.contains("id=\"idp-sso-url-error\""), "{html}");
    assert!(html.contains("value=\"Spoke\""), "the form keeps what was typed");
    assert_eq!((idp_count(&s).await, idp_key_count(&s).await), (0, 0));
    // a certificate that is not one, and a bad filter, land next to their fields
    let mut bad = idp_form("Spoke", "https://spoke.example/sso", "not a certificate");
    bad.push(("filterEnabled", "on"));
    bad.push(("policy.subject.filter", "(unclosed"));
    let (st, html, _) = b.post("/admin/access/identity-providers/new", &bad).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(html.contains("id=\"idp-certificate-error\""), "{html}");
    let mut bad = idp_form("Spoke", "https://spoke.example/sso", &cert_pem);
    bad.push(("filterEnabled", "on"));
    bad.push(("policy.subject.filter", "(unclosed"));
    let (st, html, _) = b.post("/admin/access/identity-providers/new", &bad).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(html.contains("id=\"idp-filter-error\""), "{html}");
    assert_eq!((idp_count(&s).await, idp_key_count(&s).await), (0, 0));
    // the full create: the API sees what the seeds configure
    let (st, _, loc) = b.post("/admin/access/identity-providers/new", &idp_form("Spoke", "https://spoke.example/sso", &cert_pem)).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let loc = loc.unwrap();
    let id = loc.trim_start_matches("/admin/idp/").split('?').next().unwrap().to_string();
    let (_, idp) = call(s.api(Method::GET, &format!("/api/v1/idps/{id}"))).await;
    assert_eq!(idp["status"], "ACTIVE");
    assert_eq!(idp["policy"]["accountLink"]["action"], "AUTO");
    assert_eq!(idp["policy"]["provisioning"]["action"], "AUTO");
    assert_eq!(idp["policy"]["provisioning"]["profileMaster"], true);
    assert_eq!(idp["policy"]["provisioning"]["conditions"]["deprovisioned"]["action"], "REACTIVATE");
    assert_eq!(idp["policy"]["provisioning"]["conditions"]["suspended"]["action"], "NONE");
    assert_eq!(idp["policy"]["maxClockSkew"], 120000);
    assert_eq!(idp["protocol"]["algorithms"]["request"]["signature"]["scope"], "REQUEST");
    assert_eq!(idp["protocol"]["credentials"]["trust"]["issuer"], "http://www.okta.com/exk8reff4u1hLcTj0x7");
    assert_eq!(idp_key_count(&s).await, 1);
    // the detail page: ACS URL and Audience URI with copy buttons, the metadata download
    let (st, html, _) = b.get(&loc).await;
    assert_eq!(st, StatusCode::OK);
    let acs = idp["_links"]["acs"]["href"].as_str().unwrap();
    let audience = idp["protocol"]["credentials"]["trust"]["audience"].as_str().unwrap();
    let esc = |u: &str| u.replace('/', "&#x2f;");
    assert!(html.contains(&format!("<code id=\"acs-url\">{}</code>", esc(acs))), "{html}");
    assert!(html.contains(&format!("<code id=\"audience-uri\">{}</code>", esc(audience))));
    assert!(html.contains("data-copy=\"acs-url\"") && html.contains("data-copy=\"audience-uri\""));
    assert!(!html.contains("<script>"));
    let (st, xml, _) = b.get(&format!("/admin/idp/{id}/metadata")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(xml.contains(audience) && xml.contains(acs));
    // edit: saving without a new certificate keeps the trusted key
    let mut edit = idp_form("Spoke org", "https://spoke.example/sso2", "");
    edit.retain(|(k, _)| *k != "policy.provisioning.conditions.deprovisioned.action");
    let kid = idp["protocol"]["credentials"]["trust"]["kid"].as_str().unwrap().to_string();
    edit.push(("kid", &kid));
    let (st, _, _) = b.post(&format!("/admin/idp/{id}"), &edit).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, idp2) = call(s.api(Method::GET, &format!("/api/v1/idps/{id}"))).await;
    assert_eq!(idp2["name"], "Spoke org");
    assert_eq!(idp2["protocol"]["credentials"]["trust"]["kid"], kid.as_str());
    assert_eq!(idp2["protocol"]["credentials"]["trust"]["audience"], audience, "the audience stays");
    assert_eq!(idp2["policy"]["provisioning"]["conditions"]["deprovisioned"]["action"], "NONE");
    // the list and the dashboard flag the certificate that expires within 30 days
    let (_, html, _) = b.get("/admin/dashboard").await;
    assert!(html.contains("Identity provider &quot;Spoke org&quot;: The IdP signature certificate expires in"), "{html}");
    let (_, html, _) = b.get("/admin/access/identity-providers").await;
    assert!(html.contains("Spoke org") && html.contains("expires in"));

    // routing rules: a bad regex is refused next to the value; a good rule is listed
    let rule = |value: &'static str, provider: String| {
        vec![
            ("name", "Partners".to_string()),
            ("priority", "1".to_string()),
            ("active", "on".to_string()),
            ("userMatch", "PATTERN".to_string()),
            ("matchType", "EXPRESSION".to_string()),
            ("matchValue", value.to_string()),
            ("app", String::new()),
            ("provider", provider),
        ]
    };
    let bad = rule("(", id.clone());
    let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (st, html, _) = b.post("/admin/access/identity-providers/routing-rules", &bad).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(html.contains("id=\"rule-match-value-error\""), "{html}");
    let good = rule(".*@spoke\\.example", id.clone());
    let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (st, _, _) = b.post("/admin/access/identity-providers/routing-rules", &good).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, html, _) = b.get("/admin/access/identity-providers/routing-rules").await;
    assert!(html.contains("Partners") && html.contains("Spoke org"), "{html}");

    // a read-only admin sees the pages, and every change is refused
    admin_user(&s, "viewer@example.com", "READ_ONLY_ADMIN").await;
    let mut v = Browser::new(&s);
    v.sign_in("viewer@example.com").await;
    let (st, html, _) = v.get(&format!("/admin/idp/{id}")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains(&esc(acs)));
    let (st, _, _) = v.post(&format!("/admin/idp/{id}/lifecycle/deactivate"), &[]).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _, _) = v.post("/admin/access/identity-providers/new", &idp_form("Other", "https://o.example/sso", &cert_pem)).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_eq!(idp_count(&s).await, 1);
    // delete only when inactive
    let (st, html, _) = b.post(&format!("/admin/idp/{id}/delete"), &[]).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert!(html.contains("Deactivate the identity provider before deleting it."));
    let (st, _, _) = b.post(&format!("/admin/idp/{id}/lifecycle/deactivate"), &[]).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    // a refused inbound sign-in: the System Log says which check failed
    let r = reqwest::Client::new().post(acs).form(&[("SAMLResponse", "PHg+")]).send().await.unwrap();
    assert!(r.status().is_client_error());
    let (_, html, _) = b.get("/admin/reports/system-log").await;
    assert!(html.contains("Failed check: <strong>Identity provider</strong>"), "{html}");
    // still used by the routing rule: refused until the rule is deleted
    let (st, html, _) = b.post(&format!("/admin/idp/{id}/delete"), &[]).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert!(html.contains("The routing rule Partners uses this identity provider"), "{html}");
    let (_, rules) = call(s.api(Method::GET, "/api/v1/policies/00pIdpDiscovery/rules")).await;
    let rid = rules[0]["id"].as_str().unwrap().to_string();
    let (st, _, _) = b.post(&format!("/admin/access/identity-providers/routing-rules/{rid}/delete"), &[]).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (st, _, _) = b.post(&format!("/admin/idp/{id}/delete"), &[]).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert_eq!(idp_count(&s).await, 0);
}

#[tokio::test]
async fn idp_metadata_import_and_routing_rule_edit_through_the_console() {
    let s = TestServer::start(idhub_store::Backend::Sqlite).await;
    admin_user(&s, "boss@example.com", "SUPER_ADMIN").await;
    let mut b = Browser::new(&s);
    b.sign_in("boss@example.com").await;
    let (key_pem, cert_pem) = idhub_saml::keys::generate("metadata idp", 365).unwrap();
    let key = idhub_saml::keys::SigningKey::from_pem(&key_pem, &cert_pem).unwrap();
    let xml = idhub_saml::metadata::idp_metadata("https://meta.example/idp", "https://meta.example/sso", key.cert_b64(), &[]).unwrap();
    b.get("/admin/access/identity-providers/new").await;
    // broken metadata: refused next to the import box, nothing saved
    let mut form = idp_form("Meta", "", "");
    form.push(("idhub.metadataXml", "<nope"));
    let (st, html, _) = b.post("/admin/access/identity-providers/new", &form).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(html.contains("id=\"idp-metadata-error\""), "{html}");
    assert_eq!((idp_count(&s).await, idp_key_count(&s).await), (0, 0));
    // good metadata fills the issuer, the SSO URL and the certificate
    let mut form = idp_form("Meta", "", "");
    form.retain(|(k, _)| *k != "protocol.credentials.trust.issuer");
    form.push(("idhub.metadataXml", &xml));
    let (st, html, loc) = b.post("/admin/access/identity-providers/new", &form).await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{html}");
    let id = loc.unwrap().trim_start_matches("/admin/idp/").split('?').next().unwrap().to_string();
    let (_, idp) = call(s.api(Method::GET, &format!("/api/v1/idps/{id}"))).await;
    assert_eq!(idp["protocol"]["credentials"]["trust"]["issuer"], "https://meta.example/idp");
    assert_eq!(idp["protocol"]["endpoints"]["sso"]["url"], "https://meta.example/sso");
    assert_eq!(idp_key_count(&s).await, 1);
    let (_, html, _) = b.get(&format!("/admin/idp/{id}")).await;
    assert!(html.contains("id=\"idp-trusted\"") && html.contains("metadata idp"), "{html}");

    // a routing rule: added, then edited (priority, any user, this org's sign-in page)
    let (st, _, _) = b
        .post(
            "/admin/access/identity-providers/routing-rules",
            &[
                ("name", "Meta users"),
                ("priority", "5"),
                ("active", "on"),
                ("userMatch", "PATTERN"),
                ("matchType", "SUFFIX"),
                ("matchValue", "meta.example"),
                ("app", ""),
                ("provider", &id),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, rules) = call(s.api(Method::GET, "/api/v1/policies/00pIdpDiscovery/rules")).await;
    assert_eq!(rules[0]["conditions"]["userIdentifier"]["patterns"][0]["matchType"], "SUFFIX");
    let rid = rules[0]["id"].as_str().unwrap().to_string();
    let (st, html, _) = b.get(&format!("/admin/access/identity-providers/routing-rules/{rid}")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("value=\"meta.example\"") && html.contains("Update Rule"));
    let (st, html, _) = b
        .post(
            &format!("/admin/access/identity-providers/routing-rules/{rid}"),
            &[("name", "Meta users"), ("priority", "abc"), ("userMatch", "ANY"), ("provider", "OKTA")],
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(html.contains("id=\"rule-priority-error\""), "{html}");
    let (st, _, _) = b
        .post(
            &format!("/admin/access/identity-providers/routing-rules/{rid}"),
            &[("name", "Meta users"), ("priority", "2"), ("active", "on"), ("userMatch", "ANY"), ("provider", "OKTA")],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, rules) = call(s.api(Method::GET, "/api/v1/policies/00pIdpDiscovery/rules")).await;
    assert_eq!(rules.as_array().unwrap().len(), 1);
    assert_eq!(rules[0]["priority"], 2);
    assert_eq!(rules[0]["actions"]["idp"]["providers"][0]["type"], "OKTA");
    assert_eq!(rules[0]["conditions"]["userIdentifier"]["patterns"], json!([]));
}
