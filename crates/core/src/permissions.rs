//! The administrator permission table: what each role may do to the org, and what it may
//! do to a user who may hold a role of their own. The Okta API and the console ask only
//! this module, so a rule cannot differ between them.
//!
//! Okta's roles, as idhub has them. Org-wide, ranked: a super administrator may do
//! everything; an org administrator manages the directory, apps and identity providers,
//! but not administrator roles or the org's security settings; a read-only administrator
//! reads. Scoped: a group administrator (`USER_ADMIN`) manages the members of its target
//! groups, a help desk administrator resets their passwords and factors and unlocks them,
//! an app administrator manages its target apps; a scoped role that targets nothing covers
//! every group (or app), and no scoped role acts on another administrator. On top of that,
//! Okta's boundary between administrators: nobody changes the credentials, lifecycle,
//! factors, profile or tokens of a user who holds a role above theirs, and only super
//! administrators grant or revoke roles.

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
    /// Grant and revoke administrator roles and their targets.
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

    /// The lowest org-wide role that may do this.
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
    /// Set the password or change the recovery question.
    Credentials,
    /// Reset or expire the password.
    ResetPassword,
    /// Activate, deactivate, suspend, unsuspend, delete.
    Lifecycle,
    /// Unlock a locked-out user.
    Unlock,
    /// Reset or remove MFA factors.
    Factors,
    /// Revoke one of the user's API tokens.
    RevokeToken,
    /// Grant this role to the user.
    GrantRole(AdminRole),
    /// Revoke the user's role, or change its targets.
    RevokeRole,
}

impl UserAction {
    /// Every user action, for exhaustive tests.
    pub const ALL: [UserAction; 14] = [
        UserAction::EditProfile,
        UserAction::Credentials,
        UserAction::ResetPassword,
        UserAction::Lifecycle,
        UserAction::Unlock,
        UserAction::Factors,
        UserAction::RevokeToken,
        UserAction::GrantRole(AdminRole::SuperAdmin),
        UserAction::GrantRole(AdminRole::OrgAdmin),
        UserAction::GrantRole(AdminRole::ReadOnlyAdmin),
        UserAction::GrantRole(AdminRole::UserAdmin),
        UserAction::GrantRole(AdminRole::HelpDeskAdmin),
        UserAction::GrantRole(AdminRole::AppAdmin),
        UserAction::RevokeRole,
    ];

    /// The org-wide right that covers this action for an org-wide role.
    fn org_action(self) -> OrgAction {
        match self {
            UserAction::EditProfile
            | UserAction::Credentials
            | UserAction::ResetPassword
            | UserAction::Lifecycle
            | UserAction::Unlock
            | UserAction::Factors => OrgAction::ManageDirectory,
            UserAction::RevokeToken => OrgAction::ManageTokens,
            UserAction::GrantRole(_) | UserAction::RevokeRole => OrgAction::ManageRoles,
        }
    }

    /// May a scoped role do this to a user in its scope?
    fn scoped_may(self, role: AdminRole) -> bool {
        use UserAction::*;
        match role {
            AdminRole::UserAdmin => matches!(self, EditProfile | Credentials | ResetPassword | Lifecycle | Unlock | Factors),
            AdminRole::HelpDeskAdmin => matches!(self, ResetPassword | Unlock | Factors),
            _ => false,
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
    /// The caller's scoped role does not cover this action.
    NotInRole { role: AdminRole },
    /// The target user holds a role above the caller's.
    TargetOutranks { target: AdminRole },
    /// A scoped administrator may not act on another administrator.
    TargetIsAdmin { target: AdminRole },
    /// The target is outside the groups or apps the caller's role targets.
    OutOfScope { role: AdminRole },
    /// The role to grant is above the caller's own.
    GrantAboveOwn { role: AdminRole },
}

impl fmt::Display for Denied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Denied::NotAdmin => write!(f, "only administrators may do this"),
            Denied::RoleTooLow { needed } => write!(f, "this needs the {} role", needed.as_str()),
            Denied::NotInRole { role } => write!(f, "the {} role does not include this", role.as_str()),
            Denied::TargetOutranks { target } => write!(f, "the user holds {}, a role above yours", target.as_str()),
            Denied::TargetIsAdmin { target } => {
                write!(f, "the user holds {}, and your role manages only non-administrators", target.as_str())
            }
            Denied::OutOfScope { role } => write!(f, "it is outside the groups or apps your {} role targets", role.as_str()),
            Denied::GrantAboveOwn { role } => write!(f, "{} is above your own role", role.as_str()),
        }
    }
}

impl std::error::Error for Denied {}

