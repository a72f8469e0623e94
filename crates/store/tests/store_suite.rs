//! The store suite: the same test bodies on SQLite and on PostgreSQL (when
//! `IDHUB_TEST_PG_URL` names a server; `cargo xtask test` starts one).
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use idhub_domain::event::{NewEvent, Party};
use idhub_domain::group::{Group, GroupType};
use idhub_domain::ids::{GroupId, OrgId, UserId};
use idhub_domain::lifecycle::UserStatus;
use idhub_domain::user::{ProviderType, User};
use idhub_store::users::{UserQuery, UserSelect};
use idhub_store::{Store, StoreError};
use idhub_testkit::{backends, fresh_store};
use serde_json::json;

fn user(org: &OrgId, login: &str, now: i64) -> User {
    User {
        id: UserId::generate(),
        org_id: org.clone(),
        status: UserStatus::Staged,
        transitioning_to: None,
        profile: json!({"login": login, "email": login, "firstName": "F", "lastName": "L"}).as_object().cloned().unwrap(),
        type_id: "oty".into(),
        provider: ProviderType::Okta,
        provider_name: "OKTA".into(),
        password_hash: None,
        recovery_question: None,
        created: now,
        activated: None,
        status_changed: None,
        last_login: None,
        last_updated: now,
        password_changed: None,
        admin_role: None,
        failed_logins: 0,
    }
}

async fn org(store: &Store, name: &str) -> OrgId {
    store.create_org(name, &format!("http://{name}.test"), 1, &[]).await.unwrap().id
}

fn ev(t: &str) -> NewEvent {
    NewEvent::success(t, t, Party::system(), vec![], Default::default())
}

#[tokio::test]
async fn users_round_trip_with_events_in_the_same_transaction() {
    for b in backends() {
        let db = fresh_store(b).await;
        let o = org(&db.store, "a").await;
        let u = user(&o, "Round@Trip.test", 10);
        let stored = db.store.create_user(&u, &[], &[ev("user.lifecycle.create")]).await.unwrap();
        let got = db.store.get_user(&o, "round@trip.test").await.unwrap();
        assert_eq!(got.user, u);
        assert_eq!(got.seq, stored.seq);
        // duplicate login ignoring case
        let dup = db.store.create_user(&user(&o, "ROUND@trip.test", 11), &[], &[ev("x")]).await;
        assert!(matches!(dup, Err(StoreError::Conflict(_))), "{b:?}");
        // the failed create wrote no event either
        let events = db
            .store
            .list_events(
                &o,
                &idhub_store::events::LogQuery {
                    since: 0,
                    until: None,
                    filter: None,
                    q: vec![],
                    limit: 100,
                    after: None,
                    descending: false,
                    always_next: false,
                },
            )
            .await
            .unwrap();
        assert_eq!(events.items.len(), 1, "{b:?}");
    }
}

#[tokio::test]
async fn optimistic_updates_detect_stale_writes() {
    for b in backends() {
        let db = fresh_store(b).await;
        let o = org(&db.store, "a").await;
        let stored = db.store.create_user(&user(&o, "occ@x.test", 1), &[], &[]).await.unwrap();
        let mut changed = stored.user.clone();
        changed.status = UserStatus::Active;
        let v2 = db.store.update_user(&changed, stored.version, &[ev("user.lifecycle.activate")]).await.unwrap();
        assert_eq!(v2.version, stored.version + 1);
        let stale = db.store.update_user(&changed, stored.version, &[ev("x")]).await;
        assert!(matches!(stale, Err(StoreError::Stale)), "{b:?}");
        assert_eq!(db.store.get_user(&o, "occ@x.test").await.unwrap().user.status, UserStatus::Active);
    }
}

