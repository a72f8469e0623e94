//! The org's own settings (sign-on policy, self-service, token rotation, …): one key of
//! the org's settings replaced with its System Log event, and the sign-on policy checked
//! the same way wherever an administrator changes it (the API or the console).

use crate::{Actor, Core, CoreError};
use idhub_domain::event::{NewEvent, Party};
use idhub_domain::policy::SignOnPolicy;
use idhub_store::orgs::Org;
use idhub_store::Optional;
use serde_json::{json, Value};

/// One top-level key of the org's settings, with the event that records its change.
#[derive(Debug, Clone)]
pub struct OrgSetting {
    pub key: &'static str,
    pub value: Value,
    /// Event type and message.
    pub event: (&'static str, &'static str),
    pub target: Party,
}

/// Replace one key of the org's settings. Callers that cache orgs drop their copy after.
pub async fn save(core: &Core, org: &Org, actor: &Actor, change: OrgSetting) -> Result<(), CoreError> {
    let mut settings = org.settings.clone();
    if !settings.is_object() {
        settings = json!({});
    }
    settings[change.key] = change.value;
    let ev = NewEvent::success(change.event.0, change.event.1, actor.party.clone(), vec![change.target], actor.client.clone());
    Ok(core.store.update_org_settings(&org.id, &settings, core.now(), &[ev]).await?)
}

/// Replace the org's sign-on policy: its values in range, and the MFA group (when the
/// policy names one) a group of the org.
pub async fn save_sign_on_policy(core: &Core, org: &Org, actor: &Actor, policy: &SignOnPolicy) -> Result<(), CoreError> {
    policy.validate()?;
    if let Some(gid) = &policy.mfa_group_id {
        if core.store.get_group(&org.id, gid).await.optional()?.is_none() {
            return Err(CoreError::invalid("mfaGroupId", format!("group {gid} does not exist")));
        }
    }
    let value = serde_json::to_value(policy).map_err(|e| CoreError::internal(e.to_string()))?;
    let change = OrgSetting {
        key: "signOn",
        value,
        event: ("policy.lifecycle.update", "Update sign-on policy"),
        target: Party::new("sign-on", "Policy", "sign-on", "Sign-on policy"),
    };
    save(core, org, actor, change).await
}
