//! The applications service, shared by every surface that changes apps (the API and the
//! admin console): create from the catalog, update, activate/deactivate, delete, and the
//! assignments to users and groups, each change written with its System Log events and
//! the provisioning jobs it causes in one store call.

use crate::directory;
use crate::error::CoreError;
use crate::Actor;
use crate::Core;
use crate::NotAllowed;
use idhub_domain::application::validate_app;
use idhub_domain::event::{NewEvent, Party};
use idhub_domain::ids::new_id;
use idhub_domain::user::User;
use idhub_store::apps::{App, AppGroup, AppUser};
use idhub_store::orgs::Org;
use idhub_store::rows::StoredGroup;
use idhub_store::StoreError;
use serde_json::{json, Value};

/// Values Okta accepts for an Org2Org assignment's `initialStatus`.
pub const INITIAL_STATUSES: [&str; 6] =
    ["active", "pending", "active_with_pass", "active_without_pass", "pending_with_pass", "pending_without_pass"];

/// The System Log target for an app.
pub fn party(a: &App) -> Party {
    Party::new(a.id.clone(), "AppInstance", a.name.clone(), a.label.clone())
}

fn group_party(g: &idhub_domain::group::Group) -> Party {
    Party::new(g.id.0.clone(), "UserGroup", g.name.clone(), g.name.clone())
}

/// The app `id` of `org` (404 E0000007 when there is none).
pub async fn load(core: &Core, org: &Org, id: &str) -> Result<App, CoreError> {
    match core.store.get_app(&org.id, id).await {
        Ok(a) => Ok(a),
        Err(StoreError::NotFound) => Err(CoreError::not_found(format!("{id} (App)"))),
        Err(e) => Err(e.into()),
    }
}

async fn load_group(core: &Core, org: &Org, id: &str) -> Result<StoredGroup, CoreError> {
    match core.store.get_group(&org.id, id).await {
        Ok(g) => Ok(g),
        Err(StoreError::NotFound) => Err(CoreError::not_found(format!("{id} (UserGroup)"))),
        Err(e) => Err(e.into()),
    }
}

/// Is self service for org-managed apps on (Applications > Self Service)? An app's
/// end-user requests (`accessibility.selfService`) can be turned on only then.
pub fn self_service_enabled(org: &Org) -> bool {
    org.settings.pointer("/selfService/orgManagedApps").and_then(Value::as_bool).unwrap_or(false)
}

/// Refuse turning an app's self-service requests on while the org setting is off.
fn check_self_service(org: &Org, was_on: bool, input: &idhub_domain::application::AppInput) -> Result<(), CoreError> {
    let on = input.accessibility.get("selfService").and_then(Value::as_bool).unwrap_or(false);
    if on && !was_on && !self_service_enabled(org) {
        return Err(CoreError::validation(
            "accessibility.selfService",
            vec!["accessibility.selfService: You need to enable self service for org managed apps before you can use self service for this app (Applications > Self Service).".into()],
        ));
    }
    Ok(())
}

/// Add an app from the catalog (`body` in Okta's shape), active or not.
pub async fn create(core: &Core, org: &Org, actor: &Actor, body: &Value, activate: bool) -> Result<App, CoreError> {
    if !body.is_object() {
        return Err(CoreError::bad_body("a JSON object describing the app is required"));
    }
    let input = validate_app(body)?;
    check_self_service(org, false, &input)?;
    let now = core.now();
    let app = App {
        seq: 0,
        id: new_id("0oa"),
        org_id: org.id.clone(),
        name: input.name,
        label: input.label,
        status: if activate { "ACTIVE".into() } else { "INACTIVE".into() },
        sign_on_mode: input.mode.as_str().into(),
        settings: input.settings,
        username_template: input.username_template,
        visibility: input.visibility,
        accessibility: input.accessibility,
        created: now,
        last_updated: now,
    };
    let mut events = vec![NewEvent::success(
        "application.lifecycle.create",
        "Add application",
        actor.party.clone(),
        vec![party(&app)],
        actor.client.clone(),
    )];
    if activate {
        events.push(NewEvent::success(
            "application.lifecycle.activate",
            "Activate application",
            actor.party.clone(),
            vec![party(&app)],
            actor.client.clone(),
        ));
    }
    Ok(core.store.create_app(&app, &events).await?)
}

