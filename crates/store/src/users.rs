//! Users: create, read by id or login, update with optimistic concurrency, delete,
//! keyset-paged listing with `q`, `filter` and `search`, and bulk loading.

use crate::plan::Affected;
use crate::rows::{group_from_row, user_from_row, StoredGroup, StoredUser, GROUP_COLS, USER_COLS};
use crate::sql::{bind_all, prefix_upper};
use crate::sqlfilter::{self, Bind, Column, ColumnKind};
use crate::write::Write;
use crate::{decode_cursor, encode_cursor, Backend, Page, Result, Store, StoreError};
use idhub_domain::event::NewEvent;
use idhub_domain::filter::{Expr, FilterError};
use idhub_domain::ids::{GroupId, OrgId, UserId};
use idhub_domain::lifecycle::UserStatus;
use idhub_domain::time::Millis;
use idhub_domain::user::{login_key, User};
use sqlx::AnyConnection;
use std::collections::BTreeMap;

/// How a listing is narrowed.
#[derive(Debug, Clone)]
pub enum UserSelect {
    /// Every user but DEPROVISIONED ones.
    All,
    /// Okta's `q`: first name, last name or email starting with the text.
    Q(String),
    /// Okta's `filter` (exact values). DEPROVISIONED users are left out unless the
    /// expression names `status`.
    Filter(Expr),
    /// Okta's `search` (values ignore case; includes DEPROVISIONED users).
    Search(Expr),
}

/// A listing request.
#[derive(Debug, Clone)]
pub struct UserQuery {
    pub select: UserSelect,
    pub limit: i64,
    pub after: Option<String>,
}

fn mentions_status(e: &Expr) -> bool {
    match e {
        Expr::Cmp { attr, .. } | Expr::Present { attr } => attr == "status",
        Expr::And(a, b) | Expr::Or(a, b) => mentions_status(a) || mentions_status(b),
        Expr::Not(a) => mentions_status(a),
    }
}

fn valid_attr(name: &str) -> bool {
    let mut c = name.chars();
    matches!(c.next(), Some(f) if f.is_ascii_alphabetic()) && c.all(|x| x.is_ascii_alphanumeric() || x == '_') && name.len() <= 64
}

/// Map a filter/search attribute of a user to SQL.
fn user_column(backend: Backend, attr: &str) -> Option<Column> {
    let col = |sql: &str, kind| Some(Column { sql: sql.to_string(), kind });
    match attr {
        "id" => col("id", ColumnKind::Text),
        "status" => col("status", ColumnKind::Text),
        "type.id" => col("type_id", ColumnKind::Text),
        "created" => col("created", ColumnKind::Millis),
        "activated" => col("activated", ColumnKind::Millis),
        "statusChanged" => col("status_changed", ColumnKind::Millis),
        "lastUpdated" => col("last_updated", ColumnKind::Millis),
        "lastLogin" => col("last_login", ColumnKind::Millis),
        "passwordChanged" => col("password_changed", ColumnKind::Millis),
        "profile.login" => col("login", ColumnKind::Text),
        other => {
            let key = other.strip_prefix("profile.")?;
            valid_attr(key).then(|| Column { sql: backend.json_text("profile", key), kind: ColumnKind::Text })
        }
    }
}

/// The fields written on insert/update.
struct Keys {
    login: String,
    login_key: String,
    email_key: Option<String>,
    first_key: Option<String>,
    last_key: Option<String>,
    profile: String,
}

fn keys(user: &User) -> Keys {
    let lower = |k: &str| user.attr(k).map(str::to_lowercase);
    Keys {
        login: user.login().to_string(),
        login_key: login_key(user.login()),
        email_key: lower("email"),
        first_key: lower("firstName"),
        last_key: lower("lastName"),
        profile: serde_json::Value::Object(user.profile.clone()).to_string(),
    }
}

pub(crate) async fn insert_user(conn: &mut AnyConnection, user: &User) -> Result<i64> {
    let k = keys(user);
    let seq: i64 = sqlx::query_scalar(
        "INSERT INTO users (id, org_id, status, transitioning, login, login_key, email_key, first_key, last_key, profile, type_id, provider_type, provider_name, password_hash, recovery_question, admin_role, failed_logins, created, activated, status_changed, last_login, last_updated, password_changed, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, 1) RETURNING seq",
    )
    .bind(user.id.as_str())
    .bind(user.org_id.as_str())
    .bind(user.status.as_str())
    .bind(user.transitioning_to.map(|s| s.as_str()))
    .bind(&k.login)
    .bind(&k.login_key)
    .bind(k.email_key)
    .bind(k.first_key)
    .bind(k.last_key)
    .bind(&k.profile)
    .bind(&user.type_id)
    .bind(user.provider.as_str())
    .bind(&user.provider_name)
    .bind(user.password_hash.clone())
    .bind(user.recovery_question.clone())
    .bind(user.admin_role.map(|r| r.as_str()))
    .bind(user.failed_logins)
    .bind(user.created)
    .bind(user.activated)
    .bind(user.status_changed)
    .bind(user.last_login)
    .bind(user.last_updated)
    .bind(user.password_changed)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| StoreError::from_unique(e, "login"))?;
    Ok(seq)
}

