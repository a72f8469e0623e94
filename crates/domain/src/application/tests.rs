//! Unit tests of the app catalog and validation: each template's defaults, round trips,
//! and refusals that name the field (and the expression position).
#![allow(clippy::panic, clippy::unwrap_used)]

use super::*;

fn ok(body: Value) -> AppInput {
    validate_app(&body).unwrap_or_else(|e| panic!("{e:?}"))
}

/// (summary field, first cause) of a refusal.
fn refusal(body: Value) -> (String, String) {
    match validate_app(&body) {
        Err(DomainError::Validation { summary, causes }) => (summary, causes.into_iter().next().unwrap_or_default()),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

fn field_of(body: Value) -> String {
    refusal(body).0
}

fn custom(sign_on: Value) -> Value {
    json!({ "signOnMode": "SAML_2_0", "label": "SP", "settings": { "signOn": sign_on } })
}

#[test]
fn templates_fill_their_defaults() {
    let o = ok(json!({ "name": "okta_org2org", "label": "Okta Org2Org", "settings": { "app": { "baseUrl": "https://org2.example/" } } }));
    let names: Vec<&str> =
        o.settings["signOn"]["attributeStatements"].as_array().into_iter().flatten().filter_map(|a| a["name"].as_str()).collect();
    assert_eq!(names, ["firstName", "lastName", "email", "login"]);
    assert_eq!(o.settings["signOn"]["attributeStatements"][3]["values"], json!(["user.login"]));
    assert_eq!(o.settings["app"]["baseUrl"], "https://org2.example");
    assert_eq!(o.settings["signOn"]["ssoAcsUrl"], Value::Null);
    assert_eq!(
        o.username_template,
        json!({ "template": "${source.login}", "type": "BUILT_IN", "updateOn": "CREATE_AND_UPDATE", "revealPassword": true })
    );
    assert_eq!(o.settings["signOn"]["subjectNameIdFormat"], NAMEID_UNSPECIFIED);

    let d = ok(json!({ "name": "dropbox_for_business" }));
    assert_eq!(d.label, "Dropbox Business");
    assert_eq!(d.settings["signOn"]["ssoAcsUrl"], "https://www.dropbox.com/saml_login");
    assert_eq!(d.settings["signOn"]["audience"], "Dropbox");
    assert_eq!(d.settings["signOn"]["subjectNameIdFormat"], NAMEID_EMAIL);
    assert_eq!(d.username_template["template"], "${source.email}");

    let g = ok(json!({ "name": "google", "settings": { "app": { "domain": "Example.com" } } }));
    assert_eq!(g.settings["signOn"]["ssoAcsUrl"], "https://www.google.com/a/example.com/acs");
    assert_eq!(g.settings["signOn"]["audience"], "google.com/a/example.com");

    let b = ok(
        json!({ "name": "bookmark", "label": "Dropbox via hub", "settings": { "app": { "url": "https://hub.example/app/x/sso/saml?RelayState=y" } } }),
    );
    assert_eq!(b.mode, SignOnMode::Bookmark);
    assert_eq!(b.settings["signOn"], json!({}));

    let c = ok(custom(json!({ "ssoAcsUrl": "https://sp.example/acs", "audience": "https://sp.example" })));
    assert_eq!(c.name, "saml_2_0");
    assert_eq!(c.settings["signOn"]["recipient"], "https://sp.example/acs");
    assert_eq!(c.settings["signOn"]["destination"], "https://sp.example/acs");
    assert_eq!(c.settings["signOn"]["subjectNameIdTemplate"], "${user.userName}");
    assert_eq!(c.settings["signOn"]["attributeStatements"], json!([]));
}

#[test]
fn org2org_endpoints_follow_the_hub_idp() {
    let first = ok(json!({ "name": "okta_org2org", "settings": { "app": {
        "baseUrl": "https://hub.example", "acsUrl": "https://hub.example/sso/saml2/0oa1", "audRestriction": "https://hub.example/sp1" } } }));
    assert_eq!(first.settings["signOn"]["ssoAcsUrl"], "https://hub.example/sso/saml2/0oa1");
    assert_eq!(first.settings["signOn"]["audience"], "https://hub.example/sp1");
    // A round trip that changes only settings.app moves every endpoint with it.
    let mut body = json!({ "name": "okta_org2org", "settings": first.settings });
    body["settings"]["app"]["acsUrl"] = json!("https://hub.example/sso/saml2/0oa2");
    let second = ok(body);
    assert_eq!(second.settings["signOn"]["ssoAcsUrl"], "https://hub.example/sso/saml2/0oa2");
    assert_eq!(second.settings["signOn"]["recipient"], "https://hub.example/sso/saml2/0oa2");
    assert_eq!(second.settings["signOn"]["destination"], "https://hub.example/sso/saml2/0oa2");
}

#[test]
fn custom_sign_on_options_round_trip() {
    let c = ok(json!({
        "signOnMode": "SAML_2_0", "label": "SP",
        "credentials": { "userNameTemplate": { "template": "${String.toLowerCase(source.email)}", "type": "CUSTOM", "pushStatus": "PUSH", "updateOn": "CREATE" } },
        "visibility": { "hide": { "web": true } },
        "settings": { "signOn": {
            "ssoAcsUrl": "https://sp.example/acs", "audience": "urn:sp", "spIssuer": "urn:sp:issuer", "requestCompressed": true,
            "allowMultipleAcsEndpoints": true, "acsEndpoints": [{ "url": "https://sp.example/acs2", "index": 3 }, { "url": "https://sp.example/acs" }],
            "attributeStatements": [{ "name": "groups", "namespace": "urn:oasis:names:tc:SAML:2.0:attrname-format:basic",
                "values": ["isMemberOfGroupName(\"Admins\") ? \"admin\" : \"user\""] }]
        } }
    }));
    let so = &c.settings["signOn"];
    assert_eq!(
        so["acsEndpoints"],
        json!([{ "url": "https://sp.example/acs2", "index": 3 }, { "url": "https://sp.example/acs", "index": 1 }])
    );
    assert_eq!(so["spIssuer"], "urn:sp:issuer");
    assert_eq!(so["requestCompressed"], true);
    assert_eq!(
        c.username_template,
        json!({ "template": "${String.toLowerCase(source.email)}", "type": "CUSTOM", "updateOn": "CREATE", "pushStatus": "PUSH", "revealPassword": true })
    );
    assert_eq!(c.visibility["hide"]["web"], true);
    // What the API shows (updateOn beside the template) comes back unchanged.
    let again = ok(json!({ "name": "saml_2_0", "label": "SP", "settings": c.settings,
        "credentials": { "userNameTemplate": { "template": "${String.toLowerCase(source.email)}", "type": "CUSTOM", "pushStatus": "PUSH" }, "updateOn": "CREATE" },
        "visibility": c.visibility }));
    assert_eq!(again, c);
    // Built-in formats are typed BUILT_IN whatever the client said.
    let e = ok(
        json!({ "name": "dropbox_for_business", "credentials": { "userNameTemplate": { "template": "${String.substringBefore(source.email, \"@\")}", "type": "CUSTOM" } } }),
    );
    assert_eq!(e.username_template["type"], "BUILT_IN");
}

#[test]
fn refusals_name_the_field() {
    assert_eq!(field_of(json!({ "name": "okta_org2org" })), "settings.app.baseUrl");
    assert_eq!(field_of(json!({ "name": "nope" })), "name");
    assert_eq!(field_of(json!({})), "name");
    assert_eq!(field_of(json!({ "signOnMode": "WS_FEDERATION" })), "signOnMode");
    assert_eq!(field_of(custom(json!({ "ssoAcsUrl": "javascript:alert(1)", "audience": "a" }))), "settings.signOn.ssoAcsUrl");
    assert_eq!(field_of(custom(json!({ "ssoAcsUrl": "https://", "audience": "a" }))), "settings.signOn.ssoAcsUrl");
    assert_eq!(field_of(custom(json!({ "audience": "a" }))), "settings.signOn.ssoAcsUrl");
    assert_eq!(field_of(custom(json!({ "ssoAcsUrl": "https://a/acs" }))), "settings.signOn.audience");
    assert_eq!(
        field_of(custom(json!({ "ssoAcsUrl": "https://a/acs", "audience": "a", "recipient": "data:x" }))),
        "settings.signOn.recipient"
    );
    assert_eq!(
        field_of(custom(
            json!({ "ssoAcsUrl": "https://a/acs", "audience": "a", "allowMultipleAcsEndpoints": true, "acsEndpoints": [{ "url": "javascript:x" }] })
        )),
        "settings.signOn.acsEndpoints[0].url"
    );
    assert_eq!(
        field_of(custom(json!({ "ssoAcsUrl": "https://a/acs", "audience": "a", "allowMultipleAcsEndpoints": true, "acsEndpoints": [] }))),
        "settings.signOn.acsEndpoints"
    );
    assert_eq!(
        field_of(custom(json!({ "ssoAcsUrl": "https://a/acs", "audience": "a", "subjectNameIdFormat": "urn:nope" }))),
        "settings.signOn.subjectNameIdFormat"
    );
    assert_eq!(
        field_of(custom(json!({ "ssoAcsUrl": "https://a/acs", "audience": "a", "responseSigned": false, "assertionSigned": false }))),
        "settings.signOn.assertionSigned"
    );
    assert_eq!(
        field_of(custom(
            json!({ "ssoAcsUrl": "https://a/acs", "audience": "a", "attributeStatements": [{ "name": "x", "type": "GROUP" }] })
        )),
        "settings.signOn.attributeStatements[0].type"
    );
    assert_eq!(
        field_of(custom(
            json!({ "ssoAcsUrl": "https://a/acs", "audience": "a", "attributeStatements": [{ "name": "x" }, { "name": "x" }] })
        )),
        "settings.signOn.attributeStatements[1].name"
    );
    assert_eq!(field_of(json!({ "name": "bookmark", "settings": { "app": { "url": "ftp://x" } } })), "settings.app.url");
    assert_eq!(field_of(json!({ "name": "google" })), "settings.app.domain");
    assert_eq!(field_of(json!({ "name": "google", "settings": { "app": { "domain": "a/b" } } })), "settings.app.domain");
    assert_eq!(
        field_of(json!({ "name": "bookmark", "signOnMode": "SAML_2_0", "settings": { "app": { "url": "https://x.example" } } })),
        "signOnMode"
    );
    assert_eq!(
        field_of(
            json!({ "name": "dropbox_for_business", "credentials": { "userNameTemplate": { "template": "${source.email}", "updateOn": "NEVER" } } })
        ),
        "credentials.userNameTemplate.updateOn"
    );
    assert_eq!(
        field_of(
            json!({ "name": "dropbox_for_business", "credentials": { "userNameTemplate": { "template": "${source.login + \"x\"}", "type": "BUILT_IN" } } })
        ),
        "credentials.userNameTemplate.type"
    );
    assert_eq!(field_of(json!({ "name": "dropbox_for_business", "label": "" })), "label");
}

#[test]
fn bad_expressions_carry_their_position() {
    // `${` is two characters: the position counts from the start of the template as written.
    let (field, cause) =
        refusal(custom(json!({ "ssoAcsUrl": "https://a/acs", "audience": "a", "subjectNameIdTemplate": "${user.email +}" })));
    assert_eq!(field, "settings.signOn.subjectNameIdTemplate");
    assert!(cause.contains("position 14"), "{cause}");
    let (field, cause) = refusal(custom(
        json!({ "ssoAcsUrl": "https://a/acs", "audience": "a", "attributeStatements": [{ "name": "n", "values": ["user.a ?"] }] }),
    ));
    assert_eq!(field, "settings.signOn.attributeStatements[0].values[0]");
    assert!(cause.contains("position "), "{cause}");
    let (field, cause) =
        refusal(json!({ "name": "dropbox_for_business", "credentials": { "userNameTemplate": { "template": "${idpuser.email}" } } }));
    assert_eq!(field, "credentials.userNameTemplate.template");
    assert!(cause.contains("'idpuser' is not available"), "{cause}");
}

#[test]
fn catalog_describes_every_template() {
    for entry in CATALOG {
        assert_eq!(catalog(entry.name), Some(&entry));
        assert!(check_template("t", entry.default_username_template, USERNAME_ROOTS).is_ok(), "{}", entry.name);
        for (_, expr) in entry.default_attributes {
            assert!(check_template("t", expr, SAML_ROOTS).is_ok());
        }
        assert_eq!(entry.mode == SignOnMode::Bookmark, entry.endpoints == Endpoints::None);
    }
    for (template, _) in USERNAME_FORMATS {
        assert!(check_template("t", template, USERNAME_ROOTS).is_ok(), "{template}");
    }
}

#[test]
fn signed_requests_need_the_sp_certificate() {
    use base64::Engine as _;
    let mut der = vec![0x30u8, 0x82, 0x01, 0x00];
    der.extend((0..96u8).collect::<Vec<_>>());
    let b64 = base64::engine::general_purpose::STANDARD.encode(&der);
    let pem = format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----", b64);
    let base = json!({ "ssoAcsUrl": "https://a/acs", "audience": "a", "requestSigned": true });
    let mut with_pem = base.clone();
    with_pem["spCertificate"] = json!(pem);
    let a = ok(custom(with_pem));
    assert_eq!(a.settings["signOn"]["requestSigned"], true);
    let stored = a.settings["signOn"]["spCertificate"].as_str().unwrap_or_default().to_string();
    assert!(stored.starts_with("-----BEGIN CERTIFICATE-----\n") && stored.ends_with("-----END CERTIFICATE-----\n"), "{stored}");
    // Okta's {x5c: [...]} form and the samlSignedRequestEnabled alias give the same result.
    let b = ok(custom(
        json!({ "ssoAcsUrl": "https://a/acs", "audience": "a", "samlSignedRequestEnabled": true, "spCertificate": { "x5c": [b64] } }),
    ));
    assert_eq!(b.settings["signOn"], a.settings["signOn"]);
    assert_eq!(field_of(custom(base.clone())), "settings.signOn.spCertificate");
    let mut junk = base;
    junk["spCertificate"] = json!("-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----");
    assert_eq!(field_of(custom(junk)), "settings.signOn.spCertificate");
    let off = ok(custom(json!({ "ssoAcsUrl": "https://a/acs", "audience": "a" })));
    assert_eq!((off.settings["signOn"]["requestSigned"].as_bool(), off.settings["signOn"]["spCertificate"].is_null()), (Some(false), true));
}
