//! The IdP changes both front ends make (`/api/v1/idps` and the admin console): create,
//! update, activate/deactivate, delete, and registering a trusted signing certificate.
//! Every body goes through `SamlIdp::from_okta`, so the API and the console validate
//! identically; nothing is stored (not even a certificate) unless the whole body is valid.

use crate::error::CoreError;
use crate::signing_keys::sp_signing_key;
use crate::Core;
use crate::NotAllowed;
use idhub_domain::event::{ClientInfo, NewEvent, Party};
use idhub_domain::idp::SamlIdp;
use idhub_domain::ids::new_id;
use idhub_saml::keys::Certificate;
use idhub_saml::metadata::parse_idp_metadata;
use idhub_store::idps::{Idp, IdpKey};
use idhub_store::orgs::Org;
use idhub_store::Optional;
use idhub_store::StoreError;
use serde_json::{json, Map, Value};

/// Who asks for a change: the System Log actor and client.
pub struct Caller<'a> {
    pub org: &'a Org,
    pub actor: Party,
    pub client: &'a ClientInfo,
}

/// The System Log target for an IdP.
pub fn party(idp: &Idp) -> Party {
    Party::new(idp.id.clone(), "IdentityProvider", idp.name.clone(), idp.name.clone())
}

/// Fill an IdP body's fields from IdP metadata XML given as `idhub.metadataXml` (issuer,
/// SSO URL and binding); the metadata's signing certificate is returned to be registered
/// once the whole body is valid.
fn apply_metadata(body: &mut Value) -> Result<Option<Certificate>, CoreError> {
    let Some(xml) = body.pointer("/idhub/metadataXml").and_then(Value::as_str).filter(|x| !x.trim().is_empty()).map(str::to_string) else {
        if let Some(o) = body.get_mut("idhub").and_then(Value::as_object_mut) {
            o.remove("metadataXml");
        }
        return Ok(None);
    };
    let md = parse_idp_metadata(&xml).map_err(|e| CoreError::validation("idhub.metadataXml", vec![format!("idhub.metadataXml: {e}")]))?;
    body["protocol"]["credentials"]["trust"]["issuer"] = json!(md.entity_id);
    let (url, binding) = match (&md.sso_post_url, &md.sso_redirect_url) {
        (Some(u), _) => (u.clone(), "HTTP-POST"),
        (None, Some(u)) => (u.clone(), "HTTP-Redirect"),
        (None, None) => {
            return Err(CoreError::validation("idhub.metadataXml", vec!["idhub.metadataXml: the IdP offers no SSO URL".into()]))
        }
    };
    body["protocol"]["endpoints"]["sso"]["url"] = json!(url);
    body["protocol"]["endpoints"]["sso"]["binding"] = json!(binding);
    if let Some(o) = body.get_mut("idhub").and_then(Value::as_object_mut) {
        o.remove("metadataXml");
    }
    Ok(md.signing_certificates.first().cloned())
}

