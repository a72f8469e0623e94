//! From a verified assertion to a directory user, with Okta's IdP policy semantics
//! (okta-wire.md §5): the IdP username (an expression over `idpuser`), the username
//! filter, the link by the IdP's subject, matching (username / email / either / a custom
//! attribute), automatic linking (optionally only for members of some groups), JIT
//! creation (provider FEDERATION) or refusal, profile source updates, reactivation and
//! unsuspension, and the group actions (ASSIGN / APPEND / SYNC).

use crate::directory::{change_user, user_party};
use crate::error::CoreError;
use crate::Core;
use idhub_domain::event::{ClientInfo, NewEvent, Party};
use idhub_domain::expr::{Expression, MapContext};
use idhub_domain::group::GroupType;
use idhub_domain::idp::{GroupAction, MatchType, SamlIdp};
use idhub_domain::ids::{GroupId, UserId};
use idhub_domain::lifecycle::UserStatus;
use idhub_domain::schema::Completeness;
use idhub_domain::user::{ProviderType, User};
use idhub_saml::VerifiedAssertion;
use idhub_store::groups::GroupSelect;
use idhub_store::idps::{Idp, IdpLink};
use idhub_store::orgs::Org;
use idhub_store::rows::StoredUser;
use idhub_store::users::{UserQuery, UserSelect};
use idhub_store::StoreError;
use serde_json::{json, Map, Value};

/// Why an assertion that verified still does not sign anyone in.
#[derive(Debug)]
pub struct Refusal {
    /// A stable machine code for the System Log.
    pub reason: &'static str,
    /// What an administrator needs to know (safe to show: no secrets, values clipped).
    pub detail: String,
    /// The directory user concerned, when one was found.
    pub user: Option<Party>,
}

/// A refusal or an internal failure.
#[derive(Debug)]
pub enum FederationError {
    Refused(Box<Refusal>),
    Internal(CoreError),
}

impl From<CoreError> for FederationError {
    fn from(e: CoreError) -> Self {
        FederationError::Internal(e)
    }
}

impl From<StoreError> for FederationError {
    fn from(e: StoreError) -> Self {
        FederationError::Internal(e.into())
    }
}

fn refuse(reason: &'static str, detail: impl Into<String>, user: Option<&User>) -> FederationError {
    FederationError::Refused(Box::new(Refusal { reason, detail: detail.into(), user: user.map(user_party) }))
}

fn clip(s: &str) -> String {
    s.chars().take(120).collect()
}

/// The IdP as the actor of directory changes it causes.
pub fn idp_party(idp: &Idp) -> Party {
    Party::new(idp.id.clone(), "IdentityProvider", idp.name.clone(), idp.name.clone())
}

/// `idpuser`: the subject and every attribute (one value: a string; several: a list).
pub fn idpuser_context(a: &VerifiedAssertion) -> Value {
    let mut m = Map::new();
    for (name, values) in a.attributes() {
        let v = match values.as_slice() {
            [one] => json!(one),
            many => json!(many),
        };
        m.insert(name.clone(), v);
    }
    m.insert("subjectNameId".into(), json!(a.name_id().value));
    m.insert("subjectNameIdFormat".into(), json!(a.name_id().format));
    Value::Object(m)
}

fn eval(src: &str, ctx: &MapContext) -> Result<Option<String>, FederationError> {
    let e = Expression::parse(src).map_err(|e| refuse("configuration", format!("the expression {src:?} does not parse: {e}"), None))?;
    e.evaluate_string(ctx).map_err(|e| refuse("mapping_failed", format!("the expression {src:?} failed: {e}"), None))
}

/// The JIT profile (or the profile-source update): each mapped attribute whose expression
/// gives a value.
fn mapped_profile(settings: &SamlIdp, ctx: &MapContext) -> Result<Map<String, Value>, FederationError> {
    let mut profile = Map::new();
    for (attr, src) in &settings.profile_mapping {
        if let Some(v) = eval(src, ctx)? {
            profile.insert(attr.clone(), json!(v));
        }
    }
    Ok(profile)
}

