//! Browser sessions (server-side, so any node can serve any request) and one-time
//! session tokens (what `/api/v1/authn` hands out for `sessionCookieRedirect`). Only
//! hashes of the cookie and token secrets are stored.

use crate::rows::{user_from_row, StoredUser, USER_COLS};
use crate::tokens::token_hash;
use crate::write::Write;
use crate::{events, get, Result, Store, StoreError};
use idhub_domain::event::NewEvent;
use idhub_domain::ids::{OrgId, UserId};
use idhub_domain::time::Millis;
use sqlx::any::AnyRow;

/// A signed-in browser session.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub id: String,
    pub org_id: OrgId,
    pub user_id: UserId,
    /// Authentication methods used (`pwd`, `otp`, `fed`).
    pub amr: Vec<String>,
    pub created: Millis,
    pub last_seen: Millis,
    /// Idle lifetime in milliseconds.
    pub idle_timeout: Millis,
    /// Absolute expiry.
    pub expires: Millis,
}

impl Session {
    /// When the session ends if nothing more happens.
    pub fn effective_expiry(&self) -> Millis {
        self.expires.min(self.last_seen + self.idle_timeout)
    }
}

fn session_from_row(row: &AnyRow) -> Result<Session> {
    let amr: String = get(row, "amr")?;
    Ok(Session {
        id: get(row, "id")?,
        org_id: OrgId(get(row, "org_id")?),
        user_id: UserId(get(row, "user_id")?),
        amr: serde_json::from_str(&amr).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        created: get(row, "created")?,
        last_seen: get(row, "last_seen")?,
        idle_timeout: get(row, "idle_timeout")?,
        expires: get(row, "expires")?,
    })
}

const SESSION_COLS: &str = "id, org_id, user_id, amr, created, last_seen, idle_timeout, expires";

impl Store {
    /// Store a new session whose cookie carries `cookie_secret`.
    pub async fn create_session(
        &self,
        session: &Session,
        cookie_secret: &str,
        client_ip: Option<&str>,
        user_agent: Option<&str>,
        events: &[NewEvent],
    ) -> Result<()> {
        let mut w = Write::begin(self, &session.org_id).await?;
        sqlx::query("INSERT INTO sessions (id, org_id, cookie_hash, user_id, amr, created, last_seen, idle_timeout, expires, client_ip, user_agent) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)")
            .bind(&session.id)
            .bind(session.org_id.as_str())
            .bind(token_hash(cookie_secret))
            .bind(session.user_id.as_str())
            .bind(serde_json::to_string(&session.amr).unwrap_or_else(|_| "[]".into()))
            .bind(session.created)
            .bind(session.last_seen)
            .bind(session.idle_timeout)
            .bind(session.expires)
            .bind(client_ip.map(str::to_string))
            .bind(user_agent.map(str::to_string))
            .execute(w.conn())
            .await?;
        w.commit(events, &[], session.created).await?;
        Ok(())
    }

    /// The live session of this org with this cookie secret (expired ones are not found).
    pub async fn session_by_cookie(&self, org: &OrgId, cookie_secret: &str, now: Millis) -> Result<Session> {
        let row = sqlx::query(&format!("SELECT {SESSION_COLS} FROM sessions WHERE cookie_hash = $1 AND org_id = $2"))
            .bind(token_hash(cookie_secret))
            .bind(org.as_str())
            .fetch_optional(self.read_pool())
            .await?
            .ok_or(StoreError::NotFound)?;
        let s = session_from_row(&row)?;
        if s.effective_expiry() <= now {
            return Err(StoreError::NotFound);
        }
        Ok(s)
    }

