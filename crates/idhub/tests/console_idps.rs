//! Security > Identity Providers and Routing rules in the admin console over HTTP: the
//! Add SAML 2.0 IdP form validated like the API, the IdP page, metadata import, routing
//! rules, read-only admins and CSRF.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;
use common::browser::signed_in_admin;
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
    let mut b = signed_in_admin(&s, "boss@example.com", "SUPER_ADMIN").await;
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
    assert_eq!(idp["policy"]["trustClaims"], false, "claims are not trusted by default");
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
    let (_, page, _) = b.get(&loc).await;
    assert!(page.contains("id=\"idp-trust-claims\"") && page.contains("Trust claims from this identity provider"), "{page}");
    edit.push(("policy.trustClaims", "on"));
    let (st, _, _) = b.post(&format!("/admin/idp/{id}"), &edit).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, idp2) = call(s.api(Method::GET, &format!("/api/v1/idps/{id}"))).await;
    assert_eq!(idp2["name"], "Spoke org");
    assert_eq!(idp2["protocol"]["credentials"]["trust"]["kid"], kid.as_str());
    assert_eq!(idp2["protocol"]["credentials"]["trust"]["audience"], audience, "the audience stays");
    assert_eq!(idp2["policy"]["provisioning"]["conditions"]["deprovisioned"]["action"], "NONE");
    assert_eq!(idp2["policy"]["trustClaims"], true);
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
    let mut v = signed_in_admin(&s, "viewer@example.com", "READ_ONLY_ADMIN").await;
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
    let mut b = signed_in_admin(&s, "boss@example.com", "SUPER_ADMIN").await;
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

/// Every element of a field list, for `Browser::post`.
fn pairs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(k, val)| (k.as_str(), val.as_str())).collect()
}

/// The mapping page's form: the IdP user profile kept as it is, `new` attributes added, and
/// these expressions.
fn mapping_form(attributes: &[&str], new: &str, exprs: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut f: Vec<(String, String)> = attributes.iter().map(|a| ("idpAttribute".to_string(), a.to_string())).collect();
    f.push(("newAttribute".into(), new.into()));
    f.extend(exprs.iter().map(|(k, v)| (format!("map.{k}"), v.to_string())));
    f
}

