//! Row decoding shared by the store modules.

use crate::{get, Result, StoreError};
use idhub_domain::group::{Group, GroupType};
use idhub_domain::ids::{GroupId, OrgId, UserId};
use idhub_domain::lifecycle::UserStatus;
use idhub_domain::user::{AdminRole, ProviderType, User};
use sqlx::any::AnyRow;

pub(crate) const USER_COLS: &str = "seq, id, org_id, status, transitioning, profile, type_id, provider_type, provider_name, password_hash, recovery_question, admin_role, failed_logins, created, activated, status_changed, last_login, last_updated, password_changed, version";

pub(crate) const GROUP_COLS: &str = "seq, id, org_id, kind, name, description, created, last_updated, last_membership_updated";

/// A user with its storage bookkeeping.
#[derive(Debug, Clone)]
pub struct StoredUser {
    pub user: User,
    pub seq: i64,
    pub version: i64,
}

pub(crate) fn user_from_row(row: &AnyRow) -> Result<StoredUser> {
    let status: String = get(row, "status")?;
    let transitioning: Option<String> = get(row, "transitioning")?;
    let profile: String = get(row, "profile")?;
    let provider: String = get(row, "provider_type")?;
    let role: Option<String> = get(row, "admin_role")?;
    let profile = match serde_json::from_str(&profile) {
        Ok(serde_json::Value::Object(m)) => m,
        _ => return Err(StoreError::Corrupt("profile is not a JSON object".into())),
    };
    let user = User {
        id: UserId(get(row, "id")?),
        org_id: OrgId(get(row, "org_id")?),
        status: UserStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("status {status}")))?,
        transitioning_to: transitioning.as_deref().and_then(UserStatus::parse),
        profile,
        type_id: get(row, "type_id")?,
        provider: ProviderType::parse(&provider).ok_or_else(|| StoreError::Corrupt(format!("provider {provider}")))?,
        provider_name: get(row, "provider_name")?,
        password_hash: get(row, "password_hash")?,
        recovery_question: get(row, "recovery_question")?,
        created: get(row, "created")?,
        activated: get(row, "activated")?,
        status_changed: get(row, "status_changed")?,
        last_login: get(row, "last_login")?,
        last_updated: get(row, "last_updated")?,
        password_changed: get(row, "password_changed")?,
        admin_role: role.as_deref().and_then(AdminRole::parse),
        failed_logins: get(row, "failed_logins")?,
    };
    Ok(StoredUser { user, seq: get(row, "seq")?, version: get(row, "version")? })
}

/// A group with its storage sequence number.
#[derive(Debug, Clone)]
pub struct StoredGroup {
    pub group: Group,
    pub seq: i64,
}

pub(crate) fn group_from_row(row: &AnyRow) -> Result<StoredGroup> {
    let kind: String = get(row, "kind")?;
    let group = Group {
        id: GroupId(get(row, "id")?),
        org_id: OrgId(get(row, "org_id")?),
        kind: GroupType::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("group kind {kind}")))?,
        name: get(row, "name")?,
        description: get(row, "description")?,
        created: get(row, "created")?,
        last_updated: get(row, "last_updated")?,
        last_membership_updated: get(row, "last_membership_updated")?,
    };
    Ok(StoredGroup { group, seq: get(row, "seq")? })
}
