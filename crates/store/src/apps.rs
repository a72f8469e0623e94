//! Applications and their assignments. A user reaches an app directly (an app user of
//! scope USER) or through any of their groups (including the built-in Everyone).

mod effective;

pub use effective::EffectiveAssignment;

use crate::jobs::NewJob;
use crate::plan::Affected;
use crate::write::Write;
use crate::{get, Result, Store, StoreError};
use idhub_domain::event::NewEvent;
use idhub_domain::ids::OrgId;
use idhub_domain::time::Millis;
use serde_json::Value;
use sqlx::any::AnyRow;

/// An app as stored (JSON columns in Okta's shapes).
#[derive(Debug, Clone, PartialEq)]
pub struct App {
    pub seq: i64,
    pub id: String,
    pub org_id: OrgId,
    pub name: String,
    pub label: String,
    /// `ACTIVE` or `INACTIVE`.
    pub status: String,
    pub sign_on_mode: String,
    pub settings: Value,
    pub username_template: Value,
    pub visibility: Value,
    pub accessibility: Value,
    pub created: Millis,
    pub last_updated: Millis,
}

/// The direct assignment's app username and whether the app ($2) reaches the user ($3)
/// directly or through any group (Everyone included), in org $1.
const SIGN_ON_ASSIGNMENT: &str = "(SELECT username FROM app_users WHERE org_id = $1 AND app_id = $2 AND user_id = $3) AS sign_on_username, \
     CAST(CASE WHEN EXISTS (SELECT 1 FROM app_users WHERE org_id = $1 AND app_id = $2 AND user_id = $3) \
       OR EXISTS (SELECT 1 FROM app_groups ag JOIN group_members gm ON gm.group_id = ag.group_id AND gm.org_id = ag.org_id WHERE ag.org_id = $1 AND ag.app_id = $2 AND gm.user_id = $3) \
       OR EXISTS (SELECT 1 FROM app_groups ag JOIN user_groups g ON g.id = ag.group_id AND g.org_id = ag.org_id WHERE ag.org_id = $1 AND ag.app_id = $2 AND g.kind = 'BUILT_IN') \
     THEN 1 ELSE 0 END AS BIGINT) AS sign_on_assigned";

fn sign_on_assignment_from_row(row: &AnyRow) -> Result<Option<Option<String>>> {
    let assigned: i64 = get(row, "sign_on_assigned")?;
    let username: Option<String> = get(row, "sign_on_username")?;
    Ok((assigned != 0).then_some(username))
}

const APP_COLS: &str =
    "seq, id, org_id, name, label, status, sign_on_mode, settings, username_template, visibility, accessibility, created, last_updated";

fn json_col(row: &AnyRow, col: &str) -> Result<Value> {
    let text: String = get(row, col)?;
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

fn app_from_row(row: &AnyRow) -> Result<App> {
    Ok(App {
        seq: get(row, "seq")?,
        id: get(row, "id")?,
        org_id: OrgId(get(row, "org_id")?),
        name: get(row, "name")?,
        label: get(row, "label")?,
        status: get(row, "status")?,
        sign_on_mode: get(row, "sign_on_mode")?,
        settings: json_col(row, "settings")?,
        username_template: json_col(row, "username_template")?,
        visibility: json_col(row, "visibility")?,
        accessibility: json_col(row, "accessibility")?,
        created: get(row, "created")?,
        last_updated: get(row, "last_updated")?,
    })
}

/// A direct assignment of an app to a user (an "app user").
#[derive(Debug, Clone, PartialEq)]
pub struct AppUser {
    pub app_id: String,
    pub user_id: String,
    /// `USER` (direct) or `GROUP`.
    pub scope: String,
    pub status: String,
    pub username: Option<String>,
    pub external_id: Option<String>,
    pub profile: Value,
    pub sync_state: String,
    pub created: Millis,
    pub last_updated: Millis,
    pub last_sync: Option<Millis>,
}

fn app_user_from_row(row: &AnyRow) -> Result<AppUser> {
    Ok(AppUser {
        app_id: get(row, "app_id")?,
        user_id: get(row, "user_id")?,
        scope: get(row, "scope")?,
        status: get(row, "status")?,
        username: get(row, "username")?,
        external_id: get(row, "external_id")?,
        profile: json_col(row, "profile")?,
        sync_state: get(row, "sync_state")?,
        created: get(row, "created")?,
        last_updated: get(row, "last_updated")?,
        last_sync: get(row, "last_sync")?,
    })
}

const APP_USER_COLS: &str = "app_id, user_id, scope, status, username, external_id, profile, sync_state, created, last_updated, last_sync";

/// An assignment of an app to a group.
#[derive(Debug, Clone, PartialEq)]
pub struct AppGroup {
    pub app_id: String,
    pub group_id: String,
    pub priority: i64,
    pub profile: Value,
    pub created: Millis,
    pub last_updated: Millis,
}

const APP_GROUP_COLS: &str = "ag.app_id, ag.group_id, ag.priority, ag.profile, ag.created, ag.last_updated";

fn app_group_from_row(row: &AnyRow) -> Result<AppGroup> {
    Ok(AppGroup {
        app_id: get(row, "app_id")?,
        group_id: get(row, "group_id")?,
        priority: get(row, "priority")?,
        profile: json_col(row, "profile")?,
        created: get(row, "created")?,
        last_updated: get(row, "last_updated")?,
    })
}

/// What `list_apps` returns: a page after `after_seq`, optionally narrowed.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppQuery<'a> {
    /// Label or name starts with this (case-insensitive).
    pub q: Option<&'a str>,
    /// `ACTIVE` or `INACTIVE`.
    pub status: Option<&'a str>,
    /// The catalog name (`okta_org2org`, …).
    pub name: Option<&'a str>,
    pub after_seq: i64,
    pub limit: i64,
}

