//! Inbound identity providers: their configuration (Okta's JSON), the org's trusted IdP
//! signing certificates, account links (IdP subject ↔ user), the assertion replay store,
//! outstanding AuthnRequests (SP-initiated sign-in) and IdP routing rules.

use crate::write::Write;
use crate::{get, Result, Store, StoreError};
use idhub_domain::event::NewEvent;
use idhub_domain::ids::{GroupId, OrgId};
use idhub_domain::time::Millis;
use idhub_domain::user::User;
use serde_json::Value;
use sqlx::any::AnyRow;

/// An identity provider as stored; `config` is its Okta JSON without server fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Idp {
    pub seq: i64,
    pub id: String,
    pub org_id: OrgId,
    pub name: String,
    /// `ACTIVE` or `INACTIVE`.
    pub status: String,
    pub config: Value,
    pub created: Millis,
    pub last_updated: Millis,
}

const IDP_COLS: &str = "seq, id, org_id, name, status, config, created, last_updated";

fn json_col(row: &AnyRow, col: &str) -> Result<Value> {
    let text: String = get(row, col)?;
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

fn idp_from_row(row: &AnyRow) -> Result<Idp> {
    Ok(Idp {
        seq: get(row, "seq")?,
        id: get(row, "id")?,
        org_id: OrgId(get(row, "org_id")?),
        name: get(row, "name")?,
        status: get(row, "status")?,
        config: json_col(row, "config")?,
        created: get(row, "created")?,
        last_updated: get(row, "last_updated")?,
    })
}

/// A trusted IdP signing certificate (`/api/v1/idps/credentials/keys`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdpKey {
    pub kid: String,
    pub org_id: OrgId,
    /// Base64 DER of the X.509 certificate.
    pub cert_der: String,
    pub created: Millis,
    /// The certificate's notAfter.
    pub expires: Millis,
}

fn key_from_row(row: &AnyRow) -> Result<IdpKey> {
    Ok(IdpKey {
        kid: get(row, "kid")?,
        org_id: OrgId(get(row, "org_id")?),
        cert_der: get(row, "cert_der")?,
        created: get(row, "created")?,
        expires: get(row, "expires")?,
    })
}

/// A user's link to an IdP subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdpLink {
    pub idp_id: String,
    pub user_id: String,
    /// The IdP's name for the user (its NameID).
    pub external_id: String,
    pub created: Millis,
    pub last_updated: Millis,
}

fn link_from_row(row: &AnyRow) -> Result<IdpLink> {
    Ok(IdpLink {
        idp_id: get(row, "idp_id")?,
        user_id: get(row, "user_id")?,
        external_id: get(row, "external_id")?,
        created: get(row, "created")?,
        last_updated: get(row, "last_updated")?,
    })
}

/// An outstanding AuthnRequest this org sent to an IdP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamlRequest {
    pub id: String,
    pub idp_id: String,
    pub relay_state: Option<String>,
    pub expires: Millis,
}

/// An IdP routing rule (Okta's IDP_DISCOVERY policy rule); `rule` is its JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct RoutingRule {
    pub seq: i64,
    pub id: String,
    pub org_id: OrgId,
    pub name: String,
    pub priority: i64,
    pub status: String,
    pub rule: Value,
    pub created: Millis,
    pub last_updated: Millis,
}

fn rule_from_row(row: &AnyRow) -> Result<RoutingRule> {
    Ok(RoutingRule {
        seq: get(row, "seq")?,
        id: get(row, "id")?,
        org_id: OrgId(get(row, "org_id")?),
        name: get(row, "name")?,
        priority: get(row, "priority")?,
        status: get(row, "status")?,
        rule: json_col(row, "rule")?,
        created: get(row, "created")?,
        last_updated: get(row, "last_updated")?,
    })
}

const RULE_COLS: &str = "seq, id, org_id, name, priority, status, rule, created, last_updated";