fn quoted(v: &str) -> String {
    format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Users whose `attr` equals `value` (ignoring case), deactivated ones included.
async fn users_where(core: &Core, org: &Org, attr: &str, value: &str) -> Result<Vec<StoredUser>, FederationError> {
    let expr = idhub_domain::filter::parse(&format!("profile.{attr} eq {}", quoted(value)))
        .map_err(|e| refuse("configuration", format!("cannot match on {attr}: {e}"), None))?;
    let page = core
        .store
        .list_users(&org.id, &UserQuery { select: UserSelect::Search(expr), limit: 2, after: None })
        .await
        .map_err(|e| FederationError::Internal(e.into()))?;
    Ok(page.items)
}

async fn one_user(core: &Core, org: &Org, attr: &str, value: &str) -> Result<Option<StoredUser>, FederationError> {
    let mut found = users_where(core, org, attr, value).await?;
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.pop()),
        _ => Err(refuse("ambiguous_match", format!("more than one user has {attr} {:?}", clip(value)), None)),
    }
}

async fn find_match(core: &Core, org: &Org, settings: &SamlIdp, username: &str) -> Result<Option<StoredUser>, FederationError> {
    let by_login = || async {
        match core.store.get_user(&org.id, username).await {
            Ok(u) if u.user.id.as_str() != username => Ok(Some(u)),
            Ok(_) => Ok(None),
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(FederationError::from(e)),
        }
    };
    match &settings.match_type {
        MatchType::Username => by_login().await,
        MatchType::Email => one_user(core, org, "email", username).await,
        MatchType::UsernameOrEmail => match by_login().await? {
            Some(u) => Ok(Some(u)),
            None => one_user(core, org, "email", username).await,
        },
        MatchType::CustomAttribute(attr) => one_user(core, org, attr, username).await,
    }
}

/// Resolve group references (ids or names) to OKTA_GROUP ids of the org.
async fn resolve_groups(core: &Core, org: &Org, refs: &[String]) -> Result<Vec<(GroupId, String)>, FederationError> {
    let mut out = Vec::new();
    for r in refs {
        let found = match core.store.get_group(&org.id, r).await {
            Ok(g) => Some(g),
            Err(StoreError::NotFound) => {
                let expr = idhub_domain::filter::parse(&format!("profile.name eq {}", quoted(r)))
                    .map_err(|e| refuse("configuration", format!("bad group name {r:?}: {e}"), None))?;
                let page = core
                    .store
                    .list_groups(&org.id, &GroupSelect::Filter(expr), 1, None)
                    .await
                    .map_err(|e| FederationError::Internal(e.into()))?;
                page.items.into_iter().next()
            }
            Err(e) => return Err(e.into()),
        };
        if let Some(g) = found.filter(|g| g.group.kind == GroupType::OktaGroup) {
            if !out.iter().any(|(id, _): &(GroupId, String)| id == &g.group.id) {
                out.push((g.group.id.clone(), g.group.name.clone()));
            }
        }
    }
    Ok(out)
}

/// The groups the assertion puts the user in, and (SYNC) whether others are removed.
async fn target_groups(
    core: &Core,
    org: &Org,
    settings: &SamlIdp,
    a: &VerifiedAssertion,
) -> Result<(Vec<(GroupId, String)>, bool), FederationError> {
    let asserted = |source: &str, allow: &[String]| -> Vec<String> {
        let values = a.attributes().get(source).cloned().unwrap_or_default();
        values.into_iter().filter(|v| allow.is_empty() || allow.iter().any(|x| x == v)).collect()
    };
    match &settings.groups {
        GroupAction::None => Ok((vec![], false)),
        GroupAction::Assign(ids) => Ok((resolve_groups(core, org, ids).await?, false)),
        GroupAction::Append { source_attribute, allow } | GroupAction::Sync { source_attribute, allow } => {
            // The allow-list may name groups by id or by name; compare by resolved id.
            let allowed = resolve_groups(core, org, allow).await?;
            let named = resolve_groups(core, org, &asserted(source_attribute, &[])).await?;
            let keep: Vec<(GroupId, String)> =
                named.into_iter().filter(|(id, _)| allow.is_empty() || allowed.iter().any(|(a, _)| a == id)).collect();
            Ok((keep, matches!(settings.groups, GroupAction::Sync { .. })))
        }
    }
}

