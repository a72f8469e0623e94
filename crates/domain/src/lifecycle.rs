//! The user lifecycle state machine, with Okta's statuses and transitions
//! (okta-wire.md §2). Every operation either yields the next status or says why not,
//! in the terms Okta's API uses (the web layer maps the error to Okta's code).

use crate::DomainError;
use serde::{Deserialize, Serialize};

/// A user's status, exactly Okta's enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UserStatus {
    Staged,
    Provisioned,
    Active,
    Recovery,
    PasswordExpired,
    LockedOut,
    Suspended,
    Deprovisioned,
}

impl UserStatus {
    /// All statuses, in Okta's documentation order.
    pub const ALL: [UserStatus; 8] = [
        UserStatus::Staged,
        UserStatus::Provisioned,
        UserStatus::Active,
        UserStatus::Recovery,
        UserStatus::PasswordExpired,
        UserStatus::LockedOut,
        UserStatus::Suspended,
        UserStatus::Deprovisioned,
    ];

    /// The wire name (`ACTIVE`, `PASSWORD_EXPIRED`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Staged => "STAGED",
            UserStatus::Provisioned => "PROVISIONED",
            UserStatus::Active => "ACTIVE",
            UserStatus::Recovery => "RECOVERY",
            UserStatus::PasswordExpired => "PASSWORD_EXPIRED",
            UserStatus::LockedOut => "LOCKED_OUT",
            UserStatus::Suspended => "SUSPENDED",
            UserStatus::Deprovisioned => "DEPROVISIONED",
        }
    }

    /// Parse the wire name.
    pub fn parse(s: &str) -> Option<UserStatus> {
        UserStatus::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

impl std::fmt::Display for UserStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A lifecycle operation (`POST /api/v1/users/{id}/lifecycle/{op}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LifecycleOp {
    Activate,
    Reactivate,
    Deactivate,
    Suspend,
    Unsuspend,
    Unlock,
    ResetPassword,
    ExpirePassword,
}

impl LifecycleOp {
    /// Parse the URL segment (`activate`, `reset_password`, …).
    pub fn parse(s: &str) -> Option<LifecycleOp> {
        Some(match s {
            "activate" => LifecycleOp::Activate,
            "reactivate" => LifecycleOp::Reactivate,
            "deactivate" => LifecycleOp::Deactivate,
            "suspend" => LifecycleOp::Suspend,
            "unsuspend" => LifecycleOp::Unsuspend,
            "unlock" => LifecycleOp::Unlock,
            "reset_password" => LifecycleOp::ResetPassword,
            "expire_password" => LifecycleOp::ExpirePassword,
            _ => return None,
        })
    }

    /// The System Log event type this operation writes.
    pub fn event_type(self) -> &'static str {
        match self {
            LifecycleOp::Activate => "user.lifecycle.activate",
            LifecycleOp::Reactivate => "user.lifecycle.reactivate",
            LifecycleOp::Deactivate => "user.lifecycle.deactivate",
            LifecycleOp::Suspend => "user.lifecycle.suspend",
            LifecycleOp::Unsuspend => "user.lifecycle.unsuspend",
            LifecycleOp::Unlock => "user.account.unlock",
            LifecycleOp::ResetPassword => "user.account.reset_password",
            LifecycleOp::ExpirePassword => "user.account.expire_password",
        }
    }
}

/// What the user is like, as far as the state machine cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credentials {
    /// The user has a password set in this org.
    pub has_password: bool,
    /// The user authenticates elsewhere (provider FEDERATION/SOCIAL): no password needed.
    pub federated: bool,
}

/// The outcome of a lifecycle operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// The status after the operation.
    pub to: UserStatus,
    /// The operation clears the user's password (reset_password).
    pub clears_password: bool,
    /// Nothing changes (e.g. deactivating a deprovisioned user).
    pub no_op: bool,
}

impl Transition {
    fn to(to: UserStatus) -> Self {
        Transition { to, clears_password: false, no_op: false }
    }
}

/// The status a newly created user starts in.
pub fn initial_status(activate: bool, creds: Credentials, expire_password: bool) -> UserStatus {
    if !activate {
        UserStatus::Staged
    } else if creds.federated {
        UserStatus::Active
    } else if creds.has_password {
        if expire_password {
            UserStatus::PasswordExpired
        } else {
            UserStatus::Active
        }
    } else {
        UserStatus::Provisioned
    }
}

/// Apply `op` to a user in `from`. Errors carry Okta's meaning:
/// [`DomainError::AlreadyActive`] (403 E0000016), [`DomainError::WrongStatus`]
/// (403 E0000038), [`DomainError::InvalidTransition`] (400 E0000001).
pub fn transition(from: UserStatus, op: LifecycleOp, creds: Credentials) -> Result<Transition, DomainError> {
    use UserStatus::*;
    match op {
        LifecycleOp::Activate => match from {
            Staged | Deprovisioned => Ok(Transition::to(if creds.has_password || creds.federated { Active } else { Provisioned })),
            _ => Err(DomainError::AlreadyActive),
        },
        LifecycleOp::Reactivate => match from {
            Provisioned | Recovery => Ok(Transition::to(Provisioned)),
            _ => Err(DomainError::WrongStatus(format!(
                "This operation is not allowed in the user's current status ({from}); reactivate needs PROVISIONED or RECOVERY"
            ))),
        },
        LifecycleOp::Deactivate => match from {
            Deprovisioned => Ok(Transition { to: Deprovisioned, clears_password: false, no_op: true }),
            _ => Ok(Transition::to(Deprovisioned)),
        },
        LifecycleOp::Suspend => match from {
            Active => Ok(Transition::to(Suspended)),
            _ => Err(DomainError::InvalidTransition(format!("Cannot suspend a user that is not active (status {from})"))),
        },
        LifecycleOp::Unsuspend => match from {
            Suspended => Ok(Transition::to(Active)),
            _ => Err(DomainError::InvalidTransition(format!("Cannot unsuspend a user that is not suspended (status {from})"))),
        },
        LifecycleOp::Unlock => match from {
            LockedOut => Ok(Transition::to(Active)),
            _ => Err(DomainError::InvalidTransition(format!("Cannot unlock a user that is not locked out (status {from})"))),
        },
        LifecycleOp::ResetPassword => match from {
            Active | Recovery | PasswordExpired | LockedOut if !creds.federated => {
                Ok(Transition { to: Recovery, clears_password: true, no_op: false })
            }
            _ => Err(DomainError::WrongStatus(format!("This operation is not allowed in the user's current status ({from})"))),
        },
        LifecycleOp::ExpirePassword => match from {
            Active | PasswordExpired | LockedOut | Recovery if creds.has_password && !creds.federated => {
                Ok(Transition::to(PasswordExpired))
            }
            _ => Err(DomainError::WrongStatus(format!("This operation is not allowed in the user's current status ({from})"))),
        },
    }
}

/// The status after an administrator sets a new password on the user.
pub fn after_password_set(from: UserStatus) -> UserStatus {
    match from {
        UserStatus::Recovery | UserStatus::PasswordExpired => UserStatus::Active,
        other => other,
    }
}

/// Can this user sign in (or be handed a session)?
pub fn can_authenticate(status: UserStatus) -> bool {
    matches!(status, UserStatus::Active | UserStatus::PasswordExpired)
}

#[cfg(test)]
mod tests {
    use super::*;
    use UserStatus::*;

    const PW: Credentials = Credentials { has_password: true, federated: false };
    const NOPW: Credentials = Credentials { has_password: false, federated: false };
    const FED: Credentials = Credentials { has_password: false, federated: true };

    const OPS: [LifecycleOp; 8] = [
        LifecycleOp::Activate,
        LifecycleOp::Reactivate,
        LifecycleOp::Deactivate,
        LifecycleOp::Suspend,
        LifecycleOp::Unsuspend,
        LifecycleOp::Unlock,
        LifecycleOp::ResetPassword,
        LifecycleOp::ExpirePassword,
    ];

    /// The full table: (from, op) -> expected outcome with a password-holding user.
    fn expected(from: UserStatus, op: LifecycleOp) -> Result<UserStatus, &'static str> {
        use LifecycleOp as O;
        match (op, from) {
            (O::Activate, Staged | Deprovisioned) => Ok(Active),
            (O::Activate, _) => Err("already_active"),
            (O::Reactivate, Provisioned | Recovery) => Ok(Provisioned),
            (O::Reactivate, _) => Err("wrong_status"),
            (O::Deactivate, _) => Ok(Deprovisioned),
            (O::Suspend, Active) => Ok(Suspended),
            (O::Suspend, _) => Err("invalid"),
            (O::Unsuspend, Suspended) => Ok(Active),
            (O::Unsuspend, _) => Err("invalid"),
            (O::Unlock, LockedOut) => Ok(Active),
            (O::Unlock, _) => Err("invalid"),
            (O::ResetPassword, Active | Recovery | PasswordExpired | LockedOut) => Ok(Recovery),
            (O::ResetPassword, _) => Err("wrong_status"),
            (O::ExpirePassword, Active | PasswordExpired | LockedOut | Recovery) => Ok(PasswordExpired),
            (O::ExpirePassword, _) => Err("wrong_status"),
        }
    }

    fn kind(e: &DomainError) -> &'static str {
        match e {
            DomainError::AlreadyActive => "already_active",
            DomainError::WrongStatus(_) => "wrong_status",
            DomainError::InvalidTransition(_) => "invalid",
            _ => "other",
        }
    }

    #[test]
    fn every_transition_matches_the_table() {
        for from in UserStatus::ALL {
            for op in OPS {
                let got = transition(from, op, PW).map(|t| t.to).map_err(|e| kind(&e));
                assert_eq!(got, expected(from, op), "{from:?} --{op:?}-->");
            }
        }
    }

    #[test]
    fn activation_without_password_provisions() {
        assert_eq!(transition(Staged, LifecycleOp::Activate, NOPW).map(|t| t.to), Ok(Provisioned));
        assert_eq!(transition(Staged, LifecycleOp::Activate, FED).map(|t| t.to), Ok(Active));
    }

    #[test]
    fn federated_users_have_no_password_operations() {
        assert!(transition(Active, LifecycleOp::ResetPassword, FED).is_err());
        assert!(transition(Active, LifecycleOp::ExpirePassword, FED).is_err());
        assert!(transition(Active, LifecycleOp::ExpirePassword, NOPW).is_err());
    }

    #[test]
    fn reset_clears_password_and_deactivate_twice_is_a_no_op() {
        let t = transition(Active, LifecycleOp::ResetPassword, PW).ok();
        assert_eq!(t.map(|t| t.clears_password), Some(true));
        let t = transition(Deprovisioned, LifecycleOp::Deactivate, PW).ok();
        assert_eq!(t.map(|t| t.no_op), Some(true));
    }

    #[test]
    fn initial_statuses() {
        assert_eq!(initial_status(false, PW, false), Staged);
        assert_eq!(initial_status(true, PW, false), Active);
        assert_eq!(initial_status(true, PW, true), PasswordExpired);
        assert_eq!(initial_status(true, NOPW, false), Provisioned);
        assert_eq!(initial_status(true, FED, false), Active);
    }

    #[test]
    fn password_set_recovers() {
        assert_eq!(after_password_set(Recovery), Active);
        assert_eq!(after_password_set(PasswordExpired), Active);
        assert_eq!(after_password_set(Staged), Staged);
    }

    #[test]
    fn status_names_round_trip() {
        for s in UserStatus::ALL {
            assert_eq!(UserStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(UserStatus::parse("active"), None);
    }
}
