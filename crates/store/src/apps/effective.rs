//! Effective assignments of an app: who reaches it directly (an app user of scope USER)
//! and who only through a group (Everyone included), the way Okta lists an app's users
//! with scope USER or GROUP. Pages are keyed by user id, so they are stable while
//! assignments change.

use super::{app_group_from_row, app_user_from_row, AppGroup, AppUser, APP_GROUP_COLS, APP_USER_COLS};
use crate::{Result, Store};
use idhub_domain::ids::OrgId;

/// One user's effective assignment to an app.
#[derive(Debug, Clone, PartialEq)]
pub struct EffectiveAssignment {
    pub user_id: String,
    /// The direct assignment, if any (it wins: scope USER).
    pub direct: Option<AppUser>,
    /// The group assignment that reaches the user with the best (lowest) priority.
    pub group: Option<AppGroup>,
}

impl EffectiveAssignment {
    /// `USER` when assigned directly, else `GROUP`.
    pub fn scope(&self) -> &'static str {
        if self.direct.is_some() {
            "USER"
        } else {
            "GROUP"
        }
    }
}

fn better(current: &Option<AppGroup>, candidate: &AppGroup) -> bool {
    match current {
        None => true,
        Some(c) => (candidate.priority, candidate.created, &candidate.group_id) < (c.priority, c.created, &c.group_id),
    }
}

impl Store {
    /// The users of an app (existing users reaching it directly or through any group), in
    /// user-id order after `after_user`, at most `limit`.
    pub async fn app_assignments_page(&self, org: &OrgId, app: &str, after_user: &str, limit: i64) -> Result<Vec<EffectiveAssignment>> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT u.id FROM users u WHERE u.org_id = $1 AND u.id > $3 AND (\
               EXISTS (SELECT 1 FROM app_users au WHERE au.org_id = $1 AND au.app_id = $2 AND au.user_id = u.id) \
               OR EXISTS (SELECT 1 FROM app_groups ag JOIN group_members gm ON gm.group_id = ag.group_id AND gm.org_id = ag.org_id \
                          WHERE ag.org_id = $1 AND ag.app_id = $2 AND gm.user_id = u.id) \
               OR EXISTS (SELECT 1 FROM app_groups ag JOIN user_groups g ON g.id = ag.group_id AND g.org_id = ag.org_id \
                          WHERE ag.org_id = $1 AND ag.app_id = $2 AND g.kind = 'BUILT_IN')\
             ) ORDER BY u.id LIMIT $4",
        )
        .bind(org.as_str())
        .bind(app)
        .bind(after_user)
        .bind(limit)
        .fetch_all(self.read_pool())
        .await?;
        self.assignments_of(org, app, &ids).await
    }

    /// One user's effective assignment to an app, if the user reaches it.
    pub async fn app_assignment_for(&self, org: &OrgId, app: &str, user: &str) -> Result<Option<EffectiveAssignment>> {
        Ok(self.assignments_of(org, app, &[user.to_string()]).await?.into_iter().next())
    }

    /// The effective assignments of `ids` (sorted ascending); users reaching the app
    /// neither directly nor through a group are left out.
    async fn assignments_of(&self, org: &OrgId, app: &str, ids: &[String]) -> Result<Vec<EffectiveAssignment>> {
        let (Some(lo), Some(hi)) = (ids.first(), ids.last()) else {
            return Ok(vec![]);
        };
        let direct = sqlx::query(&format!(
            "SELECT {APP_USER_COLS} FROM app_users WHERE org_id = $1 AND app_id = $2 AND user_id >= $3 AND user_id <= $4"
        ))
        .bind(org.as_str())
        .bind(app)
        .bind(lo)
        .bind(hi)
        .fetch_all(self.read_pool())
        .await?
        .iter()
        .map(app_user_from_row)
        .collect::<Result<Vec<_>>>()?;
        let member_rows = sqlx::query(&format!(
            "SELECT gm.user_id, {APP_GROUP_COLS} FROM app_groups ag JOIN group_members gm ON gm.group_id = ag.group_id AND gm.org_id = ag.org_id \
             WHERE ag.org_id = $1 AND ag.app_id = $2 AND gm.user_id >= $3 AND gm.user_id <= $4"
        ))
        .bind(org.as_str())
        .bind(app)
        .bind(lo)
        .bind(hi)
        .fetch_all(self.read_pool())
        .await?;
        let mut through_groups: Vec<(String, AppGroup)> = Vec::with_capacity(member_rows.len());
        for row in &member_rows {
            through_groups.push((crate::get(row, "user_id")?, app_group_from_row(row)?));
        }
        let everyone = sqlx::query(&format!(
            "SELECT {APP_GROUP_COLS} FROM app_groups ag JOIN user_groups g ON g.id = ag.group_id AND g.org_id = ag.org_id \
             WHERE ag.org_id = $1 AND ag.app_id = $2 AND g.kind = 'BUILT_IN'"
        ))
        .bind(org.as_str())
        .bind(app)
        .fetch_all(self.read_pool())
        .await?
        .iter()
        .map(app_group_from_row)
        .collect::<Result<Vec<_>>>()?;

        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let direct = direct.iter().find(|d| &d.user_id == id).cloned();
            let mut group: Option<AppGroup> = None;
            for g in through_groups.iter().filter(|(u, _)| u == id).map(|(_, g)| g).chain(everyone.iter()) {
                if better(&group, g) {
                    group = Some(g.clone());
                }
            }
            if direct.is_some() || group.is_some() {
                out.push(EffectiveAssignment { user_id: id.clone(), direct, group });
            }
        }
        Ok(out)
    }
}