/// An org-wide role's rank: what it outranks is strictly lower. Scoped roles rank with
/// read-only administrators (above users without a role, below org administrators).
fn rank(role: Option<AdminRole>) -> u8 {
    match role {
        None => 0,
        Some(AdminRole::ReadOnlyAdmin | AdminRole::UserAdmin | AdminRole::HelpDeskAdmin | AdminRole::AppAdmin) => 1,
        Some(AdminRole::OrgAdmin) => 2,
        Some(AdminRole::SuperAdmin) => 3,
    }
}

/// May an administrator holding `actor` do `action` to the org as a whole?
pub fn check_org(actor: Option<AdminRole>, action: OrgAction) -> Result<(), Denied> {
    let Some(role) = actor else {
        return Err(Denied::NotAdmin);
    };
    if action == OrgAction::Read {
        return Ok(());
    }
    let needed = action.least_role();
    if role.target_kind().is_some() || rank(Some(role)) < rank(Some(needed)) {
        return Err(Denied::RoleTooLow { needed });
    }
    Ok(())
}

/// May an administrator holding `actor` do `action` to a user who holds `target`?
/// `in_scope`: the user is a member of one of the groups a scoped `actor` targets (or
/// the role targets none); it is ignored for org-wide roles.
pub fn check_user(actor: Option<AdminRole>, action: UserAction, target: Option<AdminRole>, in_scope: bool) -> Result<(), Denied> {
    let Some(role) = actor else {
        return Err(Denied::NotAdmin);
    };
    if role.target_kind().is_some() {
        if !action.scoped_may(role) {
            return Err(Denied::NotInRole { role });
        }
        if let Some(t) = target {
            return Err(Denied::TargetIsAdmin { target: t });
        }
        if !in_scope {
            return Err(Denied::OutOfScope { role });
        }
        return Ok(());
    }
    check_org(actor, action.org_action())?;
    if let Some(t) = target {
        if rank(target) > rank(actor) {
            return Err(Denied::TargetOutranks { target: t });
        }
    }
    if let UserAction::GrantRole(granted) = action {
        if rank(Some(granted)) > rank(actor) {
            return Err(Denied::GrantAboveOwn { role: granted });
        }
    }
    Ok(())
}

/// May an administrator holding `actor` change one app (its settings, assignments,
/// provisioning)? `in_scope`: the app is one an app administrator's role targets (or the
/// role targets none).
pub fn check_app(actor: Option<AdminRole>, in_scope: bool) -> Result<(), Denied> {
    match actor {
        Some(AdminRole::AppAdmin) if in_scope => Ok(()),
        Some(role @ AdminRole::AppAdmin) => Err(Denied::OutOfScope { role }),
        _ => check_org(actor, OrgAction::ManageApplications),
    }
}