#[tokio::test]
async fn a_profile_mapping_set_in_the_console_fills_the_jit_user() {
    use common::saml::{partner, person, post_acs};
    for backend in backends() {
        let s = TestServer::start(backend).await;
        // a custom profile attribute, mapped like the base ones
        let (st, body) = call(s.api(Method::POST, "/api/v1/meta/schemas/user/default").json(&json!({"definitions": {"custom": {
            "id": "#custom", "type": "object", "properties": { "partnerCode": { "title": "Partner code", "type": "string" } }, "required": []
        }}}))).await;
        assert_eq!(st, StatusCode::OK, "{body}");
        let p = partner(&s, json!({})).await;
        let id = p.idp["id"].as_str().unwrap().to_string();
        let mut b = signed_in_admin(&s, "boss@example.com", "SUPER_ADMIN").await;
        // "Edit profile and mappings" next to the IdP's status
        let (st, html, _) = b.get(&format!("/admin/idp/{id}")).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains(&format!("href=\"/admin/idp/{id}/mappings\" id=\"edit-mappings\">Edit profile and mappings")), "{html}");
        let url = format!("/admin/idp/{id}/mappings");
        let (st, html, _) = b.get(&url).await;
        assert_eq!(st, StatusCode::OK);
        for needle in [
            "idpuser.subjectNameId",
            "id=\"map-firstName\"",
            "id=\"map-partnerCode\"",
            "value=\"idpuser.firstName\"",
            "id=\"el-reference\"",
        ] {
            assert!(html.contains(needle), "the mapping page shows {needle}: {html}");
        }
        let before = call(s.api(Method::GET, &format!("/api/v1/idps/{id}"))).await.1["idhub"].clone();
        let defaults = ["firstName", "lastName", "email", "mobilePhone", "displayName"];

        // bad expressions: each refused next to its field, nothing saved
        let bad = mapping_form(
            &defaults,
            "code",
            &[
                ("firstName", "idpuser.firstName"),
                ("nickName", "String.nope(idpuser.email)"),
                ("title", "idpuser.title"),
                ("city", "user.city"),
            ],
        );
        let (st, html, _) = b.post(&url, &pairs(&bad)).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        for f in ["nickName", "title", "city"] {
            assert!(html.contains(&format!("id=\"map-{f}-error\"")), "{f}: {html}");
        }
        assert!(html.contains("unknown function"), "{html}");
        assert!(html.contains("value=\"String.nope(idpuser.email)\""), "what was typed is kept");
        assert_eq!(call(s.api(Method::GET, &format!("/api/v1/idps/{id}"))).await.1["idhub"], before, "nothing saved");

        // a CSRF-less post and a read-only admin change nothing
        let exprs = [
            ("firstName", "idpuser.firstName"),
            ("lastName", "String.toUpperCase(idpuser.lastName)"),
            ("email", "idpuser.email"),
            ("nickName", "String.substringBefore(idpuser.email, \"@\")"),
            ("department", "idpuser.department ?: \"Unknown\""),
            ("partnerCode", "idpuser.code"),
            ("title", ""),
        ];
        let good = mapping_form(&defaults, "department, code", &exprs);
        let r = b.http.post(format!("{}{url}", s.base_url)).header("Cookie", b.cookie_header()).form(&pairs(&good)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let mut v = signed_in_admin(&s, "viewer@example.com", "READ_ONLY_ADMIN").await;
        let (st, html, _) = v.get(&url).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("id=\"map-firstName\"") && !html.contains("id=\"save-mappings\""), "read-only sees, cannot save");
        let (st, _, _) = v.post(&url, &pairs(&good)).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        assert_eq!(call(s.api(Method::GET, &format!("/api/v1/idps/{id}"))).await.1["idhub"], before);
        // unknown IdPs, and another org's, are not found
        assert_eq!(b.get("/admin/idp/0oaNOSUCHIDP/mappings").await.0, StatusCode::NOT_FOUND);
        assert_eq!(b.post("/admin/idp/0oaNOSUCHIDP/mappings", &pairs(&good)).await.0, StatusCode::NOT_FOUND);
        let (other_org, _) = idhub_testkit::add_org(&s.db.store, "other", "https://other.example").await;
        let other = idhub_store::idps::Idp {
            seq: 0,
            id: "0oaOTHERORGIDP".into(),
            org_id: idhub_domain::ids::OrgId(other_org),
            name: "Other org IdP".into(),
            status: "ACTIVE".into(),
            config: p.idp.clone(),
            created: 0,
            last_updated: 0,
        };
        s.db.store.create_idp(&other, &[]).await.unwrap();
        assert_eq!(b.get("/admin/idp/0oaOTHERORGIDP/mappings").await.0, StatusCode::NOT_FOUND);
        assert_eq!(b.post("/admin/idp/0oaOTHERORGIDP/mappings", &pairs(&good)).await.0, StatusCode::NOT_FOUND);

        // Save: stored through the IdP service, visible in the API
        let (st, _, loc) = b.post(&url, &pairs(&good)).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        assert!(loc.unwrap().starts_with(&url));
        let (_, idp) = call(s.api(Method::GET, &format!("/api/v1/idps/{id}"))).await;
        assert_eq!(
            idp["idhub"]["profileAttributes"],
            json!(["firstName", "lastName", "email", "mobilePhone", "displayName", "department", "code"])
        );
        assert_eq!(idp["idhub"]["profileMapping"]["nickName"], "String.substringBefore(idpuser.email, \"@\")");
        assert!(idp["idhub"]["profileMapping"].get("title").is_none(), "an empty box is unmapped");
        // an Okta client's PUT knows nothing of the idhub block: the mapping survives it
        let mut okta_body = idp.clone();
        okta_body.as_object_mut().unwrap().remove("idhub");
        okta_body["name"] = json!("Partner (renamed)");
        let (st, put) = call(s.api(Method::PUT, &format!("/api/v1/idps/{id}")).json(&okta_body)).await;
        assert_eq!(st, StatusCode::OK, "{put}");
        assert_eq!(put["name"], "Partner (renamed)");
        assert_eq!(put["idhub"]["profileMapping"]["nickName"], "String.substringBefore(idpuser.email, \"@\")", "{put}");
        let (_, html, _) = b.get(&url).await;
        assert!(html.contains("id=\"idp-attr-code\"") && html.contains("value=\"idpuser.code\""), "{html}");
        // an attribute still mapped cannot be removed
        let mut remove = mapping_form(&["firstName", "lastName", "email", "mobilePhone", "displayName", "department", "code"], "", &exprs);
        remove.push(("removeAttribute".into(), "code".into()));
        let (st, html, _) = b.post(&url, &pairs(&remove)).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert!(html.contains("id=\"map-partnerCode-error\""), "{html}");

        // the JIT user created at the next inbound sign-in carries the mapped profile
        let mut ann = person("ann@partner.example", "Ann", "Lee");
        ann.attrs.push(("code", vec!["P-7"]));
        let posted = post_acs(&p.acs(), &p.response(&ann), None).await;
        assert!(posted.status.is_redirection(), "{} {}", posted.status, posted.body);
        let (st, u) = call(s.api(Method::GET, "/api/v1/users/ann@partner.example")).await;
        assert_eq!(st, StatusCode::OK, "{u}");
        assert_eq!(u["profile"]["firstName"], "Ann");
        assert_eq!(u["profile"]["lastName"], "LEE");
        assert_eq!(u["profile"]["nickName"], "ann");
        assert_eq!(u["profile"]["department"], "Unknown");
        assert_eq!(u["profile"]["partnerCode"], "P-7");
    }
}

