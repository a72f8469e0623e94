//! Push Groups: which spoke groups a provisioned app pushes to its hub (one mapping per
//! group, created directly or by a name rule), the hub group each is linked to, and the
//! state of the last push. Changes write their push jobs in the same transaction.

use crate::jobs::{enqueue, NewJob};
use crate::write::Write;
use crate::{events, get, Result, Store, StoreError};
use idhub_domain::event::NewEvent;
use idhub_domain::ids::OrgId;
use idhub_domain::time::Millis;
use sqlx::any::AnyRow;

/// One pushed group of an app.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupPush {
    pub id: String,
    pub org_id: OrgId,
    pub app_id: String,
    /// The spoke group.
    pub group_id: String,
    /// The rule that created the mapping, if any.
    pub rule_id: Option<String>,
    /// The hub group, once the first push created or linked it.
    pub target_group_id: Option<String>,
    /// `PENDING` (not pushed yet), `ACTIVE` or `ERROR`.
    pub status: String,
    pub last_push: Option<Millis>,
    pub last_error: Option<String>,
    pub created: Millis,
}

/// A rule: push every group whose name starts with `name_starts_with` (ignoring case).
#[derive(Debug, Clone, PartialEq)]
pub struct GroupPushRule {
    pub id: String,
    pub org_id: OrgId,
    pub app_id: String,
    pub name_starts_with: String,
    pub created: Millis,
}

const COLS: &str = "id, org_id, app_id, group_id, rule_id, target_group_id, status, last_push, last_error, created";

fn from_row(row: &AnyRow) -> Result<GroupPush> {
    Ok(GroupPush {
        id: get(row, "id")?,
        org_id: OrgId(get(row, "org_id")?),
        app_id: get(row, "app_id")?,
        group_id: get(row, "group_id")?,
        rule_id: get(row, "rule_id")?,
        target_group_id: get(row, "target_group_id")?,
        status: get(row, "status")?,
        last_push: get(row, "last_push")?,
        last_error: get(row, "last_error")?,
        created: get(row, "created")?,
    })
}

impl Store {
    /// Add mappings (and a rule), with their first push jobs, in one transaction.
    /// Groups the app already pushes are skipped; the mappings added are returned.
    pub async fn add_group_pushes(
        &self,
        rule: Option<&GroupPushRule>,
        pushes: &[GroupPush],
        jobs: &[NewJob],
        events: &[NewEvent],
        now: Millis,
    ) -> Result<Vec<GroupPush>> {
        let mut tx = self.write_pool().begin().await?;
        if let Some(r) = rule {
            sqlx::query("INSERT INTO group_push_rules (id, org_id, app_id, name_starts_with, created) VALUES ($1, $2, $3, $4, $5)")
                .bind(&r.id)
                .bind(r.org_id.as_str())
                .bind(&r.app_id)
                .bind(&r.name_starts_with)
                .bind(r.created)
                .execute(&mut *tx)
                .await?;
        }
        let mut added = vec![];
        for p in pushes {
            let exists: Option<String> = sqlx::query_scalar("SELECT id FROM group_push WHERE app_id = $1 AND group_id = $2")
                .bind(&p.app_id)
                .bind(&p.group_id)
                .fetch_optional(&mut *tx)
                .await?;
            if exists.is_some() {
                continue;
            }
            insert_push(&mut tx, p).await?;
            for j in jobs.iter().filter(|j| j.payload.get("mappingId").and_then(|v| v.as_str()) == Some(p.id.as_str())) {
                enqueue(&mut tx, j, now).await?;
            }
            added.push(p.clone());
        }
        if let Some(org) = pushes.first().map(|p| &p.org_id).or(rule.map(|r| &r.org_id)) {
            events::insert(&mut tx, org, events, now).await?;
        }
        tx.commit().await?;
        self.jobs_added(jobs.len());
        Ok(added)
    }

    /// The pushed groups of an app, oldest first.
    pub async fn list_group_pushes(&self, org: &OrgId, app: &str) -> Result<Vec<GroupPush>> {
        let rows = sqlx::query(&format!("SELECT {COLS} FROM group_push WHERE org_id = $1 AND app_id = $2 ORDER BY created, id"))
            .bind(org.as_str())
            .bind(app)
            .fetch_all(self.read_pool())
            .await?;
        rows.iter().map(from_row).collect()
    }

