//! A partner SAML IdP for the inbound-federation tests: idhub's own SAML code with a key
//! made here signs Responses for an IdP registered through `/api/v1/idps`.

use super::*;
use base64::Engine;
use idhub_saml::keys::{generate, SigningKey};
use idhub_saml::response::{signed_response, Attribute, ResponseSpec, AC_PASSWORD};

pub const UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";
pub const PARTNER: &str = "http://partner.example/idp";

pub fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

pub struct Partner {
    pub key: SigningKey,
    pub idp: Value,
}

pub fn partner_key() -> SigningKey {
    let (k, c) = generate("partner idp", 30).unwrap();
    SigningKey::from_pem(&k, &c).unwrap()
}

/// Register the partner's certificate and an IdP whose policy is `policy` merged over the
/// seeds' defaults (JIT on, automatic linking, username from the NameID).
pub async fn partner(s: &TestServer, policy: Value) -> Partner {
    let key = partner_key();
    let (st, k) = call(s.api(Method::POST, "/api/v1/idps/credentials/keys").json(&json!({ "x5c": [key.cert_b64()] }))).await;
    assert_eq!(st, StatusCode::OK, "{k}");
    let mut body = json!({
        "type": "SAML2",
        "name": format!("Partner {}", &k["kid"].as_str().unwrap()[..8]),
        "protocol": {
            "type": "SAML2",
            "endpoints": { "sso": { "url": "http://127.0.0.1:9/sso", "binding": "HTTP-POST" }, "acs": { "binding": "HTTP-POST", "type": "INSTANCE" } },
            "algorithms": { "request": { "signature": { "algorithm": "SHA-256", "scope": "REQUEST" } }, "response": { "signature": { "algorithm": "SHA-256", "scope": "ANY" } } },
            "credentials": { "trust": { "issuer": PARTNER, "kid": k["kid"] } }
        },
        "policy": {
            "provisioning": { "action": "AUTO", "profileMaster": false, "groups": { "action": "NONE" },
                              "conditions": { "deprovisioned": { "action": "NONE" }, "suspended": { "action": "NONE" } } },
            "accountLink": { "action": "AUTO", "filter": null },
            "subject": { "userNameTemplate": { "template": "idpuser.subjectNameId" }, "matchType": "USERNAME" },
            "maxClockSkew": 120000
        }
    });
    merge(&mut body["policy"], &policy);
    let (st, idp) = call(s.api(Method::POST, "/api/v1/idps").json(&body)).await;
    assert_eq!(st, StatusCode::OK, "{idp}");
    Partner { key, idp }
}

pub fn merge(into: &mut Value, from: &Value) {
    match (into, from) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (slot, v) => *slot = v.clone(),
    }
}

pub struct Assertion<'a> {
    pub name_id: &'a str,
    pub attrs: Vec<(&'a str, Vec<&'a str>)>,
    pub in_response_to: Option<String>,
}

pub fn person<'a>(name_id: &'a str, first: &'a str, last: &'a str) -> Assertion<'a> {
    Assertion { name_id, attrs: vec![("firstName", vec![first]), ("lastName", vec![last]), ("email", vec![name_id])], in_response_to: None }
}

impl Partner {
    pub fn acs(&self) -> String {
        self.idp["_links"]["acs"]["href"].as_str().unwrap().to_string()
    }

    pub fn spec(&self, a: &Assertion) -> ResponseSpec {
        ResponseSpec {
            issuer: PARTNER.into(),
            acs_url: self.acs(),
            audience: self.idp["protocol"]["credentials"]["trust"]["audience"].as_str().unwrap().into(),
            name_id: a.name_id.into(),
            name_id_format: UNSPECIFIED.into(),
            in_response_to: a.in_response_to.clone(),
            session_index: "s1".into(),
            authn_context: AC_PASSWORD.into(),
            attributes: a
                .attrs
                .iter()
                .map(|(n, v)| Attribute {
                    name: n.to_string(),
                    name_format: "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified".into(),
                    values: v.iter().map(|x| x.to_string()).collect(),
                })
                .collect(),
            now_ms: chrono::Utc::now().timestamp_millis(),
            validity_ms: 300_000,
            sign_response: false,
            sign_assertion: true,
        }
    }

    pub fn encode(&self, spec: &ResponseSpec, key: &SigningKey) -> String {
        base64::engine::general_purpose::STANDARD.encode(signed_response(spec, key).unwrap())
    }

    pub fn response(&self, a: &Assertion) -> String {
        self.encode(&self.spec(a), &self.key)
    }
}

pub struct Posted {
    pub status: StatusCode,
    pub location: Option<String>,
    pub cookie: Option<String>,
    pub body: String,
}

pub async fn post_acs(url: &str, saml_response: &str, relay: Option<&str>) -> Posted {
    let mut form = vec![("SAMLResponse", saml_response.to_string())];
    if let Some(r) = relay {
        form.push(("RelayState", r.to_string()));
    }
    let r = no_redirects().post(url).form(&form).send().await.unwrap();
    let status = r.status();
    let location = r.headers().get("location").map(|v| v.to_str().unwrap().to_string());
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .find(|c| c.starts_with("idhub_sid=") && c.len() > "idhub_sid=".len());
    Posted { status, location, cookie, body: r.text().await.unwrap() }
}