impl Store {
    /// Store a new identity provider.
    pub async fn create_idp(&self, idp: &Idp, events: &[NewEvent]) -> Result<Idp> {
        let mut w = Write::begin(self, &idp.org_id).await?;
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO idps (id, org_id, name, status, config, created, last_updated) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING seq",
        )
        .bind(&idp.id)
        .bind(idp.org_id.as_str())
        .bind(&idp.name)
        .bind(&idp.status)
        .bind(idp.config.to_string())
        .bind(idp.created)
        .bind(idp.last_updated)
        .fetch_one(w.conn())
        .await
        .map_err(|e| StoreError::from_unique(e, "name"))?;
        w.commit(events, &[], idp.created).await?;
        Ok(Idp { seq, ..idp.clone() })
    }

    /// Replace an identity provider's name, status and configuration.
    pub async fn update_idp(&self, idp: &Idp, events: &[NewEvent]) -> Result<()> {
        let mut w = Write::begin(self, &idp.org_id).await?;
        let n = sqlx::query("UPDATE idps SET name = $1, status = $2, config = $3, last_updated = $4 WHERE org_id = $5 AND id = $6")
            .bind(&idp.name)
            .bind(&idp.status)
            .bind(idp.config.to_string())
            .bind(idp.last_updated)
            .bind(idp.org_id.as_str())
            .bind(&idp.id)
            .execute(w.conn())
            .await
            .map_err(|e| StoreError::from_unique(e, "name"))?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        w.commit(events, &[], idp.last_updated).await?;
        Ok(())
    }

    /// Delete an identity provider with its links, replay entries and requests.
    pub async fn delete_idp(&self, org: &OrgId, id: &str, now: Millis, events: &[NewEvent]) -> Result<()> {
        let mut w = Write::begin(self, org).await?;
        for table in ["idp_links", "saml_replay", "saml_requests"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE org_id = $1 AND idp_id = $2"))
                .bind(org.as_str())
                .bind(id)
                .execute(w.conn())
                .await?;
        }
        let n = sqlx::query("DELETE FROM idps WHERE org_id = $1 AND id = $2")
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

    /// An identity provider of the org.
    pub async fn get_idp(&self, org: &OrgId, id: &str) -> Result<Idp> {
        let row = sqlx::query(&format!("SELECT {IDP_COLS} FROM idps WHERE org_id = $1 AND id = $2"))
            .bind(org.as_str())
            .bind(id)
            .fetch_optional(self.read_pool())
            .await?
            .ok_or(StoreError::NotFound)?;
        idp_from_row(&row)
    }

    /// Identity providers of the org in creation order after `after_seq`, optionally only
    /// those whose name starts with `q` (ignoring case).
    pub async fn list_idps(&self, org: &OrgId, q: Option<&str>, after_seq: i64, limit: i64) -> Result<Vec<Idp>> {
        let pattern = q.map(|q| format!("{}%", crate::sql::escape_like(&q.to_lowercase()))).unwrap_or_default();
        let rows = sqlx::query(&format!(
            "SELECT {IDP_COLS} FROM idps WHERE org_id = $1 AND seq > $2 AND ($3 = '' OR LOWER(name) LIKE $3 ESCAPE '\\') ORDER BY seq LIMIT $4"
        ))
        .bind(org.as_str())
        .bind(after_seq)
        .bind(pattern)
        .bind(limit)
        .fetch_all(self.read_pool())
        .await?;
        rows.iter().map(idp_from_row).collect()
    }

    /// Store a trusted IdP certificate.
    pub async fn create_idp_key(&self, key: &IdpKey, events: &[NewEvent]) -> Result<()> {
        let mut w = Write::begin(self, &key.org_id).await?;
        sqlx::query("INSERT INTO idp_keys (kid, org_id, cert_der, created, expires) VALUES ($1, $2, $3, $4, $5)")
            .bind(&key.kid)
            .bind(key.org_id.as_str())
            .bind(&key.cert_der)
            .bind(key.created)
            .bind(key.expires)
            .execute(w.conn())
            .await
            .map_err(|e| StoreError::from_unique(e, "kid"))?;
        w.commit(events, &[], key.created).await?;
        Ok(())
    }

    /// A trusted IdP certificate of the org.
    pub async fn get_idp_key(&self, org: &OrgId, kid: &str) -> Result<IdpKey> {
        let row = sqlx::query("SELECT kid, org_id, cert_der, created, expires FROM idp_keys WHERE org_id = $1 AND kid = $2")
            .bind(org.as_str())
            .bind(kid)
            .fetch_optional(self.read_pool())
            .await?
            .ok_or(StoreError::NotFound)?;
        key_from_row(&row)
    }

    /// The org's trusted IdP certificates, oldest first.
    pub async fn list_idp_keys(&self, org: &OrgId) -> Result<Vec<IdpKey>> {
        let rows = sqlx::query("SELECT kid, org_id, cert_der, created, expires FROM idp_keys WHERE org_id = $1 ORDER BY created, kid")
            .bind(org.as_str())
            .fetch_all(self.read_pool())
            .await?;
        rows.iter().map(key_from_row).collect()
    }

    /// Delete a trusted IdP certificate.
    pub async fn delete_idp_key(&self, org: &OrgId, kid: &str, now: Millis, events: &[NewEvent]) -> Result<()> {
        self.delete_with_events(org, "DELETE FROM idp_keys WHERE org_id = $1 AND kid = $2", &[kid], now, events).await
    }

    /// The user linked to this IdP subject, if any.
    pub async fn idp_link_by_external_id(&self, org: &OrgId, idp: &str, external_id: &str) -> Result<Option<IdpLink>> {
        let row = sqlx::query(
            "SELECT idp_id, user_id, external_id, created, last_updated FROM idp_links WHERE org_id = $1 AND idp_id = $2 AND external_id = $3",
        )
        .bind(org.as_str())
        .bind(idp)
        .bind(external_id)
        .fetch_optional(self.read_pool())
        .await?;
        row.as_ref().map(link_from_row).transpose()
    }

    /// A user's link to this IdP, if any.
    pub async fn idp_link_of_user(&self, org: &OrgId, idp: &str, user: &str) -> Result<Option<IdpLink>> {
        let row = sqlx::query(
            "SELECT idp_id, user_id, external_id, created, last_updated FROM idp_links WHERE org_id = $1 AND idp_id = $2 AND user_id = $3",
        )
        .bind(org.as_str())
        .bind(idp)
        .bind(user)
        .fetch_optional(self.read_pool())
        .await?;
        row.as_ref().map(link_from_row).transpose()
    }

    /// The users linked to an IdP, in link order.
    pub async fn list_idp_links(&self, org: &OrgId, idp: &str) -> Result<Vec<IdpLink>> {
        let rows = sqlx::query(
            "SELECT idp_id, user_id, external_id, created, last_updated FROM idp_links WHERE org_id = $1 AND idp_id = $2 ORDER BY created, user_id",
        )
        .bind(org.as_str())
        .bind(idp)
        .fetch_all(self.read_pool())
        .await?;
        rows.iter().map(link_from_row).collect()
    }

    /// Link a user to an IdP subject (replacing the user's previous link to that IdP).
    pub async fn link_idp_user(&self, org: &OrgId, link: &IdpLink, events: &[NewEvent]) -> Result<()> {
        let mut w = Write::begin(self, org).await?;
        upsert_link(w.conn(), org, link).await?;
        w.commit(events, &[], link.last_updated).await?;
        Ok(())
    }

    /// Remove a user's link to an IdP.
    pub async fn unlink_idp_user(&self, org: &OrgId, idp: &str, user: &str, now: Millis, events: &[NewEvent]) -> Result<()> {
        self.delete_with_events(org, "DELETE FROM idp_links WHERE org_id = $1 AND idp_id = $2 AND user_id = $3", &[idp, user], now, events)
            .await
    }

    /// Create a just-in-time user already linked to its IdP subject, with its groups,
    /// events and the provisioning its groups' apps start, in one transaction.
    pub async fn create_linked_user(
        &self,
        user: &User,
        groups: &[GroupId],
        link: &IdpLink,
        events: &[NewEvent],
    ) -> Result<crate::rows::StoredUser> {
        let mut w = Write::planning(self, &user.org_id, crate::plan::Affected::User(user.id.0.clone())).await?;
        let seq = crate::users::insert_user(w.conn(), user).await?;
        for g in groups {
            crate::users::add_member(w.conn(), &user.org_id, g, &user.id, seq, user.created).await?;
        }
        upsert_link(w.conn(), &user.org_id, link).await?;
        w.commit(events, &[], user.created).await?;
        Ok(crate::rows::StoredUser { user: user.clone(), seq, version: 1 })
    }

    /// Record an assertion id until `expires`. `false` when it was already recorded (a
    /// replay); expired entries are removed first, so an id is remembered exactly as long
    /// as the assertion could be accepted.
    pub async fn remember_assertion(&self, org: &OrgId, idp: &str, assertion_id: &str, expires: Millis, now: Millis) -> Result<bool> {
        let mut tx = self.write_pool().begin().await?;
        sqlx::query("DELETE FROM saml_replay WHERE org_id = $1 AND idp_id = $2 AND assertion_id = $3 AND expires < $4")
            .bind(org.as_str())
            .bind(idp)
            .bind(assertion_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let inserted = sqlx::query("INSERT INTO saml_replay (org_id, idp_id, assertion_id, expires) VALUES ($1, $2, $3, $4)")
            .bind(org.as_str())
            .bind(idp)
            .bind(assertion_id)
            .bind(expires)
            .execute(&mut *tx)
            .await;
        match inserted {
            Ok(_) => {
                tx.commit().await?;
                Ok(true)
            }
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Remember an AuthnRequest sent to an IdP.
    pub async fn save_saml_request(&self, org: &OrgId, req: &SamlRequest) -> Result<()> {
        sqlx::query("INSERT INTO saml_requests (id, org_id, idp_id, relay_state, expires) VALUES ($1, $2, $3, $4, $5)")
            .bind(&req.id)
            .bind(org.as_str())
            .bind(&req.idp_id)
            .bind(req.relay_state.clone())
            .bind(req.expires)
            .execute(self.write_pool())
            .await?;
        Ok(())
    }

    /// Take (consume) an outstanding, unexpired AuthnRequest of this IdP.
    pub async fn take_saml_request(&self, org: &OrgId, idp: &str, id: &str, now: Millis) -> Result<Option<SamlRequest>> {
        let row = sqlx::query(
            "DELETE FROM saml_requests WHERE org_id = $1 AND idp_id = $2 AND id = $3 AND expires >= $4 RETURNING id, idp_id, relay_state, expires",
        )
        .bind(org.as_str())
        .bind(idp)
        .bind(id)
        .bind(now)
        .fetch_optional(self.write_pool())
        .await?;
        row.map(|r| {
            Ok(SamlRequest {
                id: get(&r, "id")?,
                idp_id: get(&r, "idp_id")?,
                relay_state: get(&r, "relay_state")?,
                expires: get(&r, "expires")?,
            })
        })
        .transpose()
    }

    /// Drop expired replay entries and requests (housekeeping).
    pub async fn purge_expired_saml_state(&self, now: Millis) -> Result<u64> {
        let a = sqlx::query("DELETE FROM saml_replay WHERE expires < $1").bind(now).execute(self.write_pool()).await?.rows_affected();
        let b = sqlx::query("DELETE FROM saml_requests WHERE expires < $1").bind(now).execute(self.write_pool()).await?.rows_affected();
        Ok(a + b)
    }

    /// Store or replace a routing rule.
    pub async fn save_routing_rule(&self, rule: &RoutingRule, events: &[NewEvent]) -> Result<()> {
        let mut w = Write::begin(self, &rule.org_id).await?;
        let n = sqlx::query("UPDATE idp_routing_rules SET name = $1, priority = $2, status = $3, rule = $4, last_updated = $5 WHERE org_id = $6 AND id = $7")
            .bind(&rule.name)
            .bind(rule.priority)
            .bind(&rule.status)
            .bind(rule.rule.to_string())
            .bind(rule.last_updated)
            .bind(rule.org_id.as_str())
            .bind(&rule.id)
            .execute(w.conn())
            .await?
            .rows_affected();
        if n == 0 {
            sqlx::query("INSERT INTO idp_routing_rules (id, org_id, name, priority, status, rule, created, last_updated) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                .bind(&rule.id)
                .bind(rule.org_id.as_str())
                .bind(&rule.name)
                .bind(rule.priority)
                .bind(&rule.status)
                .bind(rule.rule.to_string())
                .bind(rule.created)
                .bind(rule.last_updated)
                .execute(w.conn())
                .await?;
        }
        w.commit(events, &[], rule.last_updated).await?;
        Ok(())
    }

    /// The org's routing rules by priority.
    pub async fn list_routing_rules(&self, org: &OrgId) -> Result<Vec<RoutingRule>> {
        let rows = sqlx::query(&format!("SELECT {RULE_COLS} FROM idp_routing_rules WHERE org_id = $1 ORDER BY priority, seq"))
            .bind(org.as_str())
            .fetch_all(self.read_pool())
            .await?;
        rows.iter().map(rule_from_row).collect()
    }

    /// Delete a routing rule.
    pub async fn delete_routing_rule(&self, org: &OrgId, id: &str, now: Millis, events: &[NewEvent]) -> Result<()> {
        self.delete_with_events(org, "DELETE FROM idp_routing_rules WHERE org_id = $1 AND id = $2", &[id], now, events).await
    }
}

async fn upsert_link(conn: &mut sqlx::AnyConnection, org: &OrgId, link: &IdpLink) -> Result<()> {
    sqlx::query("DELETE FROM idp_links WHERE org_id = $1 AND idp_id = $2 AND (user_id = $3 OR external_id = $4)")
        .bind(org.as_str())
        .bind(&link.idp_id)
        .bind(&link.user_id)
        .bind(&link.external_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("INSERT INTO idp_links (org_id, idp_id, user_id, external_id, created, last_updated) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(org.as_str())
        .bind(&link.idp_id)
        .bind(&link.user_id)
        .bind(&link.external_id)
        .bind(link.created)
        .bind(link.last_updated)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
