//! Administrator roles that hold: the permission table through the Okta API, cell by cell
//! (caller role × operation × target role), the console's same refusals, and API tokens
//! that act with their owner's current role.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;
use common::browser::{signed_in_admin, PW};
use common::*;
use idhub_domain::ids::OrgId;
use idhub_domain::user::AdminRole;

const ROLES: [Option<&str>; 4] = [None, Some("READ_ONLY_ADMIN"), Some("ORG_ADMIN"), Some("SUPER_ADMIN")];

fn rank(r: Option<&str>) -> u8 {
    match r {
        None => 0,
        Some("READ_ONLY_ADMIN") => 1,
        Some("ORG_ADMIN") => 2,
        _ => 3,
    }
}

/// A user with `role` (granted by the test server's own token); returns their id.
async fn user_with_role(s: &TestServer, login: &str, role: Option<&str>) -> String {
    let u = create_user(s, login, Some(PW), true).await;
    let id = u["id"].as_str().unwrap().to_string();
    if let Some(role) = role {
        let (st, body) = call(s.api(Method::POST, &format!("/api/v1/users/{id}/roles")).json(&json!({ "type": role }))).await;
        assert_eq!(st, StatusCode::CREATED, "{body}");
    }
    id
}

/// A token owned by `user_id` (as the console makes them: it records the creator's role).
async fn token_of(s: &TestServer, user_id: &str, role: AdminRole) -> (String, String) {
    let secret = idhub_store::tokens::new_token_secret();
    let t = s.db.store.create_token(&OrgId(s.org_id.clone()), "owned", &secret, Some(user_id), role, 0, &[]).await.unwrap();
    (secret, t.id.0)
}

fn as_token(s: &TestServer, secret: &str, m: Method, path: &str) -> reqwest::RequestBuilder {
    s.http.request(m, format!("{}{path}", s.base_url)).header("Authorization", format!("SSWS {secret}"))
}

/// What the user looks like to a super administrator, minus what reading it changes.
async fn snapshot(s: &TestServer, id: &str) -> Value {
    let (_, mut u) = call(s.api(Method::GET, &format!("/api/v1/users/{id}"))).await;
    let (_, roles) = call(s.api(Method::GET, &format!("/api/v1/users/{id}/roles"))).await;
    u["roles"] = roles;
    u["_links"] = Value::Null;
    u
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    EditProfile,
    SetPassword,
    Suspend,
    ExpirePassword,
    ResetFactors,
    RevokeToken,
    Grant(&'static str),
    RevokeRole,
}

const OPS: [Op; 10] = [
    Op::EditProfile,
    Op::SetPassword,
    Op::Suspend,
    Op::ExpirePassword,
    Op::ResetFactors,
    Op::RevokeToken,
    Op::Grant("READ_ONLY_ADMIN"),
    Op::Grant("ORG_ADMIN"),
    Op::Grant("SUPER_ADMIN"),
    Op::RevokeRole,
];

/// Okta's rule, restated for the test: read-only administrators change nothing; only
/// super administrators manage roles; nobody touches a user whose role is above theirs.
fn expected(actor: Option<&str>, op: Op, target: Option<&str>) -> bool {
    let role_op = matches!(op, Op::Grant(_) | Op::RevokeRole);
    match actor {
        Some("SUPER_ADMIN") => true,
        Some("ORG_ADMIN") => !role_op && rank(target) <= rank(actor),
        _ => false,
    }
}

#[tokio::test]
async fn the_permission_table_holds_through_the_api_cell_by_cell() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let mut cells = 0;
        for (ai, actor) in ROLES.iter().enumerate().skip(1) {
            let actor_id = user_with_role(&s, &format!("actor{ai}@example.com"), *actor).await;
            let (secret, _) = token_of(&s, &actor_id, AdminRole::parse(actor.unwrap()).unwrap()).await;
            for (oi, op) in OPS.iter().enumerate() {
                for (ti, target) in ROLES.iter().enumerate() {
                    if *op == Op::RevokeRole && target.is_none() {
                        continue; // nothing to revoke
                    }
                    let tid = user_with_role(&s, &format!("t{ai}-{oi}-{ti}@example.com"), *target).await;
                    let target_token = match op {
                        Op::RevokeToken => Some(token_of(&s, &tid, AdminRole::parse(target.unwrap_or("READ_ONLY_ADMIN")).unwrap()).await.1),
                        _ => None,
                    };
                    let before = snapshot(&s, &tid).await;
                    let req = match op {
                        Op::EditProfile => as_token(&s, &secret, Method::POST, &format!("/api/v1/users/{tid}"))
                            .json(&json!({ "profile": { "firstName": "Changed" } })),
                        Op::SetPassword => as_token(&s, &secret, Method::POST, &format!("/api/v1/users/{tid}"))
                            .json(&json!({ "credentials": { "password": { "value": "An0ther-Passw0rd!" } } })),
                        Op::Suspend => as_token(&s, &secret, Method::POST, &format!("/api/v1/users/{tid}/lifecycle/suspend")),
                        Op::ExpirePassword => {
                            as_token(&s, &secret, Method::POST, &format!("/api/v1/users/{tid}/lifecycle/expire_password"))
                        }
                        Op::ResetFactors => as_token(&s, &secret, Method::POST, &format!("/api/v1/users/{tid}/lifecycle/reset_factors")),
                        Op::RevokeToken => {
                            as_token(&s, &secret, Method::DELETE, &format!("/api/v1/api-tokens/{}", target_token.as_deref().unwrap()))
                        }
                        Op::Grant(r) => {
                            as_token(&s, &secret, Method::POST, &format!("/api/v1/users/{tid}/roles")).json(&json!({ "type": r }))
                        }
                        Op::RevokeRole => as_token(&s, &secret, Method::DELETE, &format!("/api/v1/users/{tid}/roles/{}", target.unwrap())),
                    };
                    let (st, body) = call(req).await;
                    let want = expected(*actor, *op, *target);
                    let cell = format!("{:?} by {} on {}", op, actor.unwrap(), target.unwrap_or("a plain user"));
                    if want {
                        assert!(st.is_success(), "{cell}: {st} {body}");
                    } else {
                        assert_eq!(st, StatusCode::FORBIDDEN, "{cell}: {body}");
                        assert_okta_error(&body, "E0000006");
                        assert_eq!(snapshot(&s, &tid).await, before, "{cell}: a refusal changed the user");
                        if let Some(t) = &target_token {
                            let (st, _) = call(s.api(Method::GET, &format!("/api/v1/api-tokens/{t}"))).await;
                            assert_eq!(st, StatusCode::OK, "{cell}: the token was revoked anyway");
                        }
                    }
                    cells += 1;
                }
            }
        }
        assert_eq!(cells, 3 * 10 * 4 - 3);
    }
}