    /// [`Store::session_by_cookie`] and the session's user, read in one query (a request
    /// that needs both pays for one database round trip). `NotFound` when the session is
    /// unknown, expired or its user is gone; the user is returned whatever their status.
    pub async fn session_with_user(&self, org: &OrgId, cookie_secret: &str, now: Millis) -> Result<(Session, StoredUser)> {
        let user_cols: String = USER_COLS.split(", ").map(|c| format!("u.{c}")).collect::<Vec<_>>().join(", ");
        let row = sqlx::query(&format!(
            "SELECT {user_cols}, s.id AS s_id, s.amr AS s_amr, s.created AS s_created, s.last_seen AS s_last_seen, \
             s.idle_timeout AS s_idle_timeout, s.expires AS s_expires \
             FROM sessions s JOIN users u ON u.org_id = s.org_id AND u.id = s.user_id WHERE s.cookie_hash = $1 AND s.org_id = $2"
        ))
        .bind(token_hash(cookie_secret))
        .bind(org.as_str())
        .fetch_optional(self.read_pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        let user = user_from_row(&row)?;
        let amr: String = get(&row, "s_amr")?;
        let session = Session {
            id: get(&row, "s_id")?,
            org_id: user.user.org_id.clone(),
            user_id: user.user.id.clone(),
            amr: serde_json::from_str(&amr).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            created: get(&row, "s_created")?,
            last_seen: get(&row, "s_last_seen")?,
            idle_timeout: get(&row, "s_idle_timeout")?,
            expires: get(&row, "s_expires")?,
        };
        if session.effective_expiry() <= now {
            return Err(StoreError::NotFound);
        }
        Ok((session, user))
    }

    /// Add authentication methods to a live session (a second factor completed later).
    pub async fn add_session_amr(&self, session: &Session, amr: &[String], events: &[NewEvent], now: Millis) -> Result<()> {
        let mut all = session.amr.clone();
        for m in amr {
            if !all.contains(m) {
                all.push(m.clone());
            }
        }
        let mut w = Write::begin(self, &session.org_id).await?;
        sqlx::query("UPDATE sessions SET amr = $1 WHERE id = $2 AND org_id = $3")
            .bind(serde_json::to_string(&all).map_err(|e| StoreError::Corrupt(e.to_string()))?)
            .bind(&session.id)
            .bind(session.org_id.as_str())
            .execute(w.conn())
            .await?;
        w.commit(events, &[], now).await?;
        Ok(())
    }

    /// Record activity (written at most once a minute per session).
    pub async fn touch_session(&self, session: &Session, now: Millis) -> Result<()> {
        if now - session.last_seen < 60_000 {
            return Ok(());
        }
        sqlx::query("UPDATE sessions SET last_seen = $1 WHERE id = $2 AND org_id = $3")
            .bind(now)
            .bind(&session.id)
            .bind(session.org_id.as_str())
            .execute(self.write_pool())
            .await?;
        Ok(())
    }

    /// End a session.
    pub async fn delete_session(&self, org: &OrgId, id: &str, now: Millis, events: &[NewEvent]) -> Result<()> {
        let mut w = Write::begin(self, org).await?;
        let n = sqlx::query("DELETE FROM sessions WHERE id = $1 AND org_id = $2")
            .bind(id)
            .bind(org.as_str())
            .execute(w.conn())
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        w.commit(events, &[], now).await?;
        Ok(())
    }

    /// End every session of a user (deactivation, suspension, password reset).
    pub async fn delete_user_sessions(&self, org: &OrgId, user: &UserId) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM sessions WHERE org_id = $1 AND user_id = $2")
            .bind(org.as_str())
            .bind(user.as_str())
            .execute(self.write_pool())
            .await?
            .rows_affected())
    }

    /// End a user's sessions after a change to their credentials or privileges, all but
    /// `keep` (the session of a user who changed their own password); `events` are
    /// written in the same transaction when any session ended. Returns how many ended.
    pub async fn end_user_sessions(&self, org: &OrgId, user: &UserId, keep: Option<&str>, now: Millis, events: &[NewEvent]) -> Result<u64> {
        let mut tx = self.write_pool().begin().await?;
        let n = sqlx::query("DELETE FROM sessions WHERE org_id = $1 AND user_id = $2 AND id <> $3")
            .bind(org.as_str())
            .bind(user.as_str())
            .bind(keep.unwrap_or(""))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n > 0 {
            events::insert(&mut tx, org, events, now).await?;
        }
        tx.commit().await?;
        Ok(n)
    }

    /// Remove expired sessions and tokens (housekeeping).
    pub async fn purge_expired_sessions(&self, now: Millis) -> Result<u64> {
        let a = sqlx::query("DELETE FROM sessions WHERE expires <= $1 OR last_seen + idle_timeout <= $1")
            .bind(now)
            .execute(self.write_pool())
            .await?
            .rows_affected();
        let b = sqlx::query("DELETE FROM session_tokens WHERE expires <= $1").bind(now).execute(self.write_pool()).await?.rows_affected();
        let c =
            sqlx::query("DELETE FROM authn_transactions WHERE expires <= $1").bind(now).execute(self.write_pool()).await?.rows_affected();
        Ok(a + b + c)
    }

    /// Store a one-time session token.
    pub async fn create_session_token(&self, org: &OrgId, user: &UserId, amr: &[String], secret: &str, expires: Millis) -> Result<()> {
        sqlx::query("INSERT INTO session_tokens (token_hash, org_id, user_id, amr, expires) VALUES ($1, $2, $3, $4, $5)")
            .bind(token_hash(secret))
            .bind(org.as_str())
            .bind(user.as_str())
            .bind(serde_json::to_string(amr).unwrap_or_else(|_| "[]".into()))
            .bind(expires)
            .execute(self.write_pool())
            .await?;
        Ok(())
    }

    /// Use a session token: it is deleted in the same statement, so it works once.
    pub async fn consume_session_token(&self, org: &OrgId, secret: &str, now: Millis) -> Result<(UserId, Vec<String>)> {
        let row = sqlx::query("DELETE FROM session_tokens WHERE token_hash = $1 AND org_id = $2 RETURNING user_id, amr, expires")
            .bind(token_hash(secret))
            .bind(org.as_str())
            .fetch_optional(self.write_pool())
            .await?
            .ok_or(StoreError::NotFound)?;
        let expires: i64 = get(&row, "expires")?;
        if expires <= now {
            return Err(StoreError::NotFound);
        }
        let amr: String = get(&row, "amr")?;
        Ok((UserId(get(&row, "user_id")?), serde_json::from_str(&amr).map_err(|e| StoreError::Corrupt(e.to_string()))?))
    }
}