#[tokio::test]
async fn keyset_pages_cover_everything_once() {
    for b in backends() {
        let db = fresh_store(b).await;
        let o = org(&db.store, "a").await;
        let users: Vec<User> = (0..25).map(|i| user(&o, &format!("u{i:02}@x.test"), i)).collect();
        db.store.bulk_insert_users(&users).await.unwrap();
        let mut after = None;
        let mut seen = vec![];
        loop {
            let page = db.store.list_users(&o, &UserQuery { select: UserSelect::All, limit: 7, after: after.clone() }).await.unwrap();
            seen.extend(page.items.iter().map(|u| u.user.login().to_string()));
            match page.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        let expected: Vec<String> = (0..25).map(|i| format!("u{i:02}@x.test")).collect();
        assert_eq!(seen, expected, "{b:?}");
        assert_eq!(db.store.count_users(&o).await.unwrap(), 25);
    }
}

#[tokio::test]
async fn every_call_is_keyed_by_org() {
    for b in backends() {
        let db = fresh_store(b).await;
        let a = org(&db.store, "a").await;
        let other = org(&db.store, "b").await;
        let u = db.store.create_user(&user(&a, "mine@a.test", 1), &[], &[]).await.unwrap();
        assert!(matches!(db.store.get_user(&other, u.user.id.as_str()).await, Err(StoreError::NotFound)));
        assert!(matches!(db.store.get_user(&other, "mine@a.test").await, Err(StoreError::NotFound)));
        assert!(matches!(db.store.delete_user(&other, &u.user.id, 2, &[]).await, Err(StoreError::NotFound)));
        let g = Group {
            id: GroupId::generate(),
            org_id: other.clone(),
            kind: GroupType::OktaGroup,
            name: "G".into(),
            description: None,
            created: 1,
            last_updated: 1,
            last_membership_updated: 1,
        };
        db.store.create_group(&g, &[]).await.unwrap();
        assert!(matches!(db.store.get_group(&a, g.id.as_str()).await, Err(StoreError::NotFound)));
        // a group of org b cannot take a user of org a
        assert!(matches!(db.store.add_group_member(&a, &g.id, &u, 2, &[], &[]).await, Err(StoreError::NotFound)));
        // the same login can exist in both orgs
        db.store.create_user(&user(&other, "mine@a.test", 1), &[], &[]).await.unwrap();
        // orgs are unique by name and host
        assert!(matches!(db.store.create_org("A", "http://new.test", 1, &[]).await, Err(StoreError::Conflict(_))));
        assert!(matches!(db.store.create_org("new", "http://a.test:80", 1, &[]).await, Err(StoreError::Conflict(_))));
        assert_eq!(db.store.org_by_host("a.test:80").await.unwrap().id, a);
    }
}

#[tokio::test]
async fn reopening_keeps_data_and_migrations_are_idempotent() {
    for b in backends() {
        let db = fresh_store(b).await;
        let o = org(&db.store, "a").await;
        db.store.create_user(&user(&o, "keep@x.test", 1), &[], &[]).await.unwrap();
        db.store.close().await;
        let again = Store::open_url(&db.url).await.unwrap();
        assert!(again.get_user(&o, "keep@x.test").await.is_ok(), "{b:?}");
    }
}

#[tokio::test]
async fn deleting_a_user_or_group_removes_their_app_assignments() {
    use idhub_store::apps::{App, AppGroup, AppUser};
    for b in backends() {
        let db = fresh_store(b).await;
        let o = org(&db.store, "a").await;
        let u = db.store.create_user(&user(&o, "gone@x.test", 1), &[], &[]).await.unwrap();
        let g = Group {
            id: GroupId::generate(),
            org_id: o.clone(),
            kind: GroupType::OktaGroup,
            name: "G".into(),
            description: None,
            created: 1,
            last_updated: 1,
            last_membership_updated: 1,
        };
        db.store.create_group(&g, &[]).await.unwrap();
        let app = App {
            seq: 0,
            id: "0oaTEST".into(),
            org_id: o.clone(),
            name: "bookmark".into(),
            label: "B".into(),
            status: "ACTIVE".into(),
            sign_on_mode: "BOOKMARK".into(),
            settings: json!({ "app": { "url": "https://x.test" } }),
            username_template: json!({}),
            visibility: json!({}),
            accessibility: json!({}),
            created: 1,
            last_updated: 1,
        };
        db.store.create_app(&app, &[]).await.unwrap();
        let au = AppUser {
            app_id: app.id.clone(),
            user_id: u.user.id.0.clone(),
            scope: "USER".into(),
            status: "ACTIVE".into(),
            username: None,
            external_id: None,
            profile: json!({}),
            sync_state: "DISABLED".into(),
            created: 1,
            last_updated: 1,
            last_sync: None,
        };
        db.store.upsert_app_user(&o, &au, &[], &[]).await.unwrap();
        let ag =
            AppGroup { app_id: app.id.clone(), group_id: g.id.0.clone(), priority: 0, profile: json!({}), created: 1, last_updated: 1 };
        db.store.upsert_app_group(&o, &ag, &[], &[]).await.unwrap();
        assert_eq!(db.store.sign_on_assignment(&o, &app.id, u.user.id.as_str()).await.unwrap(), Some(None), "{b:?}");
        let mut named = au.clone();
        named.username = Some("app-login".into());
        db.store.upsert_app_user(&o, &named, &[], &[]).await.unwrap();
        assert_eq!(db.store.sign_on_assignment(&o, &app.id, u.user.id.as_str()).await.unwrap(), Some(Some("app-login".into())));
        assert_eq!(db.store.sign_on_assignment(&o, "0oaOTHER", u.user.id.as_str()).await.unwrap(), None, "{b:?}");
        let (got, assignment) = db.store.app_for_sign_on(&o, &app.id, u.user.id.as_str()).await.unwrap();
        assert_eq!((got.id.as_str(), assignment), (app.id.as_str(), Some(Some("app-login".to_string()))), "{b:?}");
        assert!(matches!(db.store.app_for_sign_on(&o, "0oaOTHER", u.user.id.as_str()).await, Err(StoreError::NotFound)));
        let other = db.store.create_user(&user(&o, "other@x.test", 1), &[], &[]).await.unwrap();
        assert_eq!(db.store.app_for_sign_on(&o, &app.id, other.user.id.as_str()).await.unwrap().1, None, "{b:?}");
        db.store.delete_user(&o, &u.user.id, 2, &[]).await.unwrap();
        assert_eq!(db.store.sign_on_assignment(&o, &app.id, u.user.id.as_str()).await.unwrap(), None, "{b:?}");
        assert!(matches!(db.store.get_app_user(&o, &app.id, u.user.id.as_str()).await, Err(StoreError::NotFound)), "{b:?}");
        db.store.delete_group(&o, &g.id, 2, &[]).await.unwrap();
        assert!(db.store.list_app_groups(&o, &app.id).await.unwrap().is_empty(), "{b:?}");
    }
}

#[tokio::test]
async fn batched_events_are_listed_right_after_they_are_queued_and_written_on_close() {
    use idhub_store::events::LogQuery;
    let q = LogQuery { since: 0, until: None, filter: None, q: vec![], limit: 1000, after: None, descending: false, always_next: false };
    let count = |page: &idhub_store::Page<serde_json::Value>| page.items.iter().filter(|e| e["eventType"] == "test.batched").count();
    for b in backends() {
        let db = fresh_store(b).await;
        let o = org(&db.store, "a").await;
        for i in 0..300 {
            db.store.log_event_batched(&o, ev("test.batched"), 10 + i).await.unwrap();
        }
        assert_eq!(count(&db.store.list_events(&o, &q).await.unwrap()), 300, "{b:?}");
        // queued, then the store closed: nothing lost
        for i in 0..20 {
            db.store.log_event_batched(&o, ev("test.batched"), 400 + i).await.unwrap();
        }
        db.store.close().await;
        let again = Store::open_url(&db.url).await.unwrap();
        assert_eq!(count(&again.list_events(&o, &q).await.unwrap()), 320, "{b:?}");
    }
}

#[tokio::test]
async fn a_session_is_read_with_its_user_in_one_query() {
    use idhub_store::sessions::Session;
    for b in backends() {
        let db = fresh_store(b).await;
        let o = org(&db.store, "a").await;
        let other_org = org(&db.store, "b").await;
        let u = db.store.create_user(&user(&o, "s@x.test", 1), &[], &[]).await.unwrap();
        let session = Session {
            id: "102abc".into(),
            org_id: o.clone(),
            user_id: u.user.id.clone(),
            amr: vec!["pwd".into(), "otp".into()],
            created: 1_000,
            last_seen: 1_000,
            idle_timeout: 60_000,
            expires: 100_000,
        };
        db.store.create_session(&session, "secret", None, None, &[]).await.unwrap();
        let (s, su) = db.store.session_with_user(&o, "secret", 2_000).await.unwrap();
        assert_eq!(s, db.store.session_by_cookie(&o, "secret", 2_000).await.unwrap(), "{b:?}");
        assert_eq!(su.user.id, u.user.id);
        assert_eq!(su.user.login(), "s@x.test");
        assert!(matches!(db.store.session_with_user(&o, "secret", 61_001).await, Err(StoreError::NotFound)), "idle");
        assert!(matches!(db.store.session_with_user(&o, "wrong", 2_000).await, Err(StoreError::NotFound)));
        assert!(matches!(db.store.session_with_user(&other_org, "secret", 2_000).await, Err(StoreError::NotFound)), "keyed by org");
        db.store.delete_user(&o, &u.user.id, 3, &[]).await.unwrap();
        assert!(matches!(db.store.session_with_user(&o, "secret", 2_000).await, Err(StoreError::NotFound)), "{b:?}");
    }
}

#[tokio::test]
async fn work_in_progress_counts_each_running_batch_from_its_oldest_waiting_job() {
    use idhub_store::jobs::{NewJob, Progress};
    let job = |o: &OrgId, batch: &str, kind: &str, key: &str| NewJob {
        org_id: o.clone(),
        queue: "q".into(),
        kind: kind.into(),
        ordering_key: key.into(),
        payload: json!({}),
        batch_id: Some(batch.into()),
    };
    for b in backends() {
        let db = fresh_store(b).await;
        let (o, other) = (org(&db.store, "a").await, org(&db.store, "b").await);
        // an old batch that finished, then a new one under way
        db.store.enqueue_jobs(&[job(&o, "app1", "push", "1")], 10, &[]).await.unwrap();
        let old = db.store.lease_jobs("q", "w", 10, 1000, 20).await.unwrap();
        db.store.complete_job(&old[0], "w", 30).await.unwrap();
        assert!(db.store.work_in_progress(&o).await.unwrap().is_empty(), "{b:?}");
        db.store.enqueue_jobs(&[job(&o, "app1", "push", "2"), job(&o, "app1", "push", "3")], 100, &[]).await.unwrap();
        db.store.enqueue_jobs(&[job(&o, "app1:import", "import", "4"), job(&other, "app9", "push", "5")], 200, &[]).await.unwrap();
        let leased = db.store.lease_jobs("q", "w", 1, 1000, 300).await.unwrap();
        db.store.complete_job(&leased[0], "w", 310).await.unwrap();
        let wip = db.store.work_in_progress(&o).await.unwrap();
        let got: Vec<(&str, &str, i64, Progress)> = wip.iter().map(|w| (w.batch.as_str(), w.kind.as_str(), w.since, w.progress)).collect();
        assert_eq!(
            got,
            vec![
                ("app1", "push", 100, Progress { pending: 1, running: 0, done: 1, failed: 0 }),
                ("app1:import", "import", 200, Progress { pending: 1, running: 0, done: 0, failed: 0 }),
            ],
            "{b:?}: the finished batch before does not count, nor the other org"
        );
    }
}

#[cfg(unix)]
#[tokio::test]
async fn the_data_directory_and_database_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let store = Store::open_data_dir(&dir).await.unwrap();
    // a write, so the -wal and -shm files exist
    org(&store, "a").await;
    let mode = |name: &str| std::fs::metadata(dir.join(name)).unwrap().permissions().mode() & 0o777;
    assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
    for f in ["idhub.db", "idhub.db-wal", "idhub.db-shm"] {
        assert_eq!(mode(f), 0o600, "{f}");
    }
    store.close().await;
    // a database left readable by an older version is made private when opened
    std::fs::set_permissions(dir.join("idhub.db"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let store = Store::open_data_dir(&dir).await.unwrap();
    assert_eq!(mode("idhub.db"), 0o600);
    store.close().await;
}

#[tokio::test]
async fn login_keys_of_an_older_database_are_recomputed_once() {
    for b in backends() {
        let db = fresh_store(b).await;
        let o = org(&db.store, "a").await;
        let nfc = db.store.create_user(&user(&o, "jos\u{e9}@x.test", 1), &[], &[]).await.unwrap();
        let wide = db.store.create_user(&user(&o, "\u{ff53}arah@x.test", 1), &[], &[]).await.unwrap();
        db.store.close().await;
        // as the version before 13 keyed them: lower case, a few accents folded
        let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
        for (id, old) in [(&nfc.user.id, "jose@x.test"), (&wide.user.id, "\u{ff53}arah@x.test")] {
            sqlx::query("UPDATE users SET login_key = $1 WHERE id = $2").bind(old).bind(id.as_str()).execute(&pool).await.unwrap();
        }
        sqlx::query("DELETE FROM idhub_migrations WHERE version = 13").execute(&pool).await.unwrap();
        pool.close().await;
        let again = Store::open_url(&db.url).await.unwrap();
        // the NFD spelling and the plain spelling find the users; the old folding does not
        assert_eq!(again.get_user(&o, "JOSE\u{301}@x.test").await.unwrap().user.id, nfc.user.id, "{b:?}");
        assert_eq!(again.get_user(&o, "sarah@x.test").await.unwrap().user.id, wide.user.id, "{b:?}");
        assert!(matches!(again.get_user(&o, "jose@x.test").await, Err(StoreError::NotFound)), "{b:?}");
        // a plain sarah is the same login as the full-width one
        assert!(matches!(again.create_user(&user(&o, "Sarah@x.test", 2), &[], &[]).await, Err(StoreError::Conflict(_))), "{b:?}");
        again.close().await;
    }
}
