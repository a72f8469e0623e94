//! Groups: Okta's group model and the rules on names.

use crate::ids::{GroupId, OrgId};
use crate::time::Millis;
use crate::DomainError;
use serde::{Deserialize, Serialize};

/// Okta's group types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum GroupType {
    OktaGroup,
    AppGroup,
    BuiltIn,
}

impl GroupType {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupType::OktaGroup => "OKTA_GROUP",
            GroupType::AppGroup => "APP_GROUP",
            GroupType::BuiltIn => "BUILT_IN",
        }
    }
    /// Parse the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
    }
}

/// A group of one org.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub id: GroupId,
    pub org_id: OrgId,
    pub kind: GroupType,
    pub name: String,
    pub description: Option<String>,
    pub created: Millis,
    pub last_updated: Millis,
    pub last_membership_updated: Millis,
}

/// The name of the built-in group every user belongs to.
pub const EVERYONE: &str = "Everyone";

/// Validate a group profile (`{name, description}`).
pub fn validate_profile(name: Option<&str>, description: Option<&str>) -> Result<(), DomainError> {
    match name {
        None => return Err(DomainError::invalid("name", "The field cannot be left blank")),
        Some(n) if n.trim().is_empty() => return Err(DomainError::invalid("name", "The field cannot be left blank")),
        Some(n) if n.chars().count() > 255 => return Err(DomainError::invalid("name", "Must be at most 255 characters")),
        _ => {}
    }
    if description.map(|d| d.chars().count() > 1024).unwrap_or(false) {
        return Err(DomainError::invalid("description", "Must be at most 1024 characters"));
    }
    crate::text::refuse_control("name", name.unwrap_or_default())?;
    crate::text::refuse_control("description", description.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(validate_profile(Some("Contractors"), None).is_ok());
        assert!(validate_profile(Some("  "), None).is_err());
        assert!(validate_profile(None, None).is_err());
        assert!(validate_profile(Some(&"x".repeat(256)), None).is_err());
        assert!(validate_profile(Some("a\0"), None).is_err());
        assert!(validate_profile(Some("a"), Some("line\u{b}")).is_err());
        assert_eq!(GroupType::parse("OKTA_GROUP"), Some(GroupType::OktaGroup));
    }
}
