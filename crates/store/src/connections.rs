//! Provisioning connections: an app's link to a remote directory (the Org2Org hub's base
//! URL and API token — sealed by the caller, never returned) and the provisioning
//! features enabled on it.

use crate::write::Write;
use crate::{get, Result, Store, StoreError};
use idhub_domain::event::NewEvent;
use idhub_domain::ids::OrgId;
use idhub_domain::time::Millis;
use serde_json::Value;
use std::collections::HashMap;

/// An app's provisioning connection.
#[derive(Debug, Clone, PartialEq)]
pub struct Connection {
    pub org_id: OrgId,
    pub app_id: String,
    pub base_url: String,
    pub token_sealed: String,
    /// `ENABLED` or `DISABLED`.
    pub status: String,
    /// Okta's `USER_PROVISIONING` capabilities plus idhub's flags (JSON).
    pub features: Value,
    pub last_test: Option<Millis>,
    pub last_test_result: Option<String>,
    pub created: Millis,
    pub last_updated: Millis,
}

impl Store {
    /// Create or replace an app's connection.
    pub async fn save_connection(&self, c: &Connection, events: &[NewEvent]) -> Result<()> {
        self.save_connection_with_jobs(c, events, &[]).await
    }

    /// Create or replace an app's connection with the jobs the change starts (a scheduled
    /// import), in one transaction.
    pub async fn save_connection_with_jobs(&self, c: &Connection, events: &[NewEvent], jobs: &[crate::jobs::NewJob]) -> Result<()> {
        let mut w = Write::begin(self, &c.org_id).await?;
        sqlx::query("DELETE FROM app_connections WHERE org_id = $1 AND app_id = $2")
            .bind(c.org_id.as_str())
            .bind(&c.app_id)
            .execute(w.conn())
            .await?;
        sqlx::query("INSERT INTO app_connections (org_id, app_id, base_url, token_sealed, status, features, last_test, last_test_result, created, last_updated) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
            .bind(c.org_id.as_str())
            .bind(&c.app_id)
            .bind(&c.base_url)
            .bind(&c.token_sealed)
            .bind(&c.status)
            .bind(c.features.to_string())
            .bind(c.last_test)
            .bind(c.last_test_result.clone())
            .bind(c.created)
            .bind(c.last_updated)
            .execute(w.conn())
            .await?;
        w.commit(events, jobs, c.last_updated).await?;
        Ok(())
    }

    /// An app's connection, if configured.
    pub async fn get_connection(&self, org: &OrgId, app: &str) -> Result<Connection> {
        let row = sqlx::query("SELECT org_id, app_id, base_url, token_sealed, status, features, last_test, last_test_result, created, last_updated FROM app_connections WHERE org_id = $1 AND app_id = $2")
            .bind(org.as_str())
            .bind(app)
            .fetch_optional(self.read_pool())
            .await?
            .ok_or(StoreError::NotFound)?;
        let features: String = get(&row, "features")?;
        Ok(Connection {
            org_id: OrgId(get(&row, "org_id")?),
            app_id: get(&row, "app_id")?,
            base_url: get(&row, "base_url")?,
            token_sealed: get(&row, "token_sealed")?,
            status: get(&row, "status")?,
            features: serde_json::from_str(&features).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            last_test: get(&row, "last_test")?,
            last_test_result: get(&row, "last_test_result")?,
            created: get(&row, "created")?,
            last_updated: get(&row, "last_updated")?,
        })
    }

    /// Record a provisioning result on an app user (the hub's id and the sync state).
    pub async fn record_app_user_sync(
        &self,
        org: &OrgId,
        app: &str,
        user: &str,
        external_id: Option<&str>,
        sync_state: &str,
        now: Millis,
    ) -> Result<()> {
        let mut tx = self.write_pool().begin().await?;
        sqlx::query("UPDATE app_users SET external_id = COALESCE($1, external_id), sync_state = $2, last_sync = $3 WHERE org_id = $4 AND app_id = $5 AND user_id = $6")
            .bind(external_id.map(str::to_string))
            .bind(sync_state)
            .bind(now)
            .bind(org.as_str())
            .bind(app)
            .bind(user)
            .execute(&mut *tx)
            .await?;
        // The link outlives the assignment (a later deactivation still finds the hub
        // user) and exists for group assignments too.
        if let Some(ext) = external_id {
            sqlx::query(
                "INSERT INTO app_push_links (org_id, app_id, user_id, external_id, updated) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (org_id, app_id, user_id) DO UPDATE SET external_id = excluded.external_id, updated = excluded.updated",
            )
            .bind(org.as_str())
            .bind(app)
            .bind(user)
            .bind(ext)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The hub users that the users with ids from `first` to `last` (inclusive) were
    /// pushed as through `app`: one query for a page of app users in user-id order.
    pub async fn push_links_between(&self, org: &OrgId, app: &str, first: &str, last: &str) -> Result<HashMap<String, String>> {
        let rows = sqlx::query(
            "SELECT user_id, external_id FROM app_push_links WHERE org_id = $1 AND app_id = $2 AND user_id >= $3 AND user_id <= $4",
        )
        .bind(org.as_str())
        .bind(app)
        .bind(first)
        .bind(last)
        .fetch_all(self.read_pool())
        .await?;
        rows.iter().map(|r| Ok((get(r, "user_id")?, get(r, "external_id")?))).collect()
    }

    /// The hub user `user` was last pushed as through `app`, if any.
    pub async fn push_link(&self, org: &OrgId, app: &str, user: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT external_id FROM app_push_links WHERE org_id = $1 AND app_id = $2 AND user_id = $3")
            .bind(org.as_str())
            .bind(app)
            .bind(user)
            .fetch_optional(self.read_pool())
            .await?)
    }

    /// The spoke user other than `user` that `app` pushed as (or linked to) hub user
    /// `external_id`, if any: a hub user is the account of one spoke user only.
    pub async fn hub_user_owner(&self, org: &OrgId, app: &str, external_id: &str, user: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT user_id FROM app_push_links WHERE org_id = $1 AND app_id = $2 AND external_id = $3 AND user_id <> $4 \
             UNION SELECT user_id FROM app_users WHERE org_id = $1 AND app_id = $2 AND external_id = $3 AND user_id <> $4 \
             ORDER BY 1 LIMIT 1",
        )
        .bind(org.as_str())
        .bind(app)
        .bind(external_id)
        .bind(user)
        .fetch_optional(self.read_pool())
        .await?)
    }

