//! The org password policy (what a new password must look like). Hashing happens in the
//! web layer (argon2id); this module only decides whether a password is acceptable.

use crate::DomainError;

/// The password complexity rules of an org.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub min_length: usize,
    pub max_length: usize,
    pub require_lowercase: bool,
    pub require_uppercase: bool,
    pub require_number: bool,
    /// The password may not contain the part of the login before `@`.
    pub exclude_username: bool,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            min_length: 8,
            max_length: 256,
            require_lowercase: true,
            require_uppercase: true,
            require_number: true,
            exclude_username: true,
        }
    }
}

impl PasswordPolicy {
    /// A human description, as Okta phrases its requirements.
    pub fn describe(&self) -> String {
        let mut parts = vec![format!("at least {} characters", self.min_length)];
        if self.require_lowercase {
            parts.push("a lowercase letter".into());
        }
        if self.require_uppercase {
            parts.push("an uppercase letter".into());
        }
        if self.require_number {
            parts.push("a number".into());
        }
        if self.exclude_username {
            parts.push("no parts of your username".into());
        }
        format!("Password requirements: {}.", parts.join(", "))
    }

    /// Check a candidate password for a user with this login.
    pub fn check(&self, password: &str, login: &str) -> Result<(), DomainError> {
        let n = password.chars().count();
        let ok = n >= self.min_length
            && n <= self.max_length
            && (!self.require_lowercase || password.chars().any(char::is_lowercase))
            && (!self.require_uppercase || password.chars().any(char::is_uppercase))
            && (!self.require_number || password.chars().any(|c| c.is_ascii_digit()))
            && !(self.exclude_username && contains_username(password, login));
        if ok {
            Ok(())
        } else {
            Err(DomainError::PasswordPolicy(self.describe()))
        }
    }
}

fn contains_username(password: &str, login: &str) -> bool {
    let local = login.split('@').next().unwrap_or_default().to_lowercase();
    local.chars().count() >= 4 && password.to_lowercase().contains(&local)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy() {
        let p = PasswordPolicy::default();
        assert!(p.check("Tr0ub4dor&3", "sarah@example.com").is_ok());
        assert!(p.check("short1A", "sarah@example.com").is_err());
        assert!(p.check("alllowercase1", "sarah@example.com").is_err());
        assert!(p.check("ALLUPPERCASE1", "sarah@example.com").is_err());
        assert!(p.check("NoNumbersHere", "sarah@example.com").is_err());
        assert!(p.check("Sarah12345", "sarah@example.com").is_err());
    }
}
