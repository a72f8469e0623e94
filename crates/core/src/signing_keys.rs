//! Signing keys: each SAML app's Response-signing keys and each IdP's SP key (signs
//! AuthnRequests), generated on first use, their private keys sealed at rest, parsed once
//! and kept in memory by kid.

use crate::{Core, CoreError};
use idhub_domain::event::{NewEvent, Party};
use idhub_saml::keys::{generate, SigningKey};
use idhub_store::apps::{App, AppKey};
use idhub_store::idps::Idp;
use idhub_store::orgs::Org;

/// Parsed keys by kid, and each app's active kid (read briefly from memory).
#[derive(Debug, Default)]
pub struct KeyCache {
    pub parsed: std::sync::Mutex<std::collections::HashMap<String, SigningKey>>,
    pub active: ActiveKeys,
}

pub fn purpose(org: &Org, kid: &str) -> String {
    format!("saml-signing-key:{}:{kid}", org.id)
}

pub async fn new_key(
    core: &Core,
    org: &Org,
    app: &App,
    actor: Party,
    client: idhub_domain::event::ClientInfo,
) -> Result<AppKey, CoreError> {
    let key = generate_sealed_key(core, &app.id, format!("{} {}", org.name, app.label), 365 * 2, |kid| purpose(org, kid)).await?;
    let now = key.created;
    let ev = NewEvent::success(
        "application.credentials.generate",
        "Generate app signing key",
        actor,
        vec![Party::new(app.id.clone(), "AppInstance", app.name.clone(), app.label.clone())],
        client,
    );
    core.store.add_active_app_key(&org.id, &key, &[ev]).await?;
    core.keys.active.set(org, app, now, None);
    Ok(key)
}

/// How long a node signs with the active key it last read for an app without reading it
/// again: a rotation on this node takes effect at once, one on another node within this
/// time (the previous key stays valid meanwhile: rotation keeps it listed).
pub const ACTIVE_KEY_TTL_MS: i64 = 5_000;

/// The active key id of each SAML app (by org and app), with when it was read.
#[derive(Debug, Default)]
pub struct ActiveKeys(std::sync::Mutex<std::collections::HashMap<(String, String), (i64, String)>>);

impl ActiveKeys {
    pub fn get(&self, org: &Org, app: &App, now: i64) -> Option<String> {
        let map = self.0.lock().ok()?;
        map.get(&(org.id.0.clone(), app.id.clone()))
            .filter(|(at, _)| now - *at < ACTIVE_KEY_TTL_MS && *at <= now)
            .map(|(_, kid)| kid.clone())
    }

    pub fn set(&self, org: &Org, app: &App, now: i64, kid: Option<&str>) {
        if let Ok(mut map) = self.0.lock() {
            match kid {
                Some(kid) => map.insert((org.id.0.clone(), app.id.clone()), (now, kid.to_string())),
                None => map.remove(&(org.id.0.clone(), app.id.clone())),
            };
        }
    }
}

/// The parsed key that signs the app's Responses now: from memory while the active key
/// id read last is fresh, otherwise the active key read (or generated) and parsed.
pub async fn active_signing_key(core: &Core, org: &Org, app: &App) -> Result<SigningKey, CoreError> {
    let now = core.now();
    if let Some(kid) = core.keys.active.get(org, app, now) {
        if let Some(k) = core.keys.parsed.lock().ok().and_then(|m| m.get(&kid).cloned()) {
            return Ok(k);
        }
    }
    let key = active_key(core, org, app).await?;
    let signing = signing_key(core, org, &key)?;
    core.keys.active.set(org, app, now, Some(&key.kid));
    Ok(signing)
}

/// The app's active key, generated on first use.
pub async fn active_key(core: &Core, org: &Org, app: &App) -> Result<AppKey, CoreError> {
    if let Some(k) = core.store.app_keys(&org.id, &app.id).await?.into_iter().find(|k| k.status == "ACTIVE") {
        return Ok(k);
    }
    new_key(core, org, app, Party::system(), Default::default()).await
}

pub fn signing_key(core: &Core, org: &Org, key: &AppKey) -> Result<SigningKey, CoreError> {
    open_signing_key(core, key, &purpose(org, &key.kid))
}

/// A new RSA key and certificate for `owner` (an app, or an IdP's SP side), ACTIVE, its
/// private key sealed for `purpose(kid)`; not stored yet.
pub async fn generate_sealed_key(
    core: &Core,
    owner: &str,
    label: String,
    valid_days: u32,
    purpose: impl Fn(&str) -> String,
) -> Result<AppKey, CoreError> {
    let (key_pem, cert_pem) = tokio::task::spawn_blocking(move || generate(&label, valid_days))
        .await
        .map_err(|e| CoreError::internal(e.to_string()))?
        .map_err(|e| CoreError::internal(e.to_string()))?;
    let kid = idhub_domain::ids::random_base62(43);
    let now = core.now();
    Ok(AppKey {
        kid: kid.clone(),
        app_id: owner.to_string(),
        key_sealed: core.sealing_key.seal(&purpose(&kid), key_pem.as_bytes()).map_err(|e| CoreError::internal(e.to_string()))?,
        cert_pem,
        status: "ACTIVE".into(),
        created: now,
        expires: now + i64::from(valid_days) * 24 * 3600 * 1000,
    })
}

/// A stored key parsed for signing (opened with `purpose`), kept in memory by kid.
pub fn open_signing_key(core: &Core, key: &AppKey, purpose: &str) -> Result<SigningKey, CoreError> {
    if let Some(k) = core.keys.parsed.lock().ok().and_then(|m| m.get(&key.kid).cloned()) {
        return Ok(k);
    }
    let pem = core.sealing_key.open(purpose, &key.key_sealed).map_err(|e| CoreError::internal(e.to_string()))?;
    let k = SigningKey::from_pem(&String::from_utf8_lossy(&pem), &key.cert_pem).map_err(|e| CoreError::internal(e.to_string()))?;
    if let Ok(mut m) = core.keys.parsed.lock() {
        m.insert(key.kid.clone(), k.clone());
    }
    Ok(k)
}

fn sealing_purpose(org: &Org, kid: &str) -> String {
    format!("idp-sp-signing-key:{}:{kid}", org.id)
}

/// This org's SP signing key for an IdP (signs AuthnRequests; its certificate is in the
/// SP metadata), generated on first use and sealed at rest.
pub async fn sp_signing_key(core: &Core, org: &Org, idp: &Idp) -> Result<(AppKey, SigningKey), CoreError> {
    let key = match core.store.app_keys(&org.id, &idp.id).await?.into_iter().find(|k| k.status == "ACTIVE") {
        Some(k) => k,
        None => {
            let label = format!("{} SP for {}", org.name, idp.name);
            let key = generate_sealed_key(core, &idp.id, label, 365 * 5, |kid| sealing_purpose(org, kid)).await?;
            let ev = idhub_domain::event::NewEvent::success(
                "system.idp.key.generate",
                "Generate SP signing key for identity provider",
                Party::system(),
                vec![Party::new(idp.id.clone(), "IdentityProvider", idp.name.clone(), idp.name.clone())],
                Default::default(),
            );
            core.store.add_active_app_key(&org.id, &key, &[ev]).await?;
            key
        }
    };
    let signing = open_signing_key(core, &key, &sealing_purpose(org, &key.kid))?;
    Ok((key, signing))
}
