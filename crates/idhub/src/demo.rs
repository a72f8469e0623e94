//! `idhub demo`: the seeds' Org2Org setup, ready to click through, on the embedded
//! database. One server hosts a spoke org and a hub org on two loopback addresses; a demo
//! SAML SP on a third stands in for Dropbox Business. Everything is wired through the
//! orgs' own management API in Okta's shapes, exactly as an administrator would:
//!
//! - hub: the "Dropbox Business (demo)" SAML app assigned to the group "Partner users";
//!   a SAML IdP trusting the spoke's Org2Org app (JIT, automatic linking, profile source,
//!   new users put in "Partner users");
//! - spoke: the user Sarah in "Contractors"; the Org2Org app (hub ACS and audience in its
//!   advanced sign-on settings, API integration with a hub token, create/update/deactivate
//!   on) assigned to Contractors; a bookmark whose RelayState deep link goes straight to
//!   the Dropbox stand-in through the hub.

use crate::cli::{create_admin, create_token, CliError};
use crate::config::Config;
use idhub_domain::time::{Clock, SystemClock};
use idhub_store::orgs::Org;
use idhub_store::Store;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Duration;

/// Where the demo runs.
#[derive(Debug, Clone)]
pub struct DemoAddrs {
    pub data_dir: PathBuf,
    pub spoke: String,
    pub hub: String,
    pub sp: String,
}

const ADMIN_PASSWORD: &str = "Demo-Passw0rd";
const SARAH: &str = "sarah@spoke.example";
const SARAH_PASSWORD: &str = "Contract0r-Pass";

struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value, CliError> {
        let mut rb =
            self.http.request(method.clone(), format!("{}{path}", self.base)).header("Authorization", format!("SSWS {}", self.token));
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.map_err(|e| CliError::Usage(format!("demo setup: {method} {path}: {e}")))?;
        let status = r.status();
        let text = r.text().await.map_err(|e| CliError::Usage(format!("demo setup: {path}: {e}")))?;
        if !status.is_success() {
            return Err(CliError::Usage(format!("demo setup: {method} {}{path} answered {status}: {text}", self.base)));
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }
    async fn get(&self, path: &str) -> Result<Value, CliError> {
        self.call(reqwest::Method::GET, path, None).await
    }
    async fn post(&self, path: &str, body: Value) -> Result<Value, CliError> {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }
    async fn put(&self, path: &str, body: Value) -> Result<Value, CliError> {
        self.call(reqwest::Method::PUT, path, Some(body)).await
    }
    async fn text(&self, path: &str) -> Result<String, CliError> {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header("Authorization", format!("SSWS {}", self.token))
            .send()
            .await
            .map_err(|e| CliError::Usage(format!("demo setup: {path}: {e}")))?;
        r.text().await.map_err(|e| CliError::Usage(format!("demo setup: {path}: {e}")))
    }
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_default().to_string()
}

async fn org_at(store: &Store, cfg: &Config, name: &str, base_url: &str, now: i64) -> Result<Org, CliError> {
    match store.org_by_name(name).await {
        Ok(org) if org.base_url == base_url => Ok(org),
        Ok(org) => Err(CliError::Usage(format!(
            "the demo's {name} org in this data directory lives at {}, not {base_url}; use those addresses or a fresh --data-dir",
            org.base_url
        ))),
        Err(_) => {
            let org = store.create_org(name, base_url, now, &[]).await?;
            create_admin(store, cfg, &org, &format!("admin@{name}.example"), ADMIN_PASSWORD, now).await?;
            Ok(org)
        }
    }
}