/// The trusted key must exist in the org.
async fn check_trust_kid(core: &Core, org: &Org, settings: &SamlIdp) -> Result<(), CoreError> {
    if let Some(kid) = &settings.trust_kid {
        match core.store.get_idp_key(&org.id, kid).await {
            Ok(_) => {}
            Err(StoreError::NotFound) => {
                return Err(CoreError::validation(
                    "protocol.credentials.trust.kid",
                    vec![format!("protocol.credentials.trust.kid: no IdP key with kid {kid}")],
                ))
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// A certificate the IdP signs with, as a trusted key; refused when it has expired.
fn check_certificate(core: &Core, cert: &Certificate, field: &str) -> Result<(), CoreError> {
    if cert.not_after().timestamp_millis() <= core.now() {
        return Err(CoreError::validation(field, vec![format!("{field}: the certificate has expired")]));
    }
    Ok(())
}

/// Validate a body (with metadata applied) and register the new certificate if any: the
/// settings to store. `cert` is a certificate given besides the body (the console's upload).
async fn settings_for(
    core: &Core,
    caller: &Caller<'_>,
    body: &mut Value,
    cert: Option<Certificate>,
    audience: &str,
) -> Result<SamlIdp, CoreError> {
    if !body.is_object() {
        return Err(CoreError::bad_body("a JSON object describing the identity provider is required"));
    }
    let from_metadata = apply_metadata(body)?;
    let cert = cert.or(from_metadata);
    let mut settings = SamlIdp::from_okta(body, audience)?;
    check_mapping_targets(core, caller.org, &settings).await?;
    match &cert {
        Some(c) => check_certificate(core, c, "protocol.credentials.trust.kid")?,
        None => check_trust_kid(core, caller.org, &settings).await?,
    }
    if let Some(c) = cert {
        let key = store_key(core, caller, &c).await?;
        settings.trust_kid = Some(key.kid);
    }
    Ok(settings)
}

/// Each mapped attribute must be one of the org's user profile (base or custom); the
/// username (`login`) comes from the IdP username, never from the mapping.
async fn check_mapping_targets(core: &Core, org: &Org, settings: &SamlIdp) -> Result<(), CoreError> {
    let schema = core.store.user_schema(&org.id).await?;
    let causes: Vec<String> = settings
        .profile_mapping
        .iter()
        .filter_map(|(attr, _)| match attr.as_str() {
            "login" => Some("idhub.profileMapping.login: the username comes from the IdP username, not from the mapping".to_string()),
            a if schema.attribute(a).is_none() => Some(format!("idhub.profileMapping.{a}: {a} is not an attribute of the user profile")),
            _ => None,
        })
        .collect();
    if causes.is_empty() {
        Ok(())
    } else {
        Err(CoreError::validation("idhub.profileMapping", causes))
    }
}

fn name_conflict(e: StoreError) -> CoreError {
    match e {
        StoreError::Conflict(_) => CoreError::validation("name", vec!["name: An identity provider with this name already exists".into()]),
        e => e.into(),
    }
}

/// Create an IdP from an Okta body (`idhub.metadataXml` may fill the SAML fields; `cert`
/// is a signing certificate given besides the body).
pub async fn create(
    core: &Core,
    caller: &Caller<'_>,
    mut body: Value,
    cert: Option<Certificate>,
    activate: bool,
) -> Result<Idp, CoreError> {
    let settings = settings_for(core, caller, &mut body, cert, &audience_for_new(caller.org)).await?;
    let now = core.now();
    let idp = Idp {
        seq: 0,
        id: new_id("0oa"),
        org_id: caller.org.id.clone(),
        name: settings.name.clone(),
        status: if activate { "ACTIVE".into() } else { "INACTIVE".into() },
        config: settings.to_okta(),
        created: now,
        last_updated: now,
    };
    let ev = NewEvent::success(
        "system.idp.lifecycle.create",
        "Create identity provider",
        caller.actor.clone(),
        vec![party(&idp)],
        caller.client.clone(),
    );
    let idp = core.store.create_idp(&idp, &[ev]).await.map_err(name_conflict)?;
    // The SP signing key (for signed AuthnRequests and the SP metadata) exists from the start.
    sp_signing_key(core, caller.org, &idp).await?;
    Ok(idp)
}

/// Replace an IdP's settings (the audience stays unless the body names one). A body
/// without the `idhub` block (an Okta client knows nothing of it) keeps the IdP's
/// current one: its profile attributes and JIT mapping are not reset by a plain PUT.
pub async fn update(core: &Core, caller: &Caller<'_>, id: &str, mut body: Value, cert: Option<Certificate>) -> Result<Idp, CoreError> {
    let mut idp = load_idp(core, caller.org, id).await?;
    let current = settings_of(&idp)?;
    if let (Some(o), Some(kept)) = (body.as_object_mut(), idp.config.get("idhub")) {
        o.entry("idhub").or_insert_with(|| kept.clone());
    }
    let settings = settings_for(core, caller, &mut body, cert, &current.audience).await?;
    idp.name = settings.name.clone();
    idp.config = settings.to_okta();
    idp.last_updated = core.now();
    let ev = NewEvent::success(
        "system.idp.lifecycle.update",
        "Update identity provider",
        caller.actor.clone(),
        vec![party(&idp)],
        caller.client.clone(),
    );
    core.store.update_idp(&idp, &[ev]).await.map_err(name_conflict)?;
    Ok(idp)
}

/// Replace an IdP's user profile attributes and its JIT profile mapping (the console's
/// "Edit profile and mappings"); validated and stored like any other update.
pub async fn set_profile_mapping(
    core: &Core,
    caller: &Caller<'_>,
    id: &str,
    attributes: &[String],
    mapping: Map<String, Value>,
) -> Result<Idp, CoreError> {
    let idp = load_idp(core, caller.org, id).await?;
    let mut body = idp.config.clone();
    if !body["idhub"].is_object() {
        body["idhub"] = json!({});
    }
    body["idhub"]["profileAttributes"] = json!(attributes);
    body["idhub"]["profileMapping"] = Value::Object(mapping);
    update(core, caller, id, body, None).await
}

/// Activate or deactivate (`op` is `activate` or `deactivate`).
pub async fn set_status(core: &Core, caller: &Caller<'_>, id: &str, op: &str) -> Result<Idp, CoreError> {
    let mut idp = load_idp(core, caller.org, id).await?;
    let (status, event, message) = match op {
        "activate" => ("ACTIVE", "system.idp.lifecycle.activate", "Activate identity provider"),
        "deactivate" => ("INACTIVE", "system.idp.lifecycle.deactivate", "Deactivate identity provider"),
        _ => return Err(CoreError::not_found(format!("/api/v1/idps/{id}/lifecycle/{op} (POST)"))),
    };
    if idp.status != status {
        idp.status = status.into();
        idp.last_updated = core.now();
        let ev = NewEvent::success(event, message, caller.actor.clone(), vec![party(&idp)], caller.client.clone());
        core.store.update_idp(&idp, &[ev]).await?;
    }
    Ok(idp)
}

/// Delete an IdP (Okta: only an inactive one).
pub async fn delete(core: &Core, caller: &Caller<'_>, id: &str) -> Result<(), CoreError> {
    let idp = load_idp(core, caller.org, id).await?;
    if idp.status == "ACTIVE" {
        return Err(CoreError::not_allowed(
            NotAllowed::DeleteActive,
            "Delete identity provider forbidden.",
            vec!["Deactivate the identity provider before deleting it.".into()],
        ));
    }
    // A routing rule that sends sign-ins to the IdP would be left pointing at nothing.
    let rules = core.store.list_routing_rules(&caller.org.id).await?;
    if let Some(r) = rules.iter().find(|r| r.rule.pointer("/actions/idp/providers/0/id").and_then(Value::as_str) == Some(idp.id.as_str())) {
        return Err(CoreError::not_allowed(
            NotAllowed::DeleteActive,
            "Delete identity provider forbidden.",
            vec![format!("The routing rule {} uses this identity provider: change or delete the rule first.", r.name)],
        ));
    }
    let ev = NewEvent::success(
        "system.idp.lifecycle.delete",
        "Delete identity provider",
        caller.actor.clone(),
        vec![party(&idp)],
        caller.client.clone(),
    );
    core.store.delete_idp(&caller.org.id, &idp.id, core.now(), &[ev]).await?;
    Ok(())
}

/// Register a trusted IdP signing certificate (`POST /api/v1/idps/credentials/keys`); the
/// same certificate registered twice is the same key.
pub async fn store_key(core: &Core, caller: &Caller<'_>, cert: &Certificate) -> Result<IdpKey, CoreError> {
    check_certificate(core, cert, "x5c")?;
    let der = cert.der_base64();
    if let Some(k) = core.store.list_idp_keys(&caller.org.id).await?.into_iter().find(|k| k.cert_der == der) {
        return Ok(k);
    }
    let now = core.now();
    let key = IdpKey {
        kid: uuid_like(),
        org_id: caller.org.id.clone(),
        cert_der: der,
        created: now,
        expires: cert.not_after().timestamp_millis(),
    };
    let ev = NewEvent::success(
        "system.idp.key.create",
        "Add identity provider signing key",
        caller.actor.clone(),
        vec![Party::new(key.kid.clone(), "Key", key.kid.clone(), cert.subject_common_name().unwrap_or_default())],
        caller.client.clone(),
    );
    core.store.create_idp_key(&key, &[ev]).await?;
    Ok(key)
}

fn uuid_like() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    let r: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &r[0..8], &r[8..12], &r[12..16], &r[16..20], &r[20..32])
}

/// An IdP of the org, or Okta's 404.
pub async fn load_idp(core: &Core, org: &Org, id: &str) -> Result<Idp, CoreError> {
    core.store.get_idp(&org.id, id).await.optional()?.ok_or_else(|| CoreError::not_found(format!("{id} (IdentityProvider)")))
}

/// The typed settings of a stored IdP.
pub fn settings_of(idp: &Idp) -> Result<SamlIdp, CoreError> {
    SamlIdp::from_okta(&idp.config, "").map_err(|e| CoreError::internal(format!("stored IdP {} does not parse: {e}", idp.id)))
}

/// A new SP entity id (the audience the IdP must put in its assertions).
pub fn audience_for_new(org: &Org) -> String {
    format!("{}/saml2/service-provider/sp{}", org.base_url, idhub_domain::ids::random_base62(18))
}

/// Where this IdP's Responses are posted.
pub fn acs_url(org: &Org, idp: &Idp, settings: &SamlIdp) -> String {
    if settings.acs_instance {
        format!("{}/sso/saml2/{}", org.base_url, idp.id)
    } else {
        format!("{}/sso/saml2", org.base_url)
    }
}