    /// The mappings of one spoke group (in every app).
    pub async fn group_pushes_of_group(&self, org: &OrgId, group: &str) -> Result<Vec<GroupPush>> {
        let rows = sqlx::query(&format!("SELECT {COLS} FROM group_push WHERE org_id = $1 AND group_id = $2 ORDER BY created, id"))
            .bind(org.as_str())
            .bind(group)
            .fetch_all(self.read_pool())
            .await?;
        rows.iter().map(from_row).collect()
    }

    /// One mapping.
    pub async fn get_group_push(&self, org: &OrgId, id: &str) -> Result<GroupPush> {
        let row = sqlx::query(&format!("SELECT {COLS} FROM group_push WHERE org_id = $1 AND id = $2"))
            .bind(org.as_str())
            .bind(id)
            .fetch_optional(self.read_pool())
            .await?
            .ok_or(StoreError::NotFound)?;
        from_row(&row)
    }

    /// The push rules of an app.
    pub async fn list_group_push_rules(&self, org: &OrgId, app: &str) -> Result<Vec<GroupPushRule>> {
        let rows = sqlx::query(
            "SELECT id, org_id, app_id, name_starts_with, created FROM group_push_rules WHERE org_id = $1 AND app_id = $2 ORDER BY created, id",
        )
        .bind(org.as_str())
        .bind(app)
        .fetch_all(self.read_pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(GroupPushRule {
                    id: get(r, "id")?,
                    org_id: OrgId(get(r, "org_id")?),
                    app_id: get(r, "app_id")?,
                    name_starts_with: get(r, "name_starts_with")?,
                    created: get(r, "created")?,
                })
            })
            .collect()
    }

    /// Unlink a pushed group: the mapping goes, with the unlink job in the same transaction.
    pub async fn remove_group_push(
        &self,
        org: &OrgId,
        app: &str,
        id: &str,
        jobs: &[NewJob],
        events: &[NewEvent],
        now: Millis,
    ) -> Result<()> {
        let mut w = Write::begin(self, org).await?;
        delete_one(w.conn(), "DELETE FROM group_push WHERE org_id = $1 AND app_id = $2 AND id = $3", org, app, id).await?;
        for j in jobs {
            enqueue(w.conn(), j, now).await?;
        }
        w.commit(events, &[], now).await?;
        Ok(())
    }

    /// Delete a push rule: groups created later are no longer pushed by it (the mappings
    /// it made stay until unlinked).
    pub async fn remove_group_push_rule(&self, org: &OrgId, app: &str, id: &str, events: &[NewEvent], now: Millis) -> Result<()> {
        let mut w = Write::begin(self, org).await?;
        delete_one(w.conn(), "DELETE FROM group_push_rules WHERE org_id = $1 AND app_id = $2 AND id = $3", org, app, id).await?;
        w.commit(events, &[], now).await?;
        Ok(())
    }

    /// Record the result of a push on its mapping (if it still exists).
    pub async fn record_group_push(
        &self,
        org: &OrgId,
        id: &str,
        target: Option<&str>,
        status: &str,
        error: Option<&str>,
        now: Millis,
    ) -> Result<()> {
        sqlx::query("UPDATE group_push SET target_group_id = COALESCE($1, target_group_id), status = $2, last_error = $3, last_push = $4 WHERE org_id = $5 AND id = $6")
            .bind(target.map(str::to_string))
            .bind(status)
            .bind(error.map(|e| e.chars().take(2000).collect::<String>()))
            .bind(now)
            .bind(org.as_str())
            .bind(id)
            .execute(self.write_pool())
            .await?;
        Ok(())
    }
}

/// Run a `DELETE … WHERE org_id = $1 AND app_id = $2 AND id = $3`; `NotFound` if no row went.
async fn delete_one(conn: &mut sqlx::AnyConnection, sql: &str, org: &OrgId, app: &str, id: &str) -> Result<()> {
    let n = sqlx::query(sql).bind(org.as_str()).bind(app).bind(id).execute(&mut *conn).await?.rows_affected();
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Insert a mapping inside the caller's transaction.
pub(crate) async fn insert_push(conn: &mut sqlx::AnyConnection, p: &GroupPush) -> Result<()> {
    sqlx::query(&format!("INSERT INTO group_push ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"))
        .bind(&p.id)
        .bind(p.org_id.as_str())
        .bind(&p.app_id)
        .bind(&p.group_id)
        .bind(p.rule_id.clone())
        .bind(p.target_group_id.clone())
        .bind(&p.status)
        .bind(p.last_push)
        .bind(p.last_error.clone())
        .bind(p.created)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
