//! Users as Okta models them: profile, status, credentials, provider.

use crate::ids::{OrgId, UserId};
use crate::lifecycle::{Credentials, UserStatus};
use crate::time::Millis;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Where a user's credentials live (`credentials.provider.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProviderType {
    Okta,
    ActiveDirectory,
    Ldap,
    Federation,
    Social,
    Import,
}

impl ProviderType {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderType::Okta => "OKTA",
            ProviderType::ActiveDirectory => "ACTIVE_DIRECTORY",
            ProviderType::Ldap => "LDAP",
            ProviderType::Federation => "FEDERATION",
            ProviderType::Social => "SOCIAL",
            ProviderType::Import => "IMPORT",
        }
    }
    /// Parse the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(Value::String(s.to_string())).ok()
    }
    /// Users of this provider authenticate somewhere else, not with a password here.
    pub fn is_federated(self) -> bool {
        matches!(self, ProviderType::Federation | ProviderType::Social)
    }
}

/// An administrator role held by a user (or granted to an API token). The first three are
/// org-wide; the others are Okta's scoped roles, limited to the groups or apps the role
/// targets (all of them while it targets none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AdminRole {
    SuperAdmin,
    OrgAdmin,
    ReadOnlyAdmin,
    /// Okta's Group Administrator: manages the non-administrator members of its target groups.
    UserAdmin,
    /// Resets passwords and factors and unlocks the non-administrator members of its target groups.
    HelpDeskAdmin,
    /// Manages its target apps (their settings, assignments, provisioning).
    AppAdmin,
}

/// What a scoped role's targets are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleTargetKind {
    Group,
    App,
}

impl RoleTargetKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            RoleTargetKind::Group => "GROUP",
            RoleTargetKind::App => "APP",
        }
    }
}

impl AdminRole {
    /// Every role, in the order the console lists them.
    pub const ALL: [AdminRole; 6] = [
        AdminRole::SuperAdmin,
        AdminRole::OrgAdmin,
        AdminRole::ReadOnlyAdmin,
        AdminRole::UserAdmin,
        AdminRole::HelpDeskAdmin,
        AdminRole::AppAdmin,
    ];

    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            AdminRole::SuperAdmin => "SUPER_ADMIN",
            AdminRole::OrgAdmin => "ORG_ADMIN",
            AdminRole::ReadOnlyAdmin => "READ_ONLY_ADMIN",
            AdminRole::UserAdmin => "USER_ADMIN",
            AdminRole::HelpDeskAdmin => "HELP_DESK_ADMIN",
            AdminRole::AppAdmin => "APP_ADMIN",
        }
    }
    /// Okta's label for the role.
    pub fn label(self) -> &'static str {
        match self {
            AdminRole::SuperAdmin => "Super Administrator",
            AdminRole::OrgAdmin => "Organizational Administrator",
            AdminRole::ReadOnlyAdmin => "Read Only Administrator",
            AdminRole::UserAdmin => "Group Administrator",
            AdminRole::HelpDeskAdmin => "Help Desk Administrator",
            AdminRole::AppAdmin => "Application Administrator",
        }
    }
    /// Parse the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(Value::String(s.to_string())).ok()
    }
    /// May this role change anything org-wide (not only what it targets)?
    pub fn can_write(self) -> bool {
        matches!(self, AdminRole::SuperAdmin | AdminRole::OrgAdmin)
    }
    /// The kind of target this role is limited by, if it is a scoped role.
    pub fn target_kind(self) -> Option<RoleTargetKind> {
        match self {
            AdminRole::UserAdmin | AdminRole::HelpDeskAdmin => Some(RoleTargetKind::Group),
            AdminRole::AppAdmin => Some(RoleTargetKind::App),
            AdminRole::SuperAdmin | AdminRole::OrgAdmin | AdminRole::ReadOnlyAdmin => None,
        }
    }
}

/// A user of one org, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: UserId,
    pub org_id: OrgId,
    pub status: UserStatus,
    pub transitioning_to: Option<UserStatus>,
    pub profile: Map<String, Value>,
    pub type_id: String,
    pub provider: ProviderType,
    pub provider_name: String,
    pub password_hash: Option<String>,
    pub recovery_question: Option<String>,
    pub created: Millis,
    pub activated: Option<Millis>,
    pub status_changed: Option<Millis>,
    pub last_login: Option<Millis>,
    pub last_updated: Millis,
    pub password_changed: Option<Millis>,
    pub admin_role: Option<AdminRole>,
    pub failed_logins: i64,
}