/// May a role change anything org-wide (the write capability of the API and the console;
/// scoped roles write only where [`check_user`] or [`check_app`] let them)?
pub fn can_write(actor: Option<AdminRole>) -> bool {
    OrgAction::ALL.iter().any(|a| *a != OrgAction::Read && check_org(actor, *a).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use AdminRole::*;

    /// Columns of the tables below, in this order.
    const ROLES: [Option<AdminRole>; 7] =
        [None, Some(ReadOnlyAdmin), Some(OrgAdmin), Some(SuperAdmin), Some(UserAdmin), Some(HelpDeskAdmin), Some(AppAdmin)];

    fn short(r: Option<AdminRole>) -> &'static str {
        r.map(AdminRole::as_str).unwrap_or("-")
    }

    /// The org table, written out by hand: one row per action, one column per caller role
    /// (none, RO, ORG, SUPER, USER_ADMIN, HELP_DESK_ADMIN, APP_ADMIN). `y` allowed, `.` refused.
    #[test]
    fn org_table_cell_by_cell() {
        let expected = [
            (OrgAction::Read, ".yyyyyy"),
            (OrgAction::ManageDirectory, "..yy..."),
            (OrgAction::ManageApplications, "..yy..."),
            (OrgAction::ManageIdentityProviders, "..yy..."),
            (OrgAction::ManageSecurity, "...y..."),
            (OrgAction::ManageTokens, "..yy..."),
            (OrgAction::ManageRoles, "...y..."),
        ];
        assert_eq!(expected.len(), OrgAction::ALL.len());
        for (action, row) in expected {
            for (actor, cell) in ROLES.iter().zip(row.chars()) {
                assert_eq!(check_org(*actor, action).is_ok(), cell == 'y', "{action:?} by {}", short(*actor));
            }
        }
    }

    /// The user table, written out by hand: for each action and caller role (columns as
    /// above), the target roles (none, RO, ORG, SUPER, USER_ADMIN, HELP_DESK_ADMIN,
    /// APP_ADMIN) it may be done to, when the target is in the caller's scope. Out of
    /// scope, the scoped roles' cells are all refused and the others' unchanged.
    #[test]
    fn user_table_cell_by_cell() {
        let none = ".......";
        let below_org = "yyy.yyy";
        let all = "yyyyyyy";
        let plain = "y......";
        #[rustfmt::skip]
        let expected: [(UserAction, [&str; 7]); 14] = [
            (UserAction::EditProfile,             [none, none, below_org, all, plain, none, none]),
            (UserAction::Credentials,             [none, none, below_org, all, plain, none, none]),
            (UserAction::ResetPassword,           [none, none, below_org, all, plain, plain, none]),
            (UserAction::Lifecycle,               [none, none, below_org, all, plain, none, none]),
            (UserAction::Unlock,                  [none, none, below_org, all, plain, plain, none]),
            (UserAction::Factors,                 [none, none, below_org, all, plain, plain, none]),
            (UserAction::RevokeToken,             [none, none, below_org, all, none, none, none]),
            (UserAction::GrantRole(SuperAdmin),   [none, none, none, all, none, none, none]),
            (UserAction::GrantRole(OrgAdmin),     [none, none, none, all, none, none, none]),
            (UserAction::GrantRole(ReadOnlyAdmin),[none, none, none, all, none, none, none]),
            (UserAction::GrantRole(UserAdmin),    [none, none, none, all, none, none, none]),
            (UserAction::GrantRole(HelpDeskAdmin),[none, none, none, all, none, none, none]),
            (UserAction::GrantRole(AppAdmin),     [none, none, none, all, none, none, none]),
            (UserAction::RevokeRole,              [none, none, none, all, none, none, none]),
        ];
        assert_eq!(expected.len(), UserAction::ALL.len());
        let mut cells = 0;
        for (action, by_actor) in expected {
            for (actor, targets) in ROLES.iter().zip(by_actor) {
                for (target, cell) in ROLES.iter().zip(targets.chars()) {
                    let scoped = actor.and_then(AdminRole::target_kind).is_some();
                    for in_scope in [true, false] {
                        let want = cell == 'y' && (in_scope || !scoped);
                        let got = check_user(*actor, action, *target, in_scope);
                        assert_eq!(
                            got.is_ok(),
                            want,
                            "{action:?} by {} on {} (in scope: {in_scope}): {got:?}",
                            short(*actor),
                            short(*target)
                        );
                        cells += 1;
                    }
                }
            }
        }
        assert_eq!(cells, 14 * 7 * 7 * 2);
    }

    #[test]
    fn apps_are_changed_by_org_wide_writers_and_their_app_admins() {
        for (actor, in_scope, want) in [
            (Some(SuperAdmin), false, true),
            (Some(OrgAdmin), false, true),
            (Some(AppAdmin), true, true),
            (Some(AppAdmin), false, false),
            (Some(UserAdmin), true, false),
            (Some(HelpDeskAdmin), true, false),
            (Some(ReadOnlyAdmin), true, false),
            (None, true, false),
        ] {
            assert_eq!(check_app(actor, in_scope).is_ok(), want, "{} (in scope: {in_scope})", short(actor));
        }
    }

    #[test]
    fn refusals_say_why() {
        assert_eq!(
            check_user(Some(OrgAdmin), UserAction::Credentials, Some(SuperAdmin), true),
            Err(Denied::TargetOutranks { target: SuperAdmin })
        );
        assert_eq!(check_org(Some(ReadOnlyAdmin), OrgAction::ManageDirectory), Err(Denied::RoleTooLow { needed: OrgAdmin }));
        assert_eq!(check_org(None, OrgAction::Read), Err(Denied::NotAdmin));
        assert_eq!(check_user(Some(HelpDeskAdmin), UserAction::Lifecycle, None, true), Err(Denied::NotInRole { role: HelpDeskAdmin }));
        assert_eq!(
            check_user(Some(UserAdmin), UserAction::Lifecycle, Some(ReadOnlyAdmin), true),
            Err(Denied::TargetIsAdmin { target: ReadOnlyAdmin })
        );
        assert_eq!(check_user(Some(UserAdmin), UserAction::Lifecycle, None, false), Err(Denied::OutOfScope { role: UserAdmin }));
        assert_eq!(Denied::TargetOutranks { target: SuperAdmin }.to_string(), "the user holds SUPER_ADMIN, a role above yours");
    }

    #[test]
    fn only_org_wide_writers_write_everywhere() {
        let writes: Vec<bool> = ROLES.iter().map(|r| can_write(*r)).collect();
        assert_eq!(writes, [false, false, true, true, false, false, false]);
    }
}
