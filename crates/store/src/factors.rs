//! MFA factors (TOTP seeds are stored sealed by the caller) and sign-in transactions:
//! the state between a correct password and a verified factor, kept in the database so
//! any node can continue it. Only hashes of transaction tokens are stored.

use crate::tokens::token_hash;
use crate::write::Write;
use crate::{events, get, Result, Store, StoreError};
use idhub_domain::event::NewEvent;
use idhub_domain::ids::{OrgId, UserId};
use idhub_domain::time::Millis;
use sqlx::any::AnyRow;

/// A user's enrolled (or enrolling) factor.
#[derive(Debug, Clone, PartialEq)]
pub struct Factor {
    pub id: String,
    pub org_id: OrgId,
    pub user_id: UserId,
    /// Okta's factor type, e.g. `token:software:totp`.
    pub factor_type: String,
    pub provider: String,
    /// `PENDING_ACTIVATION` or `ACTIVE`.
    pub status: String,
    pub secret_sealed: String,
    pub last_used_step: i64,
    pub created: Millis,
    pub last_updated: Millis,
}

fn factor_from_row(row: &AnyRow) -> Result<Factor> {
    Ok(Factor {
        id: get(row, "id")?,
        org_id: OrgId(get(row, "org_id")?),
        user_id: UserId(get(row, "user_id")?),
        factor_type: get(row, "factor_type")?,
        provider: get(row, "provider")?,
        status: get(row, "status")?,
        secret_sealed: get(row, "secret_sealed")?,
        last_used_step: get(row, "last_used_step")?,
        created: get(row, "created")?,
        last_updated: get(row, "last_updated")?,
    })
}

const FACTOR_COLS: &str = "id, org_id, user_id, factor_type, provider, status, secret_sealed, last_used_step, created, last_updated";

/// A sign-in in progress.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthnTransaction {
    pub org_id: OrgId,
    pub user_id: UserId,
    /// `MFA_REQUIRED`, `MFA_ENROLL` or `MFA_ENROLL_ACTIVATE`.
    pub status: String,
    pub factor_id: Option<String>,
    pub amr: Vec<String>,
    pub from_uri: Option<String>,
    pub attempts: i64,
    pub expires: Millis,
}

impl Store {
    /// Add a factor (pending or active).
    pub async fn create_factor(&self, f: &Factor, events: &[NewEvent]) -> Result<()> {
        let mut w = Write::begin(self, &f.org_id).await?;
        sqlx::query(&format!("INSERT INTO user_factors ({FACTOR_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"))
            .bind(&f.id)
            .bind(f.org_id.as_str())
            .bind(f.user_id.as_str())
            .bind(&f.factor_type)
            .bind(&f.provider)
            .bind(&f.status)
            .bind(&f.secret_sealed)
            .bind(f.last_used_step)
            .bind(f.created)
            .bind(f.last_updated)
            .execute(w.conn())
            .await?;
        w.commit(events, &[], f.created).await?;
        Ok(())
    }

    /// A user's factors, oldest first.
    pub async fn list_factors(&self, org: &OrgId, user: &UserId) -> Result<Vec<Factor>> {
        let rows = sqlx::query(&format!("SELECT {FACTOR_COLS} FROM user_factors WHERE org_id = $1 AND user_id = $2 ORDER BY created, id"))
            .bind(org.as_str())
            .bind(user.as_str())
            .fetch_all(self.read_pool())
            .await?;
        rows.iter().map(factor_from_row).collect()
    }

    /// One factor of a user.
    pub async fn get_factor(&self, org: &OrgId, user: &UserId, id: &str) -> Result<Factor> {
        let row = sqlx::query(&format!("SELECT {FACTOR_COLS} FROM user_factors WHERE org_id = $1 AND user_id = $2 AND id = $3"))
            .bind(org.as_str())
            .bind(user.as_str())
            .bind(id)
            .fetch_optional(self.read_pool())
            .await?
            .ok_or(StoreError::NotFound)?;
        factor_from_row(&row)
    }

    /// Record that the code of time step `step` was used, refusing it if that step (or a
    /// later one) was already used: one code, one sign-in. Also activates a pending factor.
    pub async fn use_factor_step(&self, f: &Factor, step: i64, now: Millis, events: &[NewEvent]) -> Result<bool> {
        let mut w = Write::begin(self, &f.org_id).await?;
        let n = sqlx::query("UPDATE user_factors SET last_used_step = $1, status = 'ACTIVE', last_updated = $2 WHERE id = $3 AND org_id = $4 AND last_used_step < $1")
            .bind(step)
            .bind(now)
            .bind(&f.id)
            .bind(f.org_id.as_str())
            .execute(w.conn())
            .await?
            .rows_affected();
        if n == 0 {
            return Ok(false);
        }
        w.commit(events, &[], now).await?;
        Ok(true)
    }

