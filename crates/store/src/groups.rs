//! Groups and memberships: CRUD, `q`, `filter`/`search`, members paged by user order.

use crate::jobs::NewJob;
use crate::plan::Affected;
use crate::rows::{group_from_row, user_from_row, StoredGroup, StoredUser, GROUP_COLS, USER_COLS};
use crate::sql::{bind_all, prefix_upper};
use crate::sqlfilter::{self, Bind, Column, ColumnKind};
use crate::users::{add_member, ListError};
use crate::write::Write;
use crate::{decode_cursor, encode_cursor, Page, Result, Store, StoreError};
use idhub_domain::event::NewEvent;
use idhub_domain::filter::Expr;
use idhub_domain::group::Group;
use idhub_domain::ids::{GroupId, OrgId, UserId};
use idhub_domain::time::Millis;

/// How a group listing is narrowed.
#[derive(Debug, Clone)]
pub enum GroupSelect {
    All,
    /// Name starts with (ignoring case).
    Q(String),
    Filter(Expr),
    Search(Expr),
}

fn group_column(attr: &str) -> Option<Column> {
    let col = |sql: &str, kind| Some(Column { sql: sql.to_string(), kind });
    match attr {
        "id" => col("id", ColumnKind::Text),
        "type" => col("kind", ColumnKind::Text),
        "profile.name" => col("name", ColumnKind::Text),
        "profile.description" => col("description", ColumnKind::Text),
        "created" => col("created", ColumnKind::Millis),
        "lastUpdated" => col("last_updated", ColumnKind::Millis),
        "lastMembershipUpdated" => col("last_membership_updated", ColumnKind::Millis),
        _ => None,
    }
}

impl Store {
    /// Create a group (names are unique per org ignoring case).
    pub async fn create_group(&self, group: &Group, events: &[NewEvent]) -> Result<StoredGroup> {
        self.create_group_with_pushes(group, events, &[], &[]).await
    }