    /// The username an app user now has in the app (after a rename pushed to it).
    pub async fn set_app_username(&self, org: &OrgId, app: &str, user: &str, username: &str, now: Millis) -> Result<()> {
        sqlx::query("UPDATE app_users SET username = $1, last_updated = $2 WHERE org_id = $3 AND app_id = $4 AND user_id = $5")
            .bind(username)
            .bind(now)
            .bind(org.as_str())
            .bind(app)
            .bind(user)
            .execute(self.write_pool())
            .await?;
        Ok(())
    }

    /// Apps of the org with an enabled provisioning connection.
    pub async fn provisioned_app_ids(&self, org: &OrgId) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT app_id FROM app_connections WHERE org_id = $1 AND status = 'ENABLED'")
            .bind(org.as_str())
            .fetch_all(self.read_pool())
            .await?)
    }

    /// Users who reach `app` through `group` or any group (for fan-out on group assignment).
    pub async fn group_member_ids(&self, org: &OrgId, group: &str) -> Result<Vec<String>> {
        let kind: Option<String> = sqlx::query_scalar("SELECT kind FROM user_groups WHERE org_id = $1 AND id = $2")
            .bind(org.as_str())
            .bind(group)
            .fetch_optional(self.read_pool())
            .await?;
        if kind.as_deref() == Some("BUILT_IN") {
            return Ok(sqlx::query_scalar("SELECT id FROM users WHERE org_id = $1 ORDER BY seq")
                .bind(org.as_str())
                .fetch_all(self.read_pool())
                .await?);
        }
        Ok(sqlx::query_scalar("SELECT user_id FROM group_members WHERE org_id = $1 AND group_id = $2 ORDER BY user_seq")
            .bind(org.as_str())
            .bind(group)
            .fetch_all(self.read_pool())
            .await?)
    }
}