#[tokio::test]
async fn an_org_admin_cannot_take_over_a_super_admin() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let boss = user_with_role(&s, "boss@example.com", Some("SUPER_ADMIN")).await;
        let deputy = user_with_role(&s, "deputy@example.com", Some("ORG_ADMIN")).await;
        let (secret, _) = token_of(&s, &deputy, AdminRole::OrgAdmin).await;
        // The report's sequence: set the super admin's password, then sign in as them.
        let (st, body) = call(
            as_token(&s, &secret, Method::POST, &format!("/api/v1/users/{boss}"))
                .json(&json!({ "credentials": { "password": { "value": "Taken-0ver-Passw0rd" } } })),
        )
        .await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{body}");
        assert!(body["errorCauses"][0]["errorSummary"].as_str().unwrap().contains("SUPER_ADMIN"), "{body}");
        let (st, _) = call(as_token(&s, &secret, Method::POST, &format!("/api/v1/users/{boss}/lifecycle/deactivate"))).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        // Nor promote themselves.
        let (st, _) =
            call(as_token(&s, &secret, Method::POST, &format!("/api/v1/users/{deputy}/roles")).json(&json!({ "type": "SUPER_ADMIN" })))
                .await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        // The super admin still signs in with their own password.
        let mut b = common::browser::Browser::new(&s);
        b.sign_in("boss@example.com").await;
        // The console refuses the same things, and does not offer them.
        let mut console = signed_in_admin(&s, "deputy2@example.com", "ORG_ADMIN").await;
        let (st, page, _) = console.get(&format!("/admin/user/{boss}")).await;
        assert_eq!(st, StatusCode::OK);
        assert!(!page.contains("id=\"action-deactivate\""), "the deactivate action is offered");
        assert!(!page.contains("id=\"save-profile\""), "the profile can be saved");
        for path in [format!("/admin/user/{boss}/lifecycle/deactivate"), format!("/admin/user/{boss}/lifecycle/reset_password")] {
            let (st, page, _) = console.post(&path, &[]).await;
            assert_eq!(st, StatusCode::FORBIDDEN, "{path}");
            assert!(page.contains("a role above yours"), "{page}");
        }
        let (st, _, _) = console.post(&format!("/admin/user/{boss}/profile"), &[("firstName", "Mallory")]).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let (_, u) = call(s.api(Method::GET, &format!("/api/v1/users/{boss}"))).await;
        assert_eq!(u["status"], "ACTIVE");
        assert_ne!(u["profile"]["firstName"], "Mallory");
        // On a plain user the same admin may act.
        let plain = user_with_role(&s, "plain@example.com", None).await;
        let (st, _, _) = console.post(&format!("/admin/user/{plain}/lifecycle/suspend"), &[]).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
    }
}