impl Store {
    /// Store a new app.
    pub async fn create_app(&self, app: &App, events: &[NewEvent]) -> Result<App> {
        let mut w = Write::begin(self, &app.org_id).await?;
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO apps (id, org_id, name, label, status, sign_on_mode, settings, username_template, visibility, accessibility, created, last_updated) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING seq",
        )
        .bind(&app.id)
        .bind(app.org_id.as_str())
        .bind(&app.name)
        .bind(&app.label)
        .bind(&app.status)
        .bind(&app.sign_on_mode)
        .bind(app.settings.to_string())
        .bind(app.username_template.to_string())
        .bind(app.visibility.to_string())
        .bind(app.accessibility.to_string())
        .bind(app.created)
        .bind(app.last_updated)
        .fetch_one(w.conn())
        .await?;
        w.commit(events, &[], app.created).await?;
        Ok(App { seq, ..app.clone() })
    }

    /// Replace an app's mutable fields.
    pub async fn update_app(&self, app: &App, events: &[NewEvent]) -> Result<()> {
        let mut w = Write::begin(self, &app.org_id).await?;
        let n = sqlx::query(
            "UPDATE apps SET label = $1, status = $2, settings = $3, username_template = $4, visibility = $5, accessibility = $6, last_updated = $7 WHERE org_id = $8 AND id = $9",
        )
        .bind(&app.label)
        .bind(&app.status)
        .bind(app.settings.to_string())
        .bind(app.username_template.to_string())
        .bind(app.visibility.to_string())
        .bind(app.accessibility.to_string())
        .bind(app.last_updated)
        .bind(app.org_id.as_str())
        .bind(&app.id)
        .execute(w.conn())
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        w.commit(events, &[], app.last_updated).await?;
        Ok(())
    }

    /// Delete an app and its assignments.
    pub async fn delete_app(&self, org: &OrgId, id: &str, now: Millis, events: &[NewEvent]) -> Result<()> {
        let mut w = Write::begin(self, org).await?;
        sqlx::query("DELETE FROM app_users WHERE org_id = $1 AND app_id = $2").bind(org.as_str()).bind(id).execute(w.conn()).await?;
        sqlx::query("DELETE FROM app_groups WHERE org_id = $1 AND app_id = $2").bind(org.as_str()).bind(id).execute(w.conn()).await?;
        sqlx::query("DELETE FROM app_push_links WHERE org_id = $1 AND app_id = $2").bind(org.as_str()).bind(id).execute(w.conn()).await?;
        let n = sqlx::query("DELETE FROM apps WHERE org_id = $1 AND id = $2")
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

    /// An app of the org.
    pub async fn get_app(&self, org: &OrgId, id: &str) -> Result<App> {
        let row = sqlx::query(&format!("SELECT {APP_COLS} FROM apps WHERE org_id = $1 AND id = $2"))
            .bind(org.as_str())
            .bind(id)
            .fetch_optional(self.read_pool())
            .await?
            .ok_or(StoreError::NotFound)?;
        app_from_row(&row)
    }

    /// Apps of the org in creation order, optionally only those whose label or name starts
    /// with `q`, with this status, or with this catalog name.
    pub async fn list_apps(&self, org: &OrgId, query: &AppQuery<'_>) -> Result<Vec<App>> {
        let pattern = query.q.map(|q| format!("{}%", crate::sql::escape_like(&q.to_lowercase())));
        let rows = sqlx::query(&format!(
            "SELECT {APP_COLS} FROM apps WHERE org_id = $1 AND seq > $2 AND ($3 = '' OR LOWER(label) LIKE $3 ESCAPE '\\' OR LOWER(name) LIKE $3 ESCAPE '\\') AND ($4 = '' OR status = $4) AND ($5 = '' OR name = $5) ORDER BY seq LIMIT $6"
        ))
        .bind(org.as_str())
        .bind(query.after_seq)
        .bind(pattern.unwrap_or_default())
        .bind(query.status.unwrap_or_default().to_string())
        .bind(query.name.unwrap_or_default().to_string())
        .bind(query.limit)
        .fetch_all(self.read_pool())
        .await?;
        rows.iter().map(app_from_row).collect()
    }

    /// Assign an app to a user directly (or update the assignment).
    pub async fn upsert_app_user(&self, org: &OrgId, au: &AppUser, events: &[NewEvent], jobs: &[NewJob]) -> Result<()> {
        self.upsert_app_users(org, std::slice::from_ref(au), events, jobs, au.last_updated).await
    }

    /// Assign an app to several users directly (or update their assignments), all in one
    /// transaction with their events and jobs (converting group assignments).
    pub async fn upsert_app_users(&self, org: &OrgId, aus: &[AppUser], events: &[NewEvent], jobs: &[NewJob], now: Millis) -> Result<()> {
        let mut w = Write::begin(self, org).await?;
        let mut apps: Vec<&str> = aus.iter().map(|a| a.app_id.as_str()).collect();
        apps.sort_unstable();
        apps.dedup();
        let affected: Vec<Affected> = apps
            .iter()
            .map(|app| Affected::AppUsers {
                app: app.to_string(),
                users: aus.iter().filter(|a| a.app_id == *app).map(|a| a.user_id.clone()).collect(),
            })
            .collect();
        for a in affected {
            w.plan(a).await?;
        }
        for au in aus {
            let n = sqlx::query("UPDATE app_users SET scope = $1, status = $2, username = $3, profile = $4, last_updated = $5 WHERE org_id = $6 AND app_id = $7 AND user_id = $8")
                .bind(&au.scope)
                .bind(&au.status)
                .bind(au.username.clone())
                .bind(au.profile.to_string())
                .bind(au.last_updated)
                .bind(org.as_str())
                .bind(&au.app_id)
                .bind(&au.user_id)
                .execute(w.conn())
                .await?
                .rows_affected();
            if n == 0 {
                sqlx::query(&format!(
                    "INSERT INTO app_users (org_id, {APP_USER_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
                ))
                .bind(org.as_str())
                .bind(&au.app_id)
                .bind(&au.user_id)
                .bind(&au.scope)
                .bind(&au.status)
                .bind(au.username.clone())
                .bind(au.external_id.clone())
                .bind(au.profile.to_string())
                .bind(&au.sync_state)
                .bind(au.created)
                .bind(au.last_updated)
                .bind(au.last_sync)
                .execute(w.conn())
                .await?;
            }
        }
        // the users' provisioning follows their (new) assignments
        w.commit(events, jobs, now).await?;
        Ok(())
    }

    /// A user's direct assignment to an app.
    pub async fn get_app_user(&self, org: &OrgId, app: &str, user: &str) -> Result<AppUser> {
        let row = self
            .one_by_org_app_user(
                &format!("SELECT {APP_USER_COLS} FROM app_users WHERE org_id = $1 AND app_id = $2 AND user_id = $3"),
                org,
                app,
                user,
            )
            .await?;
        app_user_from_row(&row)
    }

    /// Direct assignments of an app.
    pub async fn list_app_users(&self, org: &OrgId, app: &str) -> Result<Vec<AppUser>> {
        let rows =
            sqlx::query(&format!("SELECT {APP_USER_COLS} FROM app_users WHERE org_id = $1 AND app_id = $2 ORDER BY created, user_id"))
                .bind(org.as_str())
                .bind(app)
                .fetch_all(self.read_pool())
                .await?;
        rows.iter().map(app_user_from_row).collect()
    }

    /// Remove a direct assignment.
    pub async fn delete_app_user(
        &self,
        org: &OrgId,
        app: &str,
        user: &str,
        now: Millis,
        events: &[NewEvent],
        jobs: &[NewJob],
    ) -> Result<()> {
        let affected = Affected::AppUsers { app: app.to_string(), users: vec![user.to_string()] };
        let mut w = Write::planning(self, org, affected).await?;
        let n = sqlx::query("DELETE FROM app_users WHERE org_id = $1 AND app_id = $2 AND user_id = $3")
            .bind(org.as_str())
            .bind(app)
            .bind(user)
            .execute(w.conn())
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        w.commit(events, jobs, now).await?;
        Ok(())
    }

    /// Assign an app to a group (or update the assignment).
    pub async fn upsert_app_group(&self, org: &OrgId, ag: &AppGroup, events: &[NewEvent], jobs: &[NewJob]) -> Result<()> {
        let affected = Affected::Group { group: ag.group_id.clone(), app: Some(ag.app_id.clone()) };
        let mut w = Write::planning(self, org, affected).await?;
        let n = sqlx::query(
            "UPDATE app_groups SET priority = $1, profile = $2, last_updated = $3 WHERE org_id = $4 AND app_id = $5 AND group_id = $6",
        )
        .bind(ag.priority)
        .bind(ag.profile.to_string())
        .bind(ag.last_updated)
        .bind(org.as_str())
        .bind(&ag.app_id)
        .bind(&ag.group_id)
        .execute(w.conn())
        .await?
        .rows_affected();
        if n == 0 {
            sqlx::query("INSERT INTO app_groups (org_id, app_id, group_id, priority, profile, created, last_updated) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(org.as_str())
                .bind(&ag.app_id)
                .bind(&ag.group_id)
                .bind(ag.priority)
                .bind(ag.profile.to_string())
                .bind(ag.created)
                .bind(ag.last_updated)
                .execute(w.conn())
                .await?;
        }
        w.commit(events, jobs, ag.last_updated).await?;
        Ok(())
    }

    /// Group assignments of an app (of groups that still exist), by priority.
    pub async fn list_app_groups(&self, org: &OrgId, app: &str) -> Result<Vec<AppGroup>> {
        let rows = sqlx::query(&format!(
            "SELECT {APP_GROUP_COLS} FROM app_groups ag JOIN user_groups g ON g.id = ag.group_id AND g.org_id = ag.org_id \
             WHERE ag.org_id = $1 AND ag.app_id = $2 ORDER BY ag.priority, ag.created, ag.group_id"
        ))
        .bind(org.as_str())
        .bind(app)
        .fetch_all(self.read_pool())
        .await?;
        rows.iter().map(app_group_from_row).collect()
    }

    /// Remove a group assignment.
    pub async fn delete_app_group(
        &self,
        org: &OrgId,
        app: &str,
        group: &str,
        now: Millis,
        events: &[NewEvent],
        jobs: &[NewJob],
    ) -> Result<()> {
        let affected = Affected::Group { group: group.to_string(), app: Some(app.to_string()) };
        let mut w = Write::planning(self, org, affected).await?;
        let n = sqlx::query("DELETE FROM app_groups WHERE org_id = $1 AND app_id = $2 AND group_id = $3")
            .bind(org.as_str())
            .bind(app)
            .bind(group)
            .execute(w.conn())
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        w.commit(events, jobs, now).await?;
        Ok(())
    }

    /// The apps a user reaches (directly or through any group, Everyone included), in a
    /// stable order (label, then id). `active_only` leaves out INACTIVE apps.
    pub async fn apps_for_user(&self, org: &OrgId, user: &str, active_only: bool) -> Result<Vec<App>> {
        let rows = sqlx::query(&format!(
            "SELECT {APP_COLS} FROM apps WHERE org_id = $1 AND ($3 = 0 OR status = 'ACTIVE') AND (\
               id IN (SELECT app_id FROM app_users WHERE org_id = $1 AND user_id = $2) \
               OR id IN (SELECT ag.app_id FROM app_groups ag JOIN group_members gm ON gm.group_id = ag.group_id AND gm.org_id = ag.org_id WHERE ag.org_id = $1 AND gm.user_id = $2) \
               OR id IN (SELECT ag.app_id FROM app_groups ag JOIN user_groups g ON g.id = ag.group_id AND g.org_id = ag.org_id WHERE ag.org_id = $1 AND g.kind = 'BUILT_IN')\
             ) ORDER BY label, id"
        ))
        .bind(org.as_str())
        .bind(user)
        .bind(i64::from(active_only))
        .fetch_all(self.read_pool())
        .await?;
        rows.iter().map(app_from_row).collect()
    }

    /// Is the app assigned to the user (directly or through a group)?
    pub async fn is_assigned(&self, org: &OrgId, app: &str, user: &str) -> Result<bool> {
        Ok(self.sign_on_assignment(org, app, user).await?.is_some())
    }

    /// What a sign-on into the app needs about the user, read in one query at the time of
    /// the sign-on (so an unassignment takes effect on the next one): `None` when the app
    /// is not assigned to the user (directly or through any group, Everyone included),
    /// otherwise the direct assignment's app username, if it has one.
    pub async fn sign_on_assignment(&self, org: &OrgId, app: &str, user: &str) -> Result<Option<Option<String>>> {
        let row = self.one_by_org_app_user(&format!("SELECT {SIGN_ON_ASSIGNMENT}"), org, app, user).await?;
        sign_on_assignment_from_row(&row)
    }

    /// The app and [`Store::sign_on_assignment`] for `user`, in one query.
    pub async fn app_for_sign_on(&self, org: &OrgId, app: &str, user: &str) -> Result<(App, Option<Option<String>>)> {
        let row = self
            .one_by_org_app_user(
                &format!("SELECT {APP_COLS}, {SIGN_ON_ASSIGNMENT} FROM apps WHERE org_id = $1 AND id = $2"),
                org,
                app,
                user,
            )
            .await?;
        Ok((app_from_row(&row)?, sign_on_assignment_from_row(&row)?))
    }

    /// The one row of a read whose parameters are org ($1), app ($2) and user ($3).
    async fn one_by_org_app_user(&self, sql: &str, org: &OrgId, app: &str, user: &str) -> Result<AnyRow> {
        sqlx::query(sql).bind(org.as_str()).bind(app).bind(user).fetch_optional(self.read_pool()).await?.ok_or(StoreError::NotFound)
    }
}

/// An app's SAML signing key (the private key sealed by the caller).
#[derive(Debug, Clone, PartialEq)]
pub struct AppKey {
    pub kid: String,
    pub app_id: String,
    pub cert_pem: String,
    pub key_sealed: String,
    /// `ACTIVE` (signs) or `INACTIVE` (kept downloadable after a rotation).
    pub status: String,
    pub created: Millis,
    pub expires: Millis,
}

impl Store {
    /// An app's keys, newest first.
    pub async fn app_keys(&self, org: &OrgId, app: &str) -> Result<Vec<AppKey>> {
        let rows = sqlx::query("SELECT kid, app_id, cert_pem, key_sealed, status, created, expires FROM app_keys WHERE org_id = $1 AND app_id = $2 ORDER BY created DESC, kid")
            .bind(org.as_str())
            .bind(app)
            .fetch_all(self.read_pool())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(AppKey {
                    kid: get(r, "kid")?,
                    app_id: get(r, "app_id")?,
                    cert_pem: get(r, "cert_pem")?,
                    key_sealed: get(r, "key_sealed")?,
                    status: get(r, "status")?,
                    created: get(r, "created")?,
                    expires: get(r, "expires")?,
                })
            })
            .collect()
    }

    /// Add a key and make it the active one (earlier keys stay, INACTIVE).
    pub async fn add_active_app_key(&self, org: &OrgId, key: &AppKey, events: &[NewEvent]) -> Result<()> {
        let mut w = Write::begin(self, org).await?;
        sqlx::query("UPDATE app_keys SET status = 'INACTIVE' WHERE org_id = $1 AND app_id = $2")
            .bind(org.as_str())
            .bind(&key.app_id)
            .execute(w.conn())
            .await?;
        sqlx::query("INSERT INTO app_keys (kid, org_id, app_id, cert_pem, key_sealed, status, created, expires) VALUES ($1, $2, $3, $4, $5, 'ACTIVE', $6, $7)")
            .bind(&key.kid)
            .bind(org.as_str())
            .bind(&key.app_id)
            .bind(&key.cert_pem)
            .bind(&key.key_sealed)
            .bind(key.created)
            .bind(key.expires)
            .execute(w.conn())
            .await?;
        w.commit(events, &[], key.created).await?;
        Ok(())
    }
}