/// The directory user an assertion names, without changing anything (IdP usage "Factor
/// only"): the linked user, else the match by the IdP username.
pub async fn identify(
    core: &Core,
    org: &Org,
    idp: &Idp,
    settings: &SamlIdp,
    a: &VerifiedAssertion,
) -> Result<Option<StoredUser>, FederationError> {
    if let Some(link) = core.store.idp_link_by_external_id(&org.id, &idp.id, &a.name_id().value).await? {
        match core.store.get_user(&org.id, &link.user_id).await {
            Ok(u) => return Ok(Some(u)),
            Err(StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let ctx = MapContext::new().with_root("idpuser", idpuser_context(a));
    match eval(&settings.username_template, &ctx)?.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()) {
        Some(username) => find_match(core, org, settings, &username).await,
        None => Ok(None),
    }
}

/// Apply the assertion to the directory: the signed-in user, or why nobody is.
pub async fn federate(
    core: &Core,
    org: &Org,
    idp: &Idp,
    settings: &SamlIdp,
    a: &VerifiedAssertion,
    client: &ClientInfo,
) -> Result<StoredUser, FederationError> {
    match federate_once(core, org, idp, settings, a, client).await {
        // Concurrent first sign-ins of a person who did not exist: one creates the user
        // (linked to this subject, in one transaction); the others lose the race on the
        // login. Once more, they find that user by its link and sign in as it. A clash
        // with a user who is not this subject's stays refused on the second pass too.
        Err(FederationError::Refused(r)) if r.reason == "jit_conflict" => federate_once(core, org, idp, settings, a, client).await,
        other => other,
    }
}

/// One pass of [`federate`].
async fn federate_once(
    core: &Core,
    org: &Org,
    idp: &Idp,
    settings: &SamlIdp,
    a: &VerifiedAssertion,
    client: &ClientInfo,
) -> Result<StoredUser, FederationError> {
    let ctx = MapContext::new().with_root("idpuser", idpuser_context(a));
    let username = eval(&settings.username_template, &ctx)?.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let Some(username) = username else {
        return Err(refuse(
            "username_missing",
            format!("the IdP username expression {:?} gave no value", settings.username_template),
            None,
        ));
    };
    match settings.username_allowed(&username) {
        Ok(true) => {}
        Ok(false) => {
            return Err(refuse("username_filtered", format!("the username {:?} does not match the IdP's filter", clip(&username)), None))
        }
        Err(e) => return Err(refuse("configuration", e.to_string(), None)),
    }
    let actor = idp_party(idp);
    let ev = |t: &str, m: &str, targets: Vec<Party>| NewEvent::success(t, m, actor.clone(), targets, client.clone());
    let now = core.now();
    let external_id = a.name_id().value.clone();
    let (groups, sync) = target_groups(core, org, settings, a).await?;

    // 1. A user already linked to this subject.
    let linked = match core.store.idp_link_by_external_id(&org.id, &idp.id, &external_id).await? {
        Some(link) => match core.store.get_user(&org.id, &link.user_id).await {
            Ok(u) => Some(u),
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let (user, newly_linked) = match linked {
        Some(u) => (u, false),
        None => match find_match(core, org, settings, &username).await? {
            // 2. A matching user: link automatically, if the policy allows it for this user.
            Some(u) => {
                if !settings.link_auto {
                    return Err(refuse("link_disabled", "a matching user exists but automatic account linking is disabled", Some(&u.user)));
                }
                if !settings.link_groups.is_empty() {
                    let allowed = resolve_groups(core, org, &settings.link_groups).await?;
                    let member = core.store.user_groups(&org.id, &u.user.id).await?;
                    if !member.iter().any(|g| allowed.iter().any(|(id, _)| id == &g.group.id)) {
                        return Err(refuse(
                            "link_restricted",
                            "the matching user is not in a group that automatic linking is restricted to",
                            Some(&u.user),
                        ));
                    }
                }
                (u, true)
            }
            // 3. Nobody: create just in time, or refuse.
            None => {
                if !settings.jit {
                    return Err(refuse(
                        "no_match",
                        format!("no user matches {:?} and just-in-time provisioning is off", clip(&username)),
                        None,
                    ));
                }
                return jit_create(core, org, idp, settings, &ctx, &username, &external_id, &groups, client).await;
            }
        },
    };
    if newly_linked {
        let link = IdpLink {
            idp_id: idp.id.clone(),
            user_id: user.user.id.0.clone(),
            external_id: external_id.clone(),
            created: now,
            last_updated: now,
        };
        let e = ev("user.account.link", "Link user to identity provider", vec![user_party(&user.user), actor.clone()]);
        core.store.link_idp_user(&org.id, &link, &[e]).await?;
    }

    // Status: reactivate, unsuspend, activate, or refuse.
    let status = user.user.status;
    let status_change = match status {
        UserStatus::Deprovisioned if settings.reactivate => Some(("user.lifecycle.reactivate", "Reactivate okta user")),
        UserStatus::Deprovisioned => {
            return Err(refuse("user_deactivated", "the user is deactivated and reactivation is off", Some(&user.user)))
        }
        UserStatus::Suspended if settings.unsuspend => Some(("user.lifecycle.unsuspend", "Unsuspend okta user")),
        UserStatus::Suspended => return Err(refuse("user_suspended", "the user is suspended and unsuspension is off", Some(&user.user))),
        UserStatus::LockedOut => return Err(refuse("user_locked", "the user is locked out", Some(&user.user))),
        UserStatus::Staged | UserStatus::Provisioned => Some(("user.lifecycle.activate", "Activate okta user")),
        _ => None,
    };
    let update = if settings.profile_master { Some(mapped_profile(settings, &ctx)?) } else { None };
    let schema = core.store.user_schema(&org.id).await?;
    let stored = change_user(core, org, user.user.id.as_str(), |u| {
        let mut events = vec![];
        if let Some((t, m)) = status_change {
            if u.status == status {
                u.status = UserStatus::Active;
                u.transitioning_to = None;
                u.status_changed = Some(now);
                if u.activated.is_none() {
                    u.activated = Some(now);
                }
                events.push(ev(t, m, vec![user_party(u)]));
            }
        }
        if let Some(p) = &update {
            let changed: Vec<(&String, &Value)> =
                p.iter().filter(|(k, v)| k.as_str() != "login" && u.profile.get(*k) != Some(*v)).collect();
            if !changed.is_empty() {
                let mut profile = u.profile.clone();
                for (k, v) in changed {
                    profile.insert(k.clone(), v.clone());
                }
                schema.validate(&profile, Completeness::Full).map_err(CoreError::from)?;
                u.profile = profile;
                events.push(ev("user.account.update_profile", "Update user profile from identity provider", vec![user_party(u)]));
            }
        }
        if !events.is_empty() {
            u.last_login = Some(now);
            u.last_updated = now;
        }
        Ok(events)
    })
    .await
    .map_err(|e| match e {
        CoreError::Validation { causes, .. } => {
            refuse("profile_invalid", format!("the profile from the IdP is not valid: {}", causes.join("; ")), Some(&user.user))
        }
        e => FederationError::Internal(e),
    })?;
    apply_groups(core, org, idp, &stored, &groups, sync, client).await?;
    Ok(stored)
}

#[allow(clippy::too_many_arguments)]
async fn jit_create(
    core: &Core,
    org: &Org,
    idp: &Idp,
    settings: &SamlIdp,
    ctx: &MapContext,
    username: &str,
    external_id: &str,
    groups: &[(GroupId, String)],
    client: &ClientInfo,
) -> Result<StoredUser, FederationError> {
    let mut profile = mapped_profile(settings, ctx)?;
    profile.insert("login".into(), json!(username));
    idhub_domain::user::normalize_login(&mut profile);
    let schema = core.store.user_schema(&org.id).await?;
    if let Err(e) = schema.validate(&profile, Completeness::Full) {
        return Err(refuse("jit_profile_invalid", format!("the user cannot be created from the assertion: {e}"), None));
    }
    let now = core.now();
    let user = User {
        id: UserId::generate(),
        org_id: org.id.clone(),
        status: UserStatus::Active,
        transitioning_to: None,
        profile,
        type_id: org.user_type_id.clone(),
        provider: ProviderType::Federation,
        provider_name: idp.name.clone(),
        password_hash: None,
        recovery_question: None,
        created: now,
        activated: Some(now),
        status_changed: Some(now),
        last_login: Some(now),
        last_updated: now,
        password_changed: None,
        admin_role: None,
        failed_logins: 0,
    };
    let actor = idp_party(idp);
    let ev = |t: &str, m: &str, targets: Vec<Party>| NewEvent::success(t, m, actor.clone(), targets, client.clone());
    let mut events = vec![
        ev("user.lifecycle.create", "Create okta user (just-in-time from identity provider)", vec![user_party(&user), actor.clone()]),
        ev("user.lifecycle.activate", "Activate okta user", vec![user_party(&user)]),
        ev("user.account.link", "Link user to identity provider", vec![user_party(&user), actor.clone()]),
    ];
    for (gid, name) in groups {
        events.push(ev(
            "group.user_membership.add",
            "Add user to group membership",
            vec![user_party(&user), Party::new(gid.0.clone(), "UserGroup", name.clone(), name.clone())],
        ));
    }
    let link = IdpLink {
        idp_id: idp.id.clone(),
        user_id: user.id.0.clone(),
        external_id: external_id.to_string(),
        created: now,
        last_updated: now,
    };
    let ids: Vec<GroupId> = groups.iter().map(|(g, _)| g.clone()).collect();
    match core.store.create_linked_user(&user, &ids, &link, &events).await {
        Ok(u) => Ok(u),
        Err(StoreError::Conflict(_)) => Err(refuse("jit_conflict", format!("a user with login {:?} already exists", clip(username)), None)),
        Err(e) => Err(e.into()),
    }
}

/// Group actions for an existing user: add missing memberships; SYNC also removes OKTA_GROUP
/// memberships that were not asserted.
async fn apply_groups(
    core: &Core,
    org: &Org,
    idp: &Idp,
    user: &StoredUser,
    groups: &[(GroupId, String)],
    sync: bool,
    client: &ClientInfo,
) -> Result<(), FederationError> {
    if groups.is_empty() && !sync {
        return Ok(());
    }
    let actor = idp_party(idp);
    let current = core.store.user_groups(&org.id, &user.user.id).await?;
    let now = core.now();
    for (gid, name) in groups {
        if current.iter().any(|g| &g.group.id == gid) {
            continue;
        }
        let e = NewEvent::success(
            "group.user_membership.add",
            "Add user to group membership",
            actor.clone(),
            vec![user_party(&user.user), Party::new(gid.0.clone(), "UserGroup", name.clone(), name.clone())],
            client.clone(),
        );
        let jobs = crate::provisioning::group_app_jobs(core, &org.id, gid.as_str(), user.user.id.as_str()).await?;
        core.store.add_group_member(&org.id, gid, user, now, &[e], &jobs).await?;
    }
    if sync {
        for g in current.iter().filter(|g| g.group.kind == GroupType::OktaGroup && !groups.iter().any(|(id, _)| id == &g.group.id)) {
            let e = NewEvent::success(
                "group.user_membership.remove",
                "Remove user from group membership",
                actor.clone(),
                vec![user_party(&user.user), Party::new(g.group.id.0.clone(), "UserGroup", g.group.name.clone(), g.group.name.clone())],
                client.clone(),
            );
            let jobs = crate::provisioning::group_app_jobs(core, &org.id, g.group.id.as_str(), user.user.id.as_str()).await?;
            core.store.remove_group_member(&org.id, &g.group.id, &user.user.id, now, &[e], &jobs).await?;
        }
    }
    Ok(())
}