pub(crate) async fn add_member(
    conn: &mut AnyConnection,
    org: &OrgId,
    group: &GroupId,
    user: &UserId,
    user_seq: i64,
    now: Millis,
) -> Result<bool> {
    let kind: Option<String> = sqlx::query_scalar("SELECT kind FROM user_groups WHERE org_id = $1 AND id = $2")
        .bind(org.as_str())
        .bind(group.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    match kind.as_deref() {
        None => return Err(StoreError::NotFound),
        Some("BUILT_IN") => return Ok(false),
        Some(_) => {}
    }
    let exists: Option<i64> = sqlx::query_scalar("SELECT user_seq FROM group_members WHERE group_id = $1 AND user_id = $2")
        .bind(group.as_str())
        .bind(user.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    if exists.is_some() {
        return Ok(false);
    }
    sqlx::query("INSERT INTO group_members (org_id, group_id, user_id, user_seq, created) VALUES ($1, $2, $3, $4, $5)")
        .bind(org.as_str())
        .bind(group.as_str())
        .bind(user.as_str())
        .bind(user_seq)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE user_groups SET last_membership_updated = $1 WHERE id = $2")
        .bind(now)
        .bind(group.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(true)
}

/// Rows per INSERT statement when loading in bulk.
const BULK_ROWS: usize = 50;

impl Store {
    /// Create a user, put it in `groups` (all of which must exist in the org), and write
    /// `events` and the provisioning its assignments start, all in one transaction.
    pub async fn create_user(&self, user: &User, groups: &[GroupId], events: &[NewEvent]) -> Result<StoredUser> {
        let affected = Affected::User(user.id.0.clone());
        let mut w = Write::planning(self, &user.org_id, affected).await?;
        let seq = insert_user(w.conn(), user).await?;
        for g in groups {
            add_member(w.conn(), &user.org_id, g, &user.id, seq, user.created).await?;
        }
        w.commit(events, &[], user.created).await?;
        Ok(StoredUser { user: user.clone(), seq, version: 1 })
    }

    /// Insert many users at once (loading, benchmarks). No events, no groups.
    pub async fn bulk_insert_users(&self, users: &[User]) -> Result<()> {
        let mut tx = self.write_pool().begin().await?;
        for chunk in users.chunks(BULK_ROWS) {
            let mut sql = String::from("INSERT INTO users (id, org_id, status, login, login_key, email_key, first_key, last_key, profile, type_id, provider_type, provider_name, password_hash, created, activated, status_changed, last_updated, version) VALUES ");
            let mut binds: Vec<Bind> = Vec::with_capacity(chunk.len() * 17);
            for (i, u) in chunk.iter().enumerate() {
                let k = keys(u);
                if i > 0 {
                    sql.push(',');
                }
                let b = binds.len();
                sql.push('(');
                sql.push_str(&(1..=17).map(|j| format!("${}", b + j)).collect::<Vec<_>>().join(","));
                sql.push_str(",1)");
                let opt = |s: Option<String>| Bind::Text(s.unwrap_or_default());
                binds.extend([
                    Bind::Text(u.id.0.clone()),
                    Bind::Text(u.org_id.0.clone()),
                    Bind::Text(u.status.as_str().into()),
                    Bind::Text(k.login),
                    Bind::Text(k.login_key),
                    opt(k.email_key),
                    opt(k.first_key),
                    opt(k.last_key),
                    Bind::Text(k.profile),
                    Bind::Text(u.type_id.clone()),
                    Bind::Text(u.provider.as_str().into()),
                    Bind::Text(u.provider_name.clone()),
                    opt(u.password_hash.clone()),
                    Bind::Int(u.created),
                    Bind::Int(u.activated.unwrap_or(u.created)),
                    Bind::Int(u.status_changed.unwrap_or(u.created)),
                    Bind::Int(u.last_updated),
                ]);
            }
            bind_all(sqlx::query(&sql), &binds).execute(&mut *tx).await.map_err(|e| StoreError::from_unique(e, "login"))?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A user by id, or by login (ignoring case).
    pub async fn get_user(&self, org: &OrgId, id_or_login: &str) -> Result<StoredUser> {
        let row = sqlx::query(&format!("SELECT {USER_COLS} FROM users WHERE org_id = $1 AND (id = $2 OR login_key = $3)"))
            .bind(org.as_str())
            .bind(id_or_login)
            .bind(login_key(id_or_login))
            .fetch_optional(self.read_pool())
            .await?
            .ok_or(StoreError::NotFound)?;
        user_from_row(&row)
    }

    /// Write a changed user if nobody changed it since `version` was read; record events.
    /// Bookkeeping (sign-in times, failed attempts) that no app is told about.
    pub async fn update_user(&self, user: &User, version: i64, events: &[NewEvent]) -> Result<StoredUser> {
        self.write_user(user, version, events, None).await
    }

    /// [`Store::update_user`] for a change apps hear of (profile, login, credentials,
    /// lifecycle): the provisioned apps the user reaches get a sync job in the same
    /// transaction, carrying `passwords` (app id → sealed password) for those that sync it.
    pub async fn update_user_planned(
        &self,
        user: &User,
        version: i64,
        events: &[NewEvent],
        passwords: &BTreeMap<String, String>,
    ) -> Result<StoredUser> {
        self.write_user(user, version, events, Some(passwords)).await
    }

    async fn write_user(
        &self,
        user: &User,
        version: i64,
        events: &[NewEvent],
        passwords: Option<&BTreeMap<String, String>>,
    ) -> Result<StoredUser> {
        let k = keys(user);
        let mut w = Write::begin(self, &user.org_id).await?;
        let seq: Option<i64> = sqlx::query_scalar(
            "UPDATE users SET status = $1, transitioning = $2, login = $3, login_key = $4, email_key = $5, first_key = $6, last_key = $7, profile = $8, type_id = $9, provider_type = $10, provider_name = $11, password_hash = $12, recovery_question = $13, admin_role = $14, failed_logins = $15, activated = $16, status_changed = $17, last_login = $18, last_updated = $19, password_changed = $20, version = version + 1 \
             WHERE org_id = $21 AND id = $22 AND version = $23 RETURNING seq",
        )
        .bind(user.status.as_str())
        .bind(user.transitioning_to.map(|s| s.as_str()))
        .bind(&k.login)
        .bind(&k.login_key)
        .bind(k.email_key)
        .bind(k.first_key)
        .bind(k.last_key)
        .bind(&k.profile)
        .bind(&user.type_id)
        .bind(user.provider.as_str())
        .bind(&user.provider_name)
        .bind(user.password_hash.clone())
        .bind(user.recovery_question.clone())
        .bind(user.admin_role.map(|r| r.as_str()))
        .bind(user.failed_logins)
        .bind(user.activated)
        .bind(user.status_changed)
        .bind(user.last_login)
        .bind(user.last_updated)
        .bind(user.password_changed)
        .bind(user.org_id.as_str())
        .bind(user.id.as_str())
        .bind(version)
        .fetch_optional(w.conn())
        .await
        .map_err(|e| StoreError::from_unique(e, "login"))?;
        let Some(seq) = seq else {
            return Err(StoreError::Stale);
        };
        if let Some(passwords) = passwords {
            // after the change: every provisioned app the user reaches reconciles it
            w.with_passwords(passwords.clone());
            w.plan(Affected::User(user.id.0.clone())).await?;
        }
        w.commit(events, &[], user.last_updated).await?;
        Ok(StoredUser { user: user.clone(), seq, version: version + 1 })
    }

    /// Delete a user and its memberships; record events.
    pub async fn delete_user(&self, org: &OrgId, id: &UserId, now: Millis, events: &[NewEvent]) -> Result<()> {
        let mut w = Write::begin(self, org).await?;
        let groups: Vec<String> = sqlx::query_scalar("SELECT group_id FROM group_members WHERE org_id = $1 AND user_id = $2")
            .bind(org.as_str())
            .bind(id.as_str())
            .fetch_all(w.conn())
            .await?;
        sqlx::query("DELETE FROM group_members WHERE org_id = $1 AND user_id = $2")
            .bind(org.as_str())
            .bind(id.as_str())
            .execute(w.conn())
            .await?;
        for g in groups {
            sqlx::query("UPDATE user_groups SET last_membership_updated = $1 WHERE id = $2").bind(now).bind(g).execute(w.conn()).await?;
        }
        // The user's app assignments and MFA factors go with them.
        for table in ["app_users", "app_push_links", "user_factors"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE org_id = $1 AND user_id = $2"))
                .bind(org.as_str())
                .bind(id.as_str())
                .execute(w.conn())
                .await?;
        }
        sqlx::query("UPDATE api_tokens SET user_id = NULL WHERE org_id = $1 AND user_id = $2")
            .bind(org.as_str())
            .bind(id.as_str())
            .execute(w.conn())
            .await?;
        let n = sqlx::query("DELETE FROM users WHERE org_id = $1 AND id = $2")
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

    /// List users a page at a time, in creation order (keyset on the sequence number).
    pub async fn list_users(&self, org: &OrgId, q: &UserQuery) -> std::result::Result<Page<StoredUser>, ListError> {
        let mut sql = format!("SELECT {USER_COLS} FROM users WHERE org_id = $1");
        let mut binds = vec![Bind::Text(org.0.clone())];
        if let Some(after) = &q.after {
            let seq = decode_cursor(after).ok_or(ListError::BadCursor)?;
            binds.push(Bind::Int(seq));
            sql.push_str(&format!(" AND seq > ${}", binds.len()));
        }
        let backend = self.backend();
        let resolve = move |attr: &str| user_column(backend, attr);
        match &q.select {
            UserSelect::All => sql.push_str(" AND status <> 'DEPROVISIONED'"),
            UserSelect::Q(text) => {
                let p = text.to_lowercase();
                binds.push(Bind::Text(p.clone()));
                binds.push(Bind::Text(prefix_upper(&p)));
                let (a, b) = (binds.len() - 1, binds.len());
                sql.push_str(&format!(
                    " AND status <> 'DEPROVISIONED' AND ((first_key >= ${a} AND first_key < ${b}) OR (last_key >= ${a} AND last_key < ${b}) OR (email_key >= ${a} AND email_key < ${b}))"
                ));
            }
            UserSelect::Filter(expr) => {
                if !mentions_status(expr) {
                    sql.push_str(" AND status <> 'DEPROVISIONED'");
                }
                let w = sqlfilter::to_sql(expr, binds.len() + 1, &resolve, false).map_err(ListError::Filter)?;
                sql.push_str(" AND ");
                sql.push_str(&w.sql);
                binds.extend(w.binds);
            }
            UserSelect::Search(expr) => {
                let w = sqlfilter::to_sql(expr, binds.len() + 1, &resolve, true).map_err(ListError::Filter)?;
                sql.push_str(" AND ");
                sql.push_str(&w.sql);
                binds.extend(w.binds);
            }
        }
        binds.push(Bind::Int(q.limit + 1));
        sql.push_str(&format!(" ORDER BY seq LIMIT ${}", binds.len()));
        let rows = bind_all(sqlx::query(&sql), &binds).fetch_all(self.read_pool()).await.map_err(|e| ListError::Store(e.into()))?;
        let more = rows.len() as i64 > q.limit;
        let items = rows.iter().take(q.limit.max(0) as usize).map(user_from_row).collect::<Result<Vec<_>>>().map_err(ListError::Store)?;
        let next = if more { items.last().map(|u| encode_cursor(u.seq)) } else { None };
        Ok(Page { items, next })
    }

    /// The groups a user belongs to (the built-in `Everyone` first).
    pub async fn user_groups(&self, org: &OrgId, user: &UserId) -> Result<Vec<StoredGroup>> {
        let cols = GROUP_COLS.split(", ").map(|c| format!("g.{c}")).collect::<Vec<_>>().join(", ");
        let rows = sqlx::query(&format!(
            "SELECT {cols} FROM user_groups g WHERE g.org_id = $1 AND (g.kind = 'BUILT_IN' OR g.id IN (SELECT group_id FROM group_members WHERE org_id = $1 AND user_id = $2)) ORDER BY g.seq"
        ))
        .bind(org.as_str())
        .bind(user.as_str())
        .fetch_all(self.read_pool())
        .await?;
        rows.iter().map(group_from_row).collect()
    }

    /// How many users an org has (in any status).
    pub async fn count_users(&self, org: &OrgId) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE org_id = $1").bind(org.as_str()).fetch_one(self.read_pool()).await?)
    }

    /// Users by status count, for dashboards.
    pub async fn count_users_with_status(&self, org: &OrgId, status: UserStatus) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE org_id = $1 AND status = $2")
            .bind(org.as_str())
            .bind(status.as_str())
            .fetch_one(self.read_pool())
            .await?)
    }
}

/// Why a listing failed.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    /// The `after` cursor is not one we issued.
    #[error("the after cursor is not valid")]
    BadCursor,
    /// The filter/search expression could not be turned into a query.
    #[error("{0}")]
    Filter(FilterError),
    /// The database failed.
    #[error(transparent)]
    Store(StoreError),
}

impl Store {
    /// The oldest user of the org holding `role`, if any (owner of CLI-made tokens).
    pub async fn first_admin(&self, org: &OrgId, role: idhub_domain::user::AdminRole) -> Result<Option<StoredUser>> {
        let row = sqlx::query(&format!("SELECT {USER_COLS} FROM users WHERE org_id = $1 AND admin_role = $2 ORDER BY seq LIMIT 1"))
            .bind(org.as_str())
            .bind(role.as_str())
            .fetch_optional(self.read_pool())
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }
}
