//! The core's services without HTTP: a `Core` over a fresh SQLite store in a temp dir,
//! with a clock the test moves. What an administrator would see through any surface is
//! checked here once: what was written, when, and which error a refusal is.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use idhub_core::directory::{self, NewUser};
use idhub_core::groups::{self, GroupProfile, Membership};
use idhub_core::{Actor, Core, CoreError, NotAllowed};
use idhub_domain::time::ManualClock;
use idhub_store::orgs::Org;
use idhub_store::Backend;
use serde_json::json;
use std::sync::Arc;

const T0: i64 = 1_800_000_000_000;

async fn core() -> (Core, Org, ManualClock, idhub_testkit::TestDb) {
    let db = idhub_testkit::fresh_store(Backend::Sqlite).await;
    let clock = ManualClock::at(T0);
    let core = Core::new(
        db.store.clone(),
        Arc::new(clock.clone()),
        idhub_core::passwords::HashParams { memory_kib: 1024, iterations: 1, parallelism: 1 },
        idhub_domain::sealed::SealingKey::from_bytes(&idhub_domain::sealed::SealingKey::generate_bytes()),
        idhub_testkit::loopback_egress(),
    );
    let org = db.store.create_org("acme", "http://acme.localhost:1", T0, &[]).await.unwrap();
    (core, org, clock, db)
}

fn new_user(login: &str) -> NewUser {
    let profile = json!({ "login": login, "email": login, "firstName": "Ada", "lastName": "Lovelace" });
    NewUser { profile: profile.as_object().cloned().unwrap(), activate: true, ..Default::default() }
}

#[tokio::test]
async fn groups_and_memberships_are_written_with_the_clock_of_the_core() {
    let (core, org, clock, _db) = core().await;
    let actor = Actor::system();
    let ada = directory::create_user(&core, &org, &actor, new_user("ada@acme.example")).await.unwrap();
    let g = groups::create_group(&core, &org, &actor, GroupProfile::entered("  Engineers ", Some(""))).await.unwrap();
    assert_eq!(g.group.name, "Engineers", "the name is trimmed");
    assert_eq!(g.group.description, None, "a blank description is none");
    assert_eq!(g.group.created, T0);

    clock.advance(60_000);
    let (_, u) = groups::set_membership(&core, &org, &actor, g.group.id.as_str(), "ada@acme.example", Membership::Add).await.unwrap();
    assert_eq!(u.user.id, ada.user.id, "a member is found by login too");
    let member_of = core.store.user_groups(&org.id, &ada.user.id).await.unwrap();
    assert!(member_of.iter().any(|m| m.group.id == g.group.id));
    let renamed = groups::update_group(&core, &org, &actor, g.group.id.as_str(), GroupProfile::entered("Engineering", None)).await.unwrap();
    assert_eq!(renamed.last_updated, T0 + 60_000, "times come from the core's clock");

    groups::set_membership(&core, &org, &actor, g.group.id.as_str(), ada.user.id.as_str(), Membership::Remove).await.unwrap();
    assert!(core.store.user_groups(&org.id, &ada.user.id).await.unwrap().iter().all(|m| m.group.id != g.group.id));
}

#[tokio::test]
async fn refusals_are_typed_and_change_nothing() {
    let (core, org, _clock, _db) = core().await;
    let actor = Actor::system();
    groups::create_group(&core, &org, &actor, GroupProfile::entered("Sales", None)).await.unwrap();
    match groups::create_group(&core, &org, &actor, GroupProfile::entered("sales", None)).await {
        Err(CoreError::Conflict(field)) => assert_eq!(field, "name"),
        other => panic!("a second group of the same name (any case) is a conflict on name: {other:?}"),
    }
    match groups::create_group(&core, &org, &actor, GroupProfile::entered("   ", None)).await {
        Err(e @ CoreError::Validation { .. }) => assert!(e.causes().iter().any(|c| c.starts_with("name:")), "{e:?}"),
        other => panic!("a blank name is a validation error on name: {other:?}"),
    }
    match groups::set_membership(&core, &org, &actor, "00gnothere", "nobody", Membership::Add).await {
        Err(CoreError::NotFound(what)) => assert!(what.contains("00gnothere"), "{what}"),
        other => panic!("an unknown group is not found: {other:?}"),
    }
    let everyone = core.store.list_groups(&org.id, &idhub_store::groups::GroupSelect::All, 10, None).await.unwrap();
    if let Some(builtin) = everyone.items.iter().find(|g| g.group.kind != idhub_domain::group::GroupType::OktaGroup) {
        match groups::delete_group(&core, &org, &actor, builtin.group.id.as_str()).await {
            Err(CoreError::NotAllowed { kind, .. }) => assert_eq!(kind, NotAllowed::NotOwnGroup),
            other => panic!("a built-in group cannot be deleted: {other:?}"),
        }
    }
    let names: Vec<String> = core
        .store
        .list_groups(&org.id, &idhub_store::groups::GroupSelect::All, 10, None)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|g| g.group.name)
        .collect();
    assert_eq!(names.iter().filter(|n| n.eq_ignore_ascii_case("sales")).count(), 1, "{names:?}");
}

#[tokio::test]
async fn a_store_failure_is_an_error_not_an_absence() {
    let (core, org, _clock, db) = core().await;
    let actor = Actor::system();
    let g = groups::create_group(&core, &org, &actor, GroupProfile::entered("Ops", None)).await.unwrap();
    {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
        sqlx::query("ALTER TABLE user_groups RENAME TO user_groups_away").execute(&mut conn).await.unwrap();
    }
    match groups::load_group(&core, &org, g.group.id.as_str()).await {
        Err(e @ CoreError::Store(_)) => assert!(e.is_internal()),
        other => panic!("a failing store is a store error, never 'not found': {other:?}"),
    }
    match directory::load_user(&core, &org, "nobody@acme.example").await {
        Err(CoreError::NotFound(_)) => {}
        other => panic!("a missing user is still not found: {other:?}"),
    }
}