/// Replace an app's settings with `body` (Okta's PUT); its catalog name cannot change.
pub async fn update(core: &Core, org: &Org, actor: &Actor, id: &str, mut body: Value) -> Result<App, CoreError> {
    let mut app = load(core, org, id).await?;
    if !body.is_object() {
        return Err(CoreError::bad_body("a JSON object describing the app is required"));
    }
    match body.get("name").and_then(Value::as_str) {
        Some(n) if n != app.name => return Err(CoreError::validation("name", vec!["name: an app's catalog name cannot change".into()])),
        _ => body["name"] = json!(app.name),
    }
    let input = validate_app(&body)?;
    check_self_service(org, app.accessibility.get("selfService").and_then(Value::as_bool).unwrap_or(false), &input)?;
    app.label = input.label;
    app.settings = input.settings;
    app.username_template = input.username_template;
    app.visibility = input.visibility;
    app.accessibility = input.accessibility;
    app.last_updated = core.now();
    let ev = NewEvent::success(
        "application.lifecycle.update",
        "Update application",
        actor.party.clone(),
        vec![party(&app)],
        actor.client.clone(),
    );
    core.store.update_app(&app, &[ev]).await?;
    Ok(app)
}

/// Activate (`op` = `activate`) or deactivate (`deactivate`) an app; other ops are 404.
pub async fn set_status(core: &Core, org: &Org, actor: &Actor, id: &str, op: &str) -> Result<App, CoreError> {
    let mut app = load(core, org, id).await?;
    let (status, event, message) = match op {
        "activate" => ("ACTIVE", "application.lifecycle.activate", "Activate application"),
        "deactivate" => ("INACTIVE", "application.lifecycle.deactivate", "Deactivate application"),
        _ => return Err(CoreError::not_found(format!("/api/v1/apps/{id}/lifecycle/{op} (POST)"))),
    };
    if app.status != status {
        app.status = status.into();
        app.last_updated = core.now();
        let ev = NewEvent::success(event, message, actor.party.clone(), vec![party(&app)], actor.client.clone());
        core.store.update_app(&app, &[ev]).await?;
    }
    Ok(app)
}

/// The application username of `user` for `app`, from the app's template.
pub fn app_username(app: &App, user: &User) -> Result<String, CoreError> {
    Ok(idhub_domain::application::app_username(app.username_template.get("template").and_then(Value::as_str), user)?)
}

/// Delete an app: only an INACTIVE one (as in Okta).
pub async fn delete(core: &Core, org: &Org, actor: &Actor, id: &str) -> Result<(), CoreError> {
    let app = load(core, org, id).await?;
    if app.status == "ACTIVE" {
        return Err(CoreError::not_allowed(
            NotAllowed::DeleteActive,
            "Delete application forbidden: deactivate the application first.",
            vec![],
        ));
    }
    let ev = NewEvent::success(
        "application.lifecycle.delete",
        "Delete application",
        actor.party.clone(),
        vec![party(&app)],
        actor.client.clone(),
    );
    core.store.delete_app(&org.id, &app.id, core.now(), &[ev]).await?;
    Ok(())
}

/// Values an assignment `profile` may hold: an object; Org2Org's `initialStatus` must be
/// one of Okta's values.
pub fn check_profile(profile: &Value) -> Result<(), CoreError> {
    if !profile.is_object() && !profile.is_null() {
        return Err(CoreError::validation("profile", vec!["profile: must be an object".into()]));
    }
    if let Some(s) = profile.get("initialStatus") {
        let ok = s.is_null() || s.as_str().map(|v| INITIAL_STATUSES.contains(&v)).unwrap_or(false);
        if !ok {
            return Err(CoreError::validation(
                "initialStatus",
                vec![format!("initialStatus: Does not match required pattern: one of {}", INITIAL_STATUSES.join(", "))],
            ));
        }
    }
    if profile.to_string().len() > 65536 {
        return Err(CoreError::validation("profile", vec!["profile: must be at most 64 KiB".into()]));
    }
    Ok(())
}