    /// Activate a pending factor with its first code (step `step`) and, in the same
    /// transaction, remove the user's other factors of its type: an authenticator replaced
    /// from the user's settings stops working the moment the new one works. False when the
    /// factor is gone or no longer pending.
    pub async fn activate_replacing(&self, f: &Factor, step: i64, now: Millis, events: &[NewEvent]) -> Result<bool> {
        let mut w = Write::begin(self, &f.org_id).await?;
        let n = sqlx::query(
            "UPDATE user_factors SET last_used_step = $1, status = 'ACTIVE', last_updated = $2 \
             WHERE id = $3 AND org_id = $4 AND user_id = $5 AND status = 'PENDING_ACTIVATION'",
        )
        .bind(step)
        .bind(now)
        .bind(&f.id)
        .bind(f.org_id.as_str())
        .bind(f.user_id.as_str())
        .execute(w.conn())
        .await?
        .rows_affected();
        if n == 0 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM user_factors WHERE org_id = $1 AND user_id = $2 AND factor_type = $3 AND id <> $4")
            .bind(f.org_id.as_str())
            .bind(f.user_id.as_str())
            .bind(&f.factor_type)
            .bind(&f.id)
            .execute(w.conn())
            .await?;
        w.commit(events, &[], now).await?;
        Ok(true)
    }

    /// Remove one factor (or all of a user's when `id` is None).
    pub async fn delete_factors(&self, org: &OrgId, user: &UserId, id: Option<&str>, now: Millis, events: &[NewEvent]) -> Result<u64> {
        let mut tx = self.write_pool().begin().await?;
        let n = match id {
            Some(id) => {
                sqlx::query("DELETE FROM user_factors WHERE org_id = $1 AND user_id = $2 AND id = $3")
                    .bind(org.as_str())
                    .bind(user.as_str())
                    .bind(id)
                    .execute(&mut *tx)
                    .await?
            }
            None => {
                sqlx::query("DELETE FROM user_factors WHERE org_id = $1 AND user_id = $2")
                    .bind(org.as_str())
                    .bind(user.as_str())
                    .execute(&mut *tx)
                    .await?
            }
        }
        .rows_affected();
        if n > 0 {
            events::insert(&mut tx, org, events, now).await?;
        }
        tx.commit().await?;
        Ok(n)
    }

    /// Start a sign-in transaction identified by `secret`.
    pub async fn create_transaction(&self, t: &AuthnTransaction, secret: &str) -> Result<()> {
        sqlx::query("INSERT INTO authn_transactions (state_hash, org_id, user_id, status, factor_id, amr, from_uri, attempts, expires) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .bind(token_hash(secret))
            .bind(t.org_id.as_str())
            .bind(t.user_id.as_str())
            .bind(&t.status)
            .bind(t.factor_id.clone())
            .bind(serde_json::to_string(&t.amr).unwrap_or_else(|_| "[]".into()))
            .bind(t.from_uri.clone())
            .bind(t.attempts)
            .bind(t.expires)
            .execute(self.write_pool())
            .await?;
        Ok(())
    }

    /// A live transaction of this org.
    pub async fn get_transaction(&self, org: &OrgId, secret: &str, now: Millis) -> Result<AuthnTransaction> {
        let row = sqlx::query("SELECT org_id, user_id, status, factor_id, amr, from_uri, attempts, expires FROM authn_transactions WHERE state_hash = $1 AND org_id = $2")
            .bind(token_hash(secret))
            .bind(org.as_str())
            .fetch_optional(self.read_pool())
            .await?
            .ok_or(StoreError::NotFound)?;
        let amr: String = get(&row, "amr")?;
        let t = AuthnTransaction {
            org_id: OrgId(get(&row, "org_id")?),
            user_id: UserId(get(&row, "user_id")?),
            status: get(&row, "status")?,
            factor_id: get(&row, "factor_id")?,
            amr: serde_json::from_str(&amr).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            from_uri: get(&row, "from_uri")?,
            attempts: get(&row, "attempts")?,
            expires: get(&row, "expires")?,
        };
        if t.expires <= now {
            return Err(StoreError::NotFound);
        }
        Ok(t)
    }

    /// Move a transaction on (new status and factor), counting a failed attempt if asked.
    pub async fn update_transaction(
        &self,
        org: &OrgId,
        secret: &str,
        status: &str,
        factor_id: Option<&str>,
        failed_attempt: bool,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE authn_transactions SET status = $1, factor_id = $2, attempts = attempts + $3 WHERE state_hash = $4 AND org_id = $5",
        )
        .bind(status)
        .bind(factor_id.map(str::to_string))
        .bind(i64::from(failed_attempt))
        .bind(token_hash(secret))
        .bind(org.as_str())
        .execute(self.write_pool())
        .await?;
        Ok(())
    }

    /// End a transaction.
    pub async fn delete_transaction(&self, org: &OrgId, secret: &str) -> Result<()> {
        sqlx::query("DELETE FROM authn_transactions WHERE state_hash = $1 AND org_id = $2")
            .bind(token_hash(secret))
            .bind(org.as_str())
            .execute(self.write_pool())
            .await?;
        Ok(())
    }
}
