//! Orgs (tenants): each has a name and a base URL whose host:port routes requests to it.

use crate::write::Write;
use crate::{get, Result, Store, StoreError};
use idhub_domain::event::NewEvent;
use idhub_domain::group::EVERYONE;
use idhub_domain::ids::{GroupId, OrgId, UserTypeId};
use idhub_domain::time::Millis;
use sqlx::any::AnyRow;

/// An org as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Org {
    pub id: OrgId,
    pub name: String,
    pub base_url: String,
    /// `host:port` (lowercase) that routes to this org.
    pub host: String,
    pub user_type_id: String,
    pub settings: serde_json::Value,
    pub created: Millis,
}

/// Parse a base URL (`http(s)://host[:port]`, no path) into its origin and routing host.
pub fn parse_base_url(url: &str) -> std::result::Result<(String, String), String> {
    let url = url.trim().trim_end_matches('/');
    let (scheme, rest) = url.split_once("://").ok_or("the base URL must start with http:// or https://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        _ => return Err("the base URL must start with http:// or https://".into()),
    };
    if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ']) {
        return Err("the base URL must be an origin: scheme, host and optional port, no path".into());
    }
    let authority = rest.to_ascii_lowercase();
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => {
            let port: u16 = p.parse().map_err(|_| "the base URL's port is not a number")?;
            (h.to_string(), port)
        }
        _ => (authority.clone(), default_port),
    };
    if host.is_empty() {
        return Err("the base URL has no host".into());
    }
    let origin = if port == default_port { format!("{scheme}://{host}") } else { format!("{scheme}://{host}:{port}") };
    Ok((origin, format!("{host}:{port}")))
}

/// The routing key for a request's `Host` header, given the scheme the org uses.
pub fn host_key(host_header: &str, default_port: u16) -> String {
    let h = host_header.trim().to_ascii_lowercase();
    let has_port = match h.rsplit_once(':') {
        Some((before, p)) => !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()) && (!before.starts_with('[') || before.ends_with(']')),
        None => false,
    };
    if has_port {
        h
    } else {
        format!("{h}:{default_port}")
    }
}

fn org_from_row(row: &AnyRow) -> Result<Org> {
    let settings: String = get(row, "settings")?;
    Ok(Org {
        id: OrgId(get(row, "id")?),
        name: get(row, "name")?,
        base_url: get(row, "base_url")?,
        host: get(row, "host")?,
        user_type_id: get(row, "user_type_id")?,
        settings: serde_json::from_str(&settings).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        created: get(row, "created")?,
    })
}

const ORG_COLS: &str = "id, name, base_url, host, user_type_id, settings, created";

impl Store {
    /// Create an org with its built-in `Everyone` group.
    pub async fn create_org(&self, name: &str, base_url: &str, now: Millis, events: &[NewEvent]) -> Result<Org> {
        let (origin, host) = parse_base_url(base_url).map_err(StoreError::Config)?;
        let name = name.trim();
        if name.is_empty() || name.len() > 100 {
            return Err(StoreError::Config("the org name must be 1 to 100 characters".into()));
        }
        let org = Org {
            id: OrgId::generate(),
            name: name.to_string(),
            base_url: origin,
            host,
            user_type_id: UserTypeId::generate().0,
            settings: serde_json::json!({}),
            created: now,
        };
        let mut w = Write::begin(self, &org.id).await?;
        sqlx::query("INSERT INTO orgs (id, name, name_key, base_url, host, user_type_id, settings, created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(org.id.as_str())
            .bind(&org.name)
            .bind(org.name.to_lowercase())
            .bind(&org.base_url)
            .bind(&org.host)
            .bind(&org.user_type_id)
            .bind(org.settings.to_string())
            .bind(now)
            .execute(w.conn())
            .await
            .map_err(|e| StoreError::from_unique(e, "an org with this name or base URL"))?;
        sqlx::query("INSERT INTO user_groups (id, org_id, kind, name, name_key, description, created, last_updated, last_membership_updated) VALUES ($1, $2, 'BUILT_IN', $3, $4, $5, $6, $6, $6)")
            .bind(GroupId::generate().0)
            .bind(org.id.as_str())
            .bind(EVERYONE)
            .bind(EVERYONE.to_lowercase())
            .bind("All users in your organization")
            .bind(now)
            .execute(w.conn())
            .await?;
        w.commit(events, &[], now).await?;
        Ok(org)
    }

    /// All orgs, oldest first.
    pub async fn list_orgs(&self) -> Result<Vec<Org>> {
        let rows = sqlx::query(&format!("SELECT {ORG_COLS} FROM orgs ORDER BY created, id")).fetch_all(self.read_pool()).await?;
        rows.iter().map(org_from_row).collect()
    }

    /// The org a request's routing host (`host:port`) belongs to.
    pub async fn org_by_host(&self, host: &str) -> Result<Org> {
        let row = sqlx::query(&format!("SELECT {ORG_COLS} FROM orgs WHERE host = $1"))
            .bind(host)
            .fetch_optional(self.read_pool())
            .await?
            .ok_or(StoreError::NotFound)?;
        org_from_row(&row)
    }

    /// An org by name (ignoring case) or id.
    pub async fn org_by_name(&self, name: &str) -> Result<Org> {
        let row = sqlx::query(&format!("SELECT {ORG_COLS} FROM orgs WHERE name_key = $1 OR id = $2"))
            .bind(name.trim().to_lowercase())
            .bind(name.trim())
            .fetch_optional(self.read_pool())
            .await?
            .ok_or(StoreError::NotFound)?;
        org_from_row(&row)
    }
}

impl Store {
    /// Replace an org's settings JSON.
    pub async fn update_org_settings(&self, org: &OrgId, settings: &serde_json::Value, now: Millis, events: &[NewEvent]) -> Result<()> {
        let mut w = Write::begin(self, org).await?;
        let n = sqlx::query("UPDATE orgs SET settings = $1 WHERE id = $2")
            .bind(settings.to_string())
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        assert_eq!(parse_base_url("http://127.0.0.2:8080/"), Ok(("http://127.0.0.2:8080".into(), "127.0.0.2:8080".into())));
        assert_eq!(parse_base_url("https://Hub.Example.com"), Ok(("https://hub.example.com".into(), "hub.example.com:443".into())));
        assert_eq!(parse_base_url("https://hub.example.com:443"), Ok(("https://hub.example.com".into(), "hub.example.com:443".into())));
        assert!(parse_base_url("ftp://x").is_err());
        assert!(parse_base_url("http://x/path").is_err());
        assert!(parse_base_url("http://x:notaport").is_err());
        assert_eq!(host_key("127.0.0.2:8080", 80), "127.0.0.2:8080");
        assert_eq!(host_key("Hub.Example.com", 443), "hub.example.com:443");
    }
}
