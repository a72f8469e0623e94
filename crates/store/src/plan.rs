//! Provisioning planning: which users a change must reconcile with which provisioned apps
//! (apps with an enabled connection), worked out inside the change's own transaction and
//! written there as sync jobs. Every change that can alter who is assigned to an app, or
//! what an assigned user looks like, goes through [`Plan`]: user creation (with groups,
//! just-in-time too), profile, login and lifecycle changes, memberships, group deletion,
//! direct and group assignments. The job only names the app and the user; the worker reads
//! the state when it runs, so a job planned for a user who turns out to be unchanged is a
//! harmless reconcile.

use crate::jobs::{enqueue, NewJob};
use crate::Result;
use idhub_domain::ids::OrgId;
use idhub_domain::time::Millis;
use serde_json::json;
use sqlx::AnyConnection;
use std::collections::{BTreeMap, BTreeSet};

/// The queue provisioning jobs run on.
pub const QUEUE: &str = "provisioning";
/// The job that reconciles one user of one app with the hub.
pub const SYNC_USER: &str = "org2org.sync_user";

/// The job that reconciles `user` in `app` with the hub.
pub fn sync_job(org: &OrgId, app: &str, user: &str) -> NewJob {
    NewJob {
        org_id: org.clone(),
        queue: QUEUE.into(),
        kind: SYNC_USER.into(),
        ordering_key: format!("{app}:{user}"),
        payload: json!({ "appId": app, "userId": user }),
        // An app's pushes form its batch: progress is counted per app.
        batch_id: Some(app.to_string()),
    }
}

/// Whom a change affects, and so which (app, user) pairs get a sync job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Affected {
    /// The user itself changed (created, profile, login, status): every provisioned app it
    /// reaches, before or after.
    User(String),
    /// The user joined or left a group: the apps it reaches only before or only after.
    Membership(String),
    /// A group's members: in `app` (a group assignment added, changed or removed: every
    /// member), or in every app when `None` (the group deleted: the members who lose an
    /// app through it).
    Group { group: String, app: Option<String> },
    /// Direct assignments of `users` to `app` (added, changed or removed).
    AppUsers { app: String, users: Vec<String> },
}

type Pair = (String, String);

/// A planning under way in a transaction: [`Plan::start`] before the change records who
/// reached what, [`Plan::finish`] after it enqueues the sync jobs. Store methods use it
/// through [`crate::write::Write::planning`].
#[derive(Debug)]
pub(crate) struct Plan {
    org: OrgId,
    affected: Affected,
    before: BTreeSet<Pair>,
}

impl Plan {
    /// Record, before the change, the provisioned apps the affected users reach.
    pub(crate) async fn start(conn: &mut AnyConnection, org: &OrgId, affected: Affected) -> Result<Plan> {
        let before = reach(conn, org, &affected).await?;
        Ok(Plan { org: org.clone(), affected, before })
    }

    /// After the change: enqueue the sync jobs and return how many. `passwords` (app id →
    /// sealed password) go into the jobs of those apps (Sync Password).
    pub(crate) async fn finish(self, conn: &mut AnyConnection, now: Millis, passwords: &BTreeMap<String, String>) -> Result<usize> {
        let after = reach(conn, &self.org, &self.affected).await?;
        let pairs: Vec<&Pair> = match &self.affected {
            // only who gains or loses an app
            Affected::Membership(_) | Affected::Group { app: None, .. } => self.before.symmetric_difference(&after).collect(),
            _ => self.before.union(&after).collect(),
        };
        for (app, user) in &pairs {
            let mut job = sync_job(&self.org, app, user);
            if let Some(sealed) = passwords.get(app) {
                job.payload["password"] = json!(sealed);
            }
            enqueue(conn, &job, now).await?;
        }
        Ok(pairs.len())
    }
}

/// The (app, user) pairs of provisioned apps that the affected users reach (directly,
/// through a group, or through Everyone).
async fn reach(conn: &mut AnyConnection, org: &OrgId, affected: &Affected) -> Result<BTreeSet<Pair>> {
    let mut binds: Vec<String> = vec![org.0.clone()];
    let mut bind = |v: &str| {
        binds.push(v.to_string());
        format!("${}", binds.len())
    };
    let (users, app) = match affected {
        Affected::User(u) | Affected::Membership(u) => (format!("u.id = {}", bind(u)), None),
        Affected::Group { group, app } => {
            let g = bind(group);
            (
                format!(
                    "(u.id IN (SELECT user_id FROM group_members WHERE org_id = $1 AND group_id = {g}) \
                     OR EXISTS (SELECT 1 FROM user_groups WHERE org_id = $1 AND id = {g} AND kind = 'BUILT_IN'))"
                ),
                app.as_deref(),
            )
        }
        Affected::AppUsers { app, users } => {
            if users.is_empty() {
                return Ok(BTreeSet::new());
            }
            let list: Vec<String> = users.iter().map(|u| bind(u)).collect();
            (format!("u.id IN ({})", list.join(", ")), Some(app.as_str()))
        }
    };
    let app = match app {
        Some(a) => format!(" AND c.app_id = {}", bind(a)),
        None => String::new(),
    };
    let sql = format!(
        "SELECT c.app_id, u.id AS user_id FROM app_connections c JOIN users u ON u.org_id = c.org_id \
         WHERE c.org_id = $1 AND c.status = 'ENABLED'{app} AND {users} AND (\
           EXISTS (SELECT 1 FROM app_users au WHERE au.org_id = $1 AND au.app_id = c.app_id AND au.user_id = u.id) \
           OR EXISTS (SELECT 1 FROM app_groups ag JOIN group_members gm ON gm.group_id = ag.group_id AND gm.org_id = ag.org_id \
                      WHERE ag.org_id = $1 AND ag.app_id = c.app_id AND gm.user_id = u.id) \
           OR EXISTS (SELECT 1 FROM app_groups ag JOIN user_groups g ON g.id = ag.group_id AND g.org_id = ag.org_id \
                      WHERE ag.org_id = $1 AND ag.app_id = c.app_id AND g.kind = 'BUILT_IN'))"
    );
    let mut q = sqlx::query_as::<_, (String, String)>(&sql);
    for b in &binds {
        q = q.bind(b.as_str());
    }
    Ok(q.fetch_all(&mut *conn).await?.into_iter().collect())
}
