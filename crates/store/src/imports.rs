//! Import (hub → spoke): the candidates an import proposes (link to a spoke user, or
//! create one) until an admin confirms them, and the confirmed links that profile
//! sourcing follows.

use crate::{get, Result, Store, StoreError};
use idhub_domain::ids::OrgId;
use idhub_domain::time::Millis;
use sqlx::any::AnyRow;

/// A hub user an import read.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportCandidate {
    pub id: String,
    pub org_id: OrgId,
    pub app_id: String,
    pub hub_user_id: String,
    pub hub_login: String,
    /// The hub user's profile (JSON).
    pub profile: serde_json::Value,
    /// `LINK` (to `user_id`) or `CREATE` (no match).
    pub action: String,
    pub user_id: Option<String>,
    /// `PENDING` (awaiting confirmation) or `CONFIRMED`.
    pub status: String,
    pub created: Millis,
}

const COLS: &str = "id, org_id, app_id, hub_user_id, hub_login, profile, action, user_id, status, created";

fn from_row(row: &AnyRow) -> Result<ImportCandidate> {
    let profile: String = get(row, "profile")?;
    Ok(ImportCandidate {
        id: get(row, "id")?,
        org_id: OrgId(get(row, "org_id")?),
        app_id: get(row, "app_id")?,
        hub_user_id: get(row, "hub_user_id")?,
        hub_login: get(row, "hub_login")?,
        profile: serde_json::from_str(&profile).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        action: get(row, "action")?,
        user_id: get(row, "user_id")?,
        status: get(row, "status")?,
        created: get(row, "created")?,
    })
}

impl Store {
    /// Replace an app's pending candidates with those of a new import (confirmed links
    /// are kept; a candidate for an already confirmed hub user is skipped).
    pub async fn replace_import_candidates(&self, org: &OrgId, app: &str, candidates: &[ImportCandidate]) -> Result<()> {
        let mut tx = self.write_pool().begin().await?;
        sqlx::query("DELETE FROM import_candidates WHERE org_id = $1 AND app_id = $2 AND status = 'PENDING'")
            .bind(org.as_str())
            .bind(app)
            .execute(&mut *tx)
            .await?;
        for c in candidates {
            let confirmed: Option<String> = sqlx::query_scalar("SELECT id FROM import_candidates WHERE app_id = $1 AND hub_user_id = $2")
                .bind(app)
                .bind(&c.hub_user_id)
                .fetch_optional(&mut *tx)
                .await?;
            if confirmed.is_some() {
                continue;
            }
            sqlx::query(&format!("INSERT INTO import_candidates ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"))
                .bind(&c.id)
                .bind(org.as_str())
                .bind(app)
                .bind(&c.hub_user_id)
                .bind(&c.hub_login)
                .bind(c.profile.to_string())
                .bind(&c.action)
                .bind(c.user_id.clone())
                .bind(&c.status)
                .bind(c.created)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// An app's candidates in a state (`PENDING` or `CONFIRMED`), oldest first.
    pub async fn list_import_candidates(&self, org: &OrgId, app: &str, status: &str) -> Result<Vec<ImportCandidate>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLS} FROM import_candidates WHERE org_id = $1 AND app_id = $2 AND status = $3 ORDER BY hub_login"
        ))
        .bind(org.as_str())
        .bind(app)
        .bind(status)
        .fetch_all(self.read_pool())
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Mark a pending candidate confirmed as spoke user `user`.
    pub async fn confirm_import_candidate(&self, org: &OrgId, id: &str, user: &str) -> Result<()> {
        let n = sqlx::query(
            "UPDATE import_candidates SET status = 'CONFIRMED', user_id = $1 WHERE org_id = $2 AND id = $3 AND status = 'PENDING'",
        )
        .bind(user)
        .bind(org.as_str())
        .bind(id)
        .execute(self.write_pool())
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Confirmed imports of a spoke user (the apps that imported them).
    pub async fn imports_of_user(&self, org: &OrgId, user: &str) -> Result<Vec<ImportCandidate>> {
        let rows =
            sqlx::query(&format!("SELECT {COLS} FROM import_candidates WHERE org_id = $1 AND user_id = $2 AND status = 'CONFIRMED'"))
                .bind(org.as_str())
                .bind(user)
                .fetch_all(self.read_pool())
                .await?;
        rows.iter().map(from_row).collect()
    }

    /// Update the hub profile recorded on a confirmed link.
    pub async fn record_import_profile(&self, org: &OrgId, id: &str, profile: &serde_json::Value) -> Result<()> {
        sqlx::query("UPDATE import_candidates SET profile = $1 WHERE org_id = $2 AND id = $3")
            .bind(profile.to_string())
            .bind(org.as_str())
            .bind(id)
            .execute(self.write_pool())
            .await?;
        Ok(())
    }
}

impl Store {
    /// Spoke users whose email is `email` (ignoring case).
    pub async fn user_ids_by_email(&self, org: &OrgId, email: &str) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT id FROM users WHERE org_id = $1 AND email_key = $2 ORDER BY seq")
            .bind(org.as_str())
            .bind(email.to_lowercase())
            .fetch_all(self.read_pool())
            .await?)
    }
}