#[tokio::test]
async fn tokens_act_with_their_owners_current_role() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let owner = user_with_role(&s, "owner@example.com", Some("SUPER_ADMIN")).await;
        let (secret, _) = token_of(&s, &owner, AdminRole::SuperAdmin).await;
        let victim = user_with_role(&s, "victim@example.com", None).await;
        let grant = |r: &str| as_token(&s, &secret, Method::POST, &format!("/api/v1/users/{victim}/roles")).json(&json!({ "type": r }));
        assert_eq!(call(grant("READ_ONLY_ADMIN")).await.0, StatusCode::CREATED);

        // Demoted: the token is an org admin's now, and may not manage roles.
        let (st, _) = call(s.api(Method::DELETE, &format!("/api/v1/users/{owner}/roles/SUPER_ADMIN"))).await;
        assert_eq!(st, StatusCode::NO_CONTENT);
        let (st, _) = call(s.api(Method::POST, &format!("/api/v1/users/{owner}/roles")).json(&json!({ "type": "ORG_ADMIN" }))).await;
        assert_eq!(st, StatusCode::CREATED);
        let (st, body) = call(grant("SUPER_ADMIN")).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{body}");
        assert_okta_error(&body, "E0000006");
        assert_eq!(call(as_token(&s, &secret, Method::GET, "/api/v1/users")).await.0, StatusCode::OK);

        // Demoted to read-only: reads, no writes.
        call(s.api(Method::DELETE, &format!("/api/v1/users/{owner}/roles/ORG_ADMIN"))).await;
        call(s.api(Method::POST, &format!("/api/v1/users/{owner}/roles")).json(&json!({ "type": "READ_ONLY_ADMIN" }))).await;
        assert_eq!(call(as_token(&s, &secret, Method::GET, "/api/v1/users")).await.0, StatusCode::OK);
        let (st, _) =
            call(as_token(&s, &secret, Method::POST, "/api/v1/groups").json(&json!({ "profile": { "name": "by a demoted token" } }))).await;
        assert_eq!(st, StatusCode::FORBIDDEN);

        // No role at all: the token may do nothing.
        call(s.api(Method::DELETE, &format!("/api/v1/users/{owner}/roles/READ_ONLY_ADMIN"))).await;
        let (st, body) = call(as_token(&s, &secret, Method::GET, "/api/v1/users")).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{body}");

        // Given the role back, then deactivated: the token stops working (401), as Okta's do.
        call(s.api(Method::POST, &format!("/api/v1/users/{owner}/roles")).json(&json!({ "type": "SUPER_ADMIN" }))).await;
        assert_eq!(call(as_token(&s, &secret, Method::GET, "/api/v1/users")).await.0, StatusCode::OK);
        let (st, _) = call(s.api(Method::POST, &format!("/api/v1/users/{owner}/lifecycle/deactivate"))).await;
        assert_eq!(st, StatusCode::OK);
        let (st, body) = call(grant("SUPER_ADMIN")).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{body}");
        assert_okta_error(&body, "E0000011");
        let (_, roles) = call(s.api(Method::GET, &format!("/api/v1/users/{victim}/roles"))).await;
        assert_eq!(roles[0]["type"], "READ_ONLY_ADMIN", "the deactivated owner's token granted a role");

        // Suspended likewise.
        let owner2 = user_with_role(&s, "owner2@example.com", Some("SUPER_ADMIN")).await;
        let (secret2, _) = token_of(&s, &owner2, AdminRole::SuperAdmin).await;
        call(s.api(Method::POST, &format!("/api/v1/users/{owner2}/lifecycle/suspend"))).await;
        assert_eq!(call(as_token(&s, &secret2, Method::GET, "/api/v1/users")).await.0, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn only_super_admins_change_the_sign_on_policy_in_the_api_as_in_the_console() {
    let s = TestServer::start(idhub_store::Backend::Sqlite).await;
    let deputy = user_with_role(&s, "deputy@example.com", Some("ORG_ADMIN")).await;
    let (secret, _) = token_of(&s, &deputy, AdminRole::OrgAdmin).await;
    let (st, body) = call(as_token(&s, &secret, Method::PUT, "/api/v1/idhub/policies/sign-on").json(&json!({ "mfa": "ALWAYS" }))).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{body}");
    let (_, policy) = call(s.api(Method::GET, "/api/v1/idhub/policies/sign-on")).await;
    assert_ne!(policy["mfa"], "ALWAYS");
}

async fn group(s: &TestServer, name: &str, members: &[&str]) -> String {
    let (st, g) = call(s.api(Method::POST, "/api/v1/groups").json(&json!({ "profile": { "name": name } }))).await;
    assert_eq!(st, StatusCode::OK, "{g}");
    let gid = g["id"].as_str().unwrap().to_string();
    for m in members {
        let (st, _) = call(s.api(Method::PUT, &format!("/api/v1/groups/{gid}/users/{m}"))).await;
        assert_eq!(st, StatusCode::NO_CONTENT);
    }
    gid
}

#[tokio::test]
async fn group_and_help_desk_admins_act_only_on_plain_members_of_their_target_groups() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let inside = user_with_role(&s, "inside@example.com", None).await;
        let inside2 = user_with_role(&s, "inside2@example.com", None).await;
        let outside = user_with_role(&s, "outside@example.com", None).await;
        let admin_inside = user_with_role(&s, "ro-inside@example.com", Some("READ_ONLY_ADMIN")).await;
        let sales = group(&s, "Sales", &[&inside, &inside2, &admin_inside]).await;
        let _support = group(&s, "Support", &[&outside]).await;

        let ga = user_with_role(&s, "group-admin@example.com", Some("USER_ADMIN")).await;
        let (st, body) = call(s.api(Method::PUT, &format!("/api/v1/users/{ga}/roles/USER_ADMIN/targets/groups/{sales}"))).await;
        assert_eq!(st, StatusCode::NO_CONTENT, "{body}");
        let (_, targets) = call(s.api(Method::GET, &format!("/api/v1/users/{ga}/roles/USER_ADMIN/targets/groups"))).await;
        assert_eq!(targets.as_array().unwrap().len(), 1);
        assert_eq!(targets[0]["profile"]["name"], "Sales");
        let (secret, _) = token_of(&s, &ga, AdminRole::UserAdmin).await;
        let t = |m: Method, p: &str| as_token(&s, &secret, m, p);

        assert_eq!(call(t(Method::GET, "/api/v1/users")).await.0, StatusCode::OK, "reads like any administrator");
        let (st, body) = call(t(Method::POST, &format!("/api/v1/users/{inside}/lifecycle/suspend"))).await;
        assert_eq!(st, StatusCode::OK, "{body}");
        let (st, body) = call(t(Method::POST, &format!("/api/v1/users/{inside}")).json(&json!({ "profile": { "nickName": "Sam" } }))).await;
        assert_eq!(st, StatusCode::OK, "{body}");
        for (path, why) in [
            (format!("/api/v1/users/{outside}/lifecycle/suspend"), "outside the groups"),
            (format!("/api/v1/users/{admin_inside}/lifecycle/suspend"), "manages only non-administrators"),
        ] {
            let (st, body) = call(t(Method::POST, &path)).await;
            assert_eq!(st, StatusCode::FORBIDDEN, "{path}: {body}");
            assert!(body["errorCauses"][0]["errorSummary"].as_str().unwrap().contains(why), "{body}");
        }
        assert_eq!(snapshot(&s, &outside).await["status"], "ACTIVE");
        // Nothing org-wide: no groups, no apps, no roles.
        let (st, _) = call(t(Method::POST, "/api/v1/groups").json(&json!({ "profile": { "name": "mine" } }))).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let (st, _) = call(t(Method::POST, &format!("/api/v1/users/{inside}/roles")).json(&json!({ "type": "READ_ONLY_ADMIN" }))).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let (st, _) = call(t(Method::PUT, &format!("/api/v1/users/{ga}/roles/USER_ADMIN/targets/groups/{_support}"))).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "a group admin widened their own scope");

        // A help desk administrator resets and unlocks, but does not change the lifecycle.
        let hd = user_with_role(&s, "help-desk@example.com", Some("HELP_DESK_ADMIN")).await;
        call(s.api(Method::PUT, &format!("/api/v1/users/{hd}/roles/HELP_DESK_ADMIN/targets/groups/{sales}"))).await;
        let (hd_secret, _) = token_of(&s, &hd, AdminRole::HelpDeskAdmin).await;
        let h = |m: Method, p: &str| as_token(&s, &hd_secret, m, p);
        let (st, body) = call(h(Method::POST, &format!("/api/v1/users/{inside2}/lifecycle/reset_factors"))).await;
        assert_eq!(st, StatusCode::OK, "{body}");
        let (st, body) = call(h(Method::POST, &format!("/api/v1/users/{inside2}/lifecycle/reset_password?sendEmail=false"))).await;
        assert_eq!(st, StatusCode::OK, "{body}");
        let (st, body) = call(h(Method::POST, &format!("/api/v1/users/{inside2}/lifecycle/deactivate"))).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{body}");
        assert!(body["errorCauses"][0]["errorSummary"].as_str().unwrap().contains("does not include"), "{body}");
        let (st, _) = call(h(Method::POST, &format!("/api/v1/users/{outside}/lifecycle/reset_password?sendEmail=false"))).await;
        assert_eq!(st, StatusCode::FORBIDDEN);

        // Targets only fit scoped roles, and a role granted anew starts without them.
        let (st, body) =
            call(s.api(Method::PUT, &format!("/api/v1/users/{admin_inside}/roles/READ_ONLY_ADMIN/targets/groups/{sales}"))).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
        assert_okta_error(&body, "E0000001");
        call(s.api(Method::DELETE, &format!("/api/v1/users/{ga}/roles/USER_ADMIN"))).await;
        call(s.api(Method::POST, &format!("/api/v1/users/{ga}/roles")).json(&json!({ "type": "USER_ADMIN" }))).await;
        let (_, targets) = call(s.api(Method::GET, &format!("/api/v1/users/{ga}/roles/USER_ADMIN/targets/groups"))).await;
        assert_eq!(targets, json!([]));
        // With no target the role covers every group.
        let (st, _) = call(t(Method::POST, &format!("/api/v1/users/{outside}/lifecycle/suspend"))).await;
        assert_eq!(st, StatusCode::OK);
    }
}