impl User {
    /// The login (`profile.login`).
    pub fn login(&self) -> &str {
        self.profile.get("login").and_then(Value::as_str).unwrap_or_default()
    }
    /// A profile string attribute.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.profile.get(name).and_then(Value::as_str)
    }
    /// First and last name, for display.
    pub fn display_name(&self) -> String {
        let first = self.attr("firstName").unwrap_or_default();
        let last = self.attr("lastName").unwrap_or_default();
        format!("{first} {last}").trim().to_string()
    }
    /// What the lifecycle state machine needs to know.
    pub fn credentials(&self) -> Credentials {
        Credentials { has_password: self.password_hash.is_some(), federated: self.provider.is_federated() }
    }
}

/// The key logins are unique by, per org: NFKC, lower-cased (then NFKC again, as
/// lower-casing may undo it), trimmed. So `josé` typed precomposed or as `e` + combining
/// accent, `Sarah` and `sarah`, and full-width `ｓａｒａｈ` are one login; `jose` and
/// `josé` are two. Changing this function changes stored keys: see the store's
/// `rekey_logins` migration step.
pub fn login_key(login: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let folded: String = login.trim().nfkc().collect::<String>().to_lowercase();
    folded.nfkc().collect::<String>().trim().to_string()
}

/// A login as stored: NFC (the composed spelling most systems send).
pub fn normalize_login(profile: &mut Map<String, Value>) {
    use unicode_normalization::UnicodeNormalization;
    if let Some(Value::String(login)) = profile.get_mut("login") {
        if !unicode_normalization::is_nfc(login) {
            *login = login.nfc().collect();
        }
    }
}

/// Lowercased text used for case-insensitive indexed lookups (`q`, search).
pub fn fold(s: Option<&str>) -> Option<String> {
    s.map(str::to_lowercase)
}

/// Merge a partial profile update into a profile: present keys replace, `null` removes.
pub fn merge_profile(base: &mut Map<String, Value>, update: &Map<String, Value>) {
    for (k, v) in update {
        if v.is_null() {
            base.remove(k);
        } else {
            base.insert(k.clone(), v.clone());
        }
    }
}

/// Drop `null` values (an unset optional attribute is simply absent).
pub fn strip_nulls(profile: &mut Map<String, Value>) {
    profile.retain(|_, v| !v.is_null());
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn login_keys_ignore_case_and_unicode_spelling() {
        assert_eq!(login_key("Sarah@Example.com"), login_key("sarah@example.COM"));
        assert_eq!(login_key(" sarah@example.com "), "sarah@example.com");
        // NFC and NFD spellings, upper and lower case
        assert_eq!(login_key("jos\u{e9}@x.com"), login_key("JOSE\u{301}@x.com"));
        // full-width letters and the ligature are compatibility spellings
        assert_eq!(login_key("\u{ff53}\u{ff41}\u{ff52}\u{ff41}\u{ff48}@example.com"), "sarah@example.com");
        assert_eq!(login_key("\u{fb01}n@x.com"), "fin@x.com");
        // accents are not folded away: two people
        assert_ne!(login_key("josé@x.com"), login_key("jose@x.com"));
        assert_ne!(login_key("a@x.com"), login_key("b@x.com"));
    }

    #[test]
    fn logins_are_stored_in_nfc() {
        let mut p = json!({"login": "jose\u{301}@x.com", "firstName": "e\u{301}"}).as_object().cloned().unwrap_or_default();
        normalize_login(&mut p);
        assert_eq!(p["login"], "jos\u{e9}@x.com");
        assert_eq!(p["firstName"], "e\u{301}", "only the login");
    }

    #[test]
    fn merge_replaces_and_removes() {
        let mut p = json!({"a": "1", "b": "2"}).as_object().cloned().unwrap_or_default();
        let u = json!({"a": "x", "b": null, "c": "3"}).as_object().cloned().unwrap_or_default();
        merge_profile(&mut p, &u);
        assert_eq!(Value::Object(p), json!({"a": "x", "c": "3"}));
    }

    #[test]
    fn roles() {
        assert_eq!(AdminRole::parse("SUPER_ADMIN"), Some(AdminRole::SuperAdmin));
        assert!(!AdminRole::ReadOnlyAdmin.can_write());
        assert_eq!(ProviderType::parse("FEDERATION"), Some(ProviderType::Federation));
        assert!(ProviderType::Federation.is_federated());
    }
}