#[tokio::test]
async fn add_identity_provider_picks_the_type_and_the_list_searches_by_name() {
    let s = TestServer::start(idhub_store::Backend::Sqlite).await;
    let mut b = signed_in_admin(&s, "boss@example.com", "SUPER_ADMIN").await;
    let (_, html, _) = b.get("/admin/access/identity-providers").await;
    assert!(html.contains("href=\"/admin/access/identity-providers/add\" id=\"add-idp\""), "{html}");
    assert!(html.contains("placeholder=\"Search...\"") && html.contains(">Routing rules</a>"));
    // step 1: the type, SAML 2.0 selectable, the others shown as unavailable
    let (st, html, _) = b.get("/admin/access/identity-providers/add").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("value=\"SAML2\" id=\"idp-type-saml2\" checked"), "{html}");
    assert!(html.contains("value=\"SALESFORCE\" id=\"idp-type-salesforce\" disabled") && html.contains("Not available in idhub"));
    assert!(html.contains("id=\"idp-type-next\"") && html.contains("id=\"idp-type-previous\"") && html.contains("id=\"idp-type-cancel\""));
    // Next leads to the SAML 2.0 form, whose Previous leads back
    let (st, html, _) = b.get("/admin/access/identity-providers/new?step=type&type=SAML2").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("IdP Issuer URI") && html.contains("id=\"idp-previous\""), "{html}");
    assert!(html.contains("href=\"/admin/help/expression-language\" id=\"el-reference\""), "{html}");
    let (st, html, _) = b.get("/admin/access/identity-providers/new?step=type&type=YAHOO").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(html.contains("id=\"idp-type-error\"") && html.contains("Only SAML 2.0 IdP is available"), "{html}");
    let (st, html, _) = b.get("/admin/access/identity-providers/new?step=type").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(html.contains("Select an identity provider type."));

    // two IdPs; the search box filters by the start of the name
    let (_, cert_pem) = idhub_saml::keys::generate("spoke idp", 365).unwrap();
    for name in ["Spoke one", "Other hub"] {
        let (st, html, _) = b.post("/admin/access/identity-providers/new", &idp_form(name, "https://spoke.example/sso", &cert_pem)).await;
        assert_eq!(st, StatusCode::SEE_OTHER, "{html}");
    }
    let (_, html, _) = b.get("/admin/access/identity-providers?q=spoke").await;
    assert!(html.contains("Spoke one") && !html.contains("Other hub"), "{html}");
    assert!(html.contains("value=\"spoke\""), "the search box keeps the query");
    let (_, html, _) = b.get("/admin/access/identity-providers?q=zzz").await;
    assert!(html.contains("No identity provider name starts with") && !html.contains("Spoke one"));
    let (_, html, _) = b.get("/admin/access/identity-providers").await;
    assert!(html.contains("Spoke one") && html.contains("Other hub"));
    // Edit IdP: the seeds' breadcrumb, status with the mappings link, Done and Cancel
    let (_, idps) = call(s.api(Method::GET, "/api/v1/idps?q=Spoke")).await;
    let id = idps[0]["id"].as_str().unwrap();
    let (_, html, _) = b.get(&format!("/admin/idp/{id}")).await;
    assert!(html.contains("Identity providers</a> / Edit IdP"), "{html}");
    assert!(html.contains(">Active</span>") && html.contains("id=\"edit-mappings\""));
    assert!(html.contains("id=\"idp-done\"") && html.contains("id=\"idp-cancel\"") && html.contains("id=\"idp-save\""));
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"").replace("&#x27;", "'").replace("&#x2f;", "/").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

#[tokio::test]
async fn the_expression_language_reference_documents_what_the_parser_knows() {
    let s = TestServer::start(idhub_store::Backend::Sqlite).await;
    let mut b = signed_in_admin(&s, "boss@example.com", "SUPER_ADMIN").await;
    let (st, html, _) = b.get("/admin/help/expression-language").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("aria-label=\"Admin menu\"") && !html.contains("<script>"));
    assert!(html.contains("idpuser.subjectNameId") && html.contains("?:"));
    for (name, _, _) in idhub_domain::expr::functions() {
        assert!(html.contains(&format!("id=\"fn-{}\"", name.replace('.', "-"))), "{name} is documented");
    }
    assert!(!html.contains("(no description)"));
    // every example gives what the page says, on the page's sample IdP user
    let ctx = idhub_domain::expr::MapContext::new().with_root(
        "idpuser",
        json!({ "email": "jane.doe@spoke.example", "firstName": "Jane", "lastName": "Doe", "phone": "012345678",
                "employeeNumber": "E1", "title": "  Engineer ", "groups": ["Sales", "Engineering"] }),
    );
    let table = html.split("id=\"el-function-table\"").nth(1).unwrap().split("</table>").next().unwrap();
    let parts: Vec<&str> = table.split("</code> → <code>").collect();
    assert_eq!(parts.len(), idhub_domain::expr::functions().count() + 1, "one example per function");
    for w in parts.windows(2) {
        let example = unescape(w[0].rsplit("<code>").next().unwrap());
        let expected = unescape(w[1].split("</code>").next().unwrap());
        let got = idhub_domain::expr::Expression::parse(&example).unwrap().evaluate_string(&ctx).unwrap();
        assert_eq!(got.as_deref(), Some(expected.as_str()), "{example}");
    }
}