#[tokio::test]
async fn app_admins_change_only_their_target_apps() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let (_, mine) = call(s.api(Method::POST, "/api/v1/apps").json(&json!({ "name": "dropbox_for_business", "label": "Mine" }))).await;
        let (_, other) = call(s.api(Method::POST, "/api/v1/apps").json(&json!({ "name": "dropbox_for_business", "label": "Other" }))).await;
        let (mine, other) = (mine["id"].as_str().unwrap().to_string(), other["id"].as_str().unwrap().to_string());
        let aa = user_with_role(&s, "app-admin@example.com", Some("APP_ADMIN")).await;
        let (st, body) =
            call(s.api(Method::PUT, &format!("/api/v1/users/{aa}/roles/APP_ADMIN/targets/catalog/apps/dropbox_for_business/{mine}"))).await;
        assert_eq!(st, StatusCode::NO_CONTENT, "{body}");
        let (_, targets) = call(s.api(Method::GET, &format!("/api/v1/users/{aa}/roles/APP_ADMIN/targets/catalog/apps"))).await;
        assert_eq!(targets[0]["label"], "Mine");
        let (secret, _) = token_of(&s, &aa, AdminRole::AppAdmin).await;
        let (st, body) = call(as_token(&s, &secret, Method::POST, &format!("/api/v1/apps/{mine}/lifecycle/deactivate"))).await;
        assert_eq!(st, StatusCode::OK, "{body}");
        let (st, body) = call(as_token(&s, &secret, Method::POST, &format!("/api/v1/apps/{other}/lifecycle/deactivate"))).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{body}");
        let (_, got) = call(s.api(Method::GET, &format!("/api/v1/apps/{other}"))).await;
        assert_eq!(got["status"], "ACTIVE");
        let plain = user_with_role(&s, "plain@example.com", None).await;
        let (st, _) = call(as_token(&s, &secret, Method::POST, &format!("/api/v1/users/{plain}/lifecycle/suspend"))).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "an app admin changed a user");
        let (st, _) = call(as_token(&s, &secret, Method::POST, "/api/v1/apps").json(&json!({ "name": "dropbox_for_business" }))).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "an app admin with targets added an app");
    }
}