/// Assign `uid` to the app directly, or update the direct assignment (`body`: Okta's app
/// user, with `profile` and `credentials.userName`).
pub async fn assign_user(core: &Core, org: &Org, actor: &Actor, app_id: &str, uid: &str, body: &Value) -> Result<AppUser, CoreError> {
    let app = load(core, org, app_id).await?;
    let user = directory::load_user(core, org, uid).await?;
    let profile = body.get("profile").cloned().unwrap_or_else(|| json!({}));
    check_profile(&profile)?;
    let now = core.now();
    let existing = match core.store.get_app_user(&org.id, &app.id, user.user.id.as_str()).await {
        Ok(e) => Some(e),
        Err(StoreError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    let username = match body.pointer("/credentials/userName") {
        Some(Value::String(n)) if !n.trim().is_empty() => {
            let n = n.trim();
            if n.chars().count() > 100 || n.chars().any(char::is_control) {
                return Err(CoreError::validation(
                    "userName",
                    vec!["userName: must be at most 100 characters, without control characters".into()],
                ));
            }
            n.to_string()
        }
        None | Some(Value::Null) | Some(Value::String(_)) => {
            existing.as_ref().and_then(|e| e.username.clone()).map(Ok).unwrap_or_else(|| app_username(&app, &user.user))?
        }
        Some(_) => return Err(CoreError::validation("userName", vec!["userName: must be a string".into()])),
    };
    let au = AppUser {
        app_id: app.id.clone(),
        user_id: user.user.id.0.clone(),
        scope: "USER".into(),
        status: "ACTIVE".into(),
        username: Some(username.clone()),
        external_id: existing.as_ref().and_then(|e| e.external_id.clone()),
        profile: if profile.is_null() { json!({}) } else { profile },
        sync_state: existing.as_ref().map(|e| e.sync_state.clone()).unwrap_or_else(|| "DISABLED".into()),
        created: existing.as_ref().map(|e| e.created).unwrap_or(now),
        last_updated: now,
        last_sync: existing.as_ref().and_then(|e| e.last_sync),
    };
    let targets = vec![directory::user_party(&user.user), party(&app)];
    let ev = |t: &str, m: &str| NewEvent::success(t, m, actor.party.clone(), targets.clone(), actor.client.clone());
    let mut events = vec![];
    match &existing {
        None => events.push(ev("application.user_membership.add", "Add user to application membership")),
        Some(prev) => {
            if prev.username.as_deref() != Some(username.as_str()) {
                events.push(ev("application.user_membership.change_username", "Change user's application username"));
            }
            events.push(ev("application.user_membership.update", "Update user's application assignment"));
        }
    }
    core.store.upsert_app_user(&org.id, &au, &events, &[]).await?;
    Ok(au)
}

/// Remove a direct assignment. A user who reaches the app only through a group keeps it
/// until the group assignment goes.
pub async fn unassign_user(core: &Core, org: &Org, actor: &Actor, app_id: &str, uid: &str) -> Result<(), CoreError> {
    let app = load(core, org, app_id).await?;
    let user = directory::load_user(core, org, uid).await?;
    match core.store.app_assignment_for(&org.id, &app.id, user.user.id.as_str()).await? {
        None => return Err(CoreError::not_found(format!("{uid} (AppUser)"))),
        Some(ea) if ea.direct.is_none() => {
            return Err(CoreError::validation(
                "scope",
                vec!["scope: the user is assigned to this app through a group; remove the group assignment instead".into()],
            ))
        }
        Some(_) => {}
    }
    let ev = NewEvent::success(
        "application.user_membership.remove",
        "Remove user from application membership",
        actor.party.clone(),
        vec![directory::user_party(&user.user), party(&app)],
        actor.client.clone(),
    );
    match core.store.delete_app_user(&org.id, &app.id, user.user.id.as_str(), core.now(), &[ev], &[]).await {
        Ok(()) => Ok(()),
        Err(StoreError::NotFound) => Err(CoreError::not_found(format!("{uid} (AppUser)"))),
        Err(e) => Err(e.into()),
    }
}

/// Assign a group to the app, or update its assignment (`body`: `profile`, `priority`).
pub async fn assign_group(core: &Core, org: &Org, actor: &Actor, app_id: &str, gid: &str, body: &Value) -> Result<AppGroup, CoreError> {
    let app = load(core, org, app_id).await?;
    let group = load_group(core, org, gid).await?;
    if !body.is_object() && !body.is_null() {
        return Err(CoreError::bad_body("a JSON object describing the group assignment is required"));
    }
    let profile = body.get("profile").cloned().unwrap_or_else(|| json!({}));
    check_profile(&profile)?;
    let priority = match body.get("priority") {
        None | Some(Value::Null) => None,
        Some(p) => Some(
            p.as_i64()
                .filter(|p| (0..=100_000).contains(p))
                .ok_or_else(|| CoreError::validation("priority", vec!["priority: must be a whole number from 0 to 100000".into()]))?,
        ),
    };
    let existing = core.store.list_app_groups(&org.id, &app.id).await?;
    let now = core.now();
    let prior = existing.iter().find(|g| g.group_id == group.group.id.as_str());
    let ag = AppGroup {
        app_id: app.id.clone(),
        group_id: group.group.id.0.clone(),
        priority: priority.or(prior.map(|p| p.priority)).unwrap_or(existing.len() as i64),
        profile: if profile.is_null() { json!({}) } else { profile },
        created: prior.map(|p| p.created).unwrap_or(now),
        last_updated: now,
    };
    let (event, message) = if prior.is_some() {
        ("group.application_assignment.update", "Update assigned application in group")
    } else {
        ("group.application_assignment.add", "Add assigned application to group")
    };
    let ev = NewEvent::success(event, message, actor.party.clone(), vec![group_party(&group.group), party(&app)], actor.client.clone());
    core.store.upsert_app_group(&org.id, &ag, &[ev], &[]).await?;
    Ok(ag)
}

/// Remove a group's assignment to the app.
pub async fn unassign_group(core: &Core, org: &Org, actor: &Actor, app_id: &str, gid: &str) -> Result<(), CoreError> {
    let app = load(core, org, app_id).await?;
    let group = load_group(core, org, gid).await?;
    let ev = NewEvent::success(
        "group.application_assignment.remove",
        "Remove assigned application from group",
        actor.party.clone(),
        vec![group_party(&group.group), party(&app)],
        actor.client.clone(),
    );
    match core.store.delete_app_group(&org.id, &app.id, gid, core.now(), &[ev], &[]).await {
        Ok(()) => Ok(()),
        Err(StoreError::NotFound) => Err(CoreError::not_found(format!("{gid} (ApplicationGroupAssignment)"))),
        Err(e) => Err(e.into()),
    }
}

/// "Convert assignments": the users who reach the app only through a group become
/// individually assigned (scope USER), keeping the group assignment's app profile and the
/// username it gives them; the group assignments stay. `only` limits it to those users.
/// One transaction with one System Log event per user. Returns how many were converted.
pub async fn convert_assignments(core: &Core, org: &Org, actor: &Actor, app_id: &str, only: Option<&[String]>) -> Result<usize, CoreError> {
    let app = load(core, org, app_id).await?;
    let now = core.now();
    let (mut converted, mut events, mut after) = (vec![], vec![], String::new());
    loop {
        let page = core.store.app_assignments_page(&org.id, &app.id, &after, 500).await?;
        let Some(last) = page.last() else { break };
        after = last.user_id.clone();
        for ea in page.iter().filter(|ea| ea.direct.is_none() && only.is_none_or(|o| o.contains(&ea.user_id))) {
            let Some(group) = &ea.group else { continue };
            let user = directory::load_user(core, org, &ea.user_id).await?;
            converted.push(AppUser {
                app_id: app.id.clone(),
                user_id: ea.user_id.clone(),
                scope: "USER".into(),
                status: "ACTIVE".into(),
                username: Some(app_username(&app, &user.user)?),
                external_id: None,
                profile: group.profile.clone(),
                sync_state: "DISABLED".into(),
                created: now,
                last_updated: now,
                last_sync: None,
            });
            events.push(NewEvent::success(
                "application.user_membership.add",
                "Add user to application membership (converted from a group assignment)",
                actor.party.clone(),
                vec![directory::user_party(&user.user), party(&app)],
                actor.client.clone(),
            ));
        }
    }
    if !converted.is_empty() {
        core.store.upsert_app_users(&org.id, &converted, &events, &[], now).await?;
    }
    Ok(converted.len())
}
