//! The administrator permission table: what each role may do to the org, and what it may
//! do to a user who may hold a role of their own. The Okta API and the console ask only
//! this module, so a rule cannot differ between them.
//!
//! idhub has three of Okta's standard roles, ranked. A super administrator may do
//! everything. An org administrator manages the directory, apps and identity providers,
//! but not administrator roles or the org's security settings. A read-only administrator
//! reads. On top of the role's own rights, Okta's boundary between administrators: nobody
//! changes the credentials, lifecycle, factors, profile or tokens of a user who holds a
//! role above theirs, and nobody grants a role above their own.

use idhub_domain::user::AdminRole;
use std::fmt;

/// Something an administrator does that concerns the org as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgAction {
    /// Read what the console and the API show: users, groups, apps, the System Log.
    Read,
    /// Create and change users, groups, memberships and the profile schema.
    ManageDirectory,
    /// Create and change apps, assignments, provisioning, Push Groups, Import and Tasks.
    ManageApplications,
    /// Add and change identity providers and routing rules.
    ManageIdentityProviders,
    /// The org's security settings: the sign-on policy and the API token rotation period.
    ManageSecurity,
    /// Create and revoke API tokens (each acts as its owner).
    ManageTokens,
    /// Grant and revoke administrator roles.
    ManageRoles,
}

impl OrgAction {
    /// Every org action, for exhaustive tests and the documentation.
    pub const ALL: [OrgAction; 7] = [
        OrgAction::Read,
        OrgAction::ManageDirectory,
        OrgAction::ManageApplications,
        OrgAction::ManageIdentityProviders,
        OrgAction::ManageSecurity,
        OrgAction::ManageTokens,
        OrgAction::ManageRoles,
    ];

    /// The lowest role that may do this.
    pub fn least_role(self) -> AdminRole {
        match self {
            OrgAction::Read => AdminRole::ReadOnlyAdmin,
            OrgAction::ManageDirectory | OrgAction::ManageApplications | OrgAction::ManageIdentityProviders | OrgAction::ManageTokens => {
                AdminRole::OrgAdmin
            }
            OrgAction::ManageSecurity | OrgAction::ManageRoles => AdminRole::SuperAdmin,
        }
    }
}

/// Something an administrator does to one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserAction {
    /// Change profile attributes.
    EditProfile,
    /// Set, reset or expire the password, or change the recovery question.
    Credentials,
    /// Activate, deactivate, suspend, unsuspend, unlock, delete.
    Lifecycle,
    /// Reset or remove MFA factors.
    Factors,
    /// Revoke one of the user's API tokens.
    RevokeToken,
    /// Grant this role to the user.
    GrantRole(AdminRole),
    /// Revoke the user's role.
    RevokeRole,
}

impl UserAction {
    /// Every user action, for exhaustive tests.
    pub const ALL: [UserAction; 9] = [
        UserAction::EditProfile,
        UserAction::Credentials,
        UserAction::Lifecycle,
        UserAction::Factors,
        UserAction::RevokeToken,
        UserAction::GrantRole(AdminRole::ReadOnlyAdmin),
        UserAction::GrantRole(AdminRole::OrgAdmin),
        UserAction::GrantRole(AdminRole::SuperAdmin),
        UserAction::RevokeRole,
    ];

    /// The org-level right this action needs before the target is looked at.
    fn org_action(self) -> OrgAction {
        match self {
            UserAction::EditProfile | UserAction::Credentials | UserAction::Lifecycle | UserAction::Factors => OrgAction::ManageDirectory,
            UserAction::RevokeToken => OrgAction::ManageTokens,
            UserAction::GrantRole(_) | UserAction::RevokeRole => OrgAction::ManageRoles,
        }
    }
}

/// Why the table said no.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// The caller holds no administrator role.
    NotAdmin,
    /// The caller's role is below what the action needs.
    RoleTooLow { needed: AdminRole },
    /// The target user holds a role above the caller's.
    TargetOutranks { target: AdminRole },
    /// The role to grant is above the caller's own.
    GrantAboveOwn { role: AdminRole },
}

impl fmt::Display for Denied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Denied::NotAdmin => write!(f, "only administrators may do this"),
            Denied::RoleTooLow { needed } => write!(f, "this needs the {} role", needed.as_str()),
            Denied::TargetOutranks { target } => write!(f, "the user holds {}, a role above yours", target.as_str()),
            Denied::GrantAboveOwn { role } => write!(f, "{} is above your own role", role.as_str()),
        }
    }
}

impl std::error::Error for Denied {}

/// A role's rank: what it outranks is strictly lower. No role ranks lowest.
fn rank(role: Option<AdminRole>) -> u8 {
    match role {
        None => 0,
        Some(AdminRole::ReadOnlyAdmin) => 1,
        Some(AdminRole::OrgAdmin) => 2,
        Some(AdminRole::SuperAdmin) => 3,
    }
}

/// May an administrator holding `actor` do `action` to the org?
pub fn check_org(actor: Option<AdminRole>, action: OrgAction) -> Result<(), Denied> {
    let Some(role) = actor else {
        return Err(Denied::NotAdmin);
    };
    let needed = action.least_role();
    if rank(Some(role)) < rank(Some(needed)) {
        return Err(Denied::RoleTooLow { needed });
    }
    Ok(())
}