/// Run the demo until Ctrl-C.
pub async fn run(mut cfg: Config, addrs: DemoAddrs) -> Result<(), CliError> {
    let store = Store::open_data_dir(&addrs.data_dir).await?;
    let now = SystemClock.now_millis();
    let spoke_url = format!("http://{}", addrs.spoke);
    let hub_url = format!("http://{}", addrs.hub);
    let sp_url = format!("http://{}", addrs.sp);
    let spoke_org = org_at(&store, &cfg, "spoke", &spoke_url, now).await?;
    let hub_org = org_at(&store, &cfg, "hub", &hub_url, now).await?;
    let spoke = Api { http: client()?, base: spoke_url.clone(), token: create_token(&store, &spoke_org, "demo", None, now).await? };
    let hub = Api { http: client()?, base: hub_url.clone(), token: create_token(&store, &hub_org, "demo", None, now).await? };
    // The spoke's connector gets its own hub token, as the seeds create one for it.
    let connector_token = create_token(&store, &hub_org, "Org2Org provisioning", None, now).await?;
    store.close().await;

    cfg.listen = vec![addrs.spoke.clone(), addrs.hub.clone()];
    // The spoke provisions into the hub on a loopback address, which the egress rule
    // refuses unless allowed: the demo allows the hub's own address.
    let hub_host = addrs.hub.rsplit_once(':').map_or(addrs.hub.as_str(), |(h, _)| h);
    cfg.egress.allow.push(hub_host.trim_start_matches('[').trim_end_matches(']').to_string());
    cfg.egress_policy()?;
    cfg.data_dir = Some(addrs.data_dir.clone());
    cfg.database_url = None;
    let mut server = tokio::spawn(crate::serve::serve(cfg));
    wait_until_up(&spoke, &mut server).await?;

    let sp = crate::demo_sp::DemoSp::new(sp_url.clone());
    let listener =
        tokio::net::TcpListener::bind(&addrs.sp).await.map_err(|e| CliError::Usage(format!("cannot listen on {}: {e}", addrs.sp)))?;
    let sp_router = crate::demo_sp::router(sp.clone());
    tokio::spawn(async move { axum::serve(listener, sp_router).await });

    let wiring = match find_dropbox(&hub).await? {
        Some(dbx) => Wiring { dbx, bookmark_of_spoke: find_bookmark(&spoke).await? },
        None => wire(&spoke, &hub, &sp, &connector_token).await?,
    };
    let keys = hub.get(&format!("/api/v1/apps/{}/credentials/keys", id(&wiring.dbx))).await?;
    let metadata = hub.text(&format!("/api/v1/apps/{}/sso/saml/metadata", id(&wiring.dbx))).await?;
    let issuer = metadata.split("entityID=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or_default().to_string();
    let cert = idhub_saml::Certificate::from_base64_der(keys[0]["x5c"][0].as_str().unwrap_or_default())
        .map_err(|e| CliError::Usage(format!("demo setup: the hub app's certificate: {e}")))?;
    sp.trust(issuer, cert);

    println!("idhub demo: the seeds' Org2Org setup (database {}/idhub.db, SQLite)", addrs.data_dir.display());
    println!();
    println!("  Spoke org (Org1, the IdP)  {spoke_url}");
    println!("    admin console  {spoke_url}/admin    admin@spoke.example / {ADMIN_PASSWORD}");
    println!("    API token      {}", spoke.token);
    println!("  Hub org (Org2, hosts the apps)  {hub_url}");
    println!("    admin console  {hub_url}/admin    admin@hub.example / {ADMIN_PASSWORD}");
    println!("    API token      {}", hub.token);
    println!("  Dropbox Business stand-in (a SAML SP)  {sp_url}/");
    println!();
    println!("Click through as Sarah (in Contractors at the spoke):");
    println!("  1. sign in at {spoke_url}/login as {SARAH} / {SARAH_PASSWORD}");
    println!(
        "  2. the \"Hub\" tile (Org2Org) signs you in to the hub: {spoke_url}/app/okta_org2org/{}/sso/saml",
        id(&wiring_o2o(&spoke).await?)
    );
    println!("  3. on the hub dashboard, the \"Dropbox Business (demo)\" tile signs you in to the SP");
    if let Some(b) = &wiring.bookmark_of_spoke {
        println!("  or the spoke's bookmark \"{}\" goes straight to the SP through the hub:", b["label"].as_str().unwrap_or_default());
        println!("     {}", b["settings"]["app"]["url"].as_str().unwrap_or_default());
    }
    println!("System Logs: {spoke_url}/admin/reports/system-log and {hub_url}/admin/reports/system-log");
    println!("Press Ctrl-C to stop.");
    match server.await {
        Ok(r) => r,
        Err(e) => Err(CliError::Usage(format!("server task failed: {e}"))),
    }
}

fn client() -> Result<reqwest::Client, CliError> {
    reqwest::Client::builder().timeout(Duration::from_secs(30)).build().map_err(|e| CliError::Usage(format!("http client: {e}")))
}

async fn wait_until_up(api: &Api, server: &mut tokio::task::JoinHandle<Result<(), CliError>>) -> Result<(), CliError> {
    for _ in 0..300 {
        if server.is_finished() {
            return match server.await {
                Ok(Ok(())) => Err(CliError::Usage("the server stopped".into())),
                Ok(Err(e)) => Err(e),
                Err(e) => Err(CliError::Usage(format!("server task failed: {e}"))),
            };
        }
        if api.get("/api/v1/org").await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(CliError::Usage("the server did not come up within 30 s".into()))
}

struct Wiring {
    dbx: Value,
    bookmark_of_spoke: Option<Value>,
}

async fn find_dropbox(hub: &Api) -> Result<Option<Value>, CliError> {
    let apps = hub.get("/api/v1/apps?q=Dropbox").await?;
    Ok(apps.as_array().and_then(|a| a.first().cloned()))
}

async fn find_bookmark(spoke: &Api) -> Result<Option<Value>, CliError> {
    let apps = spoke.get("/api/v1/apps?filter=name%20eq%20%22bookmark%22").await?;
    Ok(apps.as_array().and_then(|a| a.first().cloned()))
}

async fn wiring_o2o(spoke: &Api) -> Result<Value, CliError> {
    let apps = spoke.get("/api/v1/apps?filter=name%20eq%20%22okta_org2org%22").await?;
    Ok(apps.as_array().and_then(|a| a.first().cloned()).unwrap_or(Value::Null))
}

async fn wire(spoke: &Api, hub: &Api, sp: &crate::demo_sp::DemoSp, connector_token: &str) -> Result<Wiring, CliError> {
    // Hub: the Dropbox stand-in, assigned to "Partner users".
    let partners = hub
        .post("/api/v1/groups", json!({ "profile": { "name": "Partner users", "description": "Users who come from the spoke org" } }))
        .await?;
    let dbx = hub
        .post(
            "/api/v1/apps",
            json!({
                "signOnMode": "SAML_2_0",
                "label": "Dropbox Business (demo)",
                "settings": { "signOn": {
                    "ssoAcsUrl": sp.acs_url(), "audience": sp.entity_id(),
                    "subjectNameIdTemplate": "${user.email}",
                    "subjectNameIdFormat": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
                    "attributeStatements": [
                        { "type": "EXPRESSION", "name": "firstName", "namespace": "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified", "values": ["user.firstName"] },
                        { "type": "EXPRESSION", "name": "lastName", "namespace": "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified", "values": ["user.lastName"] }
                    ]
                } }
            }),
        )
        .await?;
    hub.put(&format!("/api/v1/apps/{}/groups/{}", id(&dbx), id(&partners)), json!({})).await?;

    // Spoke: Sarah in Contractors; the Org2Org app.
    let contractors = spoke.post("/api/v1/groups", json!({ "profile": { "name": "Contractors" } })).await?;
    let sarah = spoke
        .post(
            "/api/v1/users?activate=true",
            json!({ "profile": { "login": SARAH, "email": SARAH, "firstName": "Sarah", "lastName": "Lee" }, "credentials": { "password": { "value": SARAH_PASSWORD } } }),
        )
        .await?;
    spoke.put(&format!("/api/v1/groups/{}/users/{}", id(&contractors), id(&sarah)), json!({})).await?;
    let o2o = spoke
        .post("/api/v1/apps", json!({ "name": "okta_org2org", "label": "Hub", "settings": { "app": { "baseUrl": hub.base } } }))
        .await?;
    let o2o_id = id(&o2o);
    let keys = spoke.get(&format!("/api/v1/apps/{o2o_id}/credentials/keys")).await?;
    let spoke_md = spoke.text(&format!("/api/v1/apps/{o2o_id}/sso/saml/metadata")).await?;
    let spoke_issuer = spoke_md.split("entityID=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or_default().to_string();

    // Hub: the SAML IdP trusting the spoke.
    let key = hub.post("/api/v1/idps/credentials/keys", json!({ "x5c": [keys[0]["x5c"][0]] })).await?;
    let idp = hub
        .post(
            "/api/v1/idps",
            json!({
                "type": "SAML2", "name": "Spoke org (Org1)",
                "protocol": {
                    "type": "SAML2",
                    "endpoints": { "sso": { "url": format!("{}/app/okta_org2org/{o2o_id}/sso/saml", spoke.base), "binding": "HTTP-POST" }, "acs": { "binding": "HTTP-POST", "type": "INSTANCE" } },
                    "algorithms": { "request": { "signature": { "algorithm": "SHA-256", "scope": "REQUEST" } }, "response": { "signature": { "algorithm": "SHA-256", "scope": "ANY" } } },
                    "settings": { "nameFormat": "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified", "honorPersistentNameId": true },
                    "credentials": { "trust": { "issuer": spoke_issuer, "kid": key["kid"] } }
                },
                "policy": {
                    "provisioning": { "action": "AUTO", "profileMaster": true,
                                      "groups": { "action": "ASSIGN", "assignments": [id(&partners)] },
                                      "conditions": { "deprovisioned": { "action": "NONE" }, "suspended": { "action": "NONE" } } },
                    "accountLink": { "action": "AUTO", "filter": null },
                    "subject": { "userNameTemplate": { "template": "idpuser.subjectNameId" }, "matchType": "USERNAME" },
                    "maxClockSkew": 120000
                }
            }),
        )
        .await?;

    // Spoke: the hub's ACS and audience, provisioning, the assignment, the bookmark.
    let mut body = o2o.clone();
    body["settings"]["app"]["acsUrl"] = idp["_links"]["acs"]["href"].clone();
    body["settings"]["app"]["audRestriction"] = idp["protocol"]["credentials"]["trust"]["audience"].clone();
    spoke.put(&format!("/api/v1/apps/{o2o_id}"), body).await?;
    spoke
        .post(
            &format!("/api/v1/apps/{o2o_id}/connections/default?activate=true"),
            json!({ "baseUrl": hub.base, "profile": { "authScheme": "TOKEN", "token": connector_token } }),
        )
        .await?;
    spoke
        .put(
            &format!("/api/v1/apps/{o2o_id}/features/USER_PROVISIONING"),
            json!({ "capabilities": { "create": { "lifecycleCreate": { "status": "ENABLED" } }, "update": { "profile": { "status": "ENABLED" }, "lifecycleDeactivate": { "status": "ENABLED" } } } }),
        )
        .await?;
    spoke.put(&format!("/api/v1/apps/{o2o_id}/groups/{}", id(&contractors)), json!({ "profile": { "initialStatus": "active" } })).await?;
    let dbx_link = dbx["_links"]["appLinks"][0]["href"].as_str().unwrap_or_default().to_string();
    let enc = |v: &str| {
        v.bytes()
            .map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
            .collect::<String>()
    };
    let bookmark = spoke
        .post(
            "/api/v1/apps",
            json!({
                "name": "bookmark", "label": "Dropbox Business (via hub)",
                "settings": { "app": { "url": format!("{}/app/okta_org2org/{o2o_id}/sso/saml?RelayState={}", spoke.base, enc(&dbx_link)) } }
            }),
        )
        .await?;
    spoke.put(&format!("/api/v1/apps/{}/groups/{}", id(&bookmark), id(&contractors)), json!({})).await?;
    Ok(Wiring { dbx, bookmark_of_spoke: Some(bookmark) })
}
