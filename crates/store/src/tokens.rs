//! API tokens: only a SHA-256 hash of each token is stored (tokens are long random
//! strings, so a fast hash is enough and allows lookup by hash); the clear token is
//! shown once, when created.

use crate::write::Write;
use crate::{get, Result, Store, StoreError};
use idhub_domain::event::NewEvent;
use idhub_domain::ids::{OrgId, TokenId};
use idhub_domain::lifecycle::UserStatus;
use idhub_domain::time::Millis;
use idhub_domain::user::AdminRole;
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;

/// A stored token (never the secret).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiToken {
    pub id: TokenId,
    pub org_id: OrgId,
    pub name: String,
    /// The first characters of the token, to recognise it in lists.
    pub token_window: String,
    pub user_id: Option<String>,
    pub role: AdminRole,
    pub created: Millis,
    pub last_used: Option<Millis>,
    pub expires: Option<Millis>,
}

/// The hash under which a token is stored.
pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new random token: `00` followed by 40 base62 characters (Okta's shape).
pub fn new_token_secret() -> String {
    format!("00{}", idhub_domain::ids::random_base62(40))
}

fn token_from_row(row: &AnyRow) -> Result<ApiToken> {
    let role: String = get(row, "role")?;
    Ok(ApiToken {
        id: TokenId(get(row, "id")?),
        org_id: OrgId(get(row, "org_id")?),
        name: get(row, "name")?,
        token_window: get(row, "token_window")?,
        user_id: get(row, "user_id")?,
        role: AdminRole::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role}")))?,
        created: get(row, "created")?,
        last_used: get(row, "last_used")?,
        expires: get(row, "expires")?,
    })
}

/// A token found by its secret, with what its owner is now.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenCaller {
    pub token: ApiToken,
    pub owner: OwnerState,
}

/// The owner of a token, as of the lookup.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OwnerState {
    /// Made without an owner (by the command line before any administrator existed, or by tests).
    None,
    /// The owner was deleted.
    Gone,
    /// The owner's current status and administrator role.
    User { status: UserStatus, role: Option<AdminRole> },
}

const TOKEN_COLS: &str = "id, org_id, name, token_window, user_id, role, created, last_used, expires";

impl Store {
    /// Store a new token; returns its record. The caller shows `secret` once.
    #[allow(clippy::too_many_arguments)] // each argument is a distinct column; a struct would only rename them
    pub async fn create_token(
        &self,
        org: &OrgId,
        name: &str,
        secret: &str,
        user_id: Option<&str>,
        role: AdminRole,
        now: Millis,
        events: &[NewEvent],
    ) -> Result<ApiToken> {
        let token = ApiToken {
            id: TokenId::generate(),
            org_id: org.clone(),
            name: name.to_string(),
            token_window: secret.chars().take(6).collect(),
            user_id: user_id.map(str::to_string),
            role,
            created: now,
            last_used: None,
            expires: None,
        };
        let mut w = Write::begin(self, org).await?;
        sqlx::query("INSERT INTO api_tokens (id, org_id, name, token_hash, token_window, user_id, role, created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(token.id.as_str())
            .bind(org.as_str())
            .bind(name)
            .bind(token_hash(secret))
            .bind(&token.token_window)
            .bind(token.user_id.clone())
            .bind(role.as_str())
            .bind(now)
            .execute(w.conn())
            .await?;
        w.commit(events, &[], now).await?;
        Ok(token)
    }

    /// The token of this org with this secret, if any, with its owner's current status and
    /// role read in the same query: a token acts as its owner, so a demoted or deactivated
    /// owner changes what it may do on the very next call.
    pub async fn token_by_secret(&self, org: &OrgId, secret: &str) -> Result<Option<TokenCaller>> {
        let cols = TOKEN_COLS.split(", ").map(|c| format!("t.{c}")).collect::<Vec<_>>().join(", ");
        let row = sqlx::query(&format!(
            "SELECT {cols}, u.status AS owner_status, u.admin_role AS owner_role FROM api_tokens t \
             LEFT JOIN users u ON u.org_id = t.org_id AND u.id = t.user_id \
             WHERE t.token_hash = $1 AND t.org_id = $2"
        ))
        .bind(token_hash(secret))
        .bind(org.as_str())
        .fetch_optional(self.read_pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let token = token_from_row(&row)?;
        let owner = match token.user_id {
            None => OwnerState::None,
            Some(_) => match get::<Option<String>>(&row, "owner_status")? {
                None => OwnerState::Gone,
                Some(status) => {
                    let status = UserStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("status {status}")))?;
                    let role = match get::<Option<String>>(&row, "owner_role")? {
                        None => None,
                        Some(r) => Some(AdminRole::parse(&r).ok_or_else(|| StoreError::Corrupt(format!("role {r}")))?),
                    };
                    OwnerState::User { status, role }
                }
            },
        };
        Ok(Some(TokenCaller { token, owner }))
    }

    /// Record that a token was used (at most once a minute, to keep writes rare).
    pub async fn touch_token(&self, token: &ApiToken, now: Millis) -> Result<()> {
        if token.last_used.map(|t| now - t < 60_000).unwrap_or(false) {
            return Ok(());
        }
        sqlx::query("UPDATE api_tokens SET last_used = $1 WHERE id = $2")
            .bind(now)
            .bind(token.id.as_str())
            .execute(self.write_pool())
            .await?;
        Ok(())
    }

    /// The tokens of an org, newest first.
    pub async fn list_tokens(&self, org: &OrgId) -> Result<Vec<ApiToken>> {
        let rows = sqlx::query(&format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE org_id = $1 ORDER BY created DESC, id"))
            .bind(org.as_str())
            .fetch_all(self.read_pool())
            .await?;
        rows.iter().map(token_from_row).collect()
    }

    /// One token by id.
    pub async fn get_token(&self, org: &OrgId, id: &str) -> Result<ApiToken> {
        let row = sqlx::query(&format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE org_id = $1 AND id = $2"))
            .bind(org.as_str())
            .bind(id)
            .fetch_optional(self.read_pool())
            .await?
            .ok_or(StoreError::NotFound)?;
        token_from_row(&row)
    }

    /// Revoke (delete) a token.
    pub async fn revoke_token(&self, org: &OrgId, id: &str, now: Millis, events: &[NewEvent]) -> Result<()> {
        let mut w = Write::begin(self, org).await?;
        let n = sqlx::query("DELETE FROM api_tokens WHERE org_id = $1 AND id = $2")
            .bind(org.as_str())
            .bind(id)
            .execute(w.conn())
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        w.commit(events, &[], now).await?;
        Ok(())
    }
}