/// May an administrator holding `actor` do `action` to a user who holds `target`?
pub fn check_user(actor: Option<AdminRole>, action: UserAction, target: Option<AdminRole>) -> Result<(), Denied> {
    check_org(actor, action.org_action())?;
    if let Some(t) = target {
        if rank(target) > rank(actor) {
            return Err(Denied::TargetOutranks { target: t });
        }
    }
    if let UserAction::GrantRole(role) = action {
        if rank(Some(role)) > rank(actor) {
            return Err(Denied::GrantAboveOwn { role });
        }
    }
    Ok(())
}

/// May a role change anything at all (the API's write capability)?
pub fn can_write(actor: Option<AdminRole>) -> bool {
    OrgAction::ALL.iter().any(|a| *a != OrgAction::Read && check_org(actor, *a).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROLES: [Option<AdminRole>; 4] = [None, Some(AdminRole::ReadOnlyAdmin), Some(AdminRole::OrgAdmin), Some(AdminRole::SuperAdmin)];

    fn short(r: Option<AdminRole>) -> &'static str {
        match r {
            None => "-",
            Some(AdminRole::ReadOnlyAdmin) => "RO",
            Some(AdminRole::OrgAdmin) => "ORG",
            Some(AdminRole::SuperAdmin) => "SUPER",
        }
    }

    /// The org table, written out by hand: one row per action, one column per caller role
    /// (none, read-only, org, super). `y` allowed, `.` refused.
    #[test]
    fn org_table_cell_by_cell() {
        let expected = [
            (OrgAction::Read, ".yyy"),
            (OrgAction::ManageDirectory, "..yy"),
            (OrgAction::ManageApplications, "..yy"),
            (OrgAction::ManageIdentityProviders, "..yy"),
            (OrgAction::ManageSecurity, "...y"),
            (OrgAction::ManageTokens, "..yy"),
            (OrgAction::ManageRoles, "...y"),
        ];
        assert_eq!(expected.len(), OrgAction::ALL.len());
        for (action, row) in expected {
            for (actor, cell) in ROLES.iter().zip(row.chars()) {
                assert_eq!(check_org(*actor, action).is_ok(), cell == 'y', "{action:?} by {}", short(*actor));
            }
        }
    }

    /// The user table, written out by hand: for each action and caller role, the target
    /// roles (none, read-only, org, super) it may be done to.
    #[test]
    fn user_table_cell_by_cell() {
        use AdminRole::*;
        // Columns: the caller (none, RO, ORG, SUPER); each cell: targets none/RO/ORG/SUPER.
        let expected: [(UserAction, [&str; 4]); 9] = [
            (UserAction::EditProfile, ["....", "....", "yyy.", "yyyy"]),
            (UserAction::Credentials, ["....", "....", "yyy.", "yyyy"]),
            (UserAction::Lifecycle, ["....", "....", "yyy.", "yyyy"]),
            (UserAction::Factors, ["....", "....", "yyy.", "yyyy"]),
            (UserAction::RevokeToken, ["....", "....", "yyy.", "yyyy"]),
            (UserAction::GrantRole(ReadOnlyAdmin), ["....", "....", "....", "yyyy"]),
            (UserAction::GrantRole(OrgAdmin), ["....", "....", "....", "yyyy"]),
            (UserAction::GrantRole(SuperAdmin), ["....", "....", "....", "yyyy"]),
            (UserAction::RevokeRole, ["....", "....", "....", "yyyy"]),
        ];
        assert_eq!(expected.len(), UserAction::ALL.len());
        let mut cells = 0;
        for (action, by_actor) in expected {
            for (actor, targets) in ROLES.iter().zip(by_actor) {
                for (target, cell) in ROLES.iter().zip(targets.chars()) {
                    let got = check_user(*actor, action, *target);
                    assert_eq!(got.is_ok(), cell == 'y', "{action:?} by {} on {}: {got:?}", short(*actor), short(*target));
                    cells += 1;
                }
            }
        }
        assert_eq!(cells, 9 * 4 * 4);
    }

    #[test]
    fn refusals_say_why() {
        use AdminRole::*;
        assert_eq!(
            check_user(Some(OrgAdmin), UserAction::Credentials, Some(SuperAdmin)),
            Err(Denied::TargetOutranks { target: SuperAdmin })
        );
        assert_eq!(check_org(Some(ReadOnlyAdmin), OrgAction::ManageDirectory), Err(Denied::RoleTooLow { needed: OrgAdmin }));
        assert_eq!(check_org(None, OrgAction::Read), Err(Denied::NotAdmin));
        assert_eq!(Denied::TargetOutranks { target: SuperAdmin }.to_string(), "the user holds SUPER_ADMIN, a role above yours");
    }

    #[test]
    fn only_read_only_and_none_cannot_write() {
        let writes: Vec<bool> = ROLES.iter().map(|r| can_write(*r)).collect();
        assert_eq!(writes, [false, false, true, true]);
    }
}
