//! The targets of scoped administrator roles: the groups a group or help desk
//! administrator manages, the apps an app administrator manages. A role that targets
//! nothing covers all of them (Okta's rule).

use crate::write::Write;
use crate::{Result, Store};
use idhub_domain::event::NewEvent;
use idhub_domain::ids::OrgId;
use idhub_domain::time::Millis;
use idhub_domain::user::{AdminRole, RoleTargetKind};

/// One target of one user's role: the key of a row of `admin_role_targets`.
#[derive(Debug, Clone, Copy)]
pub struct RoleTarget<'a> {
    pub user: &'a str,
    pub role: AdminRole,
    pub kind: RoleTargetKind,
    pub target: &'a str,
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

impl<'a> RoleTarget<'a> {
    /// Bind org, user, role, kind and target as `$1`…`$5`.
    fn bind<'q>(&self, org: &'q OrgId, q: AnyQuery<'q>) -> AnyQuery<'q>
    where
        'a: 'q,
    {
        q.bind(org.as_str()).bind(self.user).bind(self.role.as_str()).bind(self.kind.as_str()).bind(self.target)
    }
}

const TARGET_KEY: &str = "org_id = $1 AND user_id = $2 AND role = $3 AND kind = $4 AND target_id = $5";

impl Store {
    /// The ids a user's `role` targets, oldest first.
    pub async fn role_targets(&self, org: &OrgId, user: &str, role: AdminRole, kind: RoleTargetKind) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT target_id FROM admin_role_targets WHERE org_id = $1 AND user_id = $2 AND role = $3 AND kind = $4 ORDER BY created, target_id",
        )
        .bind(org.as_str())
        .bind(user)
        .bind(role.as_str())
        .bind(kind.as_str())
        .fetch_all(self.read_pool())
        .await?)
    }

    /// Add a target to a user's role, with its events; false if it was there already.
    pub async fn add_role_target(&self, org: &OrgId, key: RoleTarget<'_>, now: Millis, events: &[NewEvent]) -> Result<bool> {
        let mut w = Write::begin(self, org).await?;
        let exists =
            key.bind(org, sqlx::query(&format!("SELECT 1 FROM admin_role_targets WHERE {TARGET_KEY}"))).fetch_optional(w.conn()).await?;
        if exists.is_some() {
            return Ok(false);
        }
        let insert = "INSERT INTO admin_role_targets (org_id, user_id, role, kind, target_id, created) VALUES ($1, $2, $3, $4, $5, $6)";
        key.bind(org, sqlx::query(insert)).bind(now).execute(w.conn()).await?;
        w.commit(events, &[], now).await?;
        Ok(true)
    }

    /// Remove a target from a user's role, with its events; false if it was not there.
    pub async fn remove_role_target(&self, org: &OrgId, key: RoleTarget<'_>, now: Millis, events: &[NewEvent]) -> Result<bool> {
        let mut w = Write::begin(self, org).await?;
        let delete = format!("DELETE FROM admin_role_targets WHERE {TARGET_KEY}");
        let n = key.bind(org, sqlx::query(&delete)).execute(w.conn()).await?.rows_affected();
        if n == 0 {
            return Ok(false);
        }
        w.commit(events, &[], now).await?;
        Ok(true)
    }

    /// Forget every target of a user's role (before it is granted anew).
    pub async fn clear_role_targets(&self, org: &OrgId, user: &str, role: AdminRole) -> Result<()> {
        sqlx::query("DELETE FROM admin_role_targets WHERE org_id = $1 AND user_id = $2 AND role = $3")
            .bind(org.as_str())
            .bind(user)
            .bind(role.as_str())
            .execute(self.write_pool())
            .await?;
        Ok(())
    }

    /// Does `admin`'s group-scoped `role` cover `member`: the role targets no group, or
    /// `member` belongs to one it targets? One query.
    pub async fn role_covers_user(&self, org: &OrgId, admin: &str, role: AdminRole, member: &str) -> Result<bool> {
        let (targets, hits): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM group_members m \
               WHERE m.org_id = t.org_id AND m.group_id = t.target_id AND m.user_id = $4) THEN 1 ELSE 0 END), 0) \
             FROM admin_role_targets t WHERE t.org_id = $1 AND t.user_id = $2 AND t.role = $3 AND t.kind = 'GROUP'",
        )
        .bind(org.as_str())
        .bind(admin)
        .bind(role.as_str())
        .bind(member)
        .fetch_one(self.read_pool())
        .await?;
        Ok(targets == 0 || hits > 0)
    }

    /// Does `admin`'s app-scoped `role` cover the app `app`: it targets no app, or this one?
    pub async fn role_covers_app(&self, org: &OrgId, admin: &str, role: AdminRole, app: &str) -> Result<bool> {
        let (targets, hits): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN target_id = $4 THEN 1 ELSE 0 END), 0) \
             FROM admin_role_targets WHERE org_id = $1 AND user_id = $2 AND role = $3 AND kind = 'APP'",
        )
        .bind(org.as_str())
        .bind(admin)
        .bind(role.as_str())
        .bind(app)
        .fetch_one(self.read_pool())
        .await?;
        Ok(targets == 0 || hits > 0)
    }
}
