//! Each org's custom profile attributes (the base ones are fixed in the domain).

use crate::write::Write;
use crate::{Result, Store, StoreError};
use idhub_domain::event::NewEvent;
use idhub_domain::ids::OrgId;
use idhub_domain::schema::{Attribute, UserSchema};
use idhub_domain::time::Millis;

impl Store {
    /// The org's user profile schema.
    pub async fn user_schema(&self, org: &OrgId) -> Result<UserSchema> {
        let custom: Option<String> = sqlx::query_scalar("SELECT custom FROM user_schemas WHERE org_id = $1")
            .bind(org.as_str())
            .fetch_optional(self.read_pool())
            .await?;
        let custom: Vec<Attribute> = match custom {
            Some(text) => serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            None => Vec::new(),
        };
        Ok(UserSchema::with_custom(custom))
    }

    /// Replace the org's custom attributes.
    pub async fn save_custom_attributes(&self, org: &OrgId, custom: &[Attribute], now: Millis, events: &[NewEvent]) -> Result<()> {
        let text = serde_json::to_string(custom).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut w = Write::begin(self, org).await?;
        let n = sqlx::query("UPDATE user_schemas SET custom = $1, last_updated = $2 WHERE org_id = $3")
            .bind(&text)
            .bind(now)
            .bind(org.as_str())
            .execute(w.conn())
            .await?
            .rows_affected();
        if n == 0 {
            sqlx::query("INSERT INTO user_schemas (org_id, custom, last_updated) VALUES ($1, $2, $3)")
                .bind(org.as_str())
                .bind(&text)
                .bind(now)
                .execute(w.conn())
                .await?;
        }
        w.commit(events, &[], now).await?;
        Ok(())
    }
}