    /// Create a group with the pushes its name's rules start (and their jobs) in the same
    /// transaction.
    pub async fn create_group_with_pushes(
        &self,
        group: &Group,
        events: &[NewEvent],
        pushes: &[crate::group_push::GroupPush],
        jobs: &[NewJob],
    ) -> Result<StoredGroup> {
        let mut w = Write::begin(self, &group.org_id).await?;
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO user_groups (id, org_id, kind, name, name_key, description, created, last_updated, last_membership_updated) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING seq",
        )
        .bind(group.id.as_str())
        .bind(group.org_id.as_str())
        .bind(group.kind.as_str())
        .bind(&group.name)
        .bind(group.name.to_lowercase())
        .bind(group.description.clone())
        .bind(group.created)
        .bind(group.last_updated)
        .bind(group.last_membership_updated)
        .fetch_one(w.conn())
        .await
        .map_err(|e| StoreError::from_unique(e, "name"))?;
        for p in pushes {
            crate::group_push::insert_push(w.conn(), p).await?;
        }
        w.commit(events, jobs, group.created).await?;
        Ok(StoredGroup { group: group.clone(), seq })
    }

    /// A group by id.
    pub async fn get_group(&self, org: &OrgId, id: &str) -> Result<StoredGroup> {
        let row = sqlx::query(&format!("SELECT {GROUP_COLS} FROM user_groups WHERE org_id = $1 AND id = $2"))
            .bind(org.as_str())
            .bind(id)
            .fetch_optional(self.read_pool())
            .await?
            .ok_or(StoreError::NotFound)?;
        group_from_row(&row)
    }

    /// Rename / redescribe a group (with the jobs that push the change, in the same
    /// transaction).
    pub async fn update_group(&self, group: &Group, events: &[NewEvent], jobs: &[NewJob]) -> Result<()> {
        let mut w = Write::begin(self, &group.org_id).await?;
        let n = sqlx::query(
            "UPDATE user_groups SET name = $1, name_key = $2, description = $3, last_updated = $4 WHERE org_id = $5 AND id = $6",
        )
        .bind(&group.name)
        .bind(group.name.to_lowercase())
        .bind(group.description.clone())
        .bind(group.last_updated)
        .bind(group.org_id.as_str())
        .bind(group.id.as_str())
        .execute(w.conn())
        .await
        .map_err(|e| StoreError::from_unique(e, "name"))?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        w.commit(events, jobs, group.last_updated).await?;
        Ok(())
    }

    /// Delete a group and its memberships; members who thereby lose a provisioned app get
    /// a sync job (deprovisioning) in the same transaction.
    pub async fn delete_group(&self, org: &OrgId, id: &GroupId, now: Millis, events: &[NewEvent]) -> Result<()> {
        let affected = Affected::Group { group: id.0.clone(), app: None };
        let mut w = Write::planning(self, org, affected).await?;
        sqlx::query("DELETE FROM group_members WHERE org_id = $1 AND group_id = $2")
            .bind(org.as_str())
            .bind(id.as_str())
            .execute(w.conn())
            .await?;
        // Its pushes stop (the hub groups stay) and its app assignments go with it.
        sqlx::query("DELETE FROM group_push WHERE org_id = $1 AND group_id = $2")
            .bind(org.as_str())
            .bind(id.as_str())
            .execute(w.conn())
            .await?;
        sqlx::query("DELETE FROM app_groups WHERE org_id = $1 AND group_id = $2")
            .bind(org.as_str())
            .bind(id.as_str())
            .execute(w.conn())
            .await?;
        let n = sqlx::query("DELETE FROM user_groups WHERE org_id = $1 AND id = $2")
            .bind(org.as_str())
            .bind(id.as_str())
            .execute(w.conn())
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        w.commit(events, &[], now).await?;
        Ok(())
    }

    /// Add a user to a group, with `jobs` (Push Groups) and the provisioning of the apps the
    /// user gains, in one transaction. Returns false when the user was already a member.
    pub async fn add_group_member(
        &self,
        org: &OrgId,
        group: &GroupId,
        user: &StoredUser,
        now: Millis,
        events: &[NewEvent],
        jobs: &[NewJob],
    ) -> Result<bool> {
        let mut w = Write::planning(self, org, Affected::Membership(user.user.id.0.clone())).await?;
        let added = add_member(w.conn(), org, group, &user.user.id, user.seq, now).await?;
        if added {
            w.commit(events, jobs, now).await?;
        }
        Ok(added)
    }

    /// Remove a user from a group, with `jobs` (Push Groups) and the deprovisioning of the
    /// apps the user loses, in one transaction. Returns false when the user was not a member.
    pub async fn remove_group_member(
        &self,
        org: &OrgId,
        group: &GroupId,
        user: &UserId,
        now: Millis,
        events: &[NewEvent],
        jobs: &[NewJob],
    ) -> Result<bool> {
        let mut w = Write::planning(self, org, Affected::Membership(user.0.clone())).await?;
        let n = sqlx::query("DELETE FROM group_members WHERE org_id = $1 AND group_id = $2 AND user_id = $3")
            .bind(org.as_str())
            .bind(group.as_str())
            .bind(user.as_str())
            .execute(w.conn())
            .await?
            .rows_affected();
        if n > 0 {
            sqlx::query("UPDATE user_groups SET last_membership_updated = $1 WHERE id = $2")
                .bind(now)
                .bind(group.as_str())
                .execute(w.conn())
                .await?;
            w.commit(events, jobs, now).await?;
        }
        Ok(n > 0)
    }

    /// List groups a page at a time.
    pub async fn list_groups(
        &self,
        org: &OrgId,
        select: &GroupSelect,
        limit: i64,
        after: Option<&str>,
    ) -> std::result::Result<Page<StoredGroup>, ListError> {
        let mut sql = format!("SELECT {GROUP_COLS} FROM user_groups WHERE org_id = $1");
        let mut binds = vec![Bind::Text(org.0.clone())];
        if let Some(after) = after {
            binds.push(Bind::Int(decode_cursor(after).ok_or(ListError::BadCursor)?));
            sql.push_str(&format!(" AND seq > ${}", binds.len()));
        }
        match select {
            GroupSelect::All => {}
            GroupSelect::Q(text) => {
                let p = text.to_lowercase();
                binds.push(Bind::Text(p.clone()));
                binds.push(Bind::Text(prefix_upper(&p)));
                sql.push_str(&format!(" AND name_key >= ${} AND name_key < ${}", binds.len() - 1, binds.len()));
            }
            GroupSelect::Filter(e) | GroupSelect::Search(e) => {
                let ci = matches!(select, GroupSelect::Search(_));
                let w = sqlfilter::to_sql(e, binds.len() + 1, &group_column, ci).map_err(ListError::Filter)?;
                sql.push_str(" AND ");
                sql.push_str(&w.sql);
                binds.extend(w.binds);
            }
        }
        binds.push(Bind::Int(limit + 1));
        sql.push_str(&format!(" ORDER BY seq LIMIT ${}", binds.len()));
        let rows = bind_all(sqlx::query(&sql), &binds).fetch_all(self.read_pool()).await.map_err(|e| ListError::Store(e.into()))?;
        let more = rows.len() as i64 > limit;
        let items = rows.iter().take(limit.max(0) as usize).map(group_from_row).collect::<Result<Vec<_>>>().map_err(ListError::Store)?;
        let next = if more { items.last().map(|g| encode_cursor(g.seq)) } else { None };
        Ok(Page { items, next })
    }

    /// Members of a group, a page at a time in user order. `Everyone` lists every user.
    pub async fn list_group_members(
        &self,
        org: &OrgId,
        group: &StoredGroup,
        limit: i64,
        after: Option<&str>,
    ) -> std::result::Result<Page<StoredUser>, ListError> {
        let after_seq = match after {
            Some(a) => decode_cursor(a).ok_or(ListError::BadCursor)?,
            None => 0,
        };
        let cols = USER_COLS.split(", ").map(|c| format!("u.{c}")).collect::<Vec<_>>().join(", ");
        let rows = if group.group.kind == idhub_domain::group::GroupType::BuiltIn {
            sqlx::query(&format!("SELECT {cols} FROM users u WHERE u.org_id = $1 AND u.seq > $2 ORDER BY u.seq LIMIT $3"))
                .bind(org.as_str())
                .bind(after_seq)
                .bind(limit + 1)
                .fetch_all(self.read_pool())
                .await
        } else {
            sqlx::query(&format!(
                "SELECT {cols} FROM group_members m JOIN users u ON u.id = m.user_id WHERE m.group_id = $1 AND m.org_id = $2 AND m.user_seq > $3 ORDER BY m.user_seq LIMIT $4"
            ))
            .bind(group.group.id.as_str())
            .bind(org.as_str())
            .bind(after_seq)
            .bind(limit + 1)
            .fetch_all(self.read_pool())
            .await
        }
        .map_err(|e| ListError::Store(e.into()))?;
        let more = rows.len() as i64 > limit;
        let items = rows.iter().take(limit.max(0) as usize).map(user_from_row).collect::<Result<Vec<_>>>().map_err(ListError::Store)?;
        let next = if more { items.last().map(|u| encode_cursor(u.seq)) } else { None };
        Ok(Page { items, next })
    }
}