#[tokio::test]
async fn a_role_granted_anew_starts_without_targets_and_nobody_demotes_themselves() {
    use idhub_domain::event::Party;
    use idhub_domain::user::{AdminRole, RoleTargetKind};
    let (core, org, _clock, _db) = core().await;
    let system = Actor::system();
    let boss = directory::create_user(&core, &org, &system, new_user("boss@acme.example")).await.unwrap();
    idhub_core::roles::set_role(&core, &org, &system, boss.user.id.as_str(), Some(AdminRole::SuperAdmin)).await.unwrap();
    let boss_actor = Actor { party: Party::new(boss.user.id.0.clone(), "User", "boss@acme.example", "Boss"), client: Default::default() };
    match idhub_core::roles::set_role(&core, &org, &boss_actor, boss.user.id.as_str(), Some(AdminRole::OrgAdmin)).await {
        Err(CoreError::NotAllowed { kind, .. }) => assert_eq!(kind, NotAllowed::OwnRole),
        other => panic!("a super administrator cannot demote themselves: {other:?}"),
    }
    assert_eq!(directory::load_user(&core, &org, "boss@acme.example").await.unwrap().user.admin_role, Some(AdminRole::SuperAdmin));

    let helper = directory::create_user(&core, &org, &system, new_user("help@acme.example")).await.unwrap();
    let g = groups::create_group(&core, &org, &system, GroupProfile::entered("Desk", None)).await.unwrap();
    idhub_core::roles::set_role(&core, &org, &boss_actor, helper.user.id.as_str(), Some(AdminRole::HelpDeskAdmin)).await.unwrap();
    let key = idhub_store::roles::RoleTarget {
        user: helper.user.id.as_str(),
        role: AdminRole::HelpDeskAdmin,
        kind: RoleTargetKind::Group,
        target: g.group.id.as_str(),
    };
    core.store.add_role_target(&org.id, key, T0, &[]).await.unwrap();
    // taken away and granted again: the old targets do not come back with it
    idhub_core::roles::set_role(&core, &org, &boss_actor, helper.user.id.as_str(), None).await.unwrap();
    idhub_core::roles::set_role(&core, &org, &boss_actor, helper.user.id.as_str(), Some(AdminRole::HelpDeskAdmin)).await.unwrap();
    let targets = core.store.role_targets(&org.id, helper.user.id.as_str(), AdminRole::HelpDeskAdmin, RoleTargetKind::Group).await.unwrap();
    assert!(targets.is_empty(), "{targets:?}");
}

#[tokio::test]
async fn a_finished_sign_in_replaces_the_browsers_previous_session() {
    use idhub_core::signin::complete::{complete, Completed, SignIn, Via};
    use idhub_core::signin::sessions;
    let (core, org, clock, _db) = core().await;
    let ada = directory::create_user(&core, &org, &Actor::system(), new_user("ada@acme.example")).await.unwrap();
    let client = idhub_domain::event::ClientInfo::default();
    let sign_in = || SignIn { user: &ada, amr: vec!["pwd".into()], target: None, events: vec![] };
    let Completed::Session { secret: first, session, to } =
        complete(&core, &org, Via::Browser { previous: None }, &client, sign_in()).await.unwrap()
    else {
        panic!("no MFA policy: a session")
    };
    assert_eq!(to, "/app/UserHome");
    assert_eq!(session.created, T0, "the session starts at the core's now");
    assert!(sessions::find(&core, &org, &first).await.unwrap().is_some());
    clock.advance(1_000);
    let Completed::Session { secret: second, .. } =
        complete(&core, &org, Via::Browser { previous: Some(&first) }, &client, sign_in()).await.unwrap()
    else {
        panic!("a session")
    };
    assert!(sessions::find(&core, &org, &first).await.unwrap().is_none(), "the previous session ended");
    assert!(sessions::find(&core, &org, &second).await.unwrap().is_some());
    assert!(sessions::find(&core, &org, "x".repeat(65).as_str()).await.unwrap().is_none(), "an implausible secret is not looked up");
}

#[tokio::test]
async fn the_sign_on_policy_names_only_a_group_of_the_org_wherever_it_is_saved() {
    use idhub_domain::policy::{MfaRequirement, SignOnPolicy};
    let (core, org, _clock, _db) = core().await;
    let actor = Actor::system();
    let policy =
        |group: &str| SignOnPolicy { mfa: MfaRequirement::Group, mfa_group_id: Some(group.to_string()), ..SignOnPolicy::default() };
    match idhub_core::org_settings::save_sign_on_policy(&core, &org, &actor, &policy("00gnothere")).await {
        Err(e @ CoreError::Validation { .. }) => assert!(e.causes().iter().any(|c| c.starts_with("mfaGroupId:")), "{e:?}"),
        other => panic!("an unknown MFA group is refused: {other:?}"),
    }
    let stored = core.store.org_by_name("acme").await.unwrap();
    assert!(stored.settings.get("signOn").is_none(), "nothing was saved: {}", stored.settings);
    let g = groups::create_group(&core, &org, &actor, GroupProfile::entered("MFA", None)).await.unwrap();
    idhub_core::org_settings::save_sign_on_policy(&core, &org, &actor, &policy(g.group.id.as_str())).await.unwrap();
    let stored = core.store.org_by_name("acme").await.unwrap();
    assert_eq!(SignOnPolicy::from_settings(&stored.settings).mfa_group_id.as_deref(), Some(g.group.id.as_str()));
}
